/* Showing text that came from outside (a page, a log entry) safely: the one
 * judgement of which characters may reach a terminal or an HTML page as
 * they are. */
#ifndef BANTRAIL_UTIL_UTF8_H
#define BANTRAIL_UTIL_UTF8_H

#include <stddef.h>

typedef enum {
    BT_UTF8_TEXT,    /* a character to show as it is */
    BT_UTF8_CONTROL, /* a C0 or C1 control character or DEL (newline and tab among them): the caller
                      * keeps newline and tab or not, and replaces the rest */
    BT_UTF8_BAD      /* to replace with U+FFFD: a byte that starts no valid UTF-8 sequence (overlong
                      * forms, surrogates and code points past U+10FFFF included), or a bidirectional
                      * override or isolate (U+202A-U+202E, U+2066-U+2069), which would reorder what is
                      * shown after it */
} bt_utf8_class;

/* The length in bytes (1 to 4) of the well-formed UTF-8 character at p,
 * which has left bytes; 0 when p starts none (a stray byte, an overlong
 * form, a surrogate, past U+10FFFF, or cut short). */
size_t bt_utf8_valid(const unsigned char *p, size_t left);

/* Classifies the character starting at p (a NUL-terminated string, *p not
 * NUL) and sets *len to its length in bytes (1 for a bad byte). */
bt_utf8_class bt_utf8_next(const unsigned char *p, size_t *len);

#endif
