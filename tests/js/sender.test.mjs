// The report sender (extension/src/core/sender.js) with a fake host, fetch, clock and storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sender, sanitiseDelay, randomDelay, retryDelay, classify, fetchOptions, MAX_TRIES, SCHEDULE_KEY, RETRY_BASE_MS } from '../../extension/src/core/sender.js';

/** A fake world: one outbox in a fake host, a clock the test moves, a fetch that answers from a script. */
function world({ answers = [], delays = { min: 30, max: 300 }, random = () => 0.5, reports } = {}) {
  const store = new Map();
  const host = { reports: reports || new Map([[7, { id: 7, state: 'queued', wire: 'QlRSMQ==', submit_url: 'http://127.0.0.1:8470/v1/reports' }]]), marks: [], locked: false };
  const fetches = [];
  const timers = [];
  const clock = { t: 1_000_000 };
  const call = async (method, params) => {
    if (host.locked) { const e = new Error('locked'); e.code = 'locked'; throw e; }
    if (method === 'report_get') {
      const r = host.reports.get(params.id);
      if (!r) { const e = new Error('not_found'); e.code = 'not_found'; throw e; }
      return { ...r };
    }
    if (method === 'report_mark') { host.marks.push({ ...params }); host.reports.get(params.id).state = params.state; return { id: params.id, state: params.state }; }
    if (method === 'report_list') return { reports: [...host.reports.values()].map(({ wire, ...r }) => r) };
    throw new Error('unexpected ' + method);
  };
  const fetch = async (url, opts) => {
    fetches.push({ url, opts, at: clock.t });
    const a = answers.length ? answers.shift() : 202;
    if (a instanceof Error) throw a;
    if (a === 'redirect') return { type: 'opaqueredirect', status: 0 };
    return { type: 'basic', status: a, ok: a >= 200 && a < 300 };
  };
  let changes = 0;
  const sender = new Sender({
    call, fetch, storage: { get: async (k) => structuredClone(store.get(k)), set: async (k, v) => { store.set(k, structuredClone(v)); } },
    now: () => clock.t, random, delays: async () => delays,
    setTimer: (fn, ms) => timers.push({ fn, at: clock.t + ms }), onChange: () => { changes++; },
  });
  return { sender, host, fetches, timers, clock, store, changes: () => changes };
}

test('randomDelay stays within [min, max] seconds; retryDelay doubles, with jitter, up to a cap', () => {
  assert.equal(randomDelay(30, 300, () => 0), 30000);
  assert.equal(randomDelay(30, 300, () => 0.999999), 300000);
  assert.equal(randomDelay(0, 0, () => 0.7), 0);
  assert.equal(randomDelay(300, 30, () => 0.5), 30000, 'min above max: the smaller wins');
  for (let i = 0; i < 200; i++) { const d = randomDelay(30, 300); assert.ok(d >= 30000 && d <= 300000); }
  assert.equal(retryDelay(1, () => 0.5), RETRY_BASE_MS);
  assert.equal(retryDelay(2, () => 0.5), 2 * RETRY_BASE_MS);
  assert.equal(retryDelay(3, () => 0.5), 4 * RETRY_BASE_MS);
  assert.equal(retryDelay(40, () => 0.5), 6 * 3600 * 1000);
  assert.equal(retryDelay(1, () => 0), 0.8 * RETRY_BASE_MS);
  assert.equal(retryDelay(1, () => 1), 1.2 * RETRY_BASE_MS);
});

test('the sending delay the person sets: integers 0-86400 s, min <= max, else 30-300 s', () => {
  assert.deepEqual(sanitiseDelay(undefined), { min: 30, max: 300 });
  assert.deepEqual(sanitiseDelay({ min: 0, max: 1 }), { min: 0, max: 1 });
  assert.deepEqual(sanitiseDelay({ min: 60, max: 3600 }), { min: 60, max: 3600 });
  for (const bad of [{ min: 300, max: 30 }, { min: -1, max: 5 }, { min: 0, max: 86401 }, { min: 1.5, max: 2 }, { min: '1', max: '2' }]) {
    assert.deepEqual(sanitiseDelay(bad), { min: 30, max: 300 }, JSON.stringify(bad));
  }
});

test('every POST omits cookies, referrer and cache, and carries only the wire text', () => {
  const o = fetchOptions('QlRSMQ==');
  assert.equal(o.method, 'POST');
  assert.equal(o.body, 'QlRSMQ==');
  assert.equal(o.credentials, 'omit');
  assert.equal(o.referrerPolicy, 'no-referrer');
  assert.equal(o.cache, 'no-store');
  assert.equal(o.redirect, 'manual');
  assert.deepEqual(o.headers, { 'Content-Type': 'text/plain' });
});

test('classify: 2xx and 409 (already received) are sent; 5xx, 408, 429 and network errors retry; other 4xx and redirects are final', () => {
  assert.equal(classify({ status: 202 }).outcome, 'sent');
  assert.equal(classify({ status: 409 }).outcome, 'sent');
  for (const s of [500, 502, 503, 408, 429]) assert.equal(classify({ status: s }).outcome, 'retry', String(s));
  for (const s of [400, 404, 405, 413, 422]) assert.equal(classify({ status: s }).outcome, 'refused', String(s));
  assert.equal(classify({ type: 'opaqueredirect', status: 0 }).outcome, 'refused');
  assert.equal(classify(null, new TypeError('Failed to fetch')).outcome, 'retry');
});

test('a confirmed report waits its random delay, then is POSTed once and marked sent', async () => {
  const w = world({ random: () => 0.5 });
  await w.sender.queued(7);
  assert.equal(w.timers.length, 1);
  assert.equal(w.timers[0].at - w.clock.t, 165000, 'the delay: 30 + 0.5 * 270 s');
  await w.sender.run();
  assert.equal(w.fetches.length, 0, 'nothing sent before the delay');
  w.clock.t += 165000;
  await w.timers.at(-1).fn();
  assert.equal(w.fetches.length, 1);
  const f = w.fetches[0];
  assert.equal(f.url, 'http://127.0.0.1:8470/v1/reports');
  assert.equal(f.opts.body, 'QlRSMQ==');
  assert.equal(f.opts.credentials, 'omit');
  assert.equal(f.opts.referrerPolicy, 'no-referrer');
  assert.equal(f.opts.cache, 'no-store');
  assert.ok(!('referrer' in f.opts) || f.opts.referrer === '', 'no referrer given');
  assert.ok(!Object.keys(f.opts.headers).some((h) => /cookie|authorization|referer/i.test(h)), 'no cookie, authorization or referer header');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'sent', detail: 'HTTP 202' }]);
  assert.equal((await w.sender.status()).waiting, 0);
  await w.sender.run();
  assert.equal(w.fetches.length, 1, 'never sent twice');
});

test('the delay set to zero sends at once', async () => {
  const w = world({ delays: { min: 0, max: 0 } });
  await w.sender.queued(7);
  assert.equal(w.timers[0].at, w.clock.t);
  await w.sender.run();
  assert.equal(w.fetches.length, 1);
});

test('network errors and 5xx are retried with exponential backoff, each try recorded; then sent', async () => {
  const w = world({ delays: { min: 0, max: 0 }, answers: [new TypeError('Failed to fetch'), 503, 500, 202] });
  await w.sender.queued(7);
  const gaps = [];
  await w.sender.run();
  for (let i = 0; i < 3; i++) {
    const st = await w.sender.status();
    assert.equal(st.waiting, 1);
    const due = st.items[0].due;
    gaps.push(due - w.clock.t);
    w.clock.t = due - 1;
    await w.sender.run();
    assert.equal(w.fetches.length, i + 1, 'not before its time');
    w.clock.t = due;
    await w.sender.run();
  }
  assert.deepEqual(gaps, [60000, 120000, 240000]);
  assert.equal(w.fetches.length, 4);
  assert.deepEqual(w.host.marks.map((m) => m.state), ['failed', 'failed', 'failed', 'sent']);
  assert.match(w.host.marks[0].detail, /^network error: Failed to fetch; try 1 of 10, next in 60 s$/);
  assert.match(w.host.marks[1].detail, /^HTTP 503: the union is busy; try 2/);
  assert.equal((await w.sender.status()).failed, 0, 'not counted as a failure: it went through');
});

test('a 4xx is final: one try, marked failed, counted for the badge, not retried', async () => {
  const w = world({ delays: { min: 0, max: 0 }, answers: [422] });
  await w.sender.queued(7);
  await w.sender.run();
  w.clock.t += 24 * 3600 * 1000;
  await w.sender.run();
  assert.equal(w.fetches.length, 1);
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'failed', detail: 'HTTP 422: refused by the union' }]);
  const st = await w.sender.status();
  assert.equal(st.waiting, 0);
  assert.equal(st.failed, 1);
  await w.sender.acknowledge();
  assert.equal((await w.sender.status()).failed, 0);
});

test('a redirect is not followed and is final', async () => {
  const w = world({ delays: { min: 0, max: 0 }, answers: ['redirect'] });
  await w.sender.queued(7);
  await w.sender.run();
  assert.equal(w.host.marks[0].state, 'failed');
  assert.match(w.host.marks[0].detail, /redirect/);
  assert.equal((await w.sender.status()).failed, 1);
});

test('gives up after MAX_TRIES, says so, and the person can retry by hand', async () => {
  const w = world({ delays: { min: 0, max: 0 }, answers: Array(MAX_TRIES).fill(503) });
  await w.sender.queued(7);
  for (let i = 0; i < MAX_TRIES; i++) {
    const st = await w.sender.status();
    if (st.items.length) w.clock.t = Math.max(w.clock.t, st.items[0].due);
    await w.sender.run();
  }
  assert.equal(w.fetches.length, MAX_TRIES);
  assert.match(w.host.marks.at(-1).detail, /gave up after 10 tries/);
  assert.equal((await w.sender.status()).waiting, 0);
  assert.equal((await w.sender.status()).failed, 1);
  await w.sender.retry(7);
  assert.equal(w.fetches.length, MAX_TRIES + 1);
  assert.equal(w.host.marks.at(-1).state, 'sent');
});

test('a withdrawn report is marked and never sent; a locked log makes it wait, not fail', async () => {
  const w = world({ delays: { min: 0, max: 0 } });
  await w.sender.queued(7);
  await w.sender.withdraw(7);
  await w.sender.run();
  assert.equal(w.fetches.length, 0);
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'withdrawn' }]);

  const v = world({ delays: { min: 0, max: 0 } });
  await v.sender.queued(7);
  v.host.locked = true;
  await v.sender.run();
  assert.equal(v.fetches.length, 0);
  assert.equal((await v.sender.status()).waiting, 1, 'still waiting');
  assert.equal(v.sender.lastError, 'locked');
  v.host.locked = false;
  v.clock.t += 60000;
  await v.sender.run();
  assert.equal(v.fetches.length, 1);
  assert.equal(v.host.marks[0].state, 'sent');
});

test('a report withdrawn elsewhere (state in the log) is dropped, not sent', async () => {
  const w = world({ delays: { min: 0, max: 0 } });
  await w.sender.queued(7);
  w.host.reports.get(7).state = 'withdrawn';
  await w.sender.run();
  assert.equal(w.fetches.length, 0);
  assert.equal((await w.sender.status()).waiting, 0);
});

test('an answer that could not be recorded is recorded later, never sent again', async () => {
  const w = world({ delays: { min: 0, max: 0 } });
  await w.sender.queued(7);
  const real = w.sender.call;
  let fail = true;
  w.sender.call = async (m, p) => { if (m === 'report_mark' && fail) { const e = new Error('locked'); e.code = 'locked'; throw e; } return real(m, p); };
  await w.sender.run();
  assert.equal(w.fetches.length, 1);
  assert.equal(w.host.marks.length, 0);
  fail = false;
  w.clock.t += 60000;
  await w.sender.run();
  assert.equal(w.fetches.length, 1, 'not sent again');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'sent', detail: 'HTTP 202' }]);
});

test('queued reports that are not scheduled here are adopted with a random delay', async () => {
  const w = world({ delays: { min: 10, max: 10 } });
  assert.equal(await w.sender.adopt(), 1);
  assert.equal(await w.sender.adopt(), 0);
  const st = await w.sender.status();
  assert.equal(st.items[0].due - w.clock.t, 10000);
  assert.ok(w.store.has(SCHEDULE_KEY));
});

test('a report queued while a send is in flight is not lost from the schedule', async () => {
  const w = world({ delays: { min: 0, max: 0 } });
  w.host.reports.set(8, { id: 8, state: 'queued', wire: 'eA==', submit_url: 'http://127.0.0.1:8470/v1/reports' });
  await w.sender.queued(7);
  const running = w.sender.run();
  await w.sender.queued(8);
  await running;
  await w.sender.run();
  assert.deepEqual(w.fetches.map((f) => f.opts.body).sort(), ['QlRSMQ==', 'eA=='].sort());
});
