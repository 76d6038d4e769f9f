// What the extension shares with bantrail-host, checked against a real host's `hello`
// (docs/PROTOCOL.md, "hello"): the methods it calls, the event kinds, the limits, the sending policy. The host
// is their one source; these tests fail when either side changes alone.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_METHODS, NativeClient, NativeError } from '../../extension/src/core/native.js';
import { EVENT_KINDS, LIST_MAX, LIMITS } from '../../extension/src/core/vocabulary.js';
import { SEND_POLICY } from '../../extension/src/core/sender.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = resolve(process.env.BT_BUILD || join(ROOT, 'build'));

/** The real host's answer to hello, through frames on its stdin and stdout. */
function realHello() {
  const home = mkdtempSync(join(tmpdir(), 'bt-facts-'));
  return new Promise((res, rej) => {
    const host = spawn(join(BUILD, 'bantrail-host'), [], { env: { ...process.env, BANTRAIL_HOME: home } });
    const chunks = [];
    host.on('error', rej);
    host.stdout.on('data', (c) => chunks.push(c));
    host.on('close', () => {
      rmSync(home, { recursive: true, force: true });
      const out = Buffer.concat(chunks);
      if (out.length < 4) return rej(new Error(`no reply from ${BUILD}/bantrail-host`));
      res(JSON.parse(out.subarray(4, 4 + out.readUInt32LE(0)).toString('utf8')).result);
    });
    const body = Buffer.from(JSON.stringify({ id: 1, method: 'hello' }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    host.stdin.end(Buffer.concat([len, body]));
  });
}

/** Every method named in a `call('name'` of the extension's sources. */
function calledMethods() {
  const names = new Set();
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.js')) for (const m of readFileSync(p, 'utf8').matchAll(/\bcall\('([a-z_]+)'/g)) names.add(m[1]);
    }
  };
  walk(join(ROOT, 'extension', 'src'));
  return names;
}

let hello;
before(async () => { hello = await realHello(); });

test('every method the extension may call is one the host has', () => {
  const host = new Set([...hello.capabilities, 'hello']);
  assert.deepEqual(HOST_METHODS.filter((m) => !host.has(m)), []);
  assert.ok(!host.has('no_such_method'));
});

test('the extension calls no method missing from its list, and the client refuses one', async () => {
  const called = [...calledMethods()];
  assert.ok(called.length > 10, 'the sources were read');
  assert.deepEqual(called.filter((m) => !HOST_METHODS.includes(m)), []);
  const client = new NativeClient({ connect: () => { throw new Error('must not connect'); } });
  await assert.rejects(client.call('drop_everything'), (e) => e instanceof NativeError && e.code === 'bad_params');
});

test('event kinds and the page limit are the host\'s', () => {
  assert.deepEqual([...EVENT_KINDS], hello.vocabulary.events);
  assert.equal(LIST_MAX, hello.limits.list_max);
  assert.notDeepEqual([...EVENT_KINDS].reverse(), hello.vocabulary.events); // order matters too
});

test('every limit the host announces (but the frame sizes) is the extension\'s, and no other', () => {
  const host = { ...hello.limits };
  delete host.frame_in_max;
  delete host.frame_out_max;
  assert.deepEqual({ ...LIMITS }, host);
});

test('the sending policy is the host\'s table, the one the CLI follows', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(SEND_POLICY)), hello.send_policy);
});
