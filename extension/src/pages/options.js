import { api, ask, localise, t, h, say, errorText, platformLabel } from './common.js';
import { mailPermissions, mailConsented, isFirefox } from '../core/webmail.js';

const $ = (id) => document.getElementById(id);
let current = null;

async function save(patch) {
  try {
    current = await ask('settings_set', { settings: { ...current, ...patch } });
    say($('message'), t('saved'));
  } catch (e) {
    say($('message'), errorText(e), true);
  }
}

async function load() {
  current = await ask('settings_get');
  const ids = await ask('platforms');
  $('screenshots').checked = current.screenshots;
  $('announce').checked = current.announce;
  $('appeal-text').checked = current.appealText === true;
  for (const id of ['gmail', 'outlook']) $('webmail-' + id).checked = Boolean(current.webmail && current.webmail[id]) && await mailConsented(api, id);
  $('autolock').value = String(current.autoLockMinutes);
  const box = $('platforms');
  for (const id of ids) {
    const input = h('input', { type: 'checkbox', id: 'platform-' + id });
    input.checked = current.platforms[id] !== false;
    input.addEventListener('change', () => save({ platforms: { ...current.platforms, [id]: input.checked } }));
    box.append(h('label', { class: 'row', for: 'platform-' + id }, input, h('span', { text: platformLabel(id) })));
  }
}

$('screenshots').addEventListener('change', (e) => save({ screenshots: e.target.checked }));
$('announce').addEventListener('change', (e) => save({ announce: e.target.checked }));
$('appeal-text').addEventListener('change', (e) => save({ appealText: e.target.checked }));

// Webmail, per webmail: the optional host permission is asked for on the person's click (a user
// gesture), and the worker registers the webmail's content script only once it is granted.
for (const id of ['gmail', 'outlook']) {
  const box = $('webmail-' + id);
  box.addEventListener('change', async () => {
    const wanted = mailPermissions(id, isFirefox(api));
    if (box.checked) {
      let granted = false;
      try { granted = await api.permissions.request(wanted); } catch (e) { granted = false; }
      if (!granted) { box.checked = false; say($('message'), t('webmailDenied'), true); return; }
      await save({ webmail: { ...current.webmail, [id]: true } });
    } else {
      const next = { ...current.webmail };
      delete next[id];
      await save({ webmail: next });
      try { await api.permissions.remove(wanted); } catch (e) { /* kept by <all_urls> in Chromium */ }
    }
  });
}
$('autolock').addEventListener('change', (e) => {
  const n = Number(e.target.value);
  if (Number.isInteger(n) && n >= 1 && n <= 1440) save({ autoLockMinutes: n });
  else say($('message'), t('autoLockInvalid'), true);
});
$('form').addEventListener('submit', (e) => e.preventDefault());

localise();
load().catch((e) => say($('message'), errorText(e), true));
