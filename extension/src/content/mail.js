// Bantrail in webmail (Gmail, Outlook on the web), registered only when the person opted in for
// that webmail (options page; docs/EXTENSION.md "Webmail"). A classic content script loaded after
// detect.js. When a message is open whose sender's domain is a platform's (rules.json
// "mail_senders"), it reports that message's body, sender address and subject — never the inbox
// list, other messages, or anything when no platform's message is open.
// The detection part is pure DOM (BantrailMail.create), loaded into jsdom by the Node tests.
(function (root) {
  'use strict';
  const Detect = root.BantrailDetect;

  // Where an open message's body and sender are, per webmail. Page structure, not wording: kept
  // here, beside the code that walks it.
  const PROFILES = Object.freeze({
    gmail: { body: ['div.a3s'], from: ['[email]'], subject: ['h2[data-thread-perm-id]', 'h2.hP'] },
    outlook: { body: ['[aria-label="Message body"]'], from: ['[data-email]', '[title*="@"]', '[aria-label^="From"]', '[aria-label^="De"]'],
      subject: ['[role="heading"][aria-level="2"]', '[data-testid="subject"]'] },
  });
  const ADDRESS = /([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/;
  const MAX_UP = 12;
  const LIST_ROWS = '[role="option"],[role="row"],[role="listbox"],[role="grid"],tr.zA';

  function hidden(el) {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.hasAttribute('hidden') || e.getAttribute('aria-hidden') === 'true') return true;
      if (e.style && e.style.display === 'none') return true;
    }
    return false;
  }

  function addressOf(el) {
    for (const a of ['email', 'data-email', 'title']) {
      const v = el.getAttribute(a);
      const m = v && ADDRESS.exec(v);
      if (m) return m[1].toLowerCase();
    }
    const m = ADDRESS.exec(el.textContent || '');
    return m ? m[1].toLowerCase() : null;
  }

  const domainCovers = (host, d) => host === d || host.endsWith('.' + d);

  /**
   * webmail: "gmail" or "outlook"; senders: [{domain, platform}]. scan(doc) returns the open
   * platform messages: [{from, platform, subject, text}] (usually one), never anything else.
   */
  function create(webmail, senders) {
    const profile = PROFILES[webmail];
    if (!profile) throw new Error('unknown webmail ' + webmail);
    const list = (senders || []).filter((s) => s && typeof s.domain === 'string' && s.domain);

    function platformOf(address) {
      const host = address.split('@')[1] || '';
      const hit = list.find((s) => domainCovers(host, s.domain.toLowerCase()));
      return hit ? hit.platform : null;
    }

    /** The sender of the message a body belongs to: the nearest ancestor holding a sender. */
    function senderOf(body) {
      let e = body.parentElement;
      for (let i = 0; e && i < MAX_UP; i++, e = e.parentElement) {
        for (const q of profile.from) {
          for (const f of e.querySelectorAll(q)) {
            if (body.contains(f)) continue;     // an address quoted inside the message is not its sender
            if (f.closest(LIST_ROWS)) continue;  // the inbox list's rows are never a message's sender
            const a = addressOf(f);
            if (a) return { address: a, message: e };
          }
        }
      }
      return null;
    }

    function subjectOf(doc, message) {
      for (const q of profile.subject) {
        const el = message.querySelector(q) || doc.querySelector(q);
        if (el && el.textContent.trim()) return el.textContent.replace(/\s+/g, ' ').trim().slice(0, 300);
      }
      return '';
    }

    function scan(doc) {
      const out = [];
      const seen = new Set();
      for (const q of profile.body) {
        for (const body of doc.querySelectorAll(q)) {
          if (seen.has(body) || hidden(body)) continue;
          seen.add(body);
          const s = senderOf(body);
          if (!s) continue;
          const platform = platformOf(s.address);
          if (!platform) continue;                // not a platform's message: not read at all
          const text = Detect.extractText(body);
          if (!text) continue;
          out.push({ from: s.address, platform, subject: subjectOf(doc, s.message), text });
        }
      }
      return out;
    }

    return { scan, platformOf };
  }

  root.BantrailMail = Object.freeze({ create, PROFILES });

  // ---- wiring (only inside the extension) ----------------------------------------------------
  const api = root.browser && root.browser.runtime ? root.browser : root.chrome;
  if (!api || !api.runtime || typeof api.runtime.sendMessage !== 'function' || root.__bantrailMail) return;
  root.__bantrailMail = true;
  const OBSERVE = { childList: true, subtree: true, attributes: true, attributeFilter: ['hidden', 'aria-hidden', 'style'] };
  let mail = null;
  const sent = new Set();

  function check() {
    for (const m of mail.scan(document)) {
      const key = m.from + '\n' + m.subject + '\n' + m.text;
      if (sent.has(key)) continue;
      sent.add(key);
      const lang = (document.documentElement.getAttribute('lang') || '').trim();
      const msg = { from: m.from, subject: m.subject || undefined, text: m.text,
        lang: /^[A-Za-z0-9-]{1,35}$/.test(lang) ? lang : undefined, observed_at: new Date().toISOString() };
      Promise.resolve(api.runtime.sendMessage({ type: 'mail_notice', mail: msg })).catch(() => sent.delete(key));
    }
  }
  (async () => {
    let cfg;
    try { cfg = await api.runtime.sendMessage({ type: 'mail_config' }); } catch (e) { return; }
    if (!cfg || !cfg.enabled || !PROFILES[cfg.webmail]) return;
    mail = create(cfg.webmail, cfg.senders);
    root.BantrailWatch.watch(check, OBSERVE);
  })();
})(globalThis);
