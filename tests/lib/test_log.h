/* For unit tests that call the core over a real log: a fresh log in its own
 * temporary folder, and how many entries it holds. */
#ifndef BT_TEST_LOG_H
#define BT_TEST_LOG_H

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

static inline int64_t test_entries(bt_vault *v)
{
    bt_vault_stats s;
    if (bt_vault_stats_of(v, &s) != BT_OK) abort();
    return s.entries;
}

#endif
