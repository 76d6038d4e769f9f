// Bantrail's probe on pages of no listed host (a classic content script, on every https page):
// platforms that run on many servers (Mastodon, ...) are recognised by their software, not by a
// host list. It asks the service worker what to look for (the rules' "software" selectors; an
// empty list on the listed platforms' hosts, where content.js runs already), tests them once the
// page is idle, and says which platform it found; the worker then adds the content scripts to this
// tab. It reads nothing of the page but whether those elements exist.
(function () {
  'use strict';
  if (globalThis.__bantrailSoftware) return;
  globalThis.__bantrailSoftware = true;
  const api = globalThis.browser && globalThis.browser.runtime ? globalThis.browser : globalThis.chrome;

  function found(probes) {
    for (const p of Array.isArray(probes) ? probes : []) {
      for (const sel of Array.isArray(p.selectors) ? p.selectors : []) {
        try { if (document.querySelector(sel)) return p.platform; } catch (e) { /* a selector this browser rejects */ }
      }
    }
    return null;
  }

  Promise.resolve(api.runtime.sendMessage({ type: 'software_probe' })).then((probes) => {
    const platform = found(probes);
    if (platform) return api.runtime.sendMessage({ type: 'software_found', platform });
    return null;
  }).catch(() => {});
})();
