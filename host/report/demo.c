/* The demo union built into Bantrail (include/bantrail/report.h): the person's
 * side offers it for trying sharing, `bantrail-collect serve --demo` receives
 * for it. Both link this one definition of its entry and key. */
#include "bantrail/report.h"

#include <stdio.h>
#include <string.h>

#define DEMO_SEED "bantrail demo union: a published seed, NOT private" /* hashed to 32 bytes */

void bt_share_demo_keypair(unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char sk[crypto_box_SECRETKEYBYTES])
{
    unsigned char seed[crypto_box_SEEDBYTES];
    crypto_generichash(seed, sizeof seed, (const unsigned char *)DEMO_SEED, sizeof DEMO_SEED - 1, NULL, 0);
    crypto_box_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
}

void bt_share_demo_union(bt_union *out)
{
    unsigned char sk[crypto_box_SECRETKEYBYTES];
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "demo");
    snprintf(out->name, sizeof out->name, "Demo union (this computer only; anyone can read what it receives)");
    snprintf(out->homepage, sizeof out->homepage, "http://127.0.0.1:8470/");
    snprintf(out->submit_url, sizeof out->submit_url, "http://127.0.0.1:8470/v1/reports");
    snprintf(out->policy_url, sizeof out->policy_url, "http://127.0.0.1:8470/policy");
    bt_share_demo_keypair(out->public_key, sk);
    sodium_memzero(sk, sizeof sk);
    bt_report_key_id(out->key_id, out->public_key);
    out->pow_difficulty = BT_REPORT_POW_DEFAULT;
}
