// The webmails Bantrail can read a platform's message in, when the person opted in for each
// (docs/EXTENSION.md "Webmail"). Their content scripts are registered at run time
// (scripting.registerContentScripts) only while the person's setting is on, and only after the
// optional host permission for their origins was granted on the opt-in click. No chrome.* here.

export const WEBMAILS = Object.freeze({
  gmail: Object.freeze({ hosts: Object.freeze(['mail.google.com']) }),
  outlook: Object.freeze({ hosts: Object.freeze(['outlook.live.com', 'outlook.office.com', 'outlook.office365.com']) }),
});

export const MAIL_SCRIPTS = Object.freeze(['src/content/detect.js', 'src/content/watch.js', 'src/content/mail.js']);
export const SCRIPT_PREFIX = 'bantrail-mail-';

/** The match patterns (and optional host permission origins) of one webmail. */
export function webmailOrigins(id) {
  const w = WEBMAILS[id];
  return w ? w.hosts.map((h) => `https://${h}/*`) : [];
}

// Firefox counts mail read for the native host as personal communications transmitted: the
// manifest lists them as optional data collection, asked for with the host permission on the same
// click and checked before each mail is read (the person may withdraw it in about:addons).
// Chromium has no such permission and refuses the member.
export const MAIL_DATA = Object.freeze(['personalCommunications']);

/** What permissions.request/remove/contains take for one webmail (firefox: with MAIL_DATA). */
export function mailPermissions(id, firefox) {
  return firefox ? { origins: webmailOrigins(id), data_collection: [...MAIL_DATA] } : { origins: webmailOrigins(id) };
}

/** Whether `api` (the extension API object) is Firefox's: the only one with runtime.getBrowserInfo. */
export function isFirefox(api) {
  return typeof api.runtime.getBrowserInfo === 'function';
}

/** Firefox: whether the person still consents to webmail id's mail being read (they may withdraw it
 * in about:addons). Elsewhere always. */
export async function mailConsented(api, id) {
  if (!isFirefox(api)) return true;
  try { return await api.permissions.contains(mailPermissions(id, true)); } catch (e) { return false; }
}

/** The webmail id of an https URL, or null (exact host: no subdomains). */
export function webmailOf(url) {
  let u;
  try { u = new URL(url); } catch { return null; }
  if (u.protocol !== 'https:') return null;
  const host = u.hostname.toLowerCase();
  for (const [id, w] of Object.entries(WEBMAILS)) if (w.hosts.includes(host)) return id;
  return null;
}

/** The registration of one webmail's content scripts (top frame, at document_idle). */
export function mailScript(id) {
  return { id: SCRIPT_PREFIX + id, matches: webmailOrigins(id), js: [...MAIL_SCRIPTS], runAt: 'document_idle', allFrames: false, persistAcrossSessions: true };
}

/**
 * What to change so that exactly the opted-in webmails have scripts: `registered` is the ids of
 * our scripts now registered. Returns {register: [script], unregister: [script ids]}.
 */
export function syncPlan(settings, registered) {
  const want = Object.keys(WEBMAILS).filter((id) => settings.webmail && settings.webmail[id] === true);
  const have = new Set(registered.filter((x) => x.startsWith(SCRIPT_PREFIX)));
  return {
    register: want.filter((id) => !have.has(SCRIPT_PREFIX + id)).map(mailScript),
    unregister: [...have].filter((x) => !want.includes(x.slice(SCRIPT_PREFIX.length))),
  };
}

/** A webmail capture as the host's `capture` takes it (docs/EXTENSION.md "Webmail"). */
export function mailCapture(mail, platform, webmail) {
  const out = {
    // The platform's sender address stands for where the notice came from: a webmail URL would
    // count against it in the host's classifier (a page outside every platform), and says nothing.
    url: `mailto:${mail.from}`,
    text: mail.text,
    classification: { platform, trigger: `webmail_${webmail}` },
  };
  if (mail.subject) out.title = mail.subject;
  if (mail.lang) out.lang = mail.lang;
  if (mail.observed_at) out.observed_at = mail.observed_at;
  return out;
}
