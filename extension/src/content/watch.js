// What the content scripts share (content.js on the platforms, mail.js in webmail): looking at the
// page at once, after it changes and after in-page navigation, throttled. The observer's first
// mutation disconnects it, and one look follows LOOK_MS later, after which it observes again:
// however busy the page, a script looks at most 1000 / LOOK_MS times a second, and not at all
// while the page is still.
(function (root) {
  'use strict';
  if (root.BantrailWatch) return;
  const LOOK_MS = 250;

  /** Calls look() now and after each change of the page (observe: MutationObserver options). */
  function watch(look, observe) {
    let timer = null;
    const observer = new MutationObserver(soon);
    function run() {
      timer = null;
      try { look(); } finally { observer.observe(root.document.documentElement, observe); }
    }
    function soon() {
      if (timer !== null) return;
      observer.disconnect();
      timer = setTimeout(run, LOOK_MS);
    }
    run();
    root.addEventListener('popstate', soon);
    root.addEventListener('hashchange', soon);
    // The Navigation API sees history.pushState from the page's own scripts (Chromium); elsewhere
    // the observer notices the URL change with the DOM update that comes with it.
    if (root.navigation && typeof root.navigation.addEventListener === 'function') {
      root.navigation.addEventListener('navigatesuccess', soon);
    }
  }

  root.BantrailWatch = Object.freeze({ watch, LOOK_MS });
})(globalThis);
