// The pages' words about sealed captures that still wait (extension/src/pages/common.js), read from
// the real English locale file: after an unlock (its answer's waiting), and on the popup (hello's
// sealed_waiting, what the host's look while idle could not store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const en = JSON.parse(readFileSync(new URL('../../extension/_locales/en/messages.json', import.meta.url), 'utf8'));
globalThis.chrome = {
  i18n: {
    getUILanguage: () => 'en',
    getMessage: (key, subs = []) => (en[key] ? en[key].message.replace(/\$(\d)/g, (_, i) => [].concat(subs)[i - 1]) : ''),
  },
};
const { unlockedText, sealedWaitingText } = await import('../../extension/src/pages/common.js');

test('sealed captures that still wait are counted, with why', () => {
  assert.equal(sealedWaitingText(1, 'corrupt'),
    `1 sealed capture kept while the log was locked still waits, safe: ${en.err_corrupt.message} It is stored at the next unlock.`);
  assert.match(sealedWaitingText(3, 'disk_full'), /^3 sealed captures .* still wait, safe: /);
  assert.ok(sealedWaitingText(3, 'disk_full').includes(en.err_disk_full.message));
  assert.ok(sealedWaitingText(2).includes(en.err_internal.message), 'no reason given: the generic one');
});

test('none waiting, or no count, says nothing', () => {
  for (const n of [0, -1, undefined, null, '2', 1.5]) assert.equal(sealedWaitingText(n, 'disk_full'), '');
});

test('an unlock says it is unlocked, and what still waits', () => {
  assert.equal(unlockedText({ delivered: 2, waiting: 0 }), 'Unlocked.');
  assert.equal(unlockedText(undefined), 'Unlocked.');
  assert.equal(unlockedText({ waiting: 2, waiting_error: 'disk_full' }), `Unlocked. ${sealedWaitingText(2, 'disk_full')}`);
});
