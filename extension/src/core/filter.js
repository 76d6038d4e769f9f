// Which notices the log page shows (docs/EXTENSION.md, "Log page"): words to look for, a
// platform, a kind and a range of days, all optional. No chrome.* here, so Node's test runner
// checks it.

/** Text folded for matching: compatibility forms, no accents, lower case. */
export function fold(s) {
  return String(s || '').normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** When a notice was shown, in ms: the page's own date if it gave one, else the capture's. */
export function noticeTime(n) {
  const stated = n.observed_at ? Date.parse(n.observed_at) : NaN;
  return Number.isNaN(stated) ? n.captured_at * 1000 : stated;
}

/**
 * A predicate over list entries of type notice. q: words, each of which must occur in the
 * notice's title, address, platform or kind (as ids and as the labels words(n) gives);
 * platform, kind: ids ('' for any); from, to: 'YYYY-MM-DD' days in local time, inclusive ('' for
 * open).
 */
export function noticeFilter({ q = '', platform = '', kind = '', from = '', to = '' } = {}, words = () => []) {
  const terms = fold(q).split(/\s+/).filter(Boolean);
  const day = (s, end) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T${end ? '23:59:59.999' : '00:00:00'}`).getTime() : NaN);
  const lo = day(from, false), hi = day(to, true);
  return (n) => {
    const c = n.classification || {};
    if (platform && (c.platform || '') !== platform) return false;
    if (kind && (c.kind || '') !== kind) return false;
    const when = noticeTime(n);
    if (!Number.isNaN(lo) && when < lo) return false;
    if (!Number.isNaN(hi) && when > hi) return false;
    if (terms.length === 0) return true;
    const hay = fold([n.title, n.url, c.platform, c.kind, ...words(n)].join(' \n '));
    return terms.every((w) => hay.includes(w));
  };
}
