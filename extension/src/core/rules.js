// The rules file (extension/rules/rules.json, documented in docs/RULES.md) compiled for the
// extension's cheap trigger. The host's classifier is the authority; this only decides whether a
// page region is worth sending. No chrome.* here, so Node's test runner can load it.
//
// Contract: {"platforms": {id: {"hosts": [...], "paths": [{"pattern": regex source, "kind"}]}},
//            "kinds": {kind: {lang: [phrases]}}, "concepts": {...}}. Unknown members are ignored
// here; the build refuses them (bt_rules_check).

export const KINDS = Object.freeze([
  'suspension', 'disabled', 'temporary_restriction', 'action_blocked', 'checkpoint',
  'warning', 'appeal_received', 'appeal_rejected', 'appeal_reinstated',
]);

// Letters written two ways fold to one, as the host's classifier folds them: Hebrew final forms
// (so "חסום" matches in "חסומה"), Greek final sigma, Arabic alef maqsura and teh marbuta, tatweel,
// dotless i, and the letters with a stroke (ł, đ, ø, ħ), which people type without it.
const FOLD = { '\u05da': '\u05db', '\u05dd': '\u05de', '\u05df': '\u05e0', '\u05e3': '\u05e4', '\u05e5': '\u05e6',
  '\u03c2': '\u03c3', '\u0649': '\u064a', '\u0629': '\u0647', '\u0640': '', '\u0131': 'i',
  '\u0142': 'l', '\u0111': 'd', '\u00f8': 'o', '\u0127': 'h' };
const FOLDED = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'g');
// The letters of India's other scripts (Bengali to Malayalam) as Devanagari's: their Unicode
// blocks follow one layout, so a word the languages share is one word (host: brahmic()).
const BRAHMIC = { '\u09ce': '\u0924', '\u09f0': '\u0930', '\u09f1': '\u0935', '\u0b71': '\u0935', '\u0b5f': '\u092f',
  '\u0d54': '\u092e', '\u0d55': '\u092f', '\u0d56': '\u0934', '\u0d7a': '\u0923', '\u0d7b': '\u0928',
  '\u0d7c': '\u0930', '\u0d7d': '\u0932', '\u0d7e': '\u0933', '\u0d7f': '\u0915' };
const brahmic = (c) => BRAHMIC[c] || String.fromCodePoint(0x900 + (c.codePointAt(0) & 0x7f));

/**
 * Normalises text for phrase matching as docs/RULES.md suggests for the trigger: compatibility
 * decomposition, accents dropped, lower case, white space collapsed, typographic apostrophes
 * straightened, and spaces between Hangul syllables removed (Korean spacing varies).
 */
export function normalise(text) {
  return String(text).normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase()
    .replace(FOLDED, (c) => FOLD[c])
    .replace(/[\u0980-\u0d7f]/gu, (c) => (/\p{L}/u.test(c) ? brahmic(c) : c))
    .replace(/[\u2018\u2019\u02bc]/g, "'").replace(/\s+/gu, ' ').trim()
    .replace(/([\uac00-\ud7a3]) (?=[\uac00-\ud7a3])/g, '$1');
}

/** True when `host` is `h` or a subdomain of it. */
function hostMatches(host, h) {
  return host === h || host.endsWith('.' + h);
}

/**
 * Compiles a parsed rules object. Returns {platforms: [{id, hosts, paths: [{re, kind}]}],
 * phrases: [{kind, lang, text}]}. Throws on a rules file that breaks the contract, naming the
 * offending member; a single bad regex is skipped and reported in `problems`.
 */
export function compileRules(rules) {
  if (!rules || typeof rules !== 'object' || typeof rules.platforms !== 'object' || rules.platforms === null) {
    throw new Error('rules: "platforms" must be an object');
  }
  const problems = [];
  const platforms = [];
  for (const [id, p] of Object.entries(rules.platforms)) {
    if (!p || !Array.isArray(p.hosts)) { problems.push(`platforms.${id}.hosts`); continue; }
    const hosts = p.hosts.filter((h) => typeof h === 'string' && h.length > 0).map((h) => h.toLowerCase().replace(/^\*\./, ''));
    const paths = [];
    for (const [i, path] of (Array.isArray(p.paths) ? p.paths : []).entries()) {
      if (!path || typeof path.pattern !== 'string') { problems.push(`platforms.${id}.paths[${i}]`); continue; }
      try {
        paths.push({ re: new RegExp(path.pattern, 'u'), kind: typeof path.kind === 'string' ? path.kind : null });
      } catch {
        try { paths.push({ re: new RegExp(path.pattern), kind: typeof path.kind === 'string' ? path.kind : null }); } catch { problems.push(`platforms.${id}.paths[${i}].pattern`); }
      }
    }
    platforms.push({ id, hosts, paths, software: strings(p.software) });
  }
  const phrases = [];
  const priority = Array.isArray(rules.kind_priority) ? rules.kind_priority : KINDS;
  const rank = (k) => { const i = priority.indexOf(k); return i < 0 ? priority.length : i; };
  // Every string under "kinds" and "labels" is a trigger phrase (docs/RULES.md).
  const sections = [rules.kinds, rules.labels].filter((x) => x && typeof x === 'object');
  for (const [kind, langs] of sections.flatMap((x) => Object.entries(x))) {
    if (!langs || typeof langs !== 'object') continue;
    for (const [lang, list] of Object.entries(langs)) {
      if (!Array.isArray(list)) continue;
      for (const text of list) {
        if (typeof text !== 'string') continue;
        const n = normalise(text);
        if (n.replace(/\*/g, '').trim().length >= 3) phrases.push({ kind, lang, text: n });
      }
    }
  }
  // The trigger reports the first kind that matches, in the rules' order of precedence; phrases
  // before labels within a kind (the sort is stable).
  phrases.sort((a, b) => rank(a.kind) - rank(b.kind));
  return {
    platforms, phrases, problems, concepts: compileConcepts(rules.concepts),
    appealForms: compileAppealForms(rules.appeal_forms, problems), mailSenders: compileMailSenders(rules.mail_senders),
  };
}

/**
 * rules.concepts (docs/RULES.md, "Concepts": {concept: {lang: "term|term"}}), normalised: {you, we, object, other: [terms],
 * state: [[term, kind]]}. The trigger fires on a sentence holding a state and the person
 * addressed, the platform speaking or the object ("account"), as the host's classifier scores it.
 */
function compileConcepts(raw) {
  const c = raw && typeof raw === 'object' ? raw : {};
  // A term ending with a space must end at a word's end: the space is kept.
  const terms = (x) => (x && typeof x === 'object' ? Object.values(x).flatMap(joined) : [])
    .map((t) => normalise(t) + (t.endsWith(' ') ? ' ' : '')).filter((t) => t.trim());
  const state = [];
  for (const [kind, langs] of Object.entries(c.state && typeof c.state === 'object' ? c.state : {})) {
    for (const t of terms(langs)) state.push([t, kind]);
  }
  return { you: terms(c.you), we: terms(c.we), object: terms(c.object), other: terms(c.other), state };
}

const strings = (x) => (Array.isArray(x) ? x.filter((s) => typeof s === 'string' && s.length > 0) : []);
/** A concept's terms in one language: one string, joined by '|'. */
const joined = (x) => (typeof x === 'string' ? x.split('|') : []);
/** Every string of a {lang: [strings]} object, normalised. */
const byLang = (x) => (x && typeof x === 'object' ? Object.values(x).flatMap(strings).map(normalise).filter(Boolean) : []);

/** rules.appeal_forms (docs/RULES.md, "Appeal forms"): paths per platform, context, submit labels. */
function compileAppealForms(raw, problems) {
  const out = { paths: {}, context: [], submitLabels: [] };
  if (!raw || typeof raw !== 'object') return out;
  for (const [id, list] of Object.entries(raw.paths && typeof raw.paths === 'object' ? raw.paths : {})) {
    out.paths[id] = [];
    for (const [i, pattern] of strings(list).entries()) {
      try { new RegExp(pattern, 'i'); out.paths[id].push(pattern); } catch { problems.push(`appeal_forms.paths.${id}[${i}]`); }
    }
  }
  out.context = byLang(raw.context);
  out.submitLabels = byLang(raw.submit_labels);
  return out;
}

/** rules.mail_senders: [{domain, platform}], longest domain first. */
function compileMailSenders(raw) {
  const out = [];
  if (!raw || typeof raw !== 'object') return out;
  for (const [id, list] of Object.entries(raw)) {
    for (const d of strings(list)) out.push({ domain: d.toLowerCase(), platform: id });
  }
  return out.sort((a, b) => b.domain.length - a.domain.length);
}

/** The platform whose mail domain covers the address's domain (or subdomain), or null. */
export function mailPlatform(compiled, address) {
  const m = /@([^@\s>]+)$/.exec(String(address).trim().toLowerCase());
  if (!m) return null;
  const host = m[1].replace(/\.$/, '');
  const hit = (compiled.mailSenders || []).find((s) => hostMatches(host, s.domain));
  return hit ? hit.platform : null;
}

/** What the appeal-form watcher of a platform's pages needs (plain JSON). */
export function appealConfig(compiled, platform) {
  const a = compiled.appealForms || { paths: {}, context: [], submitLabels: [] };
  return { paths: a.paths[platform] || [], context: a.context, submitLabels: a.submitLabels };
}

/** The platform whose hosts cover `hostname`, or null. */
export function platformForHost(compiled, hostname) {
  const host = String(hostname).toLowerCase().replace(/\.$/, '');
  for (const p of compiled.platforms) {
    if (p.hosts.some((h) => hostMatches(host, h))) return p;
  }
  return null;
}

/**
 * What the content script of one page needs: the platform id, its path patterns (as sources) and
 * every phrase (all languages: a page's language is often not the person's). Plain JSON, so it
 * can cross runtime messaging. Returns null for a page on no platform.
 */
export function pageConfig(compiled, url, software = null) {
  let u;
  try { u = new URL(url); } catch { return null; }
  if (u.protocol !== 'https:') return null;
  const p = platformForHost(compiled, u.hostname) ||
    compiled.platforms.find((x) => x.id === software && x.software.length > 0);
  if (!p) return null;
  return {
    platform: p.id,
    paths: p.paths.map((x) => ({ pattern: x.re.source, flags: x.re.flags, kind: x.kind })),
    phrases: compiled.phrases.map((x) => [x.text, x.kind]),
    concepts: compiled.concepts,
  };
}

/**
 * What software.js looks for on a page of no listed host: [{platform, selectors}] for the
 * platforms that run on many servers (rules: platforms.<id>.software, CSS selectors).
 */
export function softwareProbes(compiled) {
  return compiled.platforms.filter((p) => p.software.length > 0).map((p) => ({ platform: p.id, selectors: p.software }));
}

/** Every host pattern the rules name, as "https://*.host/*" match patterns. */
export function matchPatterns(compiled) {
  const out = new Set();
  for (const p of compiled.platforms) for (const h of p.hosts) out.add(`https://*.${h}/*`);
  return [...out].sort();
}

/** True when a manifest match pattern ("https://*.x.com/*", "https://x.com/*") covers `host`. */
export function patternCoversHost(pattern, host) {
  const m = /^https:\/\/(\*\.)?([^/]+)\/\*$/.exec(pattern);
  if (!m) return false;
  return m[1] ? hostMatches(host, m[2]) : host === m[2];
}
