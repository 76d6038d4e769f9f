// The content scripts on the page fixtures, in jsdom: which pages give a notice, with what kind,
// and that only the notice's own region is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures, fixtureHtml, runContentScripts, sleep, compiled, ROOT } from './helpers.mjs';
import { pageConfig } from '../../extension/src/core/rules.js';

const CORPUS = join(ROOT, 'tests', 'corpus');

test('each fixture has its own address (the browser tests serve them by host and path)', () => {
  const seen = new Map();
  for (const [file, f] of Object.entries(fixtures)) {
    const u = new URL(f.url);
    assert.ok(!seen.has(u.host + u.pathname), `${file} and ${seen.get(u.host + u.pathname)} share ${u.host + u.pathname}`);
    seen.set(u.host + u.pathname, file);
  }
});

test('each fixture shows the corpus entry it names, labelled as the fixture is (a notice page a notice, a trap a look-alike)', () => {
  const labels = new Map();
  for (const name of readdirSync(CORPUS).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(CORPUS, name), 'utf8').split('\n')) {
      if (line.trim()) { const e = JSON.parse(line); labels.set(e.id, e.notice); }
    }
  }
  let named = 0;
  for (const [file, f] of Object.entries(fixtures)) {
    if (!f.corpus) continue;
    named++;
    assert.ok(labels.has(f.corpus), `${file}: ${f.corpus} is no entry of tests/corpus`);
    assert.equal(labels.get(f.corpus), f.notice, `${file}: ${f.corpus} is ${labels.get(f.corpus) ? 'a notice' : 'a look-alike'} in the corpus`);
    assert.ok(fixtureHtml(file).includes(f.corpus), `${file}: its page does not mark ${f.corpus}'s wording (data-corpus)`);
  }
  assert.ok(named >= 20, `only ${named} fixtures name their corpus entry`);
});

for (const [file, f] of Object.entries(fixtures)) {
  test(`${file}: ${f.notice ? `one ${f.platform}/${f.kind} notice` : 'no notice'}`, async () => {
    const page = runContentScripts(fixtureHtml(file), f.url, { software: f.software || null });
    await sleep((f.delayed_ms || 0) + 1200);
    try {
      if (!f.notice) {
        // The trigger may pass a look-alike to the host, whose classifier says no (the browser
        // tests check that nothing is stored); at most once, and never a feed's posts.
        assert.ok(page.sent.length <= 1, JSON.stringify(page.sent));
        for (const x of f.excludes || []) assert.ok(!page.sent.some((n) => n.text.includes(x)), `must not hold "${x}"`);
        return;
      }
      // Besides the notice, only the look-alikes the fixture names (`also_sent`) may go to the
      // host, which turns them down (the browser tests check that one record is stored).
      const others = page.sent.filter((x) => (f.also_sent || []).some((a) => x.text.includes(a)));
      assert.equal(others.length, (f.also_sent || []).length, 'each look-alike named is sent once');
      assert.equal(page.sent.length - others.length, 1, 'exactly one report of the notice');
      const n = page.sent.find((x) => !others.includes(x));
      assert.equal(n.url, f.record_url || f.url);
      assert.equal(n.classification.platform, f.platform);
      assert.equal(n.lang, f.lang || 'en');
      assert.ok(!Number.isNaN(Date.parse(n.observed_at)));
      for (const c of f.contains || []) assert.ok(n.text.toLowerCase().includes(c.toLowerCase()), `holds "${c}"`);
      for (const x of f.excludes || []) assert.ok(!n.text.includes(x), `must not hold "${x}"`);
      assert.deepEqual(Object.keys(n).sort(), ['classification', 'lang', 'observed_at', 'text', 'title', 'url']);
    } finally {
      page.close();
    }
  });
}

test('the delayed Action Blocked dialog is not there at load, and is reported once it appears', async () => {
  const f = fixtures['instagram-feed-action-blocked.html'];
  const page = runContentScripts(fixtureHtml('instagram-feed-action-blocked.html'), f.url);
  await sleep(600);
  assert.equal(page.sent.length, 0, 'nothing before the dialog');
  await sleep(f.delayed_ms + 800);
  assert.equal(page.sent.length, 1);
  assert.equal(page.sent[0].classification.trigger, 'dialog');
  page.close();
});

test('a news article does not trigger even if its text were on a platform host', async () => {
  const page = runContentScripts(fixtureHtml('news-article.html'), 'https://www.instagram.com/news-copy/');
  await sleep(800);
  assert.equal(page.sent.length, 0);
  page.close();
});

test('the content script does nothing where the rules name no platform', async () => {
  assert.equal(pageConfig(compiled, fixtures['news-article.html'].url), null);
});

test('a platform turned off in the settings gets no detection', async () => {
  const f = fixtures['instagram-suspended.html'];
  const page = runContentScripts(fixtureHtml('instagram-suspended.html'), f.url, { enabled: false });
  await sleep(800);
  assert.equal(page.sent.length, 0);
  page.close();
});

test('in-page navigation (history.pushState) to a restriction page is noticed', async () => {
  const page = runContentScripts('<!doctype html><html lang="en"><title>Instagram</title><body><main><div role="feed"><article>a friend\'s post</article></div></main>',
    'https://www.instagram.com/', { pageScripts: false });
  await sleep(400);
  assert.equal(page.sent.length, 0);
  const { document, history } = page.window;
  history.pushState({}, '', '/accounts/suspended/');
  const main = document.querySelector('main');
  main.replaceChildren();
  const h = document.createElement('h1');
  h.textContent = 'We suspended your account';
  const p = document.createElement('p');
  p.textContent = 'You have 179 days left to disagree with this decision.';
  main.append(h, p);
  await sleep(1200);
  assert.equal(page.sent.length, 1);
  assert.equal(page.sent[0].url, 'https://www.instagram.com/accounts/suspended/');
  assert.equal(page.sent[0].classification.trigger, 'path');
  assert.equal(page.sent[0].classification.kind, 'suspension');
  assert.ok(!page.sent[0].text.includes("a friend's post"));
  page.close();
});

test('a hidden dialog, form fields and a post inside a dialog are never read', async () => {
  const html = `<!doctype html><html lang="en"><body>
    <div role="dialog" aria-hidden="true"><p>Action Blocked. Try again later.</p></div>
    <div role="dialog"><form><label>Reply</label><textarea>action blocked lol</textarea><input value="your account has been suspended"></form></div>
    <div role="dialog"><article><p>We suspended your account (a quote in a post)</p></article></div>
  </body></html>`;
  const page = runContentScripts(html, 'https://www.instagram.com/direct/inbox/', { pageScripts: false });
  await sleep(800);
  assert.equal(page.sent.length, 0, JSON.stringify(page.sent));
  page.close();
});

test('a banner added later in French is noticed (phrases of every language apply)', async () => {
  const page = runContentScripts('<!doctype html><html lang="fr"><body><main><div role="feed"></div></main>',
    'https://www.facebook.com/', { pageScripts: false });
  await sleep(300);
  const { document } = page.window;
  const b = document.createElement('div');
  b.setAttribute('role', 'alert');
  b.textContent = 'Votre compte a été suspendu. Vous avez 30 jours pour contester la décision.';
  document.body.prepend(b);
  await sleep(1200);
  assert.equal(page.sent.length, 1, 'one report');
  assert.equal(page.sent[0].lang, 'fr');
  assert.equal(page.sent[0].classification.trigger, 'banner');
  page.close();
});

test('in the page flow a short block with a state word goes to the host, a long one does not', async () => {
  // "Contul dvs. a fost blocat": the abbreviation's dot parts the account from its state, so no
  // sentence holds both; the host finds it all the same (corpus f14a-0120).
  const feed = Array.from({ length: 30 }, (_, i) => `<article><p>Postarea ${i}: o plimbare pe malul lacului, cu prietenii, duminică dimineața.</p></article>`).join('');
  const page = (block) => runContentScripts(`<!doctype html><html lang="ro"><body><main>${block}<div role="feed">${feed}</div></main>`,
    'https://www.facebook.com/', { pageScripts: false });
  const short = page('<div class="state">Contul dvs. a fost blocat</div>');
  const long = page(`<div class="state"><p>${'Calendarul întâlnirilor de vară, cu drumeții pe munte. '.repeat(24)}</p>Contul dvs. a fost blocat</div>`);
  await sleep(800);
  try {
    assert.equal(short.sent.length, 1, JSON.stringify(short.sent));
    assert.equal(short.sent[0].text, 'Contul dvs. a fost blocat');
    assert.equal(short.sent[0].classification.trigger, 'page');
    assert.equal(long.sent.length, 0, 'over 1,200 characters a state word alone is not enough');
  } finally {
    short.close();
    long.close();
  }
});

test('a block of the flow that becomes a toast is looked at again as a toast', async () => {
  // The same text, read first as a block of the page's flow (a state word needed), then with
  // role=status (any concept word in a short text is enough): the first verdict must not stick.
  const feed = Array.from({ length: 60 }, (_, i) => `<article><p>Post ${i}: the harbour at dawn, the ferry late again, gulls everywhere.</p></article>`).join('');
  const page = runContentScripts(`<!doctype html><html lang="en"><body><main><div id="t">Your account</div><div role="feed">${feed}</div></main>`,
    'https://www.facebook.com/', { pageScripts: false });
  try {
    await sleep(500);
    assert.equal(page.sent.length, 0, 'in the flow, no state word: not worth a look');
    page.window.document.getElementById('t').setAttribute('role', 'status');
    await sleep(800);
    assert.equal(page.sent.length, 1, JSON.stringify(page.sent));
    assert.equal(page.sent[0].classification.trigger, 'banner');
  } finally {
    page.close();
  }
});

test('many unrelated mutations cause no report and the same notice is reported once', async () => {
  const f = fixtures['x-suspended.html'];
  const page = runContentScripts(fixtureHtml('x-suspended.html'), f.url, { pageScripts: false });
  const { document } = page.window;
  const feed = document.querySelector('[role=feed]');
  for (let i = 0; i < 500; i++) {
    const a = document.createElement('article');
    a.textContent = `post ${i}: my account was suspended once`;
    feed.append(a);
    if (i % 50 === 0) await sleep(20);
  }
  await sleep(1200);
  assert.equal(page.sent.length, 1);
  page.close();
});
