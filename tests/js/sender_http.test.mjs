// The report sender's policy (SEND_POLICY, docs/REPORT.md "Sending") over real fetch and a real HTTP
// server on loopback that answers as bantrail-collect does (host/collect/bantrail-collect.c): each
// answer must land in the outbox state the policy says. The host and the clock are fakes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Sender, SEND_POLICY, classify, retryDelay, RETRY_BASE_MS, RETRY_CAP_MS } from '../../extension/src/core/sender.js';

// What the collector answers (status, headers, body), in the order the test asks for them.
const ANSWERS = {
  accepted: [202, {}, { status: 'accepted', report_id: '00', updated: false }],
  replayed: [409, {}, { error: { code: 'replayed', message: 'this report was received before' } }],
  too_many: [429, { 'Retry-After': '600', Connection: 'close' }, { error: { code: 'too_many_reports', message: 'too many reports from this address; try later' } }],
  busy: [503, { 'Retry-After': '5', Connection: 'close' }, { error: { code: 'busy', message: 'the collector is busy; try later' } }],
  work: [400, {}, { error: { code: 'insufficient_work', message: 'the proof of work is below the union\'s difficulty', difficulty: 22 } }],
  bad: [422, {}, { error: { code: 'bad_report', message: 'not a valid report' } }],
  withdrawn: [202, {}, { status: 'withdrawn', report_id: '00', updated: true }],
  unknown: [404, {}, { error: { code: 'not_found', message: 'no report with this id was received' } }],
};

let server, url;
const script = [];
const received = [];
before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ method: req.method, body, cookie: req.headers.cookie, referer: req.headers.referer });
      const [status, headers, json] = ANSWERS[script.shift() || 'accepted'];
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}/v1/reports`;
});
after(() => new Promise((r) => server.close(r)));

/** A sender with real fetch, a fake host holding report 7 and a clock the test moves. */
function world() {
  const store = new Map();
  const host = { reports: new Map([[7, { id: 7, state: 'queued', wire: 'QlRSMQ==', submit_url: url }]]), marks: [] };
  const clock = { t: 1_000_000 };
  const call = async (method, params) => {
    if (method === 'report_get') return { ...host.reports.get(params.id) };
    if (method === 'report_withdrawal') return { id: params.id, report_id: '00', submit_url: host.reports.get(params.id).submit_url, wire: 'V0lUSERSQVdBTA==' };
    if (method === 'report_mark') { host.marks.push({ ...params }); host.reports.get(params.id).state = params.state; return params; }
    throw new Error('unexpected ' + method);
  };
  const sender = new Sender({
    call, fetch: (...a) => fetch(...a), now: () => clock.t, random: () => 0.5, delays: async () => ({ min: 0, max: 0 }),
    storage: { get: async (k) => structuredClone(store.get(k)), set: async (k, v) => { store.set(k, structuredClone(v)); } },
    setTimer: () => {},
  });
  return { sender, host, clock };
}

/** Queues report 7, lets the server answer `names` in turn, and runs each due try. */
async function send(...names) {
  const w = world();
  script.length = 0;
  script.push(...names);
  await w.sender.queued(7);
  for (let i = 0; i < names.length; i++) {
    const st = await w.sender.status();
    if (!st.items.length) break;
    w.clock.t = Math.max(w.clock.t, st.items[0].due);
    await w.sender.run();
  }
  return { ...w, status: await w.sender.status() };
}

test('202: sent, over real fetch, with nothing but the report', async () => {
  received.length = 0;
  const w = await send('accepted');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'sent', detail: 'HTTP 202' }]);
  assert.deepEqual(received, [{ method: 'POST', body: 'QlRSMQ==', cookie: undefined, referer: undefined }]);
  assert.equal(w.status.waiting, 0);
});

test('409 replayed: sent (the union had these bytes)', async () => {
  const w = await send('replayed');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'sent', detail: 'HTTP 409 replayed: the union already had it' }]);
  assert.equal(w.status.failed, 0);
});

test('429 with Retry-After: tried again no sooner than the union asks, then sent', async () => {
  const w = world();
  script.length = 0;
  script.push('too_many', 'accepted');
  await w.sender.queued(7);
  await w.sender.run();
  let st = await w.sender.status();
  assert.equal(st.waiting, 1);
  assert.equal(st.items[0].due - w.clock.t, 600_000, 'Retry-After 600 s beats the 60 s backoff');
  assert.match(w.host.marks[0].detail, /^HTTP 429 too_many_reports: too many reports from this address; try 1 of 10, next in 600 s$/);
  assert.equal(w.host.marks[0].state, 'failed');
  w.clock.t += 599_000;
  await w.sender.run();
  assert.equal(w.host.marks.length, 1, 'not before Retry-After');
  w.clock.t += 1000;
  await w.sender.run();
  assert.equal(w.host.marks.at(-1).state, 'sent');
  st = await w.sender.status();
  assert.deepEqual([st.waiting, st.failed], [0, 0]);
});

test('503 busy with Retry-After 5: the backoff is longer, so it wins; then sent', async () => {
  const w = await send('busy', 'accepted');
  assert.match(w.host.marks[0].detail, /^HTTP 503 busy: the union is busy; try 1 of 10, next in 60 s$/);
  assert.deepEqual(w.host.marks.map((m) => m.state), ['failed', 'sent']);
});

test('400 insufficient_work: failed for good, saying the difficulty the union demands', async () => {
  const w = await send('work', 'accepted');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'failed',
    detail: 'HTTP 400 insufficient_work (difficulty 22): the union demands more proof of work: import its entry again, then share again' }]);
  assert.deepEqual([w.status.waiting, w.status.failed], [0, 1]);
});

test('another refusal (422): failed for good', async () => {
  const w = await send('bad');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'failed', detail: 'HTTP 422 bad_report: refused by the union' }]);
});

test('no answer (nobody listens): try again later', async () => {
  const w = world();
  w.host.reports.get(7).submit_url = 'http://127.0.0.1:1/v1/reports';
  await w.sender.queued(7);
  await w.sender.run();
  const st = await w.sender.status();
  assert.equal(st.waiting, 1);
  assert.match(w.host.marks[0].detail, /^network error: .*; try 1 of 10, next in 60 s$/);
});

test('the table decides every status, and the waits are the table\'s', () => {
  for (const a of SEND_POLICY.answers) {
    const c = classify({ status: a.from }, null, { code: a.code || undefined });
    assert.equal(c.outcome, a.outcome === 'failed' ? 'refused' : a.outcome, `${a.from} ${a.code}`);
  }
  assert.equal(retryDelay(1, () => 0.5, RETRY_BASE_MS, RETRY_CAP_MS, 5000), RETRY_BASE_MS);
  assert.equal(retryDelay(1, () => 0.5, RETRY_BASE_MS, RETRY_CAP_MS, 600_000), 600_000);
  assert.equal(retryDelay(1, () => 0.5, RETRY_BASE_MS, RETRY_CAP_MS, 10 ** 12), RETRY_CAP_MS);
});

test('withdrawing a sent report posts its withdrawal and records it once the union takes it', async () => {
  const w = world();
  w.host.reports.get(7).state = 'sent';
  script.length = 0;
  script.push('withdrawn');
  const before = received.length;
  assert.equal(await w.sender.withdraw(7), 'at_union');
  assert.equal(received.length, before + 1);
  assert.equal(received.at(-1).body, 'V0lUSERSQVdBTA==');
  assert.deepEqual(w.host.marks, [{ id: 7, state: 'withdrawn', detail: 'withdrawn at the union' }]);
  // a report the union never received: 404 not_found, recorded as such
  const v = world();
  v.host.reports.get(7).state = 'failed';
  script.push('unknown');
  assert.equal(await v.sender.withdraw(7), 'never_received');
  assert.deepEqual(v.host.marks, [{ id: 7, state: 'withdrawn', detail: 'the union never received it' }]);
});

test('a sent report stays sent while the union cannot take its withdrawal', async () => {
  const w = world();
  Object.assign(w.host.reports.get(7), { state: 'sent', submit_url: 'http://127.0.0.1:1/v1/reports' }); // nobody listens
  await assert.rejects(w.sender.withdraw(7), { code: 'withdraw_failed' });
  assert.deepEqual(w.host.marks, []);
  assert.equal(w.host.reports.get(7).state, 'sent');
  // refused for another reason (a 5xx): still sent
  const v = world();
  v.host.reports.get(7).state = 'sent';
  script.length = 0;
  script.push('busy');
  await assert.rejects(v.sender.withdraw(7), { code: 'withdraw_failed' });
  assert.deepEqual(v.host.marks, []);
  // one whose tries all failed is withdrawn anyway: it is never tried again
  const u = world();
  Object.assign(u.host.reports.get(7), { state: 'failed', submit_url: 'http://127.0.0.1:1/v1/reports' });
  assert.equal(await u.sender.withdraw(7), 'not_acknowledged');
  assert.equal(u.host.marks.length, 1);
});
