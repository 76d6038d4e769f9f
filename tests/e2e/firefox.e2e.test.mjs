// The main capture test in Firefox ESR, and a capture made before set-up across a restart, driven
// by puppeteer-core over WebDriver BiDi (docs/DESIGN.md section 10). The extension is installed temporarily from extension/, the host registered in a
// throwaway $HOME/.mozilla/native-messaging-hosts/, and the platforms' host names reach the local
// HTTPS server through a local CONNECT proxy (Firefox has no host-resolver rules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import * as H from './harness.mjs';

const FIREFOX = process.env.BT_FIREFOX || '/usr/lib/firefox-esr/firefox-esr';
const why = H.missing() || (existsSync(FIREFOX) ? null : `firefox-esr not found at ${FIREFOX}`);
if (why && process.env.BT_SKIP_BROWSER === '1') test.skip(`Firefox test skipped: ${why}`);
else if (why) throw new Error(`Firefox test cannot run: ${why}`);

let dir, cert, srv, proxy;
const tunnels = new Set();   // CONNECT tunnels leave the server's accounting: closed by hand at the end
before(async () => {
  dir = H.tempDir('bt-ff-');
  cert = H.makeCert(dir, H.fixtureHosts());
  srv = await H.serve(cert);
  // CONNECT proxy: every tunnel goes to the fixture server, whatever host was asked for.
  proxy = createServer((req, res) => { res.writeHead(403); res.end(); });
  proxy.on('connect', (req, client, head) => {
    const up = connect(srv.port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    for (const s of [client, up]) {
      tunnels.add(s);
      s.on('close', () => tunnels.delete(s));
    }
  });
  await new Promise((ok) => proxy.listen(0, '127.0.0.1', ok));
});
after(async () => {
  for (const s of tunnels) s.destroy();
  // Should the browser driver still hold a handle once all is closed, leave anyway (the results
  // are out by then); the timer does not keep the process alive by itself.
  setTimeout(() => process.exit(), 10000).unref();
  if (proxy) { proxy.closeAllConnections?.(); await new Promise((ok) => proxy.close(ok)); }
  if (srv) await srv.close();
  if (dir && !process.env.BT_KEEP) rmSync(dir, { recursive: true, force: true });
});

function registerHost(home, fakeHome) {
  const r = spawnSync(H.CLI, ['install', '--browser', 'firefox'], { encoding: 'utf8', env: { ...process.env, HOME: fakeHome, BANTRAIL_HOME: home } });
  const manifest = join(fakeHome, '.mozilla', 'native-messaging-hosts', `${H.HOST_NAME}.json`);
  if (r.status === 0 && existsSync(manifest)) return 'bantrail install';
  mkdirSync(join(fakeHome, '.mozilla', 'native-messaging-hosts'), { recursive: true });
  writeFileSync(manifest, JSON.stringify({ name: H.HOST_NAME, description: 'Bantrail native host', path: H.HOST,
    type: 'stdio', allowed_extensions: ['bantrail@bantrail.org'] }, null, 2));
  return 'manifest written by the test';
}

// The extension's moz-extension:// id, fixed so that a test can open its pages.
const UUID = '6a1f0c52-3b7e-4d29-9c51-0f2d8e4b7a13';

/**
 * Firefox with the fixtures behind the proxy, `home` as BANTRAIL_HOME and `fakeHome` as HOME (where
 * the host is registered, or not). With `profile`, on that profile folder, kept across launches,
 * and the extension's own pages open to the test (WebDriver navigates to moz-extension:// only
 * with -remote-allow-system-access).
 */
function launchFirefox(home, fakeHome, profile = null) {
  const { port } = proxy.address();
  return puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: true,
    acceptInsecureCerts: true, ...(profile ? { userDataDir: profile, args: ['-remote-allow-system-access'] } : {}),
    env: { ...process.env, HOME: fakeHome, BANTRAIL_HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' },
    extraPrefsFirefox: {
      'network.proxy.type': 1, 'network.proxy.ssl': '127.0.0.1', 'network.proxy.ssl_port': port,
      'network.proxy.http': '127.0.0.1', 'network.proxy.http_port': port,
      'network.proxy.no_proxies_on': '', 'network.proxy.allow_hijacking_localhost': true,
      'extensions.webextensions.restrictedDomains': '',
      'xpinstall.signatures.required': false,
      'extensions.webextensions.uuids': JSON.stringify({ 'bantrail@bantrail.org': UUID }),
      // A test can install the extension only temporarily, and Firefox removes a temporary add-on
      // when it closes: installed again at each launch, it finds its storage as a permanent
      // add-on would.
      'extensions.webextensions.keepStorageOnUninstall': true,
      'extensions.webextensions.keepUuidOnUninstall': true,
    },
  });
}

test('Firefox: each restriction page gives exactly one record with its platform, kind and a screenshot; counter-examples give none', async () => {
  const home = join(dir, 'home');
  const fakeHome = join(dir, 'user');
  mkdirSync(fakeHome, { recursive: true });
  const how = registerHost(home, fakeHome);
  const browser = await launchFirefox(home, fakeHome);
  try {
    const id = await browser.installExtension(H.EXTENSION);
    assert.ok(id);
    assert.deepEqual(await H.checkAllFixtures(() => browser.newPage(), home, dir), [], 'every page as its fixture says');
    console.log(`# Firefox host registered by: ${how}`);
  } finally {
    await H.within(browser.close(), 20000, 'closing Firefox').catch((e) => console.log(`# ${e.message}`));
  }
});

/**
 * The popup's words about what is held in this browser before set-up ('' when hidden), and
 * (host: true) about the host instead.
 */
async function heldWords(browser, { host = false } = {}) {
  const p = await browser.newPage();
  try {
    // Puppeteer misses the load event of an extension page reached over WebDriver BiDi: the page
    // is waited for by what it shows instead.
    p.goto(`moz-extension://${UUID}/src/pages/popup.html`, { timeout: 60000 }).catch(() => {});
    await H.waitFor(() => p.evaluate(() => location.protocol === 'moz-extension:' && document.getElementById('host').textContent.length > 0).catch(() => false),
      { timeout: 20000, what: 'the popup page' });
    if (host) return await p.evaluate(() => document.getElementById('host').textContent);
    return await p.evaluate(() => (document.getElementById('held').classList.contains('hidden') ? ''
      : [...document.querySelectorAll('#held p:not(.hidden)')].map((e) => e.textContent).join(' ')));
  } finally {
    await p.close();
  }
}

test('Firefox: a capture made before the host is installed survives a browser restart and becomes exactly one record once it is installed', async () => {
  const home = join(dir, 'home-restart');
  const fakeHome = join(dir, 'user-restart');   // no host registered yet
  const profile = join(dir, 'profile-restart');
  mkdirSync(fakeHome, { recursive: true });
  mkdirSync(profile, { recursive: true });
  let browser = await launchFirefox(home, fakeHome, profile);
  try {
    await browser.installExtension(H.EXTENSION);
    const page = await browser.newPage();
    await page.goto(H.index['facebook-checkpoint.html'].url);
    // (Opening the popup's page would take the tab's place on screen, and so its screenshot: wait first.)
    await H.sleep(4000);
    const before = await H.waitFor(async () => { const w = await heldWords(browser); return w || null; }, { timeout: 20000, what: 'a capture held' });
    assert.match(before, /1 capture is kept in this browser, not yet encrypted/);
    assert.match(before, /bantrail install/);
    assert.doesNotMatch(before, /sealed/);
    assert.match(await heldWords(browser, { host: true }), /^Not installed — run “bantrail install”$/, 'Firefox says why in the port');
  } finally {
    await H.within(browser.close(), 20000, 'closing Firefox').catch((e) => console.log(`# ${e.message}`));
  }
  browser = await launchFirefox(home, fakeHome, profile);
  try {
    await browser.installExtension(H.EXTENSION);
    assert.match(await heldWords(browser), /1 capture is kept in this browser/, 'kept across the restart');
    assert.equal(H.entries(home).length, 0, 'nothing reached a log yet');
    registerHost(home, fakeHome);
    assert.equal(await heldWords(browser), '', 'opening the popup reaches the host, which takes what was held');
    await H.waitFor(() => {
      const now = H.entries(home);
      const n = now.filter((e) => e.type === 'notice');
      return n.length && now.some((e) => e.type === 'attachment' && e.of === n[0].id);
    }, { timeout: 20000, what: 'delivery' });
    await H.sleep(2000);   // nothing more arrives
    const all = H.entries(home);
    const notices = all.filter((e) => e.type === 'notice');
    assert.equal(notices.length, 1, 'exactly one record');
    assert.equal(notices[0].classification.kind, 'checkpoint');
    assert.equal(all.filter((e) => e.type === 'attachment' && e.of === notices[0].id).length, 1, 'with its screenshot');
  } finally {
    await H.within(browser.close(), 20000, 'closing Firefox').catch((e) => console.log(`# ${e.message}`));
  }
});
