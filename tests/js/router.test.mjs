// Which messages the service worker admits, from whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admit, cleanNotice, senderKind, PAGE_TYPES } from '../../extension/src/core/router.js';

const selfId = 'bnmdnnfnpiijlnoabddbmgcfkcfcmknl';
const selfOrigin = `chrome-extension://${selfId}/`;
const platformOf = (url) => (/^https:\/\/([^/]*\.)?instagram\.com\//.test(url) ? 'instagram' : null);
const opts = { selfId, selfOrigin, platformOf };
const page = { id: selfId, url: `${selfOrigin}src/pages/popup.html` };
const content = { id: selfId, url: 'https://www.instagram.com/accounts/suspended/', tab: { id: 7, windowId: 1 } };
const notice = { url: 'https://www.instagram.com/accounts/suspended/', text: 'We suspended your account', lang: 'en', observed_at: '2026-11-25T10:00:00.000Z' };

test('our pages may use every page action', () => {
  for (const type of PAGE_TYPES) assert.deepEqual(admit({ type }, page, opts), { ok: true, kind: 'page' });
});

test('our pages may not pose as a content script and content scripts may not use page actions', () => {
  assert.equal(admit({ type: 'notice', notice }, page, opts).ok, false);
  for (const type of ['unlock', 'get', 'list', 'recovery_code', 'set_passphrase', 'settings_set']) {
    assert.equal(admit({ type, passphrase: 'x' }, content, opts).ok, false, type);
  }
});

test('a content script on a platform page may report a notice about that page', () => {
  assert.deepEqual(admit({ type: 'notice', notice }, content, opts), { ok: true, kind: 'content' });
  assert.deepEqual(admit({ type: 'page_config' }, content, opts), { ok: true, kind: 'content' });
});

test('a notice about another origin, or from a page on no platform, is refused', () => {
  assert.equal(admit({ type: 'notice', notice: { ...notice, url: 'https://evil.example/' } }, content, opts).reason, 'not_allowed');
  const elsewhere = { ...content, url: 'https://news.example/article' };
  assert.equal(admit({ type: 'notice', notice: { ...notice, url: 'https://news.example/article' } }, elsewhere, opts).reason, 'not_a_platform');
  assert.equal(admit({ type: 'page_config' }, { ...content, url: 'http://www.instagram.com/' }, opts).ok, false, 'not https');
});

test('the software probe may ask from any https page; the rest needs a platform page or a recognised tab', () => {
  const elsewhere = { ...content, url: 'https://social.riverside-town.org/home' };
  assert.deepEqual(admit({ type: 'software_probe' }, elsewhere, opts), { ok: true, kind: 'content' });
  assert.deepEqual(admit({ type: 'software_found', platform: 'mastodon' }, elsewhere, opts), { ok: true, kind: 'content' });
  assert.equal(admit({ type: 'software_found', platform: 5 }, elsewhere, opts).reason, 'bad_message');
  assert.equal(admit({ type: 'page_config' }, elsewhere, opts).reason, 'not_a_platform', 'not recognised yet');
  const recognised = { ...opts, platformOf: (url, from) => platformOf(url) || (from && from.tab.id === 7 ? 'mastodon' : null) };
  assert.deepEqual(admit({ type: 'page_config' }, elsewhere, recognised), { ok: true, kind: 'content' });
  const notice2 = { ...notice, url: 'https://social.riverside-town.org/home' };
  assert.deepEqual(admit({ type: 'notice', notice: notice2 }, elsewhere, recognised), { ok: true, kind: 'content' });
  assert.equal(admit({ type: 'software_probe' }, { ...elsewhere, url: 'http://social.riverside-town.org/' }, opts).ok, false, 'not https');
});

test('other extensions, web pages and malformed messages are refused', () => {
  assert.equal(admit({ type: 'status' }, { ...page, id: 'aaaabbbbccccddddeeeeffffgggghhhh' }, opts).reason, 'unknown_sender');
  assert.equal(admit({ type: 'status' }, { url: 'https://www.instagram.com/' }, opts).reason, 'unknown_sender');
  assert.equal(admit(null, page, opts).reason, 'bad_message');
  assert.equal(admit({ type: 42 }, page, opts).reason, 'bad_message');
  assert.equal(admit({ type: 'eval' }, page, opts).reason, 'not_allowed');
  assert.equal(admit({ type: 'notice', notice: { url: notice.url } }, content, opts).reason, 'bad_message');
  assert.equal(senderKind(undefined, selfId, selfOrigin), null);
});

test('a notice is cleaned to the fields the host takes, within its limits', () => {
  const n = cleanNotice({ ...notice, title: 'Instagram', cookie: 'secret', lang: 'en;drop', observed_at: 'yesterday', classification: { platform: 'instagram', kind: 'suspension', extra: 1 } });
  assert.deepEqual(n, { url: notice.url, text: notice.text, title: 'Instagram', classification: { platform: 'instagram', kind: 'suspension' } });
  assert.equal(cleanNotice({ url: 'u'.repeat(8193), text: 'x' }), null);
  assert.equal(cleanNotice({ url: notice.url, text: '' }), null);
});

test('a notice\'s fields are held to the host\'s limits in UTF-8 bytes, as the host counts them', async () => {
  const { LIMITS } = await import('../../extension/src/core/vocabulary.js');
  const url = 'https://www.instagram.com/accounts/suspended/';
  assert.equal(cleanNotice({ url, text: 'x', title: 't'.repeat(LIMITS.title_max) }).title.length, LIMITS.title_max);
  assert.equal(cleanNotice({ url, text: 'x', title: 'é'.repeat(LIMITS.title_max / 2 + 1) }).title, undefined, 'over in bytes');
  assert.equal(cleanNotice({ url, text: 'й'.repeat(LIMITS.text_max / 2 + 1) }), null);
  assert.ok(cleanNotice({ url, text: 'й'.repeat(LIMITS.text_max / 2) }));
});

test('only our own pages may ask to save a page as a notice, never a page\'s content script', () => {
  assert.deepEqual(admit({ type: 'save_page', tab: 7 }, page, opts), { ok: true, kind: 'page' });
  assert.equal(admit({ type: 'save_page', tab: 7 }, content, opts).ok, false);
  assert.equal(admit({ type: 'save_page', tab: 7 }, { id: 'someoneelse', url: 'https://evil.example/' }, opts).ok, false);
});
