// "Share anonymously": one case → a union → the exact report, in plain words and as JSON → the
// optional context (each change previews again) → the person confirms → `report_queue`. Nothing
// leaves before the confirmation; the service worker sends it later (core/sender.js).
import { api, ask, localise, t, tn, h, say, formatTime, platformLabel, showError } from './common.js';
import { reportWords, parseUnionEntry } from '../core/share.js';

const $ = (id) => document.getElementById(id);
const posInt = (s) => (/^[1-9][0-9]{0,15}$/.test(s || '') ? Number(s) : null);
const query = new URLSearchParams(location.search);
let caseId = posInt(query.get('case'));
let unionId = null;
let shown = null;          // {json, context}: what the person sees, and so what may be queued
let seq = 0;
let pressSeq = null;        // the preview being shown when the send button was pressed (pointer or key)
let pendingEntry = null;

function fail(e) { showError(e, $('message'), $('unlock-here'), start); }

function caseText(c) {
  return tn('caseSummary', c.event_count, [String(c.id), platformLabel(c.platform), formatTime(c.first_at * 1000), String(c.event_count)]);
}

async function loadCase() {
  const record = posInt(query.get('record'));
  if (!caseId && record) caseId = (await ask('case_get', { record })).case.id;
  if (caseId) {
    $('case-summary').textContent = caseText((await ask('case_get', { id: caseId })).case);
    return;
  }
  // No case given: let the person pick one.
  const r = await ask('cases');
  const sel = $('case-select');
  sel.replaceChildren(h('option', { value: '', text: t('shareCasePick') }),
    ...r.cases.map((c) => h('option', { value: String(c.id), text: caseText(c) })));
  $('case-pick').classList.remove('hidden');
  if (!r.cases.length) $('case-summary').textContent = t('noCases');
}

async function loadUnions(select) {
  const r = await ask('unions');
  const box = $('unions');
  box.querySelectorAll('.union').forEach((e) => e.remove());
  for (const u of r.unions) {
    const id = `union-${u.id}`;
    const input = h('input', { type: 'radio', name: 'union', id, value: u.id });
    input.checked = u.id === (select || unionId);
    input.addEventListener('change', () => { if (input.checked) { unionId = u.id; preview(); } });
    box.append(h('div', { class: 'union' },
      h('label', { class: 'row', for: id }, input,
        h('span', {}, h('strong', { text: u.name }), ' ',
          h('span', { class: 'muted', text: t('unionFacts', [u.id, u.key_id]) }))),
      u.demo ? h('p', { class: 'muted small', text: t('demoUnionNote') }) : null));
  }
  if (select) { unionId = select; preview(); }
}

function context() {
  const c = {};
  if ($('account-type').value) c.account_type = $('account-type').value;
  if ($('paid').value) c.paid_verification = $('paid').value === 'yes';
  const country = $('country').value.trim().toUpperCase();
  if (country) {
    if (!/^[A-Z]{2}$/.test(country)) throw Object.assign(new Error(t('countryInvalid')), { code: 'country' });
    c.country = country;
  }
  return c;
}

// The button stays enabled while a preview is rebuilt: leaving a field with a click on it (the
// field's change comes first) must answer, not fall on a disabled button and do nothing.
function clearPreview() {
  shown = null;
  $('words').replaceChildren();
  $('json').textContent = '';
  $('preview-union').textContent = '';
  $('demo-note').classList.add('hidden');
}

function wordsOf(report) {
  return reportWords(report).map((w) => t(w.key, w.subs.map((s) => (s.msg && api.i18n.getMessage(s.msg)) || s.raw || '')));
}

async function preview() {
  const my = ++seq;
  clearPreview();
  if (!caseId || !unionId) {
    $('confirm').disabled = true;
    $('preview-union').textContent = t(caseId ? 'previewPickUnion' : 'previewPickCase');
    return;
  }
  let ctx;
  try { ctx = context(); } catch (e) {
    $('confirm').disabled = true;
    say($('message'), e.message, true);
    $('country').focus();
    return;
  }
  say($('message'), '');
  try {
    const r = await ask('report_preview', { case: caseId, union: unionId, context: ctx });
    if (my !== seq) return;                   // a later change is being previewed
    shown = { json: r.json, context: ctx };
    $('preview-union').replaceChildren(t('previewFor', [r.union.name]), ' ',
      h('a', { href: r.union.policy_url, target: '_blank', rel: 'noreferrer noopener', text: t('unionPolicy') }));
    $('demo-note').classList.toggle('hidden', !r.union.demo);
    $('words').replaceChildren(...wordsOf(r.report).map((line) => h('li', { text: line })));
    $('json').textContent = r.json;
    $('confirm').disabled = false;
    $('done').classList.add('hidden');
  } catch (e) {
    if (my === seq) {
      $('confirm').disabled = true;
      fail(e);
    }
  }
}

// Pressing the button moves the focus out of a field, whose change rebuilds the preview: a
// preview rebuilt during the press (however fast the host answered) was not read.
for (const ev of ['pointerdown', 'keydown']) $('confirm').addEventListener(ev, () => { pressSeq = seq; });
$('confirm').addEventListener('click', async () => {
  const pressed = pressSeq;
  pressSeq = null;
  if (!shown || (pressed !== null && pressed !== seq)) {   // what is sent must be what was read
    say($('message'), t('previewChanged'), true);
    return;
  }
  $('confirm').disabled = true;
  try {
    const r = await ask('report_queue', { case: caseId, union: unionId, context: shown.context, confirm: true, json: shown.json });
    $('done').replaceChildren(t('queuedDone', [String(r.delay.min), String(r.delay.max)]), ' ',
      h('a', { href: 'outbox.html', text: t('outboxTitle') }));
    $('done').classList.remove('hidden');
    $('done').focus();
  } catch (e) {
    fail(e);
    $('confirm').disabled = false;
  }
});

for (const id of ['account-type', 'paid']) $(id).addEventListener('change', () => preview());
$('country').addEventListener('change', () => preview());
$('case-select').addEventListener('change', () => { caseId = posInt($('case-select').value); preview(); });

// ---- importing a union's entry: shown, with its key id to check, then pinned on a click ----

$('entry-file').addEventListener('change', async () => {
  const f = $('entry-file').files[0];
  if (!f) return;
  if (f.size > 8192) { say($('message'), t('importTooLarge'), true); return; }
  $('entry-text').value = await f.text();
  checkEntry();
});

function checkEntry() {
  pendingEntry = null;
  $('entry-shown').classList.add('hidden');
  try {
    pendingEntry = parseUnionEntry($('entry-text').value.trim());
  } catch (e) {
    say($('message'), t('importInvalid', [e.message]), true);
    return;
  }
  say($('message'), '');
  $('entry-name').textContent = pendingEntry.name;
  $('entry-submit').textContent = pendingEntry.submit_url;
  $('entry-key').textContent = pendingEntry.key_id;
  $('entry-shown').classList.remove('hidden');
  $('entry-pin').focus();
}

$('entry-check').addEventListener('click', checkEntry);
$('entry-pin').addEventListener('click', async () => {
  if (!pendingEntry) return;
  try {
    const r = await ask('union_import', { entry: pendingEntry });
    say($('message'), t('importDone', [pendingEntry.name, pendingEntry.key_id]));
    pendingEntry = null;
    $('entry-shown').classList.add('hidden');
    $('entry-text').value = '';
    $('entry-file').value = '';
    await loadUnions(r.id);
    $(`union-${r.id}`)?.focus();
  } catch (e) { fail(e); }
});

function start() {
  Promise.all([loadCase(), loadUnions()]).then(() => preview(), fail);
}

localise();
clearPreview();
start();
