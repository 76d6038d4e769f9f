// The Debian package (README, "Install as a package"): built with cpack from this build, installed
// with dpkg on this machine, the host registered for every user's browsers, `bantrail doctor`
// happy, a notice captured through the installed host in real Chromium (a profile with no
// registration of its own), then purged, leaving nothing behind. Needs root (or sudo without a
// password) and no bantrail package installed already: it never touches a person's own install.
// Run: node --test tests/e2e/package.e2e.test.mjs   (BT_BUILD=<build dir>, default build/)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as H from './harness.mjs';

const MANIFESTS = ['/etc/chromium/native-messaging-hosts', '/etc/opt/chrome/native-messaging-hosts',
  '/etc/opt/brave.com/brave/native-messaging-hosts', '/etc/opt/edge/native-messaging-hosts',
  '/usr/lib/mozilla/native-messaging-hosts'].map((d) => join(d, 'org.bantrail.host.json'));

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, ...opts });
const root = process.getuid() === 0 ? [] : run('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : null;
const asRoot = (cmd, args) => (root.length ? run(root[0], [...root.slice(1), cmd, ...args]) : run(cmd, args));

function why() {
  if (root === null) return 'not root and no password-less sudo';
  if (run('dpkg-query', ['-W', '-f=${Status}', 'bantrail']).stdout.includes('install ok installed'))
    return 'a bantrail package is installed on this machine already: left alone';
  return H.missing();
}
const reason = why();

test('the Debian package installs, registers the host system-wide, captures in Chromium, and purges clean', { skip: reason || false }, async () => {
  const dir = H.tempDir('bt-package-');
  try {
    // build it
    const pack = run('cpack', ['--config', join(H.BUILD, 'CPackConfig.cmake'), '-B', dir]);
    assert.equal(pack.status, 0, pack.stdout + pack.stderr);
    const deb = readdirSync(dir).find((f) => /^bantrail_.*\.deb$/.test(f));
    assert.ok(deb, 'a .deb was made');
    const files = run('dpkg-deb', ['-c', join(dir, deb)]).stdout;
    for (const f of ['./usr/bin/bantrail', './usr/bin/bantrail-host', './usr/bin/bantrail-collect']) assert.ok(files.includes(` ${f}\n`), f);
    const ancestors = (p) => p.split('/').slice(1, -1).map((_, i, a) => '/' + a.slice(0, i + 1).join('/'));
    const existedBefore = new Set(MANIFESTS.flatMap(ancestors).filter((d) => existsSync(d)));

    // install it: the host is registered for every user's browsers
    const inst = asRoot('dpkg', ['-i', join(dir, deb)]);
    assert.equal(inst.status, 0, inst.stdout + inst.stderr);
    for (const m of MANIFESTS) {
      const j = JSON.parse(readFileSync(m, 'utf8'));
      assert.equal(j.path, '/usr/bin/bantrail-host', m);
      assert.equal(j.name, 'org.bantrail.host');
    }

    // a person with no registration of their own: doctor finds the package's, and the host answers
    const home = join(dir, 'home');
    const env = { ...process.env, HOME: home, BANTRAIL_HOME: join(home, 'log') };
    const doc = run('/usr/bin/bantrail', ['--json', 'doctor'], { env });
    assert.equal(doc.status, 0, doc.stdout + doc.stderr);
    const byBrowser = Object.fromEntries(JSON.parse(doc.stdout).map((b) => [b.browser, b]));
    assert.equal(byBrowser.chromium.ok, true, JSON.stringify(byBrowser.chromium));
    assert.equal(byBrowser.firefox.ok, true, JSON.stringify(byBrowser.firefox));

    // real Chromium, a fresh profile: the capture goes through the installed host
    const cert = H.makeCert(dir, H.fixtureHosts());
    const srv = await H.serve(cert);
    const { context } = await H.launch({ userDataDir: join(dir, 'profile'), home: env.BANTRAIL_HOME, port: srv.port,
      spki: cert.spki, hosts: H.fixtureHosts() });
    try {
      assert.ok(!existsSync(join(dir, 'profile', 'NativeMessagingHosts', 'org.bantrail.host.json')), 'no registration in the profile');
      const page = await context.newPage();
      await page.goto(H.index['instagram-suspended.html'].url);
      const list = () => JSON.parse(run('/usr/bin/bantrail', ['--json', 'list'], { env }).stdout || '{"entries":[]}').entries;
      const es = await H.waitFor(() => { const l = list(); return l.some((e) => e.type === 'notice') ? l : null; },
        { timeout: 20000, what: 'a capture through the installed host' });
      assert.equal(es.find((e) => e.type === 'notice').classification.platform, 'instagram');
    } finally {
      await context.close();
      await srv.close();
    }

    // purge it: nothing left behind
    const purge = asRoot('dpkg', ['-P', 'bantrail']);
    assert.equal(purge.status, 0, purge.stdout + purge.stderr);
    for (const f of ['/usr/bin/bantrail', '/usr/bin/bantrail-host', '/usr/bin/bantrail-collect', '/usr/share/doc/bantrail', ...MANIFESTS])
      assert.ok(!existsSync(f), `${f} left behind`);
    for (const d of MANIFESTS.flatMap(ancestors)) if (!existedBefore.has(d)) assert.ok(!existsSync(d), `${d} left behind`);
  } finally {
    if (run('dpkg-query', ['-W', '-f=${Status}', 'bantrail']).stdout.includes('installed')) asRoot('dpkg', ['-P', 'bantrail']);
    rmSync(dir, { recursive: true, force: true });
  }
});
