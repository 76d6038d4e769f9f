/* Anonymous membership tokens (docs/REPORT.md section 5): a verifiable
 * oblivious PRF on ristretto255, as in Privacy Pass.
 *
 *   union key      k (scalar), public Y = k·G, announced in the union entry
 *   member         t random (32 bytes), T = H(t) (hash to the group),
 *                  r random scalar, sends M = r·T
 *   union          Z = k·M, and a DLEQ proof that log_G(Y) = log_M(Z): the
 *                  same k as everyone's, so it cannot tag a member with a key
 *                  of their own
 *   member         checks the proof, keeps the token (t, N = r⁻¹·Z = k·T)
 *   report         carries (t, N) inside the sealed box; the collector
 *                  checks N = k·H(t) and that t was not spent before
 *
 * The union sees M at issuance and (t, N) at spending, and cannot link the
 * two: r makes M uniformly random. Linked by both sides (host/report). Every
 * function returns a bt_err; secret temporaries are wiped. */
#ifndef BANTRAIL_TOKEN_H
#define BANTRAIL_TOKEN_H

#include <sodium.h>
#include "bantrail/error.h"

#define BT_TOKEN_BYTES 32                                  /* t */
#define BT_TOKEN_POINT_BYTES crypto_core_ristretto255_BYTES /* M, Z, N, Y: 32 */
#define BT_TOKEN_SCALAR_BYTES crypto_core_ristretto255_SCALARBYTES /* k, r: 32 */
#define BT_TOKEN_PROOF_BYTES (2 * BT_TOKEN_SCALAR_BYTES)   /* DLEQ: challenge c, response s */
#define BT_TOKEN_WIRE_BYTES (BT_TOKEN_BYTES + BT_TOKEN_POINT_BYTES) /* t | N inside a report */
#define BT_TOKEN_BATCH_MAX 100                             /* tokens in one issuance request */

/* A token ready to spend: t and N = k·H(t). */
typedef struct {
    unsigned char t[BT_TOKEN_BYTES];
    unsigned char n[BT_TOKEN_POINT_BYTES];
} bt_token;

/* The union's token key from secret bytes it already keeps (its X25519
 * secret key): k = BLAKE2b-512 keyed by seed, reduced; pub = k·G. k is
 * written to k (the caller's sodium_malloc memory). */
bt_err bt_token_key(unsigned char k[BT_TOKEN_SCALAR_BYTES], unsigned char pub[BT_TOKEN_POINT_BYTES],
                    const unsigned char *seed, size_t seed_len);

/* Member: a fresh token value t and blinding scalar r (secret: keep them
 * until the answer, then wipe r), and the blinded element m to send. */
bt_err bt_token_blind(unsigned char t[BT_TOKEN_BYTES], unsigned char r[BT_TOKEN_SCALAR_BYTES],
                      unsigned char m[BT_TOKEN_POINT_BYTES]);

/* Union: z = k·m and the DLEQ proof that the same k is behind pub.
 * BT_ERR_BAD_PARAMS when m is not a valid point (or the identity). */
bt_err bt_token_evaluate(unsigned char z[BT_TOKEN_POINT_BYTES], unsigned char proof[BT_TOKEN_PROOF_BYTES],
                         const unsigned char k[BT_TOKEN_SCALAR_BYTES], const unsigned char pub[BT_TOKEN_POINT_BYTES],
                         const unsigned char m[BT_TOKEN_POINT_BYTES]);

/* Member: checks the union's proof that z = k·m for the k of pub, then
 * unblinds: out = (t, r⁻¹·z). BT_ERR_BAD_TOKEN when z is no point or the
 * proof does not hold (another key: the union might be tagging this member). */
bt_err bt_token_finish(bt_token *out, const unsigned char t[BT_TOKEN_BYTES], const unsigned char r[BT_TOKEN_SCALAR_BYTES],
                       const unsigned char m[BT_TOKEN_POINT_BYTES], const unsigned char z[BT_TOKEN_POINT_BYTES],
                       const unsigned char proof[BT_TOKEN_PROOF_BYTES], const unsigned char pub[BT_TOKEN_POINT_BYTES]);

/* Collector: BT_OK when tok->n = k·H(tok->t), else BT_ERR_BAD_TOKEN. Whether
 * t was spent before is the store's question. */
bt_err bt_token_check(const bt_token *tok, const unsigned char k[BT_TOKEN_SCALAR_BYTES]);

#endif
