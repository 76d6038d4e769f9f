/* The per-address rate of accepted reports (collect_int.h): token buckets.
 *
 * An address is never kept: it is reduced to a 64-bit tag, BLAKE2b under a
 * key drawn when the table is made (so a tag means nothing outside this
 * process and this run), IPv6 to its /64 (one subscriber's usual share: a
 * single host can use any address in it). The table is fixed in size and
 * lives in memory only; a bucket that has filled up again is as good as
 * absent, so its slot is the first to be reused. */
#include "collect/collect_int.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PROBES 16

typedef struct {
    uint64_t tag;   /* 0: free */
    double tokens;
    double at;      /* when tokens was last brought up to date */
} bucket;

struct bt_rate {
    double per_second, burst;
    unsigned n;     /* a power of two */
    unsigned char key[crypto_generichash_KEYBYTES];
    bucket b[];
};

bt_rate *bt_rate_new(unsigned slots, double per_minute, double burst)
{
    unsigned n = 64;
    while (n < slots && n < (1u << 24)) n <<= 1;
    bt_rate *r = calloc(1, sizeof *r + (size_t)n * sizeof r->b[0]);
    if (r == NULL) return NULL;
    r->per_second = per_minute / 60.0;
    r->burst = burst < 1 ? 1 : burst;
    r->n = n;
    randombytes_buf(r->key, sizeof r->key);
    return r;
}

void bt_rate_free(bt_rate *r)
{
    if (r == NULL) return;
    sodium_memzero(r, sizeof *r + (size_t)r->n * sizeof r->b[0]);
    free(r);
}

uint64_t bt_rate_tag(const bt_rate *r, const struct sockaddr *sa)
{
    unsigned char h[8];
    const unsigned char *p = NULL;
    size_t len = 0;
    if (sa == NULL) return 1;
    if (sa->sa_family == AF_INET) {
        p = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        len = 4;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        p = (const unsigned char *)a;
        len = 8; /* the /64 */
        if (IN6_IS_ADDR_V4MAPPED(a)) { /* an IPv4 client of a dual-stack socket: its own address */
            p += 12;
            len = 4;
        }
    } else {
        return 1;
    }
    crypto_generichash(h, sizeof h, p, len, r->key, sizeof r->key);
    uint64_t t = 0;
    for (int i = 0; i < 8; i++) t = t << 8 | h[i];
    return t ? t : 1;
}

/* The bucket of tag, brought up to now; a fresh full one if it had none. */
static bucket *find(bt_rate *r, uint64_t tag, double now)
{
    bucket *reuse = NULL;
    for (unsigned i = 0; i < PROBES; i++) {
        bucket *b = &r->b[(tag + i) & (r->n - 1)];
        if (b->tag == tag) {
            b->tokens += (now - b->at) * r->per_second;
            if (b->tokens > r->burst) b->tokens = r->burst;
            b->at = now;
            return b;
        }
        /* free, or full again (as good as free); else the fullest */
        double level = b->tag == 0 ? 1e300 : b->tokens + (now - b->at) * r->per_second;
        double best = reuse == NULL ? -1 : reuse->tag == 0 ? 1e300 : reuse->tokens + (now - reuse->at) * r->per_second;
        if (level > best) reuse = b;
    }
    reuse->tag = tag;
    reuse->tokens = r->burst;
    reuse->at = now;
    return reuse;
}

double bt_rate_take(bt_rate *r, uint64_t tag, double now)
{
    bucket *b = find(r, tag, now);
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    return r->per_second > 0 ? (1 - b->tokens) / r->per_second : 3600;
}

void bt_rate_give_back(bt_rate *r, uint64_t tag, double now)
{
    bucket *b = find(r, tag, now);
    b->tokens = b->tokens + 1 > r->burst ? r->burst : b->tokens + 1;
}
