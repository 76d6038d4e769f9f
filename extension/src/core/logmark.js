// The log's mark: the entry count and chain head the extension saw last, kept in the browser's
// storage, away from the log's folder. A log with fewer entries, or with another chain hash at the
// marked entry, was cut short or replaced by an older copy (a restored backup, a file rolled back,
// a truncated write-ahead file): the host cannot tell that by itself. No chrome.* here.

export const MARK_KEY = 'logMark';

/**
 * What the host says of damage to the log (hello's `vault`): null when none; else {problem, at}, the
 * problem 'unreadable' (the log cannot be opened: `corrupt` or `damaged`), 'wal' (its write-ahead
 * file was removed or cut while in use) or 'damaged' (an entry fails its link of the chain), `at` the
 * first entry concerned (null when unknown). The host writes nothing more to such a log until the
 * person runs `bantrail recover` (docs/PROTOCOL.md, `recover`).
 */
export function damageOf(vault) {
  if (!vault || typeof vault !== 'object') return null;
  if (vault.state === 'error' && (vault.error === 'corrupt' || vault.error === 'damaged')) {
    return { problem: 'unreadable', at: null };
  }
  if (!Number.isSafeInteger(vault.damaged_at) || vault.damaged_at < 1) return null;
  return { problem: vault.wal_lost === true ? 'wal' : 'damaged', at: vault.damaged_at };
}
export const PROBLEM_KEY = 'logProblem';

/**
 * Compares the log the host reports (hello's `vault`) with the mark, then moves the mark forward, or
 * keeps it and records the problem. `call(method, params)` reaches the host; `storage` has
 * get/set. Returns null, 'shorter' or 'different'; null too when the host cannot say.
 */
export async function checkMark({ storage, call, vault, now = () => Date.now() }) {
  if (!vault || !Number.isSafeInteger(vault.entries) || typeof vault.head !== 'string') return null;
  const mark = await storage.get(MARK_KEY);
  let problem = null;
  if (mark && Number.isSafeInteger(mark.entries) && mark.entries > 0) {
    if (vault.entries < mark.entries) problem = 'shorter';
    else {
      try {
        if ((await call('stats', { at: mark.entries })).hash_at !== mark.head) problem = 'different';
      } catch (e) {
        if (e && e.code === 'not_found') problem = 'shorter';
        else return null;   // the host could not answer: judge at the next connection
      }
    }
  }
  if (problem) {
    await storage.set(PROBLEM_KEY, { problem, mark, entries: vault.entries, seen: now() });
    return problem;
  }
  // forward only: a write acknowledged meanwhile (noteAcknowledged) may have moved it past this hello
  const latest = await storage.get(MARK_KEY);
  if (!(latest && Number.isSafeInteger(latest.entries) && latest.entries > vault.entries)) {
    await storage.set(MARK_KEY, { entries: vault.entries, head: vault.head, at: now() });
  }
  return null;
}

/** Whether log is an answer's `log`: {entry: an entry id, head: 64 hex digits}. */
export function isAcknowledged(log) {
  return Boolean(log) && Number.isSafeInteger(log.entry) && log.entry >= 1 &&
    typeof log.head === 'string' && /^[0-9a-f]{64}$/.test(log.head);
}

/**
 * An answer that wrote acknowledged `log` ({entry, head}: the last entry it made durable and its
 * chain hash): the mark moves forward to it, so that a log that later lacks it — cut short, or an
 * older copy put back — is told apart at the next hello (checkMark), and `verify` can be given it.
 * The mark stays where it is while a problem is recorded (the person has not accepted the log as
 * it is). Returns whether the mark moved.
 */
export async function noteAcknowledged({ storage, log, now = () => Date.now() }) {
  if (!isAcknowledged(log) || (await storage.get(PROBLEM_KEY))) return false;
  const mark = await storage.get(MARK_KEY);
  if (mark && Number.isSafeInteger(mark.entries) && mark.entries >= log.entry) return false;
  await storage.set(MARK_KEY, { entries: log.entry, head: log.head, at: now() });
  return true;
}

/** verify's params for the mark (the entry and head the log must lead through), or undefined. */
export function verifyParams(mark) {
  return mark && isAcknowledged({ entry: mark.entries, head: mark.head }) ? { at: mark.entries, head: mark.head } : undefined;
}

/** The person says the log as it is now is theirs (they restored a copy themselves): watch it. */
export async function acceptLog({ storage, vault, now = () => Date.now() }) {
  await storage.set(PROBLEM_KEY, null);
  if (vault && Number.isSafeInteger(vault.entries) && typeof vault.head === 'string')
    await storage.set(MARK_KEY, { entries: vault.entries, head: vault.head, at: now() });
}
