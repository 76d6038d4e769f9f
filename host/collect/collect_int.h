/* What only the collector's own files share (include/bantrail/collect.h is
 * its public contract): the store's state, which collect.c opens and writes
 * and collect_report.c reads. */
#ifndef BANTRAIL_COLLECT_INT_H
#define BANTRAIL_COLLECT_INT_H

#include <sqlite3.h>

#include "bantrail/collect.h"

struct bt_collect {
    sqlite3 *db;
    sqlite3_stmt *seen_ins, *update, *insert;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *sk; /* sodium_malloc, NULL until set */
    unsigned difficulty;
    int in_batch;
};

#endif
