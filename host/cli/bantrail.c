/* bantrail: the person's command line. A thin front over the same dispatcher
 * the native host uses (bt_rpc), so both answer alike; this file only reads
 * passphrases and prints. Exit codes: 0 success, 1 a negative answer (not
 * found, verification failed, wrong passphrase), 2 usage or system error. */
#include <errno.h>
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
#include "bantrail/classify.h"
#include "bantrail/export.h"
#include "bantrail/frame.h"
#include "bantrail/install.h"
#include "bantrail/paths.h"
#include "bantrail/rpc.h"
#include "bantrail/term.h"
#include "bantrail/vault.h"
#include "util/utf8.h"

static int opt_json;
static int opt_pass_fd = -1;
static FILE *pass_in; /* the --passphrase-fd stream, read line by line */

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: bantrail [--json] [--passphrase-fd N] COMMAND [ARGS]\n"
        "\n"
        "Commands:\n"
        "  status              the log's state, counts and chain head\n"
        "  passphrase          set or change the passphrase (--recovery: after a lost one)\n"
        "  recovery-code       make a one-time recovery code (replaces any earlier one)\n"
        "  list [--after ID] [--limit N]\n"
        "                      records, newest last\n"
        "  show ID [-o FILE]   one record; -o saves an attachment's bytes\n"
        "  verify              check the hash chain (needs no passphrase)\n"
        "  capture --url URL [--title T] [--lang L] [--manual]\n"
        "                      store the notice text read from stdin if the classifier\n"
        "                      says it is one (--manual: store it in any case)\n"
        "  demo                start bantrail-host as a browser does and capture a\n"
        "                      sample notice in a throwaway log\n"
        "  classify [--url URL] [--title T] [--lang L]\n"
        "                      say whether the text on stdin is a restriction notice\n"
        "                      (platform, kind, reason, facts); needs no log. Exit 0 a\n"
        "                      notice, 1 not a notice. Rules: docs/RULES.md\n"
        "  install [--browser NAME] [--user-data-dir DIR]\n"
        "                      register the host with browsers: chrome, chromium, brave,\n"
        "                      edge, vivaldi, firefox, or all (default: those found)\n"
        "  uninstall [--browser NAME] [--user-data-dir DIR]\n"
        "                      remove those registrations\n"
        "  doctor [--user-data-dir DIR]\n"
        "                      check each registration and that the host answers\n"
        "  case list           cases (one account's story on one platform) with their\n"
        "                      derived times: restriction to appeal, appeal to answer,\n"
        "                      time locked out\n"
        "  case show N         case N's timeline, derived times and record hashes\n"
        "  case merge A B      make cases A and B one (recorded in the log; nothing removed)\n"
        "  case split RECORD   RECORD and its case's later records become a new case\n"
        "  event add (--case N | --platform P [--handle H]) --event E --at ISO8601\n"
        "            [--outcome rejected|reinstated] [--note TEXT]\n"
        "                      add what Bantrail could not see (an appeal made in the app,\n"
        "                      a letter), marked as entered by hand. E: restriction,\n"
        "                      appeal_submitted, acknowledgement, decision (with --outcome),\n"
        "                      other\n"
        "  union list | union import FILE\n"
        "                      the unions you can share with (a demo one is built in);\n"
        "                      import pins a union's entry and key\n"
        "  report preview --case N [--union ID] [--account-type personal|business|creator]\n"
        "                 [--paid yes|no] [--country CC]\n"
        "                      the exact anonymous report of a case, in plain words and JSON\n"
        "  report send (same options) [--yes] | report send --id N\n"
        "                      confirm, seal to the union's key and send (or retry one)\n"
        "  report list | report save --id N -o FILE | report withdraw --id N\n"
        "                      the outbox; save a sealed report to upload by hand\n"
        "  export --case N --format html|json -o FILE [--force]\n"
        "                      a case as evidence for a lawyer or an ombudsman: timeline,\n"
        "                      screenshots, hashes, chain head (docs/EVIDENCE.md). Never\n"
        "                      overwrites without asking (--force: replace it), never\n"
        "                      follows a symbolic link\n"
        "\n"
        "Options:\n"
        "  --json              machine output (the host's JSON result)\n"
        "  --passphrase-fd N   read passphrases, one a line, from file descriptor N\n"
        "                      instead of the terminal\n"
        "  -h, --help          this help\n"
        "\n"
        "The log lives in $BANTRAIL_HOME, or $XDG_DATA_HOME/bantrail, or\n"
        "~/.local/share/bantrail. Exit: 0 success, 1 negative answer, 2 error.\n");
}

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
        out = bt_rpc_handle(rpc, frame, len, BT_OK, &out_len, NULL, err);
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

static const char *state_words(const char *state)
{
    if (state == NULL) return "unknown";
    if (!strcmp(state, "unprotected")) return "NOT PROTECTED YET: choose a passphrase with 'bantrail passphrase'";
    if (!strcmp(state, "locked")) return "protected by a passphrase (locked)";
    if (!strcmp(state, "unlocked")) return "protected by a passphrase (unlocked)";
    return state;
}

/* Unlocks with a passphrase asked once, when the log is protected. */
static bt_err unlock_if_needed(json_object **rep_out)
{
    bt_err err;
    json_object *rep = call("hello", NULL, &err), *vault = NULL;
    json_object_object_get_ex(result_of(rep), "vault", &vault);
    const char *state = str(vault, "state");
    int locked = state != NULL && strcmp(state, "locked") == 0;
    json_object_put(rep);
    *rep_out = NULL;
    if (err != BT_OK || !locked) return err;
    char *pass = read_secret("Passphrase: ");
    if (pass == NULL) return BT_ERR_BAD_PARAMS;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "passphrase", json_object_new_string(pass));
    sodium_free(pass);
    rep = call("unlock", p, &err);
    if (err != BT_OK) *rep_out = rep;
    else json_object_put(rep);
    return err;
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
        printf("State:         %s\n", state_words(str(vault, "state")));
        if (str(vault, "error")) printf("Error:         %s\n", str(vault, "error"));
        printf("Entries:       %lld\n", (long long)num(vault, "entries"));
        printf("Sessions:      %lld\n", (long long)num(vault, "sessions"));
        json_object *rc = NULL;
        json_object_object_get_ex(vault, "has_recovery", &rc);
        printf("Recovery code: %s\n", json_object_get_boolean(rc) ? "set" : "none");
        printf("Chain head:    %s\n", str(vault, "head") ? str(vault, "head") : "-");
    }
    json_object_put(rep);
    return str(vault, "error") ? 2 : 0;
}

static int cmd_passphrase(int recovery, const bt_kdf_params *kdf)
{
    bt_err err;
    json_object *rep = call("hello", NULL, &err), *vault = NULL, *p = json_object_new_object();
    json_object_object_get_ex(result_of(rep), "vault", &vault);
    int protected_ = json_object_get_boolean(json_object_object_get(vault, "protected"));
    json_object_put(rep);
    if (err != BT_OK) { json_object_put(p); return exit_for(err); }
    if (recovery) {
        char *code = read_secret("Recovery code: ");
        if (code == NULL) { json_object_put(p); return 2; }
        json_object *u = json_object_new_object();
        json_object_object_add(u, "recovery_code", json_object_new_string(code));
        sodium_free(code);
        rep = call("unlock", u, &err);
        if (err != BT_OK) { json_object_put(p); return finish(rep, err); }
        json_object_put(rep);
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
    rep = call("set_passphrase", p, &err);
    if (err == BT_OK) {
        if (opt_json) print_json(result_of(rep));
        else printf("Passphrase set. The log is protected.\n");
    }
    return finish(rep, err);
}

static int cmd_recovery_code(void)
{
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    rep = call("recovery_code", NULL, &err);
    if (err == BT_OK) {
        const char *code = str(result_of(rep), "code");
        if (opt_json) print_json(result_of(rep));
        else printf("Your recovery code (write it down; it is shown only this once):\n\n    %s\n\n"
                    "With it you can choose a new passphrase: bantrail passphrase --recovery\n", code);
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
    json_object *rep = NULL, *res, *entries = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "after", json_object_new_int64(after));
    json_object_object_add(p, "limit", json_object_new_int64(limit));
    rep = call("list", p, &err);
    if (err != BT_OK) return finish(rep, err);
    res = result_of(rep);
    if (opt_json) {
        print_json(res);
        return finish(rep, err);
    }
    json_object_object_get_ex(res, "entries", &entries);
    size_t n = json_object_array_length(entries);
    if (n == 0) printf("No records.\n");
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i), *cls = NULL;
        const char *type = str(e, "type");
        printf("%6lld  ", (long long)num(e, "id"));
        print_when(num(e, "captured_at"));
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
    return finish(rep, err);
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

static int cmd_show(int64_t id, const char *out_path)
{
    json_object *rep = NULL, *res, *rec = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    rep = call("get", p, &err);
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
    printf("\n");
    print_clean(str(rec, "text") ? str(rec, "text") : "", 1);
    printf("\n");
    return finish(rep, err);
}

static int cmd_verify(void)
{
    bt_err err;
    json_object *rep = call("verify", NULL, &err), *res = result_of(rep);
    if (err != BT_OK) return finish(rep, err);
    int ok = json_object_get_boolean(json_object_object_get(res, "ok"));
    if (opt_json) {
        print_json(res);
    } else if (ok) {
        printf("The chain holds: %lld entries checked.\nHead: %s\n", (long long)num(res, "checked"),
               str(res, "head"));
    } else {
        printf("VERIFICATION FAILED at entry %lld: %s.\n%lld entries before it hold.\n",
               (long long)num(res, "bad_id"), str(res, "reason"), (long long)num(res, "checked"));
    }
    json_object_put(rep);
    return ok ? 0 : 1;
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
        if (user_data_dir != NULL) chosen[i] = i != BT_BROWSER_FIREFOX && (b < 0 ? i == BT_BROWSER_CHROMIUM : i == b);
        else if (name == NULL) chosen[i] = bt_install_detected((bt_browser)i);
        else chosen[i] = b < 0 || i == b;
    }
    if (user_data_dir != NULL && b == BT_BROWSER_FIREFOX) {
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
    if (opt_json) {
        json_object *o = bt_classify_to_json(&c);
        if (o == NULL) return 2;
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
    bt_export_duration(d, sizeof d, seconds);
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
        bt_export_duration(buf, sizeof buf, num_or(d, "restriction_to_appeal", -1));
        printf("%-14s  ", buf);
        bt_export_duration(buf, sizeof buf, num_or(d, "appeal_to_answer", -1));
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
    json_object_put(k);
    return 0;
}

static int cmd_case_merge(int64_t a, int64_t b)
{
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object(), *pair = json_object_new_array();
    json_object_array_add(pair, json_object_new_int64(a));
    json_object_array_add(pair, json_object_new_int64(b));
    json_object_object_add(p, "cases", pair);
    rep = call("case_merge", p, &err);
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
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "record", json_object_new_int64(record));
    rep = call("case_split", p, &err);
    if (err == BT_OK) {
        if (opt_json) print_json(result_of(rep));
        else printf("Split case %lld: record %lld and the case's later records are now case %lld "
                    "(log entry %lld; no record was changed).\n", (long long)num(result_of(rep), "case"),
                    (long long)record, (long long)num(result_of(rep), "new_case"),
                    (long long)num(result_of(rep), "entry"));
    }
    return finish(rep, err);
}

static int cmd_event_add(int64_t case_id, const char *platform, const char *handle, const char *event,
                         const char *outcome, const char *at, const char *note)
{
    json_object *rep = NULL;
    bt_err err;
    if (event == NULL || at == NULL || (case_id == 0 && platform == NULL)) {
        fprintf(stderr, "bantrail: event add needs --event E, --at ISO8601 and --case N or --platform P\n");
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

static int cmd_export(int64_t case_id, const char *format, const char *path, int force)
{
    json_object *rep = NULL;
    struct stat sb;
    int replace = 0, rc = 2;
    bt_err err;
    if (case_id <= 0 || format == NULL || path == NULL || bt_export_format_parse(format) < 0) {
        fprintf(stderr, "bantrail: export needs --case N, --format html|json and -o FILE\n");
        return 2;
    }
    if (lstat(path, &sb) == 0) {
        if (S_ISLNK(sb.st_mode)) {
            fprintf(stderr, "bantrail: %s is a symbolic link; links are never followed\n", path);
            return 2;
        }
        if (!S_ISREG(sb.st_mode)) {
            fprintf(stderr, "bantrail: %s exists and is not a regular file\n", path);
            return 2;
        }
        replace = force || ask_replace(path);
        if (!replace) {
            fprintf(stderr, "bantrail: %s exists; not overwritten (--force replaces it)\n", path);
            return 2;
        }
    }
    if ((err = unlock_if_needed(&rep)) != BT_OK) return finish(rep, err);
    char *doc = NULL, digest_hex[2 * BT_HASH_BYTES + 1] = "";
    size_t len = 0, size = 0;
    int64_t offset = 0, upto = 0, generated = 0;
    for (;;) {
        json_object *p = json_object_new_object(), *next = NULL;
        json_object_object_add(p, "id", json_object_new_int64(case_id));
        json_object_object_add(p, "format", json_object_new_string(format));
        json_object_object_add(p, "offset", json_object_new_int64(offset));
        if (upto > 0) { /* the same document, piece by piece */
            json_object_object_add(p, "upto", json_object_new_int64(upto));
            json_object_object_add(p, "generated_at", json_object_new_int64(generated));
        }
        rep = call("case_export", p, &err);
        if (err != BT_OK) {
            bt_export_free(doc, size);
            return finish(rep, err);
        }
        json_object *res = result_of(rep);
        const char *b64 = str(res, "data");
        if (doc == NULL) {
            size = (size_t)num(res, "size");
            upto = num(res, "upto");
            generated = num(res, "generated_at");
            snprintf(digest_hex, sizeof digest_hex, "%s", str(res, "digest") ? str(res, "digest") : "");
            doc = malloc(size + 1);
        }
        size_t n = 0, b64_len = b64 ? strlen(b64) : 0;
        if (doc == NULL || b64 == NULL || (size_t)num(res, "size") != size || (size_t)num(res, "offset") != len ||
            sodium_base642bin((unsigned char *)doc + len, size - len, b64, b64_len, NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) {
            fprintf(stderr, "bantrail: the export came back damaged\n");
            json_object_put(rep);
            bt_export_free(doc, size);
            return 2;
        }
        len += n;
        json_object_object_get_ex(res, "next_offset", &next);
        offset = next ? json_object_get_int64(next) : 0;
        json_object_put(rep);
        if (next == NULL) break;
    }
    unsigned char digest[BT_HASH_BYTES];
    char got[2 * BT_HASH_BYTES + 1];
    crypto_generichash(digest, sizeof digest, (unsigned char *)doc, len, NULL, 0);
    sodium_bin2hex(got, sizeof got, digest, sizeof digest);
    if (len != size || strcmp(got, digest_hex) != 0) {
        fprintf(stderr, "bantrail: the export came back incomplete\n");
    } else if (bt_export_save(path, doc, len, replace) != 0) {
        fprintf(stderr, "bantrail: cannot write %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (files are never overwritten without asking)"
                : errno == ELOOP ? " (symbolic links are never followed)" : "");
    } else {
        rc = 0;
        if (opt_json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "path", json_object_new_string(path));
            json_object_object_add(o, "format", json_object_new_string(format));
            json_object_object_add(o, "size", json_object_new_int64((int64_t)len));
            json_object_object_add(o, "digest", json_object_new_string(got));
            json_object_object_add(o, "upto", json_object_new_int64(upto));
            print_json(o);
            json_object_put(o);
        } else {
            printf("Wrote %s (%s, %zu bytes): case %lld as the log stood at entry %lld.\n", path, format, len,
                   (long long)case_id, (long long)upto);
            printf("It holds decrypted notices and screenshots: keep it as safe as the log.\n");
        }
    }
    bt_export_free(doc, size + 1);
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
    printf("\nExactly what is sent (sealed so that only the union can read it):\n");
    print_clean(str(res, "json") ? str(res, "json") : "", 0);
    putchar('\n');
}

static size_t ignore_body(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* POSTs wire to url: no cookies, no referrer, nothing but the report.
 * Returns the HTTP status, or 0 on a network error (why is set). */
static long post_report(const char *url, const char *wire, const char **why)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    long status = 0;
    *why = "cannot start HTTP";
    if (h == NULL) return 0;
    hdr = curl_slist_append(hdr, "Content-Type: text/plain");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, wire);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Bantrail");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ignore_body);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else *why = curl_easy_strerror(rc);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
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

/* Sends outbox report id, retrying network errors and server errors with
 * backoff (1 s, 2 s, 4 s); a 4xx is final. Records the outcome. */
static int send_queued(int64_t id)
{
    bt_err err;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(id));
    json_object *rep = call("report_get", p, &err), *res = result_of(rep);
    if (err != BT_OK) return finish(rep, err);
    const char *url = str(res, "submit_url"), *wire = str(res, "wire"), *state = str(res, "state"), *why = NULL;
    if (state != NULL && !strcmp(state, "withdrawn")) {
        fprintf(stderr, "bantrail: report %lld was withdrawn; it is not sent\n", (long long)id);
        json_object_put(rep);
        return 1;
    }
    long status = 0;
    char detail[200];
    for (int attempt = 0; attempt < 4; attempt++) {
        if (attempt > 0) sleep(1u << (attempt - 1));
        status = post_report(url, wire, &why);
        if (status >= 200 && status < 500) break;
    }
    json_object_put(rep);
    int sent = status >= 200 && status < 300;
    if (status == 0) snprintf(detail, sizeof detail, "network: %s", why);
    else snprintf(detail, sizeof detail, "HTTP %ld", status);
    if ((err = mark(id, sent ? "sent" : "failed", detail)) != BT_OK) return exit_for(err);
    if (opt_json) printf("{\"id\":%lld,\"state\":\"%s\",\"detail\":\"%s\"}\n", (long long)id, sent ? "sent" : "failed",
                         status == 0 ? "network" : "http");
    else printf(sent ? "Sent (%s).\n" : "Not sent: %s. It stays in the outbox: bantrail report send --id N retries.\n",
                detail);
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

static int cmd_report(const char *sub, const share_opts *o, int64_t id, const char *out_path, int yes)
{
    json_object *rep = NULL, *res;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    if (!strcmp(sub, "list")) {
        rep = call("report_list", NULL, &err);
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
    if (!strcmp(sub, "withdraw") || !strcmp(sub, "save") || (!strcmp(sub, "send") && id > 0)) {
        if (id <= 0) { usage(stderr); return 2; }
        if (!strcmp(sub, "send")) return send_queued(id);
        if (!strcmp(sub, "withdraw")) {
            err = mark(id, "withdrawn", NULL);
            if (err == BT_OK && !opt_json) printf("Withdrawn: report %lld will not be sent.\n", (long long)id);
            return exit_for(err);
        }
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
    if (o->case_id <= 0 || (strcmp(sub, "preview") && strcmp(sub, "send"))) {
        usage(stderr);
        return 2;
    }
    rep = call("report_preview", share_params(o), &err);
    if (err != BT_OK) return finish(rep, err);
    res = result_of(rep);
    if (!strcmp(sub, "preview")) {
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
    id = num(result_of(rep), "id");
    json_object_put(rep);
    return send_queued(id);
}

static int cmd_union(const char *sub, const char *file)
{
    json_object *rep = NULL;
    bt_err err = unlock_if_needed(&rep);
    if (err != BT_OK) return finish(rep, err);
    if (!strcmp(sub, "list")) {
        rep = call("unions", NULL, &err);
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
            putchar('\n');
        }
        return finish(rep, err);
    }
    json_object *entry = file ? json_object_from_file(file) : NULL;
    if (entry == NULL) {
        fprintf(stderr, "bantrail: cannot read a union entry (JSON) from %s\n", file ? file : "-");
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

int main(int argc, char **argv)
{
    enum { O_JSON = 256, O_PASSFD, O_AFTER, O_LIMIT, O_URL, O_TITLE, O_LANG, O_RECOVERY, O_OPS, O_MEM,
           O_BROWSER, O_UDD, O_MANUAL,
           O_CASE, O_PLATFORM, O_HANDLE, O_EVENT, O_OUTCOME, O_AT, O_NOTE, O_FORMAT, O_FORCE,
           O_UNION, O_ACCOUNT_TYPE, O_PAID, O_COUNTRY, O_YES, O_ID };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        {"passphrase-fd", required_argument, NULL, O_PASSFD},
        {"help", no_argument, NULL, 'h'},
        {"after", required_argument, NULL, O_AFTER},
        {"limit", required_argument, NULL, O_LIMIT},
        {"url", required_argument, NULL, O_URL},
        {"title", required_argument, NULL, O_TITLE},
        {"lang", required_argument, NULL, O_LANG},
        {"recovery", no_argument, NULL, O_RECOVERY},
        {"kdf-ops", required_argument, NULL, O_OPS},
        {"kdf-mem-mib", required_argument, NULL, O_MEM},
        {"browser", required_argument, NULL, O_BROWSER},
        {"user-data-dir", required_argument, NULL, O_UDD},
        {"manual", no_argument, NULL, O_MANUAL},
        {"case", required_argument, NULL, O_CASE},
        {"platform", required_argument, NULL, O_PLATFORM},
        {"handle", required_argument, NULL, O_HANDLE},
        {"event", required_argument, NULL, O_EVENT},
        {"outcome", required_argument, NULL, O_OUTCOME},
        {"at", required_argument, NULL, O_AT},
        {"note", required_argument, NULL, O_NOTE},
        {"format", required_argument, NULL, O_FORMAT},
        {"force", no_argument, NULL, O_FORCE},
        {"union", required_argument, NULL, O_UNION},
        {"account-type", required_argument, NULL, O_ACCOUNT_TYPE},
        {"paid", required_argument, NULL, O_PAID},
        {"country", required_argument, NULL, O_COUNTRY},
        {"yes", no_argument, NULL, O_YES},
        {"id", required_argument, NULL, O_ID},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *title = NULL, *lang = NULL, *out_path = NULL, *browser = NULL, *udd = NULL;
    int64_t after = 0, limit = 50, ops = 0, mem_mib = 0;
    int recovery = 0, manual = 0, c, rc;
    char *dir = NULL;
    const char *platform = NULL, *handle = NULL, *event = NULL, *outcome = NULL, *at = NULL, *note = NULL,
               *format = NULL;
    int64_t case_id = 0, report_id = 0;
    int force = 0, yes = 0;
    share_opts so = {NULL, NULL, NULL, NULL, 0};

    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        int64_t x = 0;
        switch (c) {
        case O_JSON: opt_json = 1; break;
        case O_PASSFD:
            if (parse_id(optarg, &x) != 0 || x > 1024) { usage(stderr); return 2; }
            opt_pass_fd = (int)x;
            break;
        case 'h': usage(stdout); return 0;
        case 'o': out_path = optarg; break;
        case O_AFTER: if (parse_id(optarg, &after) != 0) { usage(stderr); return 2; } break;
        case O_LIMIT: if (parse_id(optarg, &limit) != 0) { usage(stderr); return 2; } break;
        case O_URL: url = optarg; break;
        case O_TITLE: title = optarg; break;
        case O_LANG: lang = optarg; break;
        case O_RECOVERY: recovery = 1; break;
        case O_OPS: if (parse_id(optarg, &ops) != 0) { usage(stderr); return 2; } break;
        case O_MEM: if (parse_id(optarg, &mem_mib) != 0) { usage(stderr); return 2; } break;
        case O_BROWSER: browser = optarg; break;
        case O_UDD: udd = optarg; break;
        case O_MANUAL: manual = 1; break;
        case O_CASE: if (parse_id(optarg, &case_id) != 0 || case_id == 0) { usage(stderr); return 2; } break;
        case O_PLATFORM: platform = optarg; break;
        case O_HANDLE: handle = optarg; break;
        case O_EVENT: event = optarg; break;
        case O_OUTCOME: outcome = optarg; break;
        case O_AT: at = optarg; break;
        case O_NOTE: note = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_FORCE: force = 1; break;
        case O_UNION: so.union_id = optarg; break;
        case O_ACCOUNT_TYPE: so.account_type = optarg; break;
        case O_PAID:
            if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) { usage(stderr); return 2; }
            so.paid = optarg;
            break;
        case O_COUNTRY: so.country = optarg; break;
        case O_YES: yes = 1; break;
        case O_ID: if (parse_id(optarg, &report_id) != 0 || report_id == 0) { usage(stderr); return 2; } break;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind++];
    umask(077);
    if (optind == argc) { /* commands that do not open the log */
        if (!strcmp(cmd, "demo")) return cmd_demo();
        if (!strcmp(cmd, "classify")) return cmd_classify(url, title, lang);
        if (!strcmp(cmd, "install")) return cmd_install(browser, udd, 0);
        if (!strcmp(cmd, "uninstall")) return cmd_install(browser, udd, 1);
        if (!strcmp(cmd, "doctor")) return cmd_doctor(udd);
    }
    if (opt_pass_fd >= 0 && (pass_in = fdopen(opt_pass_fd, "r")) == NULL) {
        fprintf(stderr, "bantrail: cannot read file descriptor %d\n", opt_pass_fd);
        return 2;
    }
    if (bt_paths_data_dir(&dir) != BT_OK) {
        fprintf(stderr, "bantrail: no data folder: set BANTRAIL_HOME or HOME\n");
        return 2;
    }
    rpc = bt_rpc_new(dir, 1);
    if (rpc == NULL) {
        free(dir);
        return 2;
    }
    int args = argc - optind;
    if (!strcmp(cmd, "status") && args == 0) {
        rc = cmd_status(dir);
    } else if (!strcmp(cmd, "passphrase") && args == 0) {
        bt_kdf_params kdf = bt_vault_default_kdf();
        if (ops > 0) kdf.opslimit = (unsigned long long)ops;
        if (mem_mib > 0) kdf.memlimit = (size_t)mem_mib << 20;
        rc = cmd_passphrase(recovery, ops > 0 || mem_mib > 0 ? &kdf : NULL);
    } else if (!strcmp(cmd, "recovery-code") && args == 0) {
        rc = cmd_recovery_code();
    } else if (!strcmp(cmd, "list") && args == 0) {
        rc = cmd_list(after, limit);
    } else if (!strcmp(cmd, "show") && args == 1) {
        int64_t id;
        rc = parse_id(argv[optind], &id) == 0 ? cmd_show(id, out_path) : (usage(stderr), 2);
    } else if (!strcmp(cmd, "verify") && args == 0) {
        rc = cmd_verify();
    } else if (!strcmp(cmd, "capture") && args == 0 && url != NULL) {
        rc = cmd_capture(url, title, lang, manual);
    } else if (!strcmp(cmd, "case") && args == 1 && !strcmp(argv[optind], "list")) {
        rc = cmd_case_list();
    } else if (!strcmp(cmd, "case") && args == 2 && !strcmp(argv[optind], "show")) {
        int64_t id;
        rc = parse_id(argv[optind + 1], &id) == 0 ? cmd_case_show(id) : (usage(stderr), 2);
    } else if (!strcmp(cmd, "case") && args == 3 && !strcmp(argv[optind], "merge")) {
        int64_t a, b;
        rc = parse_id(argv[optind + 1], &a) == 0 && parse_id(argv[optind + 2], &b) == 0 ? cmd_case_merge(a, b)
                                                                                         : (usage(stderr), 2);
    } else if (!strcmp(cmd, "case") && args == 2 && !strcmp(argv[optind], "split")) {
        int64_t record;
        rc = parse_id(argv[optind + 1], &record) == 0 ? cmd_case_split(record) : (usage(stderr), 2);
    } else if (!strcmp(cmd, "event") && args == 1 && !strcmp(argv[optind], "add")) {
        rc = cmd_event_add(case_id, platform, handle, event, outcome, at, note);
    } else if (!strcmp(cmd, "export") && args == 0) {
        rc = cmd_export(case_id, format, out_path, force);
    } else if (!strcmp(cmd, "report") && args == 1) {
        so.case_id = case_id;
        rc = cmd_report(argv[optind], &so, report_id, out_path, yes);
    } else if (!strcmp(cmd, "union") && (args == 1 || args == 2)) {
        rc = cmd_union(argv[optind], args == 2 ? argv[optind + 1] : NULL);
    } else {
        usage(stderr);
        rc = 2;
    }
    bt_rpc_free(rpc);
    free(dir);
    if (pass_in != NULL) fclose(pass_in);
    return rc;
}
