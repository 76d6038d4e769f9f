#define _GNU_SOURCE /* memmem */
/* The dispatcher: auto-lock on idle, and secrets wiped from the frame. */
#include <time.h>

#include "bantrail/rpc.h"
#include "check.h"

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

RUN_TESTS(T(the_log_locks_itself_after_the_idle_time), T(the_inbound_frame_is_wiped_after_dispatch),
          T(a_caller_not_allowed_gets_only_hello))
