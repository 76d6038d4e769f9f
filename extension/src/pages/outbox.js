// The outbox: every report to a union and what became of it (queued, sent, failed, withdrawn),
// its attempts and last detail, when it will be tried next; withdraw, send now, save the sealed
// text as a file (to upload by hand, for example with Tor Browser), show the exact JSON.
import { ask, localise, t, h, say, formatTime, showError } from './common.js';

const $ = (id) => document.getElementById(id);
const STATE_KEYS = { queued: 'state_queued', sent: 'state_sent', failed: 'state_failed', withdrawn: 'state_withdrawn' };
let lastShown = '';
let seen = false;

function fail(e) { showError(e, $('message'), $('unlock-here'), () => refresh(true)); }

async function save(r) {
  try {
    const full = await ask('report_get', { id: r.id });
    const url = URL.createObjectURL(new Blob([full.wire + '\n'], { type: 'text/plain' }));
    const a = h('a', { href: url, download: `bantrail-report-${full.report_id}.txt`, class: 'hidden' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    say($('message'), t('savedFile', [String(r.id)]));
  } catch (e) { fail(e); }
}

async function act(what, r) {
  try {
    if (what === 'withdraw') {
      const sent = r.state === 'sent';
      if (!window.confirm(t(sent ? 'withdrawSentAsk' : 'withdrawAsk', [String(r.id)]))) return;
      const done = await ask('report_withdraw', { id: r.id });
      say($('message'), t(done && done.outcome === 'at_union' ? 'withdrawnAtUnion' : 'withdrawn', [String(r.id)]));
    } else {
      say($('message'), t('sendingNow', [String(r.id)]));
      await ask('report_retry', { id: r.id });
    }
  } catch (e) { fail(e); }
  refresh(true);
}

/** What the sender or the union said, for whoever wants it (HTTP codes, network errors): folded away. */
function technical(detail) {
  return detail ? h('details', {}, h('summary', { text: t('technicalDetail') }), h('span', { class: 'muted', text: detail })) : null;
}

function row(r, sched) {
  const open = r.state === 'queued' || r.state === 'failed';
  const next = sched ? (sched.due > Date.now() ? t('nextTry', [formatTime(sched.due)]) : t('nextTrySoon')) : null;
  const stateText = t(STATE_KEYS[r.state] || 'state_queued') + (r.state === 'failed' && sched ? ' ' + t('willRetry') : '')
    + (r.state === 'failed' && !sched ? ' ' + t('gaveUp') : '');
  const json = h('details', {}, h('summary', { text: t('showJson') }), h('pre', { class: 'notice-text', text: r.json || '' }));
  return h('tr', { 'data-report': r.id, 'data-state': r.state },
    h('td', {}, h('span', { text: t('reportLabel', [String(r.id)]) }), h('div', { class: 'muted', text: t('caseNumber', [String(r.case)]) }), json),
    h('td', { text: r.union }),
    h('td', {}, h('span', { class: `state-${r.state}`, text: stateText }), next ? h('div', { class: 'muted', text: next }) : null),
    h('td', { text: String(r.attempts | 0) }),
    h('td', { text: formatTime((r.updated_at | 0) * 1000) }),
    h('td', {}, technical(r.detail || (sched && sched.detail) || '')),
    h('td', { class: 'actions' },
      open ? h('button', { type: 'button', class: 'secondary', 'data-action': 'retry', onclick: () => act('retry', r),
        'aria-label': t('sendNowLabel', [String(r.id)]), text: t('sendNow') }) : null,
      open || r.state === 'sent' ? h('button', { type: 'button', class: 'secondary', 'data-action': 'withdraw', onclick: () => act('withdraw', r),
        'aria-label': t('withdrawLabel', [String(r.id)]), text: t('withdraw') }) : null,
      r.state !== 'withdrawn' ? h('button', { type: 'button', class: 'secondary', 'data-action': 'save', onclick: () => save(r),
        'aria-label': t('saveFileLabel', [String(r.id)]), text: t('saveFile') }) : null));
}

async function refresh(force) {
  let list, st;
  try {
    [list, st] = await Promise.all([ask('report_list'), ask('send_status', { seen: !seen })]);
    seen = true;      // opening the outbox is seeing its failures: the badge's "!" goes
  } catch (e) { fail(e); return; }
  const key = JSON.stringify([list, st.items]);
  if (!force && key === lastShown) return;   // unchanged: keep the person's focus where it is
  lastShown = key;
  const sched = new Map(st.items.map((i) => [i.id, i]));
  const reports = [...list.reports].reverse();   // newest first
  $('reports').replaceChildren(...reports.map((r) => row(r, sched.get(r.id))));
  $('empty').classList.toggle('hidden', reports.length > 0);
  const count = (s) => reports.filter((r) => r.state === s).length;
  $('summary').textContent = t('outboxSummary', [String(count('queued')), String(count('sent')), String(count('failed')), String(count('withdrawn'))]);
}

localise();
refresh(true);
setInterval(() => refresh(false), 3000);
