/* The report module both sides link (bantrail_report): schema, canonical
 * form, padding, sealing, proof of work, union entries. The collector's store
 * is tested in tests/collect/test_collect_store.c. */

#include "bantrail/report.h"
#include "bantrail/words.h"
#include "check.h"
#include "report_forge.h"

static unsigned char pk[32], sk[32], other_pk[32], other_sk[32];

__attribute__((constructor)) static void start_sodium(void)
{
    if (sodium_init() < 0) abort();
}

static void keys(void)
{
    static int done;
    if (done) return;
    crypto_box_keypair(pk, sk);
    crypto_box_keypair(other_pk, other_sk);
    done = 1;
}

static bt_union demo_union(unsigned difficulty)
{
    return forge_union(pk, difficulty);
}

static bt_report sample(void)
{
    bt_report r;
    char json[2048];
    unsigned char id[16];
    bt_report_new_id(id);
    size_t n = sample_json(json, sizeof json, id, "instagram", "2026-W10");
    if (bt_report_parse(&r, json, n, NULL) != BT_OK) abort();
    return r;
}

static bt_err parse_str(const char *s, const char **why)
{
    bt_report r;
    return bt_report_parse(&r, s, strlen(s), why);
}

/* A minimal valid report with `extra` spliced in before the final brace. */
static bt_err parse_with(const char *appeal, const char *extra)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"v\":1,\"report_id\":\"00112233445566778899aabbccddeeff\",\"client\":\"1.2.3\","
             "\"platform\":\"x\",\"kind\":\"warning\",\"stated\":{\"keywords\":[]},\"week\":\"2026-W53\","
             "\"duration\":\"not_stated\",\"appeal\":%s%s}",
             appeal, extra);
    return parse_str(buf, NULL);
}

#define NOT_SUBMITTED "{\"offered\":\"unknown\",\"submitted\":false}"

TEST(parse_accepts_a_full_report_and_renders_it_back_byte_for_byte)
{
    char json[2048], out[BT_REPORT_JSON_MAX + 1];
    unsigned char id[16];
    bt_report r;
    size_t n, m = 0;
    bt_report_new_id(id);
    n = sample_json(json, sizeof json, id, "tiktok", "2026-W10");
    CHECK_EQ(bt_report_parse(&r, json, n, NULL), BT_OK);
    CHECK(memcmp(r.id, id, 16) == 0);
    CHECK_EQ(r.platform, bt_report_enum_value(BT_RF_PLATFORM, "tiktok"));
    CHECK_EQ(r.week, 202610);
    CHECK_EQ(r.paid, 1);
    CHECK_EQ(bt_report_render(out, sizeof out, &m, &r), BT_OK);
    CHECK_EQ(m, n);
    CHECK(memcmp(out, json, n) == 0);
}

TEST(parse_accepts_a_minimal_report_without_appeal_or_context)
{
    CHECK_EQ(parse_with(NOT_SUBMITTED, ""), BT_OK);
}

TEST(parse_refuses_unknown_members_anywhere)
{
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"handle\":\"@someone\""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":false,\"note\":\"x\"}", ""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"email\":\"a@b.c\"}"), BT_ERR_BAD_REPORT);
}

TEST(parse_refuses_values_outside_the_closed_enums)
{
    const char *why = NULL;
    CHECK_EQ(parse_str("{\"v\":1,\"report_id\":\"00112233445566778899aabbccddeeff\",\"client\":\"1.2.3\","
                       "\"platform\":\"myspace\",\"kind\":\"warning\",\"stated\":{\"keywords\":[]},"
                       "\"week\":\"2026-W10\",\"duration\":\"not_stated\",\"appeal\":" NOT_SUBMITTED "}", &why),
             BT_ERR_BAD_REPORT);
    CHECK(why != NULL && strstr(why, "platform") != NULL);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"country\":\"XX\"}"), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"country\":\"de\"}"), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"country\":\"DE\"}"), BT_OK);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"account_type\":\"bot\"}"), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{\"paid_verification\":\"yes\"}"), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, ",\"context\":{}"), BT_ERR_BAD_REPORT);
}

TEST(parse_checks_iso_weeks)
{
    char buf[1024];
    const char *weeks_ok[] = {"2026-W53", "2020-W53", "2025-W52", "2099-W01"};
    const char *weeks_bad[] = {"2025-W53", "2026-W00", "2019-W10", "2026-W1", "2026W10", "2026-w10", "2100-W01"};
    for (size_t i = 0; i < 4 + 7; i++) {
        const char *w = i < 4 ? weeks_ok[i] : weeks_bad[i - 4];
        snprintf(buf, sizeof buf,
                 "{\"v\":1,\"report_id\":\"00112233445566778899aabbccddeeff\",\"client\":\"1.2.3\","
                 "\"platform\":\"x\",\"kind\":\"warning\",\"stated\":{\"keywords\":[]},\"week\":\"%s\","
                 "\"duration\":\"not_stated\",\"appeal\":" NOT_SUBMITTED "}", w);
        CHECK_EQ(parse_str(buf, NULL), i < 4 ? BT_OK : BT_ERR_BAD_REPORT);
    }
}

TEST(parse_holds_the_appeal_rules)
{
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":true,\"outcome\":\"pending\",\"response_delay\":\"none\"}", ""), BT_OK);
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":true,\"outcome\":\"rejected\",\"response_delay\":\"ge_30d\"}", ""), BT_OK);
    /* pending exactly when no answer */
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":true,\"outcome\":\"pending\",\"response_delay\":\"lt_10m\"}", ""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":true,\"outcome\":\"rejected\",\"response_delay\":\"none\"}", ""), BT_ERR_BAD_REPORT);
    /* an outcome needs an appeal */
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":false,\"outcome\":\"rejected\"}", ""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":true}", ""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with("{\"submitted\":false}", ""), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with("{\"offered\":\"yes\",\"submitted\":1}", ""), BT_ERR_BAD_REPORT);
}

TEST(parse_refuses_missing_members_bad_ids_versions_and_keywords)
{
#define HEAD "{\"v\":1,\"report_id\":\"%s\",\"client\":\"%s\",\"platform\":\"x\",\"kind\":\"warning\"," \
             "\"stated\":{\"keywords\":[%s]},\"week\":\"2026-W10\",\"duration\":\"not_stated\"," \
             "\"appeal\":" NOT_SUBMITTED "}"
    char buf[2048];
#define TRY(id, client, kw, want)                                  \
    do {                                                           \
        snprintf(buf, sizeof buf, HEAD, id, client, kw);           \
        CHECK_EQ(parse_str(buf, NULL), want);                      \
    } while (0)
    const char *id = "00112233445566778899aabbccddeeff";
    TRY(id, "1.2.3", "", BT_OK);
    TRY("00112233445566778899AABBCCDDEEFF", "1.2.3", "", BT_ERR_BAD_REPORT);
    TRY("00112233445566778899aabbccddee", "1.2.3", "", BT_ERR_BAD_REPORT);
    TRY(id, "01.2.3", "", BT_ERR_BAD_REPORT);
    TRY(id, "1.2", "", BT_ERR_BAD_REPORT);
    TRY(id, "1.2.3-beta", "", BT_ERR_BAD_REPORT);
    TRY(id, "1.2.3", "\"KEYWORD_NUDITY\",\"KEYWORD_NUDITY\"", BT_ERR_BAD_REPORT);
    TRY(id, "1.2.3", "\"KEYWORD_NOT_A_KEYWORD\"", BT_ERR_BAD_REPORT);
    TRY(id, "1.2.3", "\"KEYWORD_NUDITY\",\"KEYWORD_PHISHING\"", BT_OK);
    TRY(id, "1.2.3",
        "\"KEYWORD_NUDITY\",\"KEYWORD_PHISHING\",\"KEYWORD_SUICIDE\",\"KEYWORD_OTHER\",\"KEYWORD_STALKING\","
        "\"KEYWORD_DEFAMATION\",\"KEYWORD_HATE_SPEECH\",\"KEYWORD_DISINFORMATION\",\"KEYWORD_MISINFORMATION\"",
        BT_ERR_BAD_REPORT);
#undef TRY
#undef HEAD
    CHECK_EQ(parse_str("{\"v\":1}", NULL), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_str("[]", NULL), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_with(NOT_SUBMITTED, "} "), BT_ERR_BAD_REPORT); /* trailing bytes */
    CHECK_EQ(parse_str("{\"v\":2}", NULL), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_str("{\"v\":3}", NULL), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_str("{\"v\":\"\xff\"}", NULL), BT_ERR_BAD_REPORT); /* not UTF-8 */
}

TEST(seal_then_open_gives_the_same_report_in_whole_blocks)
{
    keys();
    bt_union u = demo_union(0);
    bt_report r = sample(), back;
    char wire[BT_REPORT_WIRE_MAX + 1];
    unsigned char env[BT_REPORT_ENVELOPE_MAX];
    size_t len = 0, env_len = 0;
    unsigned char d1[32], d2[32];
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(sodium_base642bin(env, sizeof env, wire, len, NULL, &env_len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    CHECK_EQ(env_len, (size_t)BT_REPORT_ENVELOPE_BYTES(1));
    CHECK_EQ(bt_report_open(&back, d1, wire, len, pk, sk, 0, NULL), BT_OK);
    CHECK(memcmp(&back, &r, sizeof r) == 0);
    /* a second sealing of the same report is different bytes, a different digest */
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, d2, wire, len, pk, sk, 0, NULL), BT_OK);
    CHECK(memcmp(d1, d2, 32) != 0);
}

TEST(a_report_carries_its_own_key_signed_and_a_withdrawal_only_its_id)
{
    keys();
    bt_union u = demo_union(0);
    bt_report r = sample(), back;
    bt_report_auth a1, a2;
    char wire[BT_REPORT_WIRE_MAX + 1], json[2048];
    unsigned char seed[BT_REPORT_SEED_BYTES], other[BT_REPORT_SEED_BYTES], spk[crypto_sign_PUBLICKEYBYTES];
    unsigned char ssk[crypto_sign_SECRETKEYBYTES];
    size_t len = 0, n;
    const char *why = NULL;
    randombytes_buf(seed, sizeof seed);
    randombytes_buf(other, sizeof other);
    crypto_sign_seed_keypair(spk, ssk, seed);
    /* the key inside is the seed's, the same for every sealing with it */
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, seed, NULL), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a1, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(!a1.withdrawal && !memcmp(a1.key, spk, sizeof spk) && !memcmp(&back, &r, sizeof r));
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, seed, NULL), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(!memcmp(a1.key, a2.key, sizeof spk));
    /* another seed or none: another key */
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, other, NULL), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(memcmp(a1.key, a2.key, sizeof spk) != 0);
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(memcmp(a1.key, a2.key, sizeof spk) != 0);
    /* a withdrawal: one block, the id and the key, no report; bt_report_open refuses it */
    CHECK_EQ(bt_report_seal_withdrawal(wire, sizeof wire, &len, r.id, &u, seed), BT_OK);
    CHECK_EQ(len, (size_t)((BT_REPORT_ENVELOPE_BYTES(1) + 2) / 3 * 4));
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(a2.withdrawal && !memcmp(a2.key, spk, sizeof spk) && !memcmp(back.id, r.id, sizeof r.id));
    CHECK_EQ(back.platform, 0);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
    CHECK(why != NULL && strstr(why, "withdrawal") != NULL);
    CHECK_EQ(bt_report_seal_withdrawal(wire, sizeof wire, &len, r.id, &u, NULL), BT_ERR_BAD_PARAMS);

    /* hand-made: no key inside, a broken signature, a withdrawal with a report, the old envelope */
    n = sample_json(json, sizeof json, r.id, "x", "2026-W10");
    forge_opts o = {0};
    o.raw = 1;
    len = forge_wire(wire, sizeof wire, json, n, pk, r.id, &o);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
    CHECK(why != NULL && strstr(why, "key") != NULL);
    o.raw = 0;
    o.bad_signature = 1;
    len = forge_wire(wire, sizeof wire, json, n, pk, r.id, &o);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
    CHECK(why != NULL && strstr(why, "signature") != NULL);
    o.bad_signature = 0;
    o.withdraw = 1;
    len = forge_wire(wire, sizeof wire, json, n, pk, r.id, &o);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
    o.withdraw = 0;
    o.seed = seed; /* the signature binds the report id: another id in the envelope breaks it */
    len = forge_wire(wire, sizeof wire, json, n, pk, r.id, &o);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(!memcmp(a2.key, spk, sizeof spk));
    unsigned char env[BT_REPORT_ENVELOPE_MAX];
    size_t env_len = 0;
    CHECK_EQ(sodium_base642bin(env, sizeof env, wire, len, NULL, &env_len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    memcpy(env, "BTR1", 4);
    sodium_bin2base64(wire, sizeof wire, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    CHECK_EQ(bt_report_open_signed(&back, &a2, NULL, wire, strlen(wire), pk, sk, 0, &why), BT_ERR_BAD_ENVELOPE);
    CHECK(why != NULL && strstr(why, "older client") != NULL);
    sodium_memzero(ssk, sizeof ssk);
}

TEST(open_refuses_a_flipped_byte_anywhere)
{
    keys();
    bt_union u = demo_union(0);
    bt_report r = sample(), back;
    char wire[BT_REPORT_WIRE_MAX + 1], bad[BT_REPORT_WIRE_MAX + 1];
    unsigned char env[BT_REPORT_ENVELOPE_MAX];
    size_t len = 0, env_len = 0;
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(sodium_base642bin(env, sizeof env, wire, len, NULL, &env_len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    /* every byte before the nonce: magic, key id, report id, sealed bytes */
    int refused = 0, tried = 0;
    for (size_t i = 0; i < env_len - BT_REPORT_NONCE_BYTES; i += (i < 200 ? 1 : 37)) {
        env[i] ^= 0x20;
        sodium_bin2base64(bad, sizeof bad, env, env_len, sodium_base64_VARIANT_ORIGINAL);
        tried++;
        refused += bt_report_open(&back, NULL, bad, strlen(bad), pk, sk, 0, NULL) != BT_OK;
        env[i] ^= 0x20;
    }
    CHECK_EQ(refused, tried);
    sodium_bin2base64(bad, sizeof bad, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    CHECK_EQ(bt_report_open(&back, NULL, bad, strlen(bad), pk, sk, 0, NULL), BT_OK);
    /* sealed bytes flipped: authentication fails */
    env[BT_REPORT_HEADER_BYTES + 100] ^= 1;
    sodium_bin2base64(bad, sizeof bad, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    CHECK_EQ(bt_report_open(&back, NULL, bad, strlen(bad), pk, sk, 0, NULL), BT_ERR_CORRUPT);
}

TEST(open_refuses_another_key)
{
    keys();
    bt_union u = demo_union(0);
    bt_report r = sample(), back;
    char wire[BT_REPORT_WIRE_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, other_pk, other_sk, 0, &why), BT_ERR_WRONG_KEY);
    /* our key id on a box sealed to another key: the box does not open */
    char json[2048];
    unsigned char env[BT_REPORT_ENVELOPE_MAX];
    size_t env_len = 0, n = sample_json(json, sizeof json, r.id, "x", "2026-W10");
    forge_opts o = {0};
    len = forge_wire(wire, sizeof wire, json, n, other_pk, r.id, &o);
    CHECK_EQ(sodium_base642bin(env, sizeof env, wire, len, NULL, &env_len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
    bt_report_key_id(env + 4, pk);
    sodium_bin2base64(wire, sizeof wire, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    CHECK_EQ(bt_report_open(&back, NULL, wire, strlen(wire), pk, sk, 0, NULL), BT_ERR_CORRUPT);
}

TEST(open_demands_the_proof_of_work)
{
    keys();
    bt_union u = demo_union(10);
    bt_report r = sample(), back;
    char wire[BT_REPORT_WIRE_MAX + 1];
    size_t len = 0;
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 10, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 24, NULL), BT_ERR_BAD_POW); /* fails 1 in 2^14 */
    /* a forged envelope with no work at all */
    char json[2048];
    size_t n = sample_json(json, sizeof json, r.id, "x", "2026-W10");
    forge_opts o = {0};
    unsigned tries = 0;
    do {
        len = forge_wire(wire, sizeof wire, json, n, pk, r.id, &o);
    } while (bt_report_open(&back, NULL, wire, len, pk, sk, 10, NULL) == BT_OK && ++tries < 8);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 10, NULL), BT_ERR_BAD_POW);
}

TEST(open_refuses_lying_padding)
{
    keys();
    unsigned char id[16];
    char json[2048], wire[4 * BT_REPORT_BLOCK * 2];
    bt_report back;
    const char *why = NULL;
    bt_report_new_id(id);
    size_t n = sample_json(json, sizeof json, id, "x", "2026-W10"), len;
    forge_opts o = {0};
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_OK);
    o.blocks = 3; /* more blocks than the text needs */
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_ENVELOPE);
    CHECK(why != NULL && strstr(why, "padding") != NULL);
    o.blocks = 0;
    o.break_padding = 1; /* no 0x80 marker */
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_ENVELOPE);
    o.break_padding = 0;
    o.blocks = 5; /* beyond the largest report */
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_FRAME_TOO_LARGE);
}

TEST(open_refuses_non_canonical_json_and_a_mismatched_id)
{
    keys();
    unsigned char id[16], other[16];
    char json[2048], spaced[2100], wire[BT_REPORT_WIRE_MAX + 1];
    bt_report back;
    bt_report_new_id(id);
    bt_report_new_id(other);
    size_t n = sample_json(json, sizeof json, id, "x", "2026-W10"), len;
    forge_opts o = {0};
    snprintf(spaced, sizeof spaced, "%.*s }", (int)n - 1, json);
    len = forge_wire(wire, sizeof wire, spaced, strlen(spaced), pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_BAD_REPORT);
    o.envelope_id = other;
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_BAD_REPORT);
    o.envelope_id = NULL;
    len = forge_wire(wire, sizeof wire, json, n, pk, id, &o);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_OK);
}

TEST(open_refuses_what_is_not_exact_base64)
{
    keys();
    bt_union u = demo_union(0);
    bt_report r = sample(), back;
    char wire[BT_REPORT_WIRE_MAX + 2];
    size_t len = 0;
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len - 4, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE); /* truncated */
    /* 1108 bytes end in "x==": non-zero bits after the last byte are another spelling */
    CHECK(len > 3 && wire[len - 1] == '=' && wire[len - 2] == '=');
    char keep = wire[len - 3];
    wire[len - 3] = keep == 'A' ? 'B' : (char)(keep ^ 1);
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
    wire[len - 3] = keep;
    keep = wire[20];
    wire[20] = '=';
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
    wire[20] = keep;
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_OK);
    wire[len] = '\n';
    CHECK_EQ(bt_report_open(&back, NULL, wire, len + 1, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
    wire[10] = '*';
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
    CHECK_EQ(bt_report_open(&back, NULL, "", 0, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
    CHECK_EQ(bt_report_open(&back, NULL, "QlRSMQ==", 8, pk, sk, 0, NULL), BT_ERR_BAD_ENVELOPE);
}

TEST(union_entries_are_checked_strictly)
{
    keys();
    bt_union u = demo_union(16), back;
    char text[4096];
    size_t len = 0;
    const char *why = NULL;
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_OK);
    CHECK(memcmp(back.public_key, pk, 32) == 0);
    CHECK_EQ(back.pow_difficulty, 16u);
    /* a key id that is not the key's */
    char *k = strstr(text, "\"key_id\": \"");
    CHECK(k != NULL);
    if (k) k[11] = k[11] == '0' ? '1' : '0';
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
    strcpy(u.submit_url, "http://union.example/v1/reports");
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
    strcpy(u.submit_url, "http://127.0.0.1:8470/v1/reports");
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_OK);
    strcpy(u.submit_url, "http://127.0.0.1.evil.example/v1/reports");
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
}

TEST(a_member_report_carries_its_token_under_the_signature)
{
    keys();
    bt_report r = sample(), back;
    bt_union u = demo_union(0);
    bt_report_auth a;
    bt_token tok;
    char wire[BT_REPORT_WIRE_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    randombytes_buf(tok.t, sizeof tok.t);
    crypto_core_ristretto255_random(tok.n);
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, &tok), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(a.has_token && !a.withdrawal && !memcmp(&a.token, &tok, sizeof tok) && !memcmp(&back, &r, sizeof r));
    CHECK_EQ(bt_report_open(&back, NULL, wire, len, pk, sk, 0, &why), BT_OK); /* a report like any other */
    /* without a token: none found */
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open_signed(&back, &a, NULL, wire, len, pk, sk, 0, &why), BT_OK);
    CHECK(!a.has_token);
    /* a token changed inside the plaintext is caught by the signature (forge_wire signs what it is given:
     * the kind 'R' over t | N | JSON does not parse as a report) */
    forge_opts fo = {0};
    char plain[2048];
    memcpy(plain, &tok, sizeof tok);
    size_t n = sample_json(plain + sizeof tok, sizeof plain - sizeof tok, r.id, "instagram", "2026-W10");
    len = forge_wire(wire, sizeof wire, plain, sizeof tok + n, pk, r.id, &fo);
    CHECK_EQ(bt_report_open_signed(&back, &a, NULL, wire, len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
}

TEST(union_entries_say_both_the_token_policy_and_key_or_neither)
{
    keys();
    bt_union u = demo_union(16), back;
    unsigned char k[32];
    char text[4096], *at;
    size_t len = 0;
    const char *why = NULL;
    CHECK_EQ(bt_token_key(k, u.token_key, sk, sizeof sk), BT_OK);
    u.tokens = BT_TOKENS_REQUIRED;
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_OK);
    CHECK(back.tokens == BT_TOKENS_REQUIRED && !memcmp(back.token_key, u.token_key, 32));
    /* the key is no point */
    memset(u.token_key, 0xff, sizeof u.token_key);
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "token_key") != NULL);
    /* a policy without its key, or another word */
    CHECK_EQ(bt_token_key(k, u.token_key, sk, sizeof sk), BT_OK);
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    at = strstr(text, "\"token_key\"");
    CHECK(at != NULL);
    if (at) memcpy(at, "\"token_kez\"", 11);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    at = strstr(text, "\"required\"");
    if (at) memcpy(at, "\"requirex\"", 10);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_ERR_BAD_PARAMS);
    /* off: neither member, as before tokens */
    u.tokens = BT_TOKENS_OFF;
    CHECK_EQ(bt_report_union_render(text, sizeof text, &len, &u), BT_OK);
    CHECK(strstr(text, "token") == NULL);
    CHECK_EQ(bt_report_union_parse(&back, text, len, &why), BT_OK);
    CHECK_EQ(back.tokens, BT_TOKENS_OFF);
}

TEST(buckets_follow_the_documented_boundaries)
{
#define D(s, p, name) CHECK_EQ(bt_report_duration_bucket(s, p), bt_report_enum_value(BT_RF_DURATION, name))
    D(-1, 0, "not_stated");
    D(0, 0, "lt_24h");
    D(86399, 0, "lt_24h");
    D(86400, 0, "1d_3d");
    D(3 * 86400, 0, "3d_7d");
    D(7 * 86400 - 1, 0, "3d_7d");
    D(30 * 86400, 0, "30d_90d");
    D(90 * 86400, 0, "ge_90d");
    D(5, 1, "permanent");
#undef D
#define L(s, name) CHECK_EQ(bt_report_delay_bucket(s), bt_report_enum_value(BT_RF_DELAY, name))
    L(-1, "none");
    L(0, "lt_10m");
    L(599, "lt_10m");
    L(600, "10m_1h");
    L(3600, "1h_24h");
    L(86400, "1d_7d");
    L(30 * 86400 - 1, "7d_30d");
    L(30 * 86400, "ge_30d");
#undef L
    CHECK_EQ(bt_report_week_of(1772532000), 202610);  /* 2026-03-03 10:00 UTC, a Tuesday */
    CHECK_EQ(bt_report_week_of(1767225600), 202601);  /* 2026-01-01, a Thursday: week 1 */
    CHECK_EQ(bt_report_week_of(1735603200), 202501);  /* 2024-12-31 belongs to 2025-W01 */
    CHECK_EQ(bt_report_week_of(1609459200), 202053);  /* 2021-01-01 belongs to 2020-W53 */
    CHECK_EQ(bt_report_week_of(1798675200), 202653);  /* 2026-12-31: 2026 has 53 weeks */
    CHECK_EQ(bt_report_week_of(0), 0);                /* 1970: outside the schema */
}

TEST(the_demo_union_announces_the_default_work_and_its_key_opens_what_is_sealed_to_it)
{
    bt_union u, back;
    unsigned char dpk[32], dsk[32];
    char wire[BT_REPORT_WIRE_MAX + 1], entry[4096];
    size_t len = 0, elen = 0;
    bt_report r = sample(), opened;
    const char *why = NULL;
    bt_share_demo_union(&u);
    bt_share_demo_keypair(dpk, dsk);
    CHECK_EQ(u.pow_difficulty, (unsigned)BT_REPORT_POW_DEFAULT);
    CHECK(memcmp(u.public_key, dpk, 32) == 0);
    CHECK_EQ(bt_report_union_render(entry, sizeof entry, &elen, &u), BT_OK);
    CHECK_EQ(bt_report_union_parse(&back, entry, elen, &why), BT_OK); /* the entry a person would pin */
    CHECK(strstr(entry, "\"pow_difficulty\":20") != NULL || strstr(entry, "\"pow_difficulty\": 20") != NULL);
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&opened, NULL, wire, len, dpk, dsk, BT_REPORT_POW_DEFAULT, &why), BT_OK);
}

/* A report of schema v with the stated part given, else minimal. */
static bt_err parse_stated(int v, const char *stated, bt_report *r)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"v\":%d,\"report_id\":\"00112233445566778899aabbccddeeff\",\"client\":\"1.2.3\","
             "\"platform\":\"x\",\"kind\":\"warning\",\"stated\":{%s},\"week\":\"2026-W10\","
             "\"duration\":\"not_stated\",\"appeal\":" NOT_SUBMITTED "}",
             v, stated);
    return bt_report_parse(r, buf, strlen(buf), NULL);
}

/* Schema 2: the Transparency Database's lists since 2025 (69 keywords, a
 * set wider than 64 bits), its own canonical form; each schema refuses the
 * other's own values and both take what they share. */
TEST(schema_2_has_the_2025_lists_and_each_schema_refuses_the_others_own_values)
{
    bt_report r;
    char out[BT_REPORT_JSON_MAX + 1];
    size_t m = 0;
    CHECK_EQ(bt_report_list_count(1, BT_RF_CATEGORY), 15);
    CHECK_EQ(bt_report_list_count(1, BT_RF_KEYWORD), 54);
    CHECK_EQ(bt_report_list_count(2, BT_RF_CATEGORY), 16);
    CHECK_EQ(bt_report_list_count(2, BT_RF_KEYWORD), 69);
    CHECK_EQ(bt_report_list_count(3, BT_RF_KEYWORD), 0);
    CHECK_EQ(bt_report_list_count(2, BT_RF_PLATFORM), bt_report_list_count(1, BT_RF_PLATFORM));
    /* keywords past the 64th (KEYWORD_VIOLATION_NATIONAL_LAW is the 68th) */
    const char *full = "\"category\":\"STATEMENT_CATEGORY_CYBER_VIOLENCE\",\"keywords\":[\"KEYWORD_CYBER_HARASSMENT\","
                       "\"KEYWORD_PHISHING\",\"KEYWORD_VIOLATION_NATIONAL_LAW\",\"KEYWORD_OTHER\"]";
    CHECK_EQ(parse_stated(2, full, &r), BT_OK);
    CHECK_EQ(r.v, 2);
    CHECK_EQ(r.category, bt_report_list_value(2, BT_RF_CATEGORY, "STATEMENT_CATEGORY_CYBER_VIOLENCE"));
    CHECK(r.keywords[1] != 0 && __builtin_popcountll(r.keywords[0]) + __builtin_popcountll(r.keywords[1]) == 4);
    CHECK_EQ(bt_report_render(out, sizeof out, &m, &r), BT_OK);
    CHECK(strncmp(out, "{\"v\":2,", 7) == 0 && strstr(out, full) != NULL);
    bt_report back;
    CHECK_EQ(bt_report_parse(&back, out, m, NULL), BT_OK);
    CHECK(memcmp(&back, &r, sizeof r) == 0);
    /* keywords out of table order parse, but render in order (the collector takes only that form) */
    CHECK_EQ(parse_stated(2, "\"keywords\":[\"KEYWORD_OTHER\",\"KEYWORD_CYBER_HARASSMENT\"]", &r), BT_OK);
    CHECK_EQ(bt_report_render(out, sizeof out, &m, &r), BT_OK);
    CHECK(strstr(out, "[\"KEYWORD_CYBER_HARASSMENT\",\"KEYWORD_OTHER\"]") != NULL);
    /* what both schemas hold, both take */
    CHECK_EQ(parse_stated(1, "\"category\":\"STATEMENT_CATEGORY_SCAMS_AND_FRAUD\",\"keywords\":[\"KEYWORD_PHISHING\"]", &r), BT_OK);
    CHECK_EQ(r.v, 1);
    CHECK_EQ(parse_stated(2, "\"category\":\"STATEMENT_CATEGORY_SCAMS_AND_FRAUD\",\"keywords\":[\"KEYWORD_PHISHING\"]", &r), BT_OK);
    /* unknown in schema 2 */
    CHECK_EQ(parse_stated(2, "\"keywords\":[\"KEYWORD_NOT_A_KEYWORD\"]", &r), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_stated(2, "\"category\":\"STATEMENT_CATEGORY_NONE\",\"keywords\":[]", &r), BT_ERR_BAD_REPORT);
    /* schema 1's own values in a schema 2 report */
    CHECK_EQ(parse_stated(2, "\"category\":\"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE\",\"keywords\":[]", &r),
             BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_stated(2, "\"keywords\":[\"KEYWORD_MISINFORMATION\"]", &r), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_stated(2, "\"keywords\":[\"KEYWORD_GENDER_BASED_VIOLENCE\"]", &r), BT_ERR_BAD_REPORT);
    /* schema 2's own values in a schema 1 report */
    CHECK_EQ(parse_stated(1, "\"category\":\"STATEMENT_CATEGORY_CYBER_VIOLENCE\",\"keywords\":[]", &r), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_stated(1, "\"keywords\":[\"KEYWORD_CYBER_HARASSMENT\"]", &r), BT_ERR_BAD_REPORT);
    CHECK_EQ(parse_stated(1, "\"keywords\":[\"KEYWORD_MISINFORMATION_DISINFORMATION\"]", &r), BT_ERR_BAD_REPORT);
    /* a report filled in by hand: its schema, and keywords within its list */
    CHECK_EQ(parse_stated(2, "\"keywords\":[]", &r), BT_OK);
    r.v = 0;
    CHECK_EQ(bt_report_check(&r, NULL), BT_ERR_BAD_REPORT);
    r.v = 2;
    r.keywords[1] = (uint64_t)1 << 4; /* the 69th: KEYWORD_OTHER */
    CHECK_EQ(bt_report_check(&r, NULL), BT_OK);
    r.keywords[1] = (uint64_t)1 << 5; /* a 70th */
    CHECK_EQ(bt_report_check(&r, NULL), BT_ERR_BAD_REPORT);
    r.v = 1;
    r.keywords[1] = 0;
    r.keywords[0] = (uint64_t)1 << 53; /* the 54th: KEYWORD_OTHER */
    CHECK_EQ(bt_report_check(&r, NULL), BT_OK);
    r.keywords[0] = (uint64_t)1 << 54;
    CHECK_EQ(bt_report_check(&r, NULL), BT_ERR_BAD_REPORT);
    r.keywords[0] = 0;
    r.category = 16; /* schema 2 has a 16th category, schema 1 not */
    CHECK_EQ(bt_report_check(&r, NULL), BT_ERR_BAD_REPORT);
    r.v = 2;
    CHECK_EQ(bt_report_check(&r, NULL), BT_OK);
    /* sealed and opened as schema 2 */
    keys();
    bt_union u = demo_union(0);
    char wire[BT_REPORT_WIRE_MAX + 1];
    CHECK_EQ(parse_stated(2, full, &r), BT_OK);
    bt_report_new_id(r.id);
    CHECK_EQ(bt_report_seal(wire, sizeof wire, &m, &r, &u, NULL, NULL), BT_OK);
    CHECK_EQ(bt_report_open(&back, NULL, wire, m, pk, sk, 0, NULL), BT_OK);
    CHECK(memcmp(&back, &r, sizeof r) == 0);
}

static int fig(bt_report_field f, const char *name)
{
    return bt_report_list_value(BT_REPORT_FIGURES, f, name);
}

static int v1_fig(bt_report_field f, const char *name)
{
    return bt_report_to_figures(1, f, bt_report_list_value(1, f, name));
}

/* docs/REPORT.md section 1, "Both schemas in the figures": the table. */
TEST(schema_1_values_count_as_their_schema_2_equivalents_in_the_figures)
{
    /* the figures' lists: schema 2's, then schema 1's values without an equivalent */
    CHECK_EQ(bt_report_enum_count(BT_RF_CATEGORY), 17);
    CHECK_EQ(bt_report_enum_count(BT_RF_KEYWORD), 70);
    for (int v = 1; v <= 16; v++)
        CHECK(strcmp(bt_report_enum_name(BT_RF_CATEGORY, v), bt_report_list_name(2, BT_RF_CATEGORY, v)) == 0);
    for (int v = 1; v <= 69; v++) CHECK_EQ(bt_report_to_figures(2, BT_RF_KEYWORD, v), v);
    /* renamed */
    CHECK_EQ(v1_fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"),
             fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"));
    CHECK_EQ(v1_fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"),
             fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_CYBER_VIOLENCE"));
    CHECK_EQ(v1_fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS"),
             fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"));
    const char *merged[] = {"KEYWORD_DISINFORMATION", "KEYWORD_FOREIGN_INFORMATION_MANIPULATION", "KEYWORD_MISINFORMATION"};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(v1_fig(BT_RF_KEYWORD, merged[i]), fig(BT_RF_KEYWORD, "KEYWORD_MISINFORMATION_DISINFORMATION"));
    CHECK_EQ(v1_fig(BT_RF_KEYWORD, "KEYWORD_ONLINE_BULLYING_INTIMIDATION"), fig(BT_RF_KEYWORD, "KEYWORD_CYBER_BULLYING_INTIMIDATION"));
    CHECK_EQ(v1_fig(BT_RF_KEYWORD, "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE"), fig(BT_RF_KEYWORD, "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"));
    CHECK_EQ(v1_fig(BT_RF_KEYWORD, "KEYWORD_UNSAFE_OR_NON_COMPLIANT_PRODUCTS"), fig(BT_RF_KEYWORD, "KEYWORD_UNSAFE_PRODUCTS"));
    /* kept: the same name */
    CHECK_EQ(v1_fig(BT_RF_KEYWORD, "KEYWORD_STALKING"), fig(BT_RF_KEYWORD, "KEYWORD_STALKING"));
    CHECK_EQ(v1_fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_SELF_HARM"), fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_SELF_HARM"));
    /* no equivalent: their own place after schema 2's */
    CHECK_EQ(v1_fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"), 17);
    CHECK_EQ(v1_fig(BT_RF_KEYWORD, "KEYWORD_GENDER_BASED_VIOLENCE"), 70);
    CHECK(strcmp(bt_report_enum_name(BT_RF_KEYWORD, 70), "KEYWORD_GENDER_BASED_VIOLENCE") == 0);
    /* every schema 1 value lands somewhere; nothing outside a list does */
    for (int f = BT_RF_CATEGORY; f <= BT_RF_KEYWORD; f++)
        for (int v = 1; v <= bt_report_list_count(1, (bt_report_field)f); v++)
            CHECK(bt_report_to_figures(1, (bt_report_field)f, v) > 0);
    CHECK_EQ(bt_report_to_figures(1, BT_RF_KEYWORD, 55), 0);
    CHECK_EQ(bt_report_to_figures(2, BT_RF_KEYWORD, 70), 0);
    CHECK_EQ(bt_report_to_figures(1, BT_RF_PLATFORM, 1), 0);
    /* a set: schema 1 keywords that became one count once */
    bt_report r;
    int cat = -1;
    uint64_t out[BT_REPORT_KEYWORD_WORDS];
    CHECK_EQ(parse_stated(1, "\"category\":\"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS\","
                             "\"keywords\":[\"KEYWORD_DISINFORMATION\",\"KEYWORD_MISINFORMATION\",\"KEYWORD_GENDER_BASED_VIOLENCE\"]",
                          &r), BT_OK);
    CHECK_EQ(bt_report_stated_figures(1, r.category, r.keywords, &cat, out), 0);
    CHECK_EQ(cat, fig(BT_RF_CATEGORY, "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS"));
    CHECK_EQ(__builtin_popcountll(out[0]) + __builtin_popcountll(out[1]), 2);
    int mis = fig(BT_RF_KEYWORD, "KEYWORD_MISINFORMATION_DISINFORMATION");
    CHECK(out[(mis - 1) / 64] >> ((mis - 1) % 64) & 1);
    CHECK(out[1] >> (70 - 1 - 64) & 1);
    /* values outside the lists (a store edited by hand) */
    const uint64_t wide[BT_REPORT_KEYWORD_WORDS] = {0, 1};
    CHECK_EQ(bt_report_stated_figures(1, 0, wide, &cat, out), -1);
    CHECK_EQ(bt_report_stated_figures(2, 17, r.keywords, &cat, out), -1);
    CHECK_EQ(bt_report_stated_figures(3, 0, r.keywords, &cat, out), -1);
}

/* The union's figures page says each value in words under the key
 * bt_report_words_key gives (the share page builds the same keys): every
 * value has one, with words in the extension's locale files (that fr and ko
 * hold every key en holds is tests/js/static.test.mjs's check); what is not a
 * value has none. */
TEST(every_value_a_report_can_hold_has_words)
{
    char key[160];
    int missing = 0;
    for (int f = 0; f < BT_RF_COUNT_; f++)
        for (int v = 1; f != BT_RF_COUNTRY && v <= bt_report_enum_count((bt_report_field)f); v++) {
            if (bt_report_words_key(key, sizeof key, (bt_report_field)f, v) == NULL) {
                fprintf(stderr, "  no key for field %d value %d\n", f, v);
                missing++;
            } else if (bt_words_message("en", key) == NULL) {
                fprintf(stderr, "  no words for %s\n", key);
                missing++;
            }
        }
    CHECK(missing == 0);
    /* no value, a value out of range and a country have no key */
    CHECK(bt_report_words_key(key, sizeof key, BT_RF_CATEGORY, 0) == NULL);
    CHECK(bt_report_words_key(key, sizeof key, BT_RF_KIND, bt_report_enum_count(BT_RF_KIND) + 1) == NULL);
    CHECK(bt_report_words_key(key, sizeof key, BT_RF_COUNTRY, 1) == NULL);
    CHECK(strcmp(bt_report_words_key(key, sizeof key, BT_RF_KIND, bt_report_enum_value(BT_RF_KIND, "suspension")),
                 "kind_suspension") == 0);
    CHECK(bt_words_message("fr", "rcategory_STATEMENT_CATEGORY_NONE") == NULL);
    /* schema 1's values too: a report queued before schema 2 is still shown in words */
    for (int f = BT_RF_CATEGORY; f <= BT_RF_KEYWORD; f++)
        for (int v = 1; v <= bt_report_list_count(1, (bt_report_field)f); v++) {
            snprintf(key, sizeof key, "%s%s", f == BT_RF_CATEGORY ? "rcategory_" : "rkeyword_",
                     bt_report_list_name(1, (bt_report_field)f, v));
            CHECK(bt_words_message("en", key) != NULL);
        }
    /* a word no one has translated with a source yet is said in English (tests/js/static.test.mjs
     * allows only these to be missing) */
    const char *en = bt_words_message("en", "rkeyword_KEYWORD_CYBER_HARASSMENT");
    CHECK(en != NULL && bt_words_message("fr", "rkeyword_KEYWORD_CYBER_HARASSMENT") == en);
}

RUN_TESTS(T(parse_accepts_a_full_report_and_renders_it_back_byte_for_byte),
          T(parse_accepts_a_minimal_report_without_appeal_or_context),
          T(parse_refuses_unknown_members_anywhere),
          T(parse_refuses_values_outside_the_closed_enums),
          T(parse_checks_iso_weeks),
          T(parse_holds_the_appeal_rules),
          T(parse_refuses_missing_members_bad_ids_versions_and_keywords),
          T(seal_then_open_gives_the_same_report_in_whole_blocks),
          T(a_report_carries_its_own_key_signed_and_a_withdrawal_only_its_id),
          T(open_refuses_a_flipped_byte_anywhere),
          T(open_refuses_another_key),
          T(open_demands_the_proof_of_work),
          T(open_refuses_lying_padding),
          T(open_refuses_non_canonical_json_and_a_mismatched_id),
          T(open_refuses_what_is_not_exact_base64),
          T(union_entries_are_checked_strictly),
          T(a_member_report_carries_its_token_under_the_signature),
          T(union_entries_say_both_the_token_policy_and_key_or_neither), T(buckets_follow_the_documented_boundaries),
          T(the_demo_union_announces_the_default_work_and_its_key_opens_what_is_sealed_to_it),
          T(schema_2_has_the_2025_lists_and_each_schema_refuses_the_others_own_values),
          T(schema_1_values_count_as_their_schema_2_equivalents_in_the_figures),
          T(every_value_a_report_can_hold_has_words))
