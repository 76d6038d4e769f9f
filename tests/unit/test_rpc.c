#define _GNU_SOURCE /* memmem */
/* The dispatcher: auto-lock on idle, and secrets wiped from the frame. */
#include <time.h>

#include <json-c/json.h>
#include <sodium.h>

#include <sys/stat.h>

#include "bantrail/index.h"
#include "bantrail/rpc.h"
#include "bantrail/vault.h"
#include "check.h"
#include "test_log.h"

/* Sends one request and returns the reply (the caller frees). */
static char *ask(bt_rpc *r, const char *json, bt_err *err)
{
    size_t n = strlen(json), out_len;
    char *frame = strdup(json);
    char *out = bt_rpc_handle(r, frame, n, BT_OK, &out_len, NULL, err);
    free(frame);
    return out;
}

static int state_is(bt_rpc *r, const char *state)
{
    bt_err err;
    char want[64];
    char *out = ask(r, "{\"id\":1,\"method\":\"stats\"}", &err);
    snprintf(want, sizeof want, "\"state\":\"%s\"", state);
    int yes = out != NULL && strstr(out, want) != NULL;
    free(out);
    return yes;
}

TEST(the_log_locks_itself_after_the_idle_time)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    bt_err err;
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"new\":\"a passphrase\",\"kdf_ops\":1,"
                "\"kdf_mem\":8388608}}", &err));
    CHECK_EQ(err, BT_OK);
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"confirm\":true}}", &err));
    CHECK_EQ(err, BT_OK);
    free(ask(r, "{\"id\":2,\"method\":\"unlock\",\"params\":{\"passphrase\":\"a passphrase\","
                "\"auto_lock_minutes\":5}}", &err));
    CHECK_EQ(err, BT_OK);
    time_t now = time(NULL);
    int left = bt_rpc_idle_left(r, now);
    CHECK(left > 290 && left <= 300);
    CHECK_EQ(bt_rpc_tick(r, now + 120), 0); /* not yet */
    CHECK(state_is(r, "unlocked"));
    CHECK_EQ(bt_rpc_tick(r, now + 301), 1);
    CHECK(state_is(r, "locked"));
    CHECK_EQ(bt_rpc_idle_left(r, now + 400), -1); /* nothing left to lock */
    bt_rpc_free(r);
    free(dir);
}

TEST(the_inbound_frame_is_wiped_after_dispatch)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    static const char req[] = "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"new\":\"SECRET-PASS-42\","
                              "\"kdf_ops\":1,\"kdf_mem\":8388608}}";
    char frame[sizeof req];
    size_t out_len;
    bt_err err;
    memcpy(frame, req, sizeof req);
    char *out = bt_rpc_handle(r, frame, sizeof req - 1, BT_OK, &out_len, NULL, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(memmem(frame, sizeof frame, "SECRET", 6) == NULL);
    CHECK(strstr(out, "SECRET") == NULL);
    free(out);
    bt_rpc_free(r);
    free(dir);
}

TEST(a_caller_not_allowed_gets_only_hello)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 0);
    bt_err err;
    char *out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"caller_allowed\":false") != NULL);
    free(out);
    out = ask(r, "{\"id\":2,\"method\":\"list\"}", &err);
    CHECK_EQ(err, BT_ERR_CALLER_NOT_ALLOWED);
    CHECK(strstr(out, "\"code\":\"caller_not_allowed\"") != NULL);
    free(out);
    bt_rpc_free(r);
    free(dir);
}

/* Seals msg to the base64 public key pk_b64 and returns the capture_sealed request. */
static char *sealed_request(const char *pk_b64, const char *msg)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    size_t pk_len = 0, n = strlen(msg);
    unsigned char *box = malloc(n + crypto_box_SEALBYTES);
    if (sodium_base642bin(pk, sizeof pk, pk_b64, strlen(pk_b64), NULL, &pk_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || pk_len != sizeof pk)
        abort();
    crypto_box_seal(box, (const unsigned char *)msg, n, pk);
    size_t b64_len = sodium_base64_ENCODED_LEN(n + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len), *req = malloc(b64_len + 100);
    sodium_bin2base64(b64, b64_len, box, n + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    snprintf(req, b64_len + 100, "{\"id\":9,\"method\":\"capture_sealed\",\"params\":{\"sealed\":\"%s\"}}", b64);
    free(box);
    free(b64);
    return req;
}

/* A capture_sealed request of msg sealed to a key no log here has: kept,
 * never opened (it stays waiting, "corrupt"). */
static char *foreign_sealed_request(const char *msg)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    char b64[64];
    crypto_box_keypair(pk, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_bin2base64(b64, sizeof b64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    return sealed_request(b64, msg);
}

static char *public_key_of(bt_rpc *r)
{
    bt_err err;
    char *out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err), *key = NULL;
    json_object *rep = json_tokener_parse(out), *res, *vault, *pk;
    if (json_object_object_get_ex(rep, "result", &res) && json_object_object_get_ex(res, "vault", &vault) &&
        json_object_object_get_ex(vault, "public_key", &pk))
        key = strdup(json_object_get_string(pk));
    json_object_put(rep);
    free(out);
    return key;
}

/* Sets "a passphrase" (cheap Argon2id) on r's log and locks it. */
static void lock_with_passphrase(bt_rpc *r)
{
    bt_err err;
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"new\":\"a passphrase\",\"kdf_ops\":1,"
                "\"kdf_mem\":8388608}}", &err));
    CHECK_EQ(err, BT_OK);
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"confirm\":true}}", &err));
    CHECK_EQ(err, BT_OK);
    free(ask(r, "{\"id\":2,\"method\":\"lock\"}", &err));
    CHECK_EQ(err, BT_OK);
}

static const char unlock_req[] = "{\"id\":3,\"method\":\"unlock\",\"params\":{\"passphrase\":\"a passphrase\"}}";

static const char box_msg[] =
    "{\"v\":1,\"capture\":{\"url\":\"https://www.instagram.com/accounts/suspended/\",\"text\":\"We suspended "
    "your account. You have 30 days left to disagree.\"},\"attachments\":[{\"mime\":\"image/png\",\"data\":"
    "\"iVBORw0KGgo=\"}]}";

TEST(a_sealed_capture_kept_while_locked_is_stored_at_unlock)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    bt_err err;
    lock_with_passphrase(r);
    char *key = public_key_of(r), *req = sealed_request(key, box_msg);
    char *out = ask(r, req, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"pending\":true") != NULL);
    free(out);
    /* a box sealed to another key is kept too, and stays pending */
    char *foreign = foreign_sealed_request(box_msg);
    free(ask(r, foreign, &err));
    CHECK_EQ(err, BT_OK);
    out = ask(r, unlock_req, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"delivered\":1") != NULL && strstr(out, "\"waiting\":1") != NULL); /* the foreign box waits */
    free(out);
    out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err); /* and hello says so, with why */
    CHECK(strstr(out, "\"sealed_waiting\":1,\"sealed_waiting_error\":\"corrupt\"") != NULL);
    free(out);
    out = ask(r, "{\"id\":4,\"method\":\"list\"}", &err);
    CHECK(strstr(out, "\"kind\":\"suspension\"") != NULL);
    CHECK(strstr(out, "\"type\":\"attachment\"") != NULL);
    free(out);
    /* unlocked now: the same box again (its answer lost on the way) is taken once, nothing stored; a
     * new box of the same notice opens at once, a repeat; a foreign one is refused as corrupt */
    out = ask(r, req, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"duplicate\":true") != NULL);
    free(out);
    char *again = sealed_request(key, box_msg);
    out = ask(r, again, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"occurrence\":true") != NULL); /* the same notice again: one record */
    free(out);
    free(again);
    free(ask(r, foreign, &err));
    CHECK_EQ(err, BT_ERR_CORRUPT);
    /* a later unlock starts where the last one could stop: the foreign box
     * (still pending) and a new box after it; nothing delivered twice */
    static const char box_msg2[] = "{\"v\":1,\"capture\":{\"url\":\"https://www.instagram.com/challenge/\","
                                   "\"text\":\"Action Blocked. We restrict certain activity to protect our "
                                   "community.\"}}";
    char *req2 = sealed_request(key, box_msg2);
    free(ask(r, "{\"id\":5,\"method\":\"lock\"}", &err));
    out = ask(r, req2, &err);
    CHECK(strstr(out, "\"pending\":true") != NULL);
    free(out);
    out = ask(r, unlock_req, &err);
    CHECK(strstr(out, "\"delivered\":1") != NULL);
    free(out);
    free(ask(r, "{\"id\":7,\"method\":\"lock\"}", &err));
    out = ask(r, unlock_req, &err);
    CHECK(strstr(out, "\"delivered\":0") != NULL);
    free(out);
    out = ask(r, "{\"id\":8,\"method\":\"list\"}", &err);
    CHECK(strstr(out, "\"kind\":\"action_blocked\"") != NULL);
    free(out);
    free(req2);
    free(foreign);
    free(req);
    free(key);
    bt_rpc_free(r);
    free(dir);
}

/* Captures notice number i ("again" decides nothing: it is for the reader);
 * returns whether the host folded it into an earlier record. */
static int capture_is_repeat(bt_rpc *r, int i)
{
    char req[512];
    bt_err err;
    snprintf(req, sizeof req,
             "{\"id\":1,\"method\":\"capture\",\"params\":{\"url\":\"https://www.instagram.com/accounts/"
             "suspended/\",\"text\":\"We suspended your account %d. You have 30 days left to disagree.\"}}", i);
    char *out = ask(r, req, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(out != NULL && strstr(out, "\"stored\":true") != NULL);
    int repeat = out != NULL && strstr(out, "\"occurrence\":true") != NULL;
    free(out);
    return repeat;
}

TEST(repeats_are_folded_among_many_notices_and_after_a_restart)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    for (int i = 0; i < 300; i++) CHECK(!capture_is_repeat(r, i)); /* the list grows and is re-indexed */
    CHECK(capture_is_repeat(r, 0));
    CHECK(capture_is_repeat(r, 17));
    CHECK(capture_is_repeat(r, 299));
    CHECK(!capture_is_repeat(r, 300));
    bt_rpc_free(r);
    r = bt_rpc_new(dir, 1); /* a new host rebuilds the list from the (unprotected) log */
    CHECK(capture_is_repeat(r, 5));
    CHECK(capture_is_repeat(r, 300));
    CHECK(!capture_is_repeat(r, 301));
    bt_rpc_free(r);
    free(dir);
}

TEST(a_sealed_appeal_event_kept_while_locked_is_added_at_unlock)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    bt_err err;
    lock_with_passphrase(r);
    char *key = public_key_of(r);
    char *good = sealed_request(key, "{\"v\":1,\"event\":{\"event\":\"appeal_submitted\",\"platform\":\"instagram\","
                                     "\"at\":1764000000,\"manual\":false}}");
    char *bad = sealed_request(key, "{\"v\":1,\"event\":{\"event\":\"no_such_event\",\"platform\":\"instagram\","
                                    "\"at\":1764000000}}");
    char *out = ask(r, good, &err);
    CHECK(strstr(out, "\"pending\":true") != NULL);
    free(out);
    free(ask(r, bad, &err));
    out = ask(r, unlock_req, &err);
    CHECK(strstr(out, "\"delivered\":1") != NULL); /* the event; the bad one stays pending */
    free(out);
    out = ask(r, "{\"id\":4,\"method\":\"cases\"}", &err);
    CHECK_EQ(err, BT_OK);
    CHECK(out != NULL && strstr(out, "\"appealed_at\":1764000000") != NULL);
    free(out);
    /* readable now: a box is added at once (the same box again is not: it was taken); the bad one is refused */
    char *good2 = sealed_request(key, "{\"v\":1,\"event\":{\"event\":\"appeal_submitted\",\"platform\":\"instagram\","
                                      "\"at\":1764000000,\"manual\":false}}");
    out = ask(r, good2, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(out != NULL && strstr(out, "\"at\":1764000000") != NULL);
    free(out);
    free(good2);
    out = ask(r, good, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(out != NULL && strstr(out, "\"duplicate\":true") != NULL);
    free(out);
    free(ask(r, bad, &err));
    CHECK_EQ(err, BT_ERR_BAD_PARAMS);
    free(good);
    free(bad);
    free(key);
    bt_rpc_free(r);
    free(dir);
}

/* The log's entries, as hello counts them. */
static int64_t entries_of(bt_rpc *r)
{
    bt_err err;
    char *out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err);
    const char *p = out != NULL ? strstr(out, "\"entries\":") : NULL;
    int64_t n = p != NULL ? strtoll(p + 10, NULL, 10) : -1;
    free(out);
    return n;
}

/* A log made before the scan's mark followed appends (mark at 0), more than
 * BT_RPC_SCAN_AT_ONCE entries, a box kept while locked: a host that looks
 * while idle answers the unlock at once ("looking", nothing delivered),
 * hello says "sealed_looking" until the slices reach the end, which
 * delivers the box once; a lock midway drops the scan, the next unlock
 * starts it again; a process that does not look while idle (the CLI's own
 * unlock) delivers at once, as before. */
TEST(an_unlock_that_finds_a_long_scan_answers_first_and_delivers_while_idle)
{
    char *dir = test_tmpdir();
    bt_vault *v = NULL;
    bt_err err;
    int64_t id;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    CHECK_EQ(bt_vault_batch_begin(v), BT_OK);
    for (int i = 0; i < BT_RPC_SCAN_AT_ONCE + BT_RPC_IDLE_SLICE; i++)
        CHECK_EQ(bt_vault_append(v, "{\"type\":\"x\"}", 12, NULL, 0, &id), BT_OK);
    CHECK_EQ(bt_vault_batch_end(v, 1), BT_OK);
    bt_vault_close(v);
    bt_rpc *r = bt_rpc_new(dir, 1);
    bt_rpc_look_while_idle(r, 1);
    lock_with_passphrase(r);
    char *key = public_key_of(r), *req = sealed_request(key, box_msg);
    free(ask(r, req, &err));
    CHECK_EQ(err, BT_OK);
    /* and a box sealed to another key, which stays waiting */
    char *foreign = foreign_sealed_request(box_msg);
    free(ask(r, foreign, &err));
    free(foreign);
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    CHECK_EQ(bt_vault_set_mark(v, BT_VAULT_MARK_SCANNED, 0), BT_OK); /* as made before the mark followed */
    bt_vault_close(v);
    int64_t before = entries_of(r);
    char *out = ask(r, unlock_req, &err);
    CHECK_EQ(err, BT_OK);
    CHECK(strstr(out, "\"looking\":true") != NULL && strstr(out, "\"delivered\":0") != NULL);
    CHECK_EQ(entries_of(r), before);
    free(out);
    out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err);
    CHECK(strstr(out, "\"sealed_looking\":true") != NULL && strstr(out, "sealed_waiting") == NULL);
    free(out);
    CHECK_EQ(bt_rpc_idle_work(r), 1); /* one slice */
    free(ask(r, "{\"id\":5,\"method\":\"lock\"}", &err)); /* midway: dropped */
    out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err);
    CHECK(strstr(out, "sealed_looking") == NULL);
    free(out);
    out = ask(r, unlock_req, &err); /* again from the mark */
    CHECK(strstr(out, "\"looking\":true") != NULL);
    free(out);
    int slices = 0;
    for (; slices < 100; slices++) {
        out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err);
        int looking = strstr(out, "\"sealed_looking\":true") != NULL;
        free(out);
        if (!looking) break;
        bt_rpc_idle_work(r);
    }
    CHECK(slices >= (BT_RPC_SCAN_AT_ONCE + BT_RPC_IDLE_SLICE) / BT_RPC_IDLE_SLICE); /* in slices, not at once */
    CHECK(slices < 100);
    CHECK_EQ(entries_of(r), before + 3); /* the box delivered: its notice, attachment and done mark */
    out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err); /* the foreign one waits, and hello says why */
    CHECK(strstr(out, "\"sealed_waiting\":1,\"sealed_waiting_error\":\"corrupt\"") != NULL);
    free(out);
    free(ask(r, "{\"id\":5,\"method\":\"lock\"}", &err));
    out = ask(r, "{\"id\":1,\"method\":\"hello\"}", &err); /* locked: nothing said of the log's content */
    CHECK(strstr(out, "sealed_waiting") == NULL);
    free(out);
    out = ask(r, unlock_req, &err); /* the mark past it all: nothing to look for */
    CHECK(strstr(out, "looking") == NULL && strstr(out, "\"delivered\":0") != NULL);
    free(out);
    bt_rpc_free(r);
    /* a process that does not look while idle: at once */
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    CHECK_EQ(bt_vault_set_mark(v, BT_VAULT_MARK_SCANNED, 0), BT_OK);
    bt_vault_close(v);
    r = bt_rpc_new(dir, 1); /* locked */
    free(ask(r, req, &err)); /* the same box again: taken before, only marked done */
    out = ask(r, unlock_req, &err);
    CHECK(strstr(out, "looking") == NULL && strstr(out, "\"delivered\":0") != NULL);
    free(out);
    bt_rpc_free(r);
    free(req);
    free(key);
    free(dir);
}

TEST(the_index_is_built_while_idle_after_unlock_in_slices_and_never_while_locked)
{
    char *dir = test_tmpdir();
    bt_vault *v = NULL;
    bt_err err;
    int64_t id;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK); /* a log of a slice and a half of entries */
    CHECK_EQ(bt_vault_batch_begin(v), BT_OK);
    for (int i = 0; i < BT_RPC_IDLE_SLICE * 3 / 2; i++) CHECK_EQ(bt_vault_append(v, "{\"type\":\"x\"}", 12, NULL, 0, &id), BT_OK);
    CHECK_EQ(bt_vault_batch_end(v, 1), BT_OK);
    bt_vault_close(v);
    bt_rpc *r = bt_rpc_new(dir, 1);
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"new\":\"a passphrase\",\"kdf_ops\":1,"
                "\"kdf_mem\":8388608}}", &err));
    free(ask(r, "{\"id\":1,\"method\":\"set_passphrase\",\"params\":{\"confirm\":true}}", &err));
    free(ask(r, "{\"id\":3,\"method\":\"lock\"}", &err));
    CHECK_EQ(err, BT_OK);
    CHECK_EQ(bt_rpc_idle_work(r), 0); /* locked: nothing to read */
    free(ask(r, "{\"id\":2,\"method\":\"unlock\",\"params\":{\"passphrase\":\"a passphrase\"}}", &err));
    CHECK_EQ(err, BT_OK);
    CHECK_EQ(bt_rpc_idle_work(r), 1); /* one slice read, more to come */
    CHECK_EQ(bt_rpc_idle_work(r), 0); /* the rest */
    CHECK_EQ(bt_rpc_idle_work(r), 0); /* nothing new */
    free(ask(r, "{\"id\":3,\"method\":\"lock\"}", &err));
    CHECK_EQ(bt_rpc_idle_work(r), 0);
    bt_rpc_free(r);
    free(dir);
}

TEST(the_snapshot_is_saved_while_idle_once_enough_entries_are_new_so_a_killed_host_leaves_it_fresh)
{
    char *dir = test_tmpdir(), path[600];
    struct stat sb;
    bt_rpc *r = bt_rpc_new(dir, 1); /* unprotected: readable, as an unlocked log */
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index", dir);
    for (int i = 0; i < BT_RPC_SAVE_AFTER - 1; i++) {
        CHECK(!capture_is_repeat(r, i));
        while (bt_rpc_idle_work(r)) {}
    }
    CHECK(stat(path, &sb) != 0); /* fewer new entries than that: not yet */
    CHECK_EQ(test_index_reads(dir), BT_RPC_SAVE_AFTER - 1);
    CHECK(!capture_is_repeat(r, BT_RPC_SAVE_AFTER));
    while (bt_rpc_idle_work(r)) {}
    CHECK(stat(path, &sb) == 0);
    CHECK_EQ(test_index_reads(dir), 0); /* all of it from the snapshot, r still running (then "killed") */
    for (int i = 0; i < 10; i++) {
        CHECK(!capture_is_repeat(r, 1000 + i));
        while (bt_rpc_idle_work(r)) {}
    }
    CHECK_EQ(test_index_reads(dir), 10); /* only those past it */
    for (int i = 10; i < BT_RPC_SAVE_AFTER; i++) {
        CHECK(!capture_is_repeat(r, 1000 + i));
        while (bt_rpc_idle_work(r)) {}
    }
    CHECK_EQ(test_index_reads(dir), 0); /* saved again: appended */
    bt_rpc_free(r);
    free(dir);
}

RUN_TESTS(T(the_index_is_built_while_idle_after_unlock_in_slices_and_never_while_locked),
          T(an_unlock_that_finds_a_long_scan_answers_first_and_delivers_while_idle),
          T(the_snapshot_is_saved_while_idle_once_enough_entries_are_new_so_a_killed_host_leaves_it_fresh),
          T(a_sealed_appeal_event_kept_while_locked_is_added_at_unlock),
          T(repeats_are_folded_among_many_notices_and_after_a_restart), T(the_log_locks_itself_after_the_idle_time),
          T(the_inbound_frame_is_wiped_after_dispatch), T(a_caller_not_allowed_gets_only_hello),
          T(a_sealed_capture_kept_while_locked_is_stored_at_unlock))
