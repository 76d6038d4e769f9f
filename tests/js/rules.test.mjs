// The rules file as the extension reads it, and the manifest kept in step with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { join } from 'node:path';
import { compiled, rules, EXT } from './helpers.mjs';
import { compileRules, pageConfig, platformForHost, patternCoversHost, normalise, softwareProbes, KINDS } from '../../extension/src/core/rules.js';

const manifest = JSON.parse(readFileSync(join(EXT, 'manifest.json'), 'utf8'));
const matches = manifest.content_scripts.find((c) => c.js.includes('src/content/content.js')).matches;

test('the rules file compiles with no problems and follows the contract', () => {
  assert.deepEqual(compiled.problems, []);
  assert.ok(compiled.platforms.length >= 8);
  assert.ok(compiled.phrases.length > 100);
  for (const k of Object.keys(rules.kinds)) assert.ok(KINDS.includes(k), `known kind ${k}`);
  for (const p of compiled.platforms) for (const x of p.paths) assert.ok(x.kind === null || KINDS.includes(x.kind), `${p.id}: ${x.kind}`);
});

test('the content script runs on every host the rules name, and nowhere else', () => {
  for (const p of compiled.platforms) {
    for (const h of p.hosts) assert.ok(matches.some((m) => patternCoversHost(m, h)), `manifest matches cover ${h} (${p.id})`);
  }
  for (const m of matches) {
    const host = /^https:\/\/(?:\*\.)?([^/]+)\/\*$/.exec(m)[1];
    assert.ok(platformForHost(compiled, host), `${m} is a platform in the rules`);
  }
});

test('a page on a platform gets its paths and the phrases; other pages get nothing', () => {
  const c = pageConfig(compiled, 'https://www.instagram.com/accounts/suspended/');
  assert.equal(c.platform, 'instagram');
  assert.ok(c.paths.some((p) => new RegExp(p.pattern, p.flags).test('/accounts/suspended/')));
  assert.equal(pageConfig(compiled, 'https://instagram.com.evil.example/'), null);
  assert.equal(pageConfig(compiled, 'https://notinstagram.com/'), null);
  assert.equal(pageConfig(compiled, 'http://www.instagram.com/'), null, 'https only');
  assert.equal(pageConfig(compiled, 'not a url'), null);
});

test('phrases are listed in the rules\' order of precedence', () => {
  const order = rules.kind_priority;
  const ranks = compiled.phrases.map((p) => order.indexOf(p.kind));
  assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
});

test('a bad rules file is refused, a bad pattern is reported and skipped', () => {
  assert.throws(() => compileRules({}));
  const c = compileRules({ platforms: { a: { hosts: ['a.example'], paths: [{ pattern: '(', kind: 'suspension' }, { pattern: '^/ok', kind: 'warning' }] } }, kinds: {} });
  assert.equal(c.platforms[0].paths.length, 1);
  assert.deepEqual(c.problems, ['platforms.a.paths[0].pattern']);
});

test('normalising folds case, width and apostrophes', () => {
  assert.equal(normalise('You\u2019ve  been\nSUSPENDED'), "you've been suspended");
  assert.equal(normalise('ＡＣＣＯＵＮＴ'), 'account');
  assert.equal(normalise('חסום'), normalise('חסומ'), 'Hebrew final letters fold');
  assert.equal(normalise('λογαριασμός'), 'λογαριασμοσ', 'and Greek final sigma');
  assert.notEqual(normalise('חסום'), normalise('חסוכ'));
  assert.equal(normalise('ZOSTAŁEŚ ZBANOWANY, Đã khóa, spærret, Ħ'), 'zostales zbanowany, da khoa, spærret, h',
    'letters with a stroke lose it, as people type them');
  assert.notEqual(normalise('ð þ'), 'd t', 'letters of their own keep them');
  // India's other scripts as Devanagari, letter for letter: one word the languages share is one word
  assert.equal(normalise('પ્રતિબંધ'), normalise('प्रतिबंध'), 'Gujarati as Devanagari');
  assert.equal(normalise('ఖాతా'), normalise('खाता'), 'Telugu as Devanagari');
  assert.notEqual(normalise('પ્રતિબંધ'), normalise('प्रतिबद्ध'), 'other words stay apart');
  assert.equal(normalise('\u09f7 অ'), '\u09f7 \u0905', 'punctuation keeps its script');
});

test('platforms that run on many servers are recognised by their software, on any https host', () => {
  const probe = manifest.content_scripts.find((c) => c.js.includes('src/content/software.js'));
  assert.deepEqual(probe.matches, ['https://*/*']);
  assert.deepEqual(probe.js, ['src/content/software.js'], 'the probe alone: nothing else reads unlisted pages');
  const probes = softwareProbes(compiled);
  assert.ok(probes.some((p) => p.platform === 'mastodon' && p.selectors.length > 0));
  assert.ok(!probes.some((p) => p.platform === 'instagram'), 'only platforms with software markers');
  const url = 'https://social.riverside-town.org/home';
  assert.equal(pageConfig(compiled, url), null, 'an unlisted host alone is nobody\'s');
  assert.equal(pageConfig(compiled, url, 'mastodon').platform, 'mastodon');
  assert.equal(pageConfig(compiled, url, 'instagram'), null, 'a platform without software markers is not taken on trust');
  assert.equal(pageConfig(compiled, 'http://social.riverside-town.org/', 'mastodon'), null, 'https only');
});

test('the trigger passes a sentence where a state meets the person or the account, and not the words apart', () => {
  const cfg = pageConfig(compiled, 'https://web.whatsapp.com/');
  assert.ok(cfg.concepts.state.length > 50 && cfg.concepts.you.length > 20 && cfg.concepts.object.length > 20);
  const context = { globalThis: {} };
  vm.runInNewContext(readFileSync(join(EXT, 'src', 'content', 'detect.js'), 'utf8'), context);
  const trigger = context.globalThis.BantrailDetect.create({ ...cfg, phrases: [] });   // concepts alone
  assert.equal(trigger.phraseKind('Your access to messaging has been suspended.'), 'suspension');
  assert.equal(trigger.phraseKind('Ваш аккаунт заблокирован.'), 'suspension');
  assert.equal(trigger.phraseKind('Your order is ready. Three players were suspended by the league.'), null);
  assert.equal(trigger.phraseKind('Sunny spells and a light breeze this afternoon.'), null);
  // a term beginning with "-" is a word's ending: Turkish "-nız" puts the person in the verb
  assert.equal(trigger.phraseKind('Dün yasaklandınız.'), 'suspension');
  assert.equal(trigger.phraseKind('Dün yasaklandı.'), null);
  // Hebrew final letters fold to their other form: the stem "חסום" (blocked) in "חסומה"
  assert.equal(trigger.phraseKind('כתובת ה־IP שלך חסומה כרגע.'), 'suspension');
  assert.equal(trigger.phraseKind('כתובת ה־IP שלך פתוחה כרגע.'), null);
  // India's scripts as Devanagari: Hindi's "निष्कासित" (expelled) in a Gujarati sentence
  assert.equal(trigger.phraseKind('તમારું ખાતું નિષ્કાસિત છે.'), 'suspension');
  assert.equal(trigger.phraseKind('તમારું ખાતું તૈયાર છે.'), null);
  // the content script's normalisation is rules.js's
  for (const text of ['חסומה וחסום', 'ΛΟΓΑΡΙΑΣΜΟΣ λογαριασμός', 'مشاركةـى', 'KAPATILDI ı', 'ZOSTAŁEŚ Đ ø ħ', 'You\u2019ve  BEEN', '계정 이 정지', 'તમારું খাতা ৷ ਖਾਤਾ ൽ']) {
    assert.equal(context.globalThis.BantrailDetect.normalise(text), normalise(text), text);
  }
});
