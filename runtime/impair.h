/*
 * impair.h — network impairment on a peer's send path (docs/ARCHITECTURE.md §5): random
 * loss, a fixed delay plus uniform jitter, and an upload rate limit with a
 * bounded queue. Kernel emulation (netem) is not available everywhere, so
 * experiments and tests impair in the runtime instead.
 *
 * The model, per datagram of len bytes submitted at now:
 *   1. lost with probability loss (before it takes any upload time, as a
 *      congested path that loses it downstream would; the sender still
 *      counts it as sent);
 *   2. with a rate limit, it leaves the uplink at
 *        depart = max(now, uplink free) + (len + RT_IMPAIR_OVERHEAD) * 8 / rate
 *      in FIFO order; a datagram whose wait (depart - now) would exceed
 *      queue_ns_max, or that finds queue_max datagrams held, is tail-dropped;
 *   3. it is handed to the socket at release = depart + delay + U[0, jitter)
 *      (jitter can reorder datagrams, as on a real path).
 *
 * Pure logic: time is an argument and the owner sends what rt_impair_pop()
 * returns (runtime/peer.c arms one timer at rt_impair_next()). Randomness comes
 * from a seed.
 */
#ifndef SC_RUNTIME_IMPAIR_H
#define SC_RUNTIME_IMPAIR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/wire.h"

#define RT_IMPAIR_QUEUE_MAX 8192 /* bound on config.queue_max */
#define RT_IMPAIR_OVERHEAD  28   /* IPv4 + UDP header bytes charged per datagram */

typedef struct rt_impair_config {
  double loss;           /* 0..1 */
  uint64_t delay_ns;     /* added to every datagram */
  uint64_t jitter_ns;    /* plus U[0, jitter_ns) */
  uint64_t rate_bps;     /* upload limit in bits/s; 0: none */
  uint64_t queue_ns_max; /* longest wait in the uplink queue; default 200 ms */
  uint32_t queue_max;    /* datagrams held at once, 1..RT_IMPAIR_QUEUE_MAX; 4096 */
} rt_impair_config;

void rt_impair_config_default(rt_impair_config *c);
/* True when c changes anything (loss, delay, jitter or a rate). */
bool rt_impair_active(const rt_impair_config *c);

typedef struct rt_impair_pkt {
  uint64_t release_ns;
  uint64_t seq; /* submission order: ties leave in FIFO order */
  struct sockaddr_in to;
  uint16_t len;
  uint8_t data[SC_WIRE_DATAGRAM_MAX];
} rt_impair_pkt;

typedef struct rt_impair {
  rt_impair_config cfg;
  sc_rng rng;
  uint64_t uplink_free_ns; /* when the uplink finishes what it holds */
  uint64_t seq;
  uint32_t n;            /* held */
  rt_impair_pkt **heap;  /* min-heap on (release_ns, seq); queue_max slots */
  rt_impair_pkt **spare; /* freed packets kept for reuse */
  uint32_t nspare;
  /* Counters. */
  uint64_t lost;     /* dropped by the loss model */
  uint64_t overflow; /* tail drops: queue too long */
  uint64_t queued;   /* accepted into the queue */
  uint32_t held_max; /* high-water mark of n */
} rt_impair;

/* Returns 0, SC_ERR_INVALID (bad config) or SC_ERR_NOMEM. */
int rt_impair_init(rt_impair *q, const rt_impair_config *cfg, uint64_t seed);
void rt_impair_free(rt_impair *q);

enum {
  RT_IMPAIR_QUEUED = 0,   /* held; leaves at rt_impair_next() */
  RT_IMPAIR_SEND_NOW = 1, /* no delay or rate: send it yourself, now */
  RT_IMPAIR_LOST = 2,     /* the loss model took it */
  RT_IMPAIR_OVERFLOW = 3, /* tail drop */
};

/* Submits one datagram (len <= SC_WIRE_DATAGRAM_MAX, copied). Returns one of
 * the values above, or SC_ERR_NOMEM (counted as overflow by the caller). */
int rt_impair_submit(rt_impair *q, uint64_t now, const uint8_t *data, size_t len,
                     const struct sockaddr_in *to);
/* How long the rate-limited uplink needs, from now, to send what it holds
 * (0 without a rate limit). */
uint64_t rt_impair_backlog_ns(const rt_impair *q, uint64_t now);
/* The release time of the earliest held datagram, UINT64_MAX if none. */
uint64_t rt_impair_next(const rt_impair *q);
/* The earliest held datagram if its release time is <= now, else NULL. It
 * stays valid until rt_impair_done(). */
const rt_impair_pkt *rt_impair_peek(const rt_impair *q, uint64_t now);
/* Removes the datagram rt_impair_peek() returned. */
void rt_impair_done(rt_impair *q);

#endif
