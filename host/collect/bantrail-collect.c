/* bantrail-collect: the union's side (docs/DESIGN.md section 8, docs/REPORT.md).
 * This file reads options and passphrases, speaks HTTP (libmicrohttpd) and
 * prints; the store and figures live in collect.c and collect_report.c.
 *
 * No address of a sender is logged or stored, and libmicrohttpd's own error
 * log (which can name addresses) is left off. libmicrohttpd itself counts
 * connections per address (--per-address) in its memory. The handler asks
 * for the client's address only for the per-address report rate
 * (--reports-per-minute), and keeps a keyed hash of it in memory (rate.c).
 *
 * Exit codes: 0 success, 1 a negative answer (a report or passphrase
 * refused), 2 usage or system error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/collect.h"
#include "bantrail/report.h"
#include "bantrail/term.h"
#include "collect/collect_int.h"
#include "util/json.h"

#define PROG "bantrail-collect"
#define BODY_CAP_DEFAULT 8192
/* serve's limits (docs/REPORT.md "Limits"): one client must not stall it. */
#define CONN_MAX_DEFAULT 512      /* open connections in all */
#define PER_ADDR_DEFAULT 8        /* open connections from one address (not on loopback) */
#define RATE_DEFAULT 6            /* accepted reports a minute from one address (not on loopback) */
#define BURST_DEFAULT 20          /* reports one address may send at once before the rate holds */
#define RATE_SLOTS 16384          /* addresses (tags) the rate remembers at once */
#define BUSY_RETRY 5              /* Retry-After of a 503 */
#define IDLE_DEFAULT 5            /* seconds without a byte before a connection is cut */
#define LIFETIME_DEFAULT 10       /* seconds a connection may live, whatever it sends */
#define CONN_HEADROOM 16          /* connections above the limit still told 503 */
#define CONN_MEMORY (32 * 1024)   /* libmicrohttpd's pool per connection (headers, buffers) */
#define ENTRY_MAX 16384

static const char *opt_dir = ".";
static const char *opt_store; /* --store: NULL for DIR/reports.sqlite */
static FILE *pass_in;

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: " PROG " [--dir DIR] [--store ADDRESS] COMMAND [OPTIONS]\n"
        "\n"
        "The union's collector of anonymous Bantrail reports (docs/REPORT.md).\n"
        "\n"
        "Commands:\n"
        "  keygen      make the union's key pair; writes DIR/" BT_COLLECT_KEYFILE " (secret key under\n"
        "              a passphrase) and DIR/" BT_COLLECT_ENTRY " (the entry people import)\n"
        "  serve       receive reports over HTTP: POST /v1/reports (loopback by default;\n"
        "              put the union's TLS front before it)\n"
        "  ingest FILE...\n"
        "              store reports saved as files and uploaded by hand\n"
        "  invite      a member's invite code, worth --count membership tokens\n"
        "  report      the figures: --format json|csv|html\n"
        "  export      open data (CSV) with cells under 10 suppressed\n"
        "\n"
        "Options:\n"
        "  --dir DIR   the collector's folder (default: $BANTRAIL_HOME/collector when\n"
        "              BANTRAIL_HOME is set, else the current folder)\n"
        "  --store ADDRESS\n"
        "              where reports are kept: DIR/" BT_COLLECT_DB " by default, or a PostgreSQL\n"
        "              database, postgresql://[user@]host[:port]/dbname[?...] (libpq's form;\n"
        "              keep its password in ~/.pgpass, not here): several `serve` may then\n"
        "              share it (docs/ADMIN.md)\n"
        "  -h, --help  this help; COMMAND --help for a command's options\n"
        "\n"
        "Passphrases come from the terminal, or one a line from --passphrase-fd N;\n"
        "never from arguments or the environment.\n"
        "Exit: 0 success, 1 negative answer (report or passphrase refused), 2 error.\n");
}

/* ---- small helpers ---- */

static char *path_in_dir(const char *name)
{
    size_t n = strlen(opt_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(2);
    }
    snprintf(p, n, "%s/%s", opt_dir, name);
    return p;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;
    if (s == NULL || *s < '0' || *s > '9') return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return -1;
    *out = v;
    return 0;
}

static int set_pass_fd(const char *arg)
{
    unsigned long fd;
    if (parse_uint(arg, INT_MAX, &fd) != 0 || (pass_in = fdopen((int)fd, "r")) == NULL) {
        fprintf(stderr, PROG ": --passphrase-fd: not an open file descriptor: %s\n", arg);
        return -1;
    }
    return 0;
}

static char *read_secret(const char *prompt)
{
    return bt_term_read_secret(pass_in, prompt, PROG);
}

/* Reads at most cap bytes of path into a malloc'd, NUL-terminated buffer.
 * Returns NULL (errno set; EFBIG when larger) on failure. */
static char *read_small_file(const char *path, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char *buf;
    size_t n = 0;
    if (fd < 0) return NULL;
    buf = malloc(cap + 2);
    if (buf == NULL) {
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > cap) {
            free(buf);
            close(fd);
            errno = EFBIG;
            return NULL;
        }
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The union entry and the secret key, checked against each other. */
static int use_demo_key; /* serve --demo */

static int load_union(bt_union *u, unsigned char pk[32], unsigned char **sk_out)
{
    if (use_demo_key) { /* the built-in demo union: its key is public by design */
        bt_share_demo_union(u);
        if ((*sk_out = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) return 2;
        bt_share_demo_keypair(pk, *sk_out);
        return 0;
    }
    char *entry_path = path_in_dir(BT_COLLECT_ENTRY), *key_path = path_in_dir(BT_COLLECT_KEYFILE);
    char *text, *pass = NULL;
    size_t len = 0;
    const char *why = NULL;
    unsigned char *sk = NULL;
    int rc = 2;
    bt_err err;

    text = read_small_file(entry_path, ENTRY_MAX, &len);
    if (text == NULL) {
        fprintf(stderr, PROG ": cannot read %s: %s (run keygen first)\n", entry_path, strerror(errno));
        goto done;
    }
    err = bt_report_union_parse(u, text, len, &why);
    free(text);
    if (err != BT_OK) {
        fprintf(stderr, PROG ": %s: %s\n", entry_path, why);
        goto done;
    }
    sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
    pass = read_secret("Union key passphrase: ");
    if (sk == NULL || pass == NULL) goto done;
    err = bt_collect_key_load(key_path, pass, strlen(pass), pk, sk);
    if (err != BT_OK) {
        fprintf(stderr, PROG ": %s: %s\n", key_path, bt_err_message(err));
        rc = err == BT_ERR_WRONG_PASSPHRASE ? 1 : 2;
        goto done;
    }
    if (sodium_memcmp(pk, u->public_key, 32) != 0) {
        fprintf(stderr, PROG ": %s and %s hold different keys\n", entry_path, key_path);
        goto done;
    }
    *sk_out = sk;
    sk = NULL;
    rc = 0;
done:
    if (pass != NULL) sodium_free(pass);
    if (sk != NULL) sodium_free(sk);
    free(entry_path);
    free(key_path);
    return rc;
}

/* The store: --store's PostgreSQL address, or DIR/reports.sqlite. Never
 * prints the address (it may hold a password): libpq's reason names the
 * host and database only. */
static bt_collect *open_store(int durable)
{
    char *db = opt_store ? NULL : path_in_dir(BT_COLLECT_DB), why[512];
    bt_collect *c = NULL;
    bt_err err = bt_collect_open(&c, opt_store ? opt_store : db, durable, why, sizeof why);
    if (err != BT_OK && opt_store)
        fprintf(stderr, PROG ": cannot open the store given by --store: %s\n", why[0] ? why : bt_err_message(err));
    else if (err != BT_OK)
        fprintf(stderr, PROG ": cannot open %s: %s\n", db, bt_err_message(err));
    free(db);
    return c;
}

/* The union's key and its token policy (from the entry) into the store. */
static int use_keys(bt_collect *c, const bt_union *u, const unsigned char pk[32], const unsigned char *sk)
{
    bt_err err = bt_collect_set_key(c, pk, sk, u->pow_difficulty);
    if (err == BT_OK) err = bt_collect_set_tokens(c, u->tokens, u->token_key);
    if (err == BT_ERR_CORRUPT)
        fprintf(stderr, PROG ": %s/" BT_COLLECT_ENTRY ": its token_key is not the one of this union key\n", opt_dir);
    return err == BT_OK ? 0 : -1;
}

/* serve/ingest --previous-key: DIR/previous.key, the union key before a
 * rotation (docs/ADMIN.md section 5), under its own passphrase (the next
 * line of --passphrase-fd). */
static int use_previous_key(bt_collect *c)
{
    char *path = path_in_dir(BT_COLLECT_PREVIOUS_KEYFILE), *pass = NULL;
    unsigned char pk[crypto_box_PUBLICKEYBYTES], *sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
    int rc = 2;
    if (sk == NULL || (pass = read_secret("Previous union key passphrase: ")) == NULL) goto done;
    bt_err err = bt_collect_key_load(path, pass, strlen(pass), pk, sk);
    if (err != BT_OK) {
        fprintf(stderr, PROG ": --previous-key: %s: %s\n", path, bt_err_message(err));
        rc = err == BT_ERR_WRONG_PASSPHRASE ? 1 : 2;
        goto done;
    }
    if (sodium_memcmp(pk, c->pk, sizeof pk) == 0) {
        fprintf(stderr, PROG ": --previous-key: %s is the current key\n", path);
        goto done;
    }
    rc = bt_collect_set_previous_key(c, pk, sk) == BT_OK ? 0 : 2;
done:
    if (pass != NULL) sodium_free(pass);
    if (sk != NULL) sodium_free(sk);
    free(path);
    return rc;
}

/* ---- keygen ---- */

static int cmd_keygen(int argc, char **argv)
{
    enum { O_PASSFD = 256, O_KDF, O_ID, O_NAME, O_HOME, O_SUBMIT, O_POLICY, O_DIFF, O_TOKENS };
    static const struct option opts[] = {
        {"passphrase-fd", required_argument, NULL, O_PASSFD}, {"kdf", required_argument, NULL, O_KDF},
        {"id", required_argument, NULL, O_ID}, {"name", required_argument, NULL, O_NAME},
        {"homepage", required_argument, NULL, O_HOME}, {"submit-url", required_argument, NULL, O_SUBMIT},
        {"policy-url", required_argument, NULL, O_POLICY}, {"difficulty", required_argument, NULL, O_DIFF},
        {"tokens", required_argument, NULL, O_TOKENS},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *id = "demo-union", *name = "Demo union (local testing)";
    const char *home = "http://127.0.0.1:8470/", *submit = "http://127.0.0.1:8470/v1/reports";
    const char *policy = "http://127.0.0.1:8470/policy";
    bt_kdf_params kdf = bt_kdf_default();
    unsigned long diff = BT_REPORT_POW_DEFAULT;
    bt_tokens_policy tokens = BT_TOKENS_OFF;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_PASSFD: if (set_pass_fd(optarg) != 0) return 2; break;
        case O_KDF:
            if (strcmp(optarg, "interactive") == 0)
                kdf = (bt_kdf_params){crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
            else if (strcmp(optarg, "moderate") == 0)
                kdf = (bt_kdf_params){crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
            else if (strcmp(optarg, "sensitive") == 0)
                kdf = (bt_kdf_params){crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE};
            else {
                fprintf(stderr, PROG " keygen: --kdf: interactive, moderate or sensitive\n");
                return 2;
            }
            break;
        case O_ID: id = optarg; break;
        case O_NAME: name = optarg; break;
        case O_HOME: home = optarg; break;
        case O_SUBMIT: submit = optarg; break;
        case O_POLICY: policy = optarg; break;
        case O_DIFF:
            if (parse_uint(optarg, BT_REPORT_POW_MAX, &diff) != 0) {
                fprintf(stderr, PROG " keygen: --difficulty: 0-%d\n", BT_REPORT_POW_MAX);
                return 2;
            }
            break;
        case O_TOKENS:
            if (!strcmp(optarg, "off")) tokens = BT_TOKENS_OFF;
            else if (!strcmp(optarg, "counted")) tokens = BT_TOKENS_COUNTED;
            else if (!strcmp(optarg, "required")) tokens = BT_TOKENS_REQUIRED;
            else {
                fprintf(stderr, PROG " keygen: --tokens: off, counted or required\n");
                return 2;
            }
            break;
        case 'h':
            printf("Usage: " PROG " [--dir DIR] keygen [--passphrase-fd N] [--kdf interactive|moderate|sensitive]\n"
                   "         [--id ID] [--name NAME] [--homepage URL] [--submit-url URL]\n"
                   "         [--policy-url URL] [--difficulty BITS] [--tokens off|counted|required]\n"
                   "Makes the union's X25519 key pair. The secret key is written to DIR/" BT_COLLECT_KEYFILE
                   ",\nwrapped under Argon2id of a passphrase (asked twice on a terminal); the entry\n"
                   "people import (docs/REPORT.md) to DIR/" BT_COLLECT_ENTRY " and stdout. Refuses to\n"
                   "overwrite either. Defaults describe a demo union on 127.0.0.1:8470,\n"
                   "difficulty %d, kdf moderate.\n"
                   "--difficulty is the proof of work every report must carry (leading zero\n"
                   "bits, 0-%d), announced to senders in the entry: each bit doubles what a\n"
                   "report costs its sender; at %d one core seals a few reports a second.\n"
                   "--tokens: membership tokens (docs/REPORT.md section 5): 'required' refuses a\n"
                   "new report without one, 'counted' keeps it but leaves it out of the figures;\n"
                   "'off' (the default) issues none. Members get tokens with an invite code\n"
                   "(" PROG " invite).\n",
                   BT_REPORT_POW_DEFAULT, BT_REPORT_POW_MAX, BT_REPORT_POW_DEFAULT);
            return 0;
        default: return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG " keygen: unexpected argument: %s\n", argv[optind]);
        return 2;
    }
    bt_union u;
    memset(&u, 0, sizeof u);
    if (strlen(id) >= sizeof u.id || strlen(name) >= sizeof u.name || strlen(home) >= sizeof u.homepage ||
        strlen(submit) >= sizeof u.submit_url || strlen(policy) >= sizeof u.policy_url) {
        fprintf(stderr, PROG " keygen: an option is too long\n");
        return 2;
    }
    strcpy(u.id, id);
    strcpy(u.name, name);
    strcpy(u.homepage, home);
    strcpy(u.submit_url, submit);
    strcpy(u.policy_url, policy);
    u.pow_difficulty = (unsigned)diff;

    /* Check the options as an importer would, with a placeholder key (and
     * no token key yet: it comes with the key pair). */
    char text[ENTRY_MAX];
    size_t len = 0;
    const char *why = NULL;
    bt_union check;
    if (bt_report_union_render(text, sizeof text, &len, &u) != BT_OK ||
        bt_report_union_parse(&check, text, len, &why) != BT_OK) {
        fprintf(stderr, PROG " keygen: the entry would be refused: %s\n", why ? why : "too long");
        return 2;
    }
    if (mkdir(opt_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, PROG ": cannot create %s: %s\n", opt_dir, strerror(errno));
        return 2;
    }
    char *key_path = path_in_dir(BT_COLLECT_KEYFILE), *entry_path = path_in_dir(BT_COLLECT_ENTRY);
    int rc = 2;
    char *pass = NULL, *again = NULL;
    if (access(key_path, F_OK) == 0 || access(entry_path, F_OK) == 0) {
        fprintf(stderr, PROG " keygen: %s or %s exists already; not overwriting\n", key_path, entry_path);
        goto done;
    }
    pass = read_secret("New passphrase for the union key: ");
    if (pass == NULL) goto done;
    if (pass_in == NULL) {
        again = read_secret("Again: ");
        if (again == NULL) goto done;
        if (strcmp(pass, again) != 0) {
            fprintf(stderr, PROG " keygen: the passphrases differ\n");
            rc = 1;
            goto done;
        }
    }
    bt_err err = bt_collect_keygen(key_path, pass, strlen(pass), &kdf, u.public_key, u.token_key);
    u.tokens = tokens;
    if (err != BT_OK) {
        fprintf(stderr, PROG " keygen: %s: %s\n", key_path, bt_err_message(err));
        rc = err == BT_ERR_WEAK_PASSPHRASE ? 1 : 2;
        goto done;
    }
    if (bt_report_union_render(text, sizeof text, &len, &u) != BT_OK) goto done;
    int fd = open(entry_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
        fprintf(stderr, PROG " keygen: cannot write %s\n", entry_path);
        goto done;
    }
    fputs(text, stdout);
    rc = 0;
done:
    if (pass != NULL) sodium_free(pass);
    if (again != NULL) sodium_free(again);
    free(key_path);
    free(entry_path);
    return rc;
}

/* ---- ingest ---- */

static int cmd_ingest(int argc, char **argv)
{
    static const struct option opts[] = {{"passphrase-fd", required_argument, NULL, 'p'},
                                         {"previous-key", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o, previous = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'p') {
            if (set_pass_fd(optarg) != 0) return 2;
        } else if (o == 'k') {
            previous = 1;
        } else if (o == 'h') {
            printf("Usage: " PROG " [--dir DIR] ingest [--passphrase-fd N] [--previous-key] FILE...\n"
                   "Stores reports saved as files (the base64 text, a final newline allowed).\n"
                   "Each file is checked as the receiver checks a POST. Exit 1 when any is refused.\n"
                   "--previous-key: as serve's.\n");
            return 0;
        } else {
            return 2;
        }
    }
    if (optind == argc) {
        fprintf(stderr, PROG " ingest: no FILE given\n");
        return 2;
    }
    bt_union u;
    unsigned char pk[32], *sk = NULL;
    int rc = load_union(&u, pk, &sk);
    if (rc != 0) return rc;
    bt_collect *c = open_store(0);
    long accepted = 0, updated = 0, refused = 0;
    if (c == NULL || use_keys(c, &u, pk, sk) != 0 || (previous && (rc = use_previous_key(c)) != 0) ||
        bt_collect_begin(c) != BT_OK) {
        if (rc == 0) rc = 2;
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        size_t len = 0;
        char *text = read_small_file(argv[i], BT_REPORT_WIRE_MAX + 16, &len);
        const char *why = NULL;
        bt_collect_result res;
        bt_err err;
        if (text == NULL) {
            fprintf(stderr, "%s: refused: %s\n", argv[i], errno == EFBIG ? "larger than any report" : strerror(errno));
            refused++;
            continue;
        }
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
        err = bt_collect_submit(c, text, len, &res, &why);
        free(text);
        if (err == BT_OK) {
            accepted++;
            updated += res.updated;
        } else if (err == BT_ERR_STORAGE || err == BT_ERR_BUSY || err == BT_ERR_NO_MEMORY) {
            fprintf(stderr, "%s: %s\n", argv[i], bt_err_message(err));
            rc = 2;
            goto done;
        } else {
            fprintf(stderr, "%s: refused: %s (%s)\n", argv[i], bt_err_code(err), why ? why : bt_err_message(err));
            refused++;
        }
    }
    if (bt_collect_commit(c) != BT_OK) {
        fprintf(stderr, PROG " ingest: the store could not be written\n");
        rc = 2;
        goto done;
    }
    printf("accepted %ld (%ld updated an earlier report), refused %ld\n", accepted, updated, refused);
    rc = refused ? 1 : 0;
done:
    bt_collect_close(c);
    sodium_free(sk);
    return rc;
}

/* ---- invite ---- */

static int cmd_invite(int argc, char **argv)
{
    static const struct option opts[] = {{"count", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    unsigned long count = 0;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'c') {
            if (parse_uint(optarg, BT_COLLECT_INVITE_MAX, &count) != 0 || count == 0) {
                fprintf(stderr, PROG " invite: --count: 1-%d tokens\n", BT_COLLECT_INVITE_MAX);
                return 2;
            }
        } else if (o == 'h') {
            printf("Usage: " PROG " [--dir DIR] invite --count N\n"
                   "Prints a new invite code worth N membership tokens, for one member: with it\n"
                   "their Bantrail asks serve (POST /v1/tokens) for N tokens, blindly signed, so that\n"
                   "the union cannot tell later which member spent which (docs/REPORT.md section 5).\n"
                   "Hand each member their own code, over a channel you trust; a new budget is a\n"
                   "new code. Only a hash of the code is stored. Needs no passphrase.\n");
            return 0;
        } else {
            return 2;
        }
    }
    if (optind != argc || count == 0) {
        fprintf(stderr, PROG " invite: give --count N\n");
        return 2;
    }
    bt_collect *c = open_store(1);
    unsigned char code[BT_COLLECT_INVITE_BYTES];
    char hex[2 * BT_COLLECT_INVITE_BYTES + 1];
    if (c == NULL) return 2;
    bt_err err = bt_collect_invite(c, (unsigned)count, code);
    bt_collect_close(c);
    if (err != BT_OK) {
        fprintf(stderr, PROG " invite: %s\n", bt_err_message(err));
        return 2;
    }
    sodium_bin2hex(hex, sizeof hex, code, sizeof code);
    printf("%s\n", hex);
    sodium_memzero(code, sizeof code);
    sodium_memzero(hex, sizeof hex);
    return 0;
}

/* ---- report / export ---- */

static int write_out(const char *path, const char *data, size_t len)
{
    FILE *f = path ? fopen(path, "w") : stdout;
    if (f == NULL || fwrite(data, 1, len, f) != len || (path ? fclose(f) : fflush(f)) != 0) {
        fprintf(stderr, PROG ": cannot write %s\n", path ? path : "stdout");
        return 2;
    }
    return 0;
}

static int cmd_report(int argc, char **argv, int export)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"table", required_argument, NULL, 't'},
        {"min-cell", required_argument, NULL, 'm'}, {"output", required_argument, NULL, 'o'},
        {"lang", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bt_collect_format fmt = BT_COLLECT_JSON;
    bt_collect_table table = BT_COLLECT_WEEKLY;
    unsigned long min_cell = BT_COLLECT_MIN_CELL;
    const char *output = NULL, *lang = "en";
    int o;
    while ((o = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (o) {
        case 'f':
            if (export) goto bad;
            if (strcmp(optarg, "json") == 0) fmt = BT_COLLECT_JSON;
            else if (strcmp(optarg, "csv") == 0) fmt = BT_COLLECT_CSV;
            else if (strcmp(optarg, "html") == 0) fmt = BT_COLLECT_HTML;
            else {
                fprintf(stderr, PROG " report: --format: json, csv or html\n");
                return 2;
            }
            break;
        case 't':
            if (!export) goto bad;
            if (strcmp(optarg, "weekly") == 0) table = BT_COLLECT_WEEKLY;
            else if (strcmp(optarg, "appeals") == 0) table = BT_COLLECT_APPEALS;
            else {
                fprintf(stderr, PROG " export: --table: weekly or appeals\n");
                return 2;
            }
            break;
        case 'm':
            if (!export || parse_uint(optarg, 1000000, &min_cell) != 0 || min_cell < BT_COLLECT_MIN_CELL) {
                fprintf(stderr, PROG " export: --min-cell: a number of at least %d\n", BT_COLLECT_MIN_CELL);
                return 2;
            }
            break;
        case 'o': output = optarg; break;
        case 'l':
            if (export || (strcmp(optarg, "en") != 0 && strcmp(optarg, "fr") != 0 && strcmp(optarg, "ko") != 0)) {
                fprintf(stderr, PROG " report: --lang: en, fr or ko\n");
                return 2;
            }
            lang = optarg;
            break;
        case 'h':
            if (export)
                printf("Usage: " PROG " [--dir DIR] export [--table weekly|appeals] [--min-cell N] [-o FILE]\n"
                       "Open data as CSV. weekly: reports per ISO week, platform and kind;\n"
                       "appeals: appeals per platform, outcome and response delay. A cell under\n"
                       "N reports (default and least %d) is written as \"<N\". No totals are\n"
                       "written, so suppressed cells cannot be recovered by subtraction.\n",
                       BT_COLLECT_MIN_CELL);
            else
                printf("Usage: " PROG " [--dir DIR] report [--format json|csv|html] [--lang en|fr|ko] [-o FILE]\n"
                       "The figures: counts by platform, kind, stated reason and ISO week;\n"
                       "appeal outcomes, the response-delay distribution and the share of\n"
                       "answered appeals decided within 10 minutes; account type, paid\n"
                       "verification and country. html is one page in --lang (default en) with\n"
                       "an SVG chart for each, to download, that needs no JavaScript; there a value\n"
                       "given by fewer than %d reports is only counted among \"others\".\n"
                       "Needs no passphrase.\n",
                       BT_COLLECT_MIN_CELL);
            return 0;
        default:
        bad:
            if (o != '?') fprintf(stderr, PROG ": option not valid for this command\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument: %s\n", argv[optind]);
        return 2;
    }
    bt_collect *c = open_store(0);
    char *out = NULL;
    size_t len = 0;
    int rc = 2;
    if (c == NULL) return 2;
    bt_err err = export ? bt_collect_export(c, table, (int)min_cell, &out, &len)
                        : bt_collect_report_in(c, fmt, lang, &out, &len);
    if (err != BT_OK) fprintf(stderr, PROG ": %s\n", bt_err_message(err));
    else rc = write_out(output, out, len);
    free(out);
    bt_collect_close(c);
    return rc;
}

/* ---- serve ---- */

typedef struct {
    bt_collect *store;
    size_t cap;
    bt_guard *guard;
    unsigned max_conns;  /* above this many open connections, 503 */
    unsigned difficulty; /* the proof of work demanded, told with insufficient_work */
    bt_rate *rate;       /* the per-address report rate; NULL: none */
} server;

typedef struct {
    size_t len;
    int too_big;
    int tokens;          /* POST /v1/tokens: an issuance request, not a report */
    int charged;         /* a token was taken for this report and not yet kept */
    uint64_t tag;        /* whose bucket (a keyed hash, never the address) */
    char body[];
} upload;

/* retry_after: seconds for a Retry-After header (and Connection: close), or 0. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *json, unsigned retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (r == NULL) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    /* Reports are anonymous and carry no credentials: any origin may send. */
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED || status == MHD_HTTP_NO_CONTENT) {
        MHD_add_response_header(r, "Allow", "POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type");
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
                                   const char *message)
{
    char buf[512];
    /* code and message are static ASCII without quotes or backslashes */
    snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", code, message);
    return reply(conn, status, buf, status == MHD_HTTP_SERVICE_UNAVAILABLE ? BUSY_RETRY : 0);
}

static unsigned status_of(bt_err err)
{
    switch (err) {
    case BT_ERR_FRAME_TOO_LARGE: return MHD_HTTP_CONTENT_TOO_LARGE;
    case BT_ERR_BAD_ENVELOPE:
    case BT_ERR_WRONG_KEY:
    case BT_ERR_BAD_POW:
    case BT_ERR_CORRUPT: return MHD_HTTP_BAD_REQUEST;
    case BT_ERR_BAD_REPORT: return MHD_HTTP_UNPROCESSABLE_CONTENT;
    case BT_ERR_REPLAYED: return MHD_HTTP_CONFLICT;
    case BT_ERR_NOT_OWNER:
    case BT_ERR_BAD_TOKEN:
    case BT_ERR_TOKEN_SPENT:
    case BT_ERR_TOKEN_REQUIRED: return MHD_HTTP_FORBIDDEN;
    case BT_ERR_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
    case BT_ERR_BUSY: return MHD_HTTP_SERVICE_UNAVAILABLE;
    default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* POST /v1/tokens: {"invite": hex code, "blinded": [base64 of M, ...]} ->
 * 200 {"evaluated": [base64 of Z], "proofs": [base64 of the DLEQ proof],
 * "left": tokens the code has left} (docs/REPORT.md section 5). */
static enum MHD_Result issue_tokens(server *s, struct MHD_Connection *conn, const upload *up)
{
    static unsigned char m[BT_TOKEN_BATCH_MAX][BT_TOKEN_POINT_BYTES], z[BT_TOKEN_BATCH_MAX][BT_TOKEN_POINT_BYTES];
    static unsigned char proof[BT_TOKEN_BATCH_MAX][BT_TOKEN_PROOF_BYTES];
    unsigned char code[BT_COLLECT_INVITE_BYTES];
    json_object *req = NULL, *arr = NULL, *v;
    const char *hex = NULL, *why = "the body is not a JSON object of invite and blinded, nothing else";
    size_t n = 0, got = 0;
    int64_t left = 0;
    enum MHD_Result ret;
    bt_err err = bt_json_parse(up->body, up->len, 4, &req);
    if (err == BT_OK && (!json_object_is_type(req, json_type_object) || json_object_object_length(req) != 2 ||
                         bt_json_member_string(req, "invite", 1, 2 * BT_COLLECT_INVITE_BYTES, &hex, NULL, NULL) != BT_OK ||
                         bt_json_member(req, "blinded", json_type_array, 1, &arr, NULL) != BT_OK))
        err = BT_ERR_BAD_PARAMS;
    if (err == BT_OK && (sodium_hex2bin(code, sizeof code, hex, strlen(hex), NULL, &got, NULL) != 0 || got != sizeof code)) {
        why = "invite: not the 32 hex digits of an invite code";
        err = BT_ERR_BAD_PARAMS;
    }
    if (err == BT_OK && ((n = json_object_array_length(arr)) < 1 || n > BT_TOKEN_BATCH_MAX)) {
        why = "blinded: 1 to 100 elements";
        err = BT_ERR_BAD_PARAMS;
    }
    for (size_t i = 0; err == BT_OK && i < n; i++) {
        const char *b = json_object_get_string(v = json_object_array_get_idx(arr, i)), *end = NULL;
        if (!json_object_is_type(v, json_type_string) ||
            sodium_base642bin(m[i], sizeof m[i], b, strlen(b), NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != sizeof m[i] || *end != '\0') {
            why = "blinded: each the base64 of 32 bytes";
            err = BT_ERR_BAD_PARAMS;
        }
    }
    json_object_put(req);
    if (err == BT_OK) err = bt_collect_issue(s->store, code, (const unsigned char (*)[BT_TOKEN_POINT_BYTES])m, n, z, proof,
                                             &left, &why);
    sodium_memzero(code, sizeof code);
    if (err == BT_ERR_BAD_JSON) why = "the body is not JSON";
    if (err != BT_OK) {
        unsigned status = err == BT_ERR_BAD_INVITE ? MHD_HTTP_FORBIDDEN
                        : err == BT_ERR_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
                        : err == BT_ERR_STORAGE || err == BT_ERR_NO_MEMORY ? MHD_HTTP_INTERNAL_SERVER_ERROR
                        : MHD_HTTP_BAD_REQUEST;
        return reply_error(conn, status, err == BT_ERR_BAD_JSON ? "bad_params" : bt_err_code(err), why);
    }
    json_object *o = json_object_new_object(), *ev = json_object_new_array(), *pr = json_object_new_array();
    char b64[sodium_base64_ENCODED_LEN(BT_TOKEN_PROOF_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    for (size_t i = 0; i < n; i++) {
        sodium_bin2base64(b64, sizeof b64, z[i], sizeof z[i], sodium_base64_VARIANT_ORIGINAL);
        json_object_array_add(ev, json_object_new_string(b64));
        sodium_bin2base64(b64, sizeof b64, proof[i], sizeof proof[i], sodium_base64_VARIANT_ORIGINAL);
        json_object_array_add(pr, json_object_new_string(b64));
    }
    json_object_object_add(o, "evaluated", ev);
    json_object_object_add(o, "proofs", pr);
    json_object_object_add(o, "left", json_object_new_int64(left));
    ret = reply(conn, MHD_HTTP_OK, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), 0);
    json_object_put(o);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **ctx)
{
    server *s = cls;
    upload *up = *ctx;
    (void)version;
    if (up == NULL) {
        const char *cl;
        unsigned long n;
        if (bt_guard_open_count(s->guard) > s->max_conns)
            return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "the collector is full; try again later");
        int tokens = s->store->tokens != BT_TOKENS_OFF && strcmp(url, "/v1/tokens") == 0;
        if (strcmp(url, "/v1/reports") != 0 && !tokens)
            return reply_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such path");
        if (strcmp(method, "OPTIONS") == 0) return reply(conn, MHD_HTTP_NO_CONTENT, "", 0);
        if (strcmp(method, "POST") != 0)
            return reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "POST a report here");
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && (parse_uint(cl, ULONG_MAX, &n) != 0 || n > s->cap))
            return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "frame_too_large", "the body is larger than any report");
        uint64_t tag = 0;
        if (s->rate != NULL && !tokens) { /* the only place the client's address is asked for */
            const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            tag = bt_rate_tag(s->rate, ci != NULL ? ci->client_addr : NULL);
            double wait = bt_rate_take(s->rate, tag, bt_guard_now());
            if (wait > 0) {
                char buf[256];
                snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"too_many_reports\",\"message\":"
                                          "\"too many reports from this address; try again later\"}}\n");
                return reply(conn, MHD_HTTP_TOO_MANY_REQUESTS, buf, (unsigned)wait + 1);
            }
        }
        up = malloc(sizeof *up + s->cap);
        if (up == NULL) {
            if (s->rate != NULL) bt_rate_give_back(s->rate, tag, bt_guard_now());
            return MHD_NO;
        }
        up->len = 0;
        up->too_big = 0;
        up->tokens = tokens;
        up->charged = s->rate != NULL && !tokens;
        up->tag = tag;
        *ctx = up;
        return MHD_YES;
    }
    if (*data_size != 0) {
        if (up->too_big || *data_size > s->cap - up->len) up->too_big = 1;
        else {
            memcpy(up->body + up->len, data, *data_size);
            up->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (up->too_big)
        return reply_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "frame_too_large", "the body is larger than any report");
    if (up->tokens) return issue_tokens(s, conn, up);
    const char *why = NULL;
    bt_collect_result res;
    bt_err err = bt_collect_submit(s->store, up->body, up->len, &res, &why);
    if (err == BT_ERR_BAD_POW) { /* say how much work is demanded: the entry may have changed */
        char buf[256];
        snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"difficulty\":%u}}\n",
                 bt_err_code(err), why ? why : bt_err_message(err), s->difficulty);
        return reply(conn, MHD_HTTP_BAD_REQUEST, buf, 0);
    }
    if (err != BT_OK) return reply_error(conn, status_of(err), bt_err_code(err), why ? why : bt_err_message(err));
    char hex[2 * BT_REPORT_ID_BYTES + 1], buf[160];
    sodium_bin2hex(hex, sizeof hex, res.id, sizeof res.id);
    snprintf(buf, sizeof buf, "{\"status\":\"%s\",\"report_id\":\"%s\",\"updated\":%s}\n",
             res.withdrawn ? "withdrawn" : "accepted", hex, res.updated ? "true" : "false");
    up->charged = 0; /* an accepted report keeps its token */
    return reply(conn, MHD_HTTP_ACCEPTED, buf, 0);
}

/* A request is over: a report that was not accepted gives its token back. */
static void completed(void *cls, struct MHD_Connection *conn, void **ctx, enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    upload *up = *ctx;
    (void)conn;
    (void)toe;
    if (up != NULL && up->charged) bt_rate_give_back(s->rate, up->tag, bt_guard_now());
    free(up);
    *ctx = NULL;
}

/* Every accepted connection gets a slot in the guard, with its deadline. */
static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                              enum MHD_ConnectionNotificationCode code)
{
    bt_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_ctx = ci != NULL ? bt_guard_open(g, ci->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        bt_guard_close(g, *socket_ctx);
        *socket_ctx = NULL;
    }
}

/* Room for the descriptors serve needs: each connection's socket and the
 * guard's duplicate, plus the store, the listener and a margin. */
static int reserve_descriptors(unsigned long conns)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)(2 * conns + 64);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur >= need) return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr, PROG " serve: --max-connections %lu needs %lu open files; this system allows %lu "
                        "(ulimit -n)\n", conns, (unsigned long)need, (unsigned long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = need;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* One of serve's limits: arg a number lo..hi into *out, or -1 after saying why. */
static int serve_limit(const char *flag, const char *arg, unsigned long lo, unsigned long hi, const char *unit,
                       unsigned long *out)
{
    if (parse_uint(arg, hi, out) == 0 && *out >= lo) return 0;
    fprintf(stderr, PROG " serve: %s: %lu-%lu%s\n", flag, lo, hi, unit);
    return -1;
}

static int cmd_serve(int argc, char **argv)
{
    enum { O_MAXCONN = 256, O_PERADDR, O_IDLE, O_LIFETIME, O_RATE, O_BURST, O_PREVIOUS };
    static const struct option opts[] = {
        {"passphrase-fd", required_argument, NULL, 'p'}, {"listen", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'P'}, {"max-body", required_argument, NULL, 'm'},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"per-address", required_argument, NULL, O_PERADDR}, {"idle-timeout", required_argument, NULL, O_IDLE},
        {"request-timeout", required_argument, NULL, O_LIFETIME},
        {"reports-per-minute", required_argument, NULL, O_RATE}, {"burst", required_argument, NULL, O_BURST},
        {"previous-key", no_argument, NULL, O_PREVIOUS},
        {"demo", no_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *listen_addr = "127.0.0.1";
    int previous = 0;
    unsigned long port = 8470, cap = BODY_CAP_DEFAULT, max_conns = CONN_MAX_DEFAULT, per_addr = ULONG_MAX;
    unsigned long idle = IDLE_DEFAULT, lifetime = LIFETIME_DEFAULT, rate = ULONG_MAX, burst = BURST_DEFAULT;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'p': if (set_pass_fd(optarg) != 0) return 2; break;
        case 'l': listen_addr = optarg; break;
        case 'd': use_demo_key = 1; break;
        case O_PREVIOUS: previous = 1; break;
        case 'P':
            if (parse_uint(optarg, 65535, &port) != 0) {
                fprintf(stderr, PROG " serve: --port: 0-65535 (0: any free port)\n");
                return 2;
            }
            break;
        case 'm':
            if (parse_uint(optarg, 1 << 20, &cap) != 0 || cap < BT_REPORT_WIRE_MAX) {
                fprintf(stderr, PROG " serve: --max-body: %d to 1048576 bytes\n", BT_REPORT_WIRE_MAX);
                return 2;
            }
            break;
        case O_MAXCONN: if (serve_limit("--max-connections", optarg, 1, 100000, "", &max_conns)) return 2; break;
        case O_PERADDR: if (serve_limit("--per-address", optarg, 0, 100000, " (0: no limit)", &per_addr)) return 2; break;
        case O_IDLE: if (serve_limit("--idle-timeout", optarg, 1, 3600, " seconds", &idle)) return 2; break;
        case O_LIFETIME: if (serve_limit("--request-timeout", optarg, 1, 3600, " seconds", &lifetime)) return 2; break;
        case O_RATE: if (serve_limit("--reports-per-minute", optarg, 0, 100000, " (0: no limit)", &rate)) return 2; break;
        case O_BURST: if (serve_limit("--burst", optarg, 1, 100000, "", &burst)) return 2; break;
        case 'h':
            printf("Usage: " PROG " [--dir DIR] serve [--passphrase-fd N] [--listen ADDR] [--port N]\n"
                   "         [--max-body BYTES] [--max-connections N] [--per-address N]\n"
                   "         [--idle-timeout SECONDS] [--request-timeout SECONDS]\n"
                   "         [--reports-per-minute N] [--burst N] [--previous-key] [--demo]\n"
                   "--previous-key also opens reports sealed to the union's key before a\n"
                   "rotation: DIR/" BT_COLLECT_PREVIOUS_KEYFILE " (the old union.key), whose passphrase is\n"
                   "asked next (docs/ADMIN.md section 5).\n"
                   "--demo receives for Bantrail's built-in demo union, whose key comes from a\n"
                   "published seed (anyone can read those reports): for trying it on one computer.\n"
                   "Receives reports and withdrawals: POST /v1/reports with the base64 text as\n"
                   "the body. 202 when stored or withdrawn; 4xx with {\"error\": {\"code\", \"message\"}} when refused\n"
                   "(413 too large, 400 not a report for this key or without the proof of work,\n"
                   "then with the \"difficulty\" demanded; 422 against the schema, 409 replayed,\n"
                   "403 not_owner: an update or withdrawal not signed by the report's first sender,\n"
                   "404 a withdrawal of an id never received);\n"
                   "429 with Retry-After past the address's rate, 503 with Retry-After when full.\n"
                   "Listens on 127.0.0.1:8470 by default (port 0: any free port); prints the\n"
                   "address once listening. Logs and stores no address. Stops on SIGINT or SIGTERM.\n"
                   "\n"
                   "Limits, so that one client cannot stall it (docs/REPORT.md \"Limits\"):\n"
                   "  --max-body BYTES         largest body read (default %d)\n"
                   "  --max-connections N      open connections in all; beyond, 503 (default %d)\n"
                   "  --per-address N          open connections from one IP address; more are\n"
                   "                           closed at once (default %d; 0: no limit)\n"
                   "  --idle-timeout SECONDS   cut a connection silent this long (default %d)\n"
                   "  --request-timeout SECONDS\n"
                   "                           cut a connection this long after it was accepted,\n"
                   "                           however slowly it keeps sending (default %d)\n"
                   "  --reports-per-minute N   reports accepted from one IP address (an IPv6 /64)\n"
                   "                           a minute, after a burst; beyond, 429 (default %d;\n"
                   "                           0: no limit). The address is only hashed, under a\n"
                   "                           key made at start, and kept in memory only\n"
                   "  --burst N                reports one address may send at once (default %d)\n"
                   "On a loopback address (the default: behind the union's TLS front, where every\n"
                   "connection comes from the front) --per-address and --reports-per-minute\n"
                   "default to 0: the front limits per address (docs/REPORT.md \"Limits\").\n",
                   BODY_CAP_DEFAULT, CONN_MAX_DEFAULT, PER_ADDR_DEFAULT, IDLE_DEFAULT, LIFETIME_DEFAULT,
                   RATE_DEFAULT, BURST_DEFAULT);
            return 0;
        default: return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG " serve: unexpected argument: %s\n", argv[optind]);
        return 2;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (inet_pton(AF_INET, listen_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, listen_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, PROG " serve: --listen: not an IP address: %s\n", listen_addr);
        return 2;
    }
    /* Behind the front, every connection comes from the front's address:
     * per-address limits there would hold everyone back together. */
    int loopback = v4->sin_family == AF_INET ? (ntohl(v4->sin_addr.s_addr) >> 24) == 127
                                             : IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
    if (per_addr == ULONG_MAX) per_addr = loopback ? 0 : PER_ADDR_DEFAULT;
    if (rate == ULONG_MAX) rate = loopback ? 0 : RATE_DEFAULT;

    bt_union u;
    unsigned char pk[32], *sk = NULL;
    int rc = load_union(&u, pk, &sk);
    if (rc != 0) return rc;
    unsigned slots = (unsigned)max_conns + CONN_HEADROOM;
    server s = {open_store(1), cap, bt_guard_new(slots, (unsigned)lifetime), (unsigned)max_conns,
                u.pow_difficulty, rate > 0 ? bt_rate_new(RATE_SLOTS, (double)rate, (double)burst) : NULL};
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    rc = 2;
    if (s.store == NULL || use_keys(s.store, &u, pk, sk) != 0) goto done;
    if (previous && (rc = use_previous_key(s.store)) != 0) goto done;
    rc = 2;
    if (s.guard == NULL || (rate > 0 && s.rate == NULL) || reserve_descriptors(slots) != 0) goto done;
    sodium_free(sk); /* the store keeps its own copy */
    sk = NULL;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL); /* the server thread inherits the mask */
    d = MHD_start_daemon(flags, 0, NULL, NULL, handle, &s,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, &s,
                         MHD_OPTION_NOTIFY_CONNECTION, connection_notify, s.guard,
                         MHD_OPTION_CONNECTION_LIMIT, slots,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)per_addr,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)idle,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                         MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, PROG " serve: cannot listen on %s port %lu\n", listen_addr, port);
        goto done;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://%s%s%s:%u/v1/reports\n", v6->sin6_family == AF_INET6 ? "[" : "", listen_addr,
           v6->sin6_family == AF_INET6 ? "]" : "", info ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);
    fprintf(stderr, PROG " serve: limits: %lu connections, %lu per address, idle %lu s, request %lu s, "
                    "%lu reports a minute per address (burst %lu); 0: no limit\n",
            max_conns, per_addr, idle, lifetime, rate, burst);
    /* The watchdog: four times a second, cut the connections past their
     * deadline, until SIGINT or SIGTERM. */
    for (;;) {
        struct timespec tick = {0, 250 * 1000 * 1000};
        if (sigtimedwait(&set, NULL, &tick) >= 0) break;
        bt_guard_expire(s.guard, bt_guard_now());
    }
    MHD_stop_daemon(d);
    fprintf(stderr, PROG " serve: stopped\n");
    rc = 0;
done:
    bt_collect_close(s.store);
    bt_guard_free(s.guard);
    bt_rate_free(s.rate);
    if (sk != NULL) sodium_free(sk);
    return rc;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"store", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int o, rc;
    char *home_dir = NULL;
    const char *home = getenv("BANTRAIL_HOME");
    if (home != NULL && home[0] != '\0') {
        size_t n = strlen(home) + sizeof "/collector";
        if ((home_dir = malloc(n)) == NULL) return 2;
        snprintf(home_dir, n, "%s/collector", home);
        opt_dir = home_dir;
    }
    /* "+": stop at the command; its options are parsed by the command. */
    while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (o == 'd') opt_dir = optarg;
        else if (o == 's') {
            if (strncmp(optarg, "postgresql://", 13) != 0 && strncmp(optarg, "postgres://", 11) != 0) {
                fprintf(stderr, PROG ": --store: a postgresql:// address (the SQLite file is the default)\n");
                return 2;
            }
            opt_store = optarg;
        } else if (o == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, PROG ": libsodium failed to start\n");
        return 2;
    }
    const char *cmd = argv[optind];
    int cargc = argc - optind;
    char **cargv = argv + optind;
    optind = 1;
    if (strcmp(cmd, "keygen") == 0) rc = cmd_keygen(cargc, cargv);
    else if (strcmp(cmd, "serve") == 0) rc = cmd_serve(cargc, cargv);
    else if (strcmp(cmd, "ingest") == 0) rc = cmd_ingest(cargc, cargv);
    else if (strcmp(cmd, "invite") == 0) rc = cmd_invite(cargc, cargv);
    else if (strcmp(cmd, "report") == 0) rc = cmd_report(cargc, cargv, 0);
    else if (strcmp(cmd, "export") == 0) rc = cmd_report(cargc, cargv, 1);
    else {
        fprintf(stderr, PROG ": unknown command: %s\n", cmd);
        usage(stderr);
        rc = 2;
    }
    if (pass_in != NULL) fclose(pass_in);
    free(home_dir);
    return rc;
}
