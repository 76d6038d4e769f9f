// The webmail script (extension/src/content/mail.js) on the Gmail-like and Outlook-like fixtures,
// in jsdom: only an open message from a platform's sender domain is reported, only its body, and
// nothing when the webmail is not opted in; plus the worker-side pieces (core/webmail.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM, VirtualConsole } from 'jsdom';
import { EXT, FIXTURES, compiled, fixtureHtml, sleep } from './helpers.mjs';
import { mailPlatform } from '../../extension/src/core/rules.js';
import { webmailOf, syncPlan, mailScript, mailCapture, webmailOrigins, mailPermissions, mailConsented, MAIL_DATA, MAIL_SCRIPTS } from '../../extension/src/core/webmail.js';
import { admit, cleanMail } from '../../extension/src/core/router.js';

const pages = JSON.parse(readFileSync(join(FIXTURES, 'appeal-fixtures.json'), 'utf8')).pages;
const manifest = JSON.parse(readFileSync(join(EXT, 'manifest.json'), 'utf8'));
const src = MAIL_SCRIPTS.map((f) => readFileSync(join(EXT, f), 'utf8'));

/** Loads a webmail fixture at url+hash with its own script, then our scripts; collects messages. */
function run(file, hash, { enabled = true } = {}) {
  const f = pages[file];
  const dom = new JSDOM(fixtureHtml(file), { url: f.url + hash, runScripts: 'dangerously', pretendToBeVisual: true, virtualConsole: new VirtualConsole() });
  const { window } = dom;
  const sent = [];
  window.chrome = { runtime: { sendMessage: async (msg) => {
    const m = JSON.parse(JSON.stringify(msg));
    if (m.type === 'mail_config') return enabled ? { enabled: true, webmail: f.webmail, senders: compiled.mailSenders } : { enabled: false };
    sent.push(m);
    return { stored: true };
  } } };
  for (const s of src) window.eval(s);
  return { window, sent, close: () => window.close() };
}

for (const file of ['webmail-gmail.html', 'webmail-outlook.html']) {
  const f = pages[file];
  const pm = f.platform_message;

  test(`${file}: the open ${pm.platform} message is reported, only its body, sender and subject`, async () => {
    const page = run(file, pm.hash);
    await sleep(400);
    assert.equal(page.sent.length, 1, JSON.stringify(page.sent));
    const m = page.sent[0];
    assert.equal(m.type, 'mail_notice');
    assert.equal(m.mail.from, pm.from);
    assert.equal(mailPlatform(compiled, m.mail.from), pm.platform);
    for (const c of pm.contains) assert.ok(m.mail.text.includes(c), `holds "${c}"`);
    for (const x of pm.excludes) assert.ok(!JSON.stringify(m).includes(x), `must not hold "${x}"`);
    assert.deepEqual(cleanMail(m.mail), { ...m.mail, from: m.mail.from });
    page.close();
  });

  test(`${file}: an unrelated message, or none open, gives nothing; opening the platform's message later does`, async () => {
    const page = run(file, f.other_message.hash);
    await sleep(400);
    assert.deepEqual(page.sent, [], 'an unrelated message is never read, even when it talks about a suspension');
    page.window.location.hash = '#inbox';
    await sleep(400);
    assert.deepEqual(page.sent, [], 'the inbox list alone is never read');
    page.window.location.hash = pm.hash;
    await sleep(500);
    assert.equal(page.sent.length, 1, 'in-page navigation to the platform message');
    page.close();
  });

  test(`${file}: not opted in, nothing at all`, async () => {
    const page = run(file, pm.hash, { enabled: false });
    await sleep(400);
    assert.deepEqual(page.sent, []);
    page.close();
  });
}

test('sender domains: the platform\'s domains and their subdomains only', () => {
  assert.equal(mailPlatform(compiled, 'security@mail.instagram.com'), 'instagram');
  assert.equal(mailPlatform(compiled, 'notification@facebookmail.com'), 'facebook');
  assert.equal(mailPlatform(compiled, 'info@x.com'), 'x');
  assert.equal(mailPlatform(compiled, 'a@instagram.com.evil.example'), null);
  assert.equal(mailPlatform(compiled, 'a@notinstagram.com'), null);
  assert.equal(mailPlatform(compiled, 'mum@example.org'), null);
});

test('webmail scripts: registered for exactly the opted-in webmails, on their origins, covered by optional permissions', () => {
  assert.equal(webmailOf('https://mail.google.com/mail/u/0/#inbox'), 'gmail');
  assert.equal(webmailOf('https://outlook.office.com/mail/'), 'outlook');
  assert.equal(webmailOf('https://evil.mail.google.com.example/'), null);
  assert.equal(webmailOf('http://mail.google.com/'), null);
  assert.deepEqual(syncPlan({ webmail: {} }, []), { register: [], unregister: [] });
  const p = syncPlan({ webmail: { gmail: true } }, ['bantrail-mail-outlook', 'someone-else']);
  assert.deepEqual(p.register.map((x) => x.id), ['bantrail-mail-gmail']);
  assert.deepEqual(p.unregister, ['bantrail-mail-outlook']);
  assert.deepEqual(syncPlan({ webmail: { gmail: true } }, ['bantrail-mail-gmail']).register, []);
  const s = mailScript('outlook');
  assert.equal(s.allFrames, false);
  for (const m of s.matches) assert.ok(manifest.optional_host_permissions.includes(m), m);
  for (const js of s.js) assert.ok(readFileSync(join(EXT, js)), js);
  assert.ok(!manifest.content_scripts.some((c) => c.matches.some((m) => webmailOrigins('gmail').includes(m) || webmailOrigins('outlook').includes(m))), 'never declared statically');
});

test('Firefox: what the extension hands the native host is declared as data collection, mail only once asked for', () => {
  const gecko = manifest.browser_specific_settings.gecko;
  assert.deepEqual(gecko.data_collection_permissions.required, ['websiteContent', 'browsingActivity'], 'notices and their pages go to the host');
  assert.deepEqual(gecko.data_collection_permissions.optional, [...MAIL_DATA], 'mail is optional, as reading it is');
  assert.ok(Number.parseFloat(gecko.strict_min_version) >= 140, 'the first Firefox with built-in consent');
  // Firefox: the webmail's origins and its mail together, on one click; Chromium knows no data_collection
  assert.deepEqual(mailPermissions('gmail', true), { origins: webmailOrigins('gmail'), data_collection: ['personalCommunications'] });
  assert.deepEqual(mailPermissions('outlook', false), { origins: webmailOrigins('outlook') });
  for (const d of mailPermissions('outlook', true).data_collection) assert.ok(gecko.data_collection_permissions.optional.includes(d), d);
});

test('Firefox: mail is read only while the person consents; Chromium is never asked for data collection', async () => {
  const asked = [];
  const browser = (answer) => ({ runtime: { getBrowserInfo() {} }, permissions: { async contains(p) { asked.push(p); if (answer instanceof Error) throw answer; return answer; } } });
  assert.equal(await mailConsented(browser(true), 'gmail'), true);
  assert.deepEqual(asked.pop(), { origins: webmailOrigins('gmail'), data_collection: ['personalCommunications'] });
  assert.equal(await mailConsented(browser(false), 'gmail'), false, 'withdrawn in about:addons');
  assert.equal(await mailConsented(browser(new Error('no such permission')), 'outlook'), false, 'in doubt: not read');
  const chromium = { runtime: {}, permissions: { async contains() { throw new Error('Chromium is never asked'); } } };
  assert.equal(await mailConsented(chromium, 'gmail'), true);
});

test('a webmail capture names the sender, not the webmail page, and has no screenshot trigger', () => {
  const c = mailCapture({ from: 'security@mail.instagram.com', subject: 'S', text: 'T', observed_at: '2026-11-25T10:00:00Z' }, 'instagram', 'gmail');
  assert.equal(c.url, 'mailto:security@mail.instagram.com');
  assert.deepEqual(c.classification, { platform: 'instagram', trigger: 'webmail_gmail' });
});

test('the worker admits only mail_config and mail_notice from a webmail tab', () => {
  const opts = { selfId: 'me', selfOrigin: 'chrome-extension://me/', platformOf: () => null, webmailOf };
  const sender = { id: 'me', url: 'https://mail.google.com/mail/u/0/', tab: { id: 4 } };
  assert.deepEqual(admit({ type: 'mail_config' }, sender, opts), { ok: true, kind: 'webmail' });
  assert.equal(admit({ type: 'mail_notice', mail: { from: 'a@instagram.com', text: 'x' } }, sender, opts).ok, true);
  assert.equal(admit({ type: 'mail_notice', mail: { from: 'nobody', text: 'x' } }, sender, opts).ok, false);
  assert.equal(admit({ type: 'notice', notice: { url: sender.url, text: 'x' } }, sender, opts).ok, false);
  assert.equal(admit({ type: 'list' }, sender, opts).ok, false);
});
