// Bantrail's content script on the platforms' pages: asks the service worker for this page's
// rules, looks at the page at load, on in-page navigation and after the page changes (a throttled
// MutationObserver: at most four looks a second, none while the page is still), and reports a
// notice's own text.
// It sends url, title, lang, text, observed_at and its cheap guess (platform, kind); nothing else.
(function () {
  'use strict';
  if (globalThis.__bantrailContent) return;
  globalThis.__bantrailContent = true;
  const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;
  const Detect = globalThis.BantrailDetect;
  // The observer is throttled: the first mutation disconnects it, and one look at the page
  // follows LOOK_MS later, after which it observes again. However busy the page, the content
  // script runs at most 1000 / LOOK_MS times a second, and not at all while the page is still.
  const LOOK_MS = 250;
  const OBSERVE = { childList: true, subtree: true, attributes: true, attributeFilter: ['open', 'role', 'aria-modal', 'hidden', 'aria-hidden'] };

  let detector = null;
  let config = null;
  let observer = null;
  let timer = null;
  const sent = new Set();

  function check() {
    const n = detector.scan(document, location);
    if (!n) return;
    const key = location.href + '\n' + n.text;
    if (sent.has(key)) return;
    sent.add(key);
    const lang = (document.documentElement.getAttribute('lang') || '').trim();
    const notice = {
      url: location.href,
      title: document.title || undefined,
      lang: /^[A-Za-z0-9-]{1,35}$/.test(lang) ? lang : undefined,
      text: n.text,
      observed_at: new Date().toISOString(),
      classification: { platform: config.platform, kind: n.kind || undefined, trigger: n.trigger },
    };
    Promise.resolve(api.runtime.sendMessage({ type: 'notice', notice })).catch(() => {
      sent.delete(key);   // the worker was restarting: the next look will try again
    });
  }

  function look() {
    timer = null;
    try { check(); } finally { observer.observe(document.documentElement, OBSERVE); }
  }

  function soon() {
    if (timer !== null) return;
    observer.disconnect();
    timer = setTimeout(look, LOOK_MS);
  }

  async function start() {
    let cfg;
    try {
      cfg = await api.runtime.sendMessage({ type: 'page_config' });
    } catch (e) {
      return;
    }
    if (!cfg || !cfg.enabled) return;
    config = cfg;
    detector = Detect.create(cfg);
    observer = new MutationObserver(soon);
    look();
    // Appeal and review forms (appeal.js): the time of a submission, the text only if opted in.
    if (globalThis.BantrailAppeal && cfg.appeal) {
      globalThis.BantrailAppeal.watch(document, location, cfg.appeal, (a) => {
        Promise.resolve(api.runtime.sendMessage({ type: 'appeal_submitted', appeal: a })).catch(() => {});
      });
    }
    addEventListener('popstate', soon);
    addEventListener('hashchange', soon);
    // The Navigation API sees history.pushState from the page's own scripts (Chromium); elsewhere
    // the observer notices the URL change with the DOM update that comes with it.
    if (globalThis.navigation && typeof globalThis.navigation.addEventListener === 'function') {
      globalThis.navigation.addEventListener('navigatesuccess', soon);
    }
  }

  start();
})();
