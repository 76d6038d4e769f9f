// Takes screenshots of the popup, the log page and the options in headless Chromium after two
// captures, to look at them (not a test). Usage: node tests/e2e/screenshots.mjs OUTDIR [LANG]
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as H from './harness.mjs';

const out = process.argv[2] || '/tmp/bantrail-shots';
const lang = process.argv[3] || 'en';
mkdirSync(out, { recursive: true });
const dir = H.tempDir('bt-shots-');
const hosts = H.fixtureHosts();
const cert = H.makeCert(dir, hosts);
const srv = await H.serve(cert);
const D = join(dir, 'profile');
const home = join(dir, 'home');
H.installHost(D, home);
const { context } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts, lang });
try {
  for (const f of ['instagram-suspended.html', 'instagram-feed-action-blocked.html', 'x-suspended.html']) {
    const p = await context.newPage();
    await p.goto(H.index[f].url);
    await H.waitFor(() => H.entries(home).length > 0 && H.entries(home).filter((e) => e.type === 'attachment').length >= H.entries(home).filter((e) => e.type === 'notice').length && H.entries(home).some((e) => e.url === H.index[f].url), { timeout: 20000 });
    await p.close();
  }
  const base = `chrome-extension://${H.EXTENSION_ID}/src/pages/`;
  const popup = await context.newPage();
  await popup.setViewportSize({ width: 370, height: 420 });
  await popup.goto(base + 'popup.html');
  await popup.waitForTimeout(800);
  await popup.screenshot({ path: join(out, `popup-${lang}.png`) });
  const log = await context.newPage();
  await log.setViewportSize({ width: 1000, height: 1400 });
  await log.goto(base + 'log.html');
  await log.waitForTimeout(2000);
  await log.screenshot({ path: join(out, `log-${lang}.png`), fullPage: false });
  const opt = await context.newPage();
  await opt.setViewportSize({ width: 900, height: 800 });
  await opt.goto(base + 'options.html');
  await opt.waitForTimeout(800);
  await opt.screenshot({ path: join(out, `options-${lang}.png`) });
  console.log(`screenshots in ${out}`);
} finally {
  await context.close();
  await srv.close();
}
