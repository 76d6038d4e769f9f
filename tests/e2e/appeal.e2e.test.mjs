// End to end in Debian's Chromium (harness.mjs): an appeal's story becomes one case, and platform
// emails in webmail are captured only when opted in, and only the platform's message.
// Run: node --test tests/e2e/appeal.e2e.test.mjs   (BT_BUILD=<build dir>, default build/)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as H from './harness.mjs';

const why = H.missing();
if (why && process.env.BT_SKIP_BROWSER === '1') test.skip(`browser tests skipped: ${why}`);
else if (why) throw new Error(`browser tests cannot run: ${why}`);

const pages = JSON.parse(readFileSync(join(H.FIXTURES, 'appeal-fixtures.json'), 'utf8')).pages;
const extra = {};
for (const [file, f] of Object.entries(pages)) {
  const u = new URL(f.url);
  extra[u.host + u.pathname] = readFileSync(join(H.FIXTURES, file), 'utf8');
}
const hosts = H.fixtureHosts(Object.values(pages).map((f) => new URL(f.url).hostname));
const SUSPENDED = H.index['instagram-suspended.html'].url;

let dir, cert, srv;
before(async () => {
  dir = H.tempDir('bt-appeal-');
  cert = H.makeCert(dir, hosts);
  srv = await H.serve(cert, extra);
});
after(async () => {
  if (srv) await srv.close();
  if (dir && !process.env.BT_KEEP) rmSync(dir, { recursive: true, force: true });
});

const kindOf = (e) => (e.classification || {}).kind;
async function waitEntries(home, pred, what) {
  return H.waitFor(() => { const es = H.entries(home); return pred(es) ? es : null; }, { timeout: 20000, what });
}

test('suspended → appeal form submitted → "we received your appeal" → rejection: one case, four events, the right durations, exported', async () => {
  const D = join(dir, 'profile-appeal');
  const home = join(dir, 'home-appeal');
  H.installHost(D, home);
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  const errors = [];
  worker.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    const page = await context.newPage();
    await page.goto(SUSPENDED);
    await waitEntries(home, (es) => es.some((e) => e.type === 'notice' && kindOf(e) === 'suspension'), 'the suspension record');

    await page.goto(pages['instagram-appeal-form.html'].url);
    await page.fill('#why', 'I only post my own pottery. PRIVATE-APPEAL-WORDS');
    await Promise.all([page.waitForURL(pages['instagram-appeal-received.html'].url), page.click('#send')]);
    let es = await waitEntries(home, (x) => x.some((e) => e.type === 'event')
      && x.some((e) => e.type === 'notice' && kindOf(e) === 'appeal_received'), 'the appeal event and its acknowledgement');
    const ev = H.cli(home, ['show', String(es.find((e) => e.type === 'event').id)]).record;
    assert.equal(ev.event, 'appeal_submitted');
    assert.equal(ev.platform, 'instagram');
    assert.equal(ev.manual, false, 'recorded by the extension, not by hand');
    assert.equal(ev.note, undefined, 'no text without the opt-in');

    await page.goto(pages['instagram-appeal-rejected.html'].url);
    es = await waitEntries(home, (x) => x.some((e) => e.type === 'notice' && kindOf(e) === 'appeal_rejected'), 'the rejection');
    await H.sleep(1000);
    es = H.entries(home);
    assert.equal(es.filter((e) => e.type === 'event').length, 1, 'one appeal event');
    assert.ok(!JSON.stringify(es).includes('PRIVATE-APPEAL-WORDS'));

    const list = H.cli(home, ['case', 'list']);
    const cases = list.cases || list;
    assert.equal(cases.length, 1, `one case: ${JSON.stringify(cases)}`);
    const shown = H.cli(home, ['case', 'show', String(cases[0].id)]);
    const c = shown.case || shown;
    const evs = c.events;
    assert.deepEqual(evs.map((e) => e.event === 'decision' ? `decision:${e.outcome}` : e.event),
      ['restriction', 'appeal_submitted', 'acknowledgement', 'decision:rejected'], JSON.stringify(evs));
    assert.equal(c.platform, 'instagram');
    assert.equal(c.outcome, 'rejected');
    const [r, a, k, d] = evs;
    assert.equal(c.times.restricted_at, r.at);
    assert.equal(c.times.appealed_at, a.at);
    assert.equal(c.times.acknowledged_at, k.at);
    assert.equal(c.times.answered_at, d.at);
    assert.equal(c.durations.restriction_to_appeal, a.at - r.at);
    assert.equal(c.durations.appeal_to_answer, d.at - a.at);
    assert.ok(c.durations.appeal_to_answer >= 0 && c.durations.appeal_to_answer < 120, 'answered within the test run');
    assert.equal(c.durations.appeal_to_answer_minutes, Math.floor((d.at - a.at) / 60));
    assert.equal(c.answered_within_10_minutes, true, 'flagged: answered within 10 minutes');
    assert.equal(c.durations.locked_out_ongoing, true);
    console.log(`# case ${c.id}: ${evs.map((e) => e.event).join(' → ')}; restriction→appeal ${c.durations.restriction_to_appeal} s, `
      + `appeal→answer ${c.durations.appeal_to_answer} s (${c.durations.appeal_to_answer_minutes} min), within 10 min: ${c.answered_within_10_minutes}`);

    // The export through the CLI holds the four events with the log's hashes.
    const out = join(dir, 'case.json');
    const x = H.cli(home, ['export', '--case', String(c.id), '--format', 'json', '-o', out], { json: false });
    assert.equal(x.status, 0, String(x.stderr));
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(doc.format, 'bantrail-evidence');
    assert.deepEqual(doc.case.events.map((e) => e.record), evs.map((e) => e.record));
    assert.deepEqual(doc.case.events.map((e) => e.hash), evs.map((e) => e.hash));
    assert.equal(doc.case.events[1].header.manual, false);

    // The log page: the case, its four events in order, the flag, and the export as a download.
    const log = await context.newPage();
    await log.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/log.html`);
    const card = log.locator(`section.case[data-case="${c.id}"]`);
    await card.waitFor({ timeout: 15000 });
    assert.deepEqual(await card.locator('ol.timeline > li').evaluateAll((li) => li.map((l) => l.dataset.event)),
      ['restriction', 'appeal_submitted', 'acknowledgement', 'decision']);
    assert.equal(await card.locator('.flag').count(), 1);
    const [download] = await Promise.all([log.waitForEvent('download', { timeout: 20000 }), card.locator('button.export').click()]);
    assert.match(download.suggestedFilename(), /^bantrail-case-\d+-\d{4}-\d\d-\d\d\.html$/, 'dated');
    const saved = join(dir, 'export.html');
    await download.saveAs(saved);
    const html = readFileSync(saved, 'utf8');
    assert.match(html, /<html/i);
    for (const e of evs) assert.ok(html.includes(e.hash), `the HTML export holds record ${e.record}'s hash`);

    // Split at the decision, then merge back, from the page: every record kept, the chain holds.
    await card.locator(`li[data-record="${d.record}"] button`).click();
    await H.waitFor(() => (H.cli(home, ['case', 'list']).cases || []).length === 2, { what: 'two cases after the split' });
    const merged = log.locator(`section.case[data-case="${c.id}"]`);
    await log.locator(`#merge-${c.id} option[value="${d.record}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await log.selectOption(`#merge-${c.id}`, String(d.record));
    await merged.getByRole('button', { name: /^merge$/i }).click();
    await H.waitFor(() => (H.cli(home, ['case', 'list']).cases || []).length === 1, { what: 'one case after the merge' });
    const again = H.cli(home, ['case', 'show', String(c.id)]);
    assert.deepEqual((again.case || again).events.map((e) => e.record), evs.map((e) => e.record), 'the same four records');

    // An event entered by hand on the page: marked manual.
    await log.locator(`section.case[data-case="${c.id}"] details summary`).waitFor();
    await log.locator(`section.case[data-case="${c.id}"] details summary`).click();
    await log.fill(`#add-${c.id}-at`, '2026-11-01T09:30');
    await log.selectOption(`#add-${c.id}-kind`, 'other');
    await log.fill(`#add-${c.id}-note`, 'Letter from the platform');
    await log.click(`section.case[data-case="${c.id}"] form.add-event button[type=submit]`);
    const withHand = await H.waitFor(() => {
      const x = H.cli(home, ['case', 'show', String(c.id)]);
      const e = (x.case || x).events.find((y) => y.event === 'other');
      return e ? e : null;
    }, { what: 'the event entered by hand' });
    assert.equal(withHand.manual, true);
    assert.equal(withHand.note, 'Letter from the platform');

    assert.equal(H.cli(home, ['verify']).ok, true, 'the chain verifies');
    assert.deepEqual(errors, [], 'no errors in the service worker');
  } finally {
    await context.close();
  }
});

test('webmail: nothing while opted out; opted in, only the platform\'s open message, without a screenshot', async () => {
  const D = join(dir, 'profile-mail');
  const home = join(dir, 'home-mail');
  H.installHost(D, home);
  H.cli(home, ['status']);
  const { context, worker } = await H.launch({ userDataDir: D, home, port: srv.port, spki: cert.spki, hosts });
  const gmail = pages['webmail-gmail.html'];
  const outlook = pages['webmail-outlook.html'];
  try {
    let page = await context.newPage();
    await page.goto(gmail.url + gmail.platform_message.hash);
    await H.sleep(2000);
    assert.equal(H.entries(home).length, 0, 'opted out: nothing');

    const opts = await context.newPage();
    await opts.goto(`chrome-extension://${H.EXTENSION_ID}/src/pages/options.html`);
    await opts.waitForFunction(() => document.getElementById('autolock').value !== '');
    await opts.check('#webmail-gmail');
    await H.waitFor(async () => (await worker.evaluate(() => chrome.scripting.getRegisteredContentScripts())).some((s) => s.id === 'bantrail-mail-gmail'),
      { what: 'the Gmail script registered' });
    const registered = await worker.evaluate(() => chrome.scripting.getRegisteredContentScripts());
    assert.deepEqual(registered.map((s) => s.id), ['bantrail-mail-gmail'], 'Outlook stays off');
    await opts.close();

    await page.close();
    page = await context.newPage();   // a new document: scripts registered now apply to new loads only
    await page.goto(gmail.url + gmail.other_message.hash);
    await H.sleep(2000);
    assert.equal(H.entries(home).length, 0, 'an unrelated message: nothing');
    await page.evaluate((h) => { location.hash = h; }, gmail.platform_message.hash);
    const es = await waitEntries(home, (x) => x.some((e) => e.type === 'notice'), 'the platform message');
    await H.sleep(1000);
    const all = H.entries(home);
    const notices = all.filter((e) => e.type === 'notice');
    assert.equal(notices.length, 1);
    const n = notices[0];
    assert.equal(n.url, `mailto:${gmail.platform_message.from}`);
    assert.equal(n.classification.platform, gmail.platform_message.platform);
    assert.equal(n.classification.kind, gmail.platform_message.kind);
    assert.equal(all.filter((e) => e.type === 'attachment').length, 0, 'no screenshot of the inbox');
    const text = H.cli(home, ['show', String(n.id)]).record.text;
    for (const c of gmail.platform_message.contains) assert.ok(text.includes(c), `holds "${c}"`);
    for (const x of gmail.platform_message.excludes) assert.ok(!text.includes(x), `must not hold "${x}"`);
    assert.ok(es.length >= 1);

    // Outlook was not opted in: its platform message gives nothing.
    await page.goto(outlook.url + outlook.platform_message.hash);
    await H.sleep(2000);
    assert.equal(H.entries(home).filter((e) => e.type === 'notice').length, 1, 'Outlook not opted in: nothing more');
  } finally {
    await context.close();
  }
});
