#include "bantrail/term.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "bantrail/kdf.h"

char *bt_term_read_secret(FILE *in, const char *prompt, const char *prog)
{
    char *buf = sodium_malloc(BT_PASSPHRASE_MAX + 2);
    FILE *tty = NULL;
    struct termios old, quiet;
    int restore = 0;
    if (buf == NULL) return NULL;
    if (in == NULL) {
        tty = fopen("/dev/tty", "r+");
        if (tty == NULL) {
            fprintf(stderr, "%s: no terminal to ask for the passphrase; use --passphrase-fd N\n", prog);
            sodium_free(buf);
            return NULL;
        }
        in = tty;
        /* echo off before the prompt, so nothing typed after it can show */
        if (tcgetattr(fileno(tty), &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
            restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
        }
        fputs(prompt, tty);
        fflush(tty);
    }
    setvbuf(in, NULL, _IONBF, 0); /* no copy of the line left in stdio's buffer */
    char *line = fgets(buf, BT_PASSPHRASE_MAX + 2, in);
    if (tty != NULL) {
        if (restore) tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
        fclose(tty);
    }
    if (line == NULL) {
        sodium_free(buf);
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf;
}

char *bt_term_read_all(FILE *f, size_t max, size_t *len)
{
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap + 1);
    while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n > max) break;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) break;
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL || n > max || ferror(f) || !feof(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
