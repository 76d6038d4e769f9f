// "Share anonymously" end to end in Debian's Chromium (issue 6): a fixture suspension page is
// captured, its case is shared with the built-in demo union through the real share page (preview,
// an optional field that previews again, confirm), the service worker sends it, and a real
// `bantrail-collect serve --demo` on 127.0.0.1:8470 receives it and counts it. And the negative:
// a share page closed before confirming sends nothing.
// Run: node --test tests/e2e/share.e2e.test.mjs   (BT_BUILD=<build dir>, default build/)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { rmSync, existsSync, readlinkSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as H from './harness.mjs';
import sodium from '../../extension/lib/libsodium-wrappers.js';

const COLLECT = join(H.BUILD, 'bantrail-collect');
const DEMO_PORT = 8470;   // the demo union's submit URL is http://127.0.0.1:8470/v1/reports

const why = H.missing() || (existsSync(COLLECT) ? null : `bantrail-collect not found at ${COLLECT}`);
if (why && process.env.BT_SKIP_BROWSER === '1') test.skip(`browser tests skipped: ${why}`);
else if (why) throw new Error(`browser tests cannot run: ${why}`);

let dir, cert, srv, collector, unionDir;
const hosts = H.fixtureHosts();
const pageErrors = [];

function portOpen(port) {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); ok(true); });
    s.once('error', () => ok(false));
  });
}

/** Frees 127.0.0.1:8470 of a collector left over by an earlier run; anything else there is an error. */
async function freeDemoPort() {
  if (!(await portOpen(DEMO_PORT))) return;
  const ss = spawnSync('ss', ['-Hltnp', `sport = :${DEMO_PORT}`], { encoding: 'utf8' });
  const pids = [...(ss.stdout || '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  for (const pid of pids) {
    let exe = '';
    try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* gone */ }
    if (!/bantrail-collect$/.test(exe)) throw new Error(`port ${DEMO_PORT} is taken by ${exe || 'another process'} (pid ${pid}): free it first`);
    process.kill(pid, 'SIGTERM');
  }
  await H.waitFor(async () => !(await portOpen(DEMO_PORT)), { timeout: 10000, what: `port ${DEMO_PORT} to be free` });
}

function figures() {
  const r = spawnSync(COLLECT, ['--dir', unionDir, 'report', '--format', 'json'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  dir = H.tempDir('bt-share-');
  cert = H.makeCert(dir, hosts);
  srv = await H.serve(cert);
  await freeDemoPort();
  unionDir = join(dir, 'union');
  mkdirSync(unionDir, { mode: 0o700 });
  collector = spawn(COLLECT, ['--dir', unionDir, 'serve', '--demo', '--port', String(DEMO_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  collector.stderr.on('data', (d) => process.stderr.write(`# collector: ${d}`));
  await H.waitFor(() => portOpen(DEMO_PORT), { timeout: 15000, what: 'the demo collector' });
});

after(async () => {
  if (collector && collector.exitCode === null) {
    collector.kill('SIGTERM');
    await new Promise((ok) => collector.once('exit', ok));
  }
  if (srv) await srv.close();
  if (dir && !process.env.BT_KEEP) rmSync(dir, { recursive: true, force: true });
});

/** The case of the newest notice of `platform`, through the CLI. */
async function caseOf(home, platform) {
  const es = await H.waitFor(() => {
    const n = H.entries(home).filter((e) => e.type === 'notice' && e.classification && e.classification.platform === platform);
    return n.length ? n : null;
  }, { timeout: 20000, what: `a ${platform} record` });
  const rec = es.at(-1).id;
  const cases = H.cli(home, ['case', 'list']).cases;
  const c = cases.find((k) => (k.events || []).some((e) => e.record === rec)) || cases.find((k) => k.platform === platform);
  assert.ok(c, `the case of record ${rec}`);
  return c.id;
}

/**
 * Opens the share page for a case (from the log page's "Share anonymously" button of that case when
 * `fromLog`), picks the demo union with the keyboard and waits for the preview.
 */
async function openShare(context, caseId, { fromLog = false } = {}) {
  let page;
  if (fromLog) {
    const log = await context.newPage();
    await log.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/log.html`);
    const button = log.locator('button[data-action="share"]');
    await button.first().waitFor({ timeout: 20000 });
    assert.equal(await button.count(), 1, 'one "Share anonymously" button per case');
    const opened = context.waitForEvent('page');
    await button.first().focus();
    await log.keyboard.press('Enter');
    page = await opened;
    await page.waitForLoadState();
    assert.equal(new URL(page.url()).searchParams.get('case'), String(caseId));
    await log.close();
  } else {
    page = await context.newPage();
    await page.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/share.html?case=${caseId}`);
  }
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.waitForSelector('#union-demo').catch(async (e) => {
    const st = await page.evaluate(() => [document.readyState, document.querySelectorAll('#unions input').length, document.getElementById('case-summary').textContent, document.visibilityState]);
    throw new Error(`${e.message}; the page says: ${await page.locator('#message').textContent()} (${page.url()}) ${JSON.stringify(st)}`);
  });
  await page.getByRole('radio', { name: /Demo union/ }).check();   // by its label, as a person would
  await page.waitForFunction(() => document.getElementById('json').textContent.startsWith('{"v":2'));
  return page;
}

test('a case shared with the demo union through the share page reaches the collector and is counted; a closed page sends nothing', async () => {
  const D = join(dir, 'profile');
  const home = join(dir, 'home');
  H.installHost(D, home);
  // The harness maps every other name to nowhere (MAP * ~NOTFOUND), which catches the loopback
  // address too; the same rules again (a later switch wins) with the demo collector's address let through.
  const rules = hosts.map((x) => `MAP ${x} 127.0.0.1:${srv.port}`).concat(['EXCLUDE 127.0.0.1', 'MAP * ~NOTFOUND']).join(', ');
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts,
    extraArgs: [`--host-resolver-rules=${rules}`] });
  const errors = [];
  worker.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    // Tests do not wait minutes: a random delay of 0-1 s (the options page's setting).
    await worker.evaluate(() => chrome.storage.local.set({ sendDelay: { min: 0, max: 1 } }));

    // 1. The notice is captured: a record, and so a case.
    const shot = await context.newPage();
    await shot.goto(H.index['instagram-suspended.html'].url);
    const caseId = await caseOf(home, 'instagram');
    await shot.close();

    // 2. The share page: the demo union, the preview in words and as JSON, an optional field.
    const page = await openShare(context, caseId, { fromLog: true });
    const json1 = await page.locator('#json').textContent();
    const report = JSON.parse(json1);
    assert.equal(report.platform, 'instagram');
    assert.equal(report.kind, H.index['instagram-suspended.html'].kind);
    assert.match(report.week, /^20\d\d-W\d\d$/);
    assert.ok(!('context' in report), 'no context until the person adds some');
    const words = await page.locator('#words li').allTextContents();
    assert.ok(words.length >= 4 && words.some((w) => /Instagram/.test(w)), `plain words: ${words.join(' | ')}`);
    assert.ok(await page.locator('#demo-note').isVisible(), 'the demo union says its key is public');
    await page.getByLabel(/Account type/).selectOption('creator');
    await page.getByLabel(/Country/).fill('fr');
    // Straight from the field to the button: the field's change comes first and rebuilds the
    // preview; the click must say so, and send nothing the person has not read.
    await page.getByRole('button', { name: 'Send this report' }).click();
    await page.waitForFunction(() => /read the preview again/.test(document.getElementById('message').textContent));
    await page.waitForFunction(() => document.getElementById('json').textContent.includes('"country":"FR"'));
    assert.equal(H.cli(home, ['report', 'list']).reports.length, 0, 'nothing queued by that click');
    const json2 = await page.locator('#json').textContent();
    assert.deepEqual(JSON.parse(json2).context, { account_type: 'creator', country: 'FR' });
    assert.equal(figures().total, 0, 'nothing sent before the confirmation');

    // 3. Confirm: queued, then sent by the worker after its (short) random delay.
    await page.getByRole('button', { name: 'Send this report' }).focus();   // by keyboard
    await page.keyboard.press('Enter');
    await page.waitForSelector('#done:not(.hidden)');
    const sent = await H.waitFor(() => {
      const r = H.cli(home, ['report', 'list']).reports;
      return r.length === 1 && r[0].state === 'sent' ? r : null;
    }, { timeout: 20000, what: 'the report to be sent' }).catch(async (e) => {
      const st = await worker.evaluate(() => chrome.storage.local.get('sendSchedule')).catch((x) => String(x));
      throw new Error(`${e.message}: outbox ${JSON.stringify(H.cli(home, ['report', 'list']).reports.map(({ json, ...r }) => r))}, `
        + `schedule ${JSON.stringify(st)}, worker errors ${JSON.stringify(errors)}`);
    });
    assert.equal(sent[0].json, json2, 'what was sealed is what was shown');
    assert.equal(sent[0].union, 'demo');
    assert.match(sent[0].detail || '', /HTTP 202/);
    const f = figures();
    assert.equal(f.total, 1);
    assert.deepEqual(f.by_platform, { instagram: 1 });

    // 4. The outbox page shows it as sent.
    await page.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/outbox.html`);
    await page.waitForSelector(`tr[data-report="${sent[0].id}"][data-state="sent"]`);
    // "Save as file": the sealed wire text, to upload by hand.
    const download = page.waitForEvent('download');
    await page.locator(`tr[data-report="${sent[0].id}"] button[data-action="save"]`).click();
    const file = readFileSync(await (await download).path(), 'utf8');
    assert.match(file, /^QlRSM[A-Za-z0-9+/]+={0,2}\n$/, 'base64 of "BTR1" ...');
    assert.equal(file.length, 1480 + 1, 'one block: 1480 base64 characters and a newline');
    // "Withdraw" a sent report: withdrawn at the union too, by a withdrawal only its sender can
    // make (signed by the report's key); the union's figures drop it.
    page.once('dialog', (d) => d.accept());
    await page.locator(`tr[data-report="${sent[0].id}"] button[data-action="withdraw"]`).click();
    await page.waitForSelector(`tr[data-report="${sent[0].id}"][data-state="withdrawn"]`);
    assert.match(H.cli(home, ['report', 'list']).reports[0].detail || '', /withdrawn at the union/);
    assert.equal(figures().total, 0, 'the union no longer counts it');
    await page.close();

    // 5. The negative: a second case previewed, and its page closed before confirming.
    const x = await context.newPage();
    await x.goto(H.index['facebook-checkpoint.html'].url);
    const other = await caseOf(home, 'facebook');
    await x.close();
    const p2 = await openShare(context, other);
    await p2.close();
    await H.sleep(3000);   // longer than the 0-1 s delay
    assert.equal(H.cli(home, ['report', 'list']).reports.length, 1, 'nothing queued');
    assert.equal(figures().total, 0, 'nothing more received');
    // 6. Importing a union: pasted entry → its key id shown → pinned on a click → offered.
    await sodium.ready;
    const pk = sodium.randombytes_buf(32);
    const entry = { v: 1, id: 'e2e-union', name: 'E2E union', homepage: 'https://union.example/',
      submit_url: 'https://union.example/v1/reports', public_key: sodium.to_base64(pk, sodium.base64_variants.ORIGINAL),
      key_id: sodium.to_hex(sodium.crypto_generichash(32, pk)).slice(0, 16), pow_difficulty: 16, policy_url: 'https://union.example/policy' };
    const p3 = await openShare(context, other);
    await p3.locator('#import-box summary').click();
    await p3.getByLabel(/paste the entry/).fill(JSON.stringify(entry));
    await p3.getByRole('button', { name: 'Check this entry' }).click();
    assert.equal(await p3.locator('#entry-key').textContent(), entry.key_id, 'the key id to compare is shown');
    assert.ok(H.cli(home, ['union', 'list']).unions.every((u) => u.id !== 'e2e-union'), 'not pinned before the click');
    await p3.getByRole('button', { name: /Pin this key/ }).click();
    await p3.waitForSelector('#union-e2e-union:checked');
    await p3.waitForFunction(() => document.getElementById('json').textContent.startsWith('{"v":2'));
    const pinned = H.cli(home, ['union', 'list']).unions.find((u) => u.id === 'e2e-union');
    assert.equal(pinned && pinned.key_id, entry.key_id);
    await p3.close();

    assert.deepEqual(errors, [], 'no errors in the service worker');
    assert.deepEqual(pageErrors, [], 'no errors on the share page');
    if (process.env.BT_SHOTS) {   // pictures of the pages, for looking at them
      const p = await context.newPage();
      await p.setViewportSize({ width: 1000, height: 1700 });
      await p.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/share.html?case=${other}`);
      await p.getByRole('radio', { name: /Demo union/ }).check();
      await p.waitForFunction(() => document.getElementById('json').textContent.length > 0);
      await p.screenshot({ path: join(process.env.BT_SHOTS, 'share.png'), fullPage: true });
      await p.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/outbox.html`);
      await p.waitForSelector('tr[data-report]');
      await p.screenshot({ path: join(process.env.BT_SHOTS, 'outbox.png'), fullPage: true });
      await p.close();
    }
  } finally {
    await context.close();
  }
});
