// Helpers shared by the extension's pages: messages to the service worker, translations, and DOM
// building with textContent only (never innerHTML).
export const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;

export function t(key, subs) {
  return api.i18n.getMessage(key, subs) || key;
}

/**
 * A message about n things, by the plural rules of the browser's language: KEY_one or KEY_other
 * (the locale files carry both; languages without plural forms repeat one text). subs default to
 * [n].
 */
export function tn(key, n, subs = [String(n)]) {
  const rule = new Intl.PluralRules(api.i18n.getUILanguage()).select(n);
  return api.i18n.getMessage(`${key}_${rule}`, subs) || t(`${key}_other`, subs);
}

/** Fills [data-i18n] (text), [data-i18n-label] (aria-label) and [data-i18n-placeholder]. */
export function localise(root = document) {
  document.documentElement.lang = api.i18n.getUILanguage();
  for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll('[data-i18n-label]')) e.setAttribute('aria-label', t(e.dataset.i18nLabel));
  for (const e of root.querySelectorAll('[data-i18n-placeholder]')) e.setAttribute('placeholder', t(e.dataset.i18nPlaceholder));
  for (const e of root.querySelectorAll('[data-i18n-title]')) e.setAttribute('title', t(e.dataset.i18nTitle));
}

export class PageError extends Error {
  constructor(code, message) { super(message || code); this.code = code; }
}

/** Asks the service worker; resolves with the result or throws a PageError. */
export async function ask(type, extra = {}) {
  const r = await api.runtime.sendMessage({ type, ...extra });
  if (!r) throw new PageError('no_answer');
  if (r.error) throw new PageError(r.error.code, r.error.message);
  return r.result;
}

/** Creates an element: attributes (with `text` for textContent), then children. */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** A person-readable message for an error code (falls back to the code). */
export function errorText(e) {
  const key = 'err_' + (e && e.code ? e.code : 'internal');
  const m = api.i18n.getMessage(key);
  return m || t('err_internal') + (e && e.code ? ` (${e.code})` : '');
}

/**
 * What to say after `unlock` answered r: that it is unlocked, and when sealed captures kept while it
 * was locked could not be stored now (r.waiting, r.waiting_error: a full disk), that they still wait.
 */
export function unlockedText(r) {
  const waiting = sealedWaitingText(r && r.waiting, r && r.waiting_error);
  return waiting ? `${t('unlocked')} ${waiting}` : t('unlocked');
}

/** That n sealed captures kept while the log was locked still wait, and why (an error code); '' for none. */
export function sealedWaitingText(n, why) {
  if (!Number.isSafeInteger(n) || n <= 0) return '';
  return tn('sealedWaiting', n, [String(n), errorText({ code: why || 'internal' })]);
}

export function vaultStateKey(vault) {
  if (!vault || vault.state === 'error') return 'stateError';
  return { unprotected: 'stateUnprotected', locked: 'stateLocked', unlocked: 'stateUnlocked' }[vault.state] || 'stateError';
}

export function formatTime(ms) {
  if (!ms) return '';
  return new Intl.DateTimeFormat(api.i18n.getUILanguage(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}

export function kindLabel(kind) {
  return kind ? (api.i18n.getMessage('kind_' + kind) || kind) : t('kind_unknown');
}

export function platformLabel(p) {
  return p ? (api.i18n.getMessage('platform_' + p) || p) : t('platform_unknown');
}

export function say(region, text, isError) {
  region.textContent = text;
  region.classList.toggle('error', Boolean(isError));
}

/**
 * When a page needs the log and finds it locked: a passphrase form in `box` (emptied first), so the
 * person unlocks where they are; after the host unlocks, the form goes and onUnlocked() runs.
 */
export function unlockInPlace(box, onUnlocked) {
  const input = h('input', { id: 'unlock-here-pass', type: 'password', autocomplete: 'current-password', required: true });
  const note = h('p', { role: 'alert' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'unlock-here-title' },
    h('h2', { id: 'unlock-here-title', text: t('unlockHere') }),
    h('label', { for: 'unlock-here-pass', text: t('passphraseLabel') }),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', text: t('unlock') })),
    note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await ask('unlock', { passphrase: input.value });
      input.value = '';
      box.replaceChildren();
      onUnlocked();
    } catch (e) {
      say(note, errorText(e), true);
      input.select();
    }
  });
  box.replaceChildren(form);
  input.focus();
}

/**
 * Says what went wrong in region; a locked log is not an error there but a passphrase asked in
 * unlockBox (once), after which retry() runs.
 */
export function showError(e, region, unlockBox, retry) {
  if (e && e.code === 'locked' && unlockBox) {
    say(region, '');
    if (!unlockBox.hasChildNodes()) unlockInPlace(unlockBox, retry);
    return;
  }
  say(region, errorText(e) + (e && e.message && e.message !== e.code ? ` (${e.message})` : ''), true);
}

/** The host's state in words: connected, not installed (and the command), or not answering. */
export function hostText(s) {
  if (s.host === 'connected') return t('hostConnected');
  if (s.host === 'missing') return t('hostMissing');
  return t('hostNotConnected');
}
