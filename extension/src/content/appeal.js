// Bantrail's appeal-form watcher, run in the platforms' pages with detect.js and content.js (a
// classic content script). It notices when the person submits a platform's appeal or review form
// and says so, with the time; the text they wrote only when they opted in. What an appeal form
// looks like is data (rules.json "appeal_forms", docs/RULES.md): the URL paths of the platform's
// appeal pages, words that say a form or dialog is about an appeal, and the send buttons' labels.
// Pure DOM, no extension API: the Node tests load it into jsdom.
(function (root) {
  'use strict';
  const Detect = root.BantrailDetect;
  const NOTE_MAX = 4000;
  // A second submission within this time (a double click, a click and its form's submit event) is
  // the same appeal.
  const SAME_MS = 60 * 1000;
  const CONTROLS = 'button,[role="button"],input[type="submit"],input[type="button"]';
  const REGIONS = 'form,dialog,[role="dialog"],[role="alertdialog"],[aria-modal="true"]';

  const normalise = (s) => Detect.normalise(s);

  function labelOf(el) {
    if (!el) return '';
    const t = el.tagName === 'INPUT' ? el.value : el.getAttribute('aria-label') || el.textContent;
    return normalise(t || '');
  }

  /** The part of the page the control belongs to: its form or dialog, else the main region. */
  function regionOf(el, doc) {
    const r = el && el.closest ? el.closest(REGIONS) : null;
    return r || doc.querySelector('main,[role="main"]') || doc.body;
  }

  /** cfg: {paths: [regex sources], context: [normalised phrases], submitLabels: [normalised]} */
  function create(cfg) {
    const paths = [];
    for (const p of cfg.paths || []) { try { paths.push(new RegExp(p, 'i')); } catch (e) { /* skip */ } }
    const context = (cfg.context || []).filter((x) => typeof x === 'string' && x.length > 1);
    const labels = (cfg.submitLabels || []).filter((x) => typeof x === 'string' && x.length > 1);

    const onAppealPath = (loc) => paths.some((re) => re.test(loc.pathname));
    const hasContext = (region) => {
      const text = normalise(Detect.extractText(region) + ' ' + (region.getAttribute && (region.getAttribute('aria-label') || '')));
      return context.some((c) => text.includes(c));
    };
    // A label is a send button's when it is one of the labels, or starts with one ("Submit
    // appeal", "Envoyer la demande"); a long label phrase may sit anywhere in it.
    const isSubmitLabel = (label) => Boolean(label) && labels.some((l) =>
      label === l || label.startsWith(l + ' ') || (l.length >= 8 && label.includes(l)));

    /** The person's own words in the region's text fields (only used when they opted in). */
    function noteOf(region) {
      const parts = [];
      for (const f of region.querySelectorAll('textarea,[contenteditable="true"]')) {
        const v = (f.tagName === 'TEXTAREA' ? f.value : f.textContent || '').trim();
        if (v) parts.push(v);
      }
      const s = parts.join('\n\n');
      return s ? s.slice(0, NOTE_MAX) : null;
    }

    /**
     * Decides whether an event is the submission of an appeal. `ev` is a submit event (target: the
     * form, submitter: the button) or a click. Returns {region} or null.
     */
    function judge(ev, doc, loc) {
      let control, region;
      if (ev.type === 'submit') {
        region = ev.target;
        control = ev.submitter || null;
      } else if (ev.type === 'click') {
        control = ev.target && ev.target.closest ? ev.target.closest(CONTROLS) : null;
        if (!control || control.disabled || control.getAttribute('aria-disabled') === 'true') return null;
        // A submit button inside a form: its form's submit event says it (and not when invalid).
        const form = control.form || control.closest('form');
        const type = (control.getAttribute('type') || (control.tagName === 'BUTTON' ? 'submit' : '')).toLowerCase();
        if (form && type === 'submit') return null;
        region = regionOf(control, doc);
      } else return null;
      if (!region) return null;
      const path = onAppealPath(loc);
      const submitLabel = isSubmitLabel(labelOf(control));
      if (ev.type === 'click' && !submitLabel) return null;
      // Where: a page the rules list as an appeal page, or a form or dialog that says "appeal".
      // Off the appeal pages only a form or dialog counts, never the page's main region.
      if (!path && !(region.matches && region.matches(REGIONS))) return null;
      if (!path && !hasContext(region)) return null;
      // What: a send button, or a form submitted some other way (Enter) on an appeal page whose
      // form talks about the appeal.
      if (!submitLabel && !(control === null && path && hasContext(region))) return null;
      return { region };
    }

    return { judge, onAppealPath, isSubmitLabel, noteOf };
  }

  /**
   * Watches a document for appeal submissions: `send({at, note?})` is called once per submission
   * (at: ISO time). `includeText` says whether the person opted in to keeping what they wrote.
   */
  function watch(doc, loc, cfg, send) {
    const w = create(cfg);
    let last = 0;
    const handler = (ev) => {
      let r;
      try { r = w.judge(ev, doc, loc); } catch (e) { return; }
      if (!r) return;
      const now = Date.now();
      if (now - last < SAME_MS) return;
      last = now;
      const msg = { at: new Date(now).toISOString() };
      if (cfg.includeText) {
        const note = w.noteOf(r.region);
        if (note) msg.note = note;
      }
      send(msg);
    };
    // Capture phase: seen before the page's own handlers can stop it.
    doc.addEventListener('submit', handler, true);
    doc.addEventListener('click', handler, true);
    return { stop: () => { doc.removeEventListener('submit', handler, true); doc.removeEventListener('click', handler, true); } };
  }

  root.BantrailAppeal = Object.freeze({ create, watch });
})(globalThis);
