#include "util/utf8.h"

#include <string.h>

size_t bt_utf8_valid(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || n > left) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (n == 2 && c < 0xC2) return 0;
    if (n == 3) {
        unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    }
    if (n == 4 && (c > 0xF4 || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))) return 0;
    return n;
}

bt_utf8_class bt_utf8_next(const unsigned char *p, size_t *len)
{
    unsigned char c = p[0];
    size_t n = bt_utf8_valid(p, c < 0x80 ? 1 : strnlen((const char *)p, 4)); /* a NUL cuts it short */
    *len = n ? n : 1;
    if (n == 0) return BT_UTF8_BAD;
    if (n == 3) {
        unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return BT_UTF8_BAD;
    }
    if ((n == 1 && (c < 0x20 || c == 0x7F)) || (n == 2 && c == 0xC2 && p[1] < 0xA0)) return BT_UTF8_CONTROL;
    return BT_UTF8_TEXT;
}
