// Browser end-to-end tests of the extension in Debian's Chromium (docs/DESIGN.md section 10).
// Run: node --test tests/e2e/extension.e2e.test.mjs   (BT_BUILD=<build dir>, default build/)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as H from './harness.mjs';

const why = H.missing();
if (why && process.env.BT_SKIP_BROWSER === '1') test.skip(`browser tests skipped: ${why}`);
else if (why) throw new Error(`browser tests cannot run: ${why}`);

let dir, cert, srv;
const hosts = H.fixtureHosts();

before(async () => {
  dir = H.tempDir('bt-e2e-');
  cert = H.makeCert(dir, hosts);
  srv = await H.serve(cert);
});
after(async () => {
  if (srv) await srv.close();
  if (dir && !process.env.BT_KEEP) rmSync(dir, { recursive: true, force: true });
});

const notices = (es) => es.filter((e) => e.type === 'notice');
const attachmentsOf = (es, id) => es.filter((e) => e.type === 'attachment' && e.of === id);

/** Text of every file under `d`, as latin1 (for looking for plaintext on disk). */
function filesText(d) {
  let out = '';
  if (!existsSync(d)) return out;
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    const st = statSync(p);
    out += st.isDirectory() ? filesText(p) : readFileSync(p).toString('latin1');
  }
  return out;
}

async function outboxItems(worker) {
  return worker.evaluate(async () => ((await chrome.storage.local.get('outbox')).outbox || { items: [] }).items);
}

/** Opens the popup page as a person would; it asks the worker for the status, which reconnects. */
async function openPopup(context) {
  const p = await context.newPage();
  await p.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/popup.html`);
  await p.waitForFunction(() => document.getElementById('host').textContent.length > 0);
  return p;
}

test('each restriction page gives exactly one record with its platform, kind and a screenshot; counter-examples give none', async () => {
  const D = join(dir, 'profile-main');
  const home = join(dir, 'home-main');
  const how = H.installHost(D, home);
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  const errors = [];
  worker.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    assert.deepEqual(await H.checkAllFixtures(() => context.newPage(), home, dir), [], 'every page as its fixture says');
    const v = H.cli(home, ['verify']);
    assert.equal(v.ok, true, 'the chain verifies');
    assert.deepEqual(errors, [], 'no errors in the service worker');
    console.log(`# host registered by: ${how}`);
  } finally {
    await context.close();
  }
});

test('"save this page as a notice": what recognition missed is stored as a manual record of the visible text only; a browser page is refused', async () => {
  const D = join(dir, 'profile-save');
  const home = join(dir, 'home-save');
  H.installHost(D, home);
  const { context } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  try {
    const url = H.index['own-post.html'].url;   // no notice: recognition stores nothing
    const page = await context.newPage();
    await page.goto(url);
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<div style="display:none">HIDDEN-NOT-SHOWN</div>'));
    const popup = await openPopup(context);
    const before = notices(H.entries(home)).length;
    const save = (target) => popup.evaluate(async (u) => {
      const [tab] = await chrome.tabs.query(u ? { url: u } : { active: true, currentWindow: true });
      return chrome.runtime.sendMessage({ type: 'save_page', tab: tab.id });
    }, target);
    const r = await save(url);
    assert.equal(r.result.stored, true, JSON.stringify(r));
    const saved = notices(H.entries(home));
    assert.equal(saved.length, before + 1, 'one record');
    const rec = H.cli(home, ['show', String(r.result.id)]);
    const head = rec.record;
    assert.equal(head.manual, true, 'marked as saved by hand');
    assert.equal(head.url, url);
    const visible = await page.evaluate(() => document.body.innerText.trim().split('\n')[0]);
    assert.ok(head.text.includes(visible), 'the page\'s visible text');
    assert.ok(!head.text.includes('HIDDEN-NOT-SHOWN'), 'nothing the person was not shown');
    // the popup's own page is no web page: refused, nothing stored
    const refused = await save(null);
    assert.equal(refused.error.code, 'not_a_web_page');
    assert.equal(notices(H.entries(home)).length, before + 1);
  } finally {
    await context.close();
  }
});

test('every page of the extension, in English, French and Korean, loads with a notice in the log and no console error or content-security violation', async () => {
  const notice = Object.entries(H.index).find(([, f]) => f.notice && f.platform === 'instagram');
  for (const lang of ['en', 'fr', 'ko']) {
    const D = join(dir, `profile-pages-${lang}`);
    const home = join(dir, `home-pages-${lang}`);
    H.installHost(D, home);
    const { context } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts, lang });
    try {
      const tab = await context.newPage();
      await tab.goto(notice[1].url);
      await H.waitFor(() => notices(H.entries(home)).length > 0, { what: `the capture of ${notice[0]}` });
      const caseId = H.cli(home, ['case', 'list']).cases[0].id;
      for (const name of ['popup.html', 'log.html', 'options.html', 'outbox.html', `share.html?case=${caseId}`]) {
        const problems = [];
        const page = await context.newPage();
        page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text()); });
        page.on('pageerror', (e) => problems.push(String(e)));
        await page.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/${name}`);
        await page.waitForLoadState('networkidle');
        await H.sleep(300);
        const missing = await page.evaluate(() => [...document.querySelectorAll('[data-i18n]')].filter((e) => !e.textContent.trim()).map((e) => e.dataset.i18n));
        assert.deepEqual(problems, [], `${lang} ${name}: console errors`);
        assert.deepEqual(missing, [], `${lang} ${name}: texts left empty`);
        assert.equal(await page.evaluate(() => document.documentElement.lang.slice(0, 2)), lang, `${lang} ${name}: the page's language`);
        await page.close();
      }
    } finally {
      await context.close();
    }
  }
});

test('a stored notice puts a mark on the toolbar button in its tab for a few seconds, unless the person turned that off', async () => {
  const D = join(dir, 'profile-announce');
  const home = join(dir, 'home-announce');
  H.installHost(D, home);
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  const badge = (url) => worker.evaluate(async (u) => {
    const [tab] = await chrome.tabs.query({ url: u });
    return tab ? chrome.action.getBadgeText({ tabId: tab.id }) : null;
  }, url);
  try {
    const first = H.index['instagram-suspended.html'].url;
    const page = await context.newPage();
    await page.goto(first);
    await H.waitFor(async () => (await badge(first)) === '✓', { what: 'the mark' });
    await H.waitFor(async () => (await badge(first)) === '', { timeout: 10000, what: 'the mark to go' });
    await worker.evaluate(() => chrome.storage.local.set({ settings: { announce: false } }));
    const second = H.index['p-instagram-limited-alert.html'].url;
    const count = notices(H.entries(home)).length;
    await page.goto(second);
    await H.waitFor(() => notices(H.entries(home)).length > count, { what: 'the second capture' });
    await H.sleep(500);
    assert.equal(await badge(second), '', 'no mark when turned off');
  } finally {
    await context.close();
  }
});

test('host not installed during a capture: held, then sealed the moment the key is known, never in clear on disk after that, then delivered once the host is installed', async () => {
  const D = join(dir, 'profile-outbox');
  const home = join(dir, 'home-outbox');
  const pk = H.cli(home, ['status']).public_key;   // the log exists; the browser has no host yet
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  worker.__context = context;
  try {
    // 1. Never reached the host: no public key yet, so the capture is held (in clear) in storage.local.
    let page = await context.newPage();
    await page.goto(H.index['facebook-checkpoint.html'].url);
    // (The toolbar badge counts what waits; opening one of our pages now would take the tab's
    // place on screen and so its screenshot.)
    await H.waitFor(async () => (await worker.evaluate(() => chrome.action.getBadgeText({}))) === '1', { what: 'a capture held' });
    assert.equal((await outboxItems(worker)).length, 0, 'no public key yet: nothing in the sealed outbox');
    await page.close();

    // 2. The public key was learned from an earlier hello: the held capture is sealed into the
    // outbox with the next one, and nothing stays in clear.
    await worker.evaluate((k) => chrome.storage.local.set({ publicKey: k }), pk);
    page = await context.newPage();
    await page.goto(H.index['x-suspended.html'].url);
    const items = await H.waitFor(async () => { const it = await outboxItems(worker); return it.length === 2 ? it : null; }, { what: 'two sealed outbox items' });
    await page.close();
    const waiting = await openPopupStatus(worker);
    assert.equal(waiting.outbox.held.count, 0);
    assert.equal(waiting.outbox.count, 2);
    assert.ok(waiting.outbox.bytes > 20000, 'the screenshots are sealed with their notices');
    assert.deepEqual(items.map((i) => i.kind), ['capture', 'capture']);
    const stored = JSON.stringify(await worker.evaluate(() => chrome.storage.local.get(null)));
    for (const clear of ['Your account is suspended', 'X Rules', 'x.com/home', 'Your account has been locked', 'unusual activity']) {
      assert.ok(!stored.includes(clear), `extension storage must not hold "${clear}" in clear`);
    }
    await H.sleep(1500);   // let LevelDB write its log file
    const disk = filesText(join(D, 'Default', 'Local Extension Settings', H.EXTENSION_ID));
    assert.ok(disk.includes(items[0].sealed.slice(0, 64)), 'the sealed item is on disk (so the search below can see text)');
    // (Only what was sealed from the start: the capture held in clear before the key was known is
    // gone from storage, but the browser's database may keep its bytes on disk until it compacts
    // its files, as docs/SECURITY.md says.)
    for (const clear of ['Your account is suspended', 'X Rules', 'x.com/home']) {
      assert.ok(!disk.includes(clear), `the profile's extension storage must not hold "${clear}" in clear`);
    }
    assert.equal(notices(H.entries(home)).length, 0, 'nothing reached the log yet');

    // The log page says the program is missing and what to do, not only "Not connected".
    const log = await context.newPage();
    await log.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/log.html`);
    await log.waitForFunction(() => document.getElementById('state').textContent.length > 0);
    assert.match(await log.textContent('#state'), /Not installed/);
    assert.ok(await log.isVisible('#host-help'));
    assert.match(await log.textContent('#host-help'), /bantrail install/);
    await log.close();

    // 3. The host is installed; opening the popup reconnects and the outbox is delivered.
    H.installHost(D, home);
    const popup = await openPopup(context);
    const st = await openPopupStatus(worker);
    assert.equal(st.host, 'connected');
    assert.ok(st.capabilities.includes('capture_sealed'), 'the host delivers sealed captures');
    const es = await H.waitFor(() => {
      const now = H.entries(home);
      return notices(now).length >= 2 && notices(now).every((n) => attachmentsOf(now, n.id).length === 1) ? now : null;
    }, { timeout: 20000, what: 'delivery' }).catch(async (e) => {
      console.log('# status', JSON.stringify(await openPopupStatus(worker)), JSON.stringify(H.entries(home)));
      throw e;
    });
    const kinds = notices(es).map((n) => `${n.classification.platform}/${n.classification.kind}`).sort();
    assert.ok(kinds.includes('facebook/checkpoint'), 'the capture held before the key was known arrived');
    assert.ok(kinds.includes('x/suspension'), 'the sealed capture arrived');
    await popup.close();
    await H.waitFor(async () => (await outboxItems(worker)).length === 0, { what: 'an empty outbox' });
  } finally {
    await context.close();
  }
});

/** The popup's words about what is held in this browser before set-up ('' when hidden). */
async function heldWords(context) {
  const p = await openPopup(context);
  try {
    await p.waitForFunction(() => document.getElementById('host').textContent.length > 0);
    return await p.evaluate(() => (document.getElementById('held').classList.contains('hidden') ? ''
      : [...document.querySelectorAll('#held p:not(.hidden)')].map((e) => e.textContent).join(' ')));
  } finally {
    await p.close();
  }
}

test('a capture made before the host is installed survives a browser restart and becomes exactly one record once it is installed', async () => {
  const D = join(dir, 'profile-restart');
  const home = join(dir, 'home-restart');   // no log yet: the host makes it when it first runs
  let { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  try {
    const page = await context.newPage();
    await page.goto(H.index['facebook-checkpoint.html'].url);
    await H.waitFor(async () => (await worker.evaluate(() => chrome.action.getBadgeText({}))) === '1', { what: 'a capture held' });
    await page.close();
    const before = await heldWords(context);
    const popup = await openPopup(context);
    assert.match(await popup.textContent('#last'), /· Facebook · Checkpoint \(waiting, not in the log yet\)$/);
    await popup.close();
    assert.match(before, /1 capture is kept in this browser, not yet encrypted/);
    assert.match(before, /Their screenshots are kept with them/);
    assert.match(before, /bantrail install/, 'the step to finish set-up');
    assert.doesNotMatch(before, /sealed/);
  } finally {
    await context.close();
  }
  // The browser is closed and started again on the same profile, still with no host.
  ({ context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts }));
  try {
    assert.match(await heldWords(context), /1 capture is kept in this browser/, 'kept across the restart');
    assert.equal(H.entries(home).length, 0, 'nothing reached a log yet');
    H.installHost(D, home);
    assert.equal(await heldWords(context), '', 'opening the popup reaches the host, which takes what was held');
    const es = await H.waitFor(() => {
      const now = H.entries(home);
      const n = notices(now);
      return n.length && attachmentsOf(now, n[0].id).length ? now : null;
    }, { timeout: 20000, what: 'delivery' });
    await H.sleep(2000);   // nothing more arrives
    const all = H.entries(home);
    assert.equal(notices(all).length, 1, 'exactly one record');
    assert.equal(notices(all)[0].classification.kind, 'checkpoint');
    assert.equal(attachmentsOf(all, notices(all)[0].id).length, 1, 'with its screenshot');
    assert.equal(all.length, es.length);
    const stored = JSON.stringify(await worker.evaluate(() => chrome.storage.local.get(null)));
    assert.ok(!stored.includes('Your account has been locked'), 'nothing left in clear in extension storage');
    const popup = await openPopup(context);
    assert.match(await popup.textContent('#last'), /· Facebook · Checkpoint$/, 'the last capture, now in the log');
    assert.ok(await popup.isHidden('#held'));
    await popup.close();
  } finally {
    await context.close();
  }
  // And once more: a restart delivers nothing twice.
  ({ context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts }));
  try {
    assert.equal(await heldWords(context), '');
    await H.sleep(1500);
    assert.equal(notices(H.entries(home)).length, 1, 'still exactly one record');
  } finally {
    await context.close();
  }
});

test('what is held before set-up can be discarded: the popup asks once more, and nothing reaches the log afterwards', async () => {
  const D = join(dir, 'profile-discard');
  const home = join(dir, 'home-discard');
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  try {
    const page = await context.newPage();
    await page.goto(H.index['facebook-checkpoint.html'].url);
    await H.waitFor(async () => (await worker.evaluate(() => chrome.action.getBadgeText({}))) === '1', { what: 'a capture held' });
    await page.close();
    const popup = await openPopup(context);
    await popup.waitForSelector('#discard-held:not(.hidden)');
    assert.ok(await popup.isHidden('#discard-held-confirm'), 'one click is not enough');
    await popup.click('#discard-held');
    assert.equal(await popup.textContent('#discard-held-confirm'), 'Discard 1 capture for good');
    await popup.click('#discard-held-confirm');
    await popup.waitForFunction(() => /discarded/.test(document.getElementById('message').textContent));
    assert.equal(await popup.textContent('#message'), '1 capture discarded from this browser.');
    await popup.waitForSelector('#held.hidden', { state: 'attached' });
    await popup.close();
    const stored = JSON.stringify(await worker.evaluate(() => chrome.storage.local.get(null)));
    assert.ok(!stored.includes('Your account has been locked'), 'gone from extension storage');
    H.installHost(D, home);
    const st = await openPopupStatus(Object.assign(worker, { __context: context }));
    assert.equal(st.host, 'connected');
    await H.sleep(1500);
    assert.equal(notices(H.entries(home)).length, 0, 'nothing delivered');
  } finally {
    await context.close();
  }
});

test('what is held before set-up is capped: beyond 50 captures the popup counts what was not kept', async () => {
  const D = join(dir, 'profile-cap');
  const home = join(dir, 'home-cap');
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  try {
    await worker.evaluate(() => chrome.storage.local.set({ settings: { screenshots: false } }));   // quicker: the count is the bound met first
    const page = await context.newPage();
    const url = H.index['facebook-checkpoint.html'].url;
    const badge = () => worker.evaluate(() => chrome.action.getBadgeText({}));
    const lost = () => worker.evaluate(async () => ((await chrome.storage.local.get('held')).held || {}).lost | 0);
    for (let i = 1; i <= 52; i++) {
      await page.goto(`${url}${url.includes('?') ? '&' : '?'}n=${i}`);
      // the badge says each one held; once it says "!", the count of refused ones tells the next
      await H.waitFor(async () => (i <= 50 ? (await badge()) === String(i) : (await badge()) === '!' && (await lost()) === i - 50),
        { what: `capture ${i} held or refused` });
    }
    await page.close();
    const words = await heldWords(context);
    assert.match(words, /^50 captures are kept in this browser, not yet encrypted/);
    assert.match(words, /2 captures were not kept: the room for captures before set-up \(50 captures, 4 MiB\) is full\./);
    // Discarding makes room again, and the counts go with what they spoke of.
    const popup = await openPopup(context);
    await popup.click('#discard-held');
    assert.equal(await popup.textContent('#discard-held-confirm'), 'Discard 50 captures for good');
    await popup.click('#discard-held-confirm');
    await popup.waitForSelector('#held.hidden', { state: 'attached' });
    await popup.close();
    assert.equal(await badge(), '');
  } finally {
    await context.close();
  }
});

/** Asks the worker for its status the way the popup does, from one of our pages. */
async function openPopupStatus(worker) {
  const context = worker.__context;
  if (!worker.__page || worker.__page.isClosed()) {
    worker.__page = await context.newPage();
    await worker.__page.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/options.html`);
  }
  const r = await worker.__page.evaluate(() => chrome.runtime.sendMessage({ type: 'status' }));
  return r.result;
}

test('the log page: timeline with its screenshot, passphrase, recovery code shown once, lock and unlock by keyboard', async () => {
  const D = join(dir, 'profile-pages');
  const home = join(dir, 'home-pages');
  H.installHost(D, home);
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  try {
    const page = await context.newPage();
    await page.goto(H.index['instagram-suspended.html'].url);
    await H.waitFor(() => H.entries(home).some((e) => e.type === 'attachment'), { what: 'a capture with its screenshot' });
    await page.close();

    const log = await context.newPage();
    await log.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/log.html`);
    await log.waitForSelector('img.shot[src^="blob:"]');
    assert.ok(await log.$eval('img.shot', (i) => i.complete && i.naturalWidth > 100), 'the screenshot shows');
    assert.equal(await log.textContent('#state'), 'Not protected yet');
    assert.match(await log.textContent('#timeline'), /Suspension/);
    await log.click('#timeline button[aria-controls]');
    await log.waitForFunction(() => /We suspended your account/.test(document.querySelector('pre.notice-text').textContent));

    // The screenshot opens full size and closes again.
    const shotHeight = () => log.$eval('img.shot', (i) => i.getBoundingClientRect().height);
    const small = await shotHeight();
    assert.ok(small <= 320, 'a thumbnail first');
    await log.click('button.shot-button');
    assert.equal(await log.getAttribute('button.shot-button', 'aria-expanded'), 'true');
    assert.ok(await shotHeight() > small, 'full size');
    await log.click('button.shot-button');
    assert.equal(await shotHeight(), small);

    // Search and filters narrow the timeline and say so; clearing them shows it all again.
    const shown = () => log.$$eval('#timeline li[data-record]', (l) => l.length);
    assert.equal(await shown(), 1);
    await log.fill('#f-q', 'suspension instagram');
    assert.equal(await shown(), 1, 'every word found');
    await log.fill('#f-q', 'tiktok');
    assert.equal(await shown(), 0);
    assert.match(await log.textContent('#timeline'), /No notice matches/);
    assert.match(await log.textContent('#count'), /Shown: 0/);
    await log.fill('#f-q', '');
    assert.deepEqual(await log.$$eval('#f-platform option', (o) => o.map((x) => x.value)), ['', 'instagram'], 'the platforms in the log');
    await log.selectOption('#f-kind', 'suspension');
    assert.equal(await shown(), 1);
    await log.fill('#f-from', '2099-01-01');
    assert.equal(await shown(), 0, 'nothing from the future');
    await log.click('#f-clear');
    await log.waitForFunction(() => document.querySelectorAll('#timeline li[data-record]').length === 1);
    assert.equal(await log.inputValue('#f-from'), '');

    // Choose a passphrase, by keyboard.
    await log.focus('#new');
    await log.keyboard.type('river lantern copper meadow');
    assert.equal(await log.getAttribute('#strength', 'value'), '4');
    await log.focus('#confirm');
    await log.keyboard.type('river lantern copper meadow');
    await log.keyboard.press('Enter');
    await log.waitForFunction(() => document.getElementById('state').textContent === 'Unlocked');
    assert.equal(H.cli(home, ['status']).protected, true);

    // A code the person never said they wrote down (the page closed first) resets nothing, and the
    // page says which code works when it opens again.
    await log.click('#make-recovery');
    await log.waitForFunction(() => document.getElementById('recovery-code').textContent.length > 0);
    await log.reload();
    await log.waitForFunction(() => !document.getElementById('recovery-pending').classList.contains('hidden'));
    assert.match(await log.textContent('#recovery-pending'), /no code works yet/);
    assert.equal(H.cli(home, ['status']).recovery_pending, true);

    // The recovery code is shown once, then gone from the page.
    await log.click('#make-recovery');
    await log.waitForFunction(() => document.getElementById('recovery-code').textContent.length > 0);
    assert.ok(await log.isHidden('#recovery-pending'), 'a new code shown: nothing pending to tell');
    const code = await log.textContent('#recovery-code');
    assert.match(code, /^[a-z0-9]{4}(-[a-z0-9]{4}){7}$/i);
    assert.equal(H.cli(home, ['status']).has_recovery, false, 'not in force until the person has it');
    await log.click('#recovery-done');
    assert.equal(await log.textContent('#recovery-code'), '');
    assert.ok(!(await log.content()).includes(code));
    await log.waitForFunction(() => document.getElementById('message').textContent.length > 0);
    assert.equal(H.cli(home, ['status']).has_recovery, true, 'in force once they said they wrote it down');
    assert.equal(H.cli(home, ['status']).recovery_pending, undefined);
    await log.waitForFunction(() => document.getElementById('recovery-pending').classList.contains('hidden'));

    // Lock, then unlock with the keyboard alone.
    await log.click('#lock');
    await log.waitForFunction(() => document.getElementById('state').textContent === 'Locked');

    // A page that needs the log while it is locked asks for the passphrase in place and goes on.
    const share = await context.newPage();
    await share.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/share.html?case=1`);
    await share.waitForSelector('#unlock-here-pass');
    assert.equal(await share.textContent('#case-summary'), '', 'nothing shown while locked');
    await share.fill('#unlock-here-pass', 'not it at all');
    await share.press('#unlock-here-pass', 'Enter');
    await share.waitForFunction(() => document.querySelector('#unlock-here [role=alert]').textContent.length > 0);
    assert.equal(await share.textContent('#case-summary'), '', 'a wrong passphrase opens nothing');
    await share.fill('#unlock-here-pass', 'river lantern copper meadow');
    await share.press('#unlock-here-pass', 'Enter');
    await share.waitForFunction(() => /Case #1/.test(document.getElementById('case-summary').textContent));
    assert.equal(await share.$$eval('#unlock-here form', (f) => f.length), 0, 'the form goes once unlocked');
    await share.close();
    // the outbox too: locked again, it asks in place and then shows the (empty) outbox
    await log.reload();
    await log.waitForFunction(() => document.getElementById('state').textContent.length > 0);
    if (await log.textContent('#state') !== 'Locked') {
      await log.click('#lock');
      await log.waitForFunction(() => document.getElementById('state').textContent === 'Locked');
    }
    const outbox = await context.newPage();
    await outbox.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/outbox.html`);
    await outbox.waitForSelector('#unlock-here-pass');
    await outbox.fill('#unlock-here-pass', 'river lantern copper meadow');
    await outbox.press('#unlock-here-pass', 'Enter');
    await outbox.waitForFunction(() => !document.getElementById('empty').classList.contains('hidden'));
    assert.equal(await outbox.textContent('#message'), '', 'no error left on screen');
    await outbox.close();
    await log.click('#lock').catch(() => {});   // (the share page unlocked it: the log page's button may be gone)
    await log.reload();
    await log.waitForFunction(() => document.getElementById('state').textContent.length > 0);
    if (await log.textContent('#state') !== 'Locked') {
      await log.click('#lock');
      await log.waitForFunction(() => document.getElementById('state').textContent === 'Locked');
    }
    assert.equal(await log.$$eval('img.shot', (l) => l.length), 0, 'nothing readable while locked');
    await log.focus('#passphrase');
    await log.keyboard.type('wrong passphrase here');
    await log.keyboard.press('Enter');
    await log.waitForFunction(() => /Wrong passphrase/.test(document.getElementById('message').textContent));
    await log.fill('#passphrase', '');
    await log.keyboard.type('river lantern copper meadow');
    await log.keyboard.press('Enter');
    await log.waitForSelector('img.shot[src^="blob:"]');
    assert.equal(await log.textContent('#state'), 'Unlocked');

    // Captures go on while locked.
    await log.click('#lock');
    await log.waitForFunction(() => document.getElementById('state').textContent === 'Locked');
    const before = H.cli(home, ['status']).entries;
    const p2 = await context.newPage();
    await p2.goto(H.index['facebook-checkpoint.html'].url);
    await H.waitFor(() => H.cli(home, ['status']).entries >= before + 2, { what: 'a capture while locked' });
    await p2.close();
    assert.ok(worker);
  } finally {
    await context.close();
  }
});
