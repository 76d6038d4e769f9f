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
  const CANDIDATE_QUERIES = ['[role="dialog"]', '[role="alertdialog"]', '[role="alert"]', '[aria-modal="true"]'];

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

  // The same normalisation as src/core/rules.js (docs/RULES.md, "for the extension's trigger").
  function normalise(text) {
    return String(text).normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase()
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

    function phraseKind(text) {
      const n = normalise(text);
      if (!n) return null;
      for (const x of phrases) if (x.re ? x.re.test(n) : n.includes(x.p)) return x.kind;
      return null;
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

    // A candidate's text and verdict, kept while its text is unchanged: a banner that stays on
    // screen is matched against the phrases once, not at every look.
    const seenText = new WeakMap();

    function candidateKind(el) {
      const text = extractText(el);
      const before = seenText.get(el);
      if (before && before.text === text) return { text, kind: before.kind };
      const kind = phraseKind(text);
      seenText.set(el, { text, kind });
      return { text, kind };
    }

    /**
     * Looks at the page once. Returns {kind, trigger, text} for a notice, or null.
     * A URL the rules list as a restriction page is a full-page block: its main region is the
     * notice. Otherwise only dialogs and alert banners whose own text holds a rules phrase count.
     */
    function scan(doc, loc) {
      const byPath = pathKind(loc);
      if (byPath) {
        const text = extractText(mainRegion(doc));
        if (text) return { kind: byPath.kind || phraseKind(text), trigger: 'path', text };
      }
      for (const el of candidates(doc)) {
        if (hiddenOrForeign(el)) continue;
        const { text, kind } = candidateKind(el);
        if (kind) return { kind, trigger: el.matches('[role="alert"]') ? 'banner' : 'dialog', text };
      }
      return null;
    }

    return { scan, pathKind, phraseKind };
  }

  root.BantrailDetect = Object.freeze({ create, extractText, normalise, CANDIDATES });
})(globalThis);
