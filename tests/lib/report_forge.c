/* report_forge: prints one sealed report envelope (base64) for the HTTP
 * tests, honest or hostile.
 * usage: report_forge --pk B64 [--difficulty N] [--id HEX] [--platform P]
 *        [--week W] [--plain] [--blocks N] [--break-padding] [--flip]
 *        [--envelope-id HEX] [--client-api] [--seed HEX] [--withdraw] [--raw]
 * --plain reads the plaintext JSON from stdin instead of the sample report;
 * --client-api seals with bt_report_seal instead of the hand-made envelope;
 * --seed signs with that report seed (32 bytes; default: a fresh one);
 * --withdraw makes a withdrawal of --id instead of a report; --raw seals the
 * plaintext without the kind, key and signature before it; --bad-signature
 * flips a bit of the signature; --token HEX (t | N, 64 bytes, or "forged":
 * a random t and a random point, as if made up without the union) seals a
 * member report spending it (implies --client-api). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "report_forge.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pk", required_argument, NULL, 'k'}, {"difficulty", required_argument, NULL, 'd'},
        {"id", required_argument, NULL, 'i'}, {"platform", required_argument, NULL, 'p'},
        {"week", required_argument, NULL, 'w'}, {"plain", no_argument, NULL, 'j'},
        {"blocks", required_argument, NULL, 'b'}, {"break-padding", no_argument, NULL, 'x'},
        {"flip", no_argument, NULL, 'f'}, {"envelope-id", required_argument, NULL, 'e'},
        {"client-api", no_argument, NULL, 'c'}, {"seed", required_argument, NULL, 's'},
        {"withdraw", no_argument, NULL, 'W'}, {"raw", no_argument, NULL, 'r'},
        {"bad-signature", no_argument, NULL, 'B'}, {"token", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    unsigned char pk[32], id[16], eid[16], seed[32];
    const char *platform = "instagram", *week = "2026-W10";
    int have_pk = 0, plain = 0, client_api = 0, has_token = 0, o;
    bt_token tok;
    size_t n = 0;
    forge_opts fo = {0};
    if (sodium_init() < 0) return 2;
    bt_report_new_id(id);
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'k':
            have_pk = sodium_base642bin(pk, 32, optarg, strlen(optarg), NULL, &n, NULL,
                                        sodium_base64_VARIANT_ORIGINAL) == 0 && n == 32;
            break;
        case 'd': fo.difficulty = (unsigned)atoi(optarg); break;
        case 'i':
            if (sodium_hex2bin(id, 16, optarg, strlen(optarg), NULL, &n, NULL) != 0 || n != 16) return 2;
            break;
        case 'p': platform = optarg; break;
        case 'w': week = optarg; break;
        case 'j': plain = 1; break;
        case 'c': client_api = 1; break;
        case 's':
            if (sodium_hex2bin(seed, 32, optarg, strlen(optarg), NULL, &n, NULL) != 0 || n != 32) return 2;
            fo.seed = seed;
            break;
        case 'T':
            if (!strcmp(optarg, "forged")) {
                randombytes_buf(tok.t, sizeof tok.t);
                crypto_core_ristretto255_random(tok.n);
            } else {
                unsigned char both[64];
                if (sodium_hex2bin(both, 64, optarg, strlen(optarg), NULL, &n, NULL) != 0 || n != 64) return 2;
                memcpy(tok.t, both, 32);
                memcpy(tok.n, both + 32, 32);
            }
            has_token = client_api = 1;
            break;
        case 'W': fo.withdraw = 1; break;
        case 'r': fo.raw = 1; break;
        case 'B': fo.bad_signature = 1; break;
        case 'b': fo.blocks = (unsigned)atoi(optarg); break;
        case 'x': fo.break_padding = 1; break;
        case 'f': fo.flip_sealed = 1; break;
        case 'e':
            if (sodium_hex2bin(eid, 16, optarg, strlen(optarg), NULL, &n, NULL) != 0 || n != 16) return 2;
            fo.envelope_id = eid;
            break;
        default: return 2;
        }
    }
    if (!have_pk) {
        fprintf(stderr, "report_forge: --pk B64 (32 bytes) is required\n");
        return 2;
    }
    static char json[16 * BT_REPORT_BLOCK], wire[32 * BT_REPORT_BLOCK];
    size_t len = fo.withdraw ? 0
                 : plain  ? fread(json, 1, sizeof json - 1, stdin)
                          : sample_json(json, sizeof json, id, platform, week);
    size_t wlen = 0;
    if (client_api) { /* the path a client takes: bt_report_parse, then bt_report_seal */
        bt_report r;
        bt_union u;
        memset(&u, 0, sizeof u);
        memcpy(u.public_key, pk, 32);
        u.pow_difficulty = fo.difficulty;
        if (bt_report_parse(&r, json, len, NULL) != BT_OK || bt_report_seal(wire, sizeof wire, &wlen, &r, &u, fo.seed, has_token ? &tok : NULL) != BT_OK)
            return 1;
    } else {
        wlen = forge_wire(wire, sizeof wire, json, len, pk, id, &fo);
    }
    if (wlen == 0) return 2;
    fwrite(wire, 1, wlen, stdout);
    return 0;
}
