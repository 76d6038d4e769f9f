/* Deadlines for the collector's connections (collect_int.h).
 *
 * libmicrohttpd's own timeout counts inactivity only, so a client that sends
 * one byte a second would hold its connection for ever. The guard gives each
 * connection a deadline from the moment it is accepted; a watchdog (serve's
 * main thread) shuts down the sockets past theirs, and libmicrohttpd then
 * sees the end of the stream and closes the connection as usual.
 *
 * Each slot holds a dup() of the connection's socket: shutdown() acts on the
 * socket, and the duplicate keeps the descriptor number ours until the
 * connection's close is reported, so the watchdog can never shut down a
 * descriptor that libmicrohttpd has closed and the system has handed out
 * again. */
#include "collect/collect_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct bt_guard_slot {
    int fd;          /* our duplicate; -1 when the slot is free */
    double deadline; /* CLOCK_MONOTONIC seconds */
};

struct bt_guard {
    pthread_mutex_t lock;
    unsigned n, open, lifetime;
    bt_guard_slot slots[];
};

double bt_guard_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bt_guard *bt_guard_new(unsigned slots, unsigned lifetime)
{
    bt_guard *g = calloc(1, sizeof *g + (size_t)slots * sizeof g->slots[0]);
    if (g == NULL) return NULL;
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return NULL;
    }
    g->n = slots;
    g->lifetime = lifetime;
    for (unsigned i = 0; i < slots; i++) g->slots[i].fd = -1;
    return g;
}

void bt_guard_free(bt_guard *g)
{
    if (g == NULL) return;
    for (unsigned i = 0; i < g->n; i++)
        if (g->slots[i].fd >= 0) close(g->slots[i].fd);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

bt_guard_slot *bt_guard_open(bt_guard *g, int fd)
{
    bt_guard_slot *s = NULL;
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return NULL;
    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; i < g->n; i++) {
        if (g->slots[i].fd < 0) {
            s = &g->slots[i];
            s->fd = dup_fd;
            s->deadline = bt_guard_now() + g->lifetime;
            g->open++;
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
    if (s == NULL) close(dup_fd);
    return s;
}

void bt_guard_close(bt_guard *g, bt_guard_slot *s)
{
    if (s == NULL) return;
    pthread_mutex_lock(&g->lock);
    close(s->fd);
    s->fd = -1;
    g->open--;
    pthread_mutex_unlock(&g->lock);
}

unsigned bt_guard_open_count(bt_guard *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned n = g->open;
    pthread_mutex_unlock(&g->lock);
    return n;
}

unsigned bt_guard_expire(bt_guard *g, double now)
{
    unsigned cut = 0;
    pthread_mutex_lock(&g->lock);
    for (unsigned i = 0; i < g->n; i++) {
        bt_guard_slot *s = &g->slots[i];
        if (s->fd >= 0 && s->deadline <= now) {
            shutdown(s->fd, SHUT_RDWR);
            s->deadline = now + 3600; /* once: the close follows */
            cut++;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return cut;
}
