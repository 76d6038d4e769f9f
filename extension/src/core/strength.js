// A passphrase strength hint: a rough estimate of guessing work, shown while the person types.
// It never blocks a choice the host accepts (8 bytes or more); it only says how strong it looks.

const COMMON = ['password', 'passwort', 'motdepasse', '123456', 'qwerty', 'azerty', 'letmein',
  'iloveyou', 'admin', 'welcome', 'instagram', 'facebook', 'bantrail', 'sarang'];

/** Returns {score: 0-4, bits, key} where key names the hint message ("strength0".."strength4"). */
export function passphraseStrength(p) {
  const s = String(p);
  if (s.length === 0) return { score: 0, bits: 0, key: 'strength0' };
  const chars = [...s];
  let pool = 0;
  if (/[a-z]/.test(s)) pool += 26;
  if (/[A-Z]/.test(s)) pool += 26;
  if (/[0-9]/.test(s)) pool += 10;
  if (/[^A-Za-z0-9]/.test(s)) pool += 33;
  if (/[^\x00-\x7f]/.test(s)) pool += 100;
  // Repeated characters and sequences add little: count distinct neighbours only.
  let effective = 0;
  for (let i = 0; i < chars.length; i++) {
    if (i > 0 && (chars[i] === chars[i - 1] || chars[i].codePointAt(0) - chars[i - 1].codePointAt(0) === 1)) effective += 0.25;
    else effective += 1;
  }
  let bits = effective * Math.log2(Math.max(pool, 2));
  const lower = s.toLowerCase();
  if (COMMON.some((w) => lower.includes(w))) bits = Math.min(bits, 20);
  // Several words separated by spaces: credit them as a passphrase of that many words.
  const words = s.trim().split(/\s+/).filter((w) => w.length >= 3);
  if (words.length >= 4) bits = Math.max(bits, words.length * 11);
  const score = s.length < 8 ? 0 : bits < 40 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  return { score, bits: Math.round(bits), key: `strength${score}` };
}
