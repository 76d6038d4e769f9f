// Sends the reports the person confirmed (docs/REPORT.md "Sending", docs/EXTENSION.md "Sharing"):
// each one after a random delay, as the sealed wire text POSTed to the union's submit URL with no
// cookies, no referrer and no cache. What each answer means, the waits between tries and their
// count are SEND_POLICY, the host's table (bantrail/send.h) announced by its hello: the CLI follows
// the same one, and tests/js/facts.test.mjs checks this copy equal to a real host's. Every outcome is
// recorded in the log with `report_mark`, and what waits or failed is counted for the badge and the
// popup: nothing fails silently.
// No chrome.* here: the host call, storage, fetch, clock, randomness and timer are passed in, so
// Node's test runner drives it with fakes.

/**
 * The sending policy, as the host's hello states it (`send_policy`; seconds). `answers`: the first
 * row whose status range holds the HTTP status (0: no answer at all) and whose `code`, when set, is
 * the answer's JSON error code decides: sent, retry (later, by `retry`) or failed (for good).
 */
export const SEND_POLICY = Object.freeze({
  first_delay: { min: 30, max: 300, limit: 86400 },
  retry: { base: 60, cap: 6 * 60 * 60, jitter_percent: 20, tries: 10, timeout: 30 },
  answers: [
    { from: 0, to: 0, code: null, outcome: 'retry', say: null },
    { from: 200, to: 299, code: null, outcome: 'sent', say: null },
    { from: 300, to: 399, code: null, outcome: 'failed', say: 'the union\'s address redirects elsewhere: not followed' },
    // 409 is the collector's "replayed": these very bytes were received before (an earlier try
    // whose answer was lost), so the union has the report.
    { from: 409, to: 409, code: null, outcome: 'sent', say: 'the union already had it' },
    { from: 408, to: 408, code: null, outcome: 'retry', say: null },
    { from: 429, to: 429, code: null, outcome: 'retry', say: 'too many reports from this address' },
    { from: 400, to: 400, code: 'insufficient_work', outcome: 'failed', say: 'the union demands more proof of work: import its entry again, then share again' },
    { from: 400, to: 499, code: null, outcome: 'failed', say: 'refused by the union' },
    { from: 503, to: 503, code: null, outcome: 'retry', say: 'the union is busy' },
    { from: 500, to: 599, code: null, outcome: 'retry', say: null },
    { from: 100, to: 999, code: null, outcome: 'failed', say: 'refused by the union' },
  ].map(Object.freeze),
  detail_max: 200,
});

export const SCHEDULE_KEY = 'sendSchedule';
export const RETRY_BASE_MS = SEND_POLICY.retry.base * 1000;   // first retry after about a minute
export const RETRY_CAP_MS = SEND_POLICY.retry.cap * 1000;     // never more than six hours apart
export const MAX_TRIES = SEND_POLICY.retry.tries;             // then given up (the person can retry or save it)
export const FETCH_TIMEOUT_MS = SEND_POLICY.retry.timeout * 1000;
export const LOCKED_RETRY_MS = 60 * 1000;        // the log was locked: look again (and at each unlock)

/** The sending delay the person chose (storage key DELAY_KEY, set on the options page). */
export const DELAY_KEY = 'sendDelay';
export const DELAY_DEFAULT = Object.freeze({ min: SEND_POLICY.first_delay.min, max: SEND_POLICY.first_delay.max });
export const DELAY_MAX = SEND_POLICY.first_delay.limit;

/** A clean {min, max} in seconds (integers, 0-86400, min <= max), else the default. */
export function sanitiseDelay(raw) {
  const ok = (n) => Number.isInteger(n) && n >= 0 && n <= DELAY_MAX;
  if (raw && typeof raw === 'object' && ok(raw.min) && ok(raw.max) && raw.min <= raw.max) return { min: raw.min, max: raw.max };
  return { ...DELAY_DEFAULT };
}

/** The options of every POST: nothing but the report leaves. */
export function fetchOptions(wire, signal) {
  return {
    method: 'POST',
    body: wire,
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    cache: 'no-store',
    redirect: 'manual',     // a pinned submit URL that redirects is refused, not followed
    headers: { 'Content-Type': 'text/plain' },
    ...(signal ? { signal } : {}),
  };
}

/** A random delay in [minSeconds, maxSeconds] seconds, in ms. */
export function randomDelay(minSeconds, maxSeconds, random = Math.random) {
  const lo = Math.max(0, Math.min(minSeconds, maxSeconds));
  const hi = Math.max(lo, maxSeconds);
  return Math.round((lo + (hi - lo) * random()) * 1000);
}

/**
 * Delay before retry `n` (1-based): base·2^(n-1), capped, with ±jitter; never less than the
 * answer's Retry-After (`retryAfterMs`, itself capped).
 */
export function retryDelay(n, random = Math.random, base = RETRY_BASE_MS, cap = RETRY_CAP_MS, retryAfterMs = 0) {
  const d = Math.min(cap, base * 2 ** Math.min(Math.max(n - 1, 0), 30));
  const j = SEND_POLICY.retry.jitter_percent / 100;
  return Math.max(Math.round(d * (1 + j * (2 * random() - 1))), Math.min(cap, retryAfterMs));
}

/** An answer's Retry-After in ms (delay-seconds only; an HTTP date or none: 0). */
export function retryAfterMs(res) {
  const v = res && res.headers && typeof res.headers.get === 'function' ? res.headers.get('retry-after') : null;
  return typeof v === 'string' && /^\s*\d{1,9}\s*$/.test(v) ? Number(v) * 1000 : 0;
}

/** The collector's error {code, difficulty} from a refusal's JSON body, or {} (never throws). */
/** What a withdrawal's outcome records as the report's detail (the CLI says the same). */
const WITHDRAW_DETAIL = Object.freeze({
  at_union: 'withdrawn at the union',
  never_received: 'the union never received it',
  not_acknowledged: 'never acknowledged by the union; its withdrawal could not be sent',
});

export async function answerError(res) {
  try {
    if (!res || res.status < 400 || typeof res.json !== 'function') return {};
    const e = (await res.json()).error;
    return e && typeof e === 'object' && typeof e.code === 'string' && /^[a-z_]{1,40}$/.test(e.code)
      ? { code: e.code, ...(Number.isInteger(e.difficulty) ? { difficulty: e.difficulty } : {}) } : {};
  } catch { return {}; }
}

/**
 * What an HTTP answer (or its absence) means, by SEND_POLICY.answers:
 * {outcome: "sent"|"retry"|"refused", detail}. `error` is the collector's {code, difficulty}.
 */
export function classify(res, error, { code, difficulty } = {}) {
  if (error) return { outcome: 'retry', detail: `network error: ${String(error.name === 'TimeoutError' || error.name === 'AbortError' ? 'timed out' : error.message || error).slice(0, 120)}` };
  const s = !res || res.type === 'opaqueredirect' ? 300 : res.status;   // a manual redirect shows as status 0
  const row = SEND_POLICY.answers.find((a) => s >= a.from && s <= a.to && (a.code === null || a.code === code))
    || SEND_POLICY.answers.at(-1);
  const what = row.from === 300 ? '' : `HTTP ${s}${code ? ` ${code}` : ''}${Number.isInteger(difficulty) ? ` (difficulty ${difficulty})` : ''}`;
  const detail = [what, row.say].filter(Boolean).join(': ');
  return { outcome: row.outcome === 'failed' ? 'refused' : row.outcome, detail };
}

export class Sender {
  /**
   * call(method, params) -> the host's result (throws {code}); storage: {get, set};
   * fetch: the platform's fetch; now() -> ms; random() -> [0, 1); delays() -> {min, max} seconds;
   * setTimer(fn, ms): wake up later (the worker uses a timer and an alarm); onChange(): counts
   * changed (the badge).
   */
  constructor({ call, storage, fetch, now = () => Date.now(), random = Math.random, delays = async () => ({ ...DELAY_DEFAULT }),
    setTimer = (f, ms) => setTimeout(f, ms), onChange = () => {}, timeoutMs = FETCH_TIMEOUT_MS }) {
    Object.assign(this, { call, storage, fetch, now, random, delays, setTimer, onChange, timeoutMs });
    this.lastError = null;
    this._running = null;
    this._again = false;
  }

  async _load() {
    const s = await this.storage.get(SCHEDULE_KEY);
    return s && typeof s === 'object' && s.items && typeof s.items === 'object' ? s : { items: {}, failed: 0 };
  }

  /** Read-modify-write of the schedule, one at a time (never across a network call). */
  _update(fn) {
    const next = (this._chain || Promise.resolve()).then(async () => {
      const s = await this._load();
      const r = fn(s);
      await this.storage.set(SCHEDULE_KEY, s);
      return { s, r };
    });
    this._chain = next.catch(() => {});
    return next;
  }

  /** A report the person just confirmed (its outbox id): sent after a random delay. */
  async queued(id) {
    const { min, max } = await this.delays();
    const { s } = await this._update((s) => { s.items[id] = { due: this.now() + randomDelay(min, max, this.random), tries: 0 }; });
    this._wake(s);
    this.onChange();
  }

  /** The person asks to send it now (a failed or waiting report). */
  async retry(id) {
    await this._update((s) => { s.items[id] = { due: this.now(), tries: 0 }; });
    this.onChange();
    return this.run();
  }

  /**
   * The person withdraws it. One never tried is only recorded: it is never sent. One sent (or tried)
   * is withdrawn at the union too, by a withdrawal only its sender can make (`report_withdrawal`:
   * signed by the report's own key), and recorded once the union answers 202, or 404 (it never had
   * it); a sent one stays sent while the union cannot be reached (throws {code: 'withdraw_failed'}),
   * one whose tries all failed is recorded anyway. Returns 'never_sent', 'at_union',
   * 'never_received' or 'not_acknowledged'.
   */
  async withdraw(id) {
    const rep = await this.call('report_get', { id });
    let outcome = 'never_sent';
    if (rep && (rep.state === 'sent' || rep.state === 'failed')) {
      const w = await this.call('report_withdrawal', { id });
      let res = null;
      try { res = await this._post(w.submit_url, w.wire); } catch { res = null; }
      const error = await answerError(res);
      if (res && res.status === 202) outcome = 'at_union';
      else if (res && res.status === 404 && error.code === 'not_found') outcome = 'never_received';
      else if (rep.state === 'failed') outcome = 'not_acknowledged';
      else {
        throw Object.assign(new Error(`the union did not take the withdrawal (${res ? `HTTP ${res.status}` : 'no answer'}); `
          + 'the report stays sent: try again later'), { code: 'withdraw_failed' });
      }
    }
    const mark = { id, state: 'withdrawn' };
    if (outcome !== 'never_sent') mark.detail = WITHDRAW_DETAIL[outcome];
    await this.call('report_mark', mark);
    await this._update((s) => { delete s.items[id]; });
    this.onChange();
    return outcome;
  }

  /** What waits and what failed, for the outbox page, the popup and the badge. */
  async status() {
    const s = await this._load();
    const items = Object.entries(s.items).map(([id, v]) => ({ id: Number(id), due: v.due, tries: v.tries | 0, detail: v.detail || null }));
    return { waiting: items.length, failed: s.failed | 0, items, lastError: this.lastError };
  }

  /** The person has seen the failures (opened the outbox). */
  async acknowledge() {
    await this._update((s) => { s.failed = 0; });
    this.onChange();
  }

  /** Sends whatever is due; one run at a time (a call during a run asks for another). */
  run() {
    if (this._running) { this._again = true; return this._running; }
    this._running = (async () => {
      const total = { sent: 0, retry: 0, refused: 0 };
      do {
        this._again = false;
        const r = await this._runOnce();
        for (const k of Object.keys(total)) total[k] += r[k];
      } while (this._again);
      return total;
    })().finally(() => { this._running = null; this.onChange(); });
    return this._running;
  }

  /**
   * Also picks up reports that are queued in the log but not scheduled here (queued by another
   * client, or a schedule lost with the browser's storage): each gets a random delay.
   */
  async adopt() {
    let list;
    try { list = await this.call('report_list', {}); } catch { return 0; }   // locked or away: looked at again later
    const { min, max } = await this.delays();
    const { s, r } = await this._update((s) => {
      let n = 0;
      for (const x of (list && list.reports) || []) {
        if (x.state === 'queued' && !(x.id in s.items)) { s.items[x.id] = { due: this.now() + randomDelay(min, max, this.random), tries: 0 }; n++; }
      }
      return n;
    });
    if (r) { this._wake(s); this.onChange(); }
    return r;
  }

  _wake(s) {
    const dues = Object.values(s.items).map((v) => v.due);
    if (dues.length) this.setTimer(() => this.run(), Math.max(0, Math.min(...dues) - this.now()));
  }

  async _runOnce() {
    const snapshot = await this._load();
    const done = { sent: 0, retry: 0, refused: 0 };
    const due = Object.entries(snapshot.items).filter(([, v]) => v.due <= this.now()).sort((a, b) => a[1].due - b[1].due);
    const later = (key, fields) => this._update((s) => { if (s.items[key]) Object.assign(s.items[key], fields); });
    const drop = (key) => this._update((s) => { delete s.items[key]; });
    for (const [key, item] of due) {
      const id = Number(key);
      // An answer we got but could not record yet (the log locked meanwhile): record it, never resend.
      if (item.mark) {
        try {
          await this.call('report_mark', { id, state: item.mark.state, detail: item.mark.detail });
          await drop(key);
        } catch (e) { this.lastError = e.code || e.message; await later(key, { due: this.now() + LOCKED_RETRY_MS }); }
        continue;
      }
      let rep;
      try {
        rep = await this.call('report_get', { id });
      } catch (e) {
        if (e.code === 'not_found' || e.code === 'bad_params') { await drop(key); continue; }
        // locked, or the host is away: look again later (and at the next unlock)
        this.lastError = e.code || e.message;
        await later(key, { due: this.now() + LOCKED_RETRY_MS, detail: e.code || 'host' });
        continue;
      }
      if (!rep || rep.state === 'sent' || rep.state === 'withdrawn' || typeof rep.wire !== 'string' || typeof rep.submit_url !== 'string') {
        await drop(key);
        continue;
      }
      let res = null, error = null;
      try {
        res = await this._post(rep.submit_url, rep.wire);
      } catch (e) { error = e; }
      const c = classify(res, error, error ? {} : await answerError(res));
      const tries = (item.tries | 0) + 1;
      let state = 'failed', detail, next = null;
      if (c.outcome === 'sent') { state = 'sent'; detail = c.detail; done.sent++; }
      else if (c.outcome === 'retry' && tries < MAX_TRIES) {
        const wait = retryDelay(tries, this.random, RETRY_BASE_MS, RETRY_CAP_MS, retryAfterMs(res));
        detail = `${c.detail}; try ${tries} of ${MAX_TRIES}, next in ${Math.round(wait / 1000)} s`;
        next = this.now() + wait;
        done.retry++;
      } else {
        detail = c.outcome === 'retry' ? `${c.detail}; gave up after ${tries} tries` : c.detail;
        done.refused++;
      }
      detail = detail.slice(0, SEND_POLICY.detail_max);
      if (next === null && state === 'failed') await this._update((s) => { s.failed = (s.failed | 0) + 1; });
      let marked = true;
      try {
        await this.call('report_mark', { id, state, detail });
      } catch (e) {
        marked = false;
        this.lastError = `report_mark: ${e.code || e.message}`;
      }
      if (next !== null) await later(key, { due: next, tries, detail });
      else if (marked) await drop(key);
      else await later(key, { due: this.now() + LOCKED_RETRY_MS, tries, mark: { state, detail } });
    }
    this._wake(await this._load());
    return done;
  }

  async _post(url, wire) {
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    let timer = null;
    if (ctl) timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    try {
      return await this.fetch(url, fetchOptions(wire, ctl ? ctl.signal : undefined));
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
