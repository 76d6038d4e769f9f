// A capture's path: to the host, or kept (sealed, or held in clear in storage before any public
// key), then delivered; what the host refuses is not kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, HELD_KEY, HELD_LIMITS } from '../../extension/src/core/pipeline.js';
import { Outbox } from '../../extension/src/core/outbox.js';
import { NativeError } from '../../extension/src/core/native.js';
import { sealString, openSealed, testKeyPair } from '../../extension/src/core/seal.js';

function memoryStorage(init = {}) {
  const m = new Map(Object.entries(init).map(([k, v]) => [k, JSON.stringify(v)]));
  return { map: m, get: async (k) => (m.has(k) ? JSON.parse(m.get(k)) : undefined), set: async (k, v) => { m.set(k, JSON.stringify(v)); } };
}

/** A stand-in host: `up` decides whether it answers; `answer(method, params)` what it says. */
function fakeClient(answer, publicKey = null) {
  const c = {
    up: true, calls: [], retries: 0,
    capabilities: ['capture', 'attach', 'capture_sealed'],
    async ensure() {
      if (!c.up) throw new NativeError('host_missing');
      return { capabilities: c.capabilities, vault: publicKey ? { public_key: publicKey } : undefined };
    },
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

function make({ client, storage = memoryStorage(), memo = memoryStorage(), shot = 'iVBORw0KGgo=', screenshots = true, heldLimits, outboxLimits } = {}) {
  const outbox = new Outbox({ storage, seal: sealString, ...(outboxLimits ? { limits: outboxLimits } : {}) });
  const held = heldLimits ? new Outbox({ storage, key: HELD_KEY, limits: heldLimits }) : undefined;
  return new Pipeline({ client, outbox, held, storage, memo, screenshot: async () => shot,
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

test('a full disk keeps the capture sealed, and it is delivered once there is space; a refusal is not kept', async () => {
  const kp = await testKeyPair();
  let full = true;
  const client = fakeClient((m, params) => {
    if (full) throw new NativeError('disk_full', 'the disk is full: free some space; nothing already stored was lost');
    return hostThatStores(m, params);
  });
  const p = make({ client, storage: memoryStorage({ publicKey: kp.publicKeyB64 }) });
  assert.deepEqual(await p.capture(notice, { id: 1 }), { stored: false, queued: true });
  assert.equal((await p.waiting()).count, 1);
  assert.equal((await p.deliverAll()).error, 'disk_full');
  assert.equal((await p.waiting()).count, 1, 'still kept while the disk is full');
  full = false;
  assert.deepEqual((await p.deliverAll()).delivered, 1);
  assert.equal((await p.waiting()).count, 0);
  // the negative case: what the host refuses for itself (not the disk) is not kept
  const refusing = fakeClient(() => { throw new NativeError('bad_params', 'url'); });
  const q = make({ client: refusing, storage: memoryStorage({ publicKey: kp.publicKeyB64 }) });
  assert.equal((await q.capture(notice, { id: 1 })).error, 'bad_params');
  assert.equal((await q.waiting()).count, 0);
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

// ---- before set-up: no public key known yet ---------------------------------------------------

const raw = (storage) => [...storage.map.values()].join('');

test('host never reached (no public key): held in clear in storage, outliving the worker and the browser', async () => {
  const storage = memoryStorage(), memo = memoryStorage();
  const client = fakeClient(hostThatStores);
  client.up = false;
  const r = await make({ client, storage, memo }).capture(notice, { id: 1 });
  assert.deepEqual(r, { stored: false, queued: true });
  assert.equal((await storage.get(HELD_KEY)).items.length, 1, 'written to storage.local, not to memory');
  assert.ok(raw(storage).includes('We suspended your account'), 'in clear: there is no key to seal it to yet');
  assert.equal(await storage.get('outbox'), undefined);
  assert.equal((await memo.get('lastCapture')).waiting, true, 'the popup says a capture happened and waits');
  // A new worker, or a new browser (session memory gone), finds it.
  const w = await make({ client, storage, memo: memoryStorage() }).waiting();
  assert.deepEqual([w.held.count, w.held.lost, w.count], [1, 0, 0]);
  assert.deepEqual([w.held.maxItems, w.held.maxBytes], [HELD_LIMITS.maxItems, HELD_LIMITS.maxBytes]);
});

test('once the host answers, what was held is sealed to its public key, delivered once, and gone from clear storage', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores, kp.publicKeyB64);
  client.up = false;
  await make({ client, storage }).capture(notice, { id: 1 });
  await make({ client, storage }).event(appeal);
  const p = make({ client, storage });   // after a browser restart
  assert.equal((await p.deliverAll()).error, 'host_missing', 'still not installed: kept');
  assert.equal((await p.waiting()).held.count, 2);
  client.up = true;
  const d = await p.deliverAll();
  assert.deepEqual([d.delivered, d.remaining, d.error], [2, 0, null]);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture_sealed', 'capture_sealed'], 'each exactly once, oldest first');
  const bodies = await Promise.all(client.calls.map((c) => openSealed(c[1].sealed, kp.publicKey, kp.secretKey).then(JSON.parse)));
  assert.deepEqual(bodies[0].capture, notice);
  assert.equal(bodies[0].attachments[0].data, 'iVBORw0KGgo=', 'the screenshot was kept with it');
  assert.deepEqual(bodies[1], { v: 1, event: appeal });
  const w = await p.waiting();
  assert.deepEqual([w.held.count, w.count], [0, 0]);
  assert.ok(!raw(storage).includes('suspended') && !raw(storage).includes('never posted'), 'nothing left in clear');
  assert.equal((await p.deliverAll()).delivered, 0, 'nothing sent twice');
  assert.equal(client.calls.length, 2);
});

test('the moment a public key is known, what was held is sealed into the outbox, even with the host away', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores);
  client.up = false;
  const p = make({ client, storage });
  await p.capture(notice, { id: 1 });
  await storage.set('publicKey', kp.publicKeyB64);   // learned from a hello
  await p.capture({ ...notice, text: 'Your account is locked' }, { id: 1 });
  const w = await p.waiting();
  assert.deepEqual([w.held.count, w.count], [0, 2]);
  assert.ok(!raw(storage).includes('suspended') && !raw(storage).includes('locked'), 'nothing in clear any more');
  const items = (await storage.get('outbox')).items;
  const first = JSON.parse(await openSealed(items[0].sealed, kp.publicKey, kp.secretKey));
  assert.equal(first.capture.text, notice.text, 'the held capture comes first');
  // The same on the delivery run (the alarm), with the host still away.
  const q = make({ client, storage: memoryStorage() });
  await q.capture(notice, { id: 1 });
  await q.storage.set('publicKey', kp.publicKeyB64);
  assert.equal((await q.deliverAll()).error, 'host_missing');
  assert.deepEqual([(await q.waiting()).held.count, (await q.waiting()).count], [0, 1]);
});

test('what is held is capped: a screenshot is left out first, then captures are refused and counted', async () => {
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores);
  client.up = false;
  const shot = 'A'.repeat(3000);
  const p = make({ client, storage, shot, heldLimits: { maxItems: 3, maxBytes: 5000 } });
  const results = [];
  for (let i = 0; i < 5; i++) results.push(await p.capture({ ...notice, text: `n${i}` }, { id: 1 }));
  assert.deepEqual(results.map((r) => r.queued), [true, true, true, false, false]);
  assert.equal(results[4].error, 'outbox_full');
  const w = await p.waiting();
  assert.deepEqual([w.held.count, w.held.lost, w.held.screenshotsLeftOut], [3, 2, 2], 'the first kept its screenshot, the next two did not');
  const items = (await storage.get(HELD_KEY)).items;
  assert.equal(JSON.parse(items[1].clear).attachments_left_out, 1);
  assert.ok(w.held.bytes <= 5000);
});

test('discarding what is held removes it: nothing is delivered afterwards', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores, kp.publicKeyB64);
  client.up = false;
  const p = make({ client, storage });
  await p.capture(notice, { id: 1 });
  await p.capture({ ...notice, text: 'again' }, { id: 1 });
  assert.equal(await p.discardHeld(), 2);
  assert.ok(!raw(storage).includes('suspended'), 'gone from storage');
  assert.equal((await p.waiting()).held.count, 0);
  client.up = true;
  assert.equal((await p.deliverAll()).delivered, 0);
  assert.equal(client.calls.length, 0);
  assert.equal(await p.discardHeld(), 0, 'nothing left to discard');
});

test('an item whose removal was lost is sent again as the same box, which the host can recognise; its duplicate answer removes it', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  let killBeforeRemoval = true;
  const killing = { ...storage, set: async (k, v) => {
    if (k === 'outbox' && killBeforeRemoval && client.calls.length === 1) { killBeforeRemoval = false; throw new Error('killed'); }
    return storage.set(k, v);
  } };
  const seen = new Set();
  const client = fakeClient((m, params) => {
    if (m !== 'capture_sealed') throw new Error(m);
    if (seen.has(params.sealed)) return { duplicate: true };
    seen.add(params.sealed);
    return { id: nextId++, attachments: [] };
  }, kp.publicKeyB64);
  client.up = false;
  const p = make({ client, storage: killing });
  await p.capture(notice, { id: 1 });
  client.up = true;
  await assert.rejects(p.deliverAll(), /killed/);   // the host committed; the worker died before removing it
  assert.equal((await p.waiting()).count, 1);
  const q = make({ client, storage });   // the next worker
  const d = await q.deliverAll();
  assert.deepEqual([d.delivered, d.remaining, d.error], [1, 0, null]);
  assert.equal(client.calls.length, 2);
  assert.equal(client.calls[1][1].sealed, client.calls[0][1].sealed, 'the very same box: never sealed again');
  assert.equal((await q.waiting()).count, 0);
});

test('a worker stopped between sealing a held item into the outbox and removing it from the held queue delivers it once', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  let stopped = false;
  const stopping = { ...storage, set: async (k, v) => {
    if (k === 'held' && !stopped && (await storage.get('outbox'))?.items?.length) { stopped = true; throw new Error('stopped'); }
    return storage.set(k, v);
  } };
  const client = fakeClient(hostThatStores, kp.publicKeyB64);
  client.up = false;
  await make({ client, storage }).capture(notice, { id: 1 });
  await storage.set('publicKey', kp.publicKeyB64);
  await assert.rejects(make({ client, storage: stopping }).deliverAll(), /stopped/);   // sealed into the outbox; the removal is lost
  assert.ok(stopped);
  assert.deepEqual([(await storage.get('outbox')).items.length, (await storage.get(HELD_KEY)).items.length], [1, 1], 'in both queues');
  client.up = true;
  const p = make({ client, storage });   // the next worker
  const d = await p.deliverAll();
  assert.deepEqual([d.delivered, d.remaining], [1, 0]);
  assert.deepEqual(client.calls.map((c) => c[0]), ['capture_sealed'], 'delivered once');
  assert.equal((await p.waiting()).held.count, 0);
});

test('a full outbox leaves what was held where it is, not counted as lost', async () => {
  const kp = await testKeyPair();
  const storage = memoryStorage();
  const client = fakeClient(hostThatStores, kp.publicKeyB64);
  client.up = false;
  const p = make({ client, storage, outboxLimits: { maxItems: 1, maxBytes: 1 << 20 } });
  await p.capture(notice, { id: 1 });
  await p.capture({ ...notice, text: 'second' }, { id: 1 });
  await storage.set('publicKey', kp.publicKeyB64);
  await p.deliverAll();
  const w = await p.waiting();
  assert.deepEqual([w.count, w.held.count, w.lost, w.held.lost], [1, 1, 0, 0]);
  client.up = true;
  const d = await p.deliverAll();   // the outbox empties, then takes the rest
  assert.equal(d.delivered, 1);
  assert.equal((await p.deliverAll()).delivered, 1);
  assert.deepEqual([(await p.waiting()).count, (await p.waiting()).held.count], [0, 0]);
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

test('an appeal event the host refuses is not kept', async () => {
  const client = fakeClient(() => { throw new NativeError('bad_params', 'event'); });
  const p = make({ client });
  const r = await p.event(appeal);
  assert.deepEqual(r, { stored: false, error: 'bad_params' });
  assert.equal((await p.waiting()).count, 0);
  assert.match(p.lastError, /bad_params/);
});
