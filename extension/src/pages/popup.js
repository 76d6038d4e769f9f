import { api, ask, localise, t, tn, say, hostText, errorText, unlockedText, sealedWaitingText, vaultStateKey, formatTime, kindLabel, platformLabel } from './common.js';
import { damageOf } from '../core/logmark.js';

const $ = (id) => document.getElementById(id);

async function refresh() {
  let s;
  try {
    s = await ask('status');
  } catch (e) {
    say($('message'), errorText(e), true);
    return;
  }
  const vault = s.vault || s.lastKnownVault;
  $('host').textContent = hostText(s);
  $('host').className = s.host === 'connected' ? 'ok' : 'error';
  $('state').textContent = !vault ? t('stateUnknown') : t(vaultStateKey(vault)) + (s.vault ? '' : ' ' + t('lastKnown'));
  $('records').textContent = vault && typeof vault.entries === 'number' ? String(vault.entries) : '—';
  const last = s.lastCapture;
  $('last').textContent = last ? `${formatTime(last.at)} · ${platformLabel(last.platform)} · ${kindLabel(last.kind)}`
    + (last.waiting ? ` (${t('lastCaptureWaiting')})` : '') : t('never');
  const damage = damageOf(s.vault);   // the host writes nothing more until bantrail recover
  $('log-damaged').classList.toggle('hidden', !damage);
  if (damage) $('log-damaged-text').textContent = damage.problem === 'unreadable' ? t('logUnreadable')
    : t(damage.problem === 'wal' ? 'logDamagedWal' : 'logDamaged', [String(damage.at)]);
  const lp = s.logProblem;   // the log went back: fewer entries, or another history (core/logmark.js)
  $('log-problem').classList.toggle('hidden', !lp);
  if (lp) $('log-problem-text').textContent = t(lp.problem === 'shorter' ? 'logShorter' : 'logDifferent',
    [String(lp.entries), String(lp.mark.entries), formatTime(lp.mark.at), `${lp.mark.entries}:${lp.mark.head}`]);
  $('unprotected').classList.toggle('hidden', !(vault && vault.state === 'unprotected'));
  $('unlock').classList.toggle('hidden', !(s.vault && s.vault.state === 'locked'));
  $('lock').classList.toggle('hidden', !(s.vault && s.vault.state === 'unlocked' && s.vault.protected));
  const o = s.outbox;
  showHeld(o.held, s.host);
  const parts = [];
  if (s.vault && s.vault.sealed_looking) parts.push(t('sealedLooking'));   // once, for a log from before the mark
  const sealed = s.vault ? sealedWaitingText(s.vault.sealed_waiting, s.vault.sealed_waiting_error) : '';
  if (sealed) parts.push(sealed);   // what that look (or the unlock) could not store yet
  if (o.count) parts.push(tn('waitingCount', o.count));
  if (o.lost) parts.push(tn('lostCount', o.lost));
  if (o.screenshotsLeftOut) parts.push(tn('screenshotsLeftOut', o.screenshotsLeftOut));
  const rp = s.reports;   // reports to unions: waiting to be sent, or failed (see the outbox)
  if (rp && rp.waiting) parts.push(tn('reportsWaiting', rp.waiting));
  if (rp && rp.failed) parts.push(tn('reportsFailed', rp.failed));
  $('waiting').textContent = parts.join(' ');
  $('waiting').classList.toggle('hidden', parts.length === 0);
}

/**
 * What waits in clear in this browser before set-up (no public key known yet): how many, that it
 * is not encrypted, what was not kept, the step that moves it into the log, and a way to discard it.
 */
function showHeld(held, host) {
  const MiB = String(Math.round(held.maxBytes / (1024 * 1024)));
  const lines = [
    ['held-text', held.count ? tn('heldCount', held.count) : ''],
    ['held-shots', held.count ? t('heldScreenshots', [String(held.maxItems), MiB]) : ''],
    ['held-step', held.count && host !== 'connected' ? t('heldStep') : ''],
  ];
  const notKept = [];
  if (held.lost) notKept.push(tn('heldLost', held.lost, [String(held.lost), String(held.maxItems), MiB]));
  if (held.screenshotsLeftOut) notKept.push(tn('heldShotsLeftOut', held.screenshotsLeftOut));
  if (notKept.length) lines[1][1] = [lines[1][1], ...notKept].filter(Boolean).join(' ');
  for (const [id, text] of lines) {
    $(id).textContent = text;
    $(id).classList.toggle('hidden', !text);
  }
  $('held').classList.toggle('hidden', !(held.count || held.lost || held.screenshotsLeftOut));
  $('discard-held').classList.toggle('hidden', !held.count);
  $('discard-held-confirm').textContent = tn('discardHeldConfirm', held.count);
  if (!held.count) $('discard-held-confirm').classList.add('hidden');
}

$('discard-held').addEventListener('click', () => {
  $('discard-held-confirm').classList.remove('hidden');
  $('discard-held-confirm').focus();
});
$('discard-held-confirm').addEventListener('click', async () => {
  $('discard-held-confirm').classList.add('hidden');
  try {
    const r = await ask('discard_held');
    say($('message'), tn('heldDiscarded', r.discarded));
  } catch (e) {
    say($('message'), errorText(e), true);
  }
  refresh();
});

$('unlock').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('passphrase');
  try {
    const r = await ask('unlock', { passphrase: input.value });
    input.value = '';
    say($('message'), unlockedText(r), r && r.waiting > 0);
  } catch (e) {
    say($('message'), errorText(e), true);
    input.select();
  }
  refresh();
});
$('log-accept').addEventListener('click', async () => {
  try { await ask('log_accept'); } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});
$('lock').addEventListener('click', async () => {
  try { await ask('lock'); say($('message'), t('lockedNow')); } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});
$('open-log').addEventListener('click', () => {
  api.tabs.create({ url: api.runtime.getURL('src/pages/log.html') });
  window.close();
});
$('protect').addEventListener('click', () => {
  api.tabs.create({ url: api.runtime.getURL('src/pages/log.html#protect-card') });
  window.close();
});
$('open-outbox').addEventListener('click', () => {
  api.tabs.create({ url: api.runtime.getURL('src/pages/outbox.html') });
  window.close();
});
$('options').addEventListener('click', () => { api.runtime.openOptionsPage(); window.close(); });

// "Save this page as a notice": the tab on screen behind the popup, when it is a web page.
let pageTab = null;
api.tabs.query({ active: true, currentWindow: true }).then(([tab]) => {
  pageTab = tab && /^https?:/.test(tab.url || '') ? tab.id : null;
  $('save-page').classList.toggle('hidden', pageTab === null);
}, () => {});
$('save-page').addEventListener('click', async () => {
  $('save-page').disabled = true;
  try {
    const r = await ask('save_page', { tab: pageTab });
    if (r && r.stored) say($('message'), t('savedPage', [String(r.id)]));
    else if (r && r.queued) say($('message'), t('savePageQueued'));
    else say($('message'), errorText({ code: (r && r.error) || 'internal' }), true);
  } catch (e) {
    say($('message'), errorText(e), true);
  }
  $('save-page').disabled = false;
  refresh();
});

localise();
refresh();
