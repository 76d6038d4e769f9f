// The path of a capture (docs/DESIGN.md section 2): screenshot, `capture` and `attach` to the host, or
// kept for later — sealed in the outbox, or in memory while no public key is known — and
// delivered when the host is back. No chrome.* here: the port client, the outbox, storage and the
// screenshot function are passed in, so Node's test runner drives it with fakes.
import { UNAVAILABLE } from './native.js';

// Errors after which a capture is kept for later rather than given up ('damaged': until the person
// runs bantrail recover, after which the host writes to the new log).
export const RETRYABLE = new Set([...UNAVAILABLE, 'busy', 'storage', 'damaged']);
export const UNSEALED_MAX = 20;
const UNSEALED_KEY = 'unsealed';

export class Pipeline {
  /**
   * client: NativeClient; outbox: Outbox; storage: {get, set} (extension storage, never given a
   * notice in clear); screenshot(tab) -> base64 PNG or null; settings() -> sanitised settings;
   * onChange(): something waiting changed (the badge).
   */
  /**
   * storage keeps what must outlive the browser (sealed or never secret); memo what may not be
   * written to disk: what the last capture was (its time, platform and kind) stays in memory.
   */
  constructor({ client, outbox, storage, memo, screenshot, settings, onChange = () => {}, now = () => Date.now() }) {
    Object.assign(this, { client, outbox, storage, memo, screenshot, settings, onChange, now });
    this.unsealed = null;      // what came before the host was ever reached: see _pending()
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
    if (stored) {
      const c = (r.classification && typeof r.classification === 'object' ? r.classification : capture.classification) || {};
      await this.memo.set('lastCapture', { at: this.now(), record: r.id, platform: c.platform || null,
        kind: c.kind || null, occurrence: Boolean(r.occurrence) });
    }
    return { stored, id: stored ? r.id : null, occurrence: Boolean(r && r.occurrence),
      classification: r && r.classification ? r.classification : null };
  }

  /**
   * What waits before any public key is known, so cannot be sealed: kept in memo (the browser's
   * session storage, in memory only), so that it outlives the worker being stopped when idle, but
   * never the browser, and never written to disk.
   */
  _pending() {
    if (!this._pendingLoad) {
      this._pendingLoad = this.memo.get(UNSEALED_KEY).then((v) => (this.unsealed = Array.isArray(v) ? v : []),
        () => (this.unsealed = []));
    }
    return this._pendingLoad;
  }

  async _savePending() {
    try { await this.memo.set(UNSEALED_KEY, this.unsealed); } catch { /* over the session quota: this worker's memory */ }
  }

  /** Keeps a payload for later: sealed in the outbox, or in memory until a public key is known. */
  async keep(payload) {
    const pk = await this.storage.get('publicKey');
    try {
      const pending = await this._pending();
      if (pk) await this.outbox.add(payload, pk);
      else if (pending.length < UNSEALED_MAX) {
        pending.push(payload);
        await this._savePending();
      } else await this.storage.set('lostUnsealed', ((await this.storage.get('lostUnsealed')) | 0) + 1);
    } finally {
      this.onChange();
      this.client.scheduleRetry(() => this.deliverAll());
    }
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
      return { stored: false, queued: true };
    }
    this.lastError = `${what}: ${e.code || ''} ${e.message}`;
    return { stored: false, error: e.code || 'internal' };
  }

  /** Delivers everything waiting (in memory first, then the sealed outbox); one run at a time. */
  deliverAll() {
    if (!this._delivering) {
      this._delivering = this._deliverOnce().finally(() => { this._delivering = null; this.onChange(); });
    }
    return this._delivering;
  }

  async _deliverOnce() {
    const waiting = await this.outbox.status();
    const pending = await this._pending();
    if (waiting.count === 0 && pending.length === 0) return { delivered: 0, remaining: 0, error: null };
    let hello;
    try {
      hello = await this.client.ensure();
    } catch (e) {
      this.client.scheduleRetry(() => this.deliverAll());
      return { delivered: 0, remaining: waiting.count + pending.length, error: e.code };
    }
    let delivered = 0;
    while (pending.length) {
      const p = pending[0];
      try {
        if (p.capture) await this.send(p.capture, p.attachments);
        else if (p.event) await this.client.call('event_add', p.event);
        else for (const a of p.attachments) await this.client.call('attach', { record: p.record, mime: a.mime, data: a.data });
      } catch (e) {
        if (RETRYABLE.has(e.code)) {
          this.client.scheduleRetry(() => this.deliverAll());
          return { delivered, remaining: waiting.count + pending.length, error: e.code };
        }
        this.lastError = `deliver: the host refused ${p.event ? 'an appeal event' : 'a capture'} (${e.code})`;
      }
      pending.shift();
      await this._savePending();
      delivered++;
    }
    if (waiting.count === 0) return { delivered, remaining: 0, error: null };
    if (!(hello.capabilities || []).includes('capture_sealed')) {
      this.lastError = 'deliver: the host does not accept sealed captures (capture_sealed); update bantrail';
      return { delivered, remaining: waiting.count, error: 'host_too_old' };
    }
    const r = await this.outbox.deliver(async (item) => {
      const res = await this.client.call('capture_sealed', { sealed: item.sealed });
      if (res && typeof res.id === 'number') await this.memo.set('lastCapture', { at: this.now(), record: res.id, delivered: true });
    });
    if (r.error) {
      this.lastError = `deliver: ${r.error.code || r.error.message}`;
      if (RETRYABLE.has(r.error.code)) this.client.scheduleRetry(() => this.deliverAll());
    }
    return { delivered: delivered + r.delivered, remaining: r.remaining, error: r.error ? r.error.code || 'internal' : null };
  }

  /** What waits, for the popup and the badge. */
  async waiting() {
    const o = await this.outbox.status();
    return { ...o, unsealed: (await this._pending()).length, lostUnsealed: (await this.storage.get('lostUnsealed')) | 0 };
  }
}
