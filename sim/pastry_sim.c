/* pastry_sim.c — the Pastry experiment (see pastry_sim.h). */
#include "sim/pastry_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/pastry.h"
#include "core/rng.h"
#include "sim/json.h"
#include "sim/stats.h"
#include "sim/world.h"

#define DRAIN_NS (30ull * SIM_NS_PER_S)

enum {
  EV_JOIN = SIM_WORLD_EV_USER,
  EV_SETTLED,
  EV_REPAIRED,
  EV_LOOKUP,
  EV_END,
};

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
  sim_net *net;
  sim_world *w;
  sc_rng *rng;           /* the world's: one stream for the world's draws and ours */
  uint32_t joined_count; /* peers whose join has started */
  uint64_t join_gap_mean_ns;
  id_index *oracle;
  uint32_t oracle_n;
  lookup_rec *lookups;
  uint64_t lookups_issued;
  uint64_t lookup_gap_ns;
  unsigned leafset_size;
  bool failed, done;
  double wall_start, wall_last_progress;
} pastry_sim;

/* ------------------------------------------------------------------ hooks */

static void h_deliver(void *ctx, uint32_t peer, const sc_msg *m, uint64_t now) {
  pastry_sim *s = ctx;
  const sc_msg_route *rt = &m->u.route;
  if (rt->kind != SC_ROUTE_LOOKUP || rt->app_id >= s->lookups_issued) return;
  lookup_rec *l = &s->lookups[rt->app_id];
  if (l->done) return; /* a duplicate after a retry */
  l->done = 1;
  l->delivered_to = peer;
  l->hops = rt->hops;
  l->latency_ns = now - l->t0_ns;
}

/* The oracle knows who is really alive: count wrong death verdicts. */
static void h_peer_failed(void *ctx, uint32_t peer, const sc_ref *dead, uint64_t now) {
  (void)peer;
  (void)now;
  pastry_sim *s = ctx;
  if (dead->addr < s->prm->peers && sim_world_alive(s->w, dead->addr))
    s->res->false_deaths++;
}

/* ----------------------------------------------------------------- oracle */

static int cmp_id_index(const void *a, const void *b) {
  return sc_id_cmp(&((const id_index *)a)->id, &((const id_index *)b)->id);
}

static void oracle_build(pastry_sim *s) {
  s->oracle_n = 0;
  for (uint32_t i = 0; i < s->prm->peers; i++)
    if (sim_world_alive(s->w, i))
      s->oracle[s->oracle_n++] = (id_index){*sim_world_id(s->w, i), i};
  qsort(s->oracle, s->oracle_n, sizeof(id_index), cmp_id_index);
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
  unsigned half = s->leafset_size / 2;
  unsigned want = n - 1 < half ? n - 1 : half;
  for (uint32_t k = 0; k < n; k++) {
    sc_ref got[SC_LEAFSET_MAX];
    unsigned nleft = 0;
    unsigned cnt = sc_pastry_leafset(sim_world_pastry(s->w, s->oracle[k].index), got,
                                     SC_LEAFSET_MAX, &nleft);
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

static void schedule(pastry_sim *s, uint64_t t, int kind) {
  sim_world_schedule(s->w, t, (uint32_t)kind, 0);
}

static void start_lookups(pastry_sim *s, uint64_t now) {
  s->res->lookup_start_s = (double)now / 1e9;
  oracle_build(s);
  s->res->leafset_errors_final = oracle_leafset_errors(s);
  if (s->prm->lookups == 0)
    schedule(s, now + SIM_NS_PER_S, EV_END);
  else
    schedule(s, now, EV_LOOKUP);
}

static void crash_peers(pastry_sim *s) {
  uint32_t n = s->oracle_n;
  uint32_t kill = (uint32_t)floor(s->prm->fail_fraction * n);
  uint32_t *live = malloc((size_t)n * sizeof(uint32_t));
  if (!live) {
    s->failed = true;
    return;
  }
  for (uint32_t k = 0; k < n; k++)
    live[k] = s->oracle[k].index;
  for (uint32_t k = 0; k < kill; k++) { /* partial Fisher-Yates */
    uint32_t j = k + sc_rng_below(s->rng, n - k);
    uint32_t t = live[k];
    live[k] = live[j];
    live[j] = t;
    sim_world_retire(s->w, live[k]);
  }
  s->res->peers_crashed = kill;
  free(live);
}

static void on_join(pastry_sim *s, uint64_t now) {
  uint32_t i = s->joined_count++;
  if (sim_world_add(s->w, i, NULL) != 0 || sim_world_join(s->w, i) != 0) {
    s->failed = true;
    return;
  }
  if (s->joined_count < s->prm->peers) {
    schedule(s, now + sim_exp_gap_ns(s->rng, s->join_gap_mean_ns), EV_JOIN);
  } else {
    s->res->join_end_s = (double)now / 1e9;
    schedule(s, now + (uint64_t)(s->prm->settle_s * 1e9), EV_SETTLED);
  }
}

static void on_lookup(pastry_sim *s, uint64_t now) {
  uint64_t k = s->lookups_issued++;
  lookup_rec *l = &s->lookups[k];
  uint32_t origin;
  do
    origin = s->oracle[sc_rng_below(s->rng, s->oracle_n)].index;
  while (!sc_pastry_is_joined(sim_world_pastry(s->w, origin)) && s->oracle_n > 1 &&
         sc_rng_below(s->rng, 64) != 0);
  sc_id key = {sc_rng_next(s->rng), sc_rng_next(s->rng)};
  l->t0_ns = now;
  l->origin = origin;
  l->owner = oracle_owner(s, &key);
  l->delivered_to = UINT32_MAX;
  sc_pastry_route(sim_world_pastry(s->w, origin), &key, SC_ROUTE_LOOKUP, k, now);
  sim_world_rearm(s->w, origin);
  if (s->lookups_issued < s->prm->lookups)
    schedule(s, now + s->lookup_gap_ns, EV_LOOKUP);
  else
    schedule(s, now + DRAIN_NS, EV_END);
}

static void h_event(void *ctx, const sim_event *ev) {
  pastry_sim *s = ctx;
  uint64_t now = ev->t_ns;
  switch (ev->kind) {
  case EV_JOIN:
    on_join(s, now);
    break;
  case EV_SETTLED:
    oracle_build(s);
    s->res->leafset_errors_settled = oracle_leafset_errors(s);
    if (s->prm->fail_fraction > 0) {
      crash_peers(s);
      oracle_build(s);
      schedule(s, now + (uint64_t)(s->prm->repair_s * 1e9), EV_REPAIRED);
    } else {
      start_lookups(s, now);
    }
    break;
  case EV_REPAIRED:
    start_lookups(s, now);
    break;
  case EV_LOOKUP:
    on_lookup(s, now);
    break;
  case EV_END:
    s->done = true;
    break;
  default:
    break;
  }
  if (s->done || s->failed) sim_world_stop(s->w);
}

static bool more(void *ctx) {
  const pastry_sim *s = ctx;
  return !s->done && !s->failed;
}

static void progress_line(void *ctx, bool final) {
  pastry_sim *s = ctx;
  double now_wall;
  if (!s->prm->progress ||
      !sim_progress_due(&s->wall_last_progress, 1.0, final, &now_wall))
    return;
  const sim_engine *e = sim_world_engine(s->w);
  double el = now_wall - s->wall_start;
  double evs = el > 0 ? (double)e->events_processed / el : 0;
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
          (double)e->now_ns / 1e9, phase, s->joined_count, s->prm->peers,
          (unsigned long long)s->lookups_issued, (double)e->events_processed / 1e6,
          evs / 1e6, eta, final ? "\n" : "");
  fflush(s->log);
}

/* ---------------------------------------------------------------- results */

static void collect_lookups(pastry_sim *s) {
  sim_pastry_result *r = s->res;
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
  r->correct_fraction =
      r->lookups ? (double)r->lookups_correct / (double)r->lookups : NAN;
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
}

static void collect(pastry_sim *s) {
  sim_pastry_result *r = s->res;
  const sim_pastry_params *prm = s->prm;
  collect_lookups(s);
  double rt_sum = 0, mem_sum = 0;
  r->peers_alive = 0;
  for (uint32_t i = 0; i < s->joined_count; i++) {
    if (!sim_world_alive(s->w, i)) continue;
    const sc_pastry *p = sim_world_pastry(s->w, i);
    r->peers_alive++;
    if (!sc_pastry_is_joined(p)) r->peers_not_joined++;
    sc_pastry_stats st;
    sc_pastry_get_stats(p, &st);
    rt_sum += st.rt_entries;
    mem_sum += (double)sc_pastry_mem_bytes(p);
    r->peers_declared_dead += st.peers_declared_dead;
    r->reroutes += st.reroutes;
    r->routes_dropped += st.routes_dropped;
  }
  r->rt_entries_mean = r->peers_alive ? rt_sum / r->peers_alive : NAN;
  r->state_bytes_per_peer = r->peers_alive ? mem_sum / r->peers_alive : NAN;
  const sim_world_counters *c = sim_world_counters_get(s->w);
  r->messages = c->messages;
  r->messages_lost = c->messages_lost;
  r->bytes = c->bytes;
  r->wire_errors = c->wire_errors;
  memcpy(r->messages_by_type, c->by_type, sizeof(r->messages_by_type));
  r->messages_per_peer = (double)r->messages / prm->peers;
  r->bytes_per_peer_sent = (double)r->bytes / prm->peers;
  r->run = sim_world_run_stats(s->w);
}

static int write_outputs(pastry_sim *s) {
  const char *dir = s->prm->out_dir;
  if (!dir) return 0;
  FILE *f = sim_out_open(dir, "hops.csv", s->log, "stripecast-sim");
  if (!f) return -1;
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
  f = sim_out_open(dir, "summary.json", s->log, "stripecast-sim");
  if (!f) return -1;
  sim_pastry_result_json(s->prm, s->res, f, true);
  fclose(f);
  return 0;
}

/* -------------------------------------------------------------------- run */

void sim_pastry_params_default(sim_pastry_params *p) {
  *p = (sim_pastry_params){.peers = 1000,
                           .lookups = 1000,
                           .seed = 1,
                           .topology = SIM_NET_TRANSIT_STUB,
                           .settle_s = 60,
                           .repair_s = 120,
                           .pns = true,
                           .refine_per_row = 8};
}

static void sim_destroy(pastry_sim *s) {
  sim_world_del(s->w);
  sim_net_del(s->net);
  free(s->oracle);
  free(s->lookups);
}

/* The world of bare Pastry peers the experiment runs in. Returns 0 or -1. */
static int make_world(pastry_sim *s) {
  const sim_pastry_params *prm = s->prm;
  if (sim_net_new_kind(&s->net, prm->topology, prm->seed, prm->peers) != 0) return -1;
  sim_world_config wc;
  sim_world_config_init(&wc, SIM_WORLD_PASTRY, prm->peers, prm->seed);
  wc.loss = prm->loss;
  wc.wire_check = prm->wire_check;
  wc.node.pastry.pns = prm->pns;
  wc.node.pastry.refine_per_row = prm->refine_per_row;
  wc.node.pastry.rt_maintenance_ns = (uint64_t)(prm->rt_maintenance_s * 1e9);
  s->leafset_size = wc.node.pastry.leafset_size;
  sim_world_hooks hooks = {
      .deliver = h_deliver, .peer_failed = h_peer_failed, .event = h_event};
  if (sim_world_new(&s->w, &wc, s->net, &hooks, s) != 0) return -1;
  s->rng = sim_world_rng(s->w);
  return 0;
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
  if (make_world(&s) != 0) {
    fprintf(s.log, "stripecast-sim: cannot set up the network model (out of memory?)\n");
    sim_destroy(&s);
    return -1;
  }
  s.oracle = calloc(prm->peers, sizeof(id_index));
  s.lookups = calloc(prm->lookups ? prm->lookups : 1, sizeof(lookup_rec));
  if (!s.oracle || !s.lookups) {
    fprintf(s.log, "stripecast-sim: out of memory for %u peers\n", prm->peers);
    sim_destroy(&s);
    return -1;
  }
  /* Default arrival rate: N/100 per second, between 10/s and 2,000/s, so that
   * the overlay grows through concurrent joins without drowning in them. */
  s.join_gap_mean_ns = (uint64_t)(1e9 / sim_world_join_rate(prm->peers, prm->join_rate));
  double lrate =
      prm->lookup_rate > 0 ? prm->lookup_rate : fmax(1.0, (double)prm->lookups / 10.0);
  s.lookup_gap_ns = (uint64_t)(1e9 / lrate);

  schedule(&s, 0, EV_JOIN);
  if (sim_world_run_all(s.w, more, progress_line, &s) != 0) s.failed = true;
  collect(&s);
  r->machine = sim_machine_measure(wall0, r->run.sim_events);
  int rv = s.failed ? -1 : 0;
  if (s.failed) fprintf(s.log, "stripecast-sim: the run failed (out of memory?)\n");
  if (rv == 0 && write_outputs(&s) != 0) rv = -1;
  sim_destroy(&s);
  return rv;
}

/* ------------------------------------------------------------------- JSON */

enum { SRC_PRM, SRC_RES };
#define PRM(m) SIM_JSON_FIELD(sim_pastry_params, SRC_PRM, m)
#define RES(m) SIM_JSON_FIELD(sim_pastry_result, SRC_RES, m)
#define RUN(m) SIM_JSON_RUN(sim_pastry_result, SRC_RES, m)

static const sim_json_field json_head[] = {RES(peers), RES(lookups), PRM(seed)};
static const sim_json_field json_results[] = {PRM(fail_fraction),
                                              PRM(pns),
                                              PRM(refine_per_row),
                                              PRM(rt_maintenance_s),
                                              PRM(loss),
                                              RES(correct_fraction),
                                              RES(lookups_delivered),
                                              RES(lookups_correct),
                                              RES(hops_mean),
                                              RES(hops_p50),
                                              RES(hops_p99),
                                              RES(hops_max),
                                              RES(rdp_mean),
                                              RES(rdp_p50),
                                              RES(rdp_p95),
                                              RES(lookup_latency_ms_mean),
                                              RES(messages_per_peer),
                                              RES(bytes_per_peer_sent),
                                              RES(messages),
                                              RES(messages_lost)};
static const sim_json_field json_overlay[] = {
    RES(peers_alive),          RES(peers_crashed),
    RES(peers_not_joined),     RES(leafset_errors_settled),
    RES(leafset_errors_final), RES(rt_entries_mean),
    RES(state_bytes_per_peer), RES(peers_declared_dead),
    RES(false_deaths),         RES(reroutes),
    RES(routes_dropped),       PRM(wire_check),
    RES(wire_errors),          RES(join_end_s),
    RES(lookup_start_s),       RUN(sim_time_s),
    RUN(sim_events),           SIM_JSON_RUN_DIGEST(sim_pastry_result, SRC_RES)};

void sim_pastry_result_json(const sim_pastry_params *p, const sim_pastry_result *r,
                            FILE *f, bool pretty) {
  const void *srcs[] = {[SRC_PRM] = p, [SRC_RES] = r};
  sim_json j;
  sim_json_begin(&j, f, pretty);
  sim_json_str(&j, "command", "pastry");
  SIM_JSON_FIELDS(&j, json_head, srcs);
  sim_json_str(&j, "topology", sim_net_kind_name(p->topology));
  SIM_JSON_FIELDS(&j, json_results, srcs);
  sim_json_object(&j, "messages_by_type");
  for (unsigned t = 1; t < SC_MSG_TYPE_END; t++)
    sim_json_u64(&j, sc_msg_type_name(t), r->messages_by_type[t]);
  sim_json_object_end(&j);
  SIM_JSON_FIELDS(&j, json_overlay, srcs);
  sim_json_machine(&j, &r->machine);
  sim_json_end(&j);
}
