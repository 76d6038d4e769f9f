// The main capture test in Firefox ESR, driven by puppeteer-core over WebDriver BiDi (docs/DESIGN.md
// section 10). The extension is installed temporarily from extension/, the host registered in a
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

test('Firefox: each restriction page gives exactly one record with its platform, kind and a screenshot; counter-examples give none', async () => {
  const home = join(dir, 'home');
  const fakeHome = join(dir, 'user');
  mkdirSync(fakeHome, { recursive: true });
  const how = registerHost(home, fakeHome);
  const { port } = proxy.address();
  const browser = await puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: true,
    acceptInsecureCerts: true,
    env: { ...process.env, HOME: fakeHome, BANTRAIL_HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' },
    extraPrefsFirefox: {
      'network.proxy.type': 1, 'network.proxy.ssl': '127.0.0.1', 'network.proxy.ssl_port': port,
      'network.proxy.http': '127.0.0.1', 'network.proxy.http_port': port,
      'network.proxy.no_proxies_on': '', 'network.proxy.allow_hijacking_localhost': true,
      'extensions.webextensions.restrictedDomains': '',
      'xpinstall.signatures.required': false,
    },
  });
  try {
    const id = await browser.installExtension(H.EXTENSION);
    assert.ok(id);
    assert.deepEqual(await H.checkAllFixtures(() => browser.newPage(), home, dir), [], 'every page as its fixture says');
    console.log(`# Firefox host registered by: ${how}`);
  } finally {
    await H.within(browser.close(), 20000, 'closing Firefox').catch((e) => console.log(`# ${e.message}`));
  }
});
