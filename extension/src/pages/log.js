import { ask, localise, t, tn, h, say, errorText, unlockedText, vaultStateKey, formatTime, kindLabel, platformLabel, hostText } from './common.js';
import { passphraseStrength } from '../core/strength.js';
import { noticeFilter, noticeTime } from '../core/filter.js';
import { renderCases, addCaseAction } from './cases.js';
import { api as shareApi } from './common.js';

const $ = (id) => document.getElementById(id);
// "Share anonymously" on each case: the share page (share.js) previews its report for a union.
addCaseAction((c) => h('button', { type: 'button', class: 'secondary', 'data-action': 'share', text: t('shareAnonymously'),
  onclick: () => shareApi.tabs.create({ url: shareApi.runtime.getURL(`src/pages/share.html?case=${encodeURIComponent(c.id)}`) }) }));
const shotUrls = new Map();   // attachment id -> promise of its object URL, kept while the filters redraw
let vault = null;

function clearTimeline() {
  $('timeline').replaceChildren();
}

function forgetShots() {
  for (const u of shotUrls.values()) u.then((x) => URL.revokeObjectURL(x), () => {});
  shotUrls.clear();
}

function shotUrl(a) {
  if (!shotUrls.has(a.id)) shotUrls.set(a.id, attachmentBlob(a.id, a.mime).then((b) => URL.createObjectURL(b)));
  return shotUrls.get(a.id);
}

/** Every entry of the log, page after page. */
async function listAll() {
  const entries = [];
  let after = 0;
  for (let i = 0; i < 1000; i++) {
    const r = await ask('list', { after });
    entries.push(...r.entries);
    if (r.next === null || r.next === undefined) break;
    after = r.next;
  }
  return entries;
}

/** An attachment's bytes, fetched in the host's chunks. */
async function attachmentBlob(id, mime) {
  const parts = [];
  let offset = 0;
  for (let i = 0; i < 200 && offset !== null; i++) {
    const r = await ask('get', { id, offset });
    const bin = atob(r.data);
    const bytes = new Uint8Array(bin.length);
    for (let j = 0; j < bin.length; j++) bytes[j] = bin.charCodeAt(j);
    parts.push(bytes);
    offset = r.next_offset;
  }
  return new Blob(parts, { type: mime });
}

function recordItem(n, shots) {
  const c = n.classification || {};
  const when = noticeTime(n);
  const textBox = h('pre', { class: 'notice-text hidden', id: `text-${n.id}` });
  const showText = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': `text-${n.id}`, text: t('showText') });
  showText.addEventListener('click', async () => {
    const open = showText.getAttribute('aria-expanded') === 'true';
    if (!open && !textBox.textContent) {
      try { textBox.textContent = (await ask('get', { id: n.id })).record.text; } catch (e) { say($('message'), errorText(e), true); return; }
    }
    showText.setAttribute('aria-expanded', String(!open));
    textBox.classList.toggle('hidden', open);
  });
  const li = h('li', { 'data-record': n.id },
    h('div', { class: 'record-head' },
      h('span', { class: 'kind', text: kindLabel(c.kind) }),
      h('time', { datetime: new Date(when).toISOString(), text: formatTime(when) }),
      h('span', { class: 'muted', text: `#${n.id}` })),
    n.title ? h('div', { text: n.title }) : null,
    h('div', { class: 'url muted', text: n.url }),
    h('div', { class: 'row' }, showText),
    textBox);
  for (const a of shots) {
    // the picture as a thumbnail; a click (or Enter) shows it full size, and back
    const img = h('img', { class: 'shot', alt: t('screenshotAlt', [formatTime(when)]), 'data-attachment': a.id });
    const zoom = h('button', { type: 'button', class: 'shot-button', 'aria-expanded': 'false', title: t('screenshotZoom') }, img);
    zoom.addEventListener('click', () => zoom.setAttribute('aria-expanded', String(zoom.getAttribute('aria-expanded') !== 'true')));
    li.append(zoom);
    shotUrl(a).then((u) => { img.src = u; }, () => zoom.replaceWith(h('p', { class: 'error', text: t('screenshotFailed') })));
  }
  return li;
}

let listed = { notices: [], shots: new Map() };   // the log as last read, for the filters

async function renderTimeline() {
  clearTimeline();
  forgetShots();
  const entries = await listAll();
  const notices = entries.filter((e) => e.type === 'notice');
  const shots = new Map();
  for (const e of entries) {
    if (e.type === 'attachment' && /^image\//.test(e.mime || '')) {
      if (!shots.has(e.of)) shots.set(e.of, []);
      shots.get(e.of).push(e);
    }
  }
  listed = { notices, shots };
  $('filter').classList.toggle('hidden', !vault || vault.state === 'locked' || notices.length === 0);
  if (!vault || vault.state === 'locked') {
    $('count').textContent = t('lockedCount', [String(entries.length)]);
    return;
  }
  fillChoices($('f-platform'), notices.map((n) => (n.classification || {}).platform), platformLabel);
  fillChoices($('f-kind'), notices.map((n) => (n.classification || {}).kind), kindLabel);
  drawNotices();
}

/** The select's options after its first ("any"): each distinct value, by label; keeps the choice. */
function fillChoices(select, values, label) {
  const keep = select.value;
  const distinct = [...new Set(values.filter(Boolean))].sort((a, b) => label(a).localeCompare(label(b)));
  select.replaceChildren(select.options[0], ...distinct.map((v) => h('option', { value: v, text: label(v) })));
  select.value = distinct.includes(keep) ? keep : '';
}

/** Draws the notices the filters let through, by platform, newest first. */
function drawNotices() {
  clearTimeline();
  const { notices, shots } = listed;
  const shown = notices.filter(noticeFilter({ q: $('f-q').value, platform: $('f-platform').value,
    kind: $('f-kind').value, from: $('f-from').value, to: $('f-to').value },
  (n) => [platformLabel((n.classification || {}).platform), kindLabel((n.classification || {}).kind)]));
  $('count').textContent = tn('recordCount', notices.length) + (shown.length < notices.length ? ' ' + t('filterShown', [String(shown.length)]) : '');
  const byPlatform = new Map();
  for (const n of shown) {
    const p = (n.classification && n.classification.platform) || '';
    if (!byPlatform.has(p)) byPlatform.set(p, []);
    byPlatform.get(p).push(n);
  }
  for (const [p, list] of [...byPlatform].sort((a, b) => platformLabel(a[0]).localeCompare(platformLabel(b[0])))) {
    list.sort((a, b) => b.id - a.id);
    const id = `platform-${p || 'unknown'}`;
    $('timeline').append(h('section', { 'aria-labelledby': id },
      h('h3', { id, text: platformLabel(p) }),
      h('ol', { class: 'timeline' }, ...list.map((n) => recordItem(n, shots.get(n.id) || [])))));
  }
  if (notices.length === 0) $('timeline').append(h('p', { class: 'muted', text: t('noRecords') }));
  else if (shown.length === 0) $('timeline').append(h('p', { class: 'muted', text: t('filterNone') }));
}

$('filter').addEventListener('input', drawNotices);
$('filter').addEventListener('submit', (ev) => ev.preventDefault());
$('filter').addEventListener('reset', () => setTimeout(drawNotices));   // after the form has cleared

async function refresh() {
  let s;
  try { s = await ask('status'); } catch (e) { say($('message'), errorText(e), true); return; }
  vault = s.vault;
  $('state').textContent = s.vault ? t(vaultStateKey(s.vault)) : hostText(s);
  $('host-help').classList.toggle('hidden', Boolean(s.vault) || s.host !== 'missing');   // what to do about it
  const st = s.vault ? s.vault.state : null;
  $('unprotected').classList.toggle('hidden', st !== 'unprotected');
  $('unlock-card').classList.toggle('hidden', st !== 'locked');
  $('lock').classList.toggle('hidden', !(st === 'unlocked' && s.vault.protected));
  $('protect-card').classList.toggle('hidden', !(st === 'unprotected' || st === 'unlocked'));
  $('old-row').classList.toggle('hidden', !(s.vault && s.vault.protected));
  $('protect-title').textContent = t(s.vault && s.vault.protected ? 'changePassphraseTitle' : 'protectTitle');
  // a code made but never confirmed as written down resets nothing: say which one works
  const pending = Boolean(s.vault && s.vault.recovery_pending) && $('recovery-shown').classList.contains('hidden');
  $('recovery-pending').textContent = pending ? t(s.vault.has_recovery ? 'recoveryPendingEarlier' : 'recoveryPendingNone') : '';
  $('recovery-pending').classList.toggle('hidden', !pending);
  if (!s.vault) { clearTimeline(); forgetShots(); $('count').textContent = ''; $('cases').replaceChildren(); return; }
  try { await renderTimeline(); } catch (e) { say($('message'), errorText(e), true); }
  try { await renderCases({ locked: st === 'locked' }); } catch (e) { say($('cases-message'), errorText(e), true); }
}

$('unlock').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const p = $('passphrase').value;
  const r = $('recovery').value.trim();
  try {
    if (r) { // a recovery code does not unlock: it resets the lost passphrase, once
      const next = $('recovery-new').value;
      if (next !== $('recovery-confirm').value) { say($('message'), t('passphrasesDiffer'), true); return; }
      await ask('set_passphrase', { recovery_code: r, new: next });
      for (const id of ['recovery', 'recovery-new', 'recovery-confirm']) $(id).value = '';
      say($('message'), t('passphraseSet'));
    } else {
      const u = await ask('unlock', { passphrase: p });
      $('passphrase').value = '';
      say($('message'), unlockedText(u), u && u.waiting > 0);
    }
  } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});

$('lock').addEventListener('click', async () => {
  try { await ask('lock'); say($('message'), t('lockedNow')); } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});

$('new').addEventListener('input', () => {
  const s = passphraseStrength($('new').value);
  $('strength').value = s.score;
  $('strength-text').textContent = t(s.key);
});

$('protect').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const next = $('new').value;
  if (next !== $('confirm').value) { say($('message'), t('passphrasesDiffer'), true); return; }
  try {
    await ask('set_passphrase', { new: next, old: $('old').value || undefined });
    for (const id of ['old', 'new', 'confirm']) $(id).value = '';
    $('strength').value = 0;
    $('strength-text').textContent = '';
    say($('message'), t('passphraseSet'));
  } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});

$('make-recovery').addEventListener('click', async () => {
  try {
    const r = await ask('recovery_code');
    $('recovery-code').textContent = r.code;
    $('recovery-shown').classList.remove('hidden');
    $('recovery-pending').classList.add('hidden');
    $('make-recovery').classList.add('hidden');
    $('recovery-code').focus();
  } catch (e) { say($('message'), errorText(e), true); }
});

$('recovery-done').addEventListener('click', async () => {
  // Shown once: the code is gone from the page as soon as the person says they kept it, and only
  // then does it replace the earlier code (until then it resets nothing).
  $('recovery-code').textContent = '';
  $('recovery-shown').classList.add('hidden');
  $('make-recovery').classList.remove('hidden');
  try {
    await ask('recovery_code', { confirm: true });
    say($('message'), t('recoveryKept'));
  } catch (e) { say($('message'), errorText(e), true); }
  refresh();
});

$('go-protect').addEventListener('click', () => {
  $('protect-card').scrollIntoView();
  $('new').focus();
});

localise();
refresh().then(() => {
  if (location.hash === '#protect-card' && !$('protect-card').classList.contains('hidden')) {
    $('protect-card').scrollIntoView();
    $('new').focus();
  }
});
