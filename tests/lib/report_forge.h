/* Test helper: builds sealed report envelopes by hand (docs/REPORT.md "Wire
 * format"), including ones a real client never makes: any plaintext,
 * non-minimal or broken padding, another report id in the envelope. Shared
 * by test_report.c, test_collect_store.c, fuzz_report.c, bench_collect.c and
 * report_forge.c. */
#ifndef BT_TEST_REPORT_FORGE_H
#define BT_TEST_REPORT_FORGE_H

#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include "bantrail/report.h"

typedef struct {
    unsigned blocks;        /* 0: the minimal number for the plaintext */
    int break_padding;      /* overwrite the 0x80 marker */
    int flip_sealed;        /* flip one bit of the sealed bytes after sealing */
    unsigned difficulty;
    const unsigned char *envelope_id; /* NULL: id */
    const unsigned char *seed;  /* the report's signing seed; NULL: a fresh one */
    int withdraw;               /* a withdrawal (plain is then usually empty) */
    int raw;                    /* plain is the whole plaintext: no kind, key or signature */
    int bad_signature;          /* flip a bit of the signature */
} forge_opts;

/* Writes base64 of the envelope of plain (any bytes) sealed to pk, with id
 * in the header, to out (cap >= BT_REPORT_WIRE_MAX + 1 for <= 4 blocks).
 * Before plain, unless o->raw: the kind, the report's public key and its
 * signature, as bt_report_seal writes them (docs/REPORT.md section 3).
 * Returns the length, or 0 when it does not fit. */
static inline size_t forge_wire(char *out, size_t cap, const void *plain, size_t plain_len,
                                const unsigned char pk[32], const unsigned char id[16], const forge_opts *o)
{
    static unsigned char pad[16 * BT_REPORT_BLOCK], env[16 * BT_REPORT_BLOCK + 128];
    size_t auth = o->raw ? 0 : BT_REPORT_AUTH_BYTES;
    unsigned blocks = o->blocks ? o->blocks : (unsigned)((auth + plain_len) / BT_REPORT_BLOCK + 1);
    size_t padded = (size_t)blocks * BT_REPORT_BLOCK, env_len;
    if (blocks > 16 || auth + plain_len >= padded) return 0;
    if (auth) { /* kind | key | signature over context | kind | key id | id | plain */
        unsigned char seed[32], ssk[64], m[64], kid[BT_REPORT_KEY_ID_BYTES];
        unsigned char kind = o->withdraw ? BT_REPORT_KIND_WITHDRAW : BT_REPORT_KIND_REPORT;
        crypto_generichash_state st;
        if (o->seed) memcpy(seed, o->seed, 32);
        else randombytes_buf(seed, 32);
        pad[0] = kind;
        crypto_sign_seed_keypair(pad + 1, ssk, seed);
        bt_report_key_id(kid, pk);
        crypto_generichash_init(&st, NULL, 0, sizeof m);
        crypto_generichash_update(&st, (const unsigned char *)BT_REPORT_SIGN_CONTEXT, sizeof BT_REPORT_SIGN_CONTEXT);
        crypto_generichash_update(&st, &kind, 1);
        crypto_generichash_update(&st, kid, sizeof kid);
        crypto_generichash_update(&st, o->envelope_id ? o->envelope_id : id, 16);
        crypto_generichash_update(&st, plain, plain_len);
        crypto_generichash_final(&st, m, sizeof m);
        crypto_sign_detached(pad + 33, NULL, m, sizeof m, ssk);
        if (o->bad_signature) pad[40] ^= 0x01;
    }
    /* ISO/IEC 7816-4 padding, as sodium_pad writes it, to `blocks` blocks */
    memcpy(pad + auth, plain, plain_len);
    plain_len += auth;
    memset(pad + plain_len, 0, padded - plain_len);
    pad[plain_len] = 0x80;
    if (o->break_padding) pad[plain_len] = 0x41;
    env_len = BT_REPORT_HEADER_BYTES + crypto_box_SEALBYTES + padded + BT_REPORT_NONCE_BYTES;
    memcpy(env, BT_REPORT_MAGIC, 4);
    bt_report_key_id(env + 4, pk);
    memcpy(env + 4 + BT_REPORT_KEY_ID_BYTES, o->envelope_id ? o->envelope_id : id, 16);
    crypto_box_seal(env + BT_REPORT_HEADER_BYTES, pad, padded, pk);
    if (o->flip_sealed) env[BT_REPORT_HEADER_BYTES + 60] ^= 0x01;
    for (uint64_t n = 0;; n++) {
        unsigned char h[32];
        unsigned z = 0;
        for (int i = 0; i < 8; i++) env[env_len - 8 + i] = (unsigned char)(n >> (8 * i));
        crypto_generichash(h, sizeof h, env, env_len, NULL, 0);
        for (int i = 0; i < 32; i++) {
            if (h[i] == 0) { z += 8; continue; }
            for (unsigned char m = 0x80; m && !(h[i] & m); m >>= 1) z++;
            break;
        }
        if (z >= o->difficulty) break;
    }
    if (cap < sodium_base64_ENCODED_LEN(env_len, sodium_base64_VARIANT_ORIGINAL)) return 0;
    sodium_bin2base64(out, cap, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    return strlen(out);
}

/* A union entry for pk at difficulty, its URLs on union.example. */
static inline bt_union forge_union(const unsigned char pk[32], unsigned difficulty)
{
    bt_union u;
    memset(&u, 0, sizeof u);
    strcpy(u.id, "demo");
    strcpy(u.name, "Demo");
    strcpy(u.homepage, "https://union.example/");
    strcpy(u.submit_url, "https://union.example/v1/reports");
    strcpy(u.policy_url, "https://union.example/policy");
    memcpy(u.public_key, pk, 32);
    bt_report_key_id(u.key_id, pk);
    u.pow_difficulty = difficulty;
    return u;
}

/* A valid v1 report in canonical form, with id. */
static inline size_t sample_json(char *out, size_t cap, const unsigned char id[16], const char *platform,
                                 const char *week)
{
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, id, 16);
    return (size_t)snprintf(out, cap,
        "{\"v\":1,\"report_id\":\"%s\",\"client\":\"0.1.0\",\"platform\":\"%s\",\"kind\":\"suspension\","
        "\"stated\":{\"category\":\"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE\",\"keywords\":"
        "[\"KEYWORD_INAUTHENTIC_ACCOUNTS\"]},\"week\":\"%s\",\"duration\":\"permanent\","
        "\"appeal\":{\"offered\":\"yes\",\"submitted\":true,\"outcome\":\"rejected\",\"response_delay\":\"lt_10m\"},"
        "\"context\":{\"account_type\":\"creator\",\"paid_verification\":false,\"country\":\"DE\"}}",
        hex, platform, week);
}

/* A valid report whose every field is drawn from the bits of x (a fresh id;
 * the week in 2024-2026; schema 1 or 2): the benchmarks' and the store
 * tests' bulk. */
static inline void forge_random_report(bt_report *r, uint32_t x)
{
    memset(r, 0, sizeof *r);
    bt_report_new_id(r->id);
    r->client = 1 << 10;
    r->platform = (uint8_t)(1 + x % 16);
    r->kind = (uint8_t)(1 + (x >> 4) % 6);
    r->v = (uint8_t)(1 + (x & 1)); /* both schemas, as a collector receives them */
    r->category = (uint8_t)((x >> 7) % (uint32_t)(bt_report_list_count(r->v, BT_RF_CATEGORY) + 1));
    int kw = (int)((x >> 11) % (uint32_t)bt_report_list_count(r->v, BT_RF_KEYWORD));
    r->keywords[kw / 64] = (uint64_t)1 << (kw % 64);
    r->week = 202400 + (int32_t)(1 + (x >> 17) % 52) + 100 * (int32_t)((x >> 23) % 3);
    r->duration = (uint8_t)(1 + (x >> 3) % 8);
    r->offered = (uint8_t)(1 + (x >> 5) % 3);
    r->submitted = (uint8_t)((x >> 9) & 1);
    if (r->submitted) {
        r->outcome = (uint8_t)(1 + (x >> 13) % 4);
        r->delay = r->outcome == 1 ? 1 : (uint8_t)(2 + (x >> 15) % 6);
    }
    r->account_type = (uint8_t)((x >> 19) % 4);
    r->paid = (uint8_t)((x >> 21) % 3);
    r->country = (uint16_t)((x >> 22) % 250);
}

#endif
