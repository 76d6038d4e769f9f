// "Save this page as a notice" (extension/src/core/savepage.js): what the worker sends for a page
// the person saves by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualNotice, isWebPage } from '../../extension/src/core/savepage.js';
import { LIMITS } from '../../extension/src/core/vocabulary.js';

const enc = (s) => new TextEncoder().encode(s).length;

test('a web page becomes a manual capture of its visible text, title, language and platform', () => {
  const n = manualNotice('https://www.example.com/home', { text: '  Your access has ended.  \n\n\n\nContact us.  ', title: 'Home', lang: 'en-GB' }, 'instagram');
  assert.deepEqual(n, { url: 'https://www.example.com/home', text: 'Your access has ended.\n\nContact us.', manual: true,
    title: 'Home', lang: 'en-GB', classification: { platform: 'instagram' } });
  // no platform known: the host's classifier names it from the text
  assert.equal(manualNotice('http://forum.example/t/1', { text: 'x' }, null).classification, undefined);
});

test('browser, extension and file pages, bad URLs and empty pages are refused by name', () => {
  for (const url of ['chrome://settings', 'chrome-extension://abc/src/pages/log.html', 'about:blank', 'file:///etc/passwd', 'not a url', '']) {
    assert.equal(isWebPage(url), false, url);
    assert.throws(() => manualNotice(url, { text: 'Your account has been suspended' }), { code: 'not_a_web_page' });
  }
  for (const snap of [null, {}, { text: '' }, { text: ' \n\t ' }, { text: 42 }]) {
    assert.throws(() => manualNotice('https://x.example/', snap), { code: 'empty_page' });
  }
});

test('a page longer than a capture may be is cut to the limit, never inside a character; a bad language is dropped', () => {
  const text = '계정'.repeat(LIMITS.text_max);   // 6 bytes a repeat: far over
  const n = manualNotice('https://x.example/', { text: text + '😀', title: 't'.repeat(LIMITS.title_max + 5), lang: 'en GB<script>' });
  assert.ok(enc(n.text) <= LIMITS.text_max && enc(n.text) > LIMITS.text_max - 6);
  assert.ok(text.startsWith(n.text));
  assert.equal(n.title.length, LIMITS.title_max);
  assert.equal(n.lang, undefined);
  const emoji = manualNotice('https://x.example/', { text: '😀'.repeat(LIMITS.text_max) });
  assert.ok(!/[\uD800-\uDBFF]$/.test(emoji.text) && enc(emoji.text) <= LIMITS.text_max);
});
