// The log's mark (extension/src/core/logmark.js) against a real bantrail-host and real logs: a log
// that grew passes; the same folder put back from an older copy, or another log in its place, is
// told apart; the person accepting the log as it is clears the alarm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkMark, acceptLog, damageOf, noteAcknowledged, verifyParams, MARK_KEY, PROBLEM_KEY } from '../../extension/src/core/logmark.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = resolve(process.env.BT_BUILD || join(ROOT, 'build'));

function capture(home, n, tag) {
  for (let i = 0; i < n; i++) {
    execFileSync(join(BUILD, 'bantrail'), ['capture', '--manual', '--url', 'https://www.instagram.com/accounts/suspended/'],
      { env: { ...process.env, BANTRAIL_HOME: home }, input: `We suspended your account (${tag} ${i}).` });
  }
}

/** A real host on home for the length of fn(hello's vault, call). */
async function withHost(home, fn) {
  const host = spawn(join(BUILD, 'bantrail-host'), [], { env: { ...process.env, BANTRAIL_HOME: home } });
  let buf = Buffer.alloc(0), waiter = null, nextId = 1;
  host.stdout.on('data', (c) => {
    buf = Buffer.concat([buf, c]);
    if (waiter && buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const n = buf.readUInt32LE(0), msg = JSON.parse(buf.subarray(4, 4 + n).toString('utf8'));
      buf = buf.subarray(4 + n);
      const w = waiter;
      waiter = null;
      w(msg);
    }
  });
  const call = (method, params) => new Promise((res, rej) => {
    waiter = (msg) => (msg.error ? rej(Object.assign(new Error(msg.error.message), { code: msg.error.code })) : res(msg.result));
    const body = Buffer.from(JSON.stringify({ id: nextId++, method, params }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    host.stdin.write(Buffer.concat([len, body]));
  });
  try {
    return await fn((await call('hello')).vault, call);
  } finally {
    host.stdin.end();
    await new Promise((r) => host.on('close', r));
  }
}

function memoryStorage() {
  const m = new Map();
  return { get: async (k) => m.get(k), set: async (k, v) => { m.set(k, v); } };
}

test('a log that grows passes; put back from an older copy or swapped for another, it is told apart', async () => {
  const home = mkdtempSync(join(tmpdir(), 'bt-mark-')), older = mkdtempSync(join(tmpdir(), 'bt-mark-old-'));
  const other = mkdtempSync(join(tmpdir(), 'bt-mark-other-'));
  const storage = memoryStorage();
  try {
    capture(home, 3, 'first');
    cpSync(home, older, { recursive: true });    // a backup, taken while no host runs
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage, call, vault })), null);
    assert.equal((await storage.get(MARK_KEY)).entries, 3);

    capture(home, 2, 'later');
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage, call, vault })), null, 'grown: fine');
    assert.equal((await storage.get(MARK_KEY)).entries, 5);

    rmSync(home, { recursive: true, force: true });
    cpSync(older, home, { recursive: true });    // rolled back to the copy
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage, call, vault })), 'shorter');
    assert.equal((await storage.get(PROBLEM_KEY)).mark.entries, 5);
    assert.equal((await storage.get(MARK_KEY)).entries, 5, 'the mark stays until the person says otherwise');

    capture(other, 6, 'another log');           // another log, as long or longer, in its place
    rmSync(home, { recursive: true, force: true });
    cpSync(other, home, { recursive: true });
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage, call, vault })), 'different');

    await withHost(home, (vault) => acceptLog({ storage, vault }));
    assert.equal(await storage.get(PROBLEM_KEY), null);
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage, call, vault })), null);
    assert.equal((await storage.get(MARK_KEY)).entries, 6);
  } finally {
    for (const d of [home, older, other]) rmSync(d, { recursive: true, force: true });
  }
});

test('what was acknowledged after the last hello is missed when the log goes back, and verify says so', async () => {
  const home = mkdtempSync(join(tmpdir(), 'bt-ack-')), older = mkdtempSync(join(tmpdir(), 'bt-ack-old-'));
  const NOTICE = { url: 'https://www.instagram.com/accounts/suspended/', manual: true };
  const withAcks = memoryStorage(), helloOnly = memoryStorage();
  try {
    capture(home, 3, 'first');
    cpSync(home, older, { recursive: true });    // a backup of 3 entries
    await withHost(home, async (vault, call) => {
      for (const st of [withAcks, helloOnly]) assert.equal(await checkMark({ storage: st, call, vault }), null);
      for (let i = 0; i < 2; i++) {           // two captures after the hello, each answered with its log
        const r = await call('capture', { ...NOTICE, text: `We suspended your account (after hello ${i}).` });
        assert.equal(r.log.entry, r.id);
        assert.equal(await noteAcknowledged({ storage: withAcks, log: r.log }), true);
      }
      assert.equal(await noteAcknowledged({ storage: withAcks, log: { entry: 4, head: 'ab'.repeat(32) } }), false, 'never back');
      assert.equal(await noteAcknowledged({ storage: withAcks, log: { entry: 9, head: 'nothex' } }), false);
    });
    assert.equal((await withAcks.get(MARK_KEY)).entries, 5);
    rmSync(home, { recursive: true, force: true });
    cpSync(older, home, { recursive: true });    // the log put back: the two acknowledged entries are gone
    // the negative case beside it: a mark moved only at hello sees nothing wrong
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage: helloOnly, call, vault })), null);
    assert.equal(await withHost(home, (vault, call) => checkMark({ storage: withAcks, call, vault })), 'shorter');
    const v = await withHost(home, (vault, call) => call('verify'));
    assert.equal(v.ok, true, 'without the mark, the chain alone holds');
    const mark = await withAcks.get(MARK_KEY);
    const w = await withHost(home, (vault, call) => call('verify', verifyParams(mark)));
    assert.equal(w.ok, false);
    assert.equal(w.expected.reason, 'entries up to 5 were acknowledged, only 3 are here');
    // while the problem stands, nothing moves the mark
    assert.equal(await noteAcknowledged({ storage: withAcks, log: { entry: 9, head: 'ab'.repeat(32) } }), false);
  } finally {
    for (const d of [home, older]) rmSync(d, { recursive: true, force: true });
  }
});

test('a damaged log is told from an intact one by what the host says (damageOf)', async () => {
  const home = mkdtempSync(join(tmpdir(), 'bt-damage-'));
  try {
    capture(home, 3, 'damage');
    assert.equal(await withHost(home, async (vault) => damageOf(vault)), null);   // intact: no warning
    execFileSync('python3', ['-c', `import sqlite3
db = sqlite3.connect(${JSON.stringify(join(home, 'log.sqlite'))})
head = bytearray(db.execute("SELECT head FROM entries WHERE id = 3").fetchone()[0])
head[4] ^= 1
db.execute("UPDATE entries SET head = ? WHERE id = 3", (bytes(head),))
db.commit()`]);
    assert.deepEqual(await withHost(home, async (vault) => damageOf(vault)), { problem: 'damaged', at: 3 });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  assert.deepEqual(damageOf({ state: 'error', error: 'corrupt' }), { problem: 'unreadable', at: null });
  assert.deepEqual(damageOf({ state: 'locked', damaged_at: 7, wal_lost: true }), { problem: 'wal', at: 7 });
  assert.equal(damageOf({ state: 'error', error: 'caller_not_allowed' }), null);
  assert.equal(damageOf({ state: 'locked', damaged_at: 'x' }), null);
  assert.equal(damageOf(null), null);
});
