import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitiseSettings, platformEnabled, DEFAULTS } from '../../extension/src/core/settings.js';
import { passphraseStrength } from '../../extension/src/core/strength.js';

test('settings default to screenshots on, every platform on, auto-lock after 15 minutes', () => {
  const s = sanitiseSettings(undefined);
  assert.deepEqual(s, { screenshots: true, platforms: {}, autoLockMinutes: 15, appealText: false, webmail: {}, announce: true });
  assert.equal(platformEnabled(s, 'instagram'), true);
  assert.equal(DEFAULTS.autoLockMinutes, 15);
});

test('settings keep only valid values', () => {
  const s = sanitiseSettings({ screenshots: false, platforms: { x: false, 'Bad Id': false, y: 'no' }, autoLockMinutes: 5000, evil: 1, announce: 'no' });
  assert.deepEqual(s, { screenshots: false, platforms: { x: false }, autoLockMinutes: 15, appealText: false, webmail: {}, announce: true });
  assert.equal(sanitiseSettings({ announce: false }).announce, false);
  assert.equal(platformEnabled(s, 'x'), false);
  assert.equal(sanitiseSettings({ autoLockMinutes: 60 }).autoLockMinutes, 60);
  assert.equal(sanitiseSettings({ autoLockMinutes: 1.5 }).autoLockMinutes, 15);
});

test('the strength hint: short is 0, common words are weak, long passphrases are strong', () => {
  assert.equal(passphraseStrength('').score, 0);
  assert.equal(passphraseStrength('abc1234').score, 0);
  assert.equal(passphraseStrength('password123').score, 1);
  assert.equal(passphraseStrength('aaaaaaaaaaaa').score, 1);
  assert.ok(passphraseStrength('correct horse battery staple river').score >= 3);
  assert.equal(passphraseStrength('T7#kq!v9Lz@2mW$e').score, 4);
  assert.ok(passphraseStrength('비밀번호는 쉽지 않아요 정말로').score >= 3);
});
