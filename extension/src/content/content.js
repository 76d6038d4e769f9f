// Bantrail's content script on the platforms' pages: asks the service worker for this page's
// rules, looks at the page at load, on in-page navigation and after the page changes (watch.js:
// at most four looks a second, none while the page is still), and reports a notice's own text.
// It sends url, title, lang, text, observed_at and its cheap guess (platform, kind); nothing else.
(function () {
  'use strict';
  if (globalThis.__bantrailContent) return;
  globalThis.__bantrailContent = true;
  const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;
  const Detect = globalThis.BantrailDetect;
  const OBSERVE = { childList: true, subtree: true, attributes: true, attributeFilter: ['open', 'role', 'aria-modal', 'hidden', 'aria-hidden'] };

  let detector = null;
  let config = null;
  const sent = new Set();

  function check() {
    for (const n of detector.scan(document, location)) report(n);
  }

  function report(n) {
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
    globalThis.BantrailWatch.watch(check, OBSERVE);
    // Appeal and review forms (appeal.js): the time of a submission, the text only if opted in.
    if (globalThis.BantrailAppeal && cfg.appeal) {
      globalThis.BantrailAppeal.watch(document, location, cfg.appeal, (a) => {
        Promise.resolve(api.runtime.sendMessage({ type: 'appeal_submitted', appeal: a })).catch(() => {});
      });
    }
  }

  start();
})();
