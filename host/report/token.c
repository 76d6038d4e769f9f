/* Anonymous membership tokens: a VOPRF on ristretto255 with a DLEQ proof
 * (include/bantrail/token.h, docs/REPORT.md section 5). Only libsodium's
 * group and scalar operations; nothing hand-rolled below them. */
#include "bantrail/token.h"

#include <string.h>

#define HASH_TO_GROUP "bantrail-token-v1"
#define DLEQ_CONTEXT "bantrail-token-dleq-v1"
#define KEY_CONTEXT "bantrail-token-key-v1"

/* T = H(t): BLAKE2b-512 of the context and t, mapped to the group. */
static void hash_to_group(unsigned char p[BT_TOKEN_POINT_BYTES], const unsigned char t[BT_TOKEN_BYTES])
{
    unsigned char h[crypto_core_ristretto255_HASHBYTES];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)HASH_TO_GROUP, sizeof HASH_TO_GROUP);
    crypto_generichash_update(&st, t, BT_TOKEN_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    crypto_core_ristretto255_from_hash(p, h);
}

/* The DLEQ challenge: a scalar from the hash of the statement (Y, M, Z)
 * and the commitments (A = s·G, B = s·M). G is implicit. */
static void challenge(unsigned char c[BT_TOKEN_SCALAR_BYTES], const unsigned char *pub, const unsigned char *m,
                      const unsigned char *z, const unsigned char *a, const unsigned char *b)
{
    unsigned char h[crypto_core_ristretto255_NONREDUCEDSCALARBYTES];
    crypto_generichash_state st;
    const unsigned char *parts[] = {pub, m, z, a, b};
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)DLEQ_CONTEXT, sizeof DLEQ_CONTEXT);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_generichash_update(&st, parts[i], BT_TOKEN_POINT_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    crypto_core_ristretto255_scalar_reduce(c, h);
}

bt_err bt_token_key(unsigned char k[BT_TOKEN_SCALAR_BYTES], unsigned char pub[BT_TOKEN_POINT_BYTES],
                    const unsigned char *seed, size_t seed_len)
{
    unsigned char h[crypto_core_ristretto255_NONREDUCEDSCALARBYTES];
    if (seed_len < 16 || seed_len > crypto_generichash_KEYBYTES_MAX) return BT_ERR_BAD_PARAMS;
    crypto_generichash(h, sizeof h, (const unsigned char *)KEY_CONTEXT, sizeof KEY_CONTEXT, seed, seed_len);
    crypto_core_ristretto255_scalar_reduce(k, h);
    sodium_memzero(h, sizeof h);
    return crypto_scalarmult_ristretto255_base(pub, k) == 0 ? BT_OK : BT_ERR_INTERNAL;
}

bt_err bt_token_blind(unsigned char t[BT_TOKEN_BYTES], unsigned char r[BT_TOKEN_SCALAR_BYTES],
                      unsigned char m[BT_TOKEN_POINT_BYTES])
{
    unsigned char p[BT_TOKEN_POINT_BYTES];
    randombytes_buf(t, BT_TOKEN_BYTES);
    hash_to_group(p, t);
    crypto_core_ristretto255_scalar_random(r); /* never 0 */
    return crypto_scalarmult_ristretto255(m, r, p) == 0 ? BT_OK : BT_ERR_INTERNAL;
}

bt_err bt_token_evaluate(unsigned char z[BT_TOKEN_POINT_BYTES], unsigned char proof[BT_TOKEN_PROOF_BYTES],
                         const unsigned char k[BT_TOKEN_SCALAR_BYTES], const unsigned char pub[BT_TOKEN_POINT_BYTES],
                         const unsigned char m[BT_TOKEN_POINT_BYTES])
{
    unsigned char s[BT_TOKEN_SCALAR_BYTES], a[BT_TOKEN_POINT_BYTES], b[BT_TOKEN_POINT_BYTES], ck[BT_TOKEN_SCALAR_BYTES];
    bt_err err = BT_ERR_BAD_PARAMS;
    if (!crypto_core_ristretto255_is_valid_point(m) || crypto_scalarmult_ristretto255(z, k, m) != 0) goto done;
    crypto_core_ristretto255_scalar_random(s);
    err = BT_ERR_INTERNAL;
    if (crypto_scalarmult_ristretto255_base(a, s) != 0 || crypto_scalarmult_ristretto255(b, s, m) != 0) goto done;
    challenge(proof, pub, m, z, a, b);
    crypto_core_ristretto255_scalar_mul(ck, proof, k);                       /* c·k */
    crypto_core_ristretto255_scalar_sub(proof + BT_TOKEN_SCALAR_BYTES, s, ck); /* s - c·k */
    err = BT_OK;
done:
    sodium_memzero(s, sizeof s);
    sodium_memzero(ck, sizeof ck);
    return err;
}

/* x·P + y·Q into out; -1 when a product is the identity (a zero scalar or a
 * point of no use): a proof that leads there is refused. */
static int two_products(unsigned char out[BT_TOKEN_POINT_BYTES], const unsigned char *x, const unsigned char *p,
                        const unsigned char *y, const unsigned char *q)
{
    unsigned char xp[BT_TOKEN_POINT_BYTES], yq[BT_TOKEN_POINT_BYTES];
    int rc = p == NULL ? crypto_scalarmult_ristretto255_base(xp, x) : crypto_scalarmult_ristretto255(xp, x, p);
    if (rc != 0 || crypto_scalarmult_ristretto255(yq, y, q) != 0) return -1;
    return crypto_core_ristretto255_add(out, xp, yq);
}

bt_err bt_token_finish(bt_token *out, const unsigned char t[BT_TOKEN_BYTES], const unsigned char r[BT_TOKEN_SCALAR_BYTES],
                       const unsigned char m[BT_TOKEN_POINT_BYTES], const unsigned char z[BT_TOKEN_POINT_BYTES],
                       const unsigned char proof[BT_TOKEN_PROOF_BYTES], const unsigned char pub[BT_TOKEN_POINT_BYTES])
{
    const unsigned char *c = proof, *s = proof + BT_TOKEN_SCALAR_BYTES;
    unsigned char a[BT_TOKEN_POINT_BYTES], b[BT_TOKEN_POINT_BYTES], c2[BT_TOKEN_SCALAR_BYTES];
    unsigned char rinv[BT_TOKEN_SCALAR_BYTES];
    bt_err err = BT_ERR_BAD_TOKEN;
    memset(out, 0, sizeof *out);
    if (!crypto_core_ristretto255_is_valid_point(z) || !crypto_core_ristretto255_is_valid_point(pub)) return err;
    /* A = s·G + c·Y and B = s·M + c·Z are the commitments only when Z = k·M
     * for the k of Y; then the challenge comes out the same */
    if (two_products(a, s, NULL, c, pub) != 0 || two_products(b, s, m, c, z) != 0) return err;
    challenge(c2, pub, m, z, a, b);
    if (sodium_memcmp(c2, c, sizeof c2) != 0) return err;
    if (crypto_core_ristretto255_scalar_invert(rinv, r) != 0 || crypto_scalarmult_ristretto255(out->n, rinv, z) != 0) {
        err = BT_ERR_INTERNAL;
    } else {
        memcpy(out->t, t, BT_TOKEN_BYTES);
        err = BT_OK;
    }
    sodium_memzero(rinv, sizeof rinv);
    if (err != BT_OK) sodium_memzero(out, sizeof *out);
    return err;
}

bt_err bt_token_check(const bt_token *tok, const unsigned char k[BT_TOKEN_SCALAR_BYTES])
{
    unsigned char p[BT_TOKEN_POINT_BYTES], want[BT_TOKEN_POINT_BYTES];
    hash_to_group(p, tok->t);
    if (crypto_scalarmult_ristretto255(want, k, p) != 0) return BT_ERR_BAD_TOKEN;
    return sodium_memcmp(want, tok->n, sizeof want) == 0 ? BT_OK : BT_ERR_BAD_TOKEN;
}
