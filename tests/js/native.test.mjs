// The native port client, against a scripted stand-in for bantrail-host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeClient, NativeError, backoffDelay } from '../../extension/src/core/native.js';

/** A fake port whose host answers with `answer(request)` (undefined = never answers). */
function fakeHost(answer, { missing = false, firefox = false } = {}) {
  const h = { connects: 0, requests: [], ports: [], lastError: null };
  h.connect = () => {
    h.connects++;
    const msgL = [], discL = [];
    const port = {
      onMessage: { addListener: (f) => msgL.push(f) },
      onDisconnect: { addListener: (f) => discL.push(f) },
      postMessage: (m) => {
        h.requests.push(m);
        const r = answer(m);
        if (r !== undefined) queueMicrotask(() => msgL.forEach((f) => f({ id: m.id, ...r })));
      },
      disconnect: () => {},
      // Chromium says why in runtime.lastError, Firefox in the port's `error`.
      kill: (why) => { if (firefox) port.error = { message: why }; else h.lastError = why; discL.forEach((f) => f(port)); },
    };
    h.ports.push(port);
    if (missing) queueMicrotask(() => port.kill(firefox ? 'No such native application org.bantrail.host' : 'Specified native messaging host not found.'));
    return port;
  };
  return h;
}

const hello = { result: { protocol: 1, capabilities: ['capture'], vault: { state: 'unprotected', public_key: 'x' } } };

test('the first call says hello, and replies are matched to requests by id', async () => {
  const host = fakeHost((m) => (m.method === 'hello' ? hello : { result: { echo: m.params.n } }));
  const c = new NativeClient({ connect: host.connect, lastError: () => host.lastError });
  const rs = await Promise.all([1, 2, 3].map((n) => c.call('capture', { n })));
  assert.deepEqual(rs.map((r) => r.echo), [1, 2, 3]);
  assert.equal(host.connects, 1, 'one port');
  assert.equal(host.requests[0].method, 'hello');
  assert.equal(new Set(host.requests.map((r) => r.id)).size, host.requests.length, 'ids are unique');
  assert.equal(c.state, 'connected');
});

test('every answer that wrote is noted (onAcknowledged), a late one too; others are not', async () => {
  const log = { entry: 7, head: 'ab'.repeat(32) };
  const host = fakeHost((m) => (m.method === 'hello' ? hello : m.method === 'capture' ? { result: { id: 7, log } } : { result: {} }));
  const noted = [];
  const c = new NativeClient({ connect: host.connect, lastError: () => host.lastError, onAcknowledged: (l) => noted.push(l) });
  await c.call('capture', {});
  await c.call('list', {});
  assert.deepEqual(noted, [log]);
  // an answer that comes after its call gave up waiting (no one to resolve) is still noted
  c._onMessage(c._port, { id: 999, result: { log: { entry: 8, head: 'cd'.repeat(32) } } });
  assert.equal(noted.length, 2);
});

test('replies out of order still reach their callers', async () => {
  let held = [];
  const host = fakeHost((m) => {
    if (m.method === 'hello') return hello;
    held.push(m);
    return undefined;
  });
  const c = new NativeClient({ connect: host.connect });
  const a = c.call('get', { id: 1 });
  const b = c.call('get', { id: 2 });
  await new Promise((r) => setTimeout(r, 10));
  const port = host.ports[0];
  // answer b first, then a
  const listeners = [];
  port.onMessage.addListener = (f) => listeners.push(f);
  assert.equal(held.length, 2);
  // deliver through the client's own handler
  c._onMessage(port, { id: held[1].id, result: 'b' });
  c._onMessage(port, { id: held[0].id, result: 'a' });
  assert.equal(await a, 'a');
  assert.equal(await b, 'b');
});

test('an error reply becomes a NativeError with the host\'s code', async () => {
  const host = fakeHost((m) => (m.method === 'hello' ? hello : { error: { code: 'locked', message: 'the log is locked' } }));
  const c = new NativeClient({ connect: host.connect });
  await assert.rejects(c.call('list'), (e) => e instanceof NativeError && e.code === 'locked');
});

test('a missing host is reported as host_missing and state "missing"', async () => {
  const host = fakeHost(() => hello, { missing: true });
  const states = [];
  const c = new NativeClient({ connect: host.connect, lastError: () => host.lastError, onState: (s) => states.push(s) });
  await assert.rejects(c.call('capture', {}), (e) => e.code === 'host_missing');
  assert.equal(c.state, 'missing');
  assert.deepEqual(states, ['connecting', 'missing']);
  assert.equal(c.failures, 1);
});

test('Firefox: a missing host, said in the port\'s error rather than runtime.lastError, is "missing" too', async () => {
  const host = fakeHost(() => hello, { missing: true, firefox: true });
  const c = new NativeClient({ connect: host.connect, lastError: () => host.lastError });
  await assert.rejects(c.call('capture', {}), (e) => e.code === 'host_missing');
  assert.equal(c.state, 'missing');
  assert.equal(host.lastError, null);
});

test('a host that dies mid-request fails the waiting calls, and the next call reconnects', async () => {
  let alive = true;
  const host = fakeHost((m) => (m.method === 'hello' ? hello : alive ? undefined : { result: 'ok' }));
  const c = new NativeClient({ connect: host.connect, lastError: () => host.lastError });
  const p = c.call('capture', {});
  await new Promise((r) => setTimeout(r, 5));
  host.ports[0].kill('Native host has exited.');
  await assert.rejects(p, (e) => e.code === 'disconnected');
  alive = false;
  assert.equal(await c.call('capture', {}), 'ok');
  assert.equal(host.connects, 2);
});

test('a request with no answer times out', async () => {
  const host = fakeHost((m) => (m.method === 'hello' ? hello : undefined));
  const c = new NativeClient({ connect: host.connect, timeoutMs: 30 });
  await assert.rejects(c.call('capture', {}), (e) => e.code === 'host_timeout');
});

test('a host that never says hello is dropped as failed', async () => {
  const host = fakeHost(() => undefined);
  const c = new NativeClient({ connect: host.connect, helloTimeoutMs: 30 });
  await assert.rejects(c.ensure(), (e) => e.code === 'host_timeout');
  assert.equal(c.state, 'failed');
});

test('backoff doubles from 1 s and stops at 5 minutes', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n)), [1000, 2000, 4000, 8000]);
  assert.equal(backoffDelay(9), 300000);
  assert.equal(backoffDelay(1000), 300000);
});

test('scheduleRetry keeps one timer and waits the backoff for the failures so far', async () => {
  const timers = [];
  const c = new NativeClient({ connect: () => { throw new Error('no'); }, setTimer: (f, ms) => { timers.push(ms); return timers.length; }, clearTimer: () => {} });
  await assert.rejects(c.ensure());
  await assert.rejects(c.ensure());
  assert.equal(c.scheduleRetry(() => {}), 2000);
  assert.equal(c.scheduleRetry(() => {}), null, 'already scheduled');
  assert.deepEqual(timers, [2000]);
});
