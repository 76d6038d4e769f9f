// Sharing a case with a union (docs/REPORT.md): the message types the share and outbox pages may
// send, their parameters rebuilt from an allowlist for the host, and the report put in plain words
// (message keys and substitutions, so the pages translate them). No chrome.* here.

import { LIST_MAX } from './vocabulary.js';

export const SHARE_TYPES = Object.freeze(['unions', 'union_import', 'cases', 'case_get', 'report_preview', 'report_queue',
  'report_list', 'report_get', 'report_withdraw', 'report_retry', 'send_status', 'send_delay_get', 'send_delay_set']);

export const ACCOUNT_TYPES = Object.freeze(['personal', 'business', 'creator']);
const UNION_MEMBERS = ['v', 'id', 'name', 'homepage', 'submit_url', 'public_key', 'key_id', 'pow_difficulty', 'policy_url'];
// a union that issues membership tokens (docs/REPORT.md section 5) says so with both or neither
const TOKEN_MEMBERS = ['tokens', 'token_key'];

const posInt = (v) => Number.isSafeInteger(v) && v > 0;

/** The optional context, only from the closed lists; {} when nothing was added. */
export function cleanContext(c) {
  const out = {};
  if (!c || typeof c !== 'object') return out;
  if (ACCOUNT_TYPES.includes(c.account_type)) out.account_type = c.account_type;
  if (typeof c.paid_verification === 'boolean') out.paid_verification = c.paid_verification;
  if (typeof c.country === 'string' && /^[A-Z]{2}$/.test(c.country)) out.country = c.country;
  return out;
}

/**
 * A union entry as the person pasted or chose it (text or object): parsed, and checked for its
 * shape only (the host checks every rule and pins it). Throws {code: 'bad_params', message}.
 */
export function parseUnionEntry(input) {
  let e = input;
  if (typeof input === 'string') {
    if (input.length > 8192) throw Object.assign(new Error('entry too long'), { code: 'bad_params' });
    try { e = JSON.parse(input); } catch { throw Object.assign(new Error('not JSON'), { code: 'bad_params' }); }
  }
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw Object.assign(new Error('not a JSON object'), { code: 'bad_params' });
  const members = TOKEN_MEMBERS.some((k) => k in e) ? [...UNION_MEMBERS, ...TOKEN_MEMBERS] : UNION_MEMBERS;
  for (const k of members) if (!(k in e)) throw Object.assign(new Error(`missing ${k}`), { code: 'bad_params' });
  for (const k of Object.keys(e)) if (!members.includes(k)) throw Object.assign(new Error(`unknown member ${k}`), { code: 'bad_params' });
  for (const k of members) {
    const ok = ['v', 'pow_difficulty'].includes(k) ? Number.isInteger(e[k]) : typeof e[k] === 'string' && e[k].length <= 600;
    if (!ok) throw Object.assign(new Error(`bad ${k}`), { code: 'bad_params' });
  }
  return Object.fromEntries(members.map((k) => [k, e[k]]));
}

/**
 * The host's parameters for a share page's request, rebuilt from an allowlist; throws
 * {code: 'bad_params'} on anything malformed. `report_queue` needs `confirm: true` and the
 * previewed JSON: the host seals only what the person was shown.
 */
export function shareParams(msg) {
  const bad = (what) => { throw Object.assign(new Error(what), { code: 'bad_params' }); };
  switch (msg.type) {
    case 'unions': case 'report_list': return {};
    case 'union_import': return { entry: parseUnionEntry(msg.entry) };
    case 'cases': return { after: Number.isSafeInteger(msg.after) && msg.after >= 0 ? msg.after : 0, limit: LIST_MAX };
    case 'case_get':
      if (posInt(msg.id)) return { id: msg.id, limit: 1 };
      if (posInt(msg.record)) return { record: msg.record, limit: 1 };
      return bad('id');
    case 'report_preview': case 'report_queue': {
      if (!posInt(msg.case)) bad('case');
      if (typeof msg.union !== 'string' || !/^[a-z0-9-]{1,64}$/.test(msg.union)) bad('union');
      const p = { case: msg.case, union: msg.union };
      const ctx = cleanContext(msg.context);
      if (Object.keys(ctx).length) p.context = ctx;
      if (msg.type === 'report_queue') {
        if (msg.confirm !== true) bad('confirm');
        if (typeof msg.json !== 'string' || msg.json.length === 0 || msg.json.length > 4095) bad('json');
        p.confirm = true;
        p.json = msg.json;
      }
      return p;
    }
    case 'report_get': case 'report_withdraw': case 'report_retry':
      if (!posInt(msg.id)) bad('id');
      return { id: msg.id };
    default: return {};
  }
}

/**
 * The report in plain words: [{key, subs}] for the pages' translations. Enum values become their
 * own message keys (`kind_…`, `platform_…`, `rduration_…`, `roffered_…`, `routcome_…`, `rdelay_…`,
 * `raccount_…`, and the EU DSA's categories and keywords as `rcategory_…` and `rkeyword_…`), the raw
 * value beside them.
 */
export function reportWords(r) {
  const w = [];
  if (!r || typeof r !== 'object') return w;
  w.push({ key: 'wordsWhat', subs: [{ msg: 'platform_' + r.platform, raw: r.platform }, { msg: 'kind_' + r.kind, raw: r.kind }, { raw: r.week }] });
  const st = r.stated || {};
  if (st.category) w.push({ key: 'wordsCategory', subs: [{ msg: 'rcategory_' + st.category, raw: st.category }] });
  for (const k of st.keywords || []) w.push({ key: 'wordsKeyword', subs: [{ msg: 'rkeyword_' + k, raw: k }] });
  if (!st.category && !(st.keywords || []).length) w.push({ key: 'wordsNoReason', subs: [] });
  w.push({ key: 'wordsDuration', subs: [{ msg: 'rduration_' + r.duration, raw: r.duration }] });
  const a = r.appeal || {};
  w.push({ key: 'wordsOffered', subs: [{ msg: 'roffered_' + a.offered, raw: a.offered }] });
  if (a.submitted) w.push({ key: 'wordsAppeal', subs: [{ msg: 'routcome_' + a.outcome, raw: a.outcome }, { msg: 'rdelay_' + a.response_delay, raw: a.response_delay }] });
  else w.push({ key: 'wordsNoAppeal', subs: [] });
  const c = r.context || {};
  if (c.account_type) w.push({ key: 'wordsAccountType', subs: [{ msg: 'raccount_' + c.account_type, raw: c.account_type }] });
  if (typeof c.paid_verification === 'boolean') w.push({ key: c.paid_verification ? 'wordsPaidYes' : 'wordsPaidNo', subs: [] });
  if (c.country) w.push({ key: 'wordsCountry', subs: [{ raw: c.country }] });
  w.push({ key: 'wordsNever', subs: [] });
  return w;
}
