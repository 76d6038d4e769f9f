// Shared by the JS unit tests: paths, the real rules file, and a jsdom page running the
// extension's content scripts with a stand-in for the service worker.
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM, VirtualConsole } from 'jsdom';
import { compileRules, pageConfig } from '../../extension/src/core/rules.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const EXT = join(ROOT, 'extension');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const fixtures = JSON.parse(readFileSync(join(FIXTURES, 'fixtures.json'), 'utf8')).pages;
export const rules = JSON.parse(readFileSync(join(EXT, 'rules', 'rules.json'), 'utf8'));
export const compiled = compileRules(rules);

const manifest = JSON.parse(readFileSync(join(EXT, 'manifest.json'), 'utf8'));
/** The content scripts as the manifest lists them, in order. */
export const contentScripts = manifest.content_scripts[0].js.map((f) => readFileSync(join(EXT, f), 'utf8'));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Loads HTML at `url` in jsdom (page scripts run when `pageScripts`), then runs the manifest's
 * content scripts as the browser would at document_idle. Returns {window, sent, config}: `sent` collects
 * the notices the content script reported.
 */
export function runContentScripts(html, url, { pageScripts = true, enabled = true, software = null } = {}) {
  const virtualConsole = new VirtualConsole();
  const dom = new JSDOM(html, { url, runScripts: pageScripts ? 'dangerously' : 'outside-only', pretendToBeVisual: true, virtualConsole });
  const { window } = dom;
  const sent = [];
  const config = pageConfig(compiled, url, software);   // software: as the worker after software.js
  window.chrome = {
    runtime: {
      sendMessage: async (msg) => {
        const m = JSON.parse(JSON.stringify(msg));   // crosses a structured-clone boundary
        if (m.type === 'page_config') return config ? { ...config, enabled } : null;
        if (m.type === 'notice') { sent.push(m.notice); return { stored: true, id: sent.length }; }
        throw new Error('unexpected message ' + m.type);
      },
    },
  };
  for (const src of contentScripts) window.eval(src);
  return { window, sent, config, close: () => window.close() };
}

export function fixtureHtml(file) {
  return readFileSync(join(FIXTURES, file), 'utf8');
}
