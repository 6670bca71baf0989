/* engine.c — discrete-event engine (see engine.h). */
#include "engine.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TM_NONE UINT32_MAX

/* The heap array starts EV_PAD slots into a 128-byte aligned allocation, so
 * the four children of node i (4i+1 .. 4i+4, 32 bytes each) fill exactly two
 * cache lines instead of straddling three: a sift-down step costs two misses
 * at most. */
#define EV_ALIGN 128
#define EV_PAD 3

static sim_event *ev_alloc(uint64_t cap, void **mem) {
  size_t bytes = (size_t)(cap + EV_PAD) * sizeof(sim_event);
  bytes = (bytes + EV_ALIGN - 1) / EV_ALIGN * EV_ALIGN;
  *mem = aligned_alloc(EV_ALIGN, bytes);
  return *mem ? (sim_event *)*mem + EV_PAD : NULL;
}

int sim_engine_init(sim_engine *e, uint32_t peers_max) {
  _Static_assert(sizeof(sim_event) * 4 == EV_ALIGN, "four children per two lines");
  e->now_ns = 0;
  e->seq_next = 0;
  e->events_processed = 0;
  e->nev = 0;
  e->ev_cap = 1024;
  e->ev = ev_alloc(e->ev_cap, &e->ev_mem);
  e->ahead_head = e->nahead = 0;
  e->ntm = 0;
  e->peers_max = peers_max;
  e->tm = malloc((size_t)(peers_max ? peers_max : 1) * sizeof(*e->tm));
  e->tm_pos = malloc((size_t)(peers_max ? peers_max : 1) * sizeof(*e->tm_pos));
  if (!e->ev || !e->tm || !e->tm_pos) {
    sim_engine_free(e);
    return -1;
  }
  for (uint32_t i = 0; i < peers_max; i++) e->tm_pos[i] = TM_NONE;
  return 0;
}

void sim_engine_free(sim_engine *e) {
  free(e->ev_mem);
  free(e->tm);
  free(e->tm_pos);
  e->ev_mem = NULL;
  e->ev = NULL;
  e->tm = NULL;
  e->tm_pos = NULL;
}

static inline bool ev_less(const sim_event *a, const sim_event *b) {
  return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

static int ev_push(sim_engine *e, const sim_event *x) {
  if (e->nev == e->ev_cap) {
    void *mem;
    sim_event *n = ev_alloc(2 * e->ev_cap, &mem);
    if (n == NULL) return -1;
    memcpy(n, e->ev, e->nev * sizeof(*n));
    free(e->ev_mem);
    e->ev_mem = mem;
    e->ev = n;
    e->ev_cap *= 2;
  }
  uint64_t i = e->nev++;
  while (i > 0) { /* sift up */
    uint64_t parent = (i - 1) / 4;
    if (!ev_less(x, &e->ev[parent])) break;
    e->ev[i] = e->ev[parent];
    i = parent;
  }
  e->ev[i] = *x;
  return 0;
}

/* Removes the root. Floyd's way: move the hole down to a leaf along the
 * smaller children without comparing against the last element, which
 * almost always belongs near the bottom, then sift that element up. */
static void ev_pop(sim_engine *e) {
  uint64_t n = --e->nev;
  if (n == 0) return;
  sim_event *h = e->ev;
  uint64_t i = 0;
  for (;;) {
    uint64_t c = 4 * i + 1;
    if (c >= n) break;
    uint64_t best = c, end = c + 4 < n ? c + 4 : n;
    for (uint64_t k = c + 1; k < end; k++)
      if (ev_less(&h[k], &h[best])) best = k;
    h[i] = h[best];
    i = best;
  }
  const sim_event *x = &h[n];
  while (i > 0) {
    uint64_t parent = (i - 1) / 4;
    if (!ev_less(x, &h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = *x;
}

/* The look-ahead buffer holds the smallest events, in order: every event in
 * it precedes every event in the heap. */
static inline sim_event *ahead_at(sim_engine *e, unsigned k) {
  return &e->ahead[(e->ahead_head + k) % SIM_AHEAD_MAX];
}

int sim_engine_schedule(sim_engine *e, uint64_t t_ns, uint32_t kind, uint32_t arg,
                        void *ptr) {
  assert(t_ns >= e->now_ns);
  sim_event x = {t_ns, e->seq_next++, kind, arg, ptr};
  /* x has the largest seq so far: it goes behind buffered events of its own
   * time, but before later ones, which go back to the heap (rare: messages
   * take at least the network's minimum latency, which spans thousands of
   * events). */
  while (e->nahead > 0 && ahead_at(e, e->nahead - 1)->t_ns > t_ns) {
    if (ev_push(e, ahead_at(e, e->nahead - 1)) != 0) return -1;
    e->nahead--;
  }
  return ev_push(e, &x);
}

const sim_event *sim_engine_peek_ahead(sim_engine *e, unsigned k) {
  assert(k < SIM_AHEAD_MAX);
  while (e->nahead <= k && e->nev > 0) {
    *ahead_at(e, e->nahead) = e->ev[0];
    e->nahead++;
    ev_pop(e);
  }
  return k < e->nahead ? ahead_at(e, k) : NULL;
}

/* ---- indexed binary heap of peer timers ---- */

static inline bool tm_less(const sim_timer_slot *a, const sim_timer_slot *b) {
  return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

static inline void tm_put(sim_engine *e, uint32_t i, sim_timer_slot s) {
  e->tm[i] = s;
  e->tm_pos[s.peer] = i;
}

static void tm_sift_up(sim_engine *e, uint32_t i) {
  sim_timer_slot x = e->tm[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!tm_less(&x, &e->tm[parent])) break;
    tm_put(e, i, e->tm[parent]);
    i = parent;
  }
  tm_put(e, i, x);
}

static void tm_sift_down(sim_engine *e, uint32_t i) {
  sim_timer_slot x = e->tm[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= e->ntm) break;
    if (c + 1 < e->ntm && tm_less(&e->tm[c + 1], &e->tm[c])) c++;
    if (!tm_less(&e->tm[c], &x)) break;
    tm_put(e, i, e->tm[c]);
    i = c;
  }
  tm_put(e, i, x);
}

static void tm_remove_at(sim_engine *e, uint32_t i) {
  uint32_t peer = e->tm[i].peer;
  e->tm_pos[peer] = TM_NONE;
  if (--e->ntm == i) return;
  uint32_t moved = e->tm[e->ntm].peer;
  tm_put(e, i, e->tm[e->ntm]);
  tm_sift_up(e, i);
  tm_sift_down(e, e->tm_pos[moved]);
}

void sim_engine_set_timer(sim_engine *e, uint32_t peer, uint64_t t_ns) {
  assert(peer < e->peers_max);
  uint32_t pos = e->tm_pos[peer];
  if (pos != TM_NONE && e->tm[pos].t_ns == t_ns) return; /* unchanged: keep order */
  if (t_ns == SIM_TIME_NEVER) {
    if (pos != TM_NONE) tm_remove_at(e, pos);
    return;
  }
  assert(t_ns >= e->now_ns);
  sim_timer_slot s = {t_ns, e->seq_next++, peer};
  if (pos == TM_NONE) {
    pos = e->ntm++;
    tm_put(e, pos, s);
    tm_sift_up(e, pos);
  } else {
    bool earlier = tm_less(&s, &e->tm[pos]);
    tm_put(e, pos, s);
    if (earlier)
      tm_sift_up(e, pos);
    else
      tm_sift_down(e, pos);
  }
}

uint64_t sim_engine_timer(const sim_engine *e, uint32_t peer) {
  uint32_t pos = e->tm_pos[peer];
  return pos == TM_NONE ? SIM_TIME_NEVER : e->tm[pos].t_ns;
}

bool sim_engine_next(sim_engine *e, sim_event *out) {
  const sim_event *head = e->nahead ? ahead_at(e, 0) : e->nev ? &e->ev[0] : NULL;
  bool have_tm = e->ntm > 0;
  if (!head && !have_tm) return false;
  bool take_tm = have_tm && (!head || e->tm[0].t_ns < head->t_ns ||
                             (e->tm[0].t_ns == head->t_ns && e->tm[0].seq < head->seq));
  if (take_tm) {
    sim_timer_slot s = e->tm[0];
    tm_remove_at(e, 0);
    out->t_ns = s.t_ns;
    out->seq = s.seq;
    out->kind = SIM_EV_TIMER;
    out->arg = s.peer;
    out->ptr = NULL;
  } else if (e->nahead) {
    *out = *head;
    e->ahead_head = (e->ahead_head + 1) % SIM_AHEAD_MAX;
    e->nahead--;
  } else {
    *out = *head;
    ev_pop(e);
  }
  e->now_ns = out->t_ns;
  e->events_processed++;
  return true;
}
