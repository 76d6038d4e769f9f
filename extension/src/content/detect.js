// Bantrail's notice trigger, run in the platforms' pages (a classic content script: content
// scripts cannot be ES modules). Pure DOM, no extension API: the Node tests load it into jsdom.
// It decides cheaply whether the page shows a restriction notice and extracts only that notice's
// own region. The host's classifier has the last word on what the text means.
(function (root) {
  'use strict';

  // Where notices live: modal dialogs, alert banners, and (for URL-matched full-page blocks) the
  // page's main region.
  const CANDIDATES = 'dialog[open],[role="dialog"],[role="alertdialog"],[aria-modal="true"],[role="alert"]';
  // Queried one simple selector at a time: browsers answer a lone attribute selector several
  // times faster than a selector list (measured in Chromium on a 10,000-node page: 0.09 ms each
  // against 1.5 ms for the list).
  const CANDIDATE_QUERIES = ['[role="dialog"]', '[role="alertdialog"]', '[role="alert"]', '[aria-modal="true"]',
    '[role="status"]', '[aria-live="assertive"]'];
  // A main region with no more text than this is a panel (a block page, a ban panel that replaced
  // the column); a longer one is looked into for banners of at most BANNER_TEXT characters, the
  // first FLOW_MAX blocks down to FLOW_DEPTH levels (feeds, articles and navigation skipped).
  const PANEL_TEXT = 4000;
  const BANNER_TEXT = 600;
  const FLOW_MAX = 64;
  const FLOW_DEPTH = 4;
  const SHAPED_TEXT = 1200;
  // At most this many regions go to the host from one look.
  const MAX_FOUND = 4;

  /** The outermost candidate regions of the page, in no particular order. */
  function candidates(doc) {
    const found = new Set();
    for (const q of CANDIDATE_QUERIES) for (const el of doc.querySelectorAll(q)) found.add(el);
    for (const el of doc.getElementsByTagName('dialog')) if (el.hasAttribute('open')) found.add(el);
    const all = [...found];
    return all.length < 2 ? all : all.filter((el) => !all.some((o) => o !== el && o.contains(el)));
  }
  // Other people's content and the person's own input: never read.
  const EXCLUDED = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'CANVAS', 'IFRAME', 'OBJECT',
    'EMBED', 'VIDEO', 'AUDIO', 'INPUT', 'TEXTAREA', 'SELECT', 'ARTICLE', 'ASIDE', 'NAV', 'IMG']);
  const EXCLUDED_ROLES = new Set(['feed', 'article', 'log', 'navigation', 'complementary', 'textbox']);
  const BLOCKS = new Set(['P', 'DIV', 'SECTION', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'LI', 'UL', 'OL', 'BR',
    'HEADER', 'FOOTER', 'MAIN', 'FORM', 'BUTTON', 'A', 'TABLE', 'TR', 'TD', 'BLOCKQUOTE', 'DIALOG']);
  const MAX_TEXT = 64 * 1024;
  // "*" in a phrase: up to 40 characters within one sentence, possibly none (docs/RULES.md).
  const WILDCARD = '(?:(?![.!?;] ).){0,40}?';
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const SENTENCE_END = /[.!?;](?:\s|$)|\n|\u3002/u;
  // Concept terms as one regular expression: "*" as in phrases; in scripts written with spaces
  // (below U+0590) a term starts at a word's start unless it begins with "-" (a word's ending),
  // and a term ending with a space ends at a word's end (docs/RULES.md, "Concepts"). The edges are written once for each of the four
  // groups, not once a term: compiling stays cheap with thousands of terms.
  const LETTER = '[\\p{L}\\p{N}]';
  function termsRegExp(terms) {
    const groups = [[], [], [], []];   // [spaced start][whole word]
    for (const term of terms) {
      const ending = /^-./u.test(term.trim());   // "-dınız ": a word's ending, it may start inside one
      const core = ending ? term.trim().slice(1) : term.trim();
      const body = core.split('*').map((x) => x.trim()).filter(Boolean).map(escapeRe).join(WILDCARD);
      if (!body) continue;
      const first = core.codePointAt(0);
      const spaced = !ending && first < 0x590 && /[\p{L}\p{N}]/u.test(String.fromCodePoint(first));
      groups[(spaced ? 2 : 0) + (term.endsWith(' ') ? 1 : 0)].push(body);
    }
    const src = groups.map((g, i) => g.length === 0 ? null
      : (i >= 2 ? `(?<!${LETTER})` : '') + `(?:${g.join('|')})` + (i % 2 ? `(?!${LETTER})` : '')).filter(Boolean);
    return src.length ? new RegExp(src.join('|'), 'u') : null;
  }

  // The same normalisation as src/core/rules.js (docs/RULES.md, "for the extension's trigger").
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
  function normalise(text) {
    return String(text).normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase()
      .replace(FOLDED, (c) => FOLD[c])
      .replace(/[\u0980-\u0d7f]/gu, (c) => (/\p{L}/u.test(c) ? brahmic(c) : c))
      .replace(/[\u2018\u2019\u02bc]/g, "'").replace(/\s+/gu, ' ').trim()
      .replace(/([\uac00-\ud7a3]) (?=[\uac00-\ud7a3])/g, '$1');
  }

  function skipped(el) {
    if (EXCLUDED.has(el.tagName.toUpperCase())) return true;
    if (el.hasAttribute('hidden') || el.getAttribute('aria-hidden') === 'true') return true;
    if (el.isContentEditable || el.getAttribute('contenteditable') === 'true') return true;
    const role = el.getAttribute('role');
    return role !== null && EXCLUDED_ROLES.has(role);
  }

  /** The visible text of `region`, without feeds, articles, navigation or form fields. */
  function extractText(region) {
    const lines = [];
    let line = '';
    let size = 0;
    const flush = () => {
      const t = line.replace(/\s+/g, ' ').trim();
      if (t && size < MAX_TEXT) { lines.push(t); size += t.length + 1; }
      line = '';
    };
    const walk = (node) => {
      if (size >= MAX_TEXT) return;
      for (let c = node.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) line += c.data;
        else if (c.nodeType === 1) {
          if (skipped(c)) continue;
          const block = BLOCKS.has(c.tagName.toUpperCase());
          if (block) flush();
          walk(c);
          if (block) flush();
        }
      }
    };
    walk(region);
    flush();
    return lines.join('\n').slice(0, MAX_TEXT);
  }

  function hiddenOrForeign(el) {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.hasAttribute('hidden') || e.getAttribute('aria-hidden') === 'true') return true;
      if (e !== el && (e.tagName.toUpperCase() === 'ARTICLE' || EXCLUDED_ROLES.has(e.getAttribute('role') || ''))) return true;
    }
    return false;
  }

  /** config: {platform, paths: [{pattern, flags, kind}], phrases: [[normalised phrase, kind]]} */
  function create(config) {
    const paths = [];
    for (const p of config.paths || []) {
      try { paths.push({ re: new RegExp(p.pattern, p.flags || ''), kind: p.kind || null }); } catch (e) { /* skip */ }
    }
    // A phrase is matched as a substring of the normalised text; a phrase with "*" becomes a
    // regular expression whose parts must occur in order.
    const phrases = [];
    for (const [p, kind] of config.phrases || []) {
      if (typeof p !== 'string' || !p) continue;
      if (!p.includes('*')) { phrases.push({ p, kind }); continue; }
      const parts = p.split('*').map((x) => x.trim()).filter(Boolean).map(escapeRe);
      if (parts.length) phrases.push({ re: new RegExp(parts.join(WILDCARD), 'u'), kind });
    }

    // Concepts (docs/RULES.md): a sentence with a state word and the person addressed, the
    // platform speaking or the object ("account") is worth the host's look.
    // One expression for the states, a capturing group a kind (which group matched tells the
    // kind), one for who or what is concerned; built at the first look that needs them.
    const concepts = config.concepts || {};
    let conceptRe = null;
    function conceptRegExps() {
      if (conceptRe) return conceptRe;
      const kinds = [...new Set((concepts.state || []).map(([, kind]) => kind))];
      const states = kinds.map((k) => termsRegExp((concepts.state || []).filter(([, kind]) => kind === k).map(([t]) => t)))
        .map((re) => (re ? `(${re.source})` : '(?!)'));
      conceptRe = {
        kinds,
        states: states.length ? new RegExp(states.join('|'), 'u') : null,
        withWhom: termsRegExp([...(concepts.you || []), ...(concepts.we || []), ...(concepts.object || [])]),
      };
      return conceptRe;
    }

    /** The kind of the first state found, or null. */
    function stateKind(n) {
      const { states, kinds } = conceptRegExps();
      const m = states ? states.exec(n) : null;
      if (!m) return null;
      const i = m.findIndex((g, j) => j > 0 && g !== undefined);
      return kinds[i - 1] || null;
    }

    /** A sentence where a state meets the person addressed, the platform speaking or the object. */
    function conceptKind(n) {
      const { withWhom } = conceptRegExps();
      if (!withWhom) return null;
      for (const sentence of n.split(SENTENCE_END)) {
        if (sentence && withWhom.test(sentence)) {
          const kind = stateKind(sentence);
          if (kind) return kind;
        }
      }
      return null;
    }

    /** Any concept word at all (for the shapes notices take: dialogs, alerts, toasts). */
    function anyConcept(n) {
      const { withWhom } = conceptRegExps();
      return stateKind(n) !== null || (withWhom !== null && withWhom.test(n));
    }

    /** The kind a phrase or a concept sentence of normalised text n points to, or null. */
    function kindOf(n) {
      if (!n) return null;
      for (const x of phrases) if (x.re ? x.re.test(n) : n.includes(x.p)) return x.kind;
      return conceptKind(n);
    }

    function phraseKind(text) {
      return kindOf(normalise(text));
    }

    function pathKind(loc) {
      const path = loc.pathname + (loc.search || '');
      for (const p of paths) {
        p.re.lastIndex = 0;
        if (p.re.test(loc.pathname) || p.re.test(path)) return { kind: p.kind };
      }
      return null;
    }

    function mainRegion(doc) {
      return doc.querySelector('main,[role="main"]') || doc.body;
    }

    /** Notices in the page's own flow: the main region when it is a short panel, else the
     * banners among its first blocks; then the banners outside it (a bar across the top of the
     * page, above a main region that holds only the feed). */
    function flowCandidates(doc) {
      const main = mainRegion(doc);
      if (!main) return [];
      const out = [];
      const walk = (el, depth) => {
        for (let c = el.firstElementChild; c && out.length < FLOW_MAX; c = c.nextElementSibling) {
          if (c === main || skipped(c)) continue;
          const len = (c.textContent || '').length;
          if (len === 0) continue;
          if (c.contains(main)) walk(c, depth);
          else if (len <= BANNER_TEXT) out.push(c);
          else if (depth < FLOW_DEPTH) walk(c, depth + 1);
        }
      };
      if ((main.textContent || '').length <= PANEL_TEXT) out.push(main);
      else walk(main, 0);
      if (main !== doc.body && doc.body) walk(doc.body, 0);
      return out;
    }

    // A candidate's text and verdict, kept while its text is unchanged: a banner that stays on
    // screen is matched against the phrases once, not at every look.
    const seenText = new WeakMap();

    /** A region's text, the trigger's guess of its kind, and whether the host should see it:
     * a phrase or a concept sentence, or in a short text (SHAPED_TEXT) any concept word for the
     * shapes notices take (a dialog, alert or toast), a state word in the page's flow. */
    function candidateKind(el, shaped) {
      const text = extractText(el);
      const before = seenText.get(el);
      if (before && before.text === text && before.shaped === shaped) return before;
      const n = normalise(text);
      const kind = kindOf(n);
      const worth = !!kind || (text.length <= SHAPED_TEXT && (shaped ? anyConcept(n) : stateKind(n) !== null));
      const seen = { text, shaped, kind, worth };
      seenText.set(el, seen);
      return seen;
    }

    /**
     * Looks at the page once. Returns the regions worth the host's look, each {kind, trigger,
     * text}, at most MAX_FOUND, none inside another: a URL the rules list as a restriction page is
     * a full-page block, its main region the notice; otherwise the dialogs, alerts and toasts, then
     * the blocks of the page's own flow. Every one is returned, not the first: a look-alike the
     * host turns down must not hide a notice after it.
     */
    function scan(doc, loc) {
      const byPath = pathKind(loc);
      if (byPath) {
        const text = extractText(mainRegion(doc));
        if (text) return [{ kind: byPath.kind || phraseKind(text), trigger: 'path', text }];
      }
      const found = [];
      const taken = [];
      const look = (el, shaped) => {
        if (found.length >= MAX_FOUND || hiddenOrForeign(el)) return;
        if (taken.some((t) => t.contains(el) || el.contains(t))) return;
        const { text, kind, worth } = candidateKind(el, shaped);
        if (!worth) return;
        const trigger = !shaped ? 'page' : el.matches('[role="alert"],[role="status"],[aria-live]') ? 'banner' : 'dialog';
        found.push({ kind, trigger, text });
        taken.push(el);
      };
      for (const el of candidates(doc)) look(el, true);
      for (const el of flowCandidates(doc)) look(el, false);
      return found;
    }

    return { scan, pathKind, phraseKind };
  }

  root.BantrailDetect = Object.freeze({ create, extractText, normalise, CANDIDATES });
})(globalThis);
