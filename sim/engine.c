/* engine.c — discrete-event engine (see engine.h). */
#include "engine.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define TM_NONE UINT32_MAX

#define WHEEL_MASK (SIM_WHEEL_BUCKETS - 1)
#define OV_CAP0    64
_Static_assert((SIM_WHEEL_BUCKETS & WHEEL_MASK) == 0, "a power of two");

int sim_engine_init(sim_engine *e, uint32_t peers_max) {
  memset(e, 0, sizeof(*e));
  e->peers_max = peers_max;
  e->wheel = calloc(SIM_WHEEL_BUCKETS, sizeof(*e->wheel));
  e->ov_cap = OV_CAP0;
  e->ov = malloc(e->ov_cap * sizeof(*e->ov));
  e->tm = sim_huge_calloc(peers_max ? peers_max : 1, sizeof(*e->tm));
  e->tm_pos = sim_huge_calloc(peers_max ? peers_max : 1, sizeof(*e->tm_pos));
  if (!e->wheel || !e->ov || !e->tm || !e->tm_pos) {
    sim_engine_free(e);
    return -1;
  }
  for (uint32_t i = 0; i < peers_max; i++)
    e->tm_pos[i] = TM_NONE;
  return 0;
}

void sim_engine_free(sim_engine *e) {
  if (e->wheel)
    for (unsigned i = 0; i < SIM_WHEEL_BUCKETS; i++)
      free(e->wheel[i].ev);
  free(e->wheel);
  free(e->sort_tmp);
  free(e->ov);
  free(e->tm);
  free(e->tm_pos);
  e->wheel = NULL;
  e->sort_tmp = NULL;
  e->ov = NULL;
  e->tm = NULL;
  e->tm_pos = NULL;
}

static inline bool ev_less(const sim_event *a, const sim_event *b) {
  return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->seq < b->seq);
}

/* ---- the overflow heap (4-ary, events beyond the wheel's horizon) ---- */

static int ov_push(sim_engine *e, const sim_event *x) {
  if (e->nov == e->ov_cap) {
    sim_event *n = realloc(e->ov, 2 * e->ov_cap * sizeof(*n));
    if (n == NULL) return -1;
    e->ov = n;
    e->ov_cap *= 2;
  }
  uint64_t i = e->nov++;
  while (i > 0) { /* sift up */
    uint64_t parent = (i - 1) / 4;
    if (!ev_less(x, &e->ov[parent])) break;
    e->ov[i] = e->ov[parent];
    i = parent;
  }
  e->ov[i] = *x;
  return 0;
}

static void ov_pop(sim_engine *e) {
  sim_event x = e->ov[--e->nov];
  uint64_t n = e->nov, i = 0;
  for (;;) { /* sift down */
    uint64_t c = 4 * i + 1;
    if (c >= n) break;
    uint64_t best = c, end = c + 4 < n ? c + 4 : n;
    for (uint64_t k = c + 1; k < end; k++)
      if (ev_less(&e->ov[k], &e->ov[best])) best = k;
    if (!ev_less(&e->ov[best], &x)) break;
    e->ov[i] = e->ov[best];
    i = best;
  }
  if (n > 0) e->ov[i] = x;
}

/* ---- the wheel ---- */

/* Bucket arrays start on a cache line, so no event straddles two. */
static int bucket_reserve(sim_bucket *b, uint32_t n) {
  if (n <= b->cap) return 0;
  uint32_t ncap = b->cap ? b->cap : 16;
  while (ncap < n)
    ncap *= 2;
  sim_event *ev = aligned_alloc(64, (size_t)ncap * sizeof(*ev));
  if (ev == NULL) return -1;
  if (b->n) memcpy(ev, b->ev, (size_t)b->n * sizeof(*ev));
  free(b->ev);
  b->ev = ev;
  b->cap = ncap;
  return 0;
}

/* A used-up bucket keeps its array for the next turn of the wheel, but not
 * one far larger than this turn needed: otherwise every bucket keeps the
 * largest burst it ever held, and the sum of those peaks is about ten times
 * the events ever pending at once (10^5 peers, forest: 112 MB of arrays for
 * ~10 MB of events). Arrays up to BUCKET_KEEP events always stay. */
#define BUCKET_KEEP 256
static void bucket_trim(sim_bucket *b) {
  if (b->cap <= BUCKET_KEEP || b->cap / 4 <= b->n) return;
  uint32_t need = 2 * b->n;
  free(b->ev);
  b->ev = NULL;
  b->cap = 0;
  b->n = 0;
  (void)bucket_reserve(b, need > BUCKET_KEEP ? need : BUCKET_KEEP); /* else later */
}

/* Insertion sort on (time, seq): one comparison per event for a run already
 * in order. */
static void ev_insertion_sort(sim_event *a, uint32_t n) {
  for (uint32_t i = 1; i < n; i++) {
    if (!ev_less(&a[i], &a[i - 1])) continue;
    sim_event x = a[i];
    uint32_t j = i;
    do {
      a[j] = a[j - 1];
      j--;
    } while (j > 0 && ev_less(&x, &a[j - 1]));
    a[j] = x;
  }
}

/*
 * Sorts a bucket by (time, seq). A small one by insertion; a larger one by an
 * LSD radix sort on the time within the bucket (stable passes of RADIX_BITS),
 * then an insertion pass on (time, seq), which costs one comparison per event
 * when the radix order already has ties in sequence order (events are
 * appended in sequence order) and is the correctness guarantee when not.
 */
#define RADIX_BITS 7
#define RADIX_MIN  48 /* below this, insertion sort is cheaper */
static int bucket_sort(sim_engine *e, sim_bucket *b, uint64_t base_ns) {
  uint32_t n = b->n;
  if (n < RADIX_MIN) {
    ev_insertion_sort(b->ev, n);
    return 0;
  }
  if (n > e->sort_tmp_cap) {
    uint32_t ncap = e->sort_tmp_cap ? e->sort_tmp_cap : 256;
    while (ncap < n)
      ncap *= 2;
    free(e->sort_tmp);
    e->sort_tmp = aligned_alloc(64, (size_t)ncap * sizeof(sim_event));
    e->sort_tmp_cap = e->sort_tmp ? ncap : 0;
    if (e->sort_tmp == NULL) return -1;
  }
  const uint32_t mask = (1u << RADIX_BITS) - 1;
  sim_event *src = b->ev, *dst = e->sort_tmp;
  for (unsigned shift = 0; shift < SIM_BUCKET_SHIFT; shift += RADIX_BITS) {
    uint32_t count[1u << RADIX_BITS] = {0};
    for (uint32_t i = 0; i < n; i++)
      count[((src[i].t_ns - base_ns) >> shift) & mask]++;
    uint32_t sum = 0;
    for (unsigned d = 0; d <= mask; d++) {
      uint32_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (uint32_t i = 0; i < n; i++)
      dst[count[((src[i].t_ns - base_ns) >> shift) & mask]++] = src[i];
    sim_event *t = src;
    src = dst;
    dst = t;
  }
  if (src != b->ev) { /* an odd number of passes: trade buffers */
    e->sort_tmp = b->ev;
    uint32_t c = e->sort_tmp_cap;
    e->sort_tmp_cap = b->cap;
    b->ev = src;
    b->cap = c;
  }
  ev_insertion_sort(b->ev, n);
  return 0;
}

/* Puts x into the unread, sorted part of the bucket being consumed. */
static int cur_insert(sim_engine *e, const sim_event *x) {
  sim_bucket *b = &e->wheel[e->cur_slot & WHEEL_MASK];
  if (e->rd > 0 && (e->rd == b->n || !ev_less(&b->ev[e->rd], x))) {
    /* Nothing unread precedes x, and the slot before it is free (already
     * read): the usual case, an event for now. */
    b->ev[--e->rd] = *x;
    return 0;
  }
  if (bucket_reserve(b, b->n + 1) != 0) return -1;
  uint32_t lo = e->rd, hi = b->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ev_less(&b->ev[mid], x))
      lo = mid + 1;
    else
      hi = mid;
  }
  memmove(&b->ev[lo + 1], &b->ev[lo], (size_t)(b->n - lo) * sizeof(*x));
  b->ev[lo] = *x;
  b->n++;
  return 0;
}

static int wheel_put(sim_engine *e, const sim_event *x) {
  uint64_t slot = x->t_ns >> SIM_BUCKET_SHIFT;
  if (slot >= e->cur_slot + SIM_WHEEL_BUCKETS) return ov_push(e, x);
  int rv;
  if (slot <= e->cur_slot) {
    rv = cur_insert(e, x);
  } else {
    sim_bucket *b = &e->wheel[slot & WHEEL_MASK];
    rv = bucket_reserve(b, b->n + 1);
    if (rv == 0) {
      b->ev[b->n++] = *x;
      /* The bucket's next line, untouched for a turn of the wheel, is needed
       * by a later append: fetch it now rather than stall then. */
      if (b->n + 2 <= b->cap) __builtin_prefetch(&b->ev[b->n + 1], 1);
    }
  }
  if (rv == 0) e->nwheel++;
  return rv;
}

int sim_engine_schedule(sim_engine *e, uint64_t t_ns, uint32_t kind, uint32_t arg,
                        void *ptr) {
  assert(t_ns >= e->now_ns);
  sim_event x = {t_ns, e->seq_next++, kind, arg, ptr};
  return wheel_put(e, &x);
}

/*
 * Makes the bucket being consumed hold the earliest event, moving on (and
 * sorting the bucket reached) while it is used up. Events from the overflow
 * heap join their buckets as the horizon passes them. Never moves past a
 * bucket that starts after tm_ns (the earliest timer), so every event
 * scheduled later lands in the current bucket or after it. False when the
 * earliest event is not in the current bucket; -1 in *err when out of memory.
 */
static bool wheel_advance(sim_engine *e, uint64_t tm_ns, int *err) {
  sim_bucket *b = &e->wheel[e->cur_slot & WHEEL_MASK];
  while (e->rd == b->n) {
    if (e->nwheel == 0 && e->nov == 0) return false;
    /* An empty wheel: jump to the next overflow event. */
    uint64_t next = e->nwheel == 0 ? e->ov[0].t_ns >> SIM_BUCKET_SHIFT : e->cur_slot + 1;
    if ((tm_ns >> SIM_BUCKET_SHIFT) < next) return false; /* a timer comes first */
    bucket_trim(b);
    b->n = 0;
    e->rd = 0;
    e->cur_slot = next;
    while (e->nov > 0 &&
           (e->ov[0].t_ns >> SIM_BUCKET_SHIFT) < e->cur_slot + SIM_WHEEL_BUCKETS) {
      sim_event x = e->ov[0];
      ov_pop(e);
      if (wheel_put(e, &x) != 0) {
        *err = -1;
        return false;
      }
    }
    b = &e->wheel[e->cur_slot & WHEEL_MASK];
    if (bucket_sort(e, b, e->cur_slot << SIM_BUCKET_SHIFT) != 0) {
      *err = -1;
      return false;
    }
  }
  return true;
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

uint64_t sim_engine_next_time(sim_engine *e) {
  int err = 0;
  uint64_t t = e->ntm > 0 ? e->tm[0].t_ns : SIM_TIME_NEVER;
  if (wheel_advance(e, t, &err)) {
    uint64_t h = e->wheel[e->cur_slot & WHEEL_MASK].ev[e->rd].t_ns;
    if (h < t) t = h;
  }
  if (err) {
    e->failed = true;
    return SIM_TIME_NEVER;
  }
  return t;
}

bool sim_engine_next(sim_engine *e, sim_event *out) {
  return sim_engine_next_before(e, SIM_TIME_NEVER, out);
}

bool sim_engine_next_before(sim_engine *e, uint64_t until_ns, sim_event *out) {
  int err = 0;
  const sim_event *head = NULL;
  uint64_t tm_ns = e->ntm > 0 ? e->tm[0].t_ns : SIM_TIME_NEVER;
  if (wheel_advance(e, tm_ns, &err)) head = &e->wheel[e->cur_slot & WHEEL_MASK].ev[e->rd];
  if (err) {
    e->failed = true;
    return false;
  }
  bool have_tm = e->ntm > 0;
  if (!head && !have_tm) return false;
  bool take_tm = have_tm && (!head || e->tm[0].t_ns < head->t_ns ||
                             (e->tm[0].t_ns == head->t_ns && e->tm[0].seq < head->seq));
  if ((take_tm ? e->tm[0].t_ns : head->t_ns) > until_ns) return false;
  if (take_tm) {
    sim_timer_slot s = e->tm[0];
    tm_remove_at(e, 0);
    out->t_ns = s.t_ns;
    out->seq = s.seq;
    out->kind = SIM_EV_TIMER;
    out->arg = s.peer;
    out->ptr = NULL;
  } else {
    *out = *head;
    e->rd++;
    e->nwheel--;
  }
  e->now_ns = out->t_ns;
  e->events_processed++;
  return true;
}
