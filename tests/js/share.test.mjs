// Sharing with a union, the extension's side (extension/src/core/share.js): what the pages may
// ask, the parameters rebuilt for the host, and the report in plain words in every language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARE_TYPES, shareParams, cleanContext, parseUnionEntry, reportWords } from '../../extension/src/core/share.js';
import { admit } from '../../extension/src/core/router.js';
import { EXT } from './helpers.mjs';

const ENTRY = { v: 1, id: 'test-union', name: 'Test union', homepage: 'https://u.example/', submit_url: 'https://u.example/v1/reports',
  public_key: 'W/Vcc7guviK+gPNDBmevVw+uJVamQV5rMNQGUwCqlH0=', key_id: '0011223344556677', pow_difficulty: 16, policy_url: 'https://u.example/policy' };

test('share types are for our pages only, never for a content script', () => {
  const opts = { selfId: 'me', selfOrigin: 'chrome-extension://me/', platformOf: () => 'instagram' };
  const page = { id: 'me', url: 'chrome-extension://me/src/pages/share.html' };
  const content = { id: 'me', url: 'https://www.instagram.com/', tab: { id: 1 } };
  for (const type of SHARE_TYPES) {
    assert.deepEqual(admit({ type }, page, opts), { ok: true, kind: 'page' }, type);
    assert.equal(admit({ type }, content, opts).ok, false, type);
  }
});

test('the context keeps only values from the closed lists', () => {
  assert.deepEqual(cleanContext({ account_type: 'creator', paid_verification: false, country: 'DE', handle: '@me' }),
    { account_type: 'creator', paid_verification: false, country: 'DE' });
  assert.deepEqual(cleanContext({ account_type: 'admin', paid_verification: 'yes', country: 'de' }), {});
  assert.deepEqual(cleanContext(null), {});
});

test('report_queue needs confirm: true and the previewed JSON; parameters are rebuilt', () => {
  const base = { type: 'report_queue', case: 3, union: 'demo', context: { country: 'FR', extra: 1 }, json: '{"v":1}' };
  assert.throws(() => shareParams({ ...base, confirm: 'yes' }), { code: 'bad_params' });
  assert.throws(() => shareParams({ ...base, confirm: true, json: '' }), { code: 'bad_params' });
  assert.deepEqual(shareParams({ ...base, confirm: true, evil: 1 }), { case: 3, union: 'demo', context: { country: 'FR' }, confirm: true, json: '{"v":1}' });
  assert.deepEqual(shareParams({ type: 'report_preview', case: 3, union: 'demo' }), { case: 3, union: 'demo' });
  assert.throws(() => shareParams({ type: 'report_preview', case: 0, union: 'demo' }), { code: 'bad_params' });
  assert.throws(() => shareParams({ type: 'report_preview', case: 1, union: 'Demo Union' }), { code: 'bad_params' });
  assert.deepEqual(shareParams({ type: 'report_withdraw', id: 9 }), { id: 9 });
  assert.throws(() => shareParams({ type: 'report_get', id: -1 }), { code: 'bad_params' });
  assert.deepEqual(shareParams({ type: 'case_get', record: 4 }), { record: 4, limit: 1 });
});

test('a union entry is parsed from text, with every member and nothing else', () => {
  assert.deepEqual(parseUnionEntry(JSON.stringify(ENTRY)), ENTRY);
  assert.deepEqual(shareParams({ type: 'union_import', entry: ENTRY }), { entry: ENTRY });
  assert.throws(() => parseUnionEntry('{not json'), { code: 'bad_params' });
  assert.throws(() => parseUnionEntry(JSON.stringify({ ...ENTRY, extra: 1 })), /unknown member extra/);
  // a union that issues membership tokens: both members, or neither
  const member = { ...ENTRY, tokens: 'required', token_key: 'W/Vcc7guviK+gPNDBmevVw+uJVamQV5rMNQGUwCqlH0=' };
  assert.deepEqual(parseUnionEntry(JSON.stringify(member)), member);
  assert.throws(() => parseUnionEntry(JSON.stringify({ ...ENTRY, tokens: 'required' })), /missing token_key/);
  assert.throws(() => parseUnionEntry(JSON.stringify({ ...member, tokens: 3 })), /bad tokens/);
  const { key_id, ...noKey } = ENTRY;
  assert.throws(() => parseUnionEntry(noKey), /missing key_id/);
  assert.throws(() => parseUnionEntry({ ...ENTRY, pow_difficulty: '16' }), /bad pow_difficulty/);
});

test('the plain words cover every value of the schema, in en, fr and ko', () => {
  const locales = Object.fromEntries(['en', 'fr', 'ko'].map((l) => [l, JSON.parse(readFileSync(join(EXT, '_locales', l, 'messages.json'), 'utf8'))]));
  const reports = [];
  for (const duration of ['not_stated', 'lt_24h', '1d_3d', '3d_7d', '7d_30d', '30d_90d', 'ge_90d', 'permanent']) {
    for (const offered of ['yes', 'no', 'unknown']) {
      reports.push({ platform: 'instagram', kind: 'suspension', stated: { keywords: [] }, week: '2026-W10', duration, appeal: { offered, submitted: false } });
    }
  }
  for (const [outcome, delay] of [['pending', 'none'], ['rejected', 'lt_10m'], ['reinstated', '10m_1h'], ['partially_reinstated', '1h_24h'],
    ['rejected', '1d_7d'], ['rejected', '7d_30d'], ['rejected', 'ge_30d']]) {
    for (const account_type of ['personal', 'business', 'creator']) {
      reports.push({ platform: 'x', kind: 'disabled', stated: { category: 'STATEMENT_CATEGORY_SCAMS_AND_FRAUD', keywords: ['KEYWORD_PHISHING'] },
        week: '2026-W11', duration: 'permanent', appeal: { offered: 'yes', submitted: true, outcome, response_delay: delay },
        context: { account_type, paid_verification: true, country: 'KR' } });
    }
  }
  for (const r of reports) {
    for (const w of reportWords(r)) {
      for (const [l, m] of Object.entries(locales)) {
        assert.ok(m[w.key], `${l}: ${w.key}`);
        for (const s of w.subs) if (s.msg) assert.ok(m[s.msg], `${l}: ${s.msg}`);
      }
    }
  }
  const w = reportWords(reports.at(-1)).map((x) => x.key);
  assert.deepEqual(w, ['wordsWhat', 'wordsCategory', 'wordsKeyword', 'wordsDuration', 'wordsOffered', 'wordsAppeal', 'wordsAccountType', 'wordsPaidYes', 'wordsCountry', 'wordsNever']);
});
