// The options page's "sending reports" fieldset: the random delay before a confirmed report is
// sent to its union (core/sender.js; kept under its own storage key, apart from the settings).
import { ask, t, say, errorText } from './common.js';

const $ = (id) => document.getElementById(id);

async function saveDelay() {
  const min = Number($('send-delay-min').value), max = Number($('send-delay-max').value);
  const ok = (n) => Number.isInteger(n) && n >= 0 && n <= 86400;
  if (!ok(min) || !ok(max) || min > max) { say($('message'), t('sendDelayInvalid'), true); return; }
  try {
    await ask('send_delay_set', { min, max });
    say($('message'), t('saved'));
  } catch (e) { say($('message'), errorText(e), true); }
}

for (const id of ['send-delay-min', 'send-delay-max']) $(id).addEventListener('change', saveDelay);
ask('send_delay_get').then((d) => {
  $('send-delay-min').value = String(d.min);
  $('send-delay-max').value = String(d.max);
}, (e) => say($('message'), errorText(e), true));
