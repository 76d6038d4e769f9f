// Which messages the service worker accepts, and from whom. Content scripts (on the platforms'
// pages) may only ask for their page's configuration and report a notice; the extension's own
// pages get the person's actions. Anything else — another extension, a web page, an unknown
// type, a malformed body — is refused. No chrome.* here.

export const CONTENT_TYPES = Object.freeze(['page_config', 'notice']);
export const PAGE_TYPES = Object.freeze(['status', 'unlock', 'lock', 'set_passphrase', 'recovery_code',
  'list', 'get', 'settings_get', 'settings_set', 'deliver_outbox', 'platforms', 'verify']);

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

/** Checks a notice's shape as sent by the content script; returns a clean copy or null. */
export function cleanNotice(n) {
  if (!n || typeof n !== 'object') return null;
  if (!isStr(n.url, 8192) || !isStr(n.text, 1024 * 1024)) return null;
  const out = { url: n.url, text: n.text };
  if (isStr(n.title, 4096)) out.title = n.title;
  if (isStr(n.lang, 35) && /^[A-Za-z0-9-]+$/.test(n.lang)) out.lang = n.lang;
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
 * `platformOf(url)` returns the platform id of a URL or null: a content script must be on a
 * platform's page, and a notice must be about the page it was sent from.
 */
export function admit(msg, sender, { selfId, selfOrigin, platformOf }) {
  if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return { ok: false, reason: 'bad_message' };
  const kind = senderKind(sender, selfId, selfOrigin);
  if (kind === 'page') {
    return PAGE_TYPES.includes(msg.type) ? { ok: true, kind } : { ok: false, reason: 'not_allowed' };
  }
  if (kind === 'content') {
    if (!CONTENT_TYPES.includes(msg.type)) return { ok: false, reason: 'not_allowed' };
    if (!platformOf(sender.url)) return { ok: false, reason: 'not_a_platform' };
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
