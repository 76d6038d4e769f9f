/* Benchmark of the native host, each figure beside its raw floor measured in
 * the same run. Prints figures; asserts nothing about time.
 *
 *   bench_host BUILD_DIR [SCALE]    (SCALE 1 = full run; 0.05 = smoke run)
 *
 * - cold start: fork+exec of bantrail-host to its hello reply (existing log);
 *   floor: fork+exec of /bin/true to its exit.
 * - capture round trip of a 2 KiB notice while the log is locked, p50/p99,
 *   in the two states a log's write-ahead file can be in:
 *   - fresh: the file grows with each commit, as it does after each host
 *     start (the last connection to close removes it); hosts started in
 *     turn, each making BATCH captures from 100 ms after its hello. This is
 *     what a person's host sees: a few captures a day.
 *   - long-running: after a checkpoint the file is written over in place,
 *     which the disk does faster; one host, after WARM_UP captures.
 *   floor: one durable SQLite commit (WAL, synchronous=FULL) of 2 KiB, in
 *   the same state (reopened like the host, or kept open), alternating with
 *   the captures so that both see the same disk.
 * - sustained captures per second (pipelined); floor: durable commits/s.
 * - unlock with the default Argon2id parameters; floor: crypto_pwhash alone.
 */
#include <json-c/json.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/frame.h"
#include "bantrail/vault.h"
#include "bench.h"
#include "check.h"


typedef struct {
    pid_t pid;
    int to, from;
} host;

static host start_host(const char *bin, const char *home)
{
    int in[2], out[2];
    host h;
    if (pipe(in) != 0 || pipe(out) != 0) abort();
    h.pid = fork();
    if (h.pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        setenv("BANTRAIL_HOME", home, 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    h.to = in[1];
    h.from = out[0];
    return h;
}

static void stop_host(host *h)
{
    close(h->to);
    int st;
    waitpid(h->pid, &st, 0);
    close(h->from);
}

static void send_req(host *h, const char *json)
{
    if (bt_frame_write(h->to, json, strlen(json)) != BT_OK) abort();
}

/* Reads one reply; aborts unless it is a result. */
static void expect_result(host *h)
{
    char *body;
    size_t len;
    bt_err err;
    if (bt_frame_read(h->from, BT_FRAME_OUT_MAX, &body, &len, &err) != BT_FRAME_READ || err != BT_OK ||
        strstr(body, "\"result\"") == NULL) {
        fprintf(stderr, "bench: unexpected reply\n");
        abort();
    }
    free(body);
}

static char *capture_request(int id)
{
    static char text[2049];
    char *req = malloc(4096);
    static int serial;
    static const char notice[] = "We suspended your account. You have 30 days left to disagree. ";
    if (text[0] == '\0') {
        for (int i = 0; i < 2048; i++) text[i] = notice[i % (sizeof notice - 1)];
        text[2048] = '\0';
    }
    /* a distinct notice each time, so none is folded into an earlier one */
    char num[16];
    int k = snprintf(num, sizeof num, "%010d", ++serial);
    memcpy(text, num, (size_t)k);
    snprintf(req, 4096,
             "{\"id\":%d,\"method\":\"capture\",\"params\":{\"url\":\"https://www.instagram.com/accounts/"
             "suspended/\",\"text\":\"%s\"}}", id, text);
    return req;
}

#define BATCH 100    /* captures per host in the fresh state */
#define WARM_UP 400  /* captures before the long-running state: past the first checkpoint */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *st;
    unsigned char blob[2048 + 40]; /* the size of a sealed 2 KiB record */
} floor_db;

/* Opens (or opens again) the floor's database in dir. */
static void floor_open(floor_db *f, const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/floor.sqlite", dir);
    if (sqlite3_open(path, &f->db) != SQLITE_OK ||
        sqlite3_exec(f->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                            "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, b BLOB)", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(f->db, "INSERT INTO t(b) VALUES (?)", -1, &f->st, NULL) != SQLITE_OK)
        abort();
    randombytes_buf(f->blob, sizeof f->blob);
}

/* One durable commit of one 2 KiB row: the raw floor of a capture. */
static void floor_commit(floor_db *f)
{
    sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_bind_blob(f->st, 1, f->blob, sizeof f->blob, SQLITE_STATIC);
    sqlite3_step(f->st);
    sqlite3_reset(f->st);
    if (sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) abort();
}

static void floor_close(floor_db *f)
{
    sqlite3_finalize(f->st);
    sqlite3_close(f->db);
}

/* Capture i's round trip into lat[i], then one floor commit into flat[i]. */
static void round_trip(host *h, floor_db *f, int i, double *lat, double *flat)
{
    char *req = capture_request(i);
    double a = now_us();
    send_req(h, req);
    expect_result(h);
    lat[i] = now_us() - a;
    free(req);
    a = now_us();
    floor_commit(f);
    flat[i] = now_us() - a;
}

static void print_round_trip(const char *state, double *lat, double *flat, int n)
{
    double rt50 = pct(lat, n, 0.5), rt99 = pct(lat, n, 0.99), f50 = pct(flat, n, 0.5), f99 = pct(flat, n, 0.99);
    printf("capture 2 KiB, locked, %-12s p50 %6.0f us  p99 %6.0f us   (floor: durable commit p50 %.0f us p99 %.0f us; "
           "ratio p50 %.2fx)\n", state, rt50, rt99, f50, f99, rt50 / f50);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_host BUILD_DIR [SCALE]\n");
        return 2;
    }
    double scale = argc > 2 ? atof(argv[2]) : 1.0;
    int n_cold = (int)(100 * scale) + 3, n_rt = (int)(1000 * scale) + 10, n_sus = (int)(3000 * scale) + 10;
    int warm_up = scale >= 1 ? WARM_UP : (int)(WARM_UP * scale);
    int n_unlock = scale >= 1 ? 5 : 1;
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/bantrail-host", argv[1]);
    if (sodium_init() < 0) return 2;
    char *home = test_tmpdir();
    double *lat = calloc((size_t)(n_sus + warm_up + n_rt + n_cold), sizeof *lat);
    double *flat = calloc((size_t)(warm_up + n_rt), sizeof *flat);
    double a, floor_us = 0;
    floor_db fl;

    /* a protected, locked log with one record */
    bt_vault *v;
    if (bt_vault_open(&v, home) != BT_OK) return 2;
    if (bt_vault_set_passphrase(v, NULL, 0, "benchmark passphrase", 20, NULL) != BT_OK ||
        bt_vault_confirm_passphrase(v, NULL, 0) != BT_OK)
        return 2;
    int64_t id;
    bt_vault_append(v, "{}", 2, NULL, 0, &id);
    bt_vault_close(v);

    printf("bantrail-host benchmark (%s), scale %.2f\n\n", home, scale);

    floor_open(&fl, home);

    /* cold start */
    for (int i = 0; i < n_cold; i++) {
        a = now_us();
        pid_t p = fork();
        if (p == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
        int st;
        waitpid(p, &st, 0);
        lat[i] = now_us() - a;
    }
    double spawn_p50 = pct(lat, n_cold, 0.5);
    for (int i = 0; i < n_cold; i++) {
        a = now_us();
        host h = start_host(bin, home);
        send_req(&h, "{\"id\":1,\"method\":\"hello\"}");
        expect_result(&h);
        lat[i] = now_us() - a;
        stop_host(&h);
    }
    printf("cold start to hello     p50 %8.0f us  p99 %8.0f us   (floor: fork+exec /bin/true p50 %.0f us)\n",
           pct(lat, n_cold, 0.5), pct(lat, n_cold, 0.99), spawn_p50);

    /* capture round trip while locked, fresh: hosts in turn, the floor
     * reopened for each */
    for (int done = 0; done < n_rt; done += BATCH) {
        int k = n_rt - done < BATCH ? n_rt - done : BATCH;
        host h = start_host(bin, home);
        send_req(&h, "{\"id\":1,\"method\":\"hello\"}");
        expect_result(&h);
        usleep(100 * 1000); /* as a browser's host, connected before the first notice shows */
        for (int i = done; i < done + k; i++) round_trip(&h, &fl, i, lat, flat);
        stop_host(&h);
        floor_close(&fl);
        floor_open(&fl, home);
    }
    print_round_trip("fresh log", lat, flat, n_rt);

    /* the same, long-running: one host, one floor connection */
    host h = start_host(bin, home);
    for (int i = 0; i < warm_up + n_rt; i++) round_trip(&h, &fl, i, lat, flat);
    print_round_trip("long-running", lat + warm_up, flat + warm_up, n_rt);

    /* sustained, pipelined, in rounds alternating with the floor */
    double host_us = 0;
    for (int done = 0; done < n_sus; done += 500) {
        int k = n_sus - done < 500 ? n_sus - done : 500;
        a = now_us();
        for (int i = 0; i < k; i++) {
            char *req = capture_request(i);
            send_req(&h, req);
            free(req);
            if (i >= 64) expect_result(&h); /* keep a window of 64 in flight */
        }
        for (int i = 0; i < (k < 64 ? k : 64); i++) expect_result(&h);
        host_us += now_us() - a;
        a = now_us();
        for (int i = 0; i < k; i++) floor_commit(&fl);
        floor_us += now_us() - a;
    }
    double rate = n_sus / (host_us / 1e6), floor_rate = n_sus / (floor_us / 1e6);
    floor_close(&fl);
    printf("sustained captures      %8.0f /s                  (floor: durable commits %.0f /s; %.0f%%)\n", rate,
           floor_rate, 100.0 * rate / floor_rate);

    /* side by side with the peer: SQLCipher appending the same 2 KiB rows,
     * each in its own durable transaction, at the same durability, in
     * rounds alternating with Bantrail's own appends (bt_vault_append, its
     * own transaction each), each after as many untimed; the captures'
     * sustained rate above beside it */
    char peer[1100];
    snprintf(peer, sizeof peer, "%s/tests/bench_sqlcipher", argv[1]);
    if (access(peer, X_OK) != 0) {
        printf("SQLCipher side by side: not built (libsqlcipher-dev is not installed)\n");
    } else {
        int n_app = (int)(2000 * scale) + 20, round = n_app < 100 ? n_app : 100;
        char *adir = test_tmpdir(), cmd[2400], head[2100];
        bt_vault *av = NULL;
        double bt_us = 0, sc_us = 0;
        int len = snprintf(head, sizeof head, "{\"type\":\"notice\",\"text\":\"");
        for (; len < 2046; len++) head[len] = (char)('a' + len % 26);
        memcpy(head + len, "\"}", 3);
        len += 2;
        if (bt_vault_open(&av, adir) != BT_OK) return 2;
        for (int i = 0; i < round; i++) /* as the peer: the write-ahead file grown first */
            if (bt_vault_append(av, head, (size_t)len, NULL, 0, &id) != BT_OK) return 2;
        snprintf(cmd, sizeof cmd, "%s %s/peer.sqlite %d", peer, adir, round);
        for (int done = 0; done < n_app; done += round) {
            a = now_us();
            for (int i = 0; i < round; i++)
                if (bt_vault_append(av, head, (size_t)len, NULL, 0, &id) != BT_OK) return 2;
            bt_us += now_us() - a;
            FILE *p = popen(cmd, "r");
            double us = 0;
            if (p == NULL || fscanf(p, "%lf", &us) != 1 || pclose(p) != 0) return 2;
            sc_us += us;
        }
        bt_vault_close(av);
        int rounds = (n_app + round - 1) / round;
        double sc_rate = rounds * round / (sc_us / 1e6), app_rate = rounds * round / (bt_us / 1e6);
        printf("SQLCipher 3.4 appends   %8.0f /s                  (2 KiB rows, one durable commit each: WAL, "
               "synchronous=FULL)\n", sc_rate);
        printf("  Bantrail appends      %8.0f /s = %.2f x SQLCipher   (goal >= 1.0 x)\n", app_rate, app_rate / sc_rate);
        printf("  Bantrail captures     %8.0f /s = %.2f x SQLCipher   (sustained, above; goal >= 1.0 x)\n", rate,
               rate / sc_rate);
        free(adir);
    }

    /* unlock */
    for (int i = 0; i < n_unlock; i++) {
        a = now_us();
        send_req(&h, "{\"id\":1,\"method\":\"unlock\",\"params\":{\"passphrase\":\"benchmark passphrase\"}}");
        expect_result(&h);
        lat[i] = now_us() - a;
        send_req(&h, "{\"id\":2,\"method\":\"lock\"}");
        expect_result(&h);
    }
    double un50 = pct(lat, n_unlock, 0.5);
    stop_host(&h);
    bt_kdf_params kdf = bt_kdf_default();
    unsigned char key[32], salt[crypto_pwhash_SALTBYTES] = {0};
    for (int i = 0; i < n_unlock; i++) {
        a = now_us();
        if (crypto_pwhash(key, sizeof key, "benchmark passphrase", 20, salt, kdf.opslimit, kdf.memlimit,
                          crypto_pwhash_ALG_ARGON2ID13) != 0) return 2;
        lat[i] = now_us() - a;
    }
    printf("unlock                  p50 %8.0f us                  (floor: Argon2id %llu passes, %zu MiB: %.0f us)\n",
           un50, kdf.opslimit, kdf.memlimit >> 20, pct(lat, n_unlock, 0.5));
    free(lat);
    free(flat);
    free(home);
    return 0;
}
