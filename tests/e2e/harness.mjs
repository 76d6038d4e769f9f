// The browser end-to-end harness (docs/DESIGN.md section 10): Debian's Chromium driven by
// playwright-core, the extension loaded unpacked with its fixed id, the real bantrail-host
// registered in the profile's NativeMessagingHosts/, and the platforms' host names mapped to a
// local HTTPS server that serves tests/fixtures/ with a certificate made for this run.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:https';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const EXTENSION = join(ROOT, 'extension');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const BUILD = resolve(process.env.BT_BUILD || join(ROOT, 'build'));
export const HOST = join(BUILD, 'bantrail-host');
export const CLI = join(BUILD, 'bantrail');
export const CHROMIUM = process.env.BT_CHROMIUM || '/usr/lib/chromium/chromium';
export const EXTENSION_ID = 'bnmdnnfnpiijlnoabddbmgcfkcfcmknl';
export const HOST_NAME = 'org.bantrail.host';

export const index = JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')).pages;

/** Why the browser tests cannot run here, or null. */
export function missing() {
  for (const [what, p] of [['chromium', CHROMIUM], ['bantrail-host', HOST], ['bantrail', CLI],
    ['libsodium copy (run .ci/setup)', join(EXTENSION, 'lib', 'libsodium-wrappers.js')], ['rules', join(EXTENSION, 'rules', 'rules.json')]]) {
    if (!existsSync(p)) return `${what} not found at ${p}`;
  }
  return null;
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A self-signed certificate for the platforms' names, and its SPKI hash for Chromium. */
export function makeCert(dir, names) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=bantrail-test',
    '-addext', 'subjectAltName=' + names.map((n) => `DNS:${n}`).join(',')], { stdio: 'pipe' });
  const pub = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-pubkey']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const spki = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64');
  return { key: readFileSync(key), cert: readFileSync(cert), spki };
}

/**
 * Serves the fixtures at their URLs (by Host header and path) plus any extra routes
 * {"host/path": html, {body, headers} or a function of the URL returning html}. Resolves with {port, close()}.
 */
export function serve(cert, extra = {}) {
  const routes = new Map();
  for (const [file, f] of Object.entries(index)) {
    const u = new URL(f.url);
    routes.set(u.host + u.pathname, readFileSync(join(FIXTURES, file)));
  }
  const headers = new Map();
  for (const [k, v] of Object.entries(extra)) {
    routes.set(k, typeof v === 'function' ? v : Buffer.from(typeof v === 'string' ? v : v.body));
    if (typeof v === 'object' && v.headers) headers.set(k, v.headers);
  }
  const server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const u = new URL(req.url, `https://${req.headers.host}`);
    const route = routes.get(u.host + u.pathname);
    const body = typeof route === 'function' ? Buffer.from(route(u)) : route;
    if (!body) { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<!doctype html><title>404</title><p>Not found'); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(headers.get(u.host + u.pathname) || {}) });
    res.end(body);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ port: server.address().port, close: () => new Promise((c) => { server.closeAllConnections(); server.close(c); }) })));
}

/** True when `bantrail install` exists in this build (the lead's install command). */
export function hasInstallCommand() {
  const r = spawnSync(CLI, ['--help'], { encoding: 'utf8' });
  return /^\s+install\b/m.test(r.stdout + r.stderr);
}

/** Registers the host for Chromium in profile `userDataDir` (D/NativeMessagingHosts/). */
export function installHost(userDataDir, home) {
  if (hasInstallCommand()) {
    const r = spawnSync(CLI, ['install', '--browser', 'chromium', '--user-data-dir', userDataDir],
      { encoding: 'utf8', env: { ...process.env, BANTRAIL_HOME: home } });
    if (r.status === 0 && existsSync(manifestPath(userDataDir))) return 'bantrail install';
  }
  mkdirSync(join(userDataDir, 'NativeMessagingHosts'), { recursive: true });
  writeFileSync(manifestPath(userDataDir), JSON.stringify({
    name: HOST_NAME, description: 'Bantrail native host', path: HOST, type: 'stdio',
    allowed_origins: [`chrome-extension://${EXTENSION_ID}/`],
  }, null, 2));
  return 'manifest written by the test';
}

export function manifestPath(userDataDir) {
  return join(userDataDir, 'NativeMessagingHosts', `${HOST_NAME}.json`);
}

export function uninstallHost(userDataDir) {
  rmSync(manifestPath(userDataDir), { force: true });
}

/** The hosts the fixtures live on. */
export function fixtureHosts(extraHosts = []) {
  const hosts = new Set(extraHosts);
  for (const f of Object.values(index)) hosts.add(new URL(f.url).hostname);
  return [...hosts];
}

/** Launches Chromium with the extension, following docs/DESIGN.md section 10. */
export async function launch({ userDataDir, home, port, spki, hosts, loadExtension = true, extraArgs = [], lang = null }) {
  const rules = hosts.map((h) => `MAP ${h} 127.0.0.1:${port}`).concat(['MAP * ~NOTFOUND']).join(', ');
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--host-resolver-rules=${rules}`, `--ignore-certificate-errors-spki-list=${spki}`,
    '--window-size=1280,900',
  ];
  args.push(...extraArgs);
  if (lang) args.push(`--lang=${lang}`);   // the UI language: on Linux Chromium follows LANGUAGE and LANG (below), with chromium-l10n
  if (loadExtension) args.push(`--disable-extensions-except=${EXTENSION}`, `--load-extension=${EXTENSION}`);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: false,                // --headless=new is passed above, as the recipe says
    ignoreDefaultArgs: ['--disable-extensions'],
    args,
    env: { ...process.env, BANTRAIL_HOME: home, ...(lang ? { LANGUAGE: lang, LANG: `${{ en: 'en_US', ko: 'ko_KR' }[lang] || `${lang}_${lang.toUpperCase()}`}.UTF-8` } : {}) },
    viewport: { width: 1280, height: 800 },
  });
  let worker = null;
  if (loadExtension) {
    worker = context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`))
      || await context.waitForEvent('serviceworker', { predicate: (w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`), timeout: 20000 });
    // The worker can be reported before its extension APIs are bound.
    await waitFor(() => worker.evaluate(() => typeof chrome !== 'undefined' && Boolean(chrome.storage && chrome.runtime.id)).catch(() => false),
      { timeout: 20000, what: 'the service worker\'s extension APIs' });
  }
  return { context, worker };
}

/** Runs the CLI on a log; returns parsed JSON (with --json) or the raw result. */
export function cli(home, args, { json = true } = {}) {
  const r = spawnSync(CLI, json ? ['--json', ...args] : args, { encoding: json ? 'utf8' : 'buffer', env: { ...process.env, BANTRAIL_HOME: home }, timeout: 60000 });
  if (!json) return r;
  if (r.status !== 0) throw new Error(`bantrail ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every entry of the log, through the CLI (decrypted: the test logs are unprotected). */
export function entries(home) {
  const out = [];
  if (!existsSync(join(home, 'log.sqlite'))) return out;   // no log yet (reading commands make none)
  let after = 0;
  for (;;) {
    const r = cli(home, ['list', '--after', String(after), '--limit', '200']);
    out.push(...r.entries);
    if (r.next === null || r.next === undefined) return out;
    after = r.next;
  }
}

export async function waitFor(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const noticesOf = (es) => es.filter((e) => e.type === 'notice');
const attachmentsOf = (es, id) => es.filter((e) => e.type === 'attachment' && e.of === id);

/**
 * Opens fixture `file` (its entry `f` of fixtures.json) in `page` and checks what the log in `home`
 * gained since `before`: exactly one record with the platform, kind, text and a PNG screenshot the
 * fixture names, or nothing for a look-alike. Throws an assertion error otherwise.
 */
export async function checkFixture(file, f, page, home, before, dir) {
  await page.goto(f.url);
  if (f.notice) {
    const es = await waitFor(() => {
      const now = entries(home);
      const n = noticesOf(now).filter((e) => e.id > Math.max(0, ...before.map((x) => x.id)));
      return n.length && attachmentsOf(now, n[0].id).length ? now : null;
    }, { timeout: 20000, what: `the record of ${file}` });
    await sleep(2000);   // later looks at the same page must not add a second record
    const all = entries(home);
    const fresh = noticesOf(all).filter((e) => !before.some((b) => b.id === e.id));
    assert.equal(fresh.length, 1, `${file}: exactly one record (got ${fresh.length})`);
    const rec = fresh[0];
    assert.equal(rec.url, f.record_url || f.url, `${file}: url`);
    assert.equal(rec.classification.platform, f.platform, `${file}: platform ${rec.classification.platform}, not ${f.platform}`);
    assert.equal(rec.classification.kind, f.kind, `${file}: kind ${rec.classification.kind}, not ${f.kind}`);
    const shots = attachmentsOf(all, rec.id);
    assert.equal(shots.length, 1, `${file}: one screenshot`);
    assert.equal(shots[0].mime, 'image/png');
    const shown = cli(home, ['show', String(rec.id)]);
    for (const c of f.contains || []) assert.ok(shown.record.text.toLowerCase().includes(c.toLowerCase()), `${file}: text holds "${c}"`);
    for (const x of f.excludes || []) assert.ok(!shown.record.text.includes(x), `${file}: text must not hold "${x}" (not the notice's own region)`);
    const png = join(dir, `${file}.png`);
    const r = cli(home, ['show', String(shots[0].id), '-o', png], { json: false });
    assert.equal(r.status, 0, String(r.stderr));
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${file}: a PNG`);
    assert.ok(es.length > before.length);
  } else {
    await sleep(3500);   // longer than the content script's debounce and any delayed dialog
    const stored = noticesOf(entries(home)).filter((e) => !before.some((b) => b.id === e.id));
    assert.equal(stored.length, 0, `${file}: nothing stored (got ${stored.map((e) => e.classification.kind).join(', ')})`);
  }
}

/** Rejects after ms with `what` in its message, or settles as p does. */
export function within(p, ms, what) {
  let timer;
  const late = new Promise((_, no) => { timer = setTimeout(() => no(new Error(`${what} took over ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Every fixture in turn, each in a new page from newPage(): what went wrong on each ([] if
 * nothing). A page that hangs (a browser that went away) fails within a minute instead of hanging.
 */
export async function checkAllFixtures(newPage, home, dir) {
  const failed = [];
  for (const [file, f] of Object.entries(index)) {
    const before = entries(home);
    try {
      const page = await within(newPage(), 30000, 'opening a page');
      try {
        await within(checkFixture(file, f, page, home, before, dir), 60000, 'the page');
      } finally {
        await within(page.close(), 10000, 'closing the page').catch(() => {});
      }
    } catch (e) {
      failed.push(`${file}: ${e.message.split('\n')[0]}`);
    }
  }
  return failed;
}
