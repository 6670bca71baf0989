/*
 * engine.h — the simulator's discrete-event engine.
 *
 * Two queues feed one clock. Events (messages in flight, scenario steps) sit
 * in a calendar queue (Brown 1988): a wheel of SIM_WHEEL_BUCKETS buckets of
 * 2^SIM_BUCKET_SHIFT ns each, where scheduling appends to a bucket and a
 * bucket is sorted once when the clock reaches it; events beyond the wheel's
 * horizon (about a second) wait in a 4-ary heap until it comes near. A heap
 * of every message in flight would cost a chain of cache misses per pop at a
 * million peers; a bucket being consumed is a short sorted array read in
 * order, so it also tells the owner which events come next
 * (sim_engine_peek_ahead). Each peer's single timer (its core's expiry,
 * docs/ARCHITECTURE.md §2) sits in an indexed binary heap with one slot per peer, so a
 * million peers cost a million timer slots, not one per protocol timer.
 * Ties break by a global insertion sequence, so one seed gives one history.
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TIME_NEVER UINT64_MAX
#define SIM_NS_PER_S   1000000000ull /* the clock counts nanoseconds */

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

/* Bucket width: 2^19 ns = 0.52 ms, below the smallest network latency, so a
 * message never lands in the bucket being consumed (the rare event that does
 * is inserted in order). */
#define SIM_BUCKET_SHIFT  19
#define SIM_WHEEL_BUCKETS 2048 /* horizon 2048 x 0.52 ms = 1.07 s */

typedef struct sim_bucket {
  sim_event *ev;
  uint32_t n, cap;
} sim_bucket;

typedef struct sim_engine {
  uint64_t now_ns;
  uint64_t seq_next;
  uint64_t events_processed;
  sim_bucket *wheel;   /* SIM_WHEEL_BUCKETS buckets */
  uint64_t cur_slot;   /* the bucket being consumed: times >> SIM_BUCKET_SHIFT */
  uint32_t rd;         /* next unread event in it; [rd, n) is sorted */
  uint64_t nwheel;     /* unread events on the wheel */
  sim_event *sort_tmp; /* radix-sort scratch */
  uint32_t sort_tmp_cap;
  sim_event *ov; /* 4-ary heap of events beyond the horizon */
  uint64_t nov, ov_cap;
  sim_timer_slot *tm; /* binary heap of armed peer timers */
  uint32_t *tm_pos;   /* peer -> position in tm, UINT32_MAX if unarmed */
  uint32_t ntm, peers_max;
  bool failed; /* out of memory in sim_engine_next (which then returned false) */
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
 * out and advances the clock. False when nothing is left, or when out of
 * memory (then e->failed is set). */
bool sim_engine_next(sim_engine *e, sim_event *out);
/* The same, but false (taking nothing) when the next event is after until_ns:
 * one look at the queues where sim_engine_next_time and sim_engine_next
 * take two. */
bool sim_engine_next_before(sim_engine *e, uint64_t until_ns, sim_event *out);

/* The time of the earliest queued event or armed timer (SIM_TIME_NEVER when
 * nothing is queued, or when out of memory: then e->failed is set). May move
 * the calendar on to the bucket holding it, which changes nothing that the
 * caller can observe except what sim_engine_peek_ahead can see. */
uint64_t sim_engine_next_time(sim_engine *e);

/*
 * The k-th (0-based) earliest queued event, not counting timers, if it is in
 * the bucket being consumed, else NULL: a hint for prefetching. The events
 * between now and then may still change (a timer may fire first, an event may
 * be scheduled in between).
 */
static inline const sim_event *sim_engine_peek_ahead(const sim_engine *e, unsigned k) {
  const sim_bucket *b = &e->wheel[e->cur_slot % SIM_WHEEL_BUCKETS];
  return e->rd + k < b->n ? &b->ev[e->rd + k] : NULL;
}

/* The earliest queued event (not timer), or NULL; see sim_engine_peek_ahead. */
static inline const sim_event *sim_engine_peek(const sim_engine *e) {
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
  return e->nwheel + e->nov + e->ntm;
}

#endif
