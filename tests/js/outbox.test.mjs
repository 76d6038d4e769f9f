// The sealed outbox: nothing in clear, bounded, nothing dropped silently, delivered in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox, OutboxFull, OUTBOX_KEY } from '../../extension/src/core/outbox.js';
import { sealString, openSealed, testKeyPair, decodePublicKey } from '../../extension/src/core/seal.js';

function memoryStorage() {
  const m = new Map();
  return { map: m, get: async (k) => (m.has(k) ? JSON.parse(m.get(k)) : undefined), set: async (k, v) => { m.set(k, JSON.stringify(v)); } };
}

const notice = (i = 1) => ({ capture: { url: `https://www.instagram.com/accounts/suspended/?n=${i}`, text: `We suspended your account ${i}`, classification: { platform: 'instagram', kind: 'suspension' } } });

test('an item is sealed to the log\'s public key: nothing in clear, and only the secret key opens it', async () => {
  const kp = await testKeyPair();
  const st = memoryStorage();
  const ob = new Outbox({ storage: st, seal: sealString });
  await ob.add({ ...notice(), attachments: [{ mime: 'image/png', data: 'iVBORw0KGgo=' }] }, kp.publicKeyB64);
  const raw = st.map.get(OUTBOX_KEY);
  assert.ok(!raw.includes('suspended') && !raw.includes('instagram') && !raw.includes('iVBORw0KGgo'), 'no clear text stored');
  const item = JSON.parse(raw).items[0];
  const opened = JSON.parse(await openSealed(item.sealed, kp.publicKey, kp.secretKey));
  assert.equal(opened.v, 1);
  assert.equal(opened.capture.text, 'We suspended your account 1');
  assert.equal(opened.attachments[0].mime, 'image/png');
  const other = await testKeyPair();
  await assert.rejects(openSealed(item.sealed, other.publicKey, other.secretKey), 'another key cannot open it');
});

test('a tampered sealed item does not open', async () => {
  const kp = await testKeyPair();
  const s = await sealString(kp.publicKeyB64, 'x'.repeat(40));
  const bytes = Buffer.from(s, 'base64');
  bytes[bytes.length - 1] ^= 1;
  await assert.rejects(openSealed(bytes.toString('base64'), kp.publicKey, kp.secretKey));
});

test('a public key of the wrong length is refused', async () => {
  await assert.rejects(decodePublicKey(Buffer.alloc(31).toString('base64')));
  await assert.rejects(sealString(Buffer.alloc(33).toString('base64'), 'x'));
});

test('items are delivered oldest first, removed only once delivered, and a failure stops the run', async () => {
  const kp = await testKeyPair();
  const ob = new Outbox({ storage: memoryStorage(), seal: sealString });
  for (let i = 1; i <= 3; i++) await ob.add(notice(i), kp.publicKeyB64);
  const seen = [];
  let fail = 2;
  const r = await ob.deliver(async (item) => {
    const o = JSON.parse(await openSealed(item.sealed, kp.publicKey, kp.secretKey));
    if (--fail < 0) throw Object.assign(new Error('gone'), { code: 'host_missing' });
    seen.push(o.capture.text);
  });
  assert.deepEqual(seen, ['We suspended your account 1', 'We suspended your account 2']);
  assert.equal(r.delivered, 2);
  assert.equal(r.remaining, 1);
  assert.equal(r.error.code, 'host_missing');
  assert.equal((await ob.status()).count, 1, 'the undelivered one is kept');
  const r2 = await ob.deliver(async () => {});
  assert.deepEqual([r2.delivered, r2.remaining], [1, 0]);
});

test('when full, the screenshot is left out first, then captures are refused and counted as lost', async () => {
  const kp = await testKeyPair();
  const ob = new Outbox({ storage: memoryStorage(), seal: sealString, limits: { maxItems: 3, maxBytes: 3000 } });
  const big = { mime: 'image/png', data: 'A'.repeat(4000) };
  const r1 = await ob.add({ ...notice(1), attachments: [big] }, kp.publicKeyB64);
  assert.equal(r1.screenshotLeftOut, true);
  await ob.add(notice(2), kp.publicKeyB64);
  await ob.add(notice(3), kp.publicKeyB64);
  await assert.rejects(ob.add(notice(4), kp.publicKeyB64), OutboxFull);
  const s = await ob.status();
  assert.deepEqual([s.count, s.lost, s.screenshotsLeftOut], [3, 1, 1]);
  const first = (await new Promise((ok) => ob.deliver(async (it) => { ok(it); throw new Error('stop'); })));
  const opened = JSON.parse(await openSealed(first.sealed, kp.publicKey, kp.secretKey));
  assert.equal(opened.attachments_left_out, 1, 'the host is told a screenshot was left out');
});

test('concurrent adds are all kept', async () => {
  const kp = await testKeyPair();
  const ob = new Outbox({ storage: memoryStorage(), seal: sealString });
  await Promise.all(Array.from({ length: 20 }, (_, i) => ob.add(notice(i), kp.publicKeyB64)));
  assert.equal((await ob.status()).count, 20);
});
