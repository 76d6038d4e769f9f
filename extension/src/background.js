// Bantrail's service worker (Chromium) / background script (Firefox). It only routes: messages are
// admitted by type and sender (core/router.js), captures go to the native host over one port
// (core/native.js) or, while the host is away, into the sealed outbox (core/outbox.js).
import { NativeClient, NativeError } from './core/native.js';
import { Pipeline } from './core/pipeline.js';
import { Outbox } from './core/outbox.js';
import { sealString } from './core/seal.js';
import { admit, cleanNotice } from './core/router.js';
import { compileRules, pageConfig, platformForHost } from './core/rules.js';
import { sanitiseSettings, platformEnabled } from './core/settings.js';

const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;
const HOST_NAME = 'org.bantrail.host';
const SELF_ORIGIN = api.runtime.getURL('');

const local = {
  get: async (k) => (await api.storage.local.get(k))[k],
  set: (k, v) => api.storage.local.set({ [k]: v }),
};

const client = new NativeClient({
  connect: () => api.runtime.connectNative(HOST_NAME),
  lastError: () => (api.runtime.lastError && api.runtime.lastError.message) || null,
  onState: (state, detail) => onHostState(state, detail),
});
const outbox = new Outbox({ storage: local, seal: sealString });
const pipeline = new Pipeline({ client, outbox, storage: local, screenshot, settings, onChange: () => updateBadge() });
const deliverAll = () => pipeline.deliverAll();

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
    deliverAll();
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
    const lost = o.lost + o.lostUnsealed;
    const waiting = o.count + o.unsealed;
    const text = lost > 0 ? '!' : waiting > 0 ? String(Math.min(waiting, 99)) : '';
    await api.action.setBadgeText({ text });
    if (text) await api.action.setBadgeBackgroundColor({ color: lost > 0 ? '#b3261e' : '#8a5a00' });
  } catch { /* no action API in tests */ }
}

// ---- the pages' requests ----------------------------------------------------------------------

const str = (v, max) => typeof v === 'string' && v.length > 0 && v.length <= max;
const int = (v) => Number.isSafeInteger(v) && v >= 0;

async function status() {
  let hello = null;
  try {
    await client.ensure();
    hello = await client.call('hello', undefined, 10000);   // fresh counts, not the connection's
  } catch { /* shown as not connected */ }
  return {
    host: client.state,
    vault: hello ? hello.vault : null,
    lastKnownVault: await local.get('vault'),
    version: hello ? hello.version : null,
    capabilities: hello && Array.isArray(hello.capabilities) ? hello.capabilities : [],
    outbox: await pipeline.waiting(),
    lastCapture: (await local.get('lastCapture')) || null,
    lastError: pipeline.lastError,
  };
}

async function pageRequest(msg) {
  const s = await settings();
  switch (msg.type) {
    case 'status': return status();
    case 'unlock': {
      const p = { auto_lock_minutes: s.autoLockMinutes };
      if (str(msg.passphrase, 1024)) p.passphrase = msg.passphrase;
      if (str(msg.recovery_code, 200)) p.recovery_code = msg.recovery_code;
      const r = await client.call('unlock', p);
      deliverAll();
      return r;
    }
    case 'lock': return client.call('lock');
    case 'set_passphrase': {
      const p = { new: String(msg.new || '') };
      if (str(msg.old, 1024)) p.old = msg.old;
      return client.call('set_passphrase', p);
    }
    case 'recovery_code': return client.call('recovery_code');
    case 'verify': return client.call('verify');
    case 'list': return client.call('list', { after: int(msg.after) ? msg.after : 0, limit: 200 });
    case 'get': {
      if (!int(msg.id)) throw new NativeError('bad_params', 'id');
      return client.call('get', int(msg.offset) ? { id: msg.id, offset: msg.offset } : { id: msg.id });
    }
    case 'settings_get': return s;
    case 'settings_set': {
      const next = sanitiseSettings({ ...s, ...(msg.settings || {}) });
      await local.set('settings', next);
      return next;
    }
    case 'platforms': return (await rules()).platforms.map((p) => p.id);
    case 'deliver_outbox': {
      const r = await deliverAll();
      await outbox.acknowledge();
      await local.set('lostUnsealed', 0);
      return r;
    }
    default: throw new NativeError('not_allowed', msg.type);
  }
}

async function contentRequest(msg, sender) {
  const r = await rules();
  const cfg = pageConfig(r, sender.url);
  if (!cfg) return null;
  const enabled = platformEnabled(await settings(), cfg.platform);
  if (msg.type === 'page_config') return { ...cfg, enabled };
  if (!enabled) return { stored: false, error: 'platform_off' };
  const n = cleanNotice(msg.notice);
  // The platform is the sender's, whatever the page claimed.
  n.classification = { ...(n.classification || {}), platform: cfg.platform };
  return pipeline.capture(n, sender.tab);
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  const run = async () => {
    const r = await rules();
    const platformOf = (url) => {
      try { const p = platformForHost(r, new URL(url).hostname); return p ? p.id : null; } catch { return null; }
    };
    const a = admit(msg, sender, { selfId: api.runtime.id, selfOrigin: SELF_ORIGIN, platformOf });
    if (!a.ok) return { error: { code: a.reason } };
    try {
      const result = a.kind === 'page' ? await pageRequest(msg) : await contentRequest(msg, sender);
      return a.kind === 'page' ? { result } : result;
    } catch (e) {
      return { error: { code: e.code || 'internal', message: e.message } };
    }
  };
  run().then(sendResponse, (e) => sendResponse({ error: { code: 'internal', message: String(e) } }));
  return true;
});

api.runtime.onStartup.addListener(() => { deliverAll(); });
api.runtime.onInstalled.addListener(() => { deliverAll(); });
api.alarms.create('bantrail-deliver', { periodInMinutes: 1 });
api.alarms.onAlarm.addListener((a) => { if (a.name === 'bantrail-deliver') deliverAll(); });
updateBadge();
