// The appeal-form watcher (extension/src/content/appeal.js) on the fixtures, in jsdom: a submitted
// appeal form is reported once with its time, the text only when the person opted in; other
// buttons and forms are not appeals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM, VirtualConsole } from 'jsdom';
import { FIXTURES, compiled, contentScripts, fixtureHtml, sleep } from './helpers.mjs';
import { pageConfig, appealConfig } from '../../extension/src/core/rules.js';
import { cleanAppeal, admit } from '../../extension/src/core/router.js';

const appealFixtures = JSON.parse(readFileSync(join(FIXTURES, 'appeal-fixtures.json'), 'utf8')).pages;
/** Runs the content scripts on `html` at `url`; collects what they send. */
function run(html, url, { includeText = false } = {}) {
  const dom = new JSDOM(html, { url, runScripts: 'outside-only', pretendToBeVisual: true, virtualConsole: new VirtualConsole() });
  const { window } = dom;
  const sent = [];
  const cfg = pageConfig(compiled, url);
  window.chrome = { runtime: { sendMessage: async (msg) => {
    const m = JSON.parse(JSON.stringify(msg));
    if (m.type === 'page_config') return { ...cfg, enabled: true, appeal: { ...appealConfig(compiled, cfg.platform), includeText } };
    sent.push(m);
    return { id: sent.length };
  } } };
  // jsdom does not navigate on submit: a submitted form shows up as the submit event only.
  window.HTMLFormElement.prototype.submit = function () {};
  for (const s of contentScripts) window.eval(s);
  return { window, document: window.document, sent, appeals: () => sent.filter((m) => m.type === 'appeal_submitted'), close: () => window.close() };
}

function submit(page, form, button) {
  const { window } = page;
  // Clicking a submit button fires click, then (valid form) submit with the submitter.
  button.dispatchEvent(new window.MouseEvent('click', { bubbles: true, cancelable: true }));
  const ev = new window.SubmitEvent('submit', { bubbles: true, cancelable: true, submitter: button });
  ev.preventDefault();
  form.dispatchEvent(ev);
}

test('the rules have an appeal_forms section the extension compiles', () => {
  const a = appealConfig(compiled, 'instagram');
  assert.ok(a.paths.length > 0 && a.context.includes('appeal') && a.submitLabels.includes('submit appeal'));
  assert.deepEqual(appealConfig(compiled, 'no-such-platform').paths, []);
});

test('submitting the Instagram appeal form is reported once, with its time and no text by default', async () => {
  const f = appealFixtures['instagram-appeal-form.html'];
  const page = run(fixtureHtml('instagram-appeal-form.html'), f.url);
  await sleep(50);
  const doc = page.document;
  doc.getElementById('why').value = 'I make pottery videos; nothing here is fake. MY-PRIVATE-WORDS';
  const before = Date.now();
  submit(page, doc.getElementById('appeal'), doc.getElementById('send'));
  submit(page, doc.getElementById('appeal'), doc.getElementById('send'));   // a double click: one appeal
  await sleep(20);
  const a = page.appeals();
  assert.equal(a.length, 1, JSON.stringify(page.sent));
  assert.deepEqual(Object.keys(a[0].appeal), ['at']);
  assert.ok(Date.parse(a[0].appeal.at) >= before - 1000 && Date.parse(a[0].appeal.at) <= Date.now());
  assert.ok(!JSON.stringify(page.sent).includes('MY-PRIVATE-WORDS'), 'the text stays out when not opted in');
  // The form's own text may be offered to the host, whose classifier says no (e2e_appeal checks
  // that nothing is stored); never more than once.
  assert.ok(page.sent.filter((m) => m.type === 'notice').length <= 1, 'the form page is offered at most once');
  page.close();
});

test('with the opt-in, the text the person wrote goes with it', async () => {
  const f = appealFixtures['instagram-appeal-form.html'];
  const page = run(fixtureHtml('instagram-appeal-form.html'), f.url, { includeText: true });
  await sleep(50);
  page.document.getElementById('why').value = 'I make pottery videos; nothing here is fake.';
  submit(page, page.document.getElementById('appeal'), page.document.getElementById('send'));
  await sleep(20);
  const a = page.appeals();
  assert.equal(a.length, 1);
  assert.equal(a[0].appeal.note, 'I make pottery videos; nothing here is fake.');
  assert.deepEqual(cleanAppeal(a[0].appeal), a[0].appeal);
  page.close();
});

test('other buttons on appeal pages are not appeals: Cancel, Disagree with decision, Log out', async () => {
  const f = appealFixtures['instagram-appeal-form.html'];
  const page = run(fixtureHtml('instagram-appeal-form.html'), f.url);
  await sleep(50);
  page.document.getElementById('cancel').click();
  const sus = run(fixtureHtml('instagram-suspended.html'), 'https://www.instagram.com/accounts/suspended/?next=%2F');
  await sleep(50);
  for (const b of sus.document.querySelectorAll('button')) b.click();
  await sleep(20);
  assert.equal(page.appeals().length, 0);
  assert.equal(sus.appeals().length, 0);
  page.close();
  sus.close();
});

test('a "request a review" dialog anywhere on the platform counts; a comment form with a Send button does not', async () => {
  const html = `<!doctype html><html lang="en"><body><main>
    <form id="comment"><label for="c">Add a comment</label><input id="c" value="appeal to reason"><button id="post" type="submit">Send</button></form>
    <div role="dialog" aria-modal="true"><h2>Request a review</h2><p>Tell us why you think we made a mistake.</p>
      <textarea id="w"></textarea><button id="rr" type="button">Request review</button></div></main></body></html>`;
  const page = run(html, 'https://www.instagram.com/');
  await sleep(50);
  submit(page, page.document.getElementById('comment'), page.document.getElementById('post'));
  assert.equal(page.appeals().length, 0, 'a comment is not an appeal');
  page.document.getElementById('rr').click();
  await sleep(20);
  assert.equal(page.appeals().length, 1);
  page.close();
});

test('the worker admits appeal_submitted only from a platform page, well formed', () => {
  const opts = { selfId: 'me', selfOrigin: 'chrome-extension://me/', platformOf: (u) => (u.includes('instagram.com') ? 'instagram' : null) };
  const sender = { id: 'me', url: 'https://www.instagram.com/accounts/appeal/', tab: { id: 3 } };
  assert.equal(admit({ type: 'appeal_submitted', appeal: { at: new Date().toISOString() } }, sender, opts).ok, true);
  assert.equal(admit({ type: 'appeal_submitted', appeal: { at: 'soon' } }, sender, opts).ok, false);
  assert.equal(admit({ type: 'appeal_submitted', appeal: { at: new Date().toISOString() } }, { ...sender, url: 'https://evil.example/' }, opts).ok, false);
  assert.equal(admit({ type: 'event_add', event: 'appeal_submitted' }, sender, opts).ok, false, 'a content script cannot add events by hand');
});
