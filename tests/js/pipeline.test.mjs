// A capture's path: to the host, or kept (sealed, or in memory before any public key), then
// delivered; what the host refuses is not kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, UNSEALED_MAX } from '../../extension/src/core/pipeline.js';
import { Outbox } from '../../extension/src/core/outbox.js';
import { NativeError } from '../../extension/src/core/native.js';
import { sealString, openSealed, testKeyPair } from '../../extension/src/core/seal.js';

function memoryStorage(init = {}) {
  const m = new Map(Object.entries(init).map(([k, v]) => [k, JSON.stringify(v)]));
  return { map: m, get: async (k) => (m.has(k) ? JSON.parse(m.get(k)) : undefined), set: async (k, v) => { m.set(k, JSON.stringify(v)); } };
}

/** A stand-in host: `up` decides whether it answers; `answer(method, params)` what it says. */
function fakeClient(answer) {
  const c = {
    up: true, calls: [], retries: 0,
    capabilities: ['capture', 'attach', 'capture_sealed'],
    async ensure() { if (!c.up) throw new NativeError('host_missing'); return { capabilities: c.capabilities }; },
    async call(method, params) {
      await c.ensure();
      c.calls.push([method, params]);
      return answer(method, params);
    },
    scheduleRetry() { c.retries++; },
  };
  return c;
}

let nextId = 1;
const hostThatStores = (method, params) => {
  if (method === 'capture') return { stored: true, id: nextId++, occurrence: false, classification: { notice: true, platform: 'instagram', kind: 'suspension' } };
  if (method === 'attach') return { id: nextId++, size: 3 };
  if (method === 'capture_sealed') return { id: nextId++, attachments: [] };
  throw new Error(method);
};
const notice = { url: 'https://www.instagram.com/accounts/suspended/', text: 'We suspended your account', classification: { platform: 'instagram', kind: 'suspension' } };

function make({ client, storage = memoryStorage(), memo = memoryStorage(), shot = 'iVBORw0KGgo=', screenshots = true } = {}) {
  const outbox = new Outbox({ storage, seal: sealString });
  return new Pipeline({ client, outbox, storage, memo, screenshot: async () => shot,
    settings: async () => ({ screenshots }) });
}

test('a notice goes to the host with its screenshot attached to the new record', async () => {
  const client = fakeClient(hostThatStores);
  const p = make({ client });
  const r = await p.capture(notice, { id: 1 });
  assert.equal(r.stored, true);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture', 'attach']);
  assert.equal(client.calls[1][1].record, r.id);
  assert.equal(client.calls[1][1].mime, 'image/png');
  assert.equal((await p.memo.get('lastCapture')).kind, 'suspension');
  assert.equal(await p.storage.get('lastCapture'), undefined, 'what was captured is never written to disk');
});

test('no screenshot when the setting is off', async () => {
  const client = fakeClient(hostThatStores);
  await make({ client, screenshots: false }).capture(notice, { id: 1 });
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture']);
});

test('what the host does not take for a notice is not stored, and its screenshot is dropped', async () => {
  const client = fakeClient((m) => (m === 'capture' ? { stored: false, classification: { notice: false } } : assert.fail(m)));
  const p = make({ client });
  const r = await p.capture(notice, { id: 1 });
  assert.deepEqual([r.stored, r.id], [false, null]);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture']);
  assert.equal((await p.waiting()).count, 0, 'nothing kept');
  assert.equal(await p.memo.get('lastCapture'), undefined);
});

test('the same notice again is an occurrence: no second screenshot', async () => {
  const client = fakeClient((m) => (m === 'capture' ? { stored: true, id: 4, occurrence: true, entry: 9 } : assert.fail(m)));
  const r = await make({ client }).capture(notice, { id: 1 });
  assert.deepEqual([r.stored, r.id, r.occurrence], [true, 4, true]);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture']);
});

test('host away, public key known: sealed in the outbox, nothing in clear, delivered with capture_sealed when back', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage({ publicKey: kp.publicKeyB64 });
  const client = fakeClient(hostThatStores);
  const p = make({ client, storage });
  client.up = false;
  const r = await p.capture(notice, { id: 1 });
  assert.deepEqual(r, { stored: false, queued: true });
  assert.equal(client.retries, 1, 'a retry is scheduled');
  const raw = [...storage.map.values()].join('');
  assert.ok(!raw.includes('suspended') && !raw.includes('iVBORw0KGgo'), 'nothing in clear in storage');
  assert.equal((await p.waiting()).count, 1);
  client.up = true;
  const d = await p.deliverAll();
  assert.deepEqual([d.delivered, d.remaining, d.error], [1, 0, null]);
  const [method, params] = client.calls.at(-1);
  assert.equal(method, 'capture_sealed');
  const body = JSON.parse(await openSealed(params.sealed, kp.publicKey, kp.secretKey));
  assert.deepEqual(body.capture, notice);
  assert.equal(body.attachments[0].data, 'iVBORw0KGgo=');
  assert.equal((await p.waiting()).count, 0);
});

test('a host without capture_sealed keeps the sealed items: nothing lost', async () => {
  const kp = await testKeyPair();
  const client = fakeClient(hostThatStores);
  client.capabilities = ['capture', 'attach'];
  const p = make({ client, storage: memoryStorage({ publicKey: kp.publicKeyB64 }) });
  client.up = false;
  await p.capture(notice, { id: 1 });
  client.up = true;
  const d = await p.deliverAll();
  assert.equal(d.error, 'host_too_old');
  assert.equal((await p.waiting()).count, 1);
  assert.match(p.lastError, /capture_sealed/);
});

test('a locked log keeps sealed items until it is unlocked', async () => {
  const kp = await testKeyPair();
  let locked = true;
  const client = fakeClient((m, params) => {
    if (m === 'capture_sealed' && locked) throw new NativeError('locked', 'the log is locked');
    return hostThatStores(m, params);
  });
  const p = make({ client, storage: memoryStorage({ publicKey: kp.publicKeyB64 }) });
  client.up = false;
  await p.capture(notice, { id: 1 });
  client.up = true;
  assert.equal((await p.deliverAll()).error, 'locked');
  assert.equal((await p.waiting()).count, 1);
  locked = false;
  assert.equal((await p.deliverAll()).delivered, 1);
});

test('host never reached (no public key): kept in memory only, delivered through capture and attach', async () => {
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores);
  const p = make({ client, storage });
  client.up = false;
  await p.capture(notice, { id: 1 });
  assert.equal(storage.map.size, 0, 'nothing written to extension storage');
  assert.equal((await p.waiting()).unsealed, 1);
  client.up = true;
  assert.equal((await p.deliverAll()).delivered, 1);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture', 'attach']);
  assert.equal((await p.waiting()).unsealed, 0);
});

test('what waits unsealed outlives the worker (session memory), never reaching persistent storage', async () => {
  const storage = memoryStorage(), memo = memoryStorage();
  const client = fakeClient(hostThatStores);
  const before = make({ client, storage, memo });
  client.up = false;
  await before.capture(notice, { id: 1 });
  assert.equal(storage.map.size, 0, 'nothing written to extension storage');
  const after = make({ client, storage, memo });   // the worker stopped when idle and started again
  assert.equal((await after.waiting()).unsealed, 1);
  client.up = true;
  assert.equal((await after.deliverAll()).delivered, 1);
  assert.equal((await make({ client, storage, memo }).waiting()).unsealed, 0, 'delivered: gone from memory too');
  assert.equal((await make({ client, storage, memo: memoryStorage() }).waiting()).unsealed, 0, 'a new browser session starts empty');
});

test('beyond the in-memory bound captures are counted as lost, not dropped silently', async () => {
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores);
  const p = make({ client, storage });
  client.up = false;
  for (let i = 0; i < UNSEALED_MAX + 2; i++) await p.capture({ ...notice, text: `n${i}` }, { id: 1 });
  const w = await p.waiting();
  assert.deepEqual([w.unsealed, w.lostUnsealed], [UNSEALED_MAX, 2]);
});

test('an attach that fails while the host goes away is kept for the record', async () => {
  const kp = await testKeyPair();
  const client = fakeClient((m, params) => {
    if (m === 'attach') throw new NativeError('disconnected');
    return hostThatStores(m, params);
  });
  const p = make({ client, storage: memoryStorage({ publicKey: kp.publicKeyB64 }) });
  const r = await p.capture(notice, { id: 1 });
  assert.equal(r.stored, true);
  assert.equal((await p.waiting()).count, 1, 'the screenshot waits, sealed, for its record');
});

test('a capture the host refuses as malformed is not kept and is reported', async () => {
  const client = fakeClient(() => { throw new NativeError('bad_params', 'text'); });
  const p = make({ client });
  const r = await p.capture(notice, { id: 1 });
  assert.equal(r.error, 'bad_params');
  assert.match(p.lastError, /bad_params/);
});

// ---- appeal events -----------------------------------------------------------------------------

const appeal = { event: 'appeal_submitted', platform: 'instagram', at: 1764000000, manual: false, note: 'I never posted that' };
const hostThatAddsEvents = (method, params) => {
  if (method === 'event_add') return { id: nextId++, at: params.at, case: null };
  if (method === 'capture_sealed') return { id: nextId++, at: 1764000000, case: null };
  throw new Error(method);
};

test('an appeal event goes to the host at once when it is there', async () => {
  const client = fakeClient(hostThatAddsEvents);
  const p = make({ client });
  const r = await p.event(appeal);
  assert.equal(r.at, appeal.at);
  assert.deepEqual(client.calls, [['event_add', appeal]]);
  assert.equal((await p.waiting()).count, 0);
});

test('host away, public key known: the appeal event is sealed in the outbox and delivered when back', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage({ publicKey: kp.publicKeyB64 });
  const client = fakeClient(hostThatAddsEvents);
  const p = make({ client, storage });
  client.up = false;
  assert.deepEqual(await p.event(appeal), { stored: false, queued: true });
  const raw = [...storage.map.values()].join('');
  assert.ok(!raw.includes('never posted') && !raw.includes('appeal_submitted'), 'nothing in clear in storage');
  assert.equal((await storage.get('outbox')).items[0].kind, 'event');
  client.up = true;
  const d = await p.deliverAll();
  assert.deepEqual([d.delivered, d.remaining, d.error], [1, 0, null]);
  const [method, params] = client.calls.at(-1);
  assert.equal(method, 'capture_sealed');
  assert.deepEqual(JSON.parse(await openSealed(params.sealed, kp.publicKey, kp.secretKey)), { v: 1, event: appeal });
});

test('host never reached: the appeal event waits in memory and is sent as event_add', async () => {
  const storage = memoryStorage();
  const client = fakeClient(hostThatAddsEvents);
  const p = make({ client, storage });
  client.up = false;
  await p.event(appeal);
  assert.equal(storage.map.size, 0, 'nothing written to extension storage');
  client.up = true;
  assert.equal((await p.deliverAll()).delivered, 1);
  assert.deepEqual(client.calls.at(-1), ['event_add', appeal]);
});

test('an appeal event the host refuses is not kept', async () => {
  const client = fakeClient(() => { throw new NativeError('bad_params', 'event'); });
  const p = make({ client });
  const r = await p.event(appeal);
  assert.deepEqual(r, { stored: false, error: 'bad_params' });
  assert.equal((await p.waiting()).count, 0);
  assert.match(p.lastError, /bad_params/);
});
