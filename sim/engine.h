/*
 * engine.h — the simulator's discrete-event engine.
 *
 * Two queues feed one clock. Events (messages in flight, scenario steps) sit
 * in a 4-ary implicit heap; each peer's single timer (its core's expiry,
 * DESIGN.md §2) sits in an indexed binary heap with one slot per peer, so a
 * million peers cost a million timer slots, not one per protocol timer.
 * Ties break by a global insertion sequence, so one seed gives one history.
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TIME_NEVER UINT64_MAX

enum sim_event_kind {
  SIM_EV_TIMER = 0, /* a peer's timer: arg = peer index */
  SIM_EV_USER = 1,  /* kinds from here on belong to the caller */
};

typedef struct sim_event {
  uint64_t t_ns;
  uint64_t seq;
  uint32_t kind;
  uint32_t arg;
  void *ptr;
} sim_event;

typedef struct sim_timer_slot {
  uint64_t t_ns;
  uint64_t seq;
  uint32_t peer;
} sim_timer_slot;

/* Events taken out of the heap ahead of time, in order, so the owner can
 * prefetch what they will touch (sim_engine_peek_ahead). */
#define SIM_AHEAD_MAX 4

typedef struct sim_engine {
  uint64_t now_ns;
  uint64_t seq_next;
  uint64_t events_processed;
  sim_event *ev;        /* 4-ary heap; each node's four children share 128 bytes */
  void *ev_mem;         /* ev's allocation (ev is offset within it) */
  uint64_t nev, ev_cap;
  sim_event ahead[SIM_AHEAD_MAX]; /* the next events, earliest first: ring */
  uint32_t ahead_head, nahead;
  sim_timer_slot *tm;   /* binary heap of armed peer timers */
  uint32_t *tm_pos;     /* peer -> position in tm, UINT32_MAX if unarmed */
  uint32_t ntm, peers_max;
} sim_engine;

/* Returns 0 or -1 (out of memory). */
int sim_engine_init(sim_engine *e, uint32_t peers_max);
void sim_engine_free(sim_engine *e);

/* Queues an event at t_ns (>= now). Returns 0 or -1 (out of memory). */
int sim_engine_schedule(sim_engine *e, uint64_t t_ns, uint32_t kind, uint32_t arg,
                        void *ptr);

/* Arms peer's timer for t_ns, replacing any earlier setting;
 * SIM_TIME_NEVER disarms it. */
void sim_engine_set_timer(sim_engine *e, uint32_t peer, uint64_t t_ns);

/* The time peer's timer is armed for, or SIM_TIME_NEVER. */
uint64_t sim_engine_timer(const sim_engine *e, uint32_t peer);

/* Pops the earliest event (a timer pops as SIM_EV_TIMER and is disarmed) into
 * out and advances the clock. False when nothing is left. */
bool sim_engine_next(sim_engine *e, sim_event *out);

/*
 * The k-th (0-based, k < SIM_AHEAD_MAX) earliest queued event, not counting
 * timers, or NULL: a hint for prefetching. The events between now and then
 * may still change (a timer may fire first, an event may be scheduled in
 * between), but the order sim_engine_next() pops in never does. Not const:
 * it moves events from the heap to a small ordered buffer.
 */
const sim_event *sim_engine_peek_ahead(sim_engine *e, unsigned k);

/* The earliest queued event (not timer), or NULL; see sim_engine_peek_ahead. */
static inline const sim_event *sim_engine_peek(sim_engine *e) {
  return sim_engine_peek_ahead(e, 0);
}

/* The time of the earliest armed timer and its peer (SIM_TIME_NEVER if none). */
static inline uint64_t sim_engine_timer_head(const sim_engine *e, uint32_t *peer) {
  if (e->ntm == 0) return SIM_TIME_NEVER;
  *peer = e->tm[0].peer;
  return e->tm[0].t_ns;
}

/* Events and armed timers currently queued. */
static inline uint64_t sim_engine_pending(const sim_engine *e) {
  return e->nev + e->nahead + e->ntm;
}

#endif
