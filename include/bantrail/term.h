/* What the programs share for talking to a person at a terminal (not part of
 * the core library, which never prints). */
#ifndef BANTRAIL_TERM_H
#define BANTRAIL_TERM_H

#include <stdio.h>

/* Reads one line, without its end, into sodium_malloc'd memory (release it
 * with sodium_free): from `in` when not NULL (a --passphrase-fd stream),
 * else from the terminal with echo turned off before prompt is shown.
 * Returns NULL at end of input, or when there is no terminal (after saying so
 * on stderr, prefixed with prog). At most 1024 bytes are kept. */
char *bt_term_read_secret(FILE *in, const char *prompt, const char *prog);

/* Reads all of a stream into a malloc'd, NUL-terminated buffer of *len bytes.
 * NULL when it holds more than max bytes, on a read error or out of memory. */
char *bt_term_read_all(FILE *f, size_t max, size_t *len);

#endif
