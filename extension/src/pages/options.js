import { ask, localise, t, h, say, errorText, platformLabel } from './common.js';

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
$('autolock').addEventListener('change', (e) => {
  const n = Number(e.target.value);
  if (Number.isInteger(n) && n >= 1 && n <= 1440) save({ autoLockMinutes: n });
  else say($('message'), t('autoLockInvalid'), true);
});
$('form').addEventListener('submit', (e) => e.preventDefault());

localise();
load().catch((e) => say($('message'), errorText(e), true));
