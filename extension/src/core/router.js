// Which messages the service worker accepts, and from whom. Content scripts (on the platforms'
// pages) may only ask for their page's configuration and report a notice; the extension's own
// pages get the person's actions. Anything else — another extension, a web page, an unknown
// type, a malformed body — is refused. No chrome.* here.
import { SHARE_TYPES } from './share.js';
import { LIMITS, fitsBytes } from './vocabulary.js';

export const CONTENT_TYPES = Object.freeze(['page_config', 'notice', 'appeal_submitted']);
// The software probe (src/content/software.js), on any https page: what to look for, what it found.
export const SOFTWARE_TYPES = Object.freeze(['software_probe', 'software_found']);
// The webmail content script (registered only while the person opted in; core/webmail.js).
export const MAIL_TYPES = Object.freeze(['mail_config', 'mail_notice']);
// Cases and appeals (docs/PROTOCOL.md "Cases and appeals"), from the log page.
export const CASE_TYPES = Object.freeze(['cases', 'case_get', 'case_merge', 'case_split', 'event_add', 'case_export']);
export const PAGE_TYPES = Object.freeze(['status', 'save_page', 'unlock', 'lock', 'set_passphrase', 'recovery_code',
  'list', 'get', 'settings_get', 'settings_set', 'deliver_outbox', 'discard_held', 'platforms', 'verify', 'log_accept', ...CASE_TYPES]);

const isStr = (v, max) => typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Classifies a sender: "page" (one of our extension pages), "content" (our content script in a
 * tab) or null. `selfId` is our extension id, `selfOrigin` our pages' origin with trailing slash.
 */
export function senderKind(sender, selfId, selfOrigin) {
  if (!sender || sender.id !== selfId || typeof sender.url !== 'string') return null;
  if (sender.url.startsWith(selfOrigin)) return 'page';
  if (sender.tab && typeof sender.tab.id === 'number' && /^https:\/\//.test(sender.url)) return 'content';
  return null;
}

/** Checks an appeal submission as sent by the content script: {at (ISO), note?}; clean copy or null. */
export function cleanAppeal(a) {
  if (!a || typeof a !== 'object' || !isStr(a.at, 40) || Number.isNaN(Date.parse(a.at))) return null;
  const out = { at: a.at };
  if (fitsBytes(a.note, LIMITS.note_max)) out.note = a.note;
  return out;
}

/** Checks a webmail message as sent by mail.js: {from, text, subject?, lang?, observed_at?}. */
export function cleanMail(m) {
  if (!m || typeof m !== 'object' || !isStr(m.from, 320) || !/^[^@\s<>]+@[^@\s<>]+$/.test(m.from)) return null;
  if (!fitsBytes(m.text, LIMITS.text_max)) return null;
  const out = { from: m.from.toLowerCase(), text: m.text };
  if (fitsBytes(m.subject, LIMITS.title_max)) out.subject = m.subject;
  if (isStr(m.lang, LIMITS.lang_max) && /^[A-Za-z0-9-]+$/.test(m.lang)) out.lang = m.lang;
  if (isStr(m.observed_at, 40) && !Number.isNaN(Date.parse(m.observed_at))) out.observed_at = m.observed_at;
  return out;
}

/** Checks a notice's shape as sent by the content script; returns a clean copy or null. */
export function cleanNotice(n) {
  if (!n || typeof n !== 'object') return null;
  if (!fitsBytes(n.url, LIMITS.url_max) || !fitsBytes(n.text, LIMITS.text_max)) return null;
  const out = { url: n.url, text: n.text };
  if (fitsBytes(n.title, LIMITS.title_max)) out.title = n.title;
  if (isStr(n.lang, LIMITS.lang_max) && /^[A-Za-z0-9-]+$/.test(n.lang)) out.lang = n.lang;
  if (isStr(n.observed_at, 40) && !Number.isNaN(Date.parse(n.observed_at))) out.observed_at = n.observed_at;
  if (n.classification && typeof n.classification === 'object') {
    const c = {};
    for (const k of ['platform', 'kind', 'trigger']) if (isStr(n.classification[k], 64)) c[k] = n.classification[k];
    out.classification = c;
  }
  return out;
}

/**
 * Decides whether a message may be handled. Returns {ok: true, kind} or {ok: false, reason}.
 * `platformOf(url, sender)` returns the platform id of a URL (or of a tab whose software was
 * recognised) or null: a content script must be on a platform's page, and a notice must be about
 * the page it was sent from. The software probe may ask from any https page.
 */
export function admit(msg, sender, { selfId, selfOrigin, platformOf, webmailOf = () => null }) {
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return { ok: false, reason: 'bad_message' };
  const kind = senderKind(sender, selfId, selfOrigin);
  if (kind === 'page') {
    return PAGE_TYPES.includes(msg.type) || SHARE_TYPES.includes(msg.type) ? { ok: true, kind } : { ok: false, reason: 'not_allowed' };
  }
  if (kind === 'content' && webmailOf(sender.url)) {
    // A webmail tab: only the webmail script's two messages (it runs there only when opted in).
    if (!MAIL_TYPES.includes(msg.type)) return { ok: false, reason: 'not_allowed' };
    if (msg.type === 'mail_notice' && !cleanMail(msg.mail)) return { ok: false, reason: 'bad_message' };
    return { ok: true, kind: 'webmail' };
  }
  if (kind === 'content' && SOFTWARE_TYPES.includes(msg.type)) {
    if (msg.type === 'software_found' && !isStr(msg.platform, 24)) return { ok: false, reason: 'bad_message' };
    return { ok: true, kind };
  }
  if (kind === 'content') {
    if (!CONTENT_TYPES.includes(msg.type)) return { ok: false, reason: 'not_allowed' };
    if (msg.type === 'appeal_submitted' && !cleanAppeal(msg.appeal)) return { ok: false, reason: 'bad_message' };
    if (!platformOf(sender.url, sender)) return { ok: false, reason: 'not_a_platform' };
    if (msg.type === 'notice') {
      const n = cleanNotice(msg.notice);
      if (!n) return { ok: false, reason: 'bad_message' };
      let a, b;
      try { a = new URL(n.url); b = new URL(sender.url); } catch { return { ok: false, reason: 'bad_message' }; }
      if (a.origin !== b.origin) return { ok: false, reason: 'not_allowed' };
    }
    return { ok: true, kind };
  }
  return { ok: false, reason: 'unknown_sender' };
}
