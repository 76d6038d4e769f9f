/* libFuzzer target: the classifier on text from a web page. The first line
 * of the input is the URL, the second the language hint, the rest the text
 * (any bytes: invalid UTF-8, NULs, huge runs). Checks that a result is
 * always well-formed: notice is 0 or 1, a kind exactly when a notice, and
 * the JSON form builds and prints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies the line at *p (up to a newline or the end) into a new string. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = malloc(n + 1);
    if (s == NULL) abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *url = take_line(&p, end), *lang = take_line(&p, end);
    bt_classification c;
    if (bt_classify_text_with(&c, NULL, url[0] ? url : NULL, NULL, lang[0] ? lang : NULL, (const char *)p,
                              (size_t)(end - p)) != BT_OK)
        abort();
    if ((c.notice != 0 && c.notice != 1) || (c.notice == 1) != (c.kind[0] != '\0')) abort();
    if (c.facts.n_dates > BT_CLASSIFY_DATES_MAX) abort();
    json_object *o = bt_classify_to_json(&c);
    if (o == NULL || json_object_to_json_string(o) == NULL) abort();
    json_object_put(o);
    char *n = NULL;
    size_t len = 0;
    if (bt_classify_normalize(&n, &len, (const char *)p, (size_t)(end - p), lang) != BT_OK || strlen(n) != len) abort();
    free(n);
    free(url);
    free(lang);
    return 0;
}
