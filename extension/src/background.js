// Bantrail's service worker (Chromium) / background script (Firefox). It only routes: messages are
// admitted by type and sender (core/router.js), captures go to the native host over one port
// (core/native.js) or, while the host is away, into the sealed outbox (core/outbox.js) — or, before
// the log's public key is known, held in clear in storage.local (core/pipeline.js).
import { NativeClient, NativeError } from './core/native.js';
import { Pipeline } from './core/pipeline.js';
import { Outbox } from './core/outbox.js';
import { sealString } from './core/seal.js';
import { admit, cleanNotice, cleanAppeal, cleanMail } from './core/router.js';
import { compileRules, pageConfig, platformForHost, appealConfig, mailPlatform, softwareProbes } from './core/rules.js';
import { sanitiseSettings, platformEnabled, webmailEnabled } from './core/settings.js';
import { webmailOf, syncPlan, mailCapture, mailConsented, SCRIPT_PREFIX } from './core/webmail.js';
import { Sender, DELAY_KEY, sanitiseDelay } from './core/sender.js';
import { SHARE_TYPES, shareParams } from './core/share.js';
import { EVENT_KINDS, LIST_MAX, LIMITS, fitsBytes } from './core/vocabulary.js';
import { checkMark, acceptLog, noteAcknowledged, verifyParams, MARK_KEY, PROBLEM_KEY } from './core/logmark.js';
import { pageSnapshot, isWebPage, manualNotice } from './core/savepage.js';

const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;
const HOST_NAME = 'org.bantrail.host';
const SELF_ORIGIN = api.runtime.getURL('');

const local = {
  get: async (k) => (await api.storage.local.get(k))[k],
  set: (k, v) => api.storage.local.set({ [k]: v }),
};
// In memory only (storage.session is never written to disk; a browser without it keeps it in this
// worker's memory): what was captured last.
const memo = api.storage.session ? {
  get: async (k) => (await api.storage.session.get(k))[k],
  set: (k, v) => api.storage.session.set({ [k]: v }),
} : (() => { const m = new Map(); return { get: async (k) => m.get(k), set: async (k, v) => { m.set(k, v); } }; })();

const client = new NativeClient({
  connect: () => api.runtime.connectNative(HOST_NAME),
  lastError: () => (api.runtime.lastError && api.runtime.lastError.message) || null,
  onState: (state, detail) => onHostState(state, detail),
  onAcknowledged: (log) => noteAck(log),
});
// Each answer that wrote moves the log's mark to the entry and head it acknowledged (core/logmark.js),
// one at a time so that a later one is never overwritten by an earlier.
let acks = Promise.resolve();
function noteAck(log) {
  acks = acks.then(() => noteAcknowledged({ storage: local, log })).catch(() => {});
}
const outbox = new Outbox({ storage: local, seal: sealString });
const pipeline = new Pipeline({ client, outbox, storage: local, memo, screenshot, settings, onChange: () => updateBadge() });
const deliverAll = () => pipeline.deliverAll();
// Reports to unions (core/sender.js): sent after a random delay, woken by a timer while the worker
// lives (the open port keeps it) and by an alarm in case it does not.
const sender = new Sender({
  call: (method, params) => client.call(method, params),
  storage: local,
  fetch: (url, options) => fetch(url, options),
  delays: async () => sanitiseDelay(await local.get(DELAY_KEY)),
  setTimer: (fn, ms) => {
    clearTimeout(sender.timer);
    sender.timer = setTimeout(fn, ms);
    api.alarms.create('bantrail-send', { when: Date.now() + Math.max(ms, 30000) });
  },
  onChange: () => updateBadge(),
});
const sendReports = () => sender.adopt().finally(() => sender.run()).catch(() => {});

// ---- rules and settings -----------------------------------------------------------------------

let rulesPromise = null;
function rules() {
  if (!rulesPromise) {
    rulesPromise = fetch(api.runtime.getURL('rules/rules.json'))
      .then((r) => r.json())
      .then(compileRules)
      .catch((e) => { pipeline.lastError = `rules: ${e.message}`; return { platforms: [], phrases: [], problems: [String(e)] }; });
  }
  return rulesPromise;
}

async function settings() {
  return sanitiseSettings(await local.get('settings'));
}

// ---- the host ---------------------------------------------------------------------------------

function onHostState(state, detail) {
  if (state === 'connected' && detail && detail.vault) {
    const v = detail.vault;
    const known = { state: v.state, protected: v.protected, entries: v.entries, has_recovery: v.has_recovery };
    local.set('vault', known);
    if (typeof v.public_key === 'string' && v.public_key.length === 44) local.set('publicKey', v.public_key);
    checkMark({ storage: local, call: (m, p) => client.call(m, p), vault: v }).then(updateBadge, () => {});
    deliverAll();
    sendReports();
  }
  updateBadge();
}

/**
 * A PNG of the tab, base64, if it is the one on screen in its window; else null. Chromium allows
 * two captureVisibleTab calls a second: a capture over that quota waits and tries again.
 */
async function screenshot(tab) {
  for (let attempt = 0; ; attempt++) {
    try {
      const t = await api.tabs.get(tab.id);
      if (!t.active) return null;   // another tab is on screen: a picture of it would be wrong
      const url = await api.tabs.captureVisibleTab(t.windowId, { format: 'png' });
      const m = /^data:image\/png;base64,(.+)$/.exec(url);
      return m ? m[1] : null;
    } catch (e) {
      if (attempt < 4 && /quota|MAX_CAPTURE/i.test(e.message)) {
        await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
        continue;
      }
      pipeline.lastError = `screenshot: ${e.message}`;
      return null;
    }
  }
}

async function updateBadge() {
  try {
    const o = await pipeline.waiting();
    const lost = o.lost + o.held.lost;
    const waiting = o.count + o.held.count;
    const reportsFailed = (await sender.status()).failed > 0;   // a report that could not be sent
    const alarm = lost > 0 || reportsFailed || Boolean(await local.get(PROBLEM_KEY));   // or the log went back
    const text = alarm ? '!' : waiting > 0 ? String(Math.min(waiting, 99)) : '';
    await api.action.setBadgeText({ text });
    if (text) await api.action.setBadgeBackgroundColor({ color: alarm ? '#b3261e' : '#8a5a00' });
  } catch { /* no action API in tests */ }
}

/**
 * A notice was stored from tab: a mark on the toolbar button in that tab for a few seconds, unless
 * the person turned it off (s: the settings the capture was made under). Returns the capture's result.
 */
const ANNOUNCE_MS = 4000;
async function announce(r, tab, s) {
  if (!r || !r.stored || r.occurrence || !tab || !s.announce) return r;
  try {
    await api.action.setBadgeBackgroundColor({ tabId: tab.id, color: '#1b6e3a' });
    await api.action.setBadgeText({ tabId: tab.id, text: '✓' });
    setTimeout(() => api.action.setBadgeText({ tabId: tab.id, text: null }).catch(() => {}), ANNOUNCE_MS);
  } catch { /* the tab is gone, or no action API */ }
  return r;
}

// ---- the pages' requests ----------------------------------------------------------------------

const str = (v, max) => typeof v === 'string' && v.length > 0 && v.length <= max;
const int = (v) => Number.isSafeInteger(v) && v >= 0;

async function status() {
  let hello = null;
  try {
    await client.ensure();
    hello = await client.call('hello', undefined, 10000);   // fresh counts, not the connection's
    // The host answers: what was held in clear goes to it (sealed) before the popup counts it, if
    // that is quick.
    if ((await pipeline.held.status()).count) await Promise.race([deliverAll(), new Promise((r) => setTimeout(r, 3000))]);
  } catch { /* shown as not connected */ }
  return {
    host: client.state,
    vault: hello ? hello.vault : null,
    lastKnownVault: await local.get('vault'),
    version: hello ? hello.version : null,
    capabilities: hello && Array.isArray(hello.capabilities) ? hello.capabilities : [],
    outbox: await pipeline.waiting(),
    lastCapture: (await memo.get('lastCapture')) || null,
    logProblem: (await local.get(PROBLEM_KEY)) || null,
    lastError: pipeline.lastError,
    reports: await sender.status(),
  };
}

/**
 * "Save this page as a notice", from the popup (core/savepage.js): the visible text of tab `id`,
 * with its screenshot, stored as a manual capture whatever recognition says of it.
 */
async function savePage(id) {
  if (!int(id)) throw new NativeError('bad_params', 'tab');
  const tab = await api.tabs.get(id);
  if (!isWebPage(tab.url)) throw new NativeError('not_a_web_page', 'not a web page');
  const [run] = await api.scripting.executeScript({ target: { tabId: tab.id }, func: pageSnapshot });
  let host = null;
  try { host = platformForHost(await rules(), new URL(tab.url).hostname); } catch { /* no platform's */ }
  let n;
  try { n = manualNotice(tab.url, run && run.result, host ? host.id : softwareOf({ tab, url: tab.url })); } catch (e) { throw new NativeError(e.code, e.message); }
  return pipeline.capture(n, tab);
}

async function pageRequest(msg) {
  const s = await settings();
  switch (msg.type) {
    case 'status': return status();
    case 'unlock': {
      const p = { auto_lock_minutes: s.autoLockMinutes };
      if (str(msg.passphrase, 1024)) p.passphrase = msg.passphrase;
      const r = await client.call('unlock', p);
      deliverAll();
      sendReports();
      return r;
    }
    case 'lock': return client.call('lock');
    case 'set_passphrase': {
      const p = { new: String(msg.new || '') };
      if (str(msg.old, 1024)) p.old = msg.old;
      else if (str(msg.recovery_code, 200)) p.recovery_code = msg.recovery_code; // a lost passphrase's reset
      await client.call('set_passphrase', p);
      // its answer came back: now the new passphrase is the one in force (until this confirmation the
      // old one is, so an answer lost on its way leaves the person knowing which works: hello says
      // passphrase_pending)
      const r = await client.call('set_passphrase', { confirm: true });
      // a new key pair: what is sealed for the host from now on goes to its public key
      onHostState('connected', await client.call('hello'));
      return r;
    }
    case 'recovery_code': return client.call('recovery_code', msg.confirm === true ? { confirm: true } : {});
    case 'verify': {   // the chain, and that the log leads through the last entry and head acknowledged
      await acks;
      return client.call('verify', verifyParams(await local.get(MARK_KEY)));
    }
    case 'list': return client.call('list', { after: int(msg.after) ? msg.after : 0, limit: LIST_MAX });
    case 'get': {
      if (!int(msg.id)) throw new NativeError('bad_params', 'id');
      return client.call('get', int(msg.offset) ? { id: msg.id, offset: msg.offset } : { id: msg.id });
    }
    case 'log_accept': {   // the person restored the log themselves: watch it as it is now
      const hello = await client.call('hello');
      await acceptLog({ storage: local, vault: hello.vault });
      updateBadge();
      return { ok: true };
    }
    case 'settings_get': return s;
    case 'settings_set': {
      const next = sanitiseSettings({ ...s, ...(msg.settings || {}) });
      await local.set('settings', next);
      await syncMailScripts(next);
      return next;
    }
    case 'cases': return client.call('cases', { after: int(msg.after) ? msg.after : 0, limit: LIST_MAX });
    case 'case_get': {
      // The log page reads every event (LIMITS.case_events_max a page); the share page only the case (limit 1).
      const p = int(msg.id) && msg.id > 0 ? { id: msg.id } : int(msg.record) && msg.record > 0 ? { record: msg.record } : null;
      if (!p) throw new NativeError('bad_params', 'id');
      p.offset = int(msg.offset) ? msg.offset : 0;
      p.limit = Number.isInteger(msg.limit) && msg.limit >= 1 && msg.limit <= LIMITS.case_events_max ? msg.limit : LIMITS.case_events_max;
      return client.call('case_get', p);
    }
    case 'case_merge': {
      if (!Array.isArray(msg.cases) || msg.cases.length !== 2 || !msg.cases.every(int)) throw new NativeError('bad_params', 'cases');
      return client.call('case_merge', { cases: [msg.cases[0], msg.cases[1]] });
    }
    case 'case_split': {
      if (!int(msg.record)) throw new NativeError('bad_params', 'record');
      return client.call('case_split', { record: msg.record });
    }
    case 'event_add': {
      // From the log page: an event entered by hand, always into a case and marked manual.
      if (!int(msg.case) || !EVENT_KINDS.includes(msg.event) || !(int(msg.at) || str(msg.at, 40))) throw new NativeError('bad_params', 'event');
      const p = { event: msg.event, case: msg.case, at: msg.at, manual: true };
      if (msg.event === 'decision') p.outcome = msg.outcome === 'reinstated' ? 'reinstated' : 'rejected';
      if (fitsBytes(msg.note, LIMITS.note_max)) p.note = msg.note;
      return client.call('event_add', p);
    }
    case 'case_export': {
      if (!int(msg.id) || !['html', 'json'].includes(msg.format)) throw new NativeError('bad_params', 'case_export');
      const p = { id: msg.id, format: msg.format, offset: int(msg.offset) ? msg.offset : 0 };
      if (int(msg.upto)) p.upto = msg.upto;
      if (str(msg.generated_at, 64) || int(msg.generated_at)) p.generated_at = msg.generated_at;
      if (str(msg.lang, LIMITS.lang_max)) p.lang = msg.lang;
      return client.call('case_export', p);
    }
    case 'platforms': return (await rules()).platforms.map((p) => p.id);
    case 'save_page': return savePage(msg.tab);
    case 'deliver_outbox': {
      const r = await deliverAll();
      await pipeline.acknowledge();
      return r;
    }
    case 'discard_held': {   // the person chose to discard what waits in clear before set-up
      const discarded = await pipeline.discardHeld();
      await pipeline.held.acknowledge();
      return { discarded };
    }
    default:
      if (SHARE_TYPES.includes(msg.type)) return shareRequest(msg);
      throw new NativeError('not_allowed', msg.type);
  }
}

/** The share and outbox pages' requests (core/share.js rebuilds the parameters). */
async function shareRequest(msg) {
  let p;
  try { p = shareParams(msg); } catch (e) { throw new NativeError('bad_params', e.message); }
  switch (msg.type) {
    case 'report_queue': {
      const r = await client.call('report_queue', p);
      await sender.queued(r.id);
      return { id: r.id, report_id: r.report_id, submit_url: r.submit_url, delay: sanitiseDelay(await local.get(DELAY_KEY)) };
    }
    case 'report_withdraw': return { id: p.id, state: 'withdrawn', outcome: await sender.withdraw(p.id) };
    case 'report_retry': return sender.retry(p.id);
    case 'send_status': if (msg.seen === true) await sender.acknowledge(); return sender.status();
    case 'send_delay_get': return sanitiseDelay(await local.get(DELAY_KEY));
    case 'send_delay_set': {
      const d = sanitiseDelay({ min: msg.min, max: msg.max });
      if (d.min !== msg.min || d.max !== msg.max) throw new NativeError('bad_params', 'delay');
      await local.set(DELAY_KEY, d);
      return d;
    }
    default: return client.call(msg.type, p);
  }
}

// Tabs whose page software.js recognised as a platform's software (a Mastodon server, ...): the
// platform, and the origin it was found on (a navigation elsewhere forgets it).
const softwareTabs = new Map();
const CONTENT_FILES = ['src/content/detect.js', 'src/content/appeal.js', 'src/content/watch.js', 'src/content/content.js'];

if (api.tabs && api.tabs.onRemoved) api.tabs.onRemoved.addListener((id) => softwareTabs.delete(id));

function softwareOf(sender) {
  const t = sender.tab && softwareTabs.get(sender.tab.id);
  try { return t && t.origin === new URL(sender.url).origin ? t.platform : null; } catch { return null; }
}

async function softwareRequest(msg, sender) {
  const r = await rules();
  if (platformForHost(r, new URL(sender.url).hostname)) return [];   // content.js runs there already
  const probes = softwareProbes(r);
  if (msg.type === 'software_probe') return probes;
  if (!probes.some((p) => p.platform === msg.platform)) return null;
  if (!platformEnabled(await settings(), msg.platform)) return null;
  softwareTabs.set(sender.tab.id, { platform: msg.platform, origin: new URL(sender.url).origin });
  await api.scripting.executeScript({ target: { tabId: sender.tab.id, frameIds: [sender.frameId || 0] }, files: CONTENT_FILES });
  return { injected: true };
}

async function contentRequest(msg, sender) {
  if (msg.type === 'software_probe' || msg.type === 'software_found') return softwareRequest(msg, sender);
  const r = await rules();
  const software = softwareOf(sender);
  const cfg = pageConfig(r, sender.url, software);
  if (!cfg) return null;
  const s = await settings();
  const enabled = platformEnabled(s, cfg.platform);
  if (msg.type === 'page_config') return { ...cfg, enabled, appeal: { ...appealConfig(r, cfg.platform), includeText: s.appealText } };
  if (!enabled) return { stored: false, error: 'platform_off' };
  if (msg.type === 'appeal_submitted') {
    // Recorded at once, even while the log is locked (event_add without a case); sealed in the
    // outbox while the host is away. The platform is the sender's; the person's text only when
    // they opted in.
    const a = cleanAppeal(msg.appeal);
    const p = { event: 'appeal_submitted', platform: cfg.platform, at: a.at, manual: false };
    if (s.appealText && a.note) p.note = a.note;
    return pipeline.event(p);
  }
  const n = cleanNotice(msg.notice);
  // The platform is the sender's, whatever the page claimed.
  n.classification = { ...(n.classification || {}), platform: cfg.platform };
  if (software) n.software = software;   // the host counts the page as that platform's
  return announce(await pipeline.capture(n, sender.tab), sender.tab, s);
}

// ---- webmail (opt-in per webmail; core/webmail.js) ---------------------------------------------

/** Registers the content scripts of exactly the webmails the person opted in for. */
async function syncMailScripts(s) {
  if (!api.scripting || typeof api.scripting.registerContentScripts !== 'function') return;
  try {
    const now = (await api.scripting.getRegisteredContentScripts()).map((x) => x.id).filter((id) => id.startsWith(SCRIPT_PREFIX));
    const plan = syncPlan(s || await settings(), now);
    if (plan.unregister.length) await api.scripting.unregisterContentScripts({ ids: plan.unregister });
    if (plan.register.length) await api.scripting.registerContentScripts(plan.register);
  } catch (e) { pipeline.lastError = `webmail: ${e.message}`; }
}

async function mailRequest(msg, sender) {
  const id = webmailOf(sender.url);
  const s = await settings();
  if (!id || !webmailEnabled(s, id) || !(await mailConsented(api, id))) return msg.type === 'mail_config' ? { enabled: false } : { stored: false, error: 'webmail_off' };
  const r = await rules();
  if (msg.type === 'mail_config') return { enabled: true, webmail: id, senders: r.mailSenders };
  const m = cleanMail(msg.mail);
  const platform = mailPlatform(r, m.from);
  if (!platform) return { stored: false, error: 'not_a_platform_sender' };
  if (!platformEnabled(s, platform)) return { stored: false, error: 'platform_off' };
  return announce(await pipeline.capture(mailCapture(m, platform, id), sender.tab, { screenshot: false }), sender.tab, s);
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  const run = async () => {
    const r = await rules();
    const platformOf = (url, from) => {
      try { const p = platformForHost(r, new URL(url).hostname); return p ? p.id : softwareOf(from); } catch { return null; }
    };
    const a = admit(msg, sender, { selfId: api.runtime.id, selfOrigin: SELF_ORIGIN, platformOf, webmailOf });
    if (!a.ok) return { error: { code: a.reason } };
    try {
      const result = a.kind === 'page' ? await pageRequest(msg) : a.kind === 'webmail' ? await mailRequest(msg, sender) : await contentRequest(msg, sender);
      return a.kind === 'page' ? { result } : result;
    } catch (e) {
      return { error: { code: e.code || 'internal', message: e.message } };
    }
  };
  run().then(sendResponse, (e) => sendResponse({ error: { code: 'internal', message: String(e) } }));
  return true;
});

api.runtime.onStartup.addListener(() => { deliverAll(); syncMailScripts(); });
api.runtime.onInstalled.addListener(() => { deliverAll(); syncMailScripts(); });
api.alarms.create('bantrail-deliver', { periodInMinutes: 1 });
api.alarms.onAlarm.addListener((a) => { if (a.name === 'bantrail-deliver') deliverAll(); });
api.alarms.onAlarm.addListener((a) => { if (a.name === 'bantrail-send') sendReports(); });
updateBadge();
