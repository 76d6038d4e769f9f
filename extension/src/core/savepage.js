// "Save this page as a notice" (docs/EXTENSION.md): what recognition missed, stored because the
// person asked. The popup names the tab on screen; the worker reads that page's visible text (what
// the person is shown, as innerText renders it: nothing hidden, no form values) and sends it down
// the same pipeline as any capture, marked manual so the host stores it whatever its classifier
// says. No chrome.* here, so Node's test runner checks it.
import { LIMITS, fitsBytes } from './vocabulary.js';

/** Runs inside the page (chrome.scripting.executeScript): its visible text, title and language. */
export function pageSnapshot() {
  const body = document.body;
  return {
    text: body ? body.innerText : '',
    title: document.title || '',
    lang: document.documentElement.lang || '',
  };
}

/** Whether a tab's URL is a web page a notice can be saved from (not the browser's or ours). */
export function isWebPage(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The longest prefix of s that fits max bytes of UTF-8, not cutting a character. */
function fit(s, max) {
  if (fitsBytes(s, max)) return s;
  let lo = 0, hi = s.length;
  while (lo < hi) {   // the longest prefix whose UTF-8 fits
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsBytes(s.slice(0, mid), max)) lo = mid; else hi = mid - 1;
  }
  const cut = s.slice(0, lo);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * The capture params for a page snapshot (pageSnapshot's result) of url, on platform (an id, or
 * null when the host is no platform's: the host's classifier then names it from the text). Throws
 * {code: 'not_a_web_page'} or {code: 'empty_page'}.
 */
export function manualNotice(url, snap, platform) {
  if (!isWebPage(url) || !fitsBytes(url, LIMITS.url_max)) throw Object.assign(new Error(url), { code: 'not_a_web_page' });
  const text = snap && typeof snap.text === 'string' ? snap.text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim() : '';
  if (!text) throw Object.assign(new Error('no visible text'), { code: 'empty_page' });
  const n = { url, text: fit(text, LIMITS.text_max), manual: true };
  if (snap.title) n.title = fit(String(snap.title), LIMITS.title_max);
  if (typeof snap.lang === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(snap.lang)) n.lang = snap.lang;
  if (platform) n.classification = { platform };
  return n;
}
