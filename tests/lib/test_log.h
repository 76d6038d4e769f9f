/* For unit tests that call the core over a real log: a fresh log in its own
 * temporary folder, and how many entries it holds. */
#ifndef BT_TEST_LOG_H
#define BT_TEST_LOG_H

#include "bantrail/index.h"
#include "bantrail/vault.h"
#include "check.h"

static const bt_kdf_params test_fast_kdf = {1, 8u << 20}; /* tests only: cheap Argon2id */

static inline bt_vault *test_fresh_log(void)
{
    bt_vault *v = NULL;
    char *dir = test_tmpdir();
    if (bt_vault_open(&v, dir) != BT_OK) abort();
    free(dir);
    return v;
}

/* A passphrase change in its two steps: set, then confirm. */
static inline bt_err test_set_passphrase(bt_vault *v, const char *old, size_t old_len, const char *pass,
                                         size_t pass_len, const bt_kdf_params *kdf)
{
    bt_err err = bt_vault_set_passphrase(v, old, old_len, pass, pass_len, kdf);
    return err == BT_OK ? bt_vault_confirm_passphrase(v, NULL, 0) : err;
}

static inline int64_t test_entries(bt_vault *v)
{
    bt_vault_stats s;
    if (bt_vault_stats_of(v, &s) != BT_OK) abort();
    return s.entries;
}

/* How many entries an index made now, by another handle on the log in dir
 * (as the next host after a kill), decrypts to be up to date (-1 if it
 * cannot). It saves nothing: the snapshot on disk is what is looked at. */
static inline int64_t test_index_reads(const char *dir)
{
    bt_vault *v = NULL;
    int64_t got = -1;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_index *ix = bt_index_new();
    if (v != NULL && bt_index_update(ix, v, 0, NULL) == BT_OK) got = bt_index_decrypted(ix);
    bt_index_free(ix);
    bt_vault_close(v);
    return got;
}

#endif
