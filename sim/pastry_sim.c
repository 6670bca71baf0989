/* pastry_sim.c — the Pastry experiment (see pastry_sim.h). */
#include "sim/pastry_sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/pastry.h"
#include "core/rng.h"
#include "core/wire.h"
#include "sim/arena.h"
#include "sim/engine.h"
#include "sim/json.h"
#include "sim/packet.h"
#include "sim/stats.h"

#define NS_PER_S 1000000000ull
#define BOOTSTRAP_SAMPLES 64 /* joined peers sampled to find a nearby bootstrap */
#define BOOTSTRAP_LOCAL 16   /* peers on the newcomer's own router considered */
#define BOOTSTRAP_BATCH 8    /* samples drawn and prefetched together */
#define DRAIN_NS (30ull * NS_PER_S)
#define SIM_ADDR_BYTES 6 /* an IPv4 address and port on the wire */

enum {
  EV_MSG = SIM_EV_USER,
  EV_JOIN,
  EV_SETTLED,
  EV_REPAIRED,
  EV_LOOKUP,
  EV_END,
};

struct pastry_sim;

typedef struct sim_peer {
  sc_pastry *p;
  struct pastry_sim *sim;
  uint64_t timer_ns; /* what the engine holds for this peer: saves a heap probe */
  uint32_t index;
  bool alive;
  bool joined; /* sc_pastry_is_joined(p), kept by peer_rearm: one line to read */
} sim_peer;

typedef struct lookup_rec {
  uint64_t t0_ns;
  uint64_t latency_ns;
  uint32_t origin, owner, delivered_to;
  uint16_t hops;
  uint8_t done;
} lookup_rec;

typedef struct id_index {
  sc_id id;
  uint32_t index;
} id_index;

typedef struct pastry_sim {
  const sim_pastry_params *prm;
  sim_pastry_result *res;
  FILE *log;
  sim_engine eng;
  sim_net *net;
  sc_rng rng;
  sim_packet_pool pool;
  sim_peer *peers;
  sc_id *ids;
  uint32_t joined_count; /* peers whose join has started */
  uint64_t join_gap_mean_ns;
  id_index *oracle;
  uint32_t oracle_n;
  lookup_rec *lookups;
  uint32_t *router_first;  /* transit-stub: peers by router (CSR), join order */
  uint32_t *router_peers;
  uint64_t lookups_issued;
  uint64_t lookup_gap_ns;
  sc_pastry_config cfg;
  sc_pastry_callbacks cb;
  sim_arena *arena;         /* peer state on huge pages; NULL: libc */
  const sc_alloc *peer_alloc;
  int failed;
  double wall_start, wall_last_progress;
} pastry_sim;

/* ------------------------------------------------------------- callbacks */

static uint64_t digest_mix(uint64_t h, uint64_t x) { return sc_mix64(h ^ x); }

static void sim_enqueue(pastry_sim *s, uint32_t from, uint32_t to, const sc_msg *m) {
  sim_packet *pk = sim_packet_new(&s->pool, to, m);
  if (!pk) {
    s->failed = 1;
    return;
  }
  uint64_t lat = sim_net_latency_ns(s->net, from, to);
  if (sim_engine_schedule(&s->eng, s->eng.now_ns + lat, EV_MSG, to, pk) != 0) s->failed = 1;
}

static void cb_send(void *user, sc_addr to, const sc_msg *m) {
  sim_peer *sp = user;
  pastry_sim *s = sp->sim;
  sim_pastry_result *r = s->res;
  r->messages++;
  if (m->type < SC_MSG_TYPE_END) r->messages_by_type[m->type]++;
  r->bytes += sc_wire_size(m, SIM_ADDR_BYTES);
  if (to >= s->prm->peers) {
    r->wire_errors++;
    return;
  }
  if (s->prm->loss > 0 && sc_rng_unit(&s->rng) < s->prm->loss) {
    r->messages_lost++;
    return;
  }
  if (s->prm->wire_check) {
    /* Prove the two paths agree: the struct that arrives is the one the real
     * codec decodes, and the size charged is the size it encodes. */
    uint8_t buf[SC_WIRE_DATAGRAM_MAX];
    sc_msg decoded;
    const sc_wire_addr_map *map = sc_wire_addr_map_index6();
    int n = sc_wire_encode(m, map, buf, sizeof(buf));
    if (n < 0 || (size_t)n != sc_wire_size(m, SIM_ADDR_BYTES) ||
        sc_wire_decode(buf, (size_t)n, map, &decoded) != 0) {
      r->wire_errors++;
      return;
    }
    sim_enqueue(s, sp->index, to, &decoded);
    return;
  }
  sim_enqueue(s, sp->index, to, m);
}

static void cb_deliver(void *user, const sc_msg *m, uint64_t now) {
  sim_peer *sp = user;
  pastry_sim *s = sp->sim;
  const sc_msg_route *rt = &m->u.route;
  if (rt->kind != SC_ROUTE_LOOKUP || rt->app_id >= s->lookups_issued) return;
  lookup_rec *l = &s->lookups[rt->app_id];
  if (l->done) return; /* a duplicate after a retry */
  l->done = 1;
  l->delivered_to = sp->index;
  l->hops = rt->hops;
  l->latency_ns = now - l->t0_ns;
}

/* The oracle knows who is really alive: count wrong death verdicts. */
static void cb_peer_failed(void *user, const sc_ref *dead, uint64_t now) {
  (void)now;
  sim_peer *sp = user;
  pastry_sim *s = sp->sim;
  if (dead->addr < s->prm->peers && s->peers[dead->addr].alive) s->res->false_deaths++;
}

/* ------------------------------------------------------------------ peers */

static void peer_rearm(pastry_sim *s, uint32_t i) {
  s->peers[i].joined = sc_pastry_is_joined(s->peers[i].p);
  uint64_t t = sc_pastry_get_expiry(s->peers[i].p);
  if (t == s->peers[i].timer_ns) return;
  s->peers[i].timer_ns = t;
  sim_engine_set_timer(&s->eng, i, t);
}

static int peer_create(pastry_sim *s, uint32_t i) {
  sim_peer *sp = &s->peers[i];
  sp->sim = s;
  sp->index = i;
  s->ids[i] = sim_peer_id(s->prm->seed, i);
  sc_ref self = {s->ids[i], i};
  int rv = sc_pastry_new(&sp->p, &self, sc_mix64(s->prm->seed * 31 + i), &s->cfg, &s->cb,
                         s->peer_alloc, sp, s->eng.now_ns);
  if (rv != 0) return rv;
  sp->alive = true;
  sp->timer_ns = SIM_TIME_NEVER;
  return 0;
}

/*
 * A nearby joined peer to join through. Pastry §2.4 assumes the newcomer knows
 * one (found by expanding-ring search, or given by an administrator). On the
 * transit-stub model we take the nearest of the peers already attached to the
 * newcomer's own router, as a LAN-scoped discovery would; otherwise, or when
 * there are none, the nearest of BOOTSTRAP_SAMPLES sampled joined peers.
 */
static sc_addr pick_bootstrap(pastry_sim *s, uint32_t i) {
  sc_addr best = SC_ADDR_NONE;
  uint64_t best_lat = UINT64_MAX;
  unsigned found = 0;
  if (s->router_first) {
    uint32_t r = sim_net_router(s->net, i);
    for (uint32_t k = s->router_first[r]; k < s->router_first[r + 1] && found < BOOTSTRAP_LOCAL;
         k++) {
      uint32_t j = s->router_peers[k];
      if (j >= i) break; /* later arrivals have not joined yet */
      if (!s->peers[j].alive || !s->peers[j].joined) continue;
      found++;
      uint64_t lat = sim_net_latency_ns(s->net, i, j);
      if (lat < best_lat) best_lat = lat, best = j;
    }
    if (best != SC_ADDR_NONE) return best;
  }
  /* Draw the samples a batch at a time and prefetch each batch: a million
   * peers' records and placements are cache misses, taken side by side. */
  for (unsigned tries = 0; tries < 8 * BOOTSTRAP_SAMPLES && found < BOOTSTRAP_SAMPLES;) {
    uint32_t batch[BOOTSTRAP_BATCH];
    for (unsigned k = 0; k < BOOTSTRAP_BATCH; k++) {
      batch[k] = sc_rng_below(&s->rng, i);
      __builtin_prefetch(&s->peers[batch[k]]);
      sim_net_prefetch(s->net, batch[k]);
    }
    for (unsigned k = 0; k < BOOTSTRAP_BATCH && found < BOOTSTRAP_SAMPLES; k++, tries++) {
      uint32_t j = batch[k];
      if (!s->peers[j].alive || !s->peers[j].joined) continue;
      found++;
      uint64_t lat = sim_net_latency_ns(s->net, i, j);
      if (lat < best_lat) best_lat = lat, best = j;
    }
  }
  if (best == SC_ADDR_NONE) /* nobody sampled has finished joining yet */
    for (uint32_t j = 0; j < i && best == SC_ADDR_NONE; j++)
      if (s->peers[j].alive && s->peers[j].joined) best = j;
  return best;
}

static uint64_t exp_gap_ns(pastry_sim *s, uint64_t mean_ns) {
  double u = sc_rng_unit(&s->rng);
  return (uint64_t)(-log(1.0 - u) * (double)mean_ns) + 1;
}

/* ----------------------------------------------------------------- oracle */

static int cmp_id_index(const void *a, const void *b) {
  return sc_id_cmp(&((const id_index *)a)->id, &((const id_index *)b)->id);
}

static int oracle_build(pastry_sim *s) {
  s->oracle_n = 0;
  for (uint32_t i = 0; i < s->prm->peers; i++)
    if (s->peers[i].alive) s->oracle[s->oracle_n++] = (id_index){s->ids[i], i};
  qsort(s->oracle, s->oracle_n, sizeof(id_index), cmp_id_index);
  return 0;
}

/* The live peer that owns key: the numerically closest, ties to the smaller. */
static uint32_t oracle_owner(const pastry_sim *s, const sc_id *key) {
  uint32_t lo = 0, hi = s->oracle_n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (sc_id_cmp(&s->oracle[mid].id, key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  const id_index *succ = &s->oracle[lo % s->oracle_n];
  const id_index *pred = &s->oracle[(lo + s->oracle_n - 1) % s->oracle_n];
  return sc_id_closer(key, &pred->id, &succ->id) ? pred->index : succ->index;
}

/* Peers whose leaf set is not exactly their l/2 live neighbours each side. */
static uint32_t oracle_leafset_errors(const pastry_sim *s) {
  uint32_t errors = 0, n = s->oracle_n;
  unsigned half = s->cfg.leafset_size / 2;
  unsigned want = n - 1 < half ? n - 1 : half;
  for (uint32_t k = 0; k < n; k++) {
    sc_ref got[SC_LEAFSET_MAX];
    unsigned nleft = 0;
    unsigned cnt = sc_pastry_leafset(s->peers[s->oracle[k].index].p, got, SC_LEAFSET_MAX,
                                     &nleft);
    bool ok = nleft == want && cnt == 2 * want;
    for (unsigned j = 0; ok && j < want; j++) {
      const id_index *l = &s->oracle[(k + n - 1 - j) % n];
      const id_index *r = &s->oracle[(k + 1 + j) % n];
      ok = sc_id_eq(&got[j].id, &l->id) && sc_id_eq(&got[nleft + j].id, &r->id);
    }
    if (!ok) errors++;
  }
  return errors;
}

/* --------------------------------------------------------------- scenario */

static void start_lookups(pastry_sim *s) {
  s->res->lookup_start_s = (double)s->eng.now_ns / 1e9;
  oracle_build(s);
  s->res->leafset_errors_final = oracle_leafset_errors(s);
  if (s->prm->lookups == 0) {
    sim_engine_schedule(&s->eng, s->eng.now_ns + NS_PER_S, EV_END, 0, NULL);
    return;
  }
  sim_engine_schedule(&s->eng, s->eng.now_ns, EV_LOOKUP, 0, NULL);
}

static void crash_peers(pastry_sim *s) {
  uint32_t n = s->oracle_n;
  uint32_t kill = (uint32_t)floor(s->prm->fail_fraction * n);
  uint32_t *live = malloc((size_t)n * sizeof(uint32_t));
  if (!live) {
    s->failed = 1;
    return;
  }
  for (uint32_t k = 0; k < n; k++) live[k] = s->oracle[k].index;
  for (uint32_t k = 0; k < kill; k++) { /* partial Fisher-Yates */
    uint32_t j = k + sc_rng_below(&s->rng, n - k);
    uint32_t t = live[k];
    live[k] = live[j];
    live[j] = t;
    sim_peer *sp = &s->peers[live[k]];
    sp->alive = false;
    sc_pastry_del(sp->p);
    sp->p = NULL;
    sim_engine_set_timer(&s->eng, live[k], SIM_TIME_NEVER);
  }
  s->res->peers_crashed = kill;
  free(live);
}

static void handle_control(pastry_sim *s, const sim_event *ev) {
  const sim_pastry_params *prm = s->prm;
  uint64_t now = s->eng.now_ns;
  switch (ev->kind) {
  case EV_JOIN: {
    uint32_t i = s->joined_count++;
    if (peer_create(s, i) != 0) {
      s->failed = 1;
      return;
    }
    sc_addr boot = i == 0 ? SC_ADDR_NONE : pick_bootstrap(s, i);
    sc_pastry_join(s->peers[i].p, boot, now);
    peer_rearm(s, i);
    if (s->joined_count < prm->peers)
      sim_engine_schedule(&s->eng, now + exp_gap_ns(s, s->join_gap_mean_ns), EV_JOIN, 0,
                          NULL);
    else {
      s->res->join_end_s = (double)now / 1e9;
      sim_engine_schedule(&s->eng, now + (uint64_t)(prm->settle_s * 1e9), EV_SETTLED, 0,
                          NULL);
    }
    break;
  }
  case EV_SETTLED:
    oracle_build(s);
    s->res->leafset_errors_settled = oracle_leafset_errors(s);
    if (prm->fail_fraction > 0) {
      crash_peers(s);
      oracle_build(s);
      sim_engine_schedule(&s->eng, now + (uint64_t)(prm->repair_s * 1e9), EV_REPAIRED, 0,
                          NULL);
    } else {
      start_lookups(s);
    }
    break;
  case EV_REPAIRED: start_lookups(s); break;
  case EV_LOOKUP: {
    uint64_t k = s->lookups_issued++;
    lookup_rec *l = &s->lookups[k];
    uint32_t origin;
    do origin = s->oracle[sc_rng_below(&s->rng, s->oracle_n)].index;
    while (!sc_pastry_is_joined(s->peers[origin].p) && s->oracle_n > 1 &&
           sc_rng_below(&s->rng, 64) != 0);
    sc_id key = {sc_rng_next(&s->rng), sc_rng_next(&s->rng)};
    l->t0_ns = now;
    l->origin = origin;
    l->owner = oracle_owner(s, &key);
    l->delivered_to = UINT32_MAX;
    sc_pastry_route(s->peers[origin].p, &key, SC_ROUTE_LOOKUP, k, now);
    peer_rearm(s, origin);
    if (s->lookups_issued < prm->lookups)
      sim_engine_schedule(&s->eng, now + s->lookup_gap_ns, EV_LOOKUP, 0, NULL);
    else
      sim_engine_schedule(&s->eng, now + DRAIN_NS, EV_END, 0, NULL);
    break;
  }
  default: break;
  }
}

static void progress_line(pastry_sim *s, bool final) {
  double now_wall = sim_wall_s();
  if (!final && now_wall - s->wall_last_progress < 1.0) return;
  s->wall_last_progress = now_wall;
  double el = now_wall - s->wall_start;
  double evs = el > 0 ? (double)s->eng.events_processed / el : 0;
  const char *phase = s->joined_count < s->prm->peers ? "join"
                      : s->lookups_issued == 0        ? "settle/repair"
                                                      : "lookups";
  double frac = s->joined_count < s->prm->peers
                    ? 0.8 * s->joined_count / (double)s->prm->peers
                    : 0.8 + 0.2 * (double)s->lookups_issued /
                                (double)(s->prm->lookups ? s->prm->lookups : 1);
  double eta = frac > 0.01 ? el * (1 - frac) / frac : NAN;
  fprintf(s->log,
          "\r[sim] t=%8.1fs  phase=%-13s  peers=%u/%u  lookups=%llu  events=%.1fM  "
          "%.2fM ev/s  ETA %4.0fs%s",
          (double)s->eng.now_ns / 1e9, phase, s->joined_count, s->prm->peers,
          (unsigned long long)s->lookups_issued, (double)s->eng.events_processed / 1e6,
          evs / 1e6, eta, final ? "\n" : "");
  fflush(s->log);
}

/*
 * At 10^5 peers and more the run is bound by cache misses: the popped packet,
 * the peer's state, the routing-table slot its sender maps to, the network
 * placements of both ends. Each depends on the one before (the packet names
 * the receiver, whose state points to its rows), so fetch them as a pipeline
 * over the next events in the bucket being consumed: stage 1 runs
 * PREFETCH_STAGE1 events ahead, stage 2 PREFETCH_STAGE2, stage 3 one event
 * ahead, so each stage reads lines the one before asked for a few events
 * earlier. Hints only: nothing here changes what happens.
 */
#ifndef PREFETCH_STAGE1
#define PREFETCH_STAGE1 7 /* 5/3, 7/4, 10/6 events: 4.52, 4.59, 4.32 M events/cpu-s */
#endif
#ifndef PREFETCH_STAGE2
#define PREFETCH_STAGE2 4 /* at 3*10^4 peers (3/2 before the engine's rework) */
#endif
#ifndef PREFETCH_STAGE3
#define PREFETCH_STAGE3 2
#endif

static void prefetch_ahead(pastry_sim *s) {
  const sim_event *a = sim_engine_peek_ahead(&s->eng, PREFETCH_STAGE1 - 1);
  if (a && a->kind == EV_MSG) {
    __builtin_prefetch(a->ptr);
    __builtin_prefetch(&s->peers[a->arg]);
  }
  const sim_event *b = sim_engine_peek_ahead(&s->eng, PREFETCH_STAGE2 - 1);
  if (b && b->kind == EV_MSG) {
    const sim_peer *sp = &s->peers[b->arg];
    const sim_packet *pk = b->ptr;
    if (sp->p) sc_pastry_prefetch(sp->p);
    /* The rest of a long packet (a leaf set or a row). */
    sim_packet_prefetch_rest(pk);
    sim_net_prefetch(s->net, b->arg);
    sim_net_prefetch(s->net, pk->msg.sender.addr);
  }
  const sim_event *c = sim_engine_peek_ahead(&s->eng, PREFETCH_STAGE3 - 1);
  if (c && c->kind == EV_MSG) {
    const sim_peer *sp = &s->peers[c->arg];
    const sim_packet *pk = c->ptr;
    if (sp->p) sc_pastry_prefetch_msg(sp->p, &pk->msg);
    sim_net_prefetch_pair(s->net, c->arg, pk->msg.sender.addr);
    /* The peers a LEAFSET or ROW names are often pinged next. */
    const sc_msg *m = &pk->msg;
    if (m->type == SC_MSG_LEAFSET)
      for (unsigned i = 0; i < m->u.leafset.n && i < SC_LEAFSET_MAX; i++)
        sim_net_prefetch(s->net, m->u.leafset.e[i].addr);
    else if (m->type == SC_MSG_ROW)
      for (unsigned i = 0; i < m->u.row.n && i < SC_ROW_ENTRIES; i++)
        sim_net_prefetch(s->net, m->u.row.e[i].addr);
  }
}

/* ---------------------------------------------------------------- results */

static void collect(pastry_sim *s) {
  sim_pastry_result *r = s->res;
  const sim_pastry_params *prm = s->prm;
  sim_samples hops, rdp, lat;
  sim_samples_init(&hops);
  sim_samples_init(&rdp);
  sim_samples_init(&lat);
  for (uint64_t k = 0; k < s->lookups_issued; k++) {
    const lookup_rec *l = &s->lookups[k];
    if (!l->done) continue;
    r->lookups_delivered++;
    if (l->delivered_to == l->owner) r->lookups_correct++;
    sim_samples_add(&hops, l->hops);
    r->hop_hist[l->hops < SIM_PASTRY_HOPS_MAX ? l->hops : SIM_PASTRY_HOPS_MAX]++;
    sim_samples_add(&lat, (double)l->latency_ns / 1e6);
    if (l->delivered_to != l->origin) {
      uint64_t direct = sim_net_latency_ns(s->net, l->origin, l->delivered_to);
      if (direct > 0) sim_samples_add(&rdp, (double)l->latency_ns / (double)direct);
    }
  }
  r->lookups = s->lookups_issued;
  r->correct_fraction = r->lookups ? (double)r->lookups_correct / (double)r->lookups : NAN;
  r->hops_mean = sim_samples_mean(&hops);
  r->hops_p50 = sim_samples_quantile(&hops, 0.5);
  r->hops_p99 = sim_samples_quantile(&hops, 0.99);
  r->hops_max = sim_samples_max(&hops);
  r->rdp_mean = sim_samples_mean(&rdp);
  r->rdp_p50 = sim_samples_quantile(&rdp, 0.5);
  r->rdp_p95 = sim_samples_quantile(&rdp, 0.95);
  r->lookup_latency_ms_mean = sim_samples_mean(&lat);
  sim_samples_free(&hops);
  sim_samples_free(&rdp);
  sim_samples_free(&lat);

  double rt_sum = 0, mem_sum = 0;
  r->peers_alive = 0;
  for (uint32_t i = 0; i < s->joined_count; i++) {
    if (!s->peers[i].alive) continue;
    r->peers_alive++;
    if (!sc_pastry_is_joined(s->peers[i].p)) r->peers_not_joined++;
    sc_pastry_stats st;
    sc_pastry_get_stats(s->peers[i].p, &st);
    rt_sum += st.rt_entries;
    mem_sum += (double)sc_pastry_mem_bytes(s->peers[i].p);
    r->peers_declared_dead += st.peers_declared_dead;
    r->reroutes += st.reroutes;
    r->routes_dropped += st.routes_dropped;
  }
  r->rt_entries_mean = r->peers_alive ? rt_sum / r->peers_alive : NAN;
  r->state_bytes_per_peer = r->peers_alive ? mem_sum / r->peers_alive : NAN;
  r->messages_per_peer = (double)r->messages / prm->peers;
  r->bytes_per_peer_sent = (double)r->bytes / prm->peers;
  r->sim_time_s = (double)s->eng.now_ns / 1e9;
  r->sim_events = s->eng.events_processed;
}

static int write_outputs(pastry_sim *s) {
  const char *dir = s->prm->out_dir;
  if (!dir) return 0;
  char path[4096];
  snprintf(path, sizeof(path), "%s/hops.csv", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(s->log, "stripecast-sim: cannot write %s: %s\n", path, strerror(errno));
    return -1;
  }
  unsigned last = 0;
  for (unsigned h = 0; h <= SIM_PASTRY_HOPS_MAX; h++)
    if (s->res->hop_hist[h]) last = h;
  fprintf(f, "hops,count,fraction\n");
  for (unsigned h = 0; h <= last; h++)
    fprintf(f, "%u,%llu,%.6f\n", h, (unsigned long long)s->res->hop_hist[h],
            s->res->lookups_delivered
                ? (double)s->res->hop_hist[h] / (double)s->res->lookups_delivered
                : 0.0);
  fclose(f);
  snprintf(path, sizeof(path), "%s/summary.json", dir);
  f = fopen(path, "w");
  if (!f) return -1;
  sim_pastry_result_json(s->prm, s->res, f, true);
  fclose(f);
  return 0;
}

/* -------------------------------------------------------------------- run */

void sim_pastry_params_default(sim_pastry_params *p) {
  memset(p, 0, sizeof(*p));
  p->peers = 1000;
  p->lookups = 1000;
  p->seed = 1;
  p->topology = SIM_NET_TRANSIT_STUB;
  p->settle_s = 60;
  p->repair_s = 120;
  p->pns = true;
  p->refine_per_row = 8;
}

static void sim_destroy(pastry_sim *s) {
  if (s->peers)
    for (uint32_t i = 0; i < s->prm->peers; i++) sc_pastry_del(s->peers[i].p);
  free(s->peers);
  free(s->ids);
  free(s->oracle);
  free(s->lookups);
  free(s->router_first);
  free(s->router_peers);
  sim_packet_pool_free(&s->pool);
  sim_engine_free(&s->eng);
  sim_arena_del(s->arena);
  sim_net_del(s->net);
}

int sim_pastry_run(const sim_pastry_params *prm, sim_pastry_result *r, FILE *log) {
  memset(r, 0, sizeof(*r));
  pastry_sim s;
  memset(&s, 0, sizeof(s));
  s.prm = prm;
  s.res = r;
  s.log = log ? log : stderr;
  r->peers = prm->peers;
  double wall0 = sim_wall_s();
  s.wall_start = s.wall_last_progress = wall0;

  sc_pastry_config_default(&s.cfg);
  s.cfg.pns = prm->pns;
  s.cfg.refine_per_row = prm->refine_per_row;
  s.cfg.rt_maintenance_ns = (uint64_t)(prm->rt_maintenance_s * 1e9);
  s.cb.send = cb_send;
  s.cb.deliver = cb_deliver;
  s.cb.peer_failed = cb_peer_failed;
  sc_rng_seed(&s.rng, prm->seed ^ 0x5157ull);

  sim_net_config ncfg = sim_net_config_default();
  ncfg.kind = prm->topology;
  ncfg.seed = prm->seed;
  if (sim_net_new(&s.net, &ncfg, prm->peers) != 0 ||
      sim_engine_init(&s.eng, prm->peers) != 0) {
    fprintf(s.log, "stripecast-sim: cannot set up the network model (out of memory?)\n");
    sim_destroy(&s);
    return -1;
  }
  /* Peer state from a huge-page arena (arena.h says why), unless this is a
   * sanitizer build, whose allocator must see every object to check it.
   * Address space only: ~3.5 KB a peer is used, 16 KB reserved. */
#ifndef __SANITIZE_ADDRESS__
  if (sim_arena_new(&s.arena, (size_t)prm->peers * (16u << 10) + (256u << 20)) == 0)
    s.peer_alloc = sim_arena_alloc(s.arena);
#endif
  s.peers = sim_huge_calloc(prm->peers, sizeof(sim_peer));
  s.ids = calloc(prm->peers, sizeof(sc_id));
  s.oracle = calloc(prm->peers, sizeof(id_index));
  s.lookups = calloc(prm->lookups ? prm->lookups : 1, sizeof(lookup_rec));
  if (!s.peers || !s.ids || !s.oracle || !s.lookups) {
    fprintf(s.log, "stripecast-sim: out of memory for %u peers\n", prm->peers);
    sim_destroy(&s);
    return -1;
  }
  /* Every peer's place depends on (seed, index) alone, so place them all now
   * and index them by router for pick_bootstrap. */
  for (uint32_t i = 0; i < prm->peers; i++) sim_net_place(s.net, i);
  if (sim_net_topo(s.net)) {
    uint32_t routers = sim_topo_routers(sim_net_topo(s.net));
    s.router_first = calloc((size_t)routers + 1, sizeof(uint32_t));
    s.router_peers = malloc((size_t)prm->peers * sizeof(uint32_t));
    if (!s.router_first || !s.router_peers) {
      fprintf(s.log, "stripecast-sim: out of memory for %u peers\n", prm->peers);
      sim_destroy(&s);
      return -1;
    }
    for (uint32_t i = 0; i < prm->peers; i++) s.router_first[sim_net_router(s.net, i) + 1]++;
    for (uint32_t k = 0; k < routers; k++) s.router_first[k + 1] += s.router_first[k];
    uint32_t *fill = calloc((size_t)routers, sizeof(uint32_t));
    if (!fill) {
      sim_destroy(&s);
      return -1;
    }
    for (uint32_t i = 0; i < prm->peers; i++) {
      uint32_t rt = sim_net_router(s.net, i);
      s.router_peers[s.router_first[rt] + fill[rt]++] = i;
    }
    free(fill);
  }
  /* Default arrival rate: N/100 per second, between 10/s and 2,000/s, so that
   * the overlay grows through concurrent joins without drowning in them. */
  double rate = prm->join_rate > 0 ? prm->join_rate : fmin(2000.0, fmax(10.0, prm->peers / 100.0));
  s.join_gap_mean_ns = (uint64_t)(1e9 / rate);
  double lrate = prm->lookup_rate > 0 ? prm->lookup_rate : fmax(1.0, (double)prm->lookups / 10.0);
  s.lookup_gap_ns = (uint64_t)(1e9 / lrate);

  sim_engine_schedule(&s.eng, 0, EV_JOIN, 0, NULL);
  sim_event ev;
  uint64_t digest = prm->seed;
  while (!s.failed && sim_engine_next(&s.eng, &ev)) {
    digest = digest_mix(digest, ev.t_ns * 64 + ev.kind + ((uint64_t)ev.arg << 40));
    prefetch_ahead(&s);
    if (ev.kind == SIM_EV_TIMER) {
      sim_peer *sp = &s.peers[ev.arg];
      sp->timer_ns = SIM_TIME_NEVER; /* popping disarmed it */
      if (sp->alive) {
        if (sc_pastry_handle_expiry(sp->p, ev.t_ns) < 0) s.failed = 1;
        peer_rearm(&s, ev.arg);
      }
    } else if (ev.kind == EV_MSG) {
      sim_packet *pk = ev.ptr;
      sim_peer *sp = &s.peers[pk->to];
      if (sp->alive) {
        int rv = sc_pastry_recv(sp->p, &pk->msg, ev.t_ns);
        if (rv <= SC_ERR_FATAL) s.failed = 1;
        peer_rearm(&s, pk->to);
      }
      sim_packet_put(&s.pool, pk);
    } else if (ev.kind == EV_END) {
      break;
    } else {
      handle_control(&s, &ev);
    }
    if (prm->progress && (s.eng.events_processed & 0xFFFF) == 0) progress_line(&s, false);
  }
  if (s.eng.failed) s.failed = 1;
  if (prm->progress) progress_line(&s, true);
  collect(&s);
  r->trace_digest = digest;
  r->wall_s = sim_wall_s() - wall0;
  r->events_per_s = r->wall_s > 0 ? (double)r->sim_events / r->wall_s : NAN;
  r->peak_rss_mb = sim_peak_rss_mb();
  int rv = s.failed ? -1 : 0;
  if (s.failed) fprintf(s.log, "stripecast-sim: the run failed (out of memory?)\n");
  if (rv == 0 && write_outputs(&s) != 0) rv = -1;
  sim_destroy(&s);
  return rv;
}

void sim_pastry_result_json(const sim_pastry_params *p, const sim_pastry_result *r,
                            FILE *f, bool pretty) {
  sim_json j;
  sim_json_begin(&j, f, pretty);
  sim_json_str(&j, "command", "pastry");
  sim_json_u64(&j, "peers", r->peers);
  sim_json_u64(&j, "lookups", r->lookups);
  sim_json_u64(&j, "seed", p->seed);
  sim_json_str(&j, "topology", sim_net_kind_name(p->topology));
  sim_json_f64(&j, "fail_fraction", p->fail_fraction);
  sim_json_bool(&j, "pns", p->pns);
  sim_json_u64(&j, "refine_per_row", p->refine_per_row);
  sim_json_f64(&j, "rt_maintenance_s", p->rt_maintenance_s);
  sim_json_f64(&j, "loss", p->loss);
  sim_json_f64(&j, "correct_fraction", r->correct_fraction);
  sim_json_u64(&j, "lookups_delivered", r->lookups_delivered);
  sim_json_u64(&j, "lookups_correct", r->lookups_correct);
  sim_json_f64(&j, "hops_mean", r->hops_mean);
  sim_json_f64(&j, "hops_p50", r->hops_p50);
  sim_json_f64(&j, "hops_p99", r->hops_p99);
  sim_json_f64(&j, "hops_max", r->hops_max);
  sim_json_f64(&j, "rdp_mean", r->rdp_mean);
  sim_json_f64(&j, "rdp_p50", r->rdp_p50);
  sim_json_f64(&j, "rdp_p95", r->rdp_p95);
  sim_json_f64(&j, "lookup_latency_ms_mean", r->lookup_latency_ms_mean);
  sim_json_f64(&j, "messages_per_peer", r->messages_per_peer);
  sim_json_f64(&j, "bytes_per_peer_sent", r->bytes_per_peer_sent);
  sim_json_u64(&j, "messages", r->messages);
  sim_json_u64(&j, "messages_lost", r->messages_lost);
  sim_json_object(&j, "messages_by_type");
  for (unsigned t = 1; t < SC_MSG_TYPE_END; t++)
    sim_json_u64(&j, sc_msg_type_name(t), r->messages_by_type[t]);
  sim_json_object_end(&j);
  sim_json_u64(&j, "peers_alive", r->peers_alive);
  sim_json_u64(&j, "peers_crashed", r->peers_crashed);
  sim_json_u64(&j, "peers_not_joined", r->peers_not_joined);
  sim_json_u64(&j, "leafset_errors_settled", r->leafset_errors_settled);
  sim_json_u64(&j, "leafset_errors_final", r->leafset_errors_final);
  sim_json_f64(&j, "rt_entries_mean", r->rt_entries_mean);
  sim_json_f64(&j, "state_bytes_per_peer", r->state_bytes_per_peer);
  sim_json_u64(&j, "peers_declared_dead", r->peers_declared_dead);
  sim_json_u64(&j, "false_deaths", r->false_deaths);
  sim_json_u64(&j, "reroutes", r->reroutes);
  sim_json_u64(&j, "routes_dropped", r->routes_dropped);
  sim_json_bool(&j, "wire_check", p->wire_check);
  sim_json_u64(&j, "wire_errors", r->wire_errors);
  sim_json_f64(&j, "join_end_s", r->join_end_s);
  sim_json_f64(&j, "lookup_start_s", r->lookup_start_s);
  sim_json_f64(&j, "sim_time_s", r->sim_time_s);
  sim_json_u64(&j, "sim_events", r->sim_events);
  char digest[17];
  snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)r->trace_digest);
  sim_json_str(&j, "trace_digest", digest);
  sim_json_f64(&j, "wall_s", r->wall_s);
  sim_json_f64(&j, "events_per_s", r->events_per_s);
  sim_json_f64(&j, "peak_rss_mb", r->peak_rss_mb);
  sim_json_end(&j);
}
