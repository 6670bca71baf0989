/* impair.c — see impair.h. */
#include "impair.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void rt_impair_config_default(rt_impair_config *c) {
  memset(c, 0, sizeof *c);
  c->queue_ns_max = 200ull * 1000 * 1000;
  c->queue_max = 4096;
}

bool rt_impair_active(const rt_impair_config *c) {
  return c->loss > 0 || c->delay_ns > 0 || c->jitter_ns > 0 || c->rate_bps > 0;
}

/* Whether datagrams wait in the queue at all (loss alone needs no queue). */
static bool impair_queues(const rt_impair_config *c) {
  return c->delay_ns > 0 || c->jitter_ns > 0 || c->rate_bps > 0;
}

int rt_impair_init(rt_impair *q, const rt_impair_config *cfg, uint64_t seed) {
  memset(q, 0, sizeof *q);
  if (!(cfg->loss >= 0 && cfg->loss <= 1) || cfg->queue_max == 0 ||
      cfg->queue_max > RT_IMPAIR_QUEUE_MAX)
    return SC_ERR_INVALID;
  q->cfg = *cfg;
  sc_rng_seed(&q->rng, seed);
  if (impair_queues(cfg)) {
    q->heap = calloc(cfg->queue_max, sizeof *q->heap);
    q->spare = calloc(cfg->queue_max, sizeof *q->spare);
    if (!q->heap || !q->spare) {
      rt_impair_free(q);
      return SC_ERR_NOMEM;
    }
  }
  return 0;
}

void rt_impair_free(rt_impair *q) {
  for (uint32_t i = 0; i < q->n; i++)
    free(q->heap[i]);
  for (uint32_t i = 0; i < q->nspare; i++)
    free(q->spare[i]);
  free(q->heap);
  free(q->spare);
  q->heap = q->spare = NULL;
  q->n = q->nspare = 0;
}

static bool pkt_before(const rt_impair_pkt *a, const rt_impair_pkt *b) {
  return a->release_ns < b->release_ns ||
         (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void heap_up(rt_impair *q, uint32_t i) {
  rt_impair_pkt *p = q->heap[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!pkt_before(p, q->heap[parent])) break;
    q->heap[i] = q->heap[parent];
    i = parent;
  }
  q->heap[i] = p;
}

static void heap_down(rt_impair *q, uint32_t i) {
  rt_impair_pkt *p = q->heap[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= q->n) break;
    if (c + 1 < q->n && pkt_before(q->heap[c + 1], q->heap[c])) c++;
    if (!pkt_before(q->heap[c], p)) break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  q->heap[i] = p;
}

uint64_t rt_impair_backlog_ns(const rt_impair *q, uint64_t now) {
  return q->cfg.rate_bps > 0 && q->uplink_free_ns > now ? q->uplink_free_ns - now : 0;
}

int rt_impair_submit(rt_impair *q, uint64_t now, const uint8_t *data, size_t len,
                     const struct sockaddr_in *to) {
  if (q->cfg.loss > 0 && sc_rng_unit(&q->rng) < q->cfg.loss) {
    q->lost++;
    return RT_IMPAIR_LOST;
  }
  if (!impair_queues(&q->cfg)) return RT_IMPAIR_SEND_NOW;
  if (len > SC_WIRE_DATAGRAM_MAX || q->n >= q->cfg.queue_max) {
    q->overflow++;
    return RT_IMPAIR_OVERFLOW;
  }
  uint64_t depart = now;
  if (q->cfg.rate_bps > 0) {
    uint64_t start = q->uplink_free_ns > now ? q->uplink_free_ns : now;
    uint64_t bits = (uint64_t)(len + RT_IMPAIR_OVERHEAD) * 8;
    /* bits * 1e9 / rate: at most 11,424 * 1e9, far below 2^64. */
    depart = start + bits * 1000000000ull / q->cfg.rate_bps;
    if (depart - now > q->cfg.queue_ns_max) {
      q->overflow++;
      return RT_IMPAIR_OVERFLOW;
    }
  }
  rt_impair_pkt *p = q->nspare > 0 ? q->spare[--q->nspare] : malloc(sizeof *p);
  if (!p) return SC_ERR_NOMEM;
  if (q->cfg.rate_bps > 0) q->uplink_free_ns = depart;
  uint64_t jitter = 0;
  if (q->cfg.jitter_ns > 0)
    jitter = (uint64_t)(sc_rng_unit(&q->rng) * (double)q->cfg.jitter_ns);
  p->release_ns = depart + q->cfg.delay_ns + jitter;
  p->seq = q->seq++;
  p->to = *to;
  p->len = (uint16_t)len;
  memcpy(p->data, data, len);
  q->heap[q->n++] = p;
  heap_up(q, q->n - 1);
  q->queued++;
  if (q->n > q->held_max) q->held_max = q->n;
  return RT_IMPAIR_QUEUED;
}

uint64_t rt_impair_next(const rt_impair *q) {
  return q->n > 0 ? q->heap[0]->release_ns : UINT64_MAX;
}

const rt_impair_pkt *rt_impair_peek(const rt_impair *q, uint64_t now) {
  if (q->n == 0 || q->heap[0]->release_ns > now) return NULL;
  return q->heap[0];
}

void rt_impair_done(rt_impair *q) {
  if (q->n == 0) return;
  rt_impair_pkt *p = q->heap[0];
  q->heap[0] = q->heap[--q->n];
  if (q->n > 0) heap_down(q, 0);
  /* The spare list has queue_max slots and at most queue_max packets exist. */
  q->spare[q->nspare++] = p;
}
