// The words and limits the extension shares with bantrail-host. The host is their one source: its
// `hello` states them (docs/PROTOCOL.md, "hello"), and tests/js/facts.test.mjs checks these copies
// against a real host's, so that the two sides cannot drift apart. No chrome.* here.

/** The event kinds of `event_add` and of cases, in the host's order. */
export const EVENT_KINDS = Object.freeze(['restriction', 'appeal_submitted', 'acknowledgement', 'decision', 'other']);

/** The largest page the host gives for `list` and `cases` (`limits.list_max`). */
export const LIST_MAX = 200;
