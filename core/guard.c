/* guard.c — per-neighbour limits (see guard.h). */
#include "guard.h"

#include "err.h"

#define S_NS 1000000000ull
/* A request's cost on the sender's clock (the generic cell rate algorithm,
 * ITU-T I.371: a token bucket kept as one time). */
#define REQ_COST_NS (S_NS / SC_GUARD_REQ_PER_S)

typedef struct guard_slot {
  uint32_t ip;
  uint16_t port;
  bool used;
  uint64_t heard_ns;        /* last datagram counted here, for eviction */
  uint64_t req_clock_ns;    /* requests: ahead of now by the burst used */
  uint64_t strike_clock_ns; /* strikes: ahead of now by the score, in s */
  uint64_t ignored_until_ns;
} guard_slot;

struct sc_guard {
  const sc_alloc *alloc;
  sc_guard_stats st;
  guard_slot slot[SC_GUARD_SLOTS];
};

_Static_assert((SC_GUARD_SLOTS & (SC_GUARD_SLOTS - 1)) == 0,
               "SC_GUARD_SLOTS: a power of two");
_Static_assert(SC_GUARD_PROBE <= SC_GUARD_SLOTS, "probes within the table");

int sc_guard_new(sc_guard **out, const sc_alloc *alloc) {
  if (out == NULL) return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_guard *g = alloc->calloc(1, sizeof *g, alloc->user);
  if (g == NULL) return SC_ERR_NOMEM;
  g->alloc = alloc;
  *out = g;
  return SC_OK;
}

void sc_guard_del(sc_guard *g) {
  if (g) g->alloc->free(g, g->alloc->user);
}

static uint32_t home_of(uint32_t ip, uint16_t port) {
  /* A multiplicative hash (Knuth's golden ratio) of the 48-bit key. */
  uint64_t k = ((uint64_t)ip << 16 | port) * 0x9E3779B97F4A7C15ull;
  return (uint32_t)(k >> 32) & (SC_GUARD_SLOTS - 1);
}

/* The sender's slot, or NULL when it has none. */
static guard_slot *find(sc_guard *g, uint32_t ip, uint16_t port) {
  uint32_t h = home_of(ip, port);
  for (uint32_t k = 0; k < SC_GUARD_PROBE; k++) {
    guard_slot *s = &g->slot[(h + k) & (SC_GUARD_SLOTS - 1)];
    if (s->used && s->ip == ip && s->port == port) return s;
  }
  return NULL;
}

static bool ignored(const guard_slot *s, uint64_t now) {
  return s->ignored_until_ns > now;
}

/* Whether slot a is a better victim than b: one not ignored first, then the
 * one heard from longest ago. */
static bool rather_evict(const guard_slot *a, const guard_slot *b, uint64_t now) {
  if (ignored(a, now) != ignored(b, now)) return !ignored(a, now);
  return a->heard_ns < b->heard_ns;
}

/* The sender's slot, made if needed: an empty probe, else (rather_evict)
 * one not ignored heard from longest ago. */
static guard_slot *take(sc_guard *g, uint32_t ip, uint16_t port, uint64_t now) {
  guard_slot *s = find(g, ip, port);
  if (s) return s;
  uint32_t h = home_of(ip, port);
  guard_slot *room = NULL;
  for (uint32_t k = 0; k < SC_GUARD_PROBE; k++) {
    guard_slot *c = &g->slot[(h + k) & (SC_GUARD_SLOTS - 1)];
    if (!c->used) {
      room = c;
      break;
    }
    if (room == NULL || rather_evict(c, room, now)) room = c;
  }
  if (room->used) g->st.evicted++;
  *room = (guard_slot){.ip = ip, .port = port, .used = true, .heard_ns = now};
  return room;
}

sc_guard_verdict sc_guard_arrival(sc_guard *g, uint32_t ip, uint16_t port, uint64_t now) {
  guard_slot *s = find(g, ip, port);
  if (s == NULL || !ignored(s, now)) return SC_GUARD_PASS;
  s->heard_ns = now;
  g->st.ignored++;
  return SC_GUARD_IGNORED;
}

sc_guard_verdict sc_guard_request(sc_guard *g, uint32_t ip, uint16_t port, unsigned cost,
                                  uint64_t now) {
  if (cost == 0) cost = 1;
  if (cost > SC_GUARD_REQ_BURST) cost = SC_GUARD_REQ_BURST;
  guard_slot *s = take(g, ip, port, now);
  s->heard_ns = now;
  uint64_t clock = s->req_clock_ns > now ? s->req_clock_ns : now;
  if (clock - now > (uint64_t)(SC_GUARD_REQ_BURST - cost) * REQ_COST_NS) {
    g->st.limited++;
    return SC_GUARD_LIMITED;
  }
  s->req_clock_ns = clock + cost * REQ_COST_NS;
  return SC_GUARD_PASS;
}

void sc_guard_strike(sc_guard *g, uint32_t ip, uint16_t port, uint64_t now) {
  guard_slot *s = take(g, ip, port, now);
  s->heard_ns = now;
  g->st.strikes++;
  if (ignored(s, now)) return;
  uint64_t clock = (s->strike_clock_ns > now ? s->strike_clock_ns : now) + S_NS;
  s->strike_clock_ns = clock;
  if (clock - now >= SC_GUARD_STRIKES_MAX * S_NS) {
    s->ignored_until_ns = now + SC_GUARD_IGNORE_NS;
    s->strike_clock_ns = now;
    g->st.ignores++;
  }
}

void sc_guard_get_stats(const sc_guard *g, sc_guard_stats *out) {
  *out = g->st;
}
