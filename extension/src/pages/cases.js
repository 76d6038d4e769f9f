// The log page's cases view (docs/DESIGN.md section 7, docs/PROTOCOL.md "Cases and appeals"): each
// case's events in order with the derived times, merge, split at a record, an event entered by
// hand, and the evidence export saved as a download. DOM built with textContent only.
import { api, ask, t, h, say, errorText, formatTime, platformLabel } from './common.js';
import { LIMITS } from '../core/vocabulary.js';

const $ = (id) => document.getElementById(id);

// Other parts of the page may add their own controls to each case (e.g. "Share anonymously"):
// addCaseAction((caseObj) => element or null).
const caseActions = [];
export function addCaseAction(fn) { caseActions.push(fn); }

/** "2 d 3 h 4 min" from seconds (minutes rounded down; "0 min" under a minute). */
export function formatDuration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return t('durationUnknown');
  const neg = s < 0;
  let m = Math.floor(Math.abs(s) / 60);
  const d = Math.floor(m / 1440); m -= d * 1440;
  const hr = Math.floor(m / 60); m -= hr * 60;
  const parts = [];
  if (d) parts.push(t('durDays', [String(d)]));
  if (hr) parts.push(t('durHours', [String(hr)]));
  if (m || parts.length === 0) parts.push(t('durMinutes', [String(m)]));
  return (neg ? '−' : '') + parts.join(' ');
}

export function eventLabel(e) {
  if (e.event === 'decision') return t(e.outcome === 'reinstated' ? 'event_reinstated' : 'event_rejected');
  return t(`event_${['restriction', 'appeal_submitted', 'acknowledgement', 'other'].includes(e.event) ? e.event : 'other'}`);
}

/** Every case, page after page. */
async function allCases() {
  const out = [];
  let after = 0;
  for (let i = 0; i < 100; i++) {
    const r = await ask('cases', { after });
    out.push(...r.cases);
    if (r.next === null || r.next === undefined) break;
    after = r.next;
  }
  return out;
}

async function caseEvents(id) {
  const out = [];
  let offset = 0;
  let c = null;
  for (let i = 0; i < 100 && offset !== null && offset !== undefined; i++) {
    const r = await ask('case_get', { id, offset });
    c = r.case;
    out.push(...(r.case.events || []));
    offset = r.next_offset;
  }
  return { case: c, events: out };
}

function fact(label, value, extra = {}) {
  return [h('dt', { text: label }), h('dd', { text: value, ...extra })];
}

function summary(c) {
  const d = c.durations || {};
  const dl = h('dl', { class: 'facts' });
  dl.append(...fact(t('caseRestrictionToAppeal'), formatDuration(d.restriction_to_appeal)));
  const mins = d.appeal_to_answer_minutes;
  dl.append(...fact(t('caseAppealToAnswer'), d.appeal_to_answer === null || d.appeal_to_answer === undefined
    ? t('durationUnknown') : d.appeal_to_answer < 3600 ? t('durMinutes', [String(mins)])
      : t('caseMinutes', [String(mins), formatDuration(d.appeal_to_answer)])));
  // still going on: no end is known, so a duration so far (often 0 min after an action block) says
  // less than that it has not been seen to end
  dl.append(...fact(t('caseLockedOut'), d.locked_out === null || d.locked_out === undefined ? t('durationUnknown')
    : d.locked_out_ongoing ? t('caseNoEndSeen', [formatDuration(d.locked_out)]) : formatDuration(d.locked_out)));
  dl.append(...fact(t('caseOutcome'), t(`outcome_${['none', 'pending', 'rejected', 'reinstated'].includes(c.outcome) ? c.outcome : 'none'}`)));
  return dl;
}

function eventItem(e, c, index, onChange, message) {
  const when = (e.at || 0) * 1000;
  const li = h('li', { 'data-record': e.record, 'data-event': e.event },
    h('div', { class: 'record-head' },
      h('span', { class: 'kind', text: eventLabel(e) }),
      h('time', { datetime: new Date(when).toISOString(), text: formatTime(when) }),
      e.manual ? h('span', { class: 'badge', text: t('enteredByHand') }) : null,
      h('span', { class: 'muted', text: `#${e.record}` })),
    e.title ? h('div', { text: e.title }) : null,
    e.url ? h('div', { class: 'url muted', text: e.url }) : null,
    e.note ? h('p', { class: 'note', text: e.note }) : null);
  if (index > 0) {
    const split = h('button', { type: 'button', class: 'secondary', text: t('caseSplitHere'),
      'aria-label': t('caseSplitHereLabel', [`#${e.record}`, formatTime(when)]) });
    split.addEventListener('click', async () => {
      try { await ask('case_split', { record: e.record }); say(message, t('caseSplitDone')); onChange(); } catch (err) { say(message, errorText(err), true); }
    });
    li.append(h('div', { class: 'row' }, split));
  }
  return li;
}

/** Reads a case's export in the host's pieces; returns {blob, filename}. */
export async function exportCase(id, format) {
  const parts = [];
  let first = null;
  let offset = 0;
  for (let i = 0; i < 2000 && offset !== null && offset !== undefined; i++) {
    const p = { id, format, offset, lang: api.i18n.getUILanguage() };   // the evidence in the person's language
    if (first) { p.upto = first.upto; p.generated_at = first.generated_at; }
    const r = await ask('case_export', p);
    if (!first) first = r;
    const bin = atob(r.data);
    const bytes = new Uint8Array(bin.length);
    for (let j = 0; j < bin.length; j++) bytes[j] = bin.charCodeAt(j);
    parts.push(bytes);
    offset = r.next_offset;
  }
  const blob = new Blob(parts, { type: format === 'html' ? 'text/html' : 'application/json' });
  if (first && typeof first.size === 'number' && blob.size !== first.size) throw Object.assign(new Error('size'), { code: 'corrupt' });
  return { blob, filename: (first && first.filename) || `bantrail-case-${id}.${format}` };
}

function addEventForm(c, onChange, message) {
  const idp = `add-${c.id}`;
  const when = h('input', { type: 'datetime-local', id: `${idp}-at`, required: true });
  const kind = h('select', { id: `${idp}-kind` },
    ...['appeal_submitted', 'acknowledgement', 'rejected', 'reinstated', 'restriction', 'other'].map((k) =>
      h('option', { value: k, text: t(`event_${k}`) })));
  const note = h('textarea', { id: `${idp}-note`, rows: '3', maxlength: String(LIMITS.note_max) });
  const form = h('form', { class: 'add-event' },
    h('label', { for: when.id, text: t('addEventWhen') }), when,
    h('label', { for: kind.id, text: t('addEventKind') }), kind,
    h('label', { for: note.id, text: t('addEventNote') }), note,
    h('p', { class: 'muted', text: t('addEventByHand') }),
    h('button', { type: 'submit', text: t('addEventSave') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ms = Date.parse(when.value);
    if (Number.isNaN(ms)) { say(message, t('addEventBadDate'), true); when.focus(); return; }
    const k = kind.value;
    const p = { case: c.id, at: Math.floor(ms / 1000), event: ['rejected', 'reinstated'].includes(k) ? 'decision' : k };
    if (p.event === 'decision') p.outcome = k;
    if (note.value.trim()) p.note = note.value.trim();
    try { await ask('event_add', p); say(message, t('addEventDone')); onChange(); } catch (err) { say(message, errorText(err), true); }
  });
  return h('details', {}, h('summary', { text: t('addEventTitle') }), form);
}

function caseCard(c, events, others, onChange, message) {
  const hid = `case-${c.id}-title`;
  const title = `${platformLabel(c.platform)}${c.handle ? ' — ' + c.handle : ''} · ${t('caseNumber', [String(c.id)])}`;
  const card = h('section', { class: 'case', 'data-case': c.id, 'aria-labelledby': hid },
    h('h3', { id: hid, text: title }),
    summary(c));
  if (c.answered_within_10_minutes) {
    card.append(h('p', { class: 'flag', role: 'note', text: t('caseFastAnswer') }));
  }
  card.append(h('ol', { class: 'timeline', 'aria-label': t('caseEvents') }, ...events.map((e, i) => eventItem(e, c, i, onChange, message))));

  const actions = h('div', { class: 'row case-actions' });
  const exp = h('button', { type: 'button', class: 'export', text: t('exportEvidence') });
  exp.addEventListener('click', async () => {
    exp.disabled = true;
    say(message, t('exportWorking'));
    try {
      const { blob, filename } = await exportCase(c.id, 'html');
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: filename, class: 'hidden' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(message, t('exportDone', [filename]));
    } catch (err) { say(message, errorText(err), true); } finally { exp.disabled = false; }
  });
  actions.append(exp);
  if (others.length) {
    const sel = h('select', { id: `merge-${c.id}` }, ...others.map((o) =>
      h('option', { value: String(o.id), text: `${platformLabel(o.platform)}${o.handle ? ' — ' + o.handle : ''} · ${t('caseNumber', [String(o.id)])}` })));
    const merge = h('button', { type: 'button', class: 'secondary', text: t('caseMerge') });
    merge.addEventListener('click', async () => {
      try { await ask('case_merge', { cases: [c.id, Number(sel.value)] }); say(message, t('caseMergeDone')); onChange(); } catch (err) { say(message, errorText(err), true); }
    });
    actions.append(h('label', { for: sel.id, text: t('caseMergeWith') }), sel, merge);
  }
  for (const fn of caseActions) {
    try { const el = fn(c); if (el) actions.append(el); } catch { /* another part's control */ }
  }
  card.append(actions, addEventForm(c, onChange, message));
  return card;
}

/** Renders every case into #cases; `locked` shows why nothing is there. */
export async function renderCases({ locked = false } = {}) {
  const box = $('cases');
  const message = $('cases-message');
  if (!box) return;
  if (locked) { box.replaceChildren(h('p', { class: 'muted', text: t('casesLocked') })); return; }
  const rerender = () => renderCases().catch((e) => say(message, errorText(e), true));
  const cases = await allCases();
  const cards = [];
  for (const c of cases) {
    const { case: full, events } = await caseEvents(c.id);
    cards.push(caseCard(full || c, events, cases.filter((o) => o.id !== c.id), rerender, message));
  }
  box.replaceChildren(...(cards.length ? cards : [h('p', { class: 'muted', text: t('noCases') })]));
}
