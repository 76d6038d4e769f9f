// The path of a capture (docs/DESIGN.md section 2): screenshot, `capture` and `attach` to the host, or
// kept for later — sealed in the outbox once the log's public key is known, or before that held in
// clear in this browser's storage (`held`, docs/SECURITY.md) — and delivered when the host is back.
// No chrome.* here: the port client, the queues, storage and the screenshot function are passed
// in, so Node's test runner drives it with fakes.
import { UNAVAILABLE } from './native.js';
import { Outbox } from './outbox.js';

// Errors after which a capture is kept for later rather than given up ('damaged': until the person
// runs bantrail recover, after which the host writes to the new log; 'disk_full': until there is space).
export const RETRYABLE = new Set([...UNAVAILABLE, 'busy', 'storage', 'damaged', 'disk_full']);
// What is held before any public key is known: in clear, so fewer and smaller than the outbox.
export const HELD_KEY = 'held';
export const HELD_LIMITS = Object.freeze({ maxItems: 50, maxBytes: 4 * 1024 * 1024 });

export class Pipeline {
  /**
   * client: NativeClient; outbox: Outbox; storage: {get, set} (extension storage, never given a
   * notice in clear); screenshot(tab) -> base64 PNG or null; settings() -> sanitised settings;
   * onChange(): something waiting changed (the badge).
   */
  /**
   * storage keeps what must outlive the browser (sealed, never secret, or held until set-up is
   * finished: below); memo what may not be written to disk: what the last capture was (its time,
   * platform and kind) stays in memory. held: the queue in clear (an Outbox without seal; made
   * here on storage when not given).
   */
  constructor({ client, outbox, held, storage, memo, screenshot, settings, onChange = () => {}, now = () => Date.now() }) {
    held = held || new Outbox({ storage, key: HELD_KEY, limits: HELD_LIMITS, now });
    Object.assign(this, { client, outbox, held, storage, memo, screenshot, settings, onChange, now });
    this.lastError = null;
    this._delivering = null;
  }

  /**
   * Sends one capture and its attachments to the host. Returns {stored, id, occurrence,
   * classification}. The host's classifier decides: text it does not take for a notice is not
   * stored (stored: false) and its screenshot is dropped, never kept. The same notice seen again
   * is an occurrence of the earlier record, whose screenshot already stands for it.
   */
  async send(capture, attachments) {
    const r = await this.client.call('capture', capture);
    const stored = Boolean(r) && r.stored !== false && typeof r.id === 'number';
    if (stored && !r.occurrence) {
      for (const a of attachments) {
        try {
          await this.client.call('attach', { record: r.id, mime: a.mime, data: a.data });
        } catch (e) {
          if (!RETRYABLE.has(e.code)) throw e;
          await this.keep({ record: r.id, attachments: [a] });
        }
      }
    }
    if (stored) await this._remember(r, capture.classification);
    return { stored, id: stored ? r.id : null, occurrence: Boolean(r && r.occurrence),
      classification: r && r.classification ? r.classification : null };
  }

  /** Notes, in memory, what the last capture stored was (host's answer r), for the popup. */
  _remember(r, fallback = null, extra = {}) {
    const c = (r.classification && typeof r.classification === 'object' ? r.classification : fallback) || {};
    return this.memo.set('lastCapture', { at: this.now(), record: r.id, platform: c.platform || null,
      kind: c.kind || null, occurrence: Boolean(r.occurrence), ...extra });
  }

  /**
   * Keeps a payload for later. Once the log's public key is known it is sealed into the outbox
   * (and so is everything held before, first); before that it is held in clear in this browser's
   * storage, which outlives the worker and the browser. Throws OutboxFull when the queue it goes
   * to is full (the loss is counted there).
   */
  async keep(payload) {
    try {
      const pk = await this.storage.get('publicKey');
      if (pk) {
        await this._sealHeld(pk);
        await this.outbox.add(payload, pk);
      } else await this.held.add(payload);
    } finally {
      this.onChange();
      this.client.scheduleRetry(() => this.deliverAll());
    }
  }

  /**
   * Seals what was held in clear to public key pk and moves it into the outbox, oldest first; an
   * item leaves the held queue only once it is in the outbox (which notes where it came from, so
   * that one left in both by a worker stopped in between is not moved twice). Stops (keeping the
   * rest held) when the outbox is full. Returns the number moved.
   */
  async _sealHeld(pk) {
    const moved = await this.outbox.sources();
    const r = await this.held.deliver(async (item) => {
      if (moved.has(item.id)) return;   // in the outbox already: only its removal from here was lost
      const payload = JSON.parse(item.clear);
      delete payload.v;   // outbox.add puts it back
      await this.outbox.add(payload, pk, { countLoss: false, from: item.id });
    });
    if (r.error) this.lastError = `outbox: ${r.error.code || r.error.message}`;
    return r.delivered;
  }

  /** Discards what is held in clear (the person chose to); resolves with how many there were. */
  async discardHeld() {
    try { return await this.held.discard(); } finally { this.onChange(); }
  }

  /**
   * A notice from a content script, with the tab it was seen in. `screenshot: false` for webmail:
   * a picture of the tab would show the inbox around the platform's message.
   */
  async capture(notice, tab, { screenshot = true } = {}) {
    const s = await this.settings();
    const png = s.screenshots && screenshot ? await this.screenshot(tab) : null;
    const attachments = png ? [{ mime: 'image/png', data: png }] : [];
    try {
      return await this.send(notice, attachments);
    } catch (e) {
      return this._failed(e, { capture: notice, attachments }, 'capture');
    }
  }

  /**
   * An appeal event (event_add params). Kept like a capture when the host is away — sealed in the
   * outbox once the log's public key is known — and delivered when it is back. Returns the host's
   * answer, or {stored: false, queued: true} when kept.
   */
  async event(params) {
    try {
      return await this.client.call('event_add', params);
    } catch (e) {
      return this._failed(e, { event: params }, 'appeal');
    }
  }

  /** After a call failed with e: keeps payload for later if the host may take it then, else says why. */
  async _failed(e, payload, what) {
    if (RETRYABLE.has(e.code)) {
      try {
        await this.keep(payload);
      } catch (k) {
        this.lastError = `outbox: ${k.code || k.message}`;
        return { stored: false, queued: false, error: k.code || 'outbox_full' };
      }
      // the popup says when the last capture was, and that it waits
      if (payload.capture) await this._remember({ id: null }, payload.capture.classification, { waiting: true });
      return { stored: false, queued: true };
    }
    this.lastError = `${what}: ${e.code || ''} ${e.message}`;
    return { stored: false, error: e.code || 'internal' };
  }

  /** Delivers everything waiting (what is held is sealed into the outbox first); one run at a time. */
  deliverAll() {
    if (!this._delivering) {
      this._delivering = this._deliverOnce().finally(() => { this._delivering = null; this.onChange(); });
    }
    return this._delivering;
  }

  async _deliverOnce() {
    // What is held is sealed as soon as a public key is known, whether or not the host answers now.
    const known = await this.storage.get('publicKey');
    if (known && (await this.held.status()).count) await this._sealHeld(known);
    const waiting = await this.outbox.status();
    const held = await this.held.status();
    if (waiting.count === 0 && held.count === 0) return { delivered: 0, remaining: 0, error: null };
    let hello;
    try {
      hello = await this.client.ensure();
    } catch (e) {
      this.client.scheduleRetry(() => this.deliverAll());
      return { delivered: 0, remaining: waiting.count + held.count, error: e.code };
    }
    // The host answered: the public key of its hello seals what was held.
    const pk = hello && hello.vault && hello.vault.public_key;
    if (held.count && pk) await this._sealHeld(pk);
    if ((await this.outbox.status()).count === 0) return { delivered: 0, remaining: (await this.held.status()).count, error: null };
    if (!(hello.capabilities || []).includes('capture_sealed')) {
      this.lastError = 'deliver: the host does not accept sealed captures (capture_sealed); update bantrail';
      return { delivered: 0, remaining: (await this.outbox.status()).count, error: 'host_too_old' };
    }
    const r = await this.outbox.deliver(async (item) => {
      const res = await this.client.call('capture_sealed', { sealed: item.sealed });
      // a capture the host stored (not an event, a repeat's screenshot or a duplicate)
      if (res && res.classification && res.stored !== false && typeof res.id === 'number') await this._remember(res, null, { delivered: true });
    });
    if (r.error) {
      this.lastError = `deliver: ${r.error.code || r.error.message}`;
      if (RETRYABLE.has(r.error.code)) this.client.scheduleRetry(() => this.deliverAll());
    }
    return { delivered: r.delivered, remaining: r.remaining + (await this.held.status()).count,
      error: r.error ? r.error.code || 'internal' : null };
  }

  /**
   * What waits, for the popup and the badge: the outbox's status, and `held` (the held queue's:
   * count, bytes, lost, screenshotsLeftOut, oldest, and its bounds maxItems, maxBytes).
   */
  async waiting() {
    return { ...(await this.outbox.status()), held: { ...(await this.held.status()), ...this.held.limits } };
  }

  /** Forgets the lost/left-out counts of both queues once the person has seen them. */
  async acknowledge() {
    await this.outbox.acknowledge();
    await this.held.acknowledge();
  }
}
