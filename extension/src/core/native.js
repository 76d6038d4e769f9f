// One native messaging port to bantrail-host, with request ids, time-outs and reconnection with
// exponential backoff. The port itself comes from a `connect` function passed in, so this module
// never touches chrome.* and Node's test runner can drive it with a fake host.

export class NativeError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

/** Delay before reconnection attempt `n` (0-based): 1 s, 2 s, 4 s ... capped at 5 minutes. */
export function backoffDelay(n, base = 1000, cap = 300000) {
  return Math.min(cap, base * 2 ** Math.min(n, 20));
}

/**
 * Every host method the extension calls (docs/PROTOCOL.md); `call` refuses any other, so that no
 * message from a page can make the worker call a method nobody meant it to. tests/js/facts.test.mjs
 * checks that a real host has each of them and that the extension calls no other.
 */
export const HOST_METHODS = Object.freeze(['hello', 'capture', 'attach', 'capture_sealed', 'event_add', 'list',
  'get', 'lock', 'unlock', 'set_passphrase', 'recovery_code', 'verify', 'stats', 'cases', 'case_get', 'case_merge',
  'case_split', 'case_export', 'unions', 'union_import', 'report_preview', 'report_queue', 'report_list',
  'report_get', 'report_mark', 'report_withdrawal']);

/** Errors that mean "the host is not there or not working", as opposed to a refused request. */
export const UNAVAILABLE = new Set(['host_missing', 'host_failed', 'host_timeout', 'disconnected']);

export class NativeClient {
  /**
   * connect(): returns a port {postMessage, disconnect, onMessage.addListener,
   *   onDisconnect.addListener}; lastError(): the browser's reason for the last disconnect.
   * onState(state, detail): called on each state change ("connecting", "connected",
   *   "missing", "failed", "disconnected").
   * onAcknowledged(log): called with the `log` ({entry, head}) of every answer that wrote, the
   *   entry and chain head it made durable (core/logmark.js), a late answer's too.
   */
  constructor({ connect, lastError = () => null, onState = () => {}, onAcknowledged = () => {}, timeoutMs = 60000,
    helloTimeoutMs = 10000, setTimer = (f, ms) => setTimeout(f, ms), clearTimer = (t) => clearTimeout(t) }) {
    this._connect = connect;
    this._lastError = lastError;
    this._onState = onState;
    this._onAcknowledged = onAcknowledged;
    this._timeoutMs = timeoutMs;
    this._helloTimeoutMs = helloTimeoutMs;
    this._setTimer = setTimer;
    this._clearTimer = clearTimer;
    this._port = null;
    this._nextId = 1;
    this._pending = new Map();
    this._ready = null;        // Promise<hello> while connecting or connected
    this.hello = null;
    this.state = 'disconnected';
    this.failures = 0;         // consecutive failed connections, for backoff
    this._retryTimer = null;
  }

  _setState(s, detail) {
    this.state = s;
    this._onState(s, detail);
  }

  /** Connects if needed and resolves with the host's hello result. */
  ensure() {
    if (this._ready) return this._ready;
    let port;
    this._setState('connecting');
    try {
      port = this._connect();
    } catch (e) {
      this.failures++;
      this._setState('missing', String(e && e.message));
      return Promise.reject(new NativeError('host_missing', String(e && e.message)));
    }
    this._port = port;
    port.onMessage.addListener((msg) => this._onMessage(port, msg));
    port.onDisconnect.addListener(() => this._onDisconnect(port));
    this._ready = this._send('hello', {}, this._helloTimeoutMs).then((h) => {
      this.hello = h;
      this.failures = 0;
      this._setState('connected', h);
      return h;
    }, (e) => {
      this._drop(port, e.code === 'host_timeout' ? 'failed' : null);
      throw e;
    });
    // A failed hello leaves no unhandled rejection behind when nobody awaits it.
    this._ready.catch(() => {});
    return this._ready;
  }

  /** Calls a method; resolves with its result or rejects with a NativeError. */
  async call(method, params, timeoutMs) {
    if (!HOST_METHODS.includes(method)) throw new NativeError('bad_params', `${method}: not a host method`);
    await this.ensure();
    return this._send(method, params, timeoutMs || this._timeoutMs);
  }

  _send(method, params, timeoutMs) {
    const port = this._port;
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = this._setTimer(() => {
        if (this._pending.delete(id)) reject(new NativeError('host_timeout', `${method}: no answer`));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer, method });
      try {
        port.postMessage(params === undefined ? { id, method } : { id, method, params });
      } catch (e) {
        this._clearTimer(timer);
        this._pending.delete(id);
        reject(new NativeError('disconnected', String(e && e.message)));
      }
    });
  }

  _onMessage(port, msg) {
    if (port !== this._port || !msg || typeof msg !== 'object') return;
    // what the host made durable is noted even when nobody waits for the answer any more
    if (msg.result && typeof msg.result === 'object' && msg.result.log) {
      try { this._onAcknowledged(msg.result.log); } catch { /* the mark is a watch, never in the way */ }
    }
    const p = this._pending.get(msg.id);
    if (!p) return;   // a reply to a request that timed out, or an id:null error: nothing waits
    this._pending.delete(msg.id);
    this._clearTimer(p.timer);
    if (msg.error && typeof msg.error === 'object') p.reject(new NativeError(String(msg.error.code), String(msg.error.message || '')));
    else p.resolve(msg.result);
  }

  _onDisconnect(port) {
    if (port !== this._port) return;
    // Chromium sets runtime.lastError; Firefox sets the port's `error` instead.
    const why = this._lastError() || (port.error && port.error.message ? String(port.error.message) : null);
    // Chrome says "Specified native messaging host not found." when no manifest is installed;
    // Firefox says "No such native application".
    const missing = why && /not found|no such native application|forbidden/i.test(why);
    this._drop(port, missing ? 'missing' : (this.hello ? 'disconnected' : 'failed'), why);
  }

  _drop(port, state, why) {
    if (port !== this._port) return;
    this._port = null;
    this._ready = null;
    this.hello = null;
    try { port.disconnect(); } catch { /* already closed */ }
    const code = state === 'missing' ? 'host_missing' : state === 'failed' ? 'host_failed' : 'disconnected';
    for (const [id, p] of this._pending) {
      this._clearTimer(p.timer);
      p.reject(new NativeError(code, why || code));
      this._pending.delete(id);
    }
    if (state !== 'disconnected') this.failures++;
    this._setState(state || 'failed', why);
  }

  /** Closes the port (the host exits and locks the log). */
  close() {
    if (this._port) this._drop(this._port, 'disconnected', 'closed');
  }

  /**
   * Schedules `attempt()` after the backoff for the current failure count; one timer at most.
   * Returns the delay chosen.
   */
  scheduleRetry(attempt) {
    if (this._retryTimer) return null;
    const d = backoffDelay(Math.max(0, this.failures - 1));
    this._retryTimer = this._setTimer(() => { this._retryTimer = null; attempt(); }, d);
    return d;
  }
}
