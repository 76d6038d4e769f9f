/* Anonymous membership tokens (bantrail_report's token.c): the VOPRF and its
 * DLEQ proof, each with the attack beside the honest case. */

#include "bantrail/token.h"
#include "check.h"

__attribute__((constructor)) static void start_sodium(void)
{
    if (sodium_init() < 0) abort();
}

typedef struct {
    unsigned char k[BT_TOKEN_SCALAR_BYTES], pub[BT_TOKEN_POINT_BYTES];
} issuer;

static issuer new_issuer(void)
{
    issuer i;
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    if (bt_token_key(i.k, i.pub, seed, sizeof seed) != BT_OK) abort();
    return i;
}

/* One honest issuance: the member's side, the union's, the member's again. */
static bt_err issue(const issuer *u, const unsigned char *claimed_pub, bt_token *tok)
{
    unsigned char t[BT_TOKEN_BYTES], r[BT_TOKEN_SCALAR_BYTES], m[BT_TOKEN_POINT_BYTES], z[BT_TOKEN_POINT_BYTES],
        proof[BT_TOKEN_PROOF_BYTES];
    if (bt_token_blind(t, r, m) != BT_OK || bt_token_evaluate(z, proof, u->k, u->pub, m) != BT_OK) abort();
    return bt_token_finish(tok, t, r, m, z, proof, claimed_pub);
}

TEST(an_issued_token_checks_under_the_key_that_issued_it_only)
{
    issuer u = new_issuer(), other = new_issuer();
    bt_token tok;
    CHECK_EQ(issue(&u, u.pub, &tok), BT_OK);
    CHECK_EQ(bt_token_check(&tok, u.k), BT_OK);
    CHECK_EQ(bt_token_check(&tok, other.k), BT_ERR_BAD_TOKEN); /* wrong key */
}

TEST(the_same_key_seed_gives_the_same_key)
{
    unsigned char seed[32] = {1, 2, 3}, k1[32], k2[32], p1[32], p2[32];
    CHECK_EQ(bt_token_key(k1, p1, seed, sizeof seed), BT_OK);
    CHECK_EQ(bt_token_key(k2, p2, seed, sizeof seed), BT_OK);
    CHECK(memcmp(k1, k2, 32) == 0 && memcmp(p1, p2, 32) == 0);
    seed[0] ^= 1;
    CHECK_EQ(bt_token_key(k2, p2, seed, sizeof seed), BT_OK);
    CHECK(memcmp(p1, p2, 32) != 0);
    CHECK_EQ(bt_token_key(k2, p2, seed, 8), BT_ERR_BAD_PARAMS);
}

TEST(a_forged_n_is_refused)
{
    issuer u = new_issuer();
    bt_token tok, forged;
    CHECK_EQ(issue(&u, u.pub, &tok), BT_OK);
    forged = tok;
    forged.n[0] ^= 1; /* one bit of N */
    CHECK_EQ(bt_token_check(&forged, u.k), BT_ERR_BAD_TOKEN);
    forged = tok;
    forged.t[31] ^= 0x80; /* another t with the same N */
    CHECK_EQ(bt_token_check(&forged, u.k), BT_ERR_BAD_TOKEN);
    /* a token made up without the union: random t, N any valid point */
    randombytes_buf(forged.t, sizeof forged.t);
    crypto_core_ristretto255_random(forged.n);
    CHECK_EQ(bt_token_check(&forged, u.k), BT_ERR_BAD_TOKEN);
}

TEST(a_proof_under_another_key_is_refused_so_a_member_cannot_be_tagged)
{
    /* the union evaluates one member with a key of their own (k'), while
     * announcing Y: the member's check of the proof refuses it */
    issuer u = new_issuer(), tagging = new_issuer();
    bt_token tok;
    CHECK_EQ(issue(&tagging, u.pub, &tok), BT_ERR_BAD_TOKEN);
    /* and a proof made for k' but sent with Z of k' against Y' itself holds */
    CHECK_EQ(issue(&tagging, tagging.pub, &tok), BT_OK);
}

TEST(a_bad_or_altered_proof_is_refused)
{
    issuer u = new_issuer();
    unsigned char t[32], r[32], m[32], z[32], proof[64], bad[64], z2[32];
    bt_token tok;
    CHECK_EQ(bt_token_blind(t, r, m), BT_OK);
    CHECK_EQ(bt_token_evaluate(z, proof, u.k, u.pub, m), BT_OK);
    for (size_t i = 0; i < sizeof proof; i += 17) { /* a bit flipped in c or in s */
        memcpy(bad, proof, sizeof bad);
        bad[i] ^= 4;
        CHECK_EQ(bt_token_finish(&tok, t, r, m, z, bad, u.pub), BT_ERR_BAD_TOKEN);
    }
    memset(bad, 0, sizeof bad);
    CHECK_EQ(bt_token_finish(&tok, t, r, m, z, bad, u.pub), BT_ERR_BAD_TOKEN);
    /* Z replaced (a key the proof does not speak of), or not a point */
    crypto_core_ristretto255_random(z2);
    CHECK_EQ(bt_token_finish(&tok, t, r, m, z2, proof, u.pub), BT_ERR_BAD_TOKEN);
    memset(z2, 0xff, sizeof z2);
    CHECK_EQ(bt_token_finish(&tok, t, r, m, z2, proof, u.pub), BT_ERR_BAD_TOKEN);
    /* the honest answer still holds */
    CHECK_EQ(bt_token_finish(&tok, t, r, m, z, proof, u.pub), BT_OK);
    CHECK_EQ(bt_token_check(&tok, u.k), BT_OK);
}

TEST(the_union_refuses_to_evaluate_what_is_not_a_point)
{
    issuer u = new_issuer();
    unsigned char m[32], z[32], proof[64];
    memset(m, 0, sizeof m); /* the identity */
    CHECK_EQ(bt_token_evaluate(z, proof, u.k, u.pub, m), BT_ERR_BAD_PARAMS);
    memset(m, 0xff, sizeof m);
    CHECK_EQ(bt_token_evaluate(z, proof, u.k, u.pub, m), BT_ERR_BAD_PARAMS);
}

TEST(what_the_union_sees_at_issuance_is_not_what_it_sees_at_spending)
{
    /* M = r·H(t) is fresh randomness each time: the same t blinded twice
     * gives unrelated M, and neither equals H(t) or N */
    issuer u = new_issuer();
    unsigned char t[32], r[32], m[32], z[32], proof[64];
    bt_token tok;
    CHECK_EQ(bt_token_blind(t, r, m), BT_OK);
    CHECK_EQ(bt_token_evaluate(z, proof, u.k, u.pub, m), BT_OK);
    CHECK_EQ(bt_token_finish(&tok, t, r, m, z, proof, u.pub), BT_OK);
    CHECK(memcmp(m, tok.n, 32) != 0 && memcmp(z, tok.n, 32) != 0 && memcmp(m, tok.t, 32) != 0);
    /* two members' tokens differ */
    bt_token tok2;
    CHECK_EQ(issue(&u, u.pub, &tok2), BT_OK);
    CHECK(memcmp(tok.t, tok2.t, 32) != 0 && memcmp(tok.n, tok2.n, 32) != 0);
}

RUN_TESTS(T(an_issued_token_checks_under_the_key_that_issued_it_only), T(the_same_key_seed_gives_the_same_key),
          T(a_forged_n_is_refused), T(a_proof_under_another_key_is_refused_so_a_member_cannot_be_tagged),
          T(a_bad_or_altered_proof_is_refused), T(the_union_refuses_to_evaluate_what_is_not_a_point),
          T(what_the_union_sees_at_issuance_is_not_what_it_sees_at_spending))
