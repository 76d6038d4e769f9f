/* bantrail: the person's command line. A thin front over the same dispatcher
 * the native host uses (bt_rpc), so both answer alike; this file only reads
 * passphrases and prints. Exit codes: 0 success, 1 a negative answer (not
 * found, verification failed, wrong passphrase), 2 usage or system error. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <getopt.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/caller.h"
#include "bantrail/cases.h"
#include "bantrail/classify.h"
#include "bantrail/export.h"
#include "bantrail/frame.h"
#include "bantrail/install.h"
#include "bantrail/paths.h"
#include "bantrail/records.h"
#include "bantrail/rpc.h"
#include "bantrail/send.h"
#include "bantrail/term.h"
#include "bantrail/vault.h"
#include "bantrail/version.h"
#include "bantrail/words.h"
#include "session.h"
#include "util/json.h"
#include "util/utf8.h"

static int opt_json;
static FILE *pass_in; /* the --passphrase-fd stream, read line by line */

/* ---- the command line: options and commands ---- */

/* Every option, once, by index; a command's row names those it takes (a bit
 * each), so that an option of another command is refused by name. The global
 * ones come last and every command takes them. */
enum {
    OPT_AFTER, OPT_LIMIT, OPT_URL, OPT_TITLE, OPT_LANG, OPT_MANUAL, OPT_RECOVERY, OPT_KDF_OPS, OPT_KDF_MEM,
    OPT_BROWSER, OPT_UDD, OPT_SYSTEM, OPT_MINUTES, OPT_CASE, OPT_PLATFORM, OPT_HANDLE, OPT_EVENT, OPT_OUTCOME, OPT_AT, OPT_NOTE,
    OPT_FORMAT, OPT_OUT, OPT_FORCE, OPT_UNION, OPT_ACCOUNT_TYPE, OPT_PAID, OPT_COUNTRY, OPT_YES, OPT_ID,
    OPT_NOW, OPT_NTOKENS, OPT_EXPECT, OPT_JSON, OPT_PASSFD, OPT_HELP, OPT_VERSION, OPT_COUNT_
};
#define ONLY(o) ((uint64_t)1 << (o))
#define GLOBAL_OPTS (ONLY(OPT_JSON) | ONLY(OPT_PASSFD) | ONLY(OPT_HELP) | ONLY(OPT_VERSION))
#define MAX_WORDS 6 /* command words and arguments kept; more are only counted */

/* What a command was given: each option's text (NULL when absent) and, for
 * flags and numbers, its value; then the arguments after its name. */
typedef struct cli_command cli_command;
typedef struct {
    const cli_command *cmd;
    const char *text[OPT_COUNT_];
    int64_t n[OPT_COUNT_];
    char *pos[MAX_WORDS];
    int npos;
    const char *dir;            /* the log's folder, for commands that open it */
} cli_args;

enum { LOG_NONE, LOG_OPEN, LOG_READ, LOG_SESSION };

struct cli_command {
    const char *name;           /* "list", or "case show": a group's name, then its own */
    const char *args;           /* the arguments after its name, as its usage shows them ("ID") */
    int min_args, max_args;
    uint64_t opts;              /* ONLY(OPT_x) | ...: the options it takes besides the global ones */
    int opens_log;              /* LOG_NONE: runs before the log is opened, so none is created;
                                 * LOG_OPEN: opens it, making a new one if there is none;
                                 * LOG_READ: only reads: refused, and nothing made, if there is none;
                                 * LOG_SESSION: unlock and lock, which start or end the session themselves */
    int (*run)(const cli_args *a);
    const char *usage;          /* its options as the usage line shows them */
    const char *summary;        /* one line in the overview */
    const char *about;          /* more, for its --help */
    const char *example;
};

static int usage_error(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- printing text from outside ---- */

/* Prints s with control characters and what bt_utf8_next calls bad
 * replaced, so that stored text cannot drive the terminal. keep_newlines
 * keeps \n (else a space); tabs stay. */
static void print_clean(const char *s, int keep_newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n;
        bt_utf8_class k = bt_utf8_next(p, &n);
        if (k == BT_UTF8_BAD) fputs("\xEF\xBF\xBD", stdout);
        else if (k == BT_UTF8_TEXT || *p == '\t' || (*p == '\n' && keep_newlines)) fwrite(p, 1, n, stdout);
        else putchar(*p == '\n' ? ' ' : '?');
        p += n;
    }
}

/* ---- passphrases ---- */

static char *read_secret(const char *prompt)
{
    return bt_term_read_secret(pass_in, prompt, "bantrail");
}

/* ---- calling the dispatcher ---- */

static bt_rpc *rpc;
static int session_fd = -1; /* a connection to the unlocked session, when one runs (session.h) */

/* Sends method with params (consumed, may be NULL) and returns the parsed
 * reply; *err gets the error answered. Secret strings in params are wiped. */
static json_object *call(const char *method, json_object *params, bt_err *err)
{
    json_object *req = json_object_new_object(), *rep = NULL;
    size_t len = 0, out_len = 0;
    json_object_object_add(req, "id", json_object_new_int(1));
    json_object_object_add(req, "method", json_object_new_string(method));
    if (params != NULL) json_object_object_add(req, "params", params);
    const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
    char *frame = sodium_malloc(len + 1);
    char *out = NULL;
    if (frame != NULL) {
        memcpy(frame, s, len + 1);
        sodium_memzero((char *)s, len);
        if (session_fd >= 0) { /* the unlocked session answers (session.h) */
            out = bt_session_call(session_fd, frame, len, &out_len);
            *err = out != NULL ? BT_OK : BT_ERR_STORAGE;
        } else {
            out = bt_rpc_handle(rpc, frame, len, BT_OK, &out_len, NULL, err);
        }
        sodium_free(frame);
    }
    json_object_object_foreach(params ? params : req, key, val) {
        if (json_object_is_type(val, json_type_string) &&
            (!strcmp(key, "passphrase") || !strcmp(key, "new") || !strcmp(key, "old") ||
             !strcmp(key, "recovery_code")))
            sodium_memzero((char *)json_object_get_string(val), (size_t)json_object_get_string_len(val));
    }
    json_object_put(req);
    if (out == NULL) {
        *err = BT_ERR_NO_MEMORY;
        return NULL;
    }
    rep = json_tokener_parse(out);
    sodium_memzero(out, out_len);
    free(out);
    json_object *e = NULL, *code = NULL;
    if (session_fd >= 0 && json_object_object_get_ex(rep, "error", &e) && json_object_object_get_ex(e, "code", &code))
        *err = bt_err_from_code(json_object_get_string(code));
    return rep;
}

static json_object *result_of(json_object *rep)
{
    json_object *r = NULL;
    json_object_object_get_ex(rep, "result", &r);
    return r;
}

static int exit_for(bt_err err)
{
    switch (err) {
    case BT_OK: return 0;
    case BT_ERR_NOT_FOUND:
    case BT_ERR_WRONG_PASSPHRASE:
    case BT_ERR_BAD_TOKEN:
    case BT_ERR_TOKEN_REQUIRED:
        return 1;
    default: return 2;
    }
}

/* Prints the reply's error (or the JSON result with --json); returns the exit code. */
static int finish(json_object *rep, bt_err err)
{
    if (err != BT_OK) {
        json_object *e = NULL, *m = NULL;
        json_object_object_get_ex(rep, "error", &e);
        json_object_object_get_ex(e, "message", &m);
        if (opt_json) printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
        fprintf(stderr, "bantrail: %s\n", m ? json_object_get_string(m) : bt_err_message(err));
    }
    json_object_put(rep);
    return exit_for(err);
}

static const char *str(json_object *o, const char *key)
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || x == NULL) return NULL;
    return json_object_get_string(x);
}

static int64_t num(json_object *o, const char *key)
{
    json_object *x;
    return json_object_object_get_ex(o, key, &x) ? json_object_get_int64(x) : 0;
}

/* A line on stderr saying what long work is under way, when stderr is a
 * terminal and the output is for people; progress(NULL) clears it. */
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    static int shown;
    if (opt_json || !isatty(STDERR_FILENO)) return;
    if (fmt == NULL) {
        if (shown) fputs("\r\033[K", stderr);
        shown = 0;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    shown = 1;
}

static const char *state_words(const char *state)
{
    if (state == NULL) return "unknown";
    if (!strcmp(state, "unprotected")) return "NOT PROTECTED YET: choose a passphrase with 'bantrail passphrase'";
    if (!strcmp(state, "locked")) return "protected by a passphrase (locked)";
    if (!strcmp(state, "unlocked")) return "protected by a passphrase (unlocked)";
    return state;
}

#define PASSPHRASE_TRIES 3 /* at a terminal; a --passphrase-fd stream gets one */

/* Asks the passphrase and gives it to try_it while it is a wrong one: up to
 * PASSPHRASE_TRIES times at a terminal, once from --passphrase-fd (a
 * script's). try_it's answer, or BT_ERR_BAD_PARAMS with nothing to read. */
static bt_err with_passphrase(bt_err (*try_it)(const char *pass, void *ctx), void *ctx)
{
    for (int attempt = 1;; attempt++) {
        char *pass = read_secret("Passphrase: ");
        if (pass == NULL) return BT_ERR_BAD_PARAMS;
        progress("Unlocking (Argon2id, a moment)...");
        bt_err err = try_it(pass, ctx);
        progress(NULL);
        sodium_free(pass);
        if (err != BT_ERR_WRONG_PASSPHRASE || pass_in != NULL || attempt == PASSPHRASE_TRIES) return err;
        fprintf(stderr, "That is not the passphrase. Try again (%d of %d).\n", attempt + 1, PASSPHRASE_TRIES);
    }
}

/* One try at unlocking this process's log; *ctx gets the reply (the last one kept). */
static bt_err try_unlock(const char *pass, void *ctx)
{
    json_object **rep = ctx, *p = json_object_new_object();
    bt_err err;
    json_object_object_add(p, "passphrase", json_object_new_string(pass));
    json_object_put(*rep);
    *rep = call("unlock", p, &err);
    return err;
}

/* Says that waiting sealed captures kept while the log was locked could
 * not be stored at this unlock (why: what kept them, BT_OK when not said):
 * they wait, safe. */
static void say_waiting(int64_t waiting, bt_err why)
{
    if (waiting <= 0) return;
    fprintf(stderr, "bantrail: %lld sealed capture%s kept while the log was locked still wait%s%s%s; "
                    "they are tried again at the next unlock\n",
            (long long)waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "", why != BT_OK ? ": " : "",
            why != BT_OK ? bt_err_message(why) : "");
}

/* Unlocks with the passphrase when the log is protected. */
static bt_err unlock_if_needed(json_object **rep_out)
{
    bt_err err;
    json_object *rep = call("hello", NULL, &err), *vault = NULL;
    json_object_object_get_ex(result_of(rep), "vault", &vault);
    const char *state = str(vault, "state");
    int locked = state != NULL && strcmp(state, "locked") == 0;
    json_object_put(rep);
    rep = *rep_out = NULL;
    if (err != BT_OK || !locked) return err;
    err = with_passphrase(try_unlock, &rep);
    if (err != BT_OK) {
        *rep_out = rep;
        return err;
    }
    /* sealed captures kept while locked that could not be stored now (a full disk): they wait, safe */
    const char *why = str(result_of(rep), "waiting_error");
    say_waiting(num(result_of(rep), "waiting"), why != NULL ? bt_err_from_code(why) : BT_OK);
    json_object_put(rep);
    return err;
}

/* Calls method once the log is readable (asking the passphrase if it is
 * locked); params are the call's, also when unlocking fails. */
static json_object *unlocked_call(const char *method, json_object *params, bt_err *err)
{
    json_object *rep = NULL;
    if ((*err = unlock_if_needed(&rep)) != BT_OK) {
        json_object_put(params);
        return rep;
    }
    return call(method, params, err);
}

/* ---- commands ---- */

static void print_json(json_object *o)
{
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int cmd_status(const char *dir)
{
    bt_err err;
    json_object *rep = call("hello", NULL, &err), *vault = NULL;
    if (err != BT_OK) return finish(rep, err);
    json_object_object_get_ex(result_of(rep), "vault", &vault);
    if (opt_json) {
        print_json(vault);
    } else {
        printf("Log:           %s\n", dir);
        if (str(vault, "error")) { /* no counts: a log that cannot be opened is not an empty one */
            printf("State:         CANNOT BE OPENED: %s.\n"
                   "               Nothing was changed. Keep a copy of this folder before trying anything.\n",
                   bt_err_message(bt_err_from_code(str(vault, "error"))));
            json_object_put(rep);
            return 2;
        }
        printf("State:         %s\n", state_words(str(vault, "state")));
        if (json_object_get_boolean(json_object_object_get(vault, "sealed_looking")))
            printf("Sealed:        still looking through the log for sealed captures kept while it was locked\n"
                   "               (once, for a log made before Bantrail kept where it had looked)\n");
        if (json_object_get_boolean(json_object_object_get(vault, "passphrase_pending")))
            printf("Passphrase:    a change was not confirmed (cut short): the earlier passphrase is the one\n"
                   "               that works; 'bantrail passphrase' sets the new one again\n");
        if (num(vault, "damaged_at") > 0)
            printf("DAMAGED:       entry %lld fails its link of the chain: nothing more is written to this log.\n"
                   "               'bantrail recover' copies what is intact into a new log.\n",
                   (long long)num(vault, "damaged_at"));
        if (json_object_get_boolean(json_object_object_get(vault, "wal_lost")))
            printf("               The write-ahead file (log.sqlite-wal) was removed or cut while in use: what was\n"
                   "               committed in it from entry %lld on is missing.\n",
                   (long long)num(vault, "damaged_at"));
        printf("Entries:       %lld\n", (long long)num(vault, "entries"));
        printf("Sessions:      %lld\n", (long long)num(vault, "sessions"));
        json_object *rc = NULL;
        json_object_object_get_ex(vault, "has_recovery", &rc);
        printf("Recovery code: %s\n", json_object_get_boolean(rc) ? "set" : "none");
        if (json_object_get_boolean(json_object_object_get(vault, "recovery_pending")))
            printf("               a newer code was made but never confirmed as shown: it resets nothing;\n"
                   "               %s 'bantrail recovery-code' makes one again\n",
                   json_object_get_boolean(rc) ? "the earlier code is the one that works." : "no code works yet.");
        printf("Chain head:    %s\n", str(vault, "head") ? str(vault, "head") : "-");
    }
    int rc = str(vault, "error") ? 2 : num(vault, "damaged_at") > 0 ? 1 : 0; /* vault is rep's: read it before rep goes */
    json_object_put(rep);
    return rc;
}

/* Whether the log has a passphrase and a recovery code in force (hello). */
static bt_err vault_flags(int *protected_, int *has_recovery)
{
    bt_err err;
    json_object *rep = call("hello", NULL, &err), *vault = NULL;
    json_object_object_get_ex(result_of(rep), "vault", &vault);
    *protected_ = json_object_get_boolean(json_object_object_get(vault, "protected"));
    *has_recovery = json_object_get_boolean(json_object_object_get(vault, "has_recovery"));
    json_object_put(rep);
    return err;
}

/* After a new key pair: a recovery code in force before no longer works. */
static void say_recovery_retired(int had_recovery)
{
    if (had_recovery) printf("Your earlier recovery code no longer works: make a new one with bantrail recovery-code\n");
}

/* A passphrase change in its two steps (docs/PROTOCOL.md, set_passphrase):
 * set (params p), then confirm at once, the answer having come back; a
 * kill in between leaves the earlier passphrase in force, which status
 * says. Returns the confirmation's reply, or the first failure's. */
static json_object *change_passphrase(json_object *p, bt_err *err)
{
    json_object *rep = call("set_passphrase", p, err);
    if (*err != BT_OK) return rep;
    json_object_put(rep);
    json_object *c = json_object_new_object();
    json_object_object_add(c, "confirm", json_object_new_boolean(1));
    return call("set_passphrase", c, err);
}

static int cmd_passphrase(int recovery, const bt_kdf_params *kdf)
{
    int protected_, had_recovery;
    bt_err err = vault_flags(&protected_, &had_recovery);
    json_object *rep, *p = json_object_new_object();
    if (err != BT_OK) { json_object_put(p); return exit_for(err); }
    if (recovery) { /* used up by the reset: set_passphrase takes it in place of the old passphrase */
        char *code = read_secret("Recovery code: ");
        if (code == NULL) { json_object_put(p); return 2; }
        json_object_object_add(p, "recovery_code", json_object_new_string(code));
        sodium_free(code);
    } else if (protected_) {
        char *old = read_secret("Current passphrase: ");
        if (old == NULL) { json_object_put(p); return 2; }
        json_object_object_add(p, "old", json_object_new_string(old));
        sodium_free(old);
    }
    char *pass = read_secret("New passphrase: ");
    if (pass == NULL) { json_object_put(p); return 2; }
    if (pass_in == NULL) {
        char *again = read_secret("Repeat it: ");
        int same = again != NULL && strcmp(again, pass) == 0;
        sodium_free(again);
        if (!same) {
            sodium_free(pass);
            json_object_put(p);
            fprintf(stderr, "bantrail: the two passphrases differ; nothing changed\n");
            return 1;
        }
    }
    json_object_object_add(p, "new", json_object_new_string(pass));
    sodium_free(pass);
    if (kdf != NULL) {
        json_object_object_add(p, "kdf_ops", json_object_new_int64((int64_t)kdf->opslimit));
        json_object_object_add(p, "kdf_mem", json_object_new_int64((int64_t)kdf->memlimit));
    }
    rep = change_passphrase(p, &err);
    if (err == BT_OK) {
        if (opt_json) print_json(result_of(rep));
        else {
            printf("Passphrase set. The log is protected, under a new key: a copy of this folder from before\n"
                   "opens nothing written from now on.\n");
            say_recovery_retired(had_recovery);
        }
    }
    return finish(rep, err);
}

/* A new key pair under the same passphrase: what is written from now on is
 * sealed to it (docs/SECURITY.md, "Keys move on"). */
static int cmd_rotate(void)
{
    int protected_, had_recovery;
    json_object *rep;
    bt_err err = vault_flags(&protected_, &had_recovery);
    if (err != BT_OK) return exit_for(err);
    if (!protected_) {
        fprintf(stderr, "bantrail: the log has no passphrase yet; choosing one makes a new key pair: "
                        "bantrail passphrase\n");
        return 1;
    }
    char *pass = read_secret("Passphrase: ");
    if (pass == NULL) return 2;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "old", json_object_new_string(pass));
    json_object_object_add(p, "new", json_object_new_string(pass));
    sodium_free(pass);
    rep = change_passphrase(p, &err);
    if (err == BT_OK && !opt_json) {
        printf("New key pair made: what is written from now on is sealed to it, and a copy of this folder\n"
               "from before opens none of it. Your passphrase is the same.\n");
        say_recovery_retired(had_recovery);
    } else if (err == BT_OK) {
        print_json(result_of(rep));
    }
    return finish(rep, err);
}

static int cmd_recovery_code(void)
{
    bt_err err;
    json_object *rep = unlocked_call("recovery_code", NULL, &err);
    if (err == BT_OK) {
        const char *code = str(result_of(rep), "code");
        if (opt_json) print_json(result_of(rep));
        else printf("Your recovery code (write it down; it is shown only this once):\n\n    %s\n\n"
                    "With it you can choose a new passphrase: bantrail passphrase --recovery\n", code);
        /* the earlier code stops working only once this one is out */
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "bantrail: the new code could not be shown; your earlier recovery code still works\n");
            json_object_put(rep);
            return 2;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "confirm", json_object_new_boolean(1));
        json_object_put(call("recovery_code", p, &err));
    }
    return finish(rep, err);
}

static void print_when(int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    printf("%s", buf);
}

static int cmd_list(int64_t after, int64_t limit)
{
    json_object *res, *entries = NULL, *p = json_object_new_object();
    bt_err err;
    json_object_object_add(p, "after", json_object_new_int64(after));
    json_object_object_add(p, "limit", json_object_new_int64(limit));
    json_object *rep = unlocked_call("list", p, &err);
    if (err != BT_OK) return finish(rep, err);
    res = result_of(rep);
    json_object_object_get_ex(res, "entries", &entries);
    size_t n = json_object_array_length(entries), unreadable = 0;
    for (size_t i = 0; i < n; i++) unreadable += str(json_object_array_get_idx(entries, i), "error") != NULL;
    if (opt_json) {
        print_json(res);
        json_object_put(rep);
        return unreadable ? exit_for(BT_ERR_CORRUPT) : 0;
    }
    if (n == 0) printf("No records.\n");
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i), *cls = NULL;
        const char *type = str(e, "type");
        printf("%6lld  ", (long long)num(e, "id"));
        if (str(e, "error") != NULL) {
            printf("UNREADABLE: %s\n", bt_err_message(bt_err_from_code(str(e, "error"))));
            continue;
        }
        print_when(num(e, "captured_at"));
        if (type != NULL && !strcmp(type, BT_REC_LOST)) {
            printf("  LOST: it did not read in the damaged log this one was recovered from ('bantrail show 0')\n");
            continue;
        }
        if (type != NULL && !strcmp(type, "attachment")) {
            printf("  attachment of %lld, ", (long long)num(e, "of"));
            print_clean(str(e, "mime") ? str(e, "mime") : "?", 0);
            printf(", %lld bytes\n", (long long)num(e, "size"));
            continue;
        }
        json_object_object_get_ex(e, "classification", &cls);
        printf("  %-10s ", str(cls, "platform") ? str(cls, "platform") : "-");
        printf("%-22s ", str(cls, "kind") ? str(cls, "kind") : "-");
        print_clean(str(e, "title") ? str(e, "title") : str(e, "url") ? str(e, "url") : "", 0);
        putchar('\n');
    }
    if (json_object_object_get(res, "next") != NULL)
        printf("More: bantrail list --after %lld\n", (long long)num(res, "next"));
    json_object_put(rep);
    if (unreadable) {
        fprintf(stderr, "bantrail: %zu record(s) above cannot be read: the log was damaged or altered there. "
                        "'bantrail verify' names the first entry that fails.\n", unreadable);
        return exit_for(BT_ERR_CORRUPT);
    }
    return 0;
}

/* Writes attachment id's bytes to a new file (never overwriting, never
 * following a link), page by page. */
static int save_bytes(const char *path, int64_t id)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int64_t offset = 0;
    int rc = 0;
    if (fd < 0) {
        fprintf(stderr, "bantrail: cannot create %s: %s (files are never overwritten)\n", path, strerror(errno));
        return 2;
    }
    while (rc == 0) {
        json_object *p = json_object_new_object(), *next;
        bt_err err;
        json_object_object_add(p, "id", json_object_new_int64(id));
        json_object_object_add(p, "offset", json_object_new_int64(offset));
        json_object *rep = call("get", p, &err), *res = result_of(rep);
        const char *b64 = str(res, "data");
        size_t cap = b64 ? strlen(b64) : 0, n = 0;
        unsigned char *bin = malloc(cap + 1);
        if (err != BT_OK || b64 == NULL || bin == NULL ||
            sodium_base642bin(bin, cap + 1, b64, cap, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            write(fd, bin, n) != (ssize_t)n)
            rc = err == BT_OK ? 2 : exit_for(err);
        free(bin);
        next = json_object_object_get(res, "next_offset");
        if (next == NULL) {
            json_object_put(rep);
            break;
        }
        offset = json_object_get_int64(next);
        json_object_put(rep);
    }
    if (close(fd) != 0) rc = 2;
    if (rc != 0) unlink(path);
    return rc;
}

/* A notice record's fields, classification and attachments (not its text). */
static void print_record(json_object *res, json_object *rec)
{
    static const char *const fields[][2] = {{"url", "Address:   "}, {"title", "Title:     "},
                                             {"lang", "Language:  "}, {"observed_at", "Seen at:   "}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (str(rec, fields[i][0]) == NULL) continue;
        fputs(fields[i][1], stdout);
        print_clean(str(rec, fields[i][0]), 0);
        putchar('\n');
    }
    json_object *cls = NULL, *atts = NULL;
    if (json_object_object_get_ex(rec, "classification", &cls)) {
        printf("Notice:    ");
        print_clean(json_object_to_json_string_ext(cls, JSON_C_TO_STRING_PLAIN), 0);
        putchar('\n');
    }
    json_object_object_get_ex(res, "attachments", &atts);
    for (size_t i = 0; i < json_object_array_length(atts); i++) {
        json_object *a = json_object_array_get_idx(atts, i);
        printf("Attached:  record %lld, ", (long long)num(a, "id"));
        print_clean(str(a, "mime") ? str(a, "mime") : "?", 0);
        printf(", %lld bytes\n", (long long)num(a, "size"));
    }
}

static int cmd_show(int64_t id, const char *out_path)
{
    json_object *res, *rec = NULL, *p = json_object_new_object();
    bt_err err;
    json_object_object_add(p, "id", json_object_new_int64(id));
    json_object *rep = unlocked_call("get", p, &err);
    if (err != BT_OK) return finish(rep, err);
    res = result_of(rep);
    json_object_object_get_ex(res, "record", &rec);
    const char *type = str(rec, "type");
    int is_attachment = type != NULL && !strcmp(type, "attachment");
    if (out_path != NULL) {
        json_object_put(rep);
        if (!is_attachment) {
            fprintf(stderr, "bantrail: record %lld has no bytes to save; -o is for attachments\n", (long long)id);
            return 2;
        }
        return save_bytes(out_path, id);
    }
    if (opt_json) {
        if (is_attachment) json_object_object_del(res, "data");
        print_json(res);
        return finish(rep, err);
    }
    printf("Record %lld (%s)\n", (long long)id, type ? type : "?");
    printf("Captured:  ");
    print_when(num(rec, "captured_at"));
    printf(" UTC\n");
    if (is_attachment) {
        printf("Of record: %lld\nType:      ", (long long)num(rec, "of"));
        print_clean(str(rec, "mime") ? str(rec, "mime") : "?", 0);
        printf("\nSize:      %lld bytes\nSave it:   bantrail show %lld -o FILE\n",
               (long long)num(rec, "size"), (long long)id);
        return finish(rep, err);
    }
    if (type != NULL && !strcmp(type, BT_REC_RECOVERED)) { /* written by bantrail recover: all ours */
        printf("This log was recovered from a damaged one (its file, BLAKE2b-256, the entries kept and lost):\n");
        print_json(rec);
        return finish(rep, err);
    }
    print_record(res, rec);
    printf("\n");
    print_clean(str(rec, "text") ? str(rec, "text") : "", 1);
    printf("\n");
    return finish(rep, err);
}

/* verify: the chain, and with at >= 1 that it leads through head there. */
static int cmd_verify(int64_t at, const char *head)
{
    bt_err err;
    json_object *p = NULL;
    if (at >= 1) {
        p = json_object_new_object();
        json_object_object_add(p, "at", json_object_new_int64(at));
        json_object_object_add(p, "head", json_object_new_string(head));
    }
    progress("Checking every entry's hash...");
    json_object *rep = call("verify", p, &err), *res = result_of(rep), *exp = NULL;
    progress(NULL);
    if (err != BT_OK) return finish(rep, err);
    int ok = json_object_get_boolean(json_object_object_get(res, "ok"));
    json_object_object_get_ex(res, "expected", &exp);
    int tail_ok = exp == NULL || json_object_get_boolean(json_object_object_get(exp, "holds"));
    if (opt_json) {
        print_json(res);
    } else {
        if (num(res, "bad_id") == 0)
            printf("The chain holds: %lld entries checked.\nHead: %s\n", (long long)num(res, "checked"),
                   str(res, "head"));
        else
            printf("VERIFICATION FAILED at entry %lld: %s.\n%lld entries before it hold.\n",
                   (long long)num(res, "bad_id"), str(res, "reason"), (long long)num(res, "checked"));
        if (exp != NULL && tail_ok)
            printf("It leads through entry %lld with the head expected.\n", (long long)num(exp, "at"));
        else if (exp != NULL)
            printf("MISSING: %s.\nUnless you restored an older copy yourself, keep the log's folder as it is and "
                   "look for a newer copy of it.\n",
                   str(exp, "reason"));
    }
    json_object_put(rep);
    return ok ? 0 : 1;
}

static int cmd_recover(const char *dir)
{
    bt_err err;
    json_object *rep = unlocked_call("recover", NULL, &err), *res = result_of(rep);
    if (err != BT_OK) return finish(rep, err);
    if (opt_json) {
        print_json(res);
    } else if (!json_object_get_boolean(json_object_object_get(res, "recovered"))) {
        printf("The log is intact: every entry verifies. Nothing was changed.\n");
    } else {
        printf("Recovered into a new log: %lld of %lld entries kept, %lld lost%s.\n"
               "Each entry keeps its number; a lost one is marked 'lost' in its place, and entry 0 says\n"
               "where the new log came from ('bantrail show 0').\n"
               "The damaged file is kept, unchanged: %s/%s\n",
               (long long)num(res, "kept"), (long long)num(res, "upto"), (long long)num(res, "lost"),
               json_object_get_boolean(json_object_object_get(res, "cut"))
                   ? " (nothing could be read past the last one: any later entries are lost too)"
                   : "",
               dir, str(res, "damaged_file"));
    }
    json_object_put(rep);
    return 0;
}

static int cmd_capture(const char *url, const char *title, const char *lang, int manual)
{
    size_t n = 0;
    char *text = bt_term_read_all(stdin, (size_t)1 << 20, &n);
    bt_err err;
    if (text == NULL) {
        fprintf(stderr, "bantrail: cannot read the text (1 MiB at most)\n");
        return 2;
    }
    json_object *p = json_object_new_object();
    json_object_object_add(p, "url", json_object_new_string(url));
    json_object_object_add(p, "text", json_object_new_string_len(text, (int)n));
    if (title) json_object_object_add(p, "title", json_object_new_string(title));
    if (lang) json_object_object_add(p, "lang", json_object_new_string(lang));
    if (manual) json_object_object_add(p, "manual", json_object_new_boolean(1));
    sodium_memzero(text, n);
    free(text);
    json_object *rep = call("capture", p, &err);
    if (err == BT_OK) {
        json_object *res = result_of(rep);
        if (opt_json) print_json(res);
        else if (!json_object_get_boolean(json_object_object_get(res, "stored")))
            printf("Not stored: the classifier says this is not a restriction notice (--manual stores it).\n");
        else if (json_object_get_boolean(json_object_object_get(res, "occurrence")))
            printf("Seen again: counted as a new sighting of record %lld.\n", (long long)num(res, "id"));
        else printf("Stored as record %lld.\n", (long long)num(res, "id"));
    }
    return finish(rep, err);
}

/* ---- demo: the host, driven as a browser drives it ---- */

static json_object *demo_call(int to, int from, const char *request)
{
    char *body = NULL;
    size_t len = 0;
    bt_err err;
    if (bt_frame_write(to, request, strlen(request)) != BT_OK) return NULL;
    if (bt_frame_read(from, BT_FRAME_OUT_MAX, &body, &len, &err) != BT_FRAME_READ || err != BT_OK) return NULL;
    json_object *rep = json_tokener_parse(body);
    free(body);
    return rep;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL) closedir(d);
    rmdir(dir);
}

/* Starts the host at path with the arguments a browser passes (args, NULL
 * terminated) and, when home is not NULL, BANTRAIL_HOME=home. */
static pid_t spawn_host(const char *path, const char *const *args, const char *home, int *to, int *from)
{
    int in[2], out[2];
    char *argv[4] = {(char *)path, NULL, NULL, NULL};
    for (int i = 0; i < 2 && args[i] != NULL; i++) argv[i + 1] = (char *)args[i];
    if (pipe(in) != 0) return -1;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (home != NULL) setenv("BANTRAIL_HOME", home, 1);
        execv(path, argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *to = in[1];
    *from = out[0];
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
    }
    return pid;
}

/* Closes the host's input and waits: its exit status, or -1. */
static int reap_host(pid_t pid, int to, int from)
{
    int status = 0;
    close(to);
    waitpid(pid, &status, 0);
    close(from);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The absolute path of the bantrail-host beside this program; NULL if none. */
static char *host_beside_me(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return NULL;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    size_t len = strlen(self) + sizeof "/bantrail-host";
    char *host = malloc(len);
    if (host != NULL) snprintf(host, len, "%s/bantrail-host", self);
    return host;
}

static int cmd_demo(void)
{
    static const char *const steps[][2] = {
        {"hello", "{\"id\":1,\"method\":\"hello\"}"},
        {"capture", "{\"id\":2,\"method\":\"capture\",\"params\":{"
                    "\"url\":\"https://www.instagram.com/accounts/suspended/\",\"title\":\"Instagram\","
                    "\"lang\":\"en\",\"text\":\"We suspended your account. You have 180 days left to "
                    "disagree with this decision.\"}}"},
        {"get", "{\"id\":3,\"method\":\"get\",\"params\":{\"id\":1}}"},
        {"verify", "{\"id\":4,\"method\":\"verify\"}"},
    };
    static const char *const origin[] = {"chrome-extension://" BT_EXTENSION_ID_CHROMIUM "/", NULL};
    char dir[] = "/tmp/bantrail-demo-XXXXXX";
    char *host = host_beside_me();
    int to, from, rc = 0;
    pid_t pid = -1;
    if (host == NULL || mkdtemp(dir) == NULL) {
        fprintf(stderr, "bantrail: demo: %s\n", strerror(errno));
        free(host);
        return 2;
    }
    printf("Demo in a throwaway log (%s); your own log is not touched.\n", dir);
    printf("Starting %s as Chromium would, with the extension's origin.\n\n", host);
    fflush(stdout);
    pid = spawn_host(host, origin, dir, &to, &from);
    for (size_t i = 0; pid > 0 && i < sizeof steps / sizeof steps[0]; i++) {
        json_object *rep = demo_call(to, from, steps[i][1]), *res = NULL;
        if (rep == NULL || !json_object_object_get_ex(rep, "result", &res)) {
            fprintf(stderr, "bantrail: demo: %s failed: %s\n", steps[i][0],
                    rep ? json_object_to_json_string(rep) : "no answer from the host");
            json_object_put(rep);
            rc = 2;
            break;
        }
        printf("-> %s\n<- ", steps[i][0]);
        print_clean(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), 0);
        printf("\n\n");
        json_object_put(rep);
    }
    if (pid < 0 || reap_host(pid, to, from) != 0) rc = 2;
    remove_tree(dir);
    free(host);
    printf(rc == 0 ? "The host stored the notice encrypted, read it back and verified the chain.\n"
                   : "The demo failed.\n");
    return rc;
}

/* ---- registering with browsers ---- */

/* Which browsers a command acts on: one by name, all, or (name NULL) those
 * found on this system. With a user data dir: Chromium unless named. */
static int select_browsers(const char *name, const char *user_data_dir, int chosen[BT_BROWSER_COUNT])
{
    int b = name != NULL ? bt_install_browser_by_name(name) : -1;
    if (name != NULL && strcmp(name, "all") != 0 && b < 0) {
        fprintf(stderr, "bantrail: unknown browser '%s' (chrome, chromium, brave, edge, vivaldi, firefox, all)\n", name);
        return -1;
    }
    for (int i = 0; i < BT_BROWSER_COUNT; i++) {
        char *path = NULL;
        if (user_data_dir == bt_install_system) /* a package: every browser that reads a system folder */
            chosen[i] = (b < 0 || i == b) && bt_install_manifest_path((bt_browser)i, user_data_dir, &path) == BT_OK;
        else if (user_data_dir != NULL) chosen[i] = i != BT_BROWSER_FIREFOX && (b < 0 ? i == BT_BROWSER_CHROMIUM : i == b);
        else if (name == NULL) chosen[i] = bt_install_detected((bt_browser)i);
        else chosen[i] = b < 0 || i == b;
        free(path);
    }
    if (user_data_dir != NULL && user_data_dir != bt_install_system && b == BT_BROWSER_FIREFOX) {
        fprintf(stderr, "bantrail: --user-data-dir is for Chromium-family browsers\n");
        return -1;
    }
    return 0;
}

static int cmd_install(const char *name, const char *user_data_dir, int remove)
{
    int chosen[BT_BROWSER_COUNT], done = 0, failed = 0;
    char *host = remove ? NULL : host_beside_me();
    if (select_browsers(name, user_data_dir, chosen) != 0) return 2;
    if (!remove && (host == NULL || access(host, X_OK) != 0)) {
        fprintf(stderr, "bantrail: no bantrail-host beside this program\n");
        free(host);
        return 2;
    }
    json_object *out = json_object_new_array();
    for (int i = 0; i < BT_BROWSER_COUNT; i++) {
        if (!chosen[i]) continue;
        bt_browser b = (bt_browser)i;
        const char *sandbox = bt_install_sandboxed(b);
        char *path = NULL;
        bt_err err = remove ? bt_install_remove(b, user_data_dir, &path)
                            : bt_install_write(b, user_data_dir, host, &path);
        json_object *item = json_object_new_object();
        json_object_object_add(item, "browser", json_object_new_string(bt_install_browser_name(b)));
        json_object_object_add(item, "ok", json_object_new_boolean(err == BT_OK));
        if (path) json_object_object_add(item, "manifest", json_object_new_string(path));
        if (err != BT_OK) json_object_object_add(item, "error", json_object_new_string(bt_err_code(err)));
        if (sandbox) json_object_object_add(item, "sandbox", json_object_new_string(sandbox));
        json_object_array_add(out, item);
        if (!opt_json) {
            printf("%-9s ", bt_install_browser_name(b));
            if (err == BT_OK) printf("%s %s\n", remove ? "removed" : "registered in", path);
            else if (remove && err == BT_ERR_NOT_FOUND) printf("nothing to remove\n");
            else printf("FAILED: %s\n", bt_err_message(err));
            if (sandbox)
                printf("          note: this browser is also installed as a %s package. Sandboxed browsers\n"
                       "          cannot start native programs, so Bantrail cannot work there; use the\n"
                       "          browser from Debian's packages or the vendor's .deb instead.\n", sandbox);
        }
        if (err == BT_OK) done++;
        else if (!(remove && err == BT_ERR_NOT_FOUND)) failed++;
        free(path);
    }
    if (opt_json) print_json(out);
    else if (done == 0 && failed == 0) printf("No browser found. Name one: bantrail %s --browser chromium\n",
                                              remove ? "uninstall" : "install");
    else if (!remove && done > 0)
        printf("\nNext: load the extension (the extension/ folder) in the browser, then run 'bantrail doctor'.\n");
    json_object_put(out);
    free(host);
    return failed > 0 ? 2 : 0;
}

/* Asks the registered host for hello, started as browser b starts it. */
static bt_err doctor_hello(bt_browser b, const char *host, json_object **hello)
{
    static const char *const chrome_args[] = {"chrome-extension://" BT_EXTENSION_ID_CHROMIUM "/", NULL};
    char *manifest = NULL;
    const char *firefox_args[] = {NULL, BT_EXTENSION_ID_GECKO, NULL};
    int to, from;
    bt_err err = BT_ERR_INTERNAL;
    *hello = NULL;
    if (b == BT_BROWSER_FIREFOX && bt_install_manifest_path(b, NULL, &manifest) != BT_OK) return BT_ERR_NO_MEMORY;
    firefox_args[0] = manifest;
    pid_t pid = spawn_host(host, b == BT_BROWSER_FIREFOX ? firefox_args : chrome_args, NULL, &to, &from);
    free(manifest);
    if (pid < 0) return BT_ERR_INTERNAL;
    json_object *rep = demo_call(to, from, "{\"id\":1,\"method\":\"hello\"}"), *res = NULL;
    if (rep != NULL && json_object_object_get_ex(rep, "result", &res)) {
        *hello = json_object_get(res);
        err = BT_OK;
    }
    json_object_put(rep);
    if (reap_host(pid, to, from) != 0 && err == BT_OK) err = BT_ERR_INTERNAL;
    return err;
}

static int cmd_doctor(const char *user_data_dir)
{
    int registered = 0, problems = 0;
    json_object *out = json_object_new_array();
    for (int i = 0; i < BT_BROWSER_COUNT; i++) {
        bt_browser b = (bt_browser)i;
        if (user_data_dir != NULL && b != BT_BROWSER_CHROMIUM) continue; /* one folder, one manifest */
        char *host = NULL;
        const char *problem = NULL, *sandbox = bt_install_sandboxed(b);
        json_object *hello = NULL, *vault = NULL;
        bt_err err = bt_install_check(b, user_data_dir, &host, &problem);
        if (err == BT_OK && doctor_hello(b, host, &hello) != BT_OK)
            problem = "the host did not answer hello";
        json_object_object_get_ex(hello, "vault", &vault);
        if (hello != NULL && !json_object_get_boolean(json_object_object_get(hello, "caller_allowed")))
            problem = "the host refuses this browser's extension id";
        else if (vault != NULL && str(vault, "error") != NULL)
            problem = "the host cannot open the log (see host.log in the data folder)";
        json_object *item = json_object_new_object();
        json_object_object_add(item, "browser", json_object_new_string(bt_install_browser_name(b)));
        json_object_object_add(item, "registered", json_object_new_boolean(err != BT_ERR_NOT_FOUND));
        json_object_object_add(item, "ok", json_object_new_boolean(err == BT_OK && problem == NULL));
        if (problem) json_object_object_add(item, "problem", json_object_new_string(problem));
        if (sandbox) json_object_object_add(item, "sandbox", json_object_new_string(sandbox));
        if (vault) json_object_object_add(item, "vault", json_object_get(vault));
        json_object_array_add(out, item);
        if (err != BT_ERR_NOT_FOUND) {
            registered++;
            if (problem != NULL) problems++;
        }
        if (!opt_json) {
            printf("%-9s ", bt_install_browser_name(b));
            if (err == BT_ERR_NOT_FOUND) printf("not registered\n");
            else if (problem != NULL) printf("PROBLEM: %s\n", problem);
            else printf("ok: the host answers (log %s, %lld entries)\n", str(vault, "state"),
                        (long long)num(vault, "entries"));
            if (sandbox) printf("          note: installed as a %s package, which cannot start native hosts\n", sandbox);
        }
        json_object_put(hello);
        free(host);
    }
    if (opt_json) print_json(out);
    else if (registered == 0) printf("\nNo browser is registered: run 'bantrail install'.\n");
    json_object_put(out);
    return registered > 0 && problems == 0 ? 0 : 1;
}

/* classify: the classifier on stdin's text, for tests and rule writers. */
static int cmd_classify(const char *url, const char *title, const char *lang)
{
    size_t n = 0;
    char *text = bt_term_read_all(stdin, (size_t)1 << 20, &n);
    bt_classification c;
    if (text == NULL) {
        fprintf(stderr, "bantrail: cannot read the text (1 MiB at most)\n");
        return 2;
    }
    bt_err err = bt_classify_text_with(&c, NULL, url, title, lang, text, n);
    sodium_memzero(text, n);
    free(text);
    if (err != BT_OK) {
        fprintf(stderr, "bantrail: %s\n", bt_err_message(err));
        return 2;
    }
    /* what the decision was made from, for rule writers: each feature that is not 0 */
    json_object *evidence = json_object_new_object();
    for (size_t i = 0; evidence != NULL && i < BT_CLASSIFY_FEATURES; i++)
        if (c.features[i] != 0) {
            char shown[32];
            snprintf(shown, sizeof shown, "%.3g", c.features[i]);
            json_object_object_add(evidence, bt_classify_feature_names[i], json_object_new_double_s(c.features[i], shown));
        }
    if (opt_json) {
        json_object *o = bt_classify_to_json(&c);
        if (o == NULL || evidence == NULL) {
            json_object_put(o);
            json_object_put(evidence);
            return 2;
        }
        json_object_object_add(o, "evidence", evidence);
        print_json(o);
        json_object_put(o);
    } else {
        const char *rows[][2] = {{"Platform:  ", c.platform}, {"Kind:      ", c.kind}, {"Reason:    ", c.reason},
                                 {"Language:  ", c.lang}, {"Duration:  ", c.facts.duration},
                                 {"Handle:    ", c.facts.handle}};
        printf("Notice:    %s (score %d)\n", c.notice ? "yes" : "no", c.score);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            if (rows[i][1][0] == '\0') continue;
            fputs(rows[i][0], stdout);
            print_clean(rows[i][1], 0);
            putchar('\n');
        }
        for (size_t i = 0; i < c.facts.n_dates; i++) printf("Date:      %s\n", c.facts.dates[i]);
        if (c.facts.days_left >= 0) printf("Days left: %ld\n", c.facts.days_left);
        printf("Evidence: ");
        json_object_object_foreach(evidence, name, value) printf(" %s %s", name, json_object_to_json_string(value));
        putchar('\n');
        json_object_put(evidence);
    }
    return c.notice ? 0 : 1;
}

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x < 0) return -1;
    *out = x;
    return 0;
}

/* ---- cases, events and the evidence export (docs/PROTOCOL.md, docs/EVIDENCE.md) ---- */

static void print_duration(int64_t seconds)
{
    char d[64];
    bt_export_duration(d, sizeof d, seconds, NULL);
    fputs(d, stdout);
}

/* A time from a JSON member that may be null. */
static void print_when_of(json_object *o, const char *key)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, key, &x) || x == NULL) printf("-");
    else { print_when(json_object_get_int64(x)); printf(" UTC"); }
}

static int64_t num_or(json_object *o, const char *key, int64_t dflt)
{
    json_object *x = NULL;
    return json_object_object_get_ex(o, key, &x) && x != NULL ? json_object_get_int64(x) : dflt;
}

static int cmd_case_list(void)
{
    json_object *rep = NULL, *all = json_object_new_array();
    int64_t after = 0;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) { json_object_put(all); return finish(rep, err); }
    for (;;) { /* every page */
        json_object *p = json_object_new_object(), *cases = NULL, *next = NULL;
        json_object_object_add(p, "after", json_object_new_int64(after));
        json_object_object_add(p, "limit", json_object_new_int64(200));
        rep = call("cases", p, &err);
        if (err != BT_OK) { json_object_put(all); return finish(rep, err); }
        json_object_object_get_ex(result_of(rep), "cases", &cases);
        for (size_t i = 0; i < json_object_array_length(cases); i++)
            json_object_array_add(all, json_object_get(json_object_array_get_idx(cases, i)));
        json_object_object_get_ex(result_of(rep), "next", &next);
        after = next ? json_object_get_int64(next) : 0;
        json_object_put(rep);
        if (next == NULL) break;
    }
    if (opt_json) {
        json_object *out = json_object_new_object();
        json_object_object_add(out, "cases", all);
        print_json(out);
        json_object_put(out);
        return 0;
    }
    size_t n = json_object_array_length(all);
    if (n == 0) printf("No cases.\n");
    else printf("  CASE  PLATFORM    ACCOUNT           EVENTS  SINCE (UTC)       OUTCOME     TO APPEAL       TO ANSWER         LOCKED OUT\n");
    for (size_t i = 0; i < n; i++) {
        json_object *k = json_object_array_get_idx(all, i), *d = NULL, *t = NULL;
        json_object_object_get_ex(k, "durations", &d);
        json_object_object_get_ex(k, "times", &t);
        printf("%6lld  %-10.10s  ", (long long)num(k, "id"), str(k, "platform") ? str(k, "platform") : "-");
        char handle[18];
        snprintf(handle, sizeof handle, "%s", str(k, "handle") ? str(k, "handle") : "-");
        print_clean(handle, 0);
        printf("%*s%6lld  ", (int)(18 - strlen(handle)), "", (long long)num(k, "event_count"));
        print_when(num_or(t, "restricted_at", num(k, "first_at")));
        printf("  %-10s  ", str(k, "outcome"));
        char buf[64];
        bt_export_duration(buf, sizeof buf, num_or(d, "restriction_to_appeal", -1), NULL);
        printf("%-14s  ", buf);
        bt_export_duration(buf, sizeof buf, num_or(d, "appeal_to_answer", -1), NULL);
        if (json_object_get_boolean(json_object_object_get(k, "answered_within_10_minutes")))
            strncat(buf, " (<10 min)", sizeof buf - strlen(buf) - 1);
        printf("%-16s  ", buf);
        print_duration(num_or(d, "locked_out", -1));
        if (json_object_get_boolean(json_object_object_get(d, "locked_out_ongoing"))) printf(", ongoing");
        putchar('\n');
    }
    json_object_put(all);
    return 0;
}

/* Fetches case id with all its events (case_get pages); NULL on error. */
static json_object *fetch_case(int64_t id, bt_err *err)
{
    json_object *kase = NULL, *events = json_object_new_array();
    int64_t offset = 0;
    for (;;) {
        json_object *p = json_object_new_object(), *k = NULL, *evs = NULL, *next = NULL;
        json_object_object_add(p, "id", json_object_new_int64(id));
        json_object_object_add(p, "offset", json_object_new_int64(offset));
        json_object *rep = call("case_get", p, err);
        if (*err != BT_OK) {
            json_object_put(kase);
            json_object_put(events);
            return rep; /* the error reply */
        }
        json_object_object_get_ex(result_of(rep), "case", &k);
        json_object_object_get_ex(k, "events", &evs);
        for (size_t i = 0; i < json_object_array_length(evs); i++)
            json_object_array_add(events, json_object_get(json_object_array_get_idx(evs, i)));
        if (kase == NULL) kase = json_object_get(k);
        json_object_object_get_ex(result_of(rep), "next_offset", &next);
        offset = next ? json_object_get_int64(next) : 0;
        json_object_put(rep);
        if (next == NULL) break;
    }
    json_object_object_add(kase, "events", events);
    return kase;
}

/* A case's events, one block each: time, record, event, and what backs it. */
static void print_timeline(json_object *events)
{
    for (size_t i = 0; i < json_object_array_length(events); i++) {
        json_object *e = json_object_array_get_idx(events, i), *atts = NULL;
        char when_s[32];
        time_t tt = (time_t)num(e, "at");
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(when_s, sizeof when_s, "%Y-%m-%d %H:%M:%S", &tm);
        printf("  %s  #%-5lld %s", when_s, (long long)num(e, "record"), str(e, "event"));
        if (str(e, "kind")) { printf(" ("); print_clean(str(e, "kind"), 0); printf(")"); }
        if (str(e, "outcome")) printf(": %s", str(e, "outcome"));
        printf("%s%s\n", json_object_get_boolean(json_object_object_get(e, "manual")) ? ", entered by hand" : "",
               strcmp(str(e, "time") ? str(e, "time") : "", "captured") == 0 ? ", time of capture" : "");
        if (str(e, "title")) { printf("%23s", "title: "); print_clean(str(e, "title"), 0); putchar('\n'); }
        if (str(e, "note")) { printf("%23s", "note: "); print_clean(str(e, "note"), 0); putchar('\n'); }
        if (num(e, "sightings") > 1) printf("%23s%lld times\n", "seen: ", (long long)num(e, "sightings"));
        json_object_object_get_ex(e, "attachments", &atts);
        for (size_t j = 0; j < json_object_array_length(atts); j++)
            printf("%23srecord #%lld (bantrail show %lld -o FILE)\n", "attachment: ",
                   (long long)json_object_get_int64(json_object_array_get_idx(atts, j)),
                   (long long)json_object_get_int64(json_object_array_get_idx(atts, j)));
        printf("%23s%s\n", "hash: ", str(e, "hash") ? str(e, "hash") : "-");
    }
}

static int cmd_case_show(int64_t id)
{
    json_object *rep = NULL, *k, *t = NULL, *d = NULL, *events = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    k = fetch_case(id, &err);
    if (err != BT_OK) return finish(k, err);
    if (opt_json) {
        print_json(k);
        json_object_put(k);
        return 0;
    }
    json_object_object_get_ex(k, "times", &t);
    json_object_object_get_ex(k, "durations", &d);
    json_object_object_get_ex(k, "events", &events);
    printf("Case %lld: ", (long long)num(k, "id"));
    print_clean(str(k, "platform") ? str(k, "platform") : "unknown platform", 0);
    printf(", ");
    print_clean(str(k, "handle") ? str(k, "handle") : "account not stated", 0);
    printf("\nRecords:               %lld (%lld attachment%s)\n", (long long)num(k, "event_count"),
           (long long)num(k, "attachment_count"), num(k, "attachment_count") == 1 ? "" : "s");
    static const char *const rows[][2] = {{"restricted_at", "Restricted:            "},
                                          {"appealed_at", "Appeal submitted:      "},
                                          {"acknowledged_at", "Acknowledged:          "},
                                          {"answered_at", "Answer:                "},
                                          {"reinstated_at", "Reinstated:            "}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fputs(rows[i][1], stdout);
        print_when_of(t, rows[i][0]);
        putchar('\n');
    }
    printf("Restriction to appeal: ");
    print_duration(num_or(d, "restriction_to_appeal", -1));
    printf("\nAppeal to answer:      ");
    int64_t ans = num_or(d, "appeal_to_answer", -1);
    if (ans >= 0) printf("%lld min (%lld s)", (long long)(ans / 60), (long long)ans);
    else printf("-");
    if (json_object_get_boolean(json_object_object_get(k, "answered_within_10_minutes")))
        printf("  ANSWERED WITHIN 10 MINUTES");
    printf("\nTime locked out:       ");
    print_duration(num_or(d, "locked_out", -1));
    if (json_object_get_boolean(json_object_object_get(d, "locked_out_ongoing"))) printf(", ongoing");
    printf("\nOutcome:               %s\n\nTimeline (UTC):\n", str(k, "outcome"));
    print_timeline(events);
    json_object_put(k);
    return 0;
}

static int cmd_case_merge(int64_t a, int64_t b)
{
    json_object *p = json_object_new_object(), *pair = json_object_new_array();
    bt_err err;
    json_object_array_add(pair, json_object_new_int64(a));
    json_object_array_add(pair, json_object_new_int64(b));
    json_object_object_add(p, "cases", pair);
    json_object *rep = unlocked_call("case_merge", p, &err);
    if (err == BT_OK) {
        if (opt_json) print_json(result_of(rep));
        else printf("Merged cases %lld and %lld into case %lld (log entry %lld; no record was changed).\n",
                    (long long)a, (long long)b, (long long)num(result_of(rep), "id"),
                    (long long)num(result_of(rep), "entry"));
    }
    return finish(rep, err);
}

static int cmd_case_split(int64_t record)
{
    json_object *p = json_object_new_object();
    bt_err err;
    json_object_object_add(p, "record", json_object_new_int64(record));
    json_object *rep = unlocked_call("case_split", p, &err);
    if (err == BT_OK) {
        if (opt_json) print_json(result_of(rep));
        else printf("Split case %lld: record %lld and the case's later records are now case %lld "
                    "(log entry %lld; no record was changed).\n", (long long)num(result_of(rep), "case"),
                    (long long)record, (long long)num(result_of(rep), "new_case"),
                    (long long)num(result_of(rep), "entry"));
    }
    return finish(rep, err);
}

/* What event add takes: the event names from the core (their one source;
 * the extension's copies are checked against the same list) and the times
 * bt_cases_parse_time reads. */
static void event_add_hint(FILE *f)
{
    fputs("  E is one of:", f);
    for (int e = 0; e < BT_EVENT_COUNT_; e++) fprintf(f, "%s %s", e ? "," : "", bt_event_name((bt_event_kind)e));
    fputs(" (a decision takes --outcome)\n"
          "  ISO8601 is YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], then Z, +HH:MM or nothing (UTC),\n"
          "  for example 2026-03-03T10:05Z\n", f);
}

static int cmd_event_add(int64_t case_id, const char *platform, const char *handle, const char *event,
                         const char *outcome, const char *at, const char *note)
{
    json_object *rep = NULL;
    bt_err err;
    int64_t when;
    if (event == NULL || bt_event_parse(event) < 0 || at == NULL || bt_cases_parse_time(at, &when) != 0 ||
        (case_id == 0 && platform == NULL)) {
        if (event != NULL && bt_event_parse(event) < 0) fprintf(stderr, "bantrail: no event is called '%s'\n", event);
        else if (at != NULL && bt_cases_parse_time(at, &when) != 0) fprintf(stderr, "bantrail: '%s' is no time\n", at);
        fprintf(stderr, "bantrail: event add needs --event E, --at ISO8601 and --case N or --platform P\n");
        event_add_hint(stderr);
        fprintf(stderr, "see bantrail event add --help\n");
        return 2;
    }
    if (case_id != 0 && (err = unlock_if_needed(&rep)) != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "event", json_object_new_string(event));
    json_object_object_add(p, "at", json_object_new_string(at));
    json_object_object_add(p, "manual", json_object_new_boolean(1));
    if (case_id != 0) json_object_object_add(p, "case", json_object_new_int64(case_id));
    if (platform) json_object_object_add(p, "platform", json_object_new_string(platform));
    if (handle) json_object_object_add(p, "handle", json_object_new_string(handle));
    if (outcome) json_object_object_add(p, "outcome", json_object_new_string(outcome));
    if (note) json_object_object_add(p, "note", json_object_new_string(note));
    rep = call("event_add", p, &err);
    if (err == BT_OK) {
        json_object *res = result_of(rep);
        if (opt_json) {
            print_json(res);
        } else {
            printf("Added record %lld: %s at ", (long long)num(res, "id"), event);
            print_when(num(res, "at"));
            printf(" UTC, marked as entered by hand");
            if (json_object_object_get(res, "case") != NULL) printf(", in case %lld", (long long)num(res, "case"));
            printf(".\n");
        }
    }
    return finish(rep, err);
}

/* Asks on the terminal whether to replace path; 1 yes. */
static int ask_replace(const char *path)
{
    char line[16];
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) return 0;
    fprintf(stderr, "bantrail: %s exists. Replace it? [y/N] ", path);
    fflush(stderr);
    if (fgets(line, sizeof line, stdin) == NULL) return 0;
    return line[0] == 'y' || line[0] == 'Y';
}

/* Checks that export may write path: not a link, not a folder, and an
 * existing file only when replacing is allowed (--force) or agreed to.
 * Returns 0 (with *replace set) or 2 after saying why not. */
static int export_target(const char *path, int force, int *replace)
{
    struct stat sb;
    *replace = 0;
    if (lstat(path, &sb) != 0) return 0;
    if (S_ISLNK(sb.st_mode)) {
        fprintf(stderr, "bantrail: %s is a symbolic link; links are never followed\n", path);
        return 2;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "bantrail: %s exists and is not a regular file\n", path);
        return 2;
    }
    *replace = force || ask_replace(path);
    if (!*replace) {
        fprintf(stderr, "bantrail: %s exists; not overwritten (--force replaces it)\n", path);
        return 2;
    }
    return 0;
}

/* One export document as case_export pages it, with what the first page
 * says of the whole. */
typedef struct {
    char *doc;
    size_t len, size;
    int64_t upto, generated;
    char digest_hex[2 * BT_HASH_BYTES + 1];
} export_doc;

/* Adds one case_export page (res) to d; -1 when it does not fit the first. */
static int export_page(export_doc *d, json_object *res)
{
    const char *b64 = str(res, "data");
    if (d->doc == NULL) {
        d->size = (size_t)num(res, "size");
        d->upto = num(res, "upto");
        d->generated = num(res, "generated_at");
        snprintf(d->digest_hex, sizeof d->digest_hex, "%s", str(res, "digest") ? str(res, "digest") : "");
        d->doc = malloc(d->size + 1);
    }
    size_t n = 0, b64_len = b64 ? strlen(b64) : 0;
    if (d->doc == NULL || b64 == NULL || (size_t)num(res, "size") != d->size || (size_t)num(res, "offset") != d->len ||
        sodium_base642bin((unsigned char *)d->doc + d->len, d->size - d->len, b64, b64_len, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    d->len += n;
    return 0;
}

/* The person's language as the environment says it (LC_ALL, LC_MESSAGES, LANG: the first set). */
static const char *locale_lang(void)
{
    const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0') return v;
    }
    return NULL;
}

/* Fetches case case_id's export, page by page, into d, in the person's
 * language (the HTML; the JSON is for machines); the exit code. */
static int export_fetch(int64_t case_id, const char *format, export_doc *d)
{
    int64_t offset = 0;
    bt_err err;
    for (;;) {
        json_object *p = json_object_new_object(), *next = NULL;
        json_object_object_add(p, "id", json_object_new_int64(case_id));
        json_object_object_add(p, "format", json_object_new_string(format));
        json_object_object_add(p, "offset", json_object_new_int64(offset));
        json_object_object_add(p, "lang", json_object_new_string(bt_words_lang(locale_lang())));
        if (d->upto > 0) { /* the same document, piece by piece */
            json_object_object_add(p, "upto", json_object_new_int64(d->upto));
            json_object_object_add(p, "generated_at", json_object_new_int64(d->generated));
        }
        if (offset == 0) progress("Building the evidence of case %lld...", (long long)case_id);
        else progress("Copying the evidence, %zu of %zu KiB...", d->len / 1024, d->size / 1024);
        json_object *rep = call("case_export", p, &err);
        progress(NULL);
        if (err != BT_OK) return finish(rep, err);
        if (export_page(d, result_of(rep)) != 0) {
            fprintf(stderr, "bantrail: the export came back damaged\n");
            json_object_put(rep);
            return 2;
        }
        json_object_object_get_ex(result_of(rep), "next_offset", &next);
        offset = next ? json_object_get_int64(next) : 0;
        json_object_put(rep);
        if (next == NULL) return 0;
    }
}

/* Checks d against its digest and writes it to path; the exit code. */
static int export_save(const export_doc *d, int64_t case_id, const char *format, const char *path, int replace)
{
    unsigned char digest[BT_HASH_BYTES];
    char got[2 * BT_HASH_BYTES + 1];
    crypto_generichash(digest, sizeof digest, (unsigned char *)d->doc, d->len, NULL, 0);
    sodium_bin2hex(got, sizeof got, digest, sizeof digest);
    if (d->len != d->size || strcmp(got, d->digest_hex) != 0) {
        fprintf(stderr, "bantrail: the export came back incomplete\n");
        return 2;
    }
    if (bt_export_save(path, d->doc, d->len, replace) != 0) {
        fprintf(stderr, "bantrail: cannot write %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (files are never overwritten without asking)"
                : errno == ELOOP ? " (symbolic links are never followed)" : "");
        return 2;
    }
    if (opt_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "format", json_object_new_string(format));
        json_object_object_add(o, "size", json_object_new_int64((int64_t)d->len));
        json_object_object_add(o, "digest", json_object_new_string(got));
        json_object_object_add(o, "upto", json_object_new_int64(d->upto));
        print_json(o);
        json_object_put(o);
    } else {
        printf("Wrote %s (%s, %zu bytes): case %lld as the log stood at entry %lld.\n", path, format, d->len,
               (long long)case_id, (long long)d->upto);
        printf("It holds decrypted notices and screenshots: keep it as safe as the log.\n");
    }
    return 0;
}

static int cmd_export(int64_t case_id, const char *format, const char *path, int force)
{
    json_object *rep = NULL;
    export_doc d = {NULL, 0, 0, 0, 0, ""};
    int replace = 0, rc;
    bt_err err;
    if (case_id <= 0 || format == NULL || path == NULL || bt_export_format_parse(format) < 0) {
        fprintf(stderr, "bantrail: export needs --case N, --format html|json and -o FILE\n");
        return 2;
    }
    if (export_target(path, force, &replace) != 0) return 2;
    if ((err = unlock_if_needed(&rep)) != BT_OK) return finish(rep, err);
    rc = export_fetch(case_id, format, &d);
    if (rc == 0) rc = export_save(&d, case_id, format, path, replace);
    bt_export_free(d.doc, d.size + 1);
    return rc;
}

/* ---- sharing with a union ---- */

typedef struct {
    const char *union_id, *account_type, *paid, *country;
    int64_t case_id;
} share_opts;

static json_object *share_params(const share_opts *o)
{
    json_object *p = json_object_new_object(), *ctx = json_object_new_object();
    json_object_object_add(p, "case", json_object_new_int64(o->case_id));
    json_object_object_add(p, "union", json_object_new_string(o->union_id ? o->union_id : "demo"));
    if (o->account_type) json_object_object_add(ctx, "account_type", json_object_new_string(o->account_type));
    if (o->paid) json_object_object_add(ctx, "paid_verification", json_object_new_boolean(!strcmp(o->paid, "yes")));
    if (o->country) json_object_object_add(ctx, "country", json_object_new_string(o->country));
    json_object_object_add(p, "context", ctx);
    return p;
}

static void print_preview(json_object *res)
{
    json_object *words = json_object_object_get(res, "words"), *u = json_object_object_get(res, "union");
    printf("Report for ");
    print_clean(str(u, "name") ? str(u, "name") : "?", 0);
    printf(" (");
    print_clean(str(u, "policy_url") ? str(u, "policy_url") : "", 0);
    printf(")\n\n");
    for (size_t i = 0; i < json_object_array_length(words); i++) {
        printf("  ");
        print_clean(json_object_get_string(json_object_array_get_idx(words, i)), 0);
        putchar('\n');
    }
    json_object *tok = json_object_object_get(res, "token");
    if (tok != NULL && json_object_get_boolean(tok))
        printf("\nIt spends one of your membership tokens for this union (%lld left, this one included):\n"
               "the union counts it and cannot tell which member sent it.\n", (long long)num(u, "tokens_left"));
    else if (tok != NULL)
        printf("\nYou have no membership token left for this union: %s.\n",
               str(u, "tokens") && !strcmp(str(u, "tokens"), "required")
                   ? "it will not take the report (bantrail union tokens asks it for some)"
                   : "it will keep the report but not count it in its figures (bantrail union tokens)");
    printf("\nExactly what is sent (sealed so that only the union can read it):\n");
    print_clean(str(res, "json") ? str(res, "json") : "", 0);
    putchar('\n');
}

/* An answer's body, kept up to a cap (the collector's are under 300 bytes, but
 * for 100 membership tokens, about 15 KiB). */
typedef struct {
    char text[24 * 1024];
    size_t len;
} answer_body;

static size_t keep_body(char *p, size_t size, size_t n, void *ctx)
{
    answer_body *b = ctx;
    size_t take = size * n < sizeof b->text - 1 - b->len ? size * n : sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, p, take);
    b->len += take;
    b->text[b->len] = '\0';
    return size * n;
}

/* What one POST got: the HTTP status (0: no answer, why says why), the
 * answer's Retry-After in seconds (0: none) and its JSON error, if any. */
typedef struct {
    long status;
    const char *why;
    int64_t retry_after;
    char code[41];
    int64_t difficulty; /* insufficient_work's, else -1 */
} http_answer;

/* The collector's {"error": {"code", "difficulty"?}} from a refusal's body. */
static void read_error(http_answer *a, const answer_body *b)
{
    json_object *o = NULL, *e = NULL;
    a->difficulty = -1;
    if (a->status < 400 || bt_json_parse(b->text, b->len, 4, &o) != BT_OK) return;
    const char *code = json_object_object_get_ex(o, "error", &e) ? bt_json_str(e, "code") : NULL;
    if (code != NULL && strlen(code) < sizeof a->code && strspn(code, "abcdefghijklmnopqrstuvwxyz_") == strlen(code))
        strcpy(a->code, code);
    if (e != NULL) a->difficulty = bt_json_int_or(e, "difficulty", -1);
    json_object_put(o);
}

/* POSTs data (of type) to url: no cookies, no referrer, nothing but data; a
 * redirect is not followed. The answer's body is kept in *body. */
static void post(const char *url, const char *data, const char *type, http_answer *a, answer_body *body)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    curl_off_t retry_after = 0;
    memset(a, 0, sizeof *a);
    body->len = 0;
    body->text[0] = '\0';
    a->why = "cannot start HTTP";
    if (h == NULL) return;
    hdr = curl_slist_append(hdr, type);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Bantrail");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)BT_SEND_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
            a->retry_after = (int64_t)retry_after;
        read_error(a, body);
    } else {
        a->why = curl_easy_strerror(rc);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

/* POSTs a sealed report (or withdrawal) wire to url. */
static void post_report(const char *url, const char *wire, http_answer *a)
{
    static answer_body body;
    post(url, wire, "Content-Type: text/plain", a, &body);
}

static bt_err mark(int64_t id, const char *state, const char *detail)
{
    bt_err err;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    json_object_object_add(p, "state", json_object_new_string(state));
    if (detail) json_object_object_add(p, "detail", json_object_new_string(detail));
    json_object_put(call("report_mark", p, &err));
    return err;
}

/* The random delay before a first send (bantrail/send.h), waited here:
 * the CLI is no resident sender, so it waits in the foreground. */
static void first_delay(int64_t id)
{
    unsigned wait = BT_SEND_DELAY_MIN + randombytes_uniform(BT_SEND_DELAY_MAX - BT_SEND_DELAY_MIN + 1);
    fprintf(stderr,
            "bantrail: sending report %lld in %u s (a random delay, so that when the union receives it says\n"
            "nothing of when you confirmed it; --now sends at once). Interrupted, it stays in the outbox:\n"
            "bantrail report send --id %lld sends it.\n",
            (long long)id, wait, (long long)id);
    while (wait > 0) wait = sleep(wait);
}

/* Makes one try at sending outbox report id (after the random delay unless
 * now) and records its outcome by the sending policy (bantrail/send.h,
 * docs/REPORT.md "Sending"): sent; failed for good; or try again later,
 * recorded as failed with when, since the CLI tries only when it is run. */
static int send_queued(int64_t id, int now)
{
    bt_err err;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    json_object *rep = call("report_get", p, &err), *res = result_of(rep);
    if (err != BT_OK) return finish(rep, err);
    const char *url = str(res, "submit_url"), *wire = str(res, "wire"), *state = str(res, "state");
    if (state != NULL && !strcmp(state, "withdrawn")) {
        fprintf(stderr, "bantrail: report %lld was withdrawn; it is not sent\n", (long long)id);
        json_object_put(rep);
        return 1;
    }
    int tries = (int)num(res, "attempts") + 1;
    if (!now) first_delay(id);
    http_answer a;
    post_report(url, wire, &a);
    json_object_put(rep);
    const bt_send_answer *row = bt_send_classify(a.status, a.code[0] ? a.code : NULL);
    char detail[BT_SEND_DETAIL_MAX + 1], what[120];
    int64_t wait = row->outcome == BT_SEND_RETRY ? bt_send_retry_wait(tries, a.retry_after, randombytes_uniform(1000) / 1000.0) : 0;
    if (a.status == 0) snprintf(what, sizeof what, "network: %s", a.why);
    else if (a.difficulty >= 0) snprintf(what, sizeof what, "HTTP %ld %s (difficulty %lld)", a.status, a.code, (long long)a.difficulty);
    else snprintf(what, sizeof what, "HTTP %ld%s%s", a.status, a.code[0] ? " " : "", a.code);
    int n = snprintf(detail, sizeof detail, "%s%s%s", what, row->say ? ": " : "", row->say ? row->say : "");
    if (wait > 0 && n >= 0 && (size_t)n < sizeof detail)
        snprintf(detail + n, sizeof detail - (size_t)n, "; try %d, try again in %lld s", tries, (long long)wait);
    int sent = row->outcome == BT_SEND_SENT;
    if ((err = mark(id, sent ? "sent" : "failed", detail)) != BT_OK) return exit_for(err);
    if (opt_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int64(id));
        json_object_object_add(o, "state", json_object_new_string(sent ? "sent" : "failed"));
        json_object_object_add(o, "detail", json_object_new_string(a.status == 0 ? "network" : "http"));
        json_object_object_add(o, "outcome", json_object_new_string(bt_send_outcome_name(row->outcome)));
        json_object_object_add(o, "status", json_object_new_int64(a.status));
        json_object_object_add(o, "code", a.code[0] ? json_object_new_string(a.code) : NULL);
        json_object_object_add(o, "retry_in", wait > 0 ? json_object_new_int64(wait) : NULL);
        print_json(o);
        json_object_put(o);
    } else if (sent) {
        printf("Sent (%s).\n", detail);
    } else {
        printf("Not sent: ");
        print_clean(detail, 0);
        if (row->outcome == BT_SEND_RETRY)
            printf(".\nIt stays in the outbox: bantrail report send --id %lld tries again (not before %lld s).\n",
                   (long long)id, (long long)wait);
        else
            printf(".\nIt stays in the outbox as failed: bantrail report save --id %lld keeps the sealed report.\n",
                   (long long)id);
    }
    return sent ? 0 : 1;
}

/* Asks yes/no on the terminal; 0 when there is none. */
static int confirm(const char *question)
{
    FILE *tty = fopen("/dev/tty", "r+");
    char answer[8] = "";
    if (tty == NULL) return 0;
    fputs(question, tty);
    fflush(tty);
    int yes = fgets(answer, sizeof answer, tty) != NULL && (answer[0] == 'y' || answer[0] == 'Y');
    fclose(tty);
    return yes;
}

static int cmd_report_list(void)
{
    bt_err err;
    json_object *rep = unlocked_call("report_list", NULL, &err);
    if (err != BT_OK) return finish(rep, err);
    json_object *items = json_object_object_get(result_of(rep), "reports");
    if (opt_json) print_json(result_of(rep));
    else if (json_object_array_length(items) == 0) printf("The outbox is empty.\n");
    for (size_t i = 0; !opt_json && i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        printf("%6lld  case %-5lld %-10s ", (long long)num(it, "id"), (long long)num(it, "case"), str(it, "state"));
        print_clean(str(it, "union") ? str(it, "union") : "", 0);
        if (str(it, "detail")) { printf("  ("); print_clean(str(it, "detail"), 0); printf(")"); }
        putchar('\n');
    }
    return finish(rep, err);
}

/* Withdraws outbox report id: one never tried is only marked withdrawn (it
 * is never sent); one the union may have is withdrawn there too, with the
 * withdrawal signed by the report's key (report_withdrawal), then marked. A
 * sent one stays sent until the union takes the withdrawal; one whose tries
 * all failed is marked withdrawn (never tried again) whatever the union says. */
static int withdraw(int64_t id)
{
    bt_err err;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    json_object *rep = call("report_get", p, &err);
    if (err != BT_OK) return finish(rep, err);
    const char *state = str(result_of(rep), "state");
    int sent = state != NULL && !strcmp(state, "sent"), tried = sent || (state != NULL && !strcmp(state, "failed"));
    if (state != NULL && !strcmp(state, "withdrawn")) {
        fprintf(stderr, "bantrail: report %lld was withdrawn already\n", (long long)id);
        json_object_put(rep);
        return 1;
    }
    json_object_put(rep);
    const char *detail = "never sent";
    if (tried) {
        http_answer a;
        p = json_object_new_object();
        json_object_object_add(p, "id", json_object_new_int64(id));
        rep = call("report_withdrawal", p, &err);
        if (err != BT_OK) return finish(rep, err);
        post_report(str(result_of(rep), "submit_url"), str(result_of(rep), "wire"), &a);
        json_object_put(rep);
        /* 202: removed from the union's figures; 404: the union never had it */
        if (a.status == 202) detail = "withdrawn at the union";
        else if (a.status == 404 && !strcmp(a.code, "not_found")) detail = "the union never received it";
        else if (!sent) detail = "never acknowledged by the union; its withdrawal could not be sent";
        else {
            fprintf(stderr, "bantrail: the union did not take the withdrawal (%s%ld %s); report %lld stays as it was: "
                            "try again later\n", a.status ? "HTTP " : "no answer: ", a.status, a.status ? a.code : a.why,
                    (long long)id);
            return 1;
        }
    }
    if ((err = mark(id, "withdrawn", detail)) != BT_OK) return exit_for(err);
    if (opt_json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_int64(id));
        json_object_object_add(o, "state", json_object_new_string("withdrawn"));
        json_object_object_add(o, "detail", json_object_new_string(detail));
        print_json(o);
        json_object_put(o);
    } else if (tried) {
        printf("Withdrawn: report %lld (%s).\n", (long long)id, detail);
    } else {
        printf("Withdrawn: report %lld will not be sent.\n", (long long)id);
    }
    return 0;
}

/* report send --id, report withdraw and report save: one outbox report. */
static int cmd_report_one(const char *sub, int64_t id, const char *out_path)
{
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    if (!strcmp(sub, "send")) return send_queued(id, 1); /* the person asks: now */
    if (!strcmp(sub, "withdraw")) return withdraw(id);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    rep = call("report_get", p, &err);
    if (err != BT_OK) return finish(rep, err);
    const char *wire = str(result_of(rep), "wire");
    int fd = out_path ? open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
    int ok = fd >= 0 && write(fd, wire, strlen(wire)) == (ssize_t)strlen(wire) && write(fd, "\n", 1) == 1;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    json_object_put(rep);
    if (!ok) {
        fprintf(stderr, "bantrail: cannot write %s (give -o FILE; it is never overwritten)\n", out_path ? out_path : "-");
        return 2;
    }
    printf("Saved the sealed report to %s: upload it by hand (for example with Tor Browser) to the union.\n", out_path);
    return 0;
}

/* report preview, and report send of a case: shows the report; send then
 * asks (unless yes), queues it and sends it. */
static int cmd_report_case(int send, const share_opts *o, int yes, int now)
{
    json_object *res;
    bt_err err;
    json_object *rep = unlocked_call("report_preview", share_params(o), &err);
    if (err != BT_OK) return finish(rep, err);
    res = result_of(rep);
    if (!send) {
        if (opt_json) print_json(res);
        else print_preview(res);
        return finish(rep, err);
    }
    if (!opt_json) print_preview(res);
    if (!yes && !confirm("\nSend this report? [y/N] ")) {
        printf("Nothing sent.\n");
        json_object_put(rep);
        return 1;
    }
    json_object *p = share_params(o);
    json_object_object_add(p, "confirm", json_object_new_boolean(1));
    json_object_object_add(p, "json", json_object_new_string(str(res, "json")));
    json_object_put(rep);
    rep = call("report_queue", p, &err);
    if (err != BT_OK) return finish(rep, err);
    int64_t id = num(result_of(rep), "id");
    json_object_put(rep);
    return send_queued(id, now);
}

static int cmd_union_list(void)
{
    bt_err err;
    json_object *rep = unlocked_call("unions", NULL, &err);
    if (err != BT_OK) return finish(rep, err);
    json_object *arr = json_object_object_get(result_of(rep), "unions");
    if (opt_json) print_json(result_of(rep));
    for (size_t i = 0; !opt_json && i < json_object_array_length(arr); i++) {
        json_object *u = json_object_array_get_idx(arr, i);
        print_clean(str(u, "id"), 0);
        printf("  ");
        print_clean(str(u, "name"), 0);
        printf("\n    key %s, sends to ", str(u, "key_id"));
        print_clean(str(u, "submit_url"), 0);
        if (str(u, "tokens") != NULL)
            printf("\n    membership tokens %s: %lld left", !strcmp(str(u, "tokens"), "required") ? "required" : "counted",
                   (long long)num(u, "tokens_left"));
        putchar('\n');
    }
    return finish(rep, err);
}

static int cmd_union_import(const char *file)
{
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *entry = json_object_from_file(file);
    if (entry == NULL) {
        fprintf(stderr, "bantrail: cannot read a union entry (JSON) from %s\n", file);
        return 2;
    }
    json_object *p = json_object_new_object();
    json_object_object_add(p, "entry", entry);
    rep = call("union_import", p, &err);
    if (err == BT_OK && !opt_json) printf("Pinned union %s: its key is kept; a new key needs a new import.\n",
                                          str(result_of(rep), "id"));
    else if (err == BT_OK) print_json(result_of(rep));
    return finish(rep, err);
}

/* union tokens: asks the union for count membership tokens with the invite
 * code it gave the person (read like a passphrase: never an argument),
 * blinded by the host, checks its proofs and keeps them in the log
 * (docs/REPORT.md section 5). */
static int cmd_union_tokens(const char *union_id, int64_t count)
{
    static answer_body body;
    json_object *rep = NULL, *ans = NULL, *e = NULL, *ev = NULL, *pr = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "union", json_object_new_string(union_id));
    json_object_object_add(p, "count", json_object_new_int64(count));
    rep = call("token_request", p, &err);
    if (err != BT_OK) return finish(rep, err);
    json_object *res = result_of(rep);
    int64_t request = num(res, "request");
    char *code = read_secret("Invite code from your union: ");
    if (code == NULL) {
        json_object_put(rep);
        return 2;
    }
    /* {"invite": code, "blinded": [...]}: the code only ever goes to the union */
    json_object *q = json_object_new_object();
    json_object_object_add(q, "invite", json_object_new_string(code));
    json_object_object_add(q, "blinded", json_object_get(json_object_object_get(res, "blinded")));
    sodium_free(code);
    char *text = strdup(json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
    json_object_put(q);
    http_answer a;
    if (text != NULL) post(str(res, "token_url"), text, "Content-Type: application/json", &a, &body);
    if (text != NULL) sodium_memzero(text, strlen(text));
    free(text);
    json_object_put(rep);
    if (text == NULL) return 2;
    if (a.status != 200) {
        if (a.status == 0) fprintf(stderr, "bantrail: no answer from the union: %s\n", a.why);
        else {
            const char *msg = NULL;
            if (bt_json_parse(body.text, body.len, 4, &ans) == BT_OK && json_object_object_get_ex(ans, "error", &e))
                msg = bt_json_str(e, "message");
            fprintf(stderr, "bantrail: the union refused: HTTP %ld %s: ", a.status, a.code);
            print_clean(msg ? msg : "", 0);
            fputc('\n', stderr);
            json_object_put(ans);
        }
        return 1;
    }
    if (bt_json_parse(body.text, body.len, 4, &ans) != BT_OK || !json_object_object_get_ex(ans, "evaluated", &ev) ||
        !json_object_object_get_ex(ans, "proofs", &pr)) {
        json_object_put(ans);
        fprintf(stderr, "bantrail: the union's answer is not tokens\n");
        return 1;
    }
    p = json_object_new_object();
    json_object_object_add(p, "request", json_object_new_int64(request));
    json_object_object_add(p, "evaluated", json_object_get(ev));
    json_object_object_add(p, "proofs", json_object_get(pr));
    json_object_put(ans);
    rep = call("token_finish", p, &err);
    if (err == BT_OK && opt_json) print_json(result_of(rep));
    if (err == BT_OK && !opt_json) {
        printf("Kept %lld membership tokens for ", (long long)num(result_of(rep), "added"));
        print_clean(union_id, 0);
        printf(" in the log (%lld not spent yet). Each report you send it spends one; the union cannot tell whose.\n",
               (long long)num(result_of(rep), "tokens_left"));
    }
    return finish(rep, err);
}

/* ---- each command's handler: from what it was given to its cmd_* ---- */

/* A number among a command's arguments (a record, a case), or -1 after
 * saying it is not one. */
static int64_t number_arg(const cli_args *a, int i, const char *what)
{
    int64_t x;
    if (parse_id(a->pos[i], &x) == 0) return x;
    usage_error(a, "%s must be a number, not '%s'", what, a->pos[i]);
    return -1;
}

static int run_status(const cli_args *a)
{
    return cmd_status(a->dir);
}

static int run_passphrase(const cli_args *a)
{
    bt_kdf_params kdf = bt_kdf_default();
    int64_t ops = a->n[OPT_KDF_OPS], mem_mib = a->n[OPT_KDF_MEM];
    if (ops > 0) kdf.opslimit = (unsigned long long)ops;
    if (mem_mib > 0) kdf.memlimit = (size_t)mem_mib << 20;
    return cmd_passphrase((int)a->n[OPT_RECOVERY], ops > 0 || mem_mib > 0 ? &kdf : NULL);
}

static int run_rotate(const cli_args *a)
{
    (void)a;
    return cmd_rotate();
}

static int run_recovery_code(const cli_args *a)
{
    (void)a;
    return cmd_recovery_code();
}

static int run_list(const cli_args *a)
{
    return cmd_list(a->n[OPT_AFTER], a->n[OPT_LIMIT]);
}

static int run_show(const cli_args *a)
{
    int64_t id = number_arg(a, 0, "ID");
    return id < 0 ? 2 : cmd_show(id, a->text[OPT_OUT]);
}

typedef struct {
    const char *dir;
    int minutes;
    int64_t waiting; /* sealed captures the session's unlock could not store, and why */
    bt_err waiting_err;
} session_try;

static bt_err try_session(const char *pass, void *ctx)
{
    session_try *t = ctx;
    return bt_session_start(t->dir, pass, strlen(pass), t->minutes, &t->waiting, &t->waiting_err);
}

/* unlock: starts the session (session.h) for --minutes of idle time. */
static int run_unlock(const cli_args *a)
{
    int minutes = a->n[OPT_MINUTES] > 0 ? (int)a->n[OPT_MINUTES] : 5;
    if (minutes > BT_SESSION_MINUTES_MAX) return usage_error(a, "--minutes: at most %d", BT_SESSION_MINUTES_MAX);
    int fd = bt_session_connect(a->dir);
    if (fd >= 0) {
        close(fd);
        printf("Already unlocked: 'bantrail lock' locks it now.\n");
        return 0;
    }
    session_try t = {a->dir, minutes, 0, BT_OK};
    bt_err err = with_passphrase(try_session, &t);
    if (err == BT_ERR_BAD_PARAMS) return 2; /* nothing to read the passphrase from (said already) */
    if (err == BT_ERR_NOT_FOUND) {
        printf("The log has no passphrase yet: there is nothing to unlock ('bantrail passphrase' sets one).\n");
        return 1;
    }
    if (err != BT_OK) {
        fprintf(stderr, "bantrail: %s\n", bt_err_message(err));
        return exit_for(err);
    }
    printf("Unlocked: commands need no passphrase until %d minute%s pass without one, or 'bantrail lock'.\n",
           minutes, minutes == 1 ? "" : "s");
    say_waiting(t.waiting, t.waiting_err);
    return 0;
}

/* lock: ends the session, which locks the log. */
static int run_lock(const cli_args *a)
{
    if ((session_fd = bt_session_connect(a->dir)) < 0) {
        printf("No unlocked session: the log is locked.\n");
        return 0;
    }
    bt_err err;
    json_object *rep = call("lock", NULL, &err);
    if (err != BT_OK) return finish(rep, err);
    json_object_put(rep);
    printf("Locked.\n");
    return 0;
}

static int run_verify(const cli_args *a)
{
    const char *e = a->text[OPT_EXPECT], *colon = e != NULL ? strchr(e, ':') : NULL;
    char *end = NULL;
    if (e == NULL) return cmd_verify(0, NULL);
    long long at = colon != NULL && colon > e ? strtoll(e, &end, 10) : 0;
    if (colon == NULL || end != colon || at < 1 || strlen(colon + 1) != 2 * BT_HASH_BYTES ||
        strspn(colon + 1, "0123456789abcdefABCDEF") != 2 * BT_HASH_BYTES)
        return usage_error(a, "--expect ID:HEAD: an entry number, a colon and its 64 hex digits chain head");
    return cmd_verify(at, colon + 1);
}

static int run_recover(const cli_args *a)
{
    return cmd_recover(a->dir);
}

static int run_capture(const cli_args *a)
{
    if (a->text[OPT_URL] == NULL) return usage_error(a, "capture needs --url URL");
    return cmd_capture(a->text[OPT_URL], a->text[OPT_TITLE], a->text[OPT_LANG], (int)a->n[OPT_MANUAL]);
}

static int run_demo(const cli_args *a)
{
    (void)a;
    return cmd_demo();
}

static int run_classify(const cli_args *a)
{
    return cmd_classify(a->text[OPT_URL], a->text[OPT_TITLE], a->text[OPT_LANG]);
}

static int run_install(const cli_args *a)
{
    if (a->n[OPT_SYSTEM] && a->text[OPT_UDD] != NULL) return usage_error(a, "--system or --user-data-dir, not both");
    return cmd_install(a->text[OPT_BROWSER], a->n[OPT_SYSTEM] ? bt_install_system : a->text[OPT_UDD],
                       strcmp(a->cmd->name, "uninstall") == 0);
}

static int run_doctor(const cli_args *a)
{
    return cmd_doctor(a->text[OPT_UDD]);
}

static int run_case_list(const cli_args *a)
{
    (void)a;
    return cmd_case_list();
}

static int run_case_show(const cli_args *a)
{
    int64_t id = number_arg(a, 0, "N");
    return id < 0 ? 2 : cmd_case_show(id);
}

static int run_case_merge(const cli_args *a)
{
    int64_t x = number_arg(a, 0, "A"), y = x < 0 ? -1 : number_arg(a, 1, "B");
    return y < 0 ? 2 : cmd_case_merge(x, y);
}

static int run_case_split(const cli_args *a)
{
    int64_t record = number_arg(a, 0, "RECORD");
    return record < 0 ? 2 : cmd_case_split(record);
}

static int run_event_add(const cli_args *a)
{
    return cmd_event_add(a->n[OPT_CASE], a->text[OPT_PLATFORM], a->text[OPT_HANDLE], a->text[OPT_EVENT],
                         a->text[OPT_OUTCOME], a->text[OPT_AT], a->text[OPT_NOTE]);
}

static int run_export(const cli_args *a)
{
    return cmd_export(a->n[OPT_CASE], a->text[OPT_FORMAT], a->text[OPT_OUT], (int)a->n[OPT_FORCE]);
}

static int run_union_list(const cli_args *a)
{
    (void)a;
    return cmd_union_list();
}

static int run_union_import(const cli_args *a)
{
    return cmd_union_import(a->pos[0]);
}

static int run_report_list(const cli_args *a)
{
    (void)a;
    return cmd_report_list();
}

static int run_union_tokens(const cli_args *a)
{
    if (a->text[OPT_UNION] == NULL) return usage_error(a, "union tokens needs --union ID");
    return cmd_union_tokens(a->text[OPT_UNION], a->n[OPT_NTOKENS] > 0 ? a->n[OPT_NTOKENS] : 10);
}

/* report preview and report send: a case's report, or (send) an outbox one. */
static int run_report_case(const cli_args *a)
{
    share_opts o = {a->text[OPT_UNION], a->text[OPT_ACCOUNT_TYPE], a->text[OPT_PAID], a->text[OPT_COUNTRY],
                    a->n[OPT_CASE]};
    int send = strcmp(a->cmd->name, "report send") == 0;
    if (send && a->n[OPT_ID] > 0) return cmd_report_one("send", a->n[OPT_ID], NULL);
    if (o.case_id <= 0) return usage_error(a, "%s needs --case N%s", a->cmd->name, send ? " or --id N" : "");
    return cmd_report_case(send, &o, (int)a->n[OPT_YES], (int)a->n[OPT_NOW]);
}

/* report save and report withdraw: one outbox report, by --id. */
static int run_report_one(const cli_args *a)
{
    if (a->n[OPT_ID] <= 0) return usage_error(a, "%s needs --id N", a->cmd->name);
    return cmd_report_one(a->cmd->name + strlen("report "), a->n[OPT_ID], a->text[OPT_OUT]);
}

/* ---- the tables: options and commands ---- */

enum { ARG_FLAG, ARG_TEXT, ARG_COUNT, ARG_ID, ARG_FD, ARG_YES_NO };

typedef struct {
    const char *name;           /* the long name, or NULL */
    char letter;                /* the short one, or 0 */
    int kind;                   /* ARG_*: what its value must be */
    const char *arg;            /* its value as help shows it, or NULL for a flag */
    const char *help;
} cli_option;

static const cli_option options[OPT_COUNT_] = {
    [OPT_AFTER] = {"after", 0, ARG_COUNT, "ID", "records after record ID (what 'More:' says)"},
    [OPT_LIMIT] = {"limit", 0, ARG_COUNT, "N", "at most N records (default 50)"},
    [OPT_URL] = {"url", 0, ARG_TEXT, "URL", "the page's address"},
    [OPT_TITLE] = {"title", 0, ARG_TEXT, "T", "the page's title"},
    [OPT_LANG] = {"lang", 0, ARG_TEXT, "L", "the page's language, as in its lang attribute (en, fr, ...)"},
    [OPT_MANUAL] = {"manual", 0, ARG_FLAG, NULL, "store the text even if the classifier says it is no notice"},
    [OPT_RECOVERY] = {"recovery", 0, ARG_FLAG, NULL, "after a lost passphrase: unlock with the recovery code"},
    [OPT_KDF_OPS] = {"kdf-ops", 0, ARG_COUNT, "N", "Argon2id passes (default: the log's own)"},
    [OPT_KDF_MEM] = {"kdf-mem-mib", 0, ARG_COUNT, "N", "Argon2id memory in MiB (default: the log's own)"},
    [OPT_BROWSER] = {"browser", 0, ARG_TEXT, "NAME",
                     "chrome, chromium, brave, edge, vivaldi, firefox or all (default: those found)"},
    [OPT_UDD] = {"user-data-dir", 0, ARG_TEXT, "DIR", "a Chromium-family browser started with this folder"},
    [OPT_SYSTEM] = {"system", 0, ARG_FLAG, NULL, "for every user of this computer (as root; what a package does)"},
    [OPT_MINUTES] = {"minutes", 0, ARG_COUNT, "N", "stay unlocked until N minutes pass without a command (default 5)"},
    [OPT_CASE] = {"case", 0, ARG_ID, "N", "the case, as 'bantrail case list' numbers it"},
    [OPT_PLATFORM] = {"platform", 0, ARG_TEXT, "P", "the platform (instagram, facebook, ...) when no case is named"},
    [OPT_HANDLE] = {"handle", 0, ARG_TEXT, "H", "the account's handle on that platform"},
    [OPT_EVENT] = {"event", 0, ARG_TEXT, "E", "what happened (see below)"},
    [OPT_OUTCOME] = {"outcome", 0, ARG_TEXT, "O", "a decision's: rejected or reinstated"},
    [OPT_AT] = {"at", 0, ARG_TEXT, "ISO8601", "when it happened (see below)"},
    [OPT_NOTE] = {"note", 0, ARG_TEXT, "TEXT", "a note kept with it"},
    [OPT_FORMAT] = {"format", 0, ARG_TEXT, "F", "html or json"},
    [OPT_OUT] = {NULL, 'o', ARG_TEXT, "FILE", "the file to write (a new one: never a link, never overwritten)"},
    [OPT_FORCE] = {"force", 0, ARG_FLAG, NULL, "replace FILE if it exists (still never through a link)"},
    [OPT_UNION] = {"union", 0, ARG_TEXT, "ID", "the union to share with, from 'bantrail union list' (default demo)"},
    [OPT_ACCOUNT_TYPE] = {"account-type", 0, ARG_TEXT, "T", "personal, business or creator"},
    [OPT_PAID] = {"paid", 0, ARG_YES_NO, "yes|no", "whether the account paid for verification"},
    [OPT_COUNTRY] = {"country", 0, ARG_TEXT, "CC", "your country, two letters (FR, DE, ...)"},
    [OPT_YES] = {"yes", 0, ARG_FLAG, NULL, "send without asking"},
    [OPT_NOW] = {"now", 0, ARG_FLAG, NULL, "send at once, without the random delay (30-300 s) before a first send"},
    [OPT_ID] = {"id", 0, ARG_ID, "N", "a report in the outbox, as 'bantrail report list' numbers it"},
    [OPT_NTOKENS] = {"count", 0, ARG_COUNT, "N", "how many membership tokens to ask for (1-100, default 10)"},
    [OPT_EXPECT] = {"expect", 0, ARG_TEXT, "ID:HEAD",
                    "the entry and chain head a writer was given (the extension's mark): the log must lead through it"},
    [OPT_JSON] = {"json", 0, ARG_FLAG, NULL, "machine output (the host's JSON result)"},
    [OPT_PASSFD] = {"passphrase-fd", 0, ARG_FD, "N",
                    "read passphrases, one a line, from file descriptor N instead of the terminal"},
    [OPT_HELP] = {"help", 'h', ARG_FLAG, NULL, "help: the commands, or one command's options"},
    [OPT_VERSION] = {"version", 0, ARG_FLAG, NULL, "bantrail's version"},
};

#define SHARE_OPTS (ONLY(OPT_CASE) | ONLY(OPT_UNION) | ONLY(OPT_ACCOUNT_TYPE) | ONLY(OPT_PAID) | ONLY(OPT_COUNTRY))

/* One row a command, in the order the overview lists them. */
static const cli_command commands[] = {
    {"status", "", 0, 0, 0, LOG_OPEN, run_status, "",
     "the log's state, counts and chain head",
     "Says whether the log is protected by a passphrase, how many entries and sessions it holds,\n"
     "whether a recovery code is set, and the chain head.",
     "bantrail status"},
    {"passphrase", "", 0, 0, ONLY(OPT_RECOVERY) | ONLY(OPT_KDF_OPS) | ONLY(OPT_KDF_MEM), LOG_OPEN, run_passphrase,
     "[--recovery]",
     "set or change the passphrase (--recovery: after a lost one)",
     "Asks the current passphrase (when there is one), then the new one twice at a terminal, once\n"
     "with --passphrase-fd. With --recovery it asks the recovery code instead of the current one.",
     "bantrail passphrase --recovery"},
    {"rotate", "", 0, 0, 0, LOG_OPEN, run_rotate, "",
     "a new key pair under the same passphrase",
     "Makes a new key pair for the log, as changing the passphrase does, keeping the passphrase:\n"
     "what is written from now on is sealed to it, so a copy of the folder, an old passphrase or a\n"
     "recovery code from before opens none of it. Older records still open. Any recovery code is\n"
     "retired: make a new one.",
     "bantrail rotate"},
    {"recovery-code", "", 0, 0, 0, LOG_OPEN, run_recovery_code, "",
     "make a recovery code (good for one reset of a lost passphrase)",
     "Shows a new recovery code once; with it, 'bantrail passphrase --recovery' sets a new\n"
     "passphrase when the old one is lost, once: the reset uses it up. The earlier code stops\n"
     "working once this one is shown.",
     "bantrail recovery-code"},
    {"unlock", "", 0, 0, ONLY(OPT_MINUTES), LOG_SESSION, run_unlock, "[--minutes N]",
     "keep the log unlocked for a few minutes",
     "Asks the passphrase once and keeps the log unlocked in a background process of yours until\n"
     "N minutes pass without a command (default 5) or 'bantrail lock': the commands in between\n"
     "ask nothing. Only your own user's programs can use it (docs/SECURITY.md).",
     "bantrail unlock --minutes 10"},
    {"lock", "", 0, 0, 0, LOG_SESSION, run_lock, "",
     "lock the log now",
     "Ends the session 'bantrail unlock' started: the log is locked again.",
     "bantrail lock"},
    {"list", "", 0, 0, ONLY(OPT_AFTER) | ONLY(OPT_LIMIT), LOG_READ, run_list, "[--after ID] [--limit N]",
     "records, newest last",
     "Lists records, oldest first: number, time (UTC), platform, kind and title.",
     "bantrail list --after 40 --limit 10"},
    {"show", "ID", 1, 1, ONLY(OPT_OUT), LOG_READ, run_show, "[-o FILE]",
     "one record; -o saves an attachment's bytes",
     "Shows record ID: its address, title, classification, attachments and text. For an\n"
     "attachment (a screenshot), -o FILE saves its bytes.",
     "bantrail show 4 -o shot.png"},
    {"verify", "", 0, 0, ONLY(OPT_EXPECT), LOG_READ, run_verify, "[--expect ID:HEAD]",
     "check the hash chain (needs no passphrase)",
     "Checks every entry's hash against the one before it. Exit 1 names the first entry that\n"
     "does not hold. With --expect, the log must also hold entry ID with chain hash HEAD (what\n"
     "the extension was given when it was written, or 'bantrail status' printed): a log cut\n"
     "short, or replaced by an older copy, does not, and exit 1 says how many entries are here.",
     "bantrail verify --expect 120:3f5a...(64 hex digits)"},
    {"recover", "", 0, 0, 0, LOG_OPEN, run_recover, "",
     "copy what is intact of a damaged log into a new one",
     "When the log is damaged (verify fails, or status says DAMAGED), nothing more is written to it.\n"
     "This copies every entry that still reads and verifies into a new log under the same\n"
     "passphrase, each under its own number, with a 'lost' entry for each one that does not, and\n"
     "entry 0 saying where it came from (the damaged file's hash, the entries kept and lost). The\n"
     "damaged file is renamed beside it, never changed or removed. On an intact log it does nothing.",
     "bantrail recover"},
    {"capture", "", 0, 0, ONLY(OPT_URL) | ONLY(OPT_TITLE) | ONLY(OPT_LANG) | ONLY(OPT_MANUAL), LOG_OPEN, run_capture,
     "--url URL [--title T] [--lang L] [--manual]",
     "store the notice text read from stdin",
     "Stores the text read from stdin (1 MiB at most) as the extension would, if the classifier\n"
     "says it is a restriction notice; --manual stores it in any case.",
     "echo \"We suspended your account.\" | bantrail capture --url https://www.instagram.com/accounts/suspended/"},
    {"demo", "", 0, 0, 0, LOG_NONE, run_demo, "",
     "run bantrail-host as a browser does, on a throwaway log",
     "Starts bantrail-host as Chromium would and captures a sample notice in a throwaway log,\n"
     "showing each request and answer. Your own log is not touched.",
     "bantrail demo"},
    {"classify", "", 0, 0, ONLY(OPT_URL) | ONLY(OPT_TITLE) | ONLY(OPT_LANG), LOG_NONE, run_classify,
     "[--url URL] [--title T] [--lang L]",
     "say whether the text on stdin is a restriction notice",
     "Runs the classifier on the text read from stdin: platform, kind, reason and facts. Needs\n"
     "no log. Exit 0 a notice, 1 not a notice. Rules: docs/RULES.md.",
     "bantrail classify --url https://www.instagram.com/accounts/suspended/ < notice.txt"},
    {"install", "", 0, 0, ONLY(OPT_BROWSER) | ONLY(OPT_UDD) | ONLY(OPT_SYSTEM), LOG_NONE, run_install,
     "[--browser NAME] [--user-data-dir DIR | --system]",
     "register the host with browsers",
     "Writes the native-host manifest (the host's path, the extension's id) into each browser's\n"
     "folder. With --user-data-dir, into that Chromium-family profile's folder. With --system (as\n"
     "root), into the folders every user's browsers read: what the Debian package does.",
     "bantrail install --browser firefox"},
    {"uninstall", "", 0, 0, ONLY(OPT_BROWSER) | ONLY(OPT_UDD) | ONLY(OPT_SYSTEM), LOG_NONE, run_install,
     "[--browser NAME] [--user-data-dir DIR | --system]",
     "remove those registrations",
     "Removes the manifests 'bantrail install' wrote.",
     "bantrail uninstall --browser all"},
    {"doctor", "", 0, 0, ONLY(OPT_UDD), LOG_NONE, run_doctor, "[--user-data-dir DIR]",
     "check each registration and that the host answers",
     "Checks each browser's registration and starts the registered host as that browser would,\n"
     "asking it hello. Exit 1 when none is registered or one has a problem.",
     "bantrail doctor"},
    {"case list", "", 0, 0, 0, LOG_READ, run_case_list, "",
     "cases with restriction to appeal, appeal to answer, time locked out",
     "Lists cases (one account's story on one platform) with their derived times: restriction\n"
     "to appeal, appeal to answer, time locked out.",
     "bantrail case list"},
    {"case show", "N", 1, 1, 0, LOG_READ, run_case_show, "",
     "case N's timeline, derived times and record hashes",
     "Shows case N: its times, its outcome, and its timeline with each record's hash.",
     "bantrail case show 1"},
    {"case merge", "A B", 2, 2, 0, LOG_OPEN, run_case_merge, "",
     "make cases A and B one (recorded in the log; nothing removed)",
     "Makes cases A and B one. The merge is a new log entry; no record is changed.",
     "bantrail case merge 1 7"},
    {"case split", "RECORD", 1, 1, 0, LOG_OPEN, run_case_split, "",
     "RECORD and its case's later records become a new case",
     "Moves RECORD and the later records of its case to a new case. The split is a new log\n"
     "entry; no record is changed.",
     "bantrail case split 9"},
    {"event add", "", 0, 0, ONLY(OPT_CASE) | ONLY(OPT_PLATFORM) | ONLY(OPT_HANDLE) | ONLY(OPT_EVENT) |
     ONLY(OPT_OUTCOME) | ONLY(OPT_AT) | ONLY(OPT_NOTE), LOG_OPEN, run_event_add,
     "(--case N | --platform P [--handle H]) --event E --at ISO8601 [--outcome O] [--note TEXT]",
     "add what Bantrail could not see, marked as entered by hand",
     "Adds an event Bantrail could not see (an appeal made in the app, a letter), marked as\n"
     "entered by hand, to case N or to the platform's matching case.",
     "bantrail event add --case 1 --event appeal_submitted --at 2026-03-03T10:05Z"},
    {"union list", "", 0, 0, 0, LOG_OPEN, run_union_list, "",
     "the unions you can share with (a demo one is built in)",
     "Lists the unions you can share reports with, their keys and where they receive.",
     "bantrail union list"},
    {"union import", "FILE", 1, 1, 0, LOG_OPEN, run_union_import, "",
     "pin a union's entry and key",
     "Imports a union's entry (the union.json it publishes) and pins its key: a new key needs\n"
     "a new import.",
     "bantrail union import union.json"},
    {"union tokens", "", 0, 0, ONLY(OPT_UNION) | ONLY(OPT_NTOKENS), LOG_OPEN, run_union_tokens, "--union ID [--count N]",
     "ask a union for membership tokens with its invite code",
     "Asks the union for N membership tokens (default 10) with the invite code it gave you, read\n"
     "from the terminal or --passphrase-fd, never from arguments. The tokens are blindly signed:\n"
     "each report you send the union spends one, and the union cannot tell which member spent it.\n"
     "They are kept in the log, never in clear; 'bantrail union list' says how many are left.",
     "bantrail union tokens --union my-union --count 20"},
    {"report preview", "", 0, 0, SHARE_OPTS, LOG_OPEN, run_report_case,
     "--case N [--union ID] [--account-type T] [--paid yes|no] [--country CC]",
     "the exact anonymous report of a case, in plain words and JSON",
     "Shows the anonymous report of case N exactly as it would be sent, in plain words and\n"
     "as JSON. Nothing is sent.",
     "bantrail report preview --case 1 --union demo --country FR"},
    {"report send", "", 0, 0, SHARE_OPTS | ONLY(OPT_YES) | ONLY(OPT_NOW) | ONLY(OPT_ID), LOG_OPEN, run_report_case,
     "--case N [--union ID] [--account-type T] [--paid yes|no] [--country CC] [--yes] [--now] | --id N",
     "confirm, seal to the union's key and send (or retry one)",
     "Shows case N's report, asks, seals it to the union's key, waits a random 30-300 s (unless\n"
     "--now) and sends it. One try: an answer that says try again later leaves it in the outbox\n"
     "with when. --id N sends (retries) a report already in the outbox, at once.",
     "bantrail report send --case 1 --union demo"},
    {"report list", "", 0, 0, 0, LOG_READ, run_report_list, "",
     "the outbox",
     "Lists the reports in the outbox and what became of each.",
     "bantrail report list"},
    {"report save", "", 0, 0, ONLY(OPT_ID) | ONLY(OPT_OUT), LOG_READ, run_report_one, "--id N -o FILE",
     "save a sealed report to upload by hand",
     "Saves outbox report N, sealed, to FILE, to upload by hand (for example with Tor Browser).",
     "bantrail report save --id 2 -o report.txt"},
    {"report withdraw", "", 0, 0, ONLY(OPT_ID), LOG_OPEN, run_report_one, "--id N",
     "withdraw a report: never send it, or take it back from the union",
     "Withdraws outbox report N. One not tried yet is never sent; one sent (or tried) is\n"
     "withdrawn at the union too, with a withdrawal only its sender can make (signed by the\n"
     "report's own key): the union removes it from its figures.",
     "bantrail report withdraw --id 2"},
    {"export", "", 0, 0, ONLY(OPT_CASE) | ONLY(OPT_FORMAT) | ONLY(OPT_OUT) | ONLY(OPT_FORCE), LOG_READ, run_export,
     "--case N --format html|json -o FILE [--force]",
     "a case as evidence for a lawyer or an ombudsman",
     "Writes case N as evidence: timeline, screenshots, hashes, chain head (docs/EVIDENCE.md).\n"
     "Never overwrites without asking (--force: replace it), never follows a symbolic link.",
     "bantrail export --case 1 --format html -o case1.html"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* ---- help ---- */

/* "--after ID", "-o FILE", "-h, --help". */
static void option_label(char *buf, size_t size, int id)
{
    const cli_option *o = &options[id];
    char l[4] = "";
    if (o->letter) snprintf(l, sizeof l, "-%c", o->letter);
    snprintf(buf, size, "%s%s%s%s%s%s", l, o->letter && o->name ? ", " : "", o->name ? "--" : "",
             o->name ? o->name : "", o->arg ? " " : "", o->arg ? o->arg : "");
}

static void print_options(FILE *f, uint64_t mask)
{
    char label[40];
    for (int id = 0; id < OPT_COUNT_; id++) {
        if (!(mask & ONLY(id))) continue;
        option_label(label, sizeof label, id);
        fprintf(f, "  %-22s %s\n", label, options[id].help);
    }
}

/* The command, its arguments and its options, as its usage line shows them. */
static void print_synopsis(FILE *f, const cli_command *c)
{
    fprintf(f, "%s%s%s%s%s", c->name, *c->args ? " " : "", c->args, *c->usage ? " " : "", c->usage);
}

/* One line of the overview: the command, its arguments, its summary. */
static void print_summary(FILE *f, const cli_command *c)
{
    char name[32];
    snprintf(name, sizeof name, "%s%s%s", c->name, *c->args ? " " : "", c->args);
    fprintf(f, "  %-19s %s\n", name, c->summary);
}

static void print_overview(FILE *f)
{
    fprintf(f, "Usage: bantrail [--json] [--passphrase-fd N] COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) print_summary(f, &commands[i]);
    fprintf(f, "\nOptions:\n");
    print_options(f, GLOBAL_OPTS);
    fprintf(f, "\nbantrail COMMAND --help (or bantrail help COMMAND) shows a command's options and an example.\n"
               "The log lives in $BANTRAIL_HOME, or $XDG_DATA_HOME/bantrail, or\n"
               "~/.local/share/bantrail. Exit: 0 success, 1 negative answer, 2 error.\n");
}

static void print_command_help(FILE *f, const cli_command *c)
{
    fprintf(f, "Usage: bantrail [--json]%s ", c->opens_log ? " [--passphrase-fd N]" : "");
    print_synopsis(f, c);
    fprintf(f, "\n\n%s\n", c->about);
    if (c->opts != 0) {
        fprintf(f, "\nOptions:\n");
        print_options(f, c->opts);
    }
    if (c->opts & ONLY(OPT_EVENT)) {
        fputc('\n', f);
        event_add_hint(f);
    }
    fprintf(f, "\nGlobal options:\n");
    print_options(f, GLOBAL_OPTS & ~ONLY(OPT_VERSION));
    fprintf(f, "\nExample:\n  %s\n", c->example);
}

/* 1 when command c belongs to group (its first word), like "case show" to "case". */
static int in_group(const cli_command *c, const char *group)
{
    size_t n = strlen(group);
    return strncmp(c->name, group, n) == 0 && c->name[n] == ' ';
}

static void print_group_help(FILE *f, const char *group)
{
    fprintf(f, "Usage: bantrail [--json] [--passphrase-fd N] %s COMMAND [ARGS]\n\nCommands:\n", group);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (in_group(&commands[i], group)) print_summary(f, &commands[i]);
    fprintf(f, "\nbantrail %s COMMAND --help shows a command's options and an example.\n", group);
}

/* A usage error: what is wrong, the command's usage, where to read more. */
static int usage_error(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fputs("bantrail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nUsage: bantrail ", stderr);
    print_synopsis(stderr, a->cmd);
    fprintf(stderr, "\nsee bantrail %s --help\n", a->cmd->name);
    return 2;
}

/* ---- finding the command ---- */

/* Edit distance (insert, delete, replace, swap two neighbours), for "did you
 * mean": names are short, so a long word is simply far from all. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    int d[24][24];
    if (n >= 24 || m >= 24) return 99;
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

/* The command named w0 (and w1 for a group's); NULL if none. */
static const cli_command *find_command(const char *w0, const char *w1)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const cli_command *c = &commands[i];
        if (strcmp(c->name, w0) == 0 || (w1 != NULL && in_group(c, w0) && strcmp(c->name + strlen(w0) + 1, w1) == 0))
            return c;
    }
    return NULL;
}

static int is_group(const char *w0)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (in_group(&commands[i], w0)) return 1;
    return 0;
}

/* Says that w0 (or, in group w0, w1) names no command, and the nearest one
 * within two edits if there is one; not the whole help. Exit 2. */
static int unknown_command(const char *w0, const char *w1)
{
    const char *word = w1 != NULL ? w1 : w0, *best = w1 == NULL ? "help" : NULL;
    int best_d = w1 == NULL ? distance(word, "help") : 3, best_len = 4;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *cand = commands[i].name;
        char buf[32];
        if (w1 != NULL && !in_group(&commands[i], w0)) continue;
        if (w1 != NULL) cand += strlen(w0) + 1;
        snprintf(buf, sizeof buf, "%.*s", (int)strcspn(cand, " "), cand); /* a group by its first word */
        int d = distance(word, buf);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
            best_len = (int)(w1 != NULL ? strlen(best) : strlen(buf));
        }
    }
    fprintf(stderr, "bantrail: unknown command '%s%s%s'", w0, w1 ? " " : "", w1 ? w1 : "");
    if (best != NULL && best_d <= 2) fprintf(stderr, "; did you mean '%.*s'?", best_len, best);
    fprintf(stderr, "\nsee bantrail %s%s--help\n", w1 ? w0 : "", w1 ? " " : "");
    return 2;
}

/* ---- reading the options ---- */

#define LONG_BASE 256 /* getopt's value for a long option: LONG_BASE + its index */

/* getopt_long's tables for the options in mask. A leading '-' returns each
 * argument in place (as 1), so options may come before or after the
 * command's name, as they always could; ':' tells a missing value apart. */
static void build_table(uint64_t mask, struct option longs[OPT_COUNT_ + 1], char shorts[8])
{
    int n = 0;
    strcpy(shorts, "-:");
    for (int id = 0; id < OPT_COUNT_; id++) {
        if (!(mask & ONLY(id))) continue;
        if (options[id].letter) {
            size_t k = strlen(shorts);
            shorts[k] = options[id].letter;
            strcpy(shorts + k + 1, options[id].arg ? ":" : "");
        }
        if (options[id].name)
            longs[n++] = (struct option){options[id].name, options[id].arg ? required_argument : no_argument, NULL,
                                         LONG_BASE + id};
    }
    longs[n] = (struct option){NULL, 0, NULL, 0};
}

/* The first three arguments that are not options: the command's words.
 * Read with every option known, so that no option's value is taken for one. */
static void first_words(int argc, char **argv, const char *w[3])
{
    struct option longs[OPT_COUNT_ + 1];
    char shorts[8];
    int n = 0, c;
    build_table(~(uint64_t)0, longs, shorts);
    optind = 0; /* starts getopt afresh */
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1)
        if (c == 1 && n < 3) w[n++] = optarg;
    for (int i = optind; i < argc && n < 3; i++) w[n++] = argv[i]; /* after "--" */
}

/* The option getopt refused (argv[optind - 1] for a long one), as typed. */
static void refused_option(char *buf, size_t size, char **argv)
{
    if (optopt > 0 && optopt < LONG_BASE) snprintf(buf, size, "-%c", optopt);
    else snprintf(buf, size, "%.*s", (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
}

/* Explains why getopt refused an option (c is '?' or ':'), naming the
 * option and the command (who; NULL before any), and the commands that do
 * take it. Exit 2. */
static int option_error(int c, char **argv, const char *who)
{
    char opt[64], owners[256] = "";
    refused_option(opt, sizeof opt, argv);
    if (c == ':' || optopt >= LONG_BASE) {
        fprintf(stderr, "bantrail: %s %s\n", opt, c == ':' ? "needs a value" : "takes no value");
    } else {
        for (int id = 0; id < OPT_COUNT_ && owners[0] == '\0'; id++) {
            int same = opt[1] == '-' ? options[id].name && !strcmp(opt + 2, options[id].name)
                                     : options[id].letter == opt[1] && opt[2] == '\0';
            for (size_t i = 0; same && i < N_COMMANDS; i++)
                if (commands[i].opts & ONLY(id))
                    snprintf(owners + strlen(owners), sizeof owners - strlen(owners), "%s%s",
                             owners[0] ? ", " : "", commands[i].name);
        }
        if (owners[0] != '\0' && who != NULL)
            fprintf(stderr, "bantrail: %s does not take %s (it is an option of %s)\n", who, opt, owners);
        else if (owners[0] != '\0') fprintf(stderr, "bantrail: %s is an option of %s\n", opt, owners);
        else fprintf(stderr, "bantrail: unknown option %s%s%s\n", opt, who ? " for " : "", who ? who : "");
    }
    fprintf(stderr, "see bantrail %s%s--help\n", who ? who : "", who ? " " : "");
    return 2;
}

/* Keeps option id's value, checked by its kind; 2 after an error. */
static int set_value(cli_args *a, int id, const char *arg, const char *who)
{
    const cli_option *o = &options[id];
    int64_t x = 1;
    int ok = 1;
    a->text[id] = arg;
    if (o->kind == ARG_YES_NO) ok = !strcmp(arg, "yes") || !strcmp(arg, "no");
    else if (o->kind != ARG_FLAG && o->kind != ARG_TEXT)
        ok = parse_id(arg, &x) == 0 && (o->kind != ARG_ID || x > 0) && (o->kind != ARG_FD || x <= 1024);
    if (!ok) {
        fprintf(stderr, "bantrail: --%s: '%s' will not do (%s)\nsee bantrail %s%s--help\n", o->name, arg,
                o->kind == ARG_YES_NO ? "yes or no" : o->kind == ARG_ID ? "a number from 1" : "a number",
                who ? who : "", who ? " " : "");
        return 2;
    }
    if (o->kind != ARG_TEXT && o->kind != ARG_YES_NO) a->n[id] = x;
    return 0;
}

/* Reads the options command c takes (none but the global ones when c is
 * NULL) and the arguments, in order, into a; 2 after an error. */
static int read_options(int argc, char **argv, cli_args *a, const cli_command *c, const char *who)
{
    struct option longs[OPT_COUNT_ + 1];
    char shorts[8];
    int ch;
    build_table(GLOBAL_OPTS | (c ? c->opts : 0), longs, shorts);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (ch == 1) {
            if (a->npos < MAX_WORDS) a->pos[a->npos] = optarg;
            a->npos++;
            continue;
        }
        if (ch == '?' || ch == ':') return option_error(ch, argv, who);
        int id = ch >= LONG_BASE ? ch - LONG_BASE : ch == 'o' ? OPT_OUT : OPT_HELP;
        if (set_value(a, id, optarg, who) != 0) return 2;
    }
    for (int i = optind; i < argc; i++, a->npos++) /* after "--" */
        if (a->npos < MAX_WORDS) a->pos[a->npos] = argv[i];
    return 0;
}

/* ---- main ---- */

/* Help asked for (on stdout, exit 0), or shown for want of a command (on
 * stderr, exit 2): command c's, group's when c is NULL, else the overview. */
static int show_help(const cli_command *c, const char *group, int asked)
{
    FILE *f = asked ? stdout : stderr;
    if (c != NULL) {
        print_command_help(f, c);
    } else if (group != NULL) {
        if (!asked) fprintf(stderr, "bantrail: %s needs a command\n", group);
        print_group_help(f, group);
    } else {
        print_overview(f);
    }
    return asked ? 0 : 2;
}

/* Finds the command, then reads the options it takes. Returns -1 to run
 * a->cmd, else the exit code: after help, the version, or a usage error. */
static int parse_args(int argc, char **argv, cli_args *a)
{
    const char *w[3] = {NULL, NULL, NULL};
    memset(a, 0, sizeof *a);
    a->n[OPT_LIMIT] = 50;
    a->n[OPT_PASSFD] = -1;
    first_words(argc, argv, w);
    int help = w[0] != NULL && strcmp(w[0], "help") == 0; /* bantrail help [COMMAND] */
    const char *w0 = w[help], *w1 = w[help + 1];
    const cli_command *c = w0 != NULL ? find_command(w0, w1) : NULL;
    if (w0 != NULL && c == NULL && (!is_group(w0) || w1 != NULL))
        return unknown_command(w0, is_group(w0) ? w1 : NULL);
    if (read_options(argc, argv, a, c, c != NULL ? c->name : w0) != 0) return 2;
    if (a->n[OPT_VERSION]) {
        printf("bantrail %s\n", BT_VERSION);
        return 0;
    }
    help |= a->n[OPT_HELP] != 0;
    if (c == NULL || help) return show_help(c, w0, help);
    a->cmd = c;
    int used = strchr(c->name, ' ') != NULL ? 2 : 1;
    a->npos -= used;
    memmove(a->pos, a->pos + used, sizeof a->pos - used * sizeof a->pos[0]);
    if (a->npos < c->min_args) return usage_error(a, "%s needs %s", c->name, c->args);
    if (a->npos > c->max_args) return usage_error(a, "%s: unexpected argument '%s'", c->name, a->pos[c->max_args]);
    return -1;
}

/* Opens the log (and the --passphrase-fd stream) and runs the command:
 * through the unlocked session when one runs, else in this process. */
static int run_with_log(cli_args *a)
{
    char *dir = NULL;
    int fd = (int)a->n[OPT_PASSFD], rc = 2;
    if (fd >= 0 && (pass_in = fdopen(fd, "r")) == NULL) {
        fprintf(stderr, "bantrail: cannot read file descriptor %d\n", fd);
        return 2;
    }
    if (bt_paths_data_dir(&dir) != BT_OK) {
        fprintf(stderr, "bantrail: no data folder: set BANTRAIL_HOME or HOME\n");
        goto done;
    }
    a->dir = dir;
    if (a->cmd->opens_log == LOG_READ || a->cmd->opens_log == LOG_SESSION) {
        char db[PATH_MAX];
        struct stat st;
        int there = snprintf(db, sizeof db, "%s/%s", dir, BT_VAULT_DB) < (int)sizeof db && stat(db, &st) == 0;
        if (!there) {
            if (opt_json) printf("{\"code\":\"no_log\",\"message\":\"no log in this folder\"}\n");
            fprintf(stderr, "bantrail: no log in %s: nothing has been captured there yet (is BANTRAIL_HOME right?)\n",
                    dir);
            goto done;
        }
    }
    if (a->cmd->opens_log != LOG_SESSION && (session_fd = bt_session_connect(dir)) < 0 &&
        (rpc = bt_rpc_new(dir, 1)) == NULL)
        goto done;
    rc = a->cmd->run(a);
done:
    if (session_fd >= 0) close(session_fd);
    bt_rpc_free(rpc);
    free(dir);
    if (pass_in != NULL) fclose(pass_in);
    return rc;
}

int main(int argc, char **argv)
{
    cli_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    opt_json = a.n[OPT_JSON] != 0;
    umask(077);
    if (sodium_init() < 0) {
        fprintf(stderr, "bantrail: libsodium cannot start\n");
        return 2;
    }
    return a.cmd->opens_log ? run_with_log(&a) : a.cmd->run(&a);
}
