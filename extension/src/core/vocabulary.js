// The words and limits the extension shares with bantrail-host. The host is their one source: its
// `hello` states them (docs/PROTOCOL.md, "hello"), and tests/js/facts.test.mjs checks these copies
// against a real host's, so that the two sides cannot drift apart. No chrome.* here.

/** The event kinds of `event_add` and of cases, in the host's order. */
export const EVENT_KINDS = Object.freeze(['restriction', 'appeal_submitted', 'acknowledgement', 'decision', 'other']);

/**
 * The host's limits (`hello.limits`, docs/PROTOCOL.md "hello"), less the frame sizes the native
 * messaging client does not need: the largest page of `list` and `cases` and of a case's events,
 * and the longest capture fields and event note, in UTF-8 bytes.
 */
export const LIMITS = Object.freeze({
  list_max: 200,
  case_events_max: 50,
  url_max: 8192,
  text_max: 1024 * 1024,
  title_max: 4096,
  lang_max: 35,
  software_max: 23,
  mime_max: 64,
  note_max: 4096,
});

/** The largest page the host gives for `list` and `cases` (`limits.list_max`). */
export const LIST_MAX = LIMITS.list_max;

const utf8 = new TextEncoder();
/** A non-empty string of at most `max` UTF-8 bytes (the host counts bytes, not UTF-16 units). */
export function fitsBytes(v, max) {
  return typeof v === 'string' && v.length > 0 && v.length <= max && (v.length * 3 <= max || utf8.encode(v).length <= max);
}
