/* Evidence export of one case (docs/DESIGN.md section 7, docs/EVIDENCE.md): an
 * HTML document that prints cleanly to PDF (no JavaScript, no external
 * resources, screenshots embedded as data: URIs) and a JSON document for
 * machines. Both carry the case's timeline, its derived times, every
 * record's chain hash and the chain head, with a plain explanation of how to
 * check the log. Everything that came from a page is escaped: the text is
 * evidence, never markup. */
#ifndef BANTRAIL_EXPORT_H
#define BANTRAIL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "bantrail/error.h"
#include "bantrail/vault.h"

typedef enum { BT_EXPORT_HTML, BT_EXPORT_JSON } bt_export_format;

/* Builds the export of case case_id (a case id as bt_cases gives it) from
 * the log as it stood at entry *upto (*upto <= 0: the last entry now; on
 * return *upto is the entry used), dated generated_at (Unix seconds), the
 * HTML in the person's language lang (a tag bt_words_lang reads: en, fr, ko;
 * NULL is English; the JSON is for machines and always the same). The
 * result depends only on the log up to *upto, generated_at and lang, so a
 * caller can fetch it in pieces by building it again with the same three.
 * On BT_OK *out (malloc'd, *out_len bytes plus a NUL) holds decrypted
 * content: release it with bt_export_free. BT_ERR_LOCKED when the log is
 * locked, BT_ERR_NOT_FOUND when there is no such case or *upto is past the
 * log's end, BT_ERR_NO_MEMORY, BT_ERR_STORAGE, BT_ERR_CORRUPT. */
bt_err bt_export_case(char **out, size_t *out_len, bt_vault *v, int64_t case_id, bt_export_format fmt,
                      int64_t *upto, int64_t generated_at, const char *lang);

/* Wipes and frees what bt_export_case returned. Accepts NULL. */
void bt_export_free(char *p, size_t len);

/* "html" or "json" to a format; -1 when neither. */
int bt_export_format_parse(const char *s);

/* The format's name, "html" or "json". */
const char *bt_export_format_name(bt_export_format fmt);

/* ---- fetching in pieces ----
 * A document longer than a reply may hold (attachments, exports) is fetched
 * a piece at a time: the caller names the offset, the next piece starts
 * where this one ends. */
#define BT_PAGE_BYTES ((size_t)512 * 1024) /* raw bytes per piece: ~700 KB in base64 */

/* The length of the piece of a len-byte document that starts at *offset,
 * at most BT_PAGE_BYTES; an offset past the end is moved to the end (and
 * the piece is empty). */
size_t bt_page(size_t len, int64_t *offset);

/* One piece of a case's export, with what the caller needs to put the
 * pieces together and check them. */
typedef struct {
    char *doc;                           /* the whole document (decrypted content) */
    size_t len;
    unsigned char digest[BT_HASH_BYTES]; /* BLAKE2b-256 of the whole document */
    char filename[64];                   /* bantrail-case-ID-YYYY-MM-DD.html or .json (the day generated, UTC) */
    int64_t case_id;
    bt_export_format format;
    const char *lang;                    /* "en", "fr" or "ko" (bt_words_lang) */
    int64_t upto, generated_at;          /* as bt_export_case used them: the same for every piece */
    int64_t offset;                      /* where the piece starts in doc */
    size_t n;                            /* its length */
} bt_export_piece;

/* Fills *p with the piece at offset of the export of case_id, as
 * bt_export_case builds it (upto <= 0: the log's end now). *p keeps the
 * whole document between calls: when it already holds the export of the
 * same case, format, upto, generated_at and language (the next pieces of one export),
 * the piece is cut from it, so fetching an export piece by piece costs one
 * build, not one per piece. Start with *p zeroed; release with
 * bt_export_piece_free after the last piece and whenever the log locks (it
 * holds decrypted content). BT_ERR_LOCKED when the log is locked, and
 * bt_export_case's errors (then *p is released). */
bt_err bt_export_page(bt_export_piece *p, bt_vault *v, int64_t case_id, bt_export_format fmt, int64_t upto,
                      int64_t generated_at, const char *lang, int64_t offset);

/* Wipes and frees the document of a piece and zeroes it. Accepts a zeroed
 * piece. */
void bt_export_piece_free(bt_export_piece *p);

/* Writes len bytes to a new file at path, mode 0600, never following a
 * symbolic link. Without replace an existing path is refused (errno
 * EEXIST); with replace an existing regular file is replaced atomically
 * (written beside it, then renamed over it), while a symbolic link or
 * anything but a regular file is still refused (ELOOP, EEXIST). Returns 0,
 * or -1 with errno set (nothing is left behind on failure). */
int bt_export_save(const char *path, const void *data, size_t len, int replace);

/* A duration for people in lang (NULL: English): "45 s", "4 min",
 * "2 h 5 min", "3 d 4 h". Negative seconds give "-". Writes at most cap
 * bytes, NUL-terminated. */
void bt_export_duration(char *out, size_t cap, int64_t seconds, const char *lang);

#endif
