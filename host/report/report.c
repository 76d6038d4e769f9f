/* Anonymous reports: schemas v1 and v2, canonical JSON, sealing and opening
 * (docs/REPORT.md). See include/bantrail/report.h for the contracts.
 *
 * Decisions written down here:
 * - The collector accepts only the canonical rendering of a report (fixed
 *   member order, no whitespace, keywords in its schema's list order). That one rule
 *   rejects duplicate members, escapes and number spellings that json-c
 *   would otherwise quietly normalise, and leaves no room for a client to
 *   smuggle bits through formatting.
 * - The proof of work is checked before the sealed box is opened: BLAKE2b
 *   over ~1 KiB costs about a microsecond, the X25519 open about 50. */
#include "bantrail/report.h"

#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"

static const char *const platform_names[] = {NULL,
    "instagram", "facebook", "threads", "whatsapp", "x", "tiktok", "youtube", "linkedin",
    "reddit", "snapchat", "pinterest", "twitch", "discord", "bluesky", "telegram", "other",
};
static const char *const kind_names[] = {NULL,
    "suspension", "disabled", "temporary_restriction", "action_blocked", "checkpoint", "warning",
};
/* Schema 1: the Transparency Database's lists as Bantrail took them in
 * 2024 (docs/REPORT.md section 1 says where they differ from the
 * database's own of that time). Frozen: reports in this schema still come. */
static const char *const category_names_v1[] = {NULL,
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
};
static const char *const keyword_names_v1[] = {NULL,
    "KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION", "KEYWORD_DISCRIMINATION", "KEYWORD_HATE_SPEECH",
    "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_DISINFORMATION", "KEYWORD_FOREIGN_INFORMATION_MANIPULATION", "KEYWORD_MISINFORMATION",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION", "KEYWORD_STALKING",
    "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_ILLEGAL_ORGANIZATIONS", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_PHISHING", "KEYWORD_PYRAMID_SCHEMES",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_SELF_MUTILATION", "KEYWORD_SUICIDE",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED", "KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_NUDITY",
    "KEYWORD_PROHIBITED_OR_RESTRICTED_PRODUCTS", "KEYWORD_UNSAFE_OR_NON_COMPLIANT_PRODUCTS",
    "KEYWORD_COORDINATED_HARM", "KEYWORD_GENDER_BASED_VIOLENCE", "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_INCITEMENT_VIOLENCE_HATRED", "KEYWORD_OTHER",
};
/* Schema 2: the database's lists since February 2025, in the order of
 * STATEMENT_CATEGORIES and KEYWORDS in app/Models/Statement.php of
 * github.com/digital-services-act/transparency-database (commit 69e80a0b,
 * the lists as of a4729e7f, 2025-03-27). */
static const char *const category_names_v2[] = {NULL,
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
};
static const char *const keyword_names_v2[] = {NULL,
    "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_ANIMAL_HARM", "KEYWORD_BIOMETRIC_DATA_BREACH",
    "KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN", "KEYWORD_CYBER_INCITEMENT",
    "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN", "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH", "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED", "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS", "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
    "KEYWORD_MISSING_PROCESSING_GROUND", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "KEYWORD_NONCOMPLIANCE_PRICING",
    "KEYWORD_NUDITY", "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING", "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION", "KEYWORD_STALKING", "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS", "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW", "KEYWORD_VIOLATION_NATIONAL_LAW", "KEYWORD_OTHER",
};
/* The figures' lists (BT_REPORT_FIGURES) are schema 2's, then these: the
 * schema 1 values with no schema 2 equivalent, counted under their own name. */
static const char *const category_only_v1[] = {NULL, "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"};
static const char *const keyword_only_v1[] = {NULL, "KEYWORD_GENDER_BASED_VIOLENCE"};
/* Schema 1 values whose schema 2 equivalent has another name (docs/REPORT.md
 * section 1, "Both schemas in the figures"); a schema 1 value not here and not
 * in schema 2 keeps its own name in the figures' lists. */
static const struct {
    const char *v1, *v2;
} renamed[] = {
    {"STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR", "STATEMENT_CATEGORY_CYBER_VIOLENCE"},
    {"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"},
    {"STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"},
    {"KEYWORD_DISINFORMATION", "KEYWORD_MISINFORMATION_DISINFORMATION"},
    {"KEYWORD_FOREIGN_INFORMATION_MANIPULATION", "KEYWORD_MISINFORMATION_DISINFORMATION"},
    {"KEYWORD_MISINFORMATION", "KEYWORD_MISINFORMATION_DISINFORMATION"},
    {"KEYWORD_ONLINE_BULLYING_INTIMIDATION", "KEYWORD_CYBER_BULLYING_INTIMIDATION"},
    {"KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"},
    {"KEYWORD_IMAGE_BASED_SEXUAL_ABUSE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"},
    {"KEYWORD_PROHIBITED_OR_RESTRICTED_PRODUCTS", "KEYWORD_PROHIBITED_PRODUCTS"},
    {"KEYWORD_UNSAFE_OR_NON_COMPLIANT_PRODUCTS", "KEYWORD_UNSAFE_PRODUCTS"},
};
static const char *const duration_names[] = {NULL,
    "not_stated", "lt_24h", "1d_3d", "3d_7d", "7d_30d", "30d_90d", "ge_90d", "permanent",
};
static const char *const offered_names[] = {NULL, "yes", "no", "unknown"};
static const char *const outcome_names[] = {NULL,
    "pending", "rejected", "reinstated", "partially_reinstated",
};
static const char *const delay_names[] = {NULL,
    "none", "lt_10m", "10m_1h", "1h_24h", "1d_7d", "7d_30d", "ge_30d",
};
static const char *const account_type_names[] = {NULL, "personal", "business", "creator"};
static const char *const paid_names[] = {NULL, "no", "yes"};
static const char *const country_names[] = {NULL,
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* The lists every schema shares; category and keyword have their own per
 * schema (bt_report_list_*). */
static const struct {
    const char *const *names;
    int count;
} fields[BT_RF_COUNT_] = {
    [BT_RF_PLATFORM] = {platform_names, COUNT(platform_names)},
    [BT_RF_KIND] = {kind_names, COUNT(kind_names)},
    [BT_RF_DURATION] = {duration_names, COUNT(duration_names)},
    [BT_RF_OFFERED] = {offered_names, COUNT(offered_names)},
    [BT_RF_OUTCOME] = {outcome_names, COUNT(outcome_names)},
    [BT_RF_DELAY] = {delay_names, COUNT(delay_names)},
    [BT_RF_ACCOUNT_TYPE] = {account_type_names, COUNT(account_type_names)},
    [BT_RF_PAID] = {paid_names, COUNT(paid_names)},
    [BT_RF_COUNTRY] = {country_names, COUNT(country_names)},
};

_Static_assert(COUNT(keyword_names_v1) <= 64 * BT_REPORT_KEYWORD_WORDS, "keywords fit a set");
_Static_assert(COUNT(keyword_names_v2) + COUNT(keyword_only_v1) <= 64 * BT_REPORT_KEYWORD_WORDS, "keywords fit a set");

static int is_stated(bt_report_field f)
{
    return f == BT_RF_CATEGORY || f == BT_RF_KEYWORD;
}

static int schema_ok(int schema)
{
    return schema == 1 || schema == 2 || schema == BT_REPORT_FIGURES;
}

int bt_report_list_count(int schema, bt_report_field f)
{
    int cat = f == BT_RF_CATEGORY;
    if ((unsigned)f >= BT_RF_COUNT_ || !schema_ok(schema)) return 0;
    if (!is_stated(f)) return fields[f].count;
    if (schema == 1) return cat ? COUNT(category_names_v1) : COUNT(keyword_names_v1);
    if (schema == 2) return cat ? COUNT(category_names_v2) : COUNT(keyword_names_v2);
    return cat ? COUNT(category_names_v2) + COUNT(category_only_v1) : COUNT(keyword_names_v2) + COUNT(keyword_only_v1);
}

const char *bt_report_list_name(int schema, bt_report_field f, int v)
{
    int cat = f == BT_RF_CATEGORY;
    if (v < 1 || v > bt_report_list_count(schema, f)) return NULL;
    if (!is_stated(f)) return fields[f].names[v];
    if (schema == 1) return cat ? category_names_v1[v] : keyword_names_v1[v];
    int n2 = bt_report_list_count(2, f);
    if (v <= n2) return cat ? category_names_v2[v] : keyword_names_v2[v];
    return cat ? category_only_v1[v - n2] : keyword_only_v1[v - n2];
}

int bt_report_list_value(int schema, bt_report_field f, const char *name)
{
    int n = bt_report_list_count(schema, f);
    if (name == NULL || n == 0) return 0;
    if (!is_stated(f)) { /* the shared lists, directly: the parser's common case */
        for (int v = 1; v <= n; v++)
            if (strcmp(fields[f].names[v], name) == 0) return v;
        return 0;
    }
    for (int v = 1; v <= n; v++)
        if (strcmp(bt_report_list_name(schema, f, v), name) == 0) return v;
    return 0;
}

int bt_report_enum_count(bt_report_field f)
{
    return bt_report_list_count(BT_REPORT_FIGURES, f);
}

const char *bt_report_enum_name(bt_report_field f, int v)
{
    return bt_report_list_name(BT_REPORT_FIGURES, f, v);
}

int bt_report_enum_value(bt_report_field f, const char *name)
{
    return bt_report_list_value(BT_REPORT_FIGURES, f, name);
}

char *bt_report_words_key(char *out, size_t cap, bt_report_field f, int v)
{
    static const char *const prefix[BT_RF_COUNT_] = {
        [BT_RF_PLATFORM] = "platform_", [BT_RF_KIND] = "kind_",          [BT_RF_CATEGORY] = "rcategory_",
        [BT_RF_KEYWORD] = "rkeyword_",  [BT_RF_DURATION] = "rduration_", [BT_RF_OFFERED] = "roffered_",
        [BT_RF_OUTCOME] = "routcome_",  [BT_RF_DELAY] = "rdelay_",       [BT_RF_ACCOUNT_TYPE] = "raccount_",
        [BT_RF_PAID] = "rpaid_"};
    const char *name = bt_report_enum_name(f, v);
    if (name == NULL || prefix[f] == NULL) return NULL;
    snprintf(out, cap, "%s%s", prefix[f], name);
    return out;
}

/* Value v of a stated field in schema 1 -> its value in the figures' lists:
 * the schema 2 value of the same name or of its new name (renamed[]), else
 * its own place after schema 2's. Found by name once, then kept. */
static int v1_map[2][65]; /* [keyword?][schema 1 value] */
static pthread_once_t v1_map_once = PTHREAD_ONCE_INIT;

static void v1_map_init(void)
{
    for (int k = 0; k < 2; k++) {
        bt_report_field f = k ? BT_RF_KEYWORD : BT_RF_CATEGORY;
        for (int v = 1, n = bt_report_list_count(1, f); v <= n; v++) {
            const char *name = bt_report_list_name(1, f, v);
            for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
                if (strcmp(renamed[i].v1, name) == 0) name = renamed[i].v2;
            v1_map[k][v] = bt_report_list_value(BT_REPORT_FIGURES, f, name);
        }
    }
}

_Static_assert(COUNT(category_names_v1) <= 64 && COUNT(keyword_names_v1) <= 64, "v1_map fits");

int bt_report_to_figures(int schema, bt_report_field f, int v)
{
    if (!is_stated(f) || (schema != 1 && schema != 2) || v < 1 || v > bt_report_list_count(schema, f)) return 0;
    if (schema == 2) return v; /* the figures' lists begin with schema 2's */
    pthread_once(&v1_map_once, v1_map_init);
    return v1_map[f == BT_RF_KEYWORD][v];
}

int bt_report_stated_figures(int schema, int category, const uint64_t keywords[BT_REPORT_KEYWORD_WORDS],
                             int *fig_category, uint64_t fig_keywords[BT_REPORT_KEYWORD_WORDS])
{
    int n = bt_report_list_count(schema, BT_RF_KEYWORD);
    if (n == 0 || schema == BT_REPORT_FIGURES) return -1;
    *fig_category = 0;
    memset(fig_keywords, 0, BT_REPORT_KEYWORD_WORDS * sizeof fig_keywords[0]);
    if (category != 0 && (*fig_category = bt_report_to_figures(schema, BT_RF_CATEGORY, category)) == 0) return -1;
    for (int w = 0; w < BT_REPORT_KEYWORD_WORDS; w++)
        for (uint64_t k = keywords[w]; k != 0; k &= k - 1) {
            int to = bt_report_to_figures(schema, BT_RF_KEYWORD, w * 64 + __builtin_ctzll(k) + 1);
            if (to == 0) return -1;
            fig_keywords[(to - 1) / 64] |= (uint64_t)1 << ((to - 1) % 64);
        }
    return 0;
}

void bt_report_new_id(unsigned char id[BT_REPORT_ID_BYTES])
{
    randombytes_buf(id, BT_REPORT_ID_BYTES);
}

void bt_report_key_id(unsigned char kid[BT_REPORT_KEY_ID_BYTES],
                      const unsigned char pk[crypto_box_PUBLICKEYBYTES])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, pk, crypto_box_PUBLICKEYBYTES, NULL, 0);
    memcpy(kid, h, BT_REPORT_KEY_ID_BYTES);
}

/* ---- weeks and versions ---- */

/* Day of the week of 1 January of y, 0 = Sunday (Sakamoto). */
static int jan1_weekday(int y)
{
    y -= 1;
    return (y + y / 4 - y / 100 + y / 400 + 1) % 7;
}

static int iso_weeks_in_year(int y)
{
    int d = jan1_weekday(y);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return (d == 4 || (leap && d == 3)) ? 53 : 52;
}

static int week_ok(int32_t w)
{
    int y = w / 100, n = w % 100;
    return y >= 2020 && y <= 2099 && n >= 1 && n <= iso_weeks_in_year(y);
}

/* "YYYY-Www" -> YYYY*100+ww, or 0. */
static int32_t parse_week(const char *s)
{
    if (strlen(s) != 8 || s[4] != '-' || s[5] != 'W') return 0;
    for (int i = 0; i < 8; i++)
        if (i != 4 && i != 5 && (s[i] < '0' || s[i] > '9')) return 0;
    int32_t w = (s[0] - '0') * 100000 + (s[1] - '0') * 10000 + (s[2] - '0') * 1000 +
                (s[3] - '0') * 100 + (s[6] - '0') * 10 + (s[7] - '0');
    return week_ok(w) ? w : 0;
}

/* "MAJOR.MINOR.PATCH", each 0..999 without leading zeros -> packed, or -1. */
static int64_t parse_version(const char *s)
{
    uint32_t part[3] = {0, 0, 0};
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        int digits = 0;
        if (*p < '0' || *p > '9') return -1;
        if (*p == '0' && p[1] >= '0' && p[1] <= '9') return -1;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 3) return -1;
            part[i] = part[i] * 10 + (uint32_t)(*p++ - '0');
        }
        if (i < 2 && *p++ != '.') return -1;
    }
    if (*p != '\0') return -1;
    return (int64_t)(part[0] << 20 | part[1] << 10 | part[2]);
}

int bt_report_duration_bucket(int64_t seconds, int permanent)
{
    static const int64_t upto[] = {24 * 3600, 72 * 3600, 7 * 86400, 30 * 86400, 90 * 86400};
    static const char *const names[] = {"lt_24h", "1d_3d", "3d_7d", "7d_30d", "30d_90d"};
    if (permanent) return bt_report_enum_value(BT_RF_DURATION, "permanent");
    if (seconds < 0) return bt_report_enum_value(BT_RF_DURATION, "not_stated");
    for (size_t i = 0; i < sizeof upto / sizeof upto[0]; i++)
        if (seconds < upto[i]) return bt_report_enum_value(BT_RF_DURATION, names[i]);
    return bt_report_enum_value(BT_RF_DURATION, "ge_90d");
}

int bt_report_delay_bucket(int64_t seconds)
{
    static const int64_t upto[] = {600, 3600, 86400, 7 * 86400, 30 * 86400};
    static const char *const names[] = {"lt_10m", "10m_1h", "1h_24h", "1d_7d", "7d_30d"};
    if (seconds < 0) return bt_report_enum_value(BT_RF_DELAY, "none");
    for (size_t i = 0; i < sizeof upto / sizeof upto[0]; i++)
        if (seconds < upto[i]) return bt_report_enum_value(BT_RF_DELAY, names[i]);
    return bt_report_enum_value(BT_RF_DELAY, "ge_30d");
}

int32_t bt_report_week_of(int64_t t)
{
    /* days since 1970-01-01 (a Thursday), floor division */
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int wday = (int)(((days + 3) % 7 + 7) % 7) + 1; /* Monday 1 .. Sunday 7 */
    /* civil date from days (Howard Hinnant's algorithm) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int yday = before[m - 1] + (int)d + (leap && m > 2); /* 1-based */
    int week = (yday - wday + 10) / 7;
    if (y < 2019 || y > 2100) return 0;
    if (week < 1) {
        y -= 1;
        week = iso_weeks_in_year((int)y);
    } else if (week > iso_weeks_in_year((int)y)) {
        y += 1;
        week = 1;
    }
    int32_t w = (int32_t)(y * 100 + week);
    return week_ok(w) ? w : 0;
}

/* ---- checking ---- */

static bt_err fail(const char **why, const char *reason)
{
    if (why != NULL) *why = reason;
    return BT_ERR_BAD_REPORT;
}

static int in_range(bt_report_field f, int v)
{
    return v >= 1 && v <= fields[f].count;
}

/* The keywords in a set (bt_report.keywords). */
static int keyword_bits(const uint64_t k[BT_REPORT_KEYWORD_WORDS])
{
    int bits = 0;
    for (int w = 0; w < BT_REPORT_KEYWORD_WORDS; w++) bits += __builtin_popcountll(k[w]);
    return bits;
}

bt_err bt_report_check(const bt_report *r, const char **why)
{
    if (r->v != 1 && r->v != 2) return fail(why, "v: not 1 or 2");
    if (r->client > (999u << 20 | 999u << 10 | 999u) || (r->client >> 10 & 1023) > 999 ||
        (r->client & 1023) > 999)
        return fail(why, "client: not a version");
    if (!in_range(BT_RF_PLATFORM, r->platform)) return fail(why, "platform: not in the list");
    if (!in_range(BT_RF_KIND, r->kind)) return fail(why, "kind: not in the list");
    if (r->category != 0 && r->category > bt_report_list_count(r->v, BT_RF_CATEGORY))
        return fail(why, "stated.category: not in this schema's list");
    int nkw = bt_report_list_count(r->v, BT_RF_KEYWORD);
    for (int w = 0; w < BT_REPORT_KEYWORD_WORDS; w++) {
        int in_word = nkw - 64 * w; /* this word's bits that name a keyword */
        if (in_word < 64 && (in_word <= 0 ? r->keywords[w] != 0 : (r->keywords[w] >> in_word) != 0))
            return fail(why, "stated.keywords: not in this schema's list");
    }
    if (keyword_bits(r->keywords) > BT_REPORT_KEYWORDS_MAX) return fail(why, "stated.keywords: too many");
    if (!week_ok(r->week)) return fail(why, "week: not an ISO week of 2020-2099");
    if (!in_range(BT_RF_DURATION, r->duration)) return fail(why, "duration: not in the list");
    if (!in_range(BT_RF_OFFERED, r->offered)) return fail(why, "appeal.offered: not in the list");
    if (r->submitted > 1) return fail(why, "appeal.submitted: not a boolean");
    if (r->submitted) {
        if (!in_range(BT_RF_OUTCOME, r->outcome)) return fail(why, "appeal.outcome: required");
        if (!in_range(BT_RF_DELAY, r->delay)) return fail(why, "appeal.response_delay: required");
        int pending = r->outcome == bt_report_enum_value(BT_RF_OUTCOME, "pending");
        int none = r->delay == bt_report_enum_value(BT_RF_DELAY, "none");
        if (pending != none)
            return fail(why, "appeal.response_delay: \"none\" exactly when the outcome is pending");
    } else if (r->outcome != 0 || r->delay != 0) {
        return fail(why, "appeal: outcome and response_delay only when submitted");
    }
    if (r->account_type != 0 && !in_range(BT_RF_ACCOUNT_TYPE, r->account_type))
        return fail(why, "context.account_type: not in the list");
    if (r->paid != 0 && !in_range(BT_RF_PAID, r->paid))
        return fail(why, "context.paid_verification: not a boolean");
    if (r->country != 0 && !in_range(BT_RF_COUNTRY, r->country))
        return fail(why, "context.country: not an ISO 3166-1 alpha-2 code");
    return BT_OK;
}

/* ---- parsing ---- */

static json_object *parse_strict(const char *text, size_t len, int depth)
{
    json_object *o;
    return bt_json_parse(text, len, depth, &o) == BT_OK ? o : NULL;
}

/* The enum value of string member v of field f, or 0 (absent handled by the caller). */
static int enum_of(bt_report_field f, json_object *v)
{
    if (!json_object_is_type(v, json_type_string)) return 0;
    return bt_report_enum_value(f, json_object_get_string(v));
}

/* The value of string member v in schema's list of a stated field, or 0. */
static int stated_of(int schema, bt_report_field f, json_object *v)
{
    if (!json_object_is_type(v, json_type_string)) return 0;
    return bt_report_list_value(schema, f, json_object_get_string(v));
}

static int hex_id(unsigned char id[BT_REPORT_ID_BYTES], json_object *v)
{
    const char *s;
    size_t bin_len = 0;
    if (!json_object_is_type(v, json_type_string)) return -1;
    s = json_object_get_string(v);
    if (strlen(s) != 2 * BT_REPORT_ID_BYTES) return -1;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return -1;
    if (sodium_hex2bin(id, BT_REPORT_ID_BYTES, s, 2 * BT_REPORT_ID_BYTES, NULL, &bin_len, NULL) != 0 ||
        bin_len != BT_REPORT_ID_BYTES)
        return -1;
    return 0;
}

static bt_err parse_stated(bt_report *r, json_object *o, const char **why)
{
    int have_kw = 0;
    if (!json_object_is_type(o, json_type_object)) return fail(why, "stated: not an object");
    json_object_object_foreach(o, key, v) {
        if (strcmp(key, "category") == 0) {
            if ((r->category = (uint8_t)stated_of(r->v, BT_RF_CATEGORY, v)) == 0)
                return fail(why, "stated.category: not in this schema's list");
        } else if (strcmp(key, "keywords") == 0) {
            size_t n;
            have_kw = 1;
            if (!json_object_is_type(v, json_type_array)) return fail(why, "stated.keywords: not an array");
            n = json_object_array_length(v);
            if (n > BT_REPORT_KEYWORDS_MAX) return fail(why, "stated.keywords: too many");
            for (size_t i = 0; i < n; i++) {
                int k = stated_of(r->v, BT_RF_KEYWORD, json_object_array_get_idx(v, i));
                uint64_t bit;
                if (k == 0) return fail(why, "stated.keywords: not in this schema's list");
                bit = (uint64_t)1 << ((k - 1) % 64);
                if (r->keywords[(k - 1) / 64] & bit) return fail(why, "stated.keywords: repeated");
                r->keywords[(k - 1) / 64] |= bit;
            }
        } else {
            return fail(why, "stated: unknown member");
        }
    }
    if (!have_kw) return fail(why, "stated.keywords: required");
    return BT_OK;
}

static bt_err parse_appeal(bt_report *r, json_object *o, const char **why)
{
    int have_sub = 0;
    if (!json_object_is_type(o, json_type_object)) return fail(why, "appeal: not an object");
    json_object_object_foreach(o, key, v) {
        if (strcmp(key, "offered") == 0) {
            if ((r->offered = (uint8_t)enum_of(BT_RF_OFFERED, v)) == 0)
                return fail(why, "appeal.offered: not in the list");
        } else if (strcmp(key, "submitted") == 0) {
            if (!json_object_is_type(v, json_type_boolean)) return fail(why, "appeal.submitted: not a boolean");
            r->submitted = json_object_get_boolean(v) ? 1 : 0;
            have_sub = 1;
        } else if (strcmp(key, "outcome") == 0) {
            if ((r->outcome = (uint8_t)enum_of(BT_RF_OUTCOME, v)) == 0)
                return fail(why, "appeal.outcome: not in the list");
        } else if (strcmp(key, "response_delay") == 0) {
            if ((r->delay = (uint8_t)enum_of(BT_RF_DELAY, v)) == 0)
                return fail(why, "appeal.response_delay: not in the list");
        } else {
            return fail(why, "appeal: unknown member");
        }
    }
    if (r->offered == 0) return fail(why, "appeal.offered: required");
    if (!have_sub) return fail(why, "appeal.submitted: required");
    return BT_OK;
}

static bt_err parse_context(bt_report *r, json_object *o, const char **why)
{
    if (!json_object_is_type(o, json_type_object)) return fail(why, "context: not an object");
    if (json_object_object_length(o) == 0) return fail(why, "context: empty (omit it)");
    json_object_object_foreach(o, key, v) {
        if (strcmp(key, "account_type") == 0) {
            if ((r->account_type = (uint8_t)enum_of(BT_RF_ACCOUNT_TYPE, v)) == 0)
                return fail(why, "context.account_type: not in the list");
        } else if (strcmp(key, "paid_verification") == 0) {
            if (!json_object_is_type(v, json_type_boolean))
                return fail(why, "context.paid_verification: not a boolean");
            r->paid = json_object_get_boolean(v) ? 2 : 1;
        } else if (strcmp(key, "country") == 0) {
            if ((r->country = (uint16_t)enum_of(BT_RF_COUNTRY, v)) == 0)
                return fail(why, "context.country: not an ISO 3166-1 alpha-2 code");
        } else {
            return fail(why, "context: unknown member");
        }
    }
    return BT_OK;
}

enum { M_V = 1, M_ID = 2, M_CLIENT = 4, M_PLATFORM = 8, M_KIND = 16, M_STATED = 32, M_WEEK = 64,
       M_DURATION = 128, M_APPEAL = 256, M_REQUIRED = 511 };

static bt_err parse_top(bt_report *r, json_object *o, const char **why)
{
    unsigned seen = 0;
    bt_err err;
    json_object *ver;
    if (!json_object_is_type(o, json_type_object)) return fail(why, "not a JSON object");
    /* the schema first: the stated values are looked up in its lists */
    if (!json_object_object_get_ex(o, "v", &ver)) return fail(why, "a required member is missing");
    if (!json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) < BT_REPORT_SCHEMA_OLDEST ||
        json_object_get_int64(ver) > BT_REPORT_SCHEMA)
        return fail(why, "v: not 1 or 2");
    r->v = (uint8_t)json_object_get_int64(ver);
    json_object_object_foreach(o, key, v) {
        if (strcmp(key, "v") == 0) {
            seen |= M_V;
        } else if (strcmp(key, "report_id") == 0) {
            if (hex_id(r->id, v) != 0) return fail(why, "report_id: not 32 lowercase hex digits");
            seen |= M_ID;
        } else if (strcmp(key, "client") == 0) {
            int64_t c = json_object_is_type(v, json_type_string) ? parse_version(json_object_get_string(v)) : -1;
            if (c < 0) return fail(why, "client: not a version MAJOR.MINOR.PATCH");
            r->client = (uint32_t)c;
            seen |= M_CLIENT;
        } else if (strcmp(key, "platform") == 0) {
            if ((r->platform = (uint8_t)enum_of(BT_RF_PLATFORM, v)) == 0)
                return fail(why, "platform: not in the list");
            seen |= M_PLATFORM;
        } else if (strcmp(key, "kind") == 0) {
            if ((r->kind = (uint8_t)enum_of(BT_RF_KIND, v)) == 0) return fail(why, "kind: not in the list");
            seen |= M_KIND;
        } else if (strcmp(key, "stated") == 0) {
            if ((err = parse_stated(r, v, why)) != BT_OK) return err;
            seen |= M_STATED;
        } else if (strcmp(key, "week") == 0) {
            if (!json_object_is_type(v, json_type_string) || (r->week = parse_week(json_object_get_string(v))) == 0)
                return fail(why, "week: not an ISO week YYYY-Www of 2020-2099");
            seen |= M_WEEK;
        } else if (strcmp(key, "duration") == 0) {
            if ((r->duration = (uint8_t)enum_of(BT_RF_DURATION, v)) == 0)
                return fail(why, "duration: not in the list");
            seen |= M_DURATION;
        } else if (strcmp(key, "appeal") == 0) {
            if ((err = parse_appeal(r, v, why)) != BT_OK) return err;
            seen |= M_APPEAL;
        } else if (strcmp(key, "context") == 0) {
            if ((err = parse_context(r, v, why)) != BT_OK) return err;
        } else {
            return fail(why, "unknown member");
        }
    }
    if ((seen & M_REQUIRED) != M_REQUIRED) return fail(why, "a required member is missing");
    return bt_report_check(r, why);
}

bt_err bt_report_parse(bt_report *out, const char *json, size_t len, const char **why)
{
    json_object *o;
    bt_err err;
    memset(out, 0, sizeof *out);
    if (len > BT_REPORT_JSON_MAX) return fail(why, "larger than 4095 bytes");
    o = parse_strict(json, len, 4);
    if (o == NULL) return fail(why, "not strict UTF-8 JSON");
    err = parse_top(out, o, why);
    json_object_put(o);
    if (err != BT_OK) sodium_memzero(out, sizeof *out);
    return err;
}

/* ---- rendering ---- */

typedef struct {
    char *p;
    size_t cap, len;
    int overflow;
} sbuf;

static void put(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->overflow || b->len + n + 1 > b->cap) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void put_member(sbuf *b, const char *sep_key, const char *value)
{
    put(b, sep_key);
    put(b, "\"");
    put(b, value);
    put(b, "\"");
}

bt_err bt_report_render(char *out, size_t cap, size_t *len, const bt_report *r)
{
    sbuf b = {out, cap, 0, 0};
    char hex[2 * BT_REPORT_ID_BYTES + 1], num[48];
    bt_err err = bt_report_check(r, NULL);
    if (err != BT_OK) return err;
    if (cap == 0) return BT_ERR_RESULT_TOO_LARGE;
    out[0] = '\0';
    sodium_bin2hex(hex, sizeof hex, r->id, BT_REPORT_ID_BYTES);
    put(&b, r->v == 1 ? "{\"v\":1" : "{\"v\":2");
    put_member(&b, ",\"report_id\":", hex);
    snprintf(num, sizeof num, "%u.%u.%u", (unsigned)(r->client >> 20), (unsigned)(r->client >> 10 & 1023),
             (unsigned)(r->client & 1023));
    put_member(&b, ",\"client\":", num);
    put_member(&b, ",\"platform\":", platform_names[r->platform]);
    put_member(&b, ",\"kind\":", kind_names[r->kind]);
    put(&b, ",\"stated\":{");
    if (r->category) put_member(&b, "\"category\":", bt_report_list_name(r->v, BT_RF_CATEGORY, r->category)), put(&b, ",");
    put(&b, "\"keywords\":[");
    for (int k = 0, first = 1; k < 64 * BT_REPORT_KEYWORD_WORDS; k++) {
        if (!(r->keywords[k / 64] >> (k % 64) & 1)) continue;
        put_member(&b, first ? "" : ",", bt_report_list_name(r->v, BT_RF_KEYWORD, k + 1));
        first = 0;
    }
    put(&b, "]}");
    snprintf(num, sizeof num, "%04d-W%02d", (int)(r->week / 100), (int)(r->week % 100));
    put_member(&b, ",\"week\":", num);
    put_member(&b, ",\"duration\":", duration_names[r->duration]);
    put_member(&b, ",\"appeal\":{\"offered\":", offered_names[r->offered]);
    put(&b, r->submitted ? ",\"submitted\":true" : ",\"submitted\":false");
    if (r->submitted) {
        put_member(&b, ",\"outcome\":", outcome_names[r->outcome]);
        put_member(&b, ",\"response_delay\":", delay_names[r->delay]);
    }
    put(&b, "}");
    if (r->account_type || r->paid || r->country) {
        const char *sep = "";
        put(&b, ",\"context\":{");
        if (r->account_type) put_member(&b, "\"account_type\":", account_type_names[r->account_type]), sep = ",";
        if (r->paid) {
            put(&b, sep);
            put(&b, r->paid == 2 ? "\"paid_verification\":true" : "\"paid_verification\":false");
            sep = ",";
        }
        if (r->country) put(&b, sep), put_member(&b, "\"country\":", country_names[r->country]);
        put(&b, "}");
    }
    put(&b, "}");
    if (b.overflow || b.len > BT_REPORT_JSON_MAX) {
        sodium_memzero(out, cap);
        return BT_ERR_RESULT_TOO_LARGE;
    }
    *len = b.len;
    return BT_OK;
}

/* ---- the envelope ---- */

static unsigned leading_zero_bits(const unsigned char *h, size_t n)
{
    unsigned z = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == 0) {
            z += 8;
            continue;
        }
        for (unsigned char m = 0x80; m && !(h[i] & m); m >>= 1) z++;
        break;
    }
    return z;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The message a report's key signs: context | kind | union key id | report
 * id | body (the canonical JSON, or nothing for a withdrawal). */
static void sign_input(crypto_generichash_state *st, unsigned char kind, const unsigned char kid[BT_REPORT_KEY_ID_BYTES],
                       const unsigned char id[BT_REPORT_ID_BYTES], const unsigned char *body, size_t body_len,
                       unsigned char out[crypto_generichash_BYTES_MAX])
{
    crypto_generichash_init(st, NULL, 0, crypto_generichash_BYTES_MAX);
    crypto_generichash_update(st, (const unsigned char *)BT_REPORT_SIGN_CONTEXT, sizeof BT_REPORT_SIGN_CONTEXT);
    crypto_generichash_update(st, &kind, 1);
    crypto_generichash_update(st, kid, BT_REPORT_KEY_ID_BYTES);
    crypto_generichash_update(st, id, BT_REPORT_ID_BYTES);
    crypto_generichash_update(st, body, body_len);
    crypto_generichash_final(st, out, crypto_generichash_BYTES_MAX);
}

/* Seals plain (kind, then body_len bytes of body at plain + BT_REPORT_AUTH_BYTES,
 * in a buffer of BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS) for id to u: signs,
 * pads, seals, works. */
static bt_err seal_plain(char *out, size_t cap, size_t *len, unsigned char *plain, size_t body_len,
                         const unsigned char id[BT_REPORT_ID_BYTES], const bt_union *u, const unsigned char *seed)
{
    unsigned char *env = NULL, *ssk = NULL;
    unsigned char kid[BT_REPORT_KEY_ID_BYTES], m[crypto_generichash_BYTES_MAX], fresh[BT_REPORT_SEED_BYTES];
    size_t padded_len = 0, env_len, sealed_len;
    crypto_generichash_state base, st;
    unsigned char h[32];
    bt_err err;

    env = malloc(BT_REPORT_ENVELOPE_MAX);
    ssk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (env == NULL || ssk == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    /* who may change this report: its key, and its signature over what is sealed */
    if (seed == NULL) {
        randombytes_buf(fresh, sizeof fresh);
        seed = fresh;
    }
    crypto_sign_seed_keypair(plain + 1, ssk, seed);
    sodium_memzero(fresh, sizeof fresh);
    bt_report_key_id(kid, u->public_key);
    sign_input(&st, plain[0], kid, id, plain + BT_REPORT_AUTH_BYTES, body_len, m);
    crypto_sign_detached(plain + 1 + crypto_sign_PUBLICKEYBYTES, NULL, m, sizeof m, ssk);
    if (sodium_pad(&padded_len, plain, BT_REPORT_AUTH_BYTES + body_len, BT_REPORT_BLOCK,
                   BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS) != 0) {
        err = BT_ERR_RESULT_TOO_LARGE;
        goto done;
    }
    sealed_len = crypto_box_SEALBYTES + padded_len;
    env_len = BT_REPORT_HEADER_BYTES + sealed_len + BT_REPORT_NONCE_BYTES;
    memcpy(env, BT_REPORT_MAGIC, 4);
    memcpy(env + 4, kid, BT_REPORT_KEY_ID_BYTES);
    memcpy(env + 4 + BT_REPORT_KEY_ID_BYTES, id, BT_REPORT_ID_BYTES);
    if (crypto_box_seal(env + BT_REPORT_HEADER_BYTES, plain, padded_len, u->public_key) != 0) {
        err = BT_ERR_INTERNAL;
        goto done;
    }
    /* Proof of work: the smallest counter whose envelope hash has enough
     * leading zero bits; the hash of everything before the nonce is reused. */
    crypto_generichash_init(&base, NULL, 0, 32);
    crypto_generichash_update(&base, env, env_len - BT_REPORT_NONCE_BYTES);
    for (uint64_t nonce = 0;; nonce++) {
        unsigned char *np = env + env_len - BT_REPORT_NONCE_BYTES;
        put_le64(np, nonce);
        st = base;
        crypto_generichash_update(&st, np, BT_REPORT_NONCE_BYTES);
        crypto_generichash_final(&st, h, sizeof h);
        if (leading_zero_bits(h, sizeof h) >= u->pow_difficulty) break;
    }
    sodium_bin2base64(out, cap, env, env_len, sodium_base64_VARIANT_ORIGINAL);
    *len = strlen(out);
    err = BT_OK;
done:
    if (ssk != NULL) sodium_free(ssk); /* sodium_free wipes */
    free(env);
    return err;
}

bt_err bt_report_seal(char *out, size_t cap, size_t *len, const bt_report *r, const bt_union *u,
                      const unsigned char *seed, const bt_token *tok)
{
    unsigned char *plain;
    size_t json_len = 0, tok_len = tok != NULL ? BT_TOKEN_WIRE_BYTES : 0;
    bt_err err;
    if (u->pow_difficulty > BT_REPORT_POW_MAX) return BT_ERR_BAD_PARAMS;
    if (cap < BT_REPORT_WIRE_MAX + 1) return BT_ERR_RESULT_TOO_LARGE;
    if ((plain = sodium_malloc(BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS)) == NULL) return BT_ERR_NO_MEMORY;
    plain[0] = tok != NULL ? BT_REPORT_KIND_MEMBER : BT_REPORT_KIND_REPORT;
    if (tok != NULL) { /* t | N, signed with the JSON after it */
        memcpy(plain + BT_REPORT_AUTH_BYTES, tok->t, BT_TOKEN_BYTES);
        memcpy(plain + BT_REPORT_AUTH_BYTES + BT_TOKEN_BYTES, tok->n, BT_TOKEN_POINT_BYTES);
    }
    err = bt_report_render((char *)plain + BT_REPORT_AUTH_BYTES + tok_len,
                           BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS - BT_REPORT_AUTH_BYTES - tok_len, &json_len, r);
    if (err == BT_OK) err = seal_plain(out, cap, len, plain, tok_len + json_len, r->id, u, seed);
    sodium_free(plain); /* wipes */
    return err;
}

bt_err bt_report_seal_withdrawal(char *out, size_t cap, size_t *len, const unsigned char id[BT_REPORT_ID_BYTES],
                                 const bt_union *u, const unsigned char seed[BT_REPORT_SEED_BYTES])
{
    unsigned char *plain;
    bt_err err;
    if (u->pow_difficulty > BT_REPORT_POW_MAX || seed == NULL) return BT_ERR_BAD_PARAMS;
    if (cap < BT_REPORT_WIRE_MAX + 1) return BT_ERR_RESULT_TOO_LARGE;
    if ((plain = sodium_malloc(BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS)) == NULL) return BT_ERR_NO_MEMORY;
    plain[0] = BT_REPORT_KIND_WITHDRAW;
    err = seal_plain(out, cap, len, plain, 0, id, u, seed);
    sodium_free(plain);
    return err;
}

/* Strict standard base64 (RFC 4648 section 4): length a multiple of 4, '='
 * padding only at the end, zero trailing bits, nothing else. Written out
 * rather than sodium_base642bin because it is the collector's hot path (7.5
 * us per report there, 1 us here) and what it decodes is public ciphertext:
 * constant time buys nothing. Returns the decoded length, or -1. */
static long b64_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
    static const signed char map[256] = {
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
        52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
        -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
        -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
        41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    };
    size_t o = 0, pad = 0;
    if (len == 0 || len % 4 != 0) return -1;
    if (in[len - 1] == '=') pad = in[len - 2] == '=' ? 2 : 1;
    if (len / 4 * 3 - pad > cap) return -1;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int a = map[(unsigned char)in[i]], b = map[(unsigned char)in[i + 1]];
        int c = last && pad == 2 ? 0 : map[(unsigned char)in[i + 2]];
        int d = last && pad >= 1 ? 0 : map[(unsigned char)in[i + 3]];
        if ((a | b | c | d) < 0) return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        if (last && pad == 2) {
            if (v & 0xFFFF) return -1;
            break;
        }
        out[o++] = (unsigned char)(v >> 8);
        if (last && pad == 1) {
            if (v & 0xFF) return -1;
            break;
        }
        out[o++] = (unsigned char)v;
    }
    return (long)o;
}

static bt_err env_fail(const char **why, bt_err err, const char *reason)
{
    if (why != NULL) *why = reason;
    return err;
}

bt_err bt_report_open_signed(bt_report *out, bt_report_auth *auth, unsigned char digest[32], const char *wire,
                             size_t wire_len, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                             const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty,
                             const char **why)
{
    unsigned char env[BT_REPORT_ENVELOPE_MAX];
    unsigned char plain[BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS];
    char canon[BT_REPORT_JSON_MAX + 1];
    unsigned char kid[BT_REPORT_KEY_ID_BYTES], h[32], rd[32], m[crypto_generichash_BYTES_MAX];
    crypto_generichash_state st, replay;
    size_t env_len = 0, sealed_len, padded_len, plain_len = 0, json_len, canon_len = 0;
    const unsigned char *json = plain + BT_REPORT_AUTH_BYTES, *id;
    bt_err err;

    memset(out, 0, sizeof *out);
    memset(auth, 0, sizeof *auth);
    if (wire_len > BT_REPORT_WIRE_MAX) return env_fail(why, BT_ERR_FRAME_TOO_LARGE, "larger than any report");
    long decoded = b64_decode(env, sizeof env, wire, wire_len);
    if (decoded < 0) return env_fail(why, BT_ERR_BAD_ENVELOPE, "not base64");
    env_len = (size_t)decoded;
    if (env_len < BT_REPORT_ENVELOPE_BYTES(1) ||
        (env_len - BT_REPORT_ENVELOPE_BYTES(0)) % BT_REPORT_BLOCK != 0)
        return env_fail(why, BT_ERR_BAD_ENVELOPE, "not a whole number of blocks");
    if (memcmp(env, "BTR1", 4) == 0)
        return env_fail(why, BT_ERR_BAD_ENVELOPE, "a report of an older client (BTR1, no sender key): update Bantrail");
    if (memcmp(env, BT_REPORT_MAGIC, 4) != 0) return env_fail(why, BT_ERR_BAD_ENVELOPE, "unknown envelope version");
    bt_report_key_id(kid, pk);
    if (sodium_memcmp(env + 4, kid, sizeof kid) != 0)
        return env_fail(why, BT_ERR_WRONG_KEY, "sealed to another key id");
    id = env + 4 + BT_REPORT_KEY_ID_BYTES;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, env, env_len - BT_REPORT_NONCE_BYTES);
    replay = st;
    crypto_generichash_final(&replay, rd, sizeof rd);
    crypto_generichash_update(&st, env + env_len - BT_REPORT_NONCE_BYTES, BT_REPORT_NONCE_BYTES);
    crypto_generichash_final(&st, h, sizeof h);
    if (leading_zero_bits(h, sizeof h) < difficulty)
        return env_fail(why, BT_ERR_BAD_POW, "not enough proof of work");

    sealed_len = env_len - BT_REPORT_HEADER_BYTES - BT_REPORT_NONCE_BYTES;
    padded_len = sealed_len - crypto_box_SEALBYTES;
    if (crypto_box_seal_open(plain, env + BT_REPORT_HEADER_BYTES, sealed_len, pk, sk) != 0) {
        err = env_fail(why, BT_ERR_CORRUPT, "the sealed box does not open with this key");
        goto done;
    }
    if (sodium_unpad(&plain_len, plain, padded_len, BT_REPORT_BLOCK) != 0) {
        err = env_fail(why, BT_ERR_BAD_ENVELOPE, "bad padding");
        goto done;
    }
    if ((plain_len / BT_REPORT_BLOCK + 1) * BT_REPORT_BLOCK != padded_len) {
        err = env_fail(why, BT_ERR_BAD_ENVELOPE, "padding is not minimal");
        goto done;
    }
    /* the report's key and its signature over what is sealed */
    if (plain_len < BT_REPORT_AUTH_BYTES ||
        (plain[0] != BT_REPORT_KIND_REPORT && plain[0] != BT_REPORT_KIND_WITHDRAW &&
         plain[0] != BT_REPORT_KIND_MEMBER)) {
        err = fail(why, "no sender key inside");
        goto done;
    }
    json_len = plain_len - BT_REPORT_AUTH_BYTES;
    sign_input(&st, plain[0], kid, id, json, json_len, m);
    if (crypto_sign_verify_detached(plain + 1 + crypto_sign_PUBLICKEYBYTES, m, sizeof m, plain + 1) != 0) {
        err = fail(why, "the report's signature does not hold");
        goto done;
    }
    memcpy(auth->key, plain + 1, sizeof auth->key);
    if (plain[0] == BT_REPORT_KIND_MEMBER) { /* the token it spends, then the report */
        if (json_len < BT_TOKEN_WIRE_BYTES) {
            err = fail(why, "a member report without its token");
            goto done;
        }
        auth->has_token = 1;
        memcpy(auth->token.t, json, BT_TOKEN_BYTES);
        memcpy(auth->token.n, json + BT_TOKEN_BYTES, BT_TOKEN_POINT_BYTES);
        json += BT_TOKEN_WIRE_BYTES;
        json_len -= BT_TOKEN_WIRE_BYTES;
    }
    if (plain[0] == BT_REPORT_KIND_WITHDRAW) {
        err = json_len == 0 ? BT_OK : fail(why, "a withdrawal carries no report");
        if (err == BT_OK) {
            auth->withdrawal = 1;
            memcpy(out->id, id, BT_REPORT_ID_BYTES);
        }
    } else {
        err = bt_report_parse(out, (const char *)json, json_len, why);
        if (err != BT_OK) goto done;
        if (bt_report_render(canon, sizeof canon, &canon_len, out) != BT_OK || canon_len != json_len ||
            memcmp(canon, json, json_len) != 0) {
            err = fail(why, "not in canonical form");
            goto done;
        }
        if (memcmp(out->id, id, BT_REPORT_ID_BYTES) != 0) {
            err = fail(why, "report_id differs from the envelope's");
            goto done;
        }
    }
    if (err == BT_OK && digest != NULL) memcpy(digest, rd, 32);
done:
    if (err != BT_OK) {
        sodium_memzero(out, sizeof *out);
        sodium_memzero(auth, sizeof *auth);
    }
    sodium_memzero(plain, padded_len);
    sodium_memzero(canon, canon_len);
    return err;
}

bt_err bt_report_open(bt_report *out, unsigned char digest[32], const char *wire, size_t wire_len,
                      const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                      const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty,
                      const char **why)
{
    bt_report_auth auth;
    bt_err err = bt_report_open_signed(out, &auth, digest, wire, wire_len, pk, sk, difficulty, why);
    if (err == BT_OK && auth.withdrawal) {
        sodium_memzero(out, sizeof *out);
        if (digest != NULL) sodium_memzero(digest, 32);
        err = fail(why, "a withdrawal, not a report");
    }
    return err;
}

/* ---- union entries ---- */

static bt_err ufail(const char **why, const char *reason)
{
    if (why != NULL) *why = reason;
    return BT_ERR_BAD_PARAMS;
}

/* Printable text: valid UTF-8 (json-c checked it), no control characters. */
static int printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) return 0;
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0) return 0; /* C1 controls */
    }
    return 1;
}

/* https://host[...] or http://127.0.0.1|localhost|[::1][:port][/...]; no
 * spaces, controls, quotes, backslashes or user info. */
static int url_ok(const char *s)
{
    const char *rest;
    if (strncmp(s, "https://", 8) == 0) {
        rest = s + 8;
    } else if (strncmp(s, "http://", 7) == 0) {
        rest = s + 7;
        size_t n = strncmp(rest, "127.0.0.1", 9) == 0 ? 9 : strncmp(rest, "localhost", 9) == 0 ? 9
                 : strncmp(rest, "[::1]", 5) == 0 ? 5 : 0;
        if (n == 0 || (rest[n] != '\0' && rest[n] != ':' && rest[n] != '/')) return 0;
    } else {
        return 0;
    }
    if (*rest == '\0' || *rest == '/' || *rest == ':') return 0;
    for (const char *p = rest; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\' || c == '<' || c == '>' || c == '`') return 0;
    }
    size_t host_end = strcspn(rest, "/?#");
    if (memchr(rest, '@', host_end) != NULL) return 0;
    return 1;
}

static int copy_str(char *dst, size_t cap, json_object *v)
{
    const char *s;
    size_t n;
    if (!json_object_is_type(v, json_type_string)) return -1;
    s = json_object_get_string(v);
    n = strlen(s);
    if (n == 0 || n >= cap || n != (size_t)json_object_get_string_len(v)) return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

bt_err bt_report_union_parse(bt_union *u, const char *json, size_t len, const char **why)
{
    json_object *o;
    unsigned seen = 0;
    bt_err err = BT_OK;
    unsigned char kid[BT_REPORT_KEY_ID_BYTES], claimed[BT_REPORT_KEY_ID_BYTES];

    memset(u, 0, sizeof *u);
    if (len > 16384) return ufail(why, "larger than 16 KiB");
    o = parse_strict(json, len, 4);
    if (o == NULL) return ufail(why, "not strict UTF-8 JSON");
    if (!json_object_is_type(o, json_type_object)) {
        err = ufail(why, "not a JSON object");
        goto done;
    }
    json_object_object_foreach(o, key, v) {
        if (strcmp(key, "v") == 0) {
            if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 1) {
                err = ufail(why, "v: not 1");
                goto done;
            }
            seen |= 1;
        } else if (strcmp(key, "id") == 0) {
            if (copy_str(u->id, sizeof u->id, v) != 0 || strspn(u->id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(u->id)) {
                err = ufail(why, "id: 1-64 of a-z, 0-9 and -");
                goto done;
            }
            seen |= 2;
        } else if (strcmp(key, "name") == 0) {
            if (copy_str(u->name, sizeof u->name, v) != 0 || !printable(u->name)) {
                err = ufail(why, "name: 1-128 bytes of printable text");
                goto done;
            }
            seen |= 4;
        } else if (strcmp(key, "homepage") == 0 || strcmp(key, "submit_url") == 0 ||
                   strcmp(key, "policy_url") == 0) {
            char *dst = key[0] == 'h' ? u->homepage : key[0] == 's' ? u->submit_url : u->policy_url;
            if (copy_str(dst, sizeof u->homepage, v) != 0 || !url_ok(dst)) {
                err = ufail(why, key[0] == 'h' ? "homepage: not an https URL"
                               : key[0] == 's' ? "submit_url: not an https URL" : "policy_url: not an https URL");
                goto done;
            }
            seen |= key[0] == 'h' ? 8u : key[0] == 's' ? 16u : 32u;
        } else if (strcmp(key, "public_key") == 0) {
            size_t n = 0;
            const char *end = NULL;
            const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
            if (sodium_base642bin(u->public_key, sizeof u->public_key, s, strlen(s), NULL, &n, &end,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
                n != sizeof u->public_key || *end != '\0') {
                err = ufail(why, "public_key: not base64 of exactly 32 bytes");
                goto done;
            }
            seen |= 64;
        } else if (strcmp(key, "key_id") == 0) {
            size_t n = 0;
            const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
            if (strlen(s) != 2 * BT_REPORT_KEY_ID_BYTES ||
                sodium_hex2bin(claimed, sizeof claimed, s, strlen(s), NULL, &n, NULL) != 0 || n != sizeof claimed) {
                err = ufail(why, "key_id: not 16 hex digits");
                goto done;
            }
            seen |= 128;
        } else if (strcmp(key, "pow_difficulty") == 0) {
            int64_t d = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
            if (d < 0 || d > BT_REPORT_POW_MAX) {
                err = ufail(why, "pow_difficulty: not 0-24");
                goto done;
            }
            u->pow_difficulty = (unsigned)d;
            seen |= 256;
        } else if (strcmp(key, "tokens") == 0) {
            const char *p = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
            u->tokens = !strcmp(p, "counted") ? BT_TOKENS_COUNTED : !strcmp(p, "required") ? BT_TOKENS_REQUIRED : BT_TOKENS_OFF;
            if (u->tokens == BT_TOKENS_OFF) {
                err = ufail(why, "tokens: counted or required");
                goto done;
            }
            seen |= 512;
        } else if (strcmp(key, "token_key") == 0) {
            size_t n = 0;
            const char *end = NULL;
            const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
            if (sodium_base642bin(u->token_key, sizeof u->token_key, s, strlen(s), NULL, &n, &end,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
                n != sizeof u->token_key || *end != '\0' || !crypto_core_ristretto255_is_valid_point(u->token_key)) {
                err = ufail(why, "token_key: not base64 of a 32-byte ristretto255 point");
                goto done;
            }
            seen |= 1024;
        } else {
            err = ufail(why, "unknown member");
            goto done;
        }
    }
    if ((seen & 511) != 511) {
        err = ufail(why, "a required member is missing");
        goto done;
    }
    if ((seen & 512) != (seen & 1024) >> 1) {
        err = ufail(why, "tokens and token_key: both or neither");
        goto done;
    }
    bt_report_key_id(kid, u->public_key);
    if (memcmp(kid, claimed, sizeof kid) != 0) {
        err = ufail(why, "key_id: does not match public_key");
        goto done;
    }
    memcpy(u->key_id, kid, sizeof kid);
done:
    json_object_put(o);
    if (err != BT_OK) memset(u, 0, sizeof *u);
    return err;
}

bt_err bt_report_union_render(char *out, size_t cap, size_t *len, const bt_union *u)
{
    char pk[sodium_base64_ENCODED_LEN(crypto_box_PUBLICKEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    char kid[2 * BT_REPORT_KEY_ID_BYTES + 1];
    unsigned char k[BT_REPORT_KEY_ID_BYTES];
    json_object *o;
    const char *s;
    size_t n = 0;
    bt_err err = BT_OK;

    sodium_bin2base64(pk, sizeof pk, u->public_key, sizeof u->public_key, sodium_base64_VARIANT_ORIGINAL);
    bt_report_key_id(k, u->public_key);
    sodium_bin2hex(kid, sizeof kid, k, sizeof k);
    o = json_object_new_object();
    if (o == NULL) return BT_ERR_NO_MEMORY;
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "name", json_object_new_string(u->name));
    json_object_object_add(o, "homepage", json_object_new_string(u->homepage));
    json_object_object_add(o, "submit_url", json_object_new_string(u->submit_url));
    json_object_object_add(o, "public_key", json_object_new_string(pk));
    json_object_object_add(o, "key_id", json_object_new_string(kid));
    json_object_object_add(o, "pow_difficulty", json_object_new_int((int)u->pow_difficulty));
    json_object_object_add(o, "policy_url", json_object_new_string(u->policy_url));
    if (u->tokens != BT_TOKENS_OFF) {
        char tk[sizeof pk];
        sodium_bin2base64(tk, sizeof tk, u->token_key, sizeof u->token_key, sodium_base64_VARIANT_ORIGINAL);
        json_object_object_add(o, "tokens", json_object_new_string(u->tokens == BT_TOKENS_REQUIRED ? "required" : "counted"));
        json_object_object_add(o, "token_key", json_object_new_string(tk));
    }
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
    n = s ? strlen(s) : 0;
    if (s == NULL) err = BT_ERR_NO_MEMORY;
    else if (n + 2 > cap) err = BT_ERR_RESULT_TOO_LARGE;
    else {
        memcpy(out, s, n);
        out[n++] = '\n';
        out[n] = '\0';
        *len = n;
    }
    json_object_put(o);
    return err;
}
