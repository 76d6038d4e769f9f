// The log page's search and filters (extension/src/core/filter.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noticeFilter, noticeTime, fold } from '../../extension/src/core/filter.js';

const at = (iso) => Math.floor(new Date(iso).getTime() / 1000);
const notices = [
  { id: 1, type: 'notice', title: 'Compte désactivé', url: 'https://www.instagram.com/accounts/disabled/', captured_at: at('2026-03-01T10:00:00'), classification: { platform: 'instagram', kind: 'disabled' } },
  { id: 3, type: 'notice', title: 'Action Blocked', url: 'https://www.instagram.com/', captured_at: at('2026-03-05T23:30:00'), classification: { platform: 'instagram', kind: 'action_blocked' } },
  { id: 5, type: 'notice', title: '계정이 정지되었습니다', url: 'https://x.com/', captured_at: at('2026-04-02T08:00:00'), observed_at: '2026-03-31T12:00:00', classification: { platform: 'x', kind: 'suspension' } },
  { id: 7, type: 'notice', url: 'https://forum.example/t/1', captured_at: at('2026-04-10T09:00:00'), classification: {} },
];
const ids = (f) => notices.filter(f).map((n) => n.id);

test('no filter shows every notice; each filter narrows, and they combine', () => {
  assert.deepEqual(ids(noticeFilter()), [1, 3, 5, 7]);
  assert.deepEqual(ids(noticeFilter({ platform: 'instagram' })), [1, 3]);
  assert.deepEqual(ids(noticeFilter({ kind: 'suspension' })), [5]);
  assert.deepEqual(ids(noticeFilter({ platform: 'instagram', kind: 'suspension' })), []);
  assert.deepEqual(ids(noticeFilter({ platform: 'tiktok' })), []);
});

test('words match title, address, ids and labels, without case or accents, every word required', () => {
  assert.deepEqual(ids(noticeFilter({ q: 'DESACTIVE' })), [1]);
  assert.deepEqual(ids(noticeFilter({ q: 'instagram blocked' })), [3]);
  assert.deepEqual(ids(noticeFilter({ q: '정지' })), [5]);
  assert.deepEqual(ids(noticeFilter({ q: 'forum.example' })), [7]);
  assert.deepEqual(ids(noticeFilter({ q: 'suspendu' }, (n) => [n.classification.kind === 'suspension' ? 'Suspendu' : ''])), [5]);
  assert.deepEqual(ids(noticeFilter({ q: 'nowhere' })), []);
  assert.deepEqual(ids(noticeFilter({ q: '   ' })), [1, 3, 5, 7]);
});

test('days are inclusive in local time, by the date the page stated when it gave one; a malformed day is ignored', () => {
  assert.deepEqual(ids(noticeFilter({ from: '2026-03-05', to: '2026-03-05' })), [3]);   // 23:30 is still that day
  assert.deepEqual(ids(noticeFilter({ from: '2026-04-01' })), [7]);                     // 5 was shown on 31 March
  assert.deepEqual(ids(noticeFilter({ to: '2026-03-31' })), [1, 3, 5]);
  assert.deepEqual(ids(noticeFilter({ from: '2026-05-01' })), []);
  assert.deepEqual(ids(noticeFilter({ from: 'yesterday', to: '31/03/2026' })), [1, 3, 5, 7]);
  assert.equal(noticeTime(notices[2]), new Date('2026-03-31T12:00:00').getTime());
  assert.equal(noticeTime({ observed_at: 'not a date', captured_at: 10 }), 10000);
  assert.equal(fold('Ｔｅｓｔ Été'), 'test ete');
});
