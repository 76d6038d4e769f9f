// The outbox: captures that could not reach the host wait here, each sealed to the log's public
// key, until the host is back. Bounded by count and bytes; when it is full a screenshot is left
// out first, then the capture is refused and counted as lost — never dropped silently: the
// counts are shown on the popup and the toolbar badge. No chrome.* here: storage and sealing are
// passed in.
//
// The same queue, built without `seal`, is what waits before any public key is known (the host
// never answered in this browser profile): kept in clear under its own storage key and its own
// bounds (core/pipeline.js `held`), sealed into the outbox the moment a key is known.
//
// An item is {id, queued_at, size, sealed, kind: "capture"|"attach"|"event"} (in the clear queue
// `clear` instead of `sealed`: the JSON itself). `sealed` is base64
// of crypto_box_seal(JSON, log public key), where JSON is the payload of the host's
// `capture_sealed` method (docs/PROTOCOL.md):
//   {"v": 1, "capture": {capture params}, "attachments": [{"mime", "data"}]},
//   {"v": 1, "record": id, "attachments": [...]}  (a screenshot for a record already stored) or
//   {"v": 1, "event": {event_add params}}  (an appeal submission).

export const OUTBOX_KEY = 'outbox';
export const DEFAULT_LIMITS = Object.freeze({ maxItems: 200, maxBytes: 8 * 1024 * 1024 });

export class OutboxFull extends Error {
  constructor() { super('outbox full'); this.code = 'outbox_full'; }
}

function randomId() {
  const b = new Uint8Array(12);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Outbox {
  /**
   * storage: {get(key) -> Promise<value|undefined>, set(key, value) -> Promise}
   * seal: async (publicKeyB64, string) -> base64; null keeps items in clear (`clear`, no key).
   * key: where in storage the queue lives.
   */
  constructor({ storage, seal = null, key = OUTBOX_KEY, limits = DEFAULT_LIMITS, now = () => Date.now() }) {
    this._storage = storage;
    this._seal = seal || (async (_pk, text) => text);
    this._field = seal ? 'sealed' : 'clear';
    this._key = key;
    this._limits = limits;
    this._now = now;
    this._chain = Promise.resolve();   // serialises every read-modify-write of the stored state
  }

  _locked(fn) {
    const run = this._chain.then(fn, fn);
    this._chain = run.catch(() => {});
    return run;
  }

  async _load() {
    const s = await this._storage.get(this._key);
    return s && Array.isArray(s.items)
      ? { items: s.items, lost: s.lost | 0, screenshotsLeftOut: s.screenshotsLeftOut | 0 }
      : { items: [], lost: 0, screenshotsLeftOut: 0 };
  }

  /**
   * Seals and stores one payload. Returns {id, screenshotLeftOut}. Throws OutboxFull when even the
   * notice without its screenshot does not fit, after counting the loss unless countLoss is false
   * (the caller keeps the payload elsewhere). from: the id of the item it came from in another
   * queue (see sources()), kept beside it.
   */
  add(payload, publicKeyB64, { countLoss = true, from = null } = {}) {
    return this._locked(async () => {
      const st = await this._load();
      const bytes = st.items.reduce((n, it) => n + it.size, 0);
      const room = (size) => st.items.length < this._limits.maxItems && bytes + size <= this._limits.maxBytes;
      let body = { v: 1, ...payload };
      let sealed = await this._seal(publicKeyB64, JSON.stringify(body));
      let leftOut = false;
      if (!room(sealed.length) && payload.attachments && payload.attachments.length && payload.capture) {
        body = { v: 1, capture: payload.capture, attachments: [], attachments_left_out: payload.attachments.length };
        sealed = await this._seal(publicKeyB64, JSON.stringify(body));
        leftOut = true;
      }
      if (!room(sealed.length)) {
        if (countLoss) {
          st.lost += 1;
          await this._storage.set(this._key, st);
        }
        throw new OutboxFull();
      }
      if (leftOut) st.screenshotsLeftOut += 1;
      const item = { id: randomId(), queued_at: this._now(), size: sealed.length, [this._field]: sealed,
        kind: payload.capture ? 'capture' : payload.event ? 'event' : 'attach' };
      if (from) item.from = from;
      st.items.push(item);
      await this._storage.set(this._key, st);
      return { id: item.id, screenshotLeftOut: leftOut };
    });
  }

  /** The `from` of every item waiting: what another queue moved here (and may not have removed yet). */
  async sources() {
    return new Set((await this._load()).items.map((it) => it.from).filter(Boolean));
  }

  /** The bounds: {maxItems, maxBytes}. */
  get limits() { return this._limits; }

  /** {count, bytes, lost, screenshotsLeftOut, oldest} — what the popup shows. */
  async status() {
    const st = await this._load();
    return { count: st.items.length, bytes: st.items.reduce((n, it) => n + it.size, 0), lost: st.lost,
      screenshotsLeftOut: st.screenshotsLeftOut, oldest: st.items.length ? st.items[0].queued_at : null };
  }

  /**
   * Delivers items oldest first with `send(item)` (which resolves once the host has committed it).
   * An item is removed only after its delivery; the first failure stops the run and is returned.
   * Returns {delivered, remaining, error}.
   */
  deliver(send) {
    return this._locked(async () => {
      let delivered = 0;
      for (;;) {
        const st = await this._load();
        if (st.items.length === 0) return { delivered, remaining: 0, error: null };
        const item = st.items[0];
        try {
          await send(item);
        } catch (e) {
          return { delivered, remaining: st.items.length, error: e };
        }
        const after = await this._load();
        after.items = after.items.filter((it) => it.id !== item.id);
        await this._storage.set(this._key, after);
        delivered++;
      }
    });
  }

  /** Removes every item (the person chose to discard them); resolves with how many there were. */
  discard() {
    return this._locked(async () => {
      const st = await this._load();
      const n = st.items.length;
      st.items = [];
      await this._storage.set(this._key, st);
      return n;
    });
  }

  /** Forgets the lost/left-out counters once the person has seen them. */
  acknowledge() {
    return this._locked(async () => {
      const st = await this._load();
      st.lost = 0;
      st.screenshotsLeftOut = 0;
      await this._storage.set(this._key, st);
    });
  }
}
