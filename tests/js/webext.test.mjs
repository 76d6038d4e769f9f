// The extension as the stores take it: `web-ext lint` (Mozilla's add-on linter, the checks
// addons.mozilla.org runs) finds no error, and `web-ext build` packs exactly the extension —
// its code, rules, locales and libsodium copy; never node_modules or npm's files, nor the manifest's
// "key" (the Chrome Web Store refuses it). The zip goes to the Chrome Web Store as it is and to
// addons.mozilla.org as an .xpi (README, "Install as a package"; `cmake --build build --target
// extension-packages` makes both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const EXTENSION = resolve(here, '..', '..', 'extension');
const WEB_EXT = resolve(here, '..', 'node_modules', 'web-ext', 'bin', 'web-ext.js');
const IGNORE = ['--ignore-files', 'node_modules/**', 'package.json', 'package-lock.json'];
const missing = !existsSync(join(EXTENSION, 'lib', 'libsodium-wrappers.js')) ? 'extension/lib not copied (run .ci/setup)'
  : !existsSync(WEB_EXT) ? 'web-ext not installed (cd tests && npm ci)' : null;

function webExt(args) {
  const r = spawnSync(process.execPath, [WEB_EXT, ...args], { encoding: 'utf8', timeout: 120000 });
  return r;
}

function lint(dir) {
  const r = webExt(['lint', '--source-dir', dir, ...IGNORE, '--output', 'json', '--no-config-discovery']);
  const start = r.stdout.indexOf('{');
  assert.ok(start >= 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout.slice(start));
}

test('web-ext lint finds no error in the extension, and does find a broken manifest', { skip: missing || false }, () => {
  const report = lint(EXTENSION);
  for (const w of report.warnings) console.log(`# warning ${w.code}: ${w.message}`);
  assert.deepEqual(report.errors.map((e) => `${e.code} ${e.file}: ${e.message}`), []);
  assert.deepEqual(report.warnings.filter((w) => /DATA_COLLECTION/.test(w.code)).map((w) => w.message), [],
    'Firefox is told what goes to the host (docs/EXTENSION.md "Firefox")');

  const copy = mkdtempSync(join(tmpdir(), 'bt-webext-'));
  try {
    for (const f of ['manifest.json', '_locales', 'src', 'rules', 'lib', 'icons']) cpSync(join(EXTENSION, f), join(copy, f), { recursive: true });
    const m = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
    m.permissions.push('notAPermission');
    m.background.scripts = ['src/missing.js'];
    delete m.browser_specific_settings.gecko.data_collection_permissions;
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m));
    const broken = lint(copy);
    assert.ok(broken.errors.length > 0, 'a broken manifest is an error');
    assert.ok(broken.warnings.some((w) => w.code === 'MISSING_DATA_COLLECTION_PERMISSIONS'), 'and one that declares no data collection is warned about');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('the store packs hold the extension without its key and nothing of npm', { skip: missing || false }, () => {
  const build = resolve(process.env.BT_BUILD || join(here, '..', '..', 'build'));
  const r = spawnSync('cmake', ['--build', build, '--target', 'extension-packages'], { encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = join(build, 'extension-packages');
  const source = JSON.parse(readFileSync(join(EXTENSION, 'manifest.json'), 'utf8'));
  const zips = [`bantrail-${source.version}.zip`, `bantrail-${source.version}.xpi`];
  for (const z of zips) assert.ok(existsSync(join(out, z)), z);
  const read = (zip, name) => spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(sys.argv[2]).decode() if sys.argv[2] else "\\n".join(z.namelist()))', join(out, zip), name], { encoding: 'utf8' }).stdout;
  const list = read(zips[0], '').split('\n');
  for (const f of ['manifest.json', 'rules/rules.json', 'lib/libsodium-wrappers.js', 'src/background.js', '_locales/fr/messages.json', '_locales/ko/messages.json'])
    assert.ok(list.includes(f), `${f} packed`);
  assert.deepEqual(list.filter((f) => /node_modules|package(-lock)?\.json/.test(f)), [], 'nothing of npm');
  const packed = JSON.parse(read(zips[0], 'manifest.json'));
  const { key, ...rest } = source;
  assert.ok(key, 'the unpacked extension keeps its key (its fixed id)');
  assert.deepEqual(packed, rest, 'the pack is the manifest without its key: the Chrome Web Store refuses one with it');
  assert.equal(readFileSync(join(out, zips[0])).compare(readFileSync(join(out, zips[1]))), 0, 'the .xpi is the same bytes');
});
