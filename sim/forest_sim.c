/* forest_sim.c — the SplitStream forest experiment (see forest_sim.h). */
#include "sim/forest_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/node.h"
#include "core/rng.h"
#include "sim/json.h"
#include "sim/linkstress.h"
#include "sim/stats.h"
#include "sim/world.h"

#define CHECK_NS      SIM_NS_PER_S           /* completion checks and time-series rows */
#define DATA_PHASE_NS (20ull * SIM_NS_PER_S) /* for one message to reach everyone */
#define NO_ARRIVAL    UINT32_MAX
/* A complete forest must still be complete this much later, with no peer's
 * attachment changed in between, before it counts as built: a drop may be on
 * the wire when the check first passes. */
#define STABLE_NS (2ull * SIM_NS_PER_S)
#define SOURCE    0u

enum {
  EV_JOIN = SIM_WORLD_EV_USER, /* arg: peer */
  EV_BUILD,                    /* every receiver starts subscribing */
  EV_START,                    /* arg: peer subscribes */
  EV_CHECK,                    /* periodic completion check */
  EV_CHECK_NOW,                /* the attached count just became full */
  EV_PUBLISH,                  /* arg: sequence number */
  EV_DATA_END,                 /* arg: sequence number */
};

enum phase { PH_OVERLAY, PH_BUILD, PH_DATA1, PH_REPAIR, PH_DATA2, PH_DONE };

typedef struct fpeer {
  uint32_t in_degree, capacity;
  uint32_t msgs_build, msgs_repair;
  uint32_t children_peak;
  uint16_t wants, attached, got1, got2;
  uint8_t started, dead, violated;
} fpeer;

typedef struct ts_row {
  double t_s;
  double attached_fraction;
  uint64_t msgs;
  uint32_t live;
  uint8_t phase;
} ts_row;

typedef struct forest_sim {
  const sim_forest_params *prm;
  sim_forest_result *res;
  FILE *log;
  sim_net *net;
  sim_world *w;
  sc_rng rng;
  fpeer *fp;
  uint32_t *arr_us; /* peer * k + stripe: delay of message 1, microseconds */
  uint8_t *depth;
  uint8_t *walk_state;
  uint32_t *walk_buf;
  uint32_t k;
  uint64_t wanted_pairs, attached_pairs;
  uint64_t t0_ns, build_end_ns, crash_ns, publish_ns[3];
  uint64_t join_gap_ns;
  uint64_t msgs_interval;
  int phase;
  bool check_pending, count_links;
  uint64_t changes;     /* attachment changes so far */
  uint64_t ok_since_ns; /* first passing check of a quiet spell; 0: none */
  uint64_t ok_changes;  /* changes at that check */
  sim_linkstress *ls;
  ts_row *ts;
  size_t nts, ts_cap;
  double wall_start, wall_last;
  int failed;
} forest_sim;

/* ----------------------------------------------------------------- hooks */

static bool forest_msg(const sc_msg *m) {
  return m->type >= SC_MSG_MULTICAST ||
         (m->type == SC_MSG_ROUTE && m->u.route.kind >= SC_ROUTE_SCRIBE_JOIN);
}

static void h_sent(void *ctx, uint32_t from, uint32_t to, const sc_msg *m) {
  forest_sim *s = ctx;
  if (s->count_links &&
      (m->type == SC_MSG_MULTICAST ||
       (m->type == SC_MSG_ROUTE && m->u.route.kind == SC_ROUTE_PUBLISH)))
    sim_linkstress_add(s->ls, from, to);
}

/* Construction overhead counts what builds the forest, not the periodic
 * heartbeats of the trees already built. */
static void h_received(void *ctx, uint32_t to, const sc_msg *m) {
  forest_sim *s = ctx;
  if (!forest_msg(m) || m->type == SC_MSG_SCRIBE_HEARTBEAT) return;
  s->msgs_interval++;
  if (s->phase == PH_BUILD)
    s->fp[to].msgs_build++;
  else if (s->phase == PH_REPAIR)
    s->fp[to].msgs_repair++;
}

static void h_stripe_data(void *ctx, uint32_t peer, unsigned stripe,
                          const sc_msg_multicast *m, uint64_t now) {
  forest_sim *s = ctx;
  uint16_t bit = (uint16_t)(1u << stripe);
  if (m->seq == 1) {
    s->fp[peer].got1 |= bit;
    size_t at = (size_t)peer * s->k + stripe;
    uint64_t d = (now - m->sent_ns) / 1000u;
    s->arr_us[at] = d >= NO_ARRIVAL ? NO_ARRIVAL - 1 : (uint32_t)d;
    s->depth[at] = m->depth > 255 ? 255 : (uint8_t)m->depth;
  } else if (m->seq == 2) {
    s->fp[peer].got2 |= bit;
  }
}

static void h_stripe_changed(void *ctx, uint32_t peer, unsigned stripe, bool attached,
                             uint64_t now) {
  forest_sim *s = ctx;
  fpeer *f = &s->fp[peer];
  uint16_t bit = (uint16_t)(1u << stripe);
  bool was = (f->attached & bit) != 0;
  if (attached == was) return;
  if (attached)
    f->attached |= bit;
  else
    f->attached &= (uint16_t)~bit;
  s->changes++;
  if (f->started && (f->wants & bit)) {
    if (attached)
      s->attached_pairs++;
    else
      s->attached_pairs--;
  }
  if (s->attached_pairs == s->wanted_pairs && !s->check_pending &&
      (s->phase == PH_BUILD || s->phase == PH_REPAIR)) {
    s->check_pending = true;
    sim_world_schedule(s->w, now, EV_CHECK_NOW, 0);
  }
}

/* ---------------------------------------------------------------- checks */

static uint32_t oracle_root(forest_sim *s, const sc_id *key) {
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < s->prm->peers; i++) {
    if (!sim_world_alive(s->w, i)) continue;
    if (best == UINT32_MAX ||
        sc_id_closer(key, sim_world_id(s->w, i), sim_world_id(s->w, best)))
      best = i;
  }
  return best;
}

enum { W_NEW = 0, W_ON = 1, W_GOOD = 2, W_BAD = 3 };

/*
 * Walks every wanting live peer's parent chain in every stripe: it must end,
 * without repeating a peer, at the stripe's root as the global oracle names
 * it. Returns true when every chain does; counts what failed.
 */
static bool forest_check(forest_sim *s, uint32_t *cycles, uint32_t *wrong_roots,
                         uint32_t *unattached) {
  uint32_t n = s->prm->peers;
  *cycles = *wrong_roots = *unattached = 0;
  for (unsigned st = 0; st < s->k; st++) {
    sc_splitstream *ss0 = sc_node_forest(sim_world_node(s->w, SOURCE));
    unsigned g = sc_splitstream_group(ss0, st);
    const sc_id *sid =
        sc_scribe_group_id(sc_node_scribe(sim_world_node(s->w, SOURCE)), g);
    uint32_t root = oracle_root(s, sid);
    memset(s->walk_state, W_NEW, n);
    for (uint32_t i = 1; i < n; i++) {
      if (s->fp[i].dead || !(s->fp[i].wants & (1u << st)) || s->walk_state[i] != W_NEW)
        continue;
      uint32_t len = 0, cur = i;
      int verdict = W_BAD;
      for (;;) {
        uint8_t ws = s->walk_state[cur];
        if (ws == W_GOOD || ws == W_BAD) {
          verdict = ws;
          break;
        }
        if (ws == W_ON) {
          (*cycles)++;
          break;
        }
        s->walk_state[cur] = W_ON;
        s->walk_buf[len++] = cur;
        const sc_scribe *sc = sc_node_scribe_c(sim_world_node(s->w, cur));
        if (sc_scribe_is_root(sc, g)) {
          if (cur == root)
            verdict = W_GOOD;
          else
            (*wrong_roots)++;
          break;
        }
        sc_ref parent;
        if (!sc_scribe_parent(sc, g, &parent) || parent.addr >= n ||
            !sim_world_alive(s->w, parent.addr)) {
          (*unattached)++;
          break;
        }
        cur = parent.addr;
      }
      for (uint32_t k = 0; k < len; k++)
        s->walk_state[s->walk_buf[k]] = (uint8_t)verdict;
    }
  }
  return *cycles == 0 && *wrong_roots == 0 && *unattached == 0;
}

/* Children per peer now; peers above their capacity are marked for good. */
static void load_scan(forest_sim *s, bool final) {
  sim_forest_result *r = s->res;
  uint64_t sum = 0, multi = 0, nonprimary = 0;
  uint32_t live = 0, maxc = 0;
  for (uint32_t i = 0; i < s->prm->peers; i++) {
    if (s->fp[i].dead) continue;
    sc_node *nd = sim_world_node(s->w, i);
    const sc_splitstream *ss = sc_node_forest_c(nd);
    const sc_scribe *sc = sc_node_scribe_c(nd);
    unsigned load = sc_splitstream_load(ss);
    if (load > s->fp[i].children_peak) s->fp[i].children_peak = load;
    if (s->fp[i].capacity != SIM_CAP_UNBOUNDED &&
        load > (uint64_t)s->fp[i].capacity + sc_splitstream_root_allowance(ss))
      s->fp[i].violated = 1;
    if (!final) continue;
    live++;
    sum += load;
    if (load > maxc) maxc = load;
    unsigned interior = 0;
    unsigned primary = sc_splitstream_primary(sim_world_id(s->w, i), s->k);
    for (unsigned st = 0; st < s->k; st++) {
      unsigned g = sc_splitstream_group(ss, st);
      unsigned c = sc_scribe_children(sc, g);
      if (c > 0) interior++;
      if (st != primary) nonprimary += c;
      /* SplitStream §4.1: the interior of stripe s's tree shares s's first
       * digit, roots aside, unless a full peer adopted through the spare
       * capacity group. */
      if (c > 0 && st != primary && !sc_scribe_is_root(sc, g)) r->nonprimary_interior++;
    }
    if (interior > 1) multi++;
  }
  if (!final) return;
  r->children_max = maxc;
  r->children_mean = live ? (double)sum / live : 0;
  r->multi_interior_fraction = live ? (double)multi / live : 0;
  r->nonprimary_children = nonprimary;
}

/* ------------------------------------------------------------- progress */

static const char *phase_name(int ph) {
  static const char *names[] = {"overlay", "build", "data", "repair", "data", "done"};
  return names[ph];
}

static bool more(void *ctx) {
  const forest_sim *s = ctx;
  return s->phase != PH_DONE && !s->failed;
}

static void progress(void *ctx, bool force) {
  forest_sim *s = ctx;
  sim_world_progress pg;
  if (!s->prm->progress || !s->log ||
      !sim_world_progress_due(s->w, s->wall_start, &s->wall_last, 2.0, force, &pg))
    return;
  fprintf(s->log,
          "forest: %-7s t=%.0fs joined %u/%u attached %.4f events %llu (%.2fM/s) wall "
          "%.0fs\n",
          phase_name(s->phase), pg.sim_s, sim_world_joined(s->w), s->prm->peers,
          s->wanted_pairs ? (double)s->attached_pairs / (double)s->wanted_pairs : 0.0,
          (unsigned long long)pg.events, pg.events_per_s / 1e6, pg.wall_s);
  fflush(s->log);
}

/* ---------------------------------------------------------------- events */

static void schedule(forest_sim *s, uint64_t t, int kind, uint32_t arg) {
  sim_world_schedule(s->w, t, (uint32_t)kind, arg);
}

static void ts_push(forest_sim *s, uint64_t now) {
  void *ts = s->ts;
  if (sim_array_grow(&ts, &s->ts_cap, s->nts, sizeof(ts_row), 256) != 0) {
    s->failed = 1;
    return;
  }
  s->ts = ts;
  uint32_t live = 0;
  for (uint32_t i = 0; i < s->prm->peers; i++)
    live += !s->fp[i].dead;
  ts_row *row = &s->ts[s->nts++];
  row->t_s = ((double)now - (double)s->t0_ns) / 1e9;
  row->attached_fraction =
      s->wanted_pairs ? (double)s->attached_pairs / (double)s->wanted_pairs : 1.0;
  row->msgs = s->msgs_interval;
  row->live = live;
  row->phase = (uint8_t)s->phase;
  s->msgs_interval = 0;
}

static void crash_receivers(forest_sim *s, uint64_t now) {
  uint32_t receivers = s->prm->peers - 1;
  uint32_t want = (uint32_t)floor(s->prm->fail_fraction * receivers + 0.5);
  uint32_t done = 0;
  while (done < want) {
    uint32_t i = 1 + sc_rng_below(&s->rng, receivers);
    fpeer *f = &s->fp[i];
    if (f->dead) continue;
    f->dead = 1;
    sim_world_crash(s->w, i);
    s->wanted_pairs -= (uint64_t)__builtin_popcount(f->wants);
    s->attached_pairs -= (uint64_t)__builtin_popcount(f->wants & f->attached);
    done++;
  }
  s->res->crashed = done;
  s->crash_ns = now;
}

static void on_check(forest_sim *s, uint64_t now, bool periodic) {
  sim_forest_result *r = s->res;
  if (periodic) {
    ts_push(s, now);
    load_scan(s, false);
  } else {
    s->check_pending = false;
  }
  if (s->phase != PH_BUILD && s->phase != PH_REPAIR) {
    if (periodic && s->phase != PH_DONE) schedule(s, now + CHECK_NS, EV_CHECK, 0);
    return;
  }
  bool full = s->attached_pairs == s->wanted_pairs;
  bool ok = false;
  if (full) ok = forest_check(s, &r->cycles, &r->wrong_roots, &r->unattached);
  if (ok && (s->ok_since_ns == 0 || s->ok_changes != s->changes)) {
    /* First passing check of a quiet spell: look again STABLE_NS later. */
    s->ok_since_ns = now;
    s->ok_changes = s->changes;
    s->check_pending = true;
    schedule(s, now + STABLE_NS, EV_CHECK_NOW, 0);
    ok = false;
  } else if (ok && now < s->ok_since_ns + STABLE_NS) {
    ok = false;
  }
  if (!ok && !(full && s->ok_changes == s->changes && s->ok_since_ns)) s->ok_since_ns = 0;
  uint64_t since = now - (s->phase == PH_BUILD ? s->t0_ns : s->crash_ns);
  double limit = s->phase == PH_BUILD ? s->prm->build_max_s : s->prm->repair_max_s;
  bool give_up = (double)since / 1e9 > limit;
  if (ok) since = s->ok_since_ns - (s->phase == PH_BUILD ? s->t0_ns : s->crash_ns);
  if (ok || give_up) {
    s->ok_since_ns = 0;
    if (s->phase == PH_BUILD) {
      r->build_s = ok ? (double)since / 1e9 : NAN;
      if (!ok) forest_check(s, &r->cycles, &r->wrong_roots, &r->unattached);
      s->build_end_ns = now;
      load_scan(s, true);
      s->phase = PH_DATA1;
      s->count_links = s->ls != NULL;
      schedule(s, now, EV_PUBLISH, 1);
    } else {
      r->repair_s = ok ? (double)since / 1e9 : NAN;
      s->phase = PH_DATA2;
      schedule(s, now, EV_PUBLISH, 2);
    }
  }
  if (periodic) schedule(s, now + CHECK_NS, EV_CHECK, 0);
}

static void h_event(void *ctx, const sim_event *ev) {
  forest_sim *s = ctx;
  uint64_t now = ev->t_ns;
  switch (ev->kind) {
  case EV_JOIN: {
    uint32_t i = ev->arg;
    if (sim_world_join(s->w, i) != 0) s->failed = 1;
    if (i + 1 < s->prm->peers)
      schedule(s, now + sim_exp_gap_ns(&s->rng, s->join_gap_ns), EV_JOIN, i + 1);
    else
      schedule(s, now + (uint64_t)(s->prm->settle_s * 1e9), EV_BUILD, 0);
    break;
  }
  case EV_BUILD: {
    s->phase = PH_BUILD;
    s->t0_ns = now;
    uint64_t spread = (uint64_t)(s->prm->spread_s * 1e9);
    for (uint32_t i = 1; i < s->prm->peers; i++)
      schedule(s, now + (spread ? sc_rng_next(&s->rng) % spread : 0), EV_START, i);
    schedule(s, now + CHECK_NS, EV_CHECK, 0);
    break;
  }
  case EV_START: {
    uint32_t i = ev->arg;
    fpeer *f = &s->fp[i];
    if (f->dead) break;
    sc_node *nd = sim_world_node(s->w, i);
    if (sc_node_start_forest(nd, now) == SC_ERR_NOMEM) s->failed = 1;
    const sc_splitstream *ss = sc_node_forest_c(nd);
    for (unsigned st = 0; st < s->k; st++)
      if (sc_splitstream_wants(ss, st)) f->wants |= (uint16_t)(1u << st);
    f->started = 1;
    s->wanted_pairs += (uint64_t)__builtin_popcount(f->wants);
    s->attached_pairs += (uint64_t)__builtin_popcount(f->wants & f->attached);
    sim_world_rearm(s->w, i);
    break;
  }
  case EV_CHECK:
    on_check(s, now, true);
    break;
  case EV_CHECK_NOW:
    on_check(s, now, false);
    break;
  case EV_PUBLISH: {
    s->publish_ns[ev->arg] = now;
    sc_node *src = sim_world_node(s->w, SOURCE);
    if (sc_splitstream_publish(sc_node_forest(src), ev->arg, now) == SC_ERR_NOMEM)
      s->failed = 1;
    sim_world_rearm(s->w, SOURCE);
    schedule(s, now + DATA_PHASE_NS, EV_DATA_END, ev->arg);
    break;
  }
  case EV_DATA_END:
    s->count_links = false;
    if (ev->arg == 1 && s->prm->fail_fraction > 0) {
      crash_receivers(s, now);
      s->phase = PH_REPAIR;
    } else {
      s->phase = PH_DONE;
      sim_world_stop(s->w);
    }
    break;
  default:
    break;
  }
}

/* --------------------------------------------------------------- results */

/* Offers sel, in one pass of its two, the delay penalty of message 1 on
 * every (receiver, wanted stripe) pair it reached: tree delay over direct
 * unicast delay from the source. 0, or -1 when out of memory. */
static int offer_penalties(forest_sim *s, sim_select *sel) {
  for (uint32_t i = 1; i < s->prm->peers; i++) {
    uint64_t direct = sim_net_latency_ns(s->net, SOURCE, i);
    if (direct == 0) continue;
    for (unsigned st = 0; st < s->k; st++) {
      size_t at = (size_t)i * s->k + st;
      if (!(s->fp[i].wants & (1u << st)) || s->arr_us[at] == NO_ARRIVAL) continue;
      if (sim_select_offer(sel, (double)s->arr_us[at] * 1000.0 / (double)direct) != 0)
        return -1;
    }
  }
  return 0;
}

/* How the trees got their depth: every wanting receiver's path to the root
 * of each stripe, its edges counted by how the child found the parent
 * (sc_splitstream_parent_via) and by whether the parent forwards the stripe
 * as its primary. A per-stripe pass, memoised as forest_check walks. */
/* Path counters: SC_VIA_KINDS kinds of edge, then parents that do not
 * forward the stripe as their primary, then edges between two primary
 * forwarders where the parent shares no longer a prefix with the stripe id
 * than the child (a forwarder below another of its own level, not on a
 * Pastry route's way to the root). */
#define BD_NONPRIMARY SC_VIA_KINDS
#define BD_FLAT       (SC_VIA_KINDS + 1)
#define BD_W          (2 * SC_VIA_KINDS + 1) /* flat edges by kind */
static void depth_breakdown(forest_sim *s) {
  sim_forest_result *r = s->res;
  uint32_t n = s->prm->peers;
  uint8_t *cnt = calloc((size_t)n, BD_W);
  if (!cnt) return;
  double sum[BD_W] = {0}, own[SC_VIA_KINDS] = {0};
  uint64_t paths = 0;
  for (unsigned st = 0; st < s->k; st++) {
    memset(s->walk_state, W_NEW, n);
    memset(cnt, 0, (size_t)n * BD_W);
    for (uint32_t i = 1; i < n; i++) {
      if (s->fp[i].dead || !(s->fp[i].wants & (1u << st))) continue;
      uint32_t len = 0, cur = i;
      bool good = false;
      for (;;) { /* up to a peer already counted, or the root */
        if (s->walk_state[cur] == W_GOOD) {
          good = true;
          break;
        }
        if (s->walk_state[cur] != W_NEW) break;
        s->walk_state[cur] = W_ON;
        s->walk_buf[len++] = cur;
        const sc_scribe *sc = sc_node_scribe_c(sim_world_node(s->w, cur));
        unsigned g =
            sc_splitstream_group(sc_node_forest_c(sim_world_node(s->w, cur)), st);
        sc_ref parent;
        if (sc_scribe_is_root(sc, g)) {
          good = true;
          memset(cnt + (size_t)cur * BD_W, 0, BD_W);
          s->walk_state[cur] = W_GOOD;
          len--;
          break;
        }
        if (!sc_scribe_parent(sc, g, &parent) || parent.addr >= n) break;
        cur = parent.addr;
      }
      /* Down the walk: each peer's counts are its parent's plus its edge. */
      while (len > 0) {
        uint32_t c = s->walk_buf[--len];
        if (!good) {
          s->walk_state[c] = W_BAD;
          continue;
        }
        sc_node *nd = sim_world_node(s->w, c);
        const sc_splitstream *ss = sc_node_forest_c(nd);
        sc_ref parent;
        sc_scribe_parent(sc_node_scribe_c(nd), sc_splitstream_group(ss, st), &parent);
        uint8_t *mine = cnt + (size_t)c * BD_W;
        memcpy(mine, cnt + (size_t)parent.addr * BD_W, BD_W);
        unsigned via = sc_splitstream_parent_via(ss, st);
        if (mine[via] < UINT8_MAX) mine[via]++;
        if (sc_splitstream_primary(sim_world_id(s->w, parent.addr), s->k) != st &&
            mine[BD_NONPRIMARY] < UINT8_MAX)
          mine[BD_NONPRIMARY]++;
        const sc_id *sid =
            sc_scribe_group_id(sc_node_scribe_c(nd), sc_splitstream_group(ss, st));
        if (sc_id_shl(sim_world_id(s->w, parent.addr), sid) <=
                sc_id_shl(sim_world_id(s->w, c), sid) &&
            sc_splitstream_primary(sim_world_id(s->w, c), s->k) == st &&
            mine[BD_FLAT + via] < UINT8_MAX)
          mine[BD_FLAT + via]++;
        s->walk_state[c] = W_GOOD;
      }
      if (!good) continue;
      const uint8_t *mine = cnt + (size_t)i * BD_W;
      for (unsigned v = 0; v < BD_W; v++)
        sum[v] += mine[v];
      own[sc_splitstream_parent_via(sc_node_forest_c(sim_world_node(s->w, i)), st)]++;
      paths++;
    }
  }
  free(cnt);
  for (unsigned v = 0; v < SC_VIA_KINDS; v++) {
    r->depth_via_mean[v] = paths ? sum[v] / (double)paths : NAN;
    r->parent_via_fraction[v] = paths ? own[v] / (double)paths : NAN;
  }
  r->depth_nonprimary_mean = paths ? sum[BD_NONPRIMARY] / (double)paths : NAN;
  for (unsigned v = 0; v < SC_VIA_KINDS; v++)
    r->depth_flat_mean[v] = paths ? sum[BD_FLAT + v] / (double)paths : NAN;
}

static void collect(forest_sim *s) {
  sim_forest_result *r = s->res;
  const sim_forest_params *p = s->prm;
  uint32_t n = p->peers;
  r->peers = n;
  r->receivers = n - 1;
  /* Delay penalties need their quantiles, over every (receiver, stripe)
   * pair: 16 M of them at 10^6 peers, 128 MB as doubles, which was most of
   * what the run held above the forest itself. sim_select gets the same
   * answers from two passes over them and a few MB. Depths need only a mean
   * and a maximum. */
  static const double pen_q[] = {0.5, 0.9};
  sim_select pen;
  if (sim_select_init(&pen, pen_q, 2) != 0 || offer_penalties(s, &pen) != 0) {
    s->failed = 1;
  } else {
    sim_select_second_pass(&pen);
    if (offer_penalties(s, &pen) != 0) s->failed = 1;
  }
  double dep_sum = 0;
  uint64_t dep_n = 0;
  unsigned dep_max = 0;
  uint64_t msum = 0, mmax = 0, rep_sum = 0;
  uint32_t complete = 0, complete2 = 0, survivors = 0;
  for (uint32_t i = 1; i < n; i++) {
    fpeer *f = &s->fp[i];
    msum += f->msgs_build;
    if (f->msgs_build > mmax) mmax = f->msgs_build;
    if (f->violated) r->capacity_violations++;
    if ((f->got1 & f->wants) == f->wants) complete++;
    if (!f->dead) {
      survivors++;
      rep_sum += f->msgs_repair;
      if ((f->got2 & f->wants) == f->wants) complete2++;
    }
    for (unsigned st = 0; st < s->k; st++) {
      size_t at = (size_t)i * s->k + st;
      if (!(f->wants & (1u << st)) || s->arr_us[at] == NO_ARRIVAL) continue;
      dep_sum += s->depth[at];
      dep_n++;
      if (s->depth[at] > dep_max) dep_max = s->depth[at];
    }
  }
  r->complete_peers = complete;
  r->complete_fraction = n > 1 ? (double)complete / (n - 1) : 1.0;
  r->msgs_per_peer_mean = n > 1 ? (double)msum / (n - 1) : 0;
  r->msgs_per_peer_max = mmax;
  r->complete_fraction_after =
      p->fail_fraction > 0 && survivors ? (double)complete2 / survivors : NAN;
  r->repair_msgs_per_peer =
      p->fail_fraction > 0 && survivors ? (double)rep_sum / survivors : NAN;
  r->depth_mean = dep_n ? dep_sum / (double)dep_n : NAN;
  r->depth_max = dep_max;
  r->delay_penalty_mean = sim_select_mean(&pen);
  r->delay_penalty_p50 = sim_select_quantile(&pen, 0);
  r->delay_penalty_p90 = sim_select_quantile(&pen, 1);
  r->delay_penalty_max = sim_select_max(&pen);
  sim_select_free(&pen);

  for (uint32_t i = 0; i < n; i++) {
    if (s->fp[i].dead && i != SOURCE) continue;
    sc_node *nd = sim_world_node(s->w, i);
    sc_splitstream_stats st;
    sc_splitstream_get_stats(sc_node_forest_c(nd), &st);
    r->anycast_failures += st.anycast_failures;
    r->pushdowns += st.pushdowns;
    r->spare_anycasts += st.spare_anycasts;
    r->tree_anycasts += st.tree_anycasts;
    r->drops_primary += st.drops_primary;
    r->drops_nonprimary += st.drops_nonprimary;
    r->root_overflows += st.root_overflows;
    sc_scribe_stats sst;
    sc_scribe_get_stats(sc_node_scribe_c(nd), &sst);
    r->loops_refused += sst.loops_refused;
    r->loops_passed += sst.loops_passed;
    r->loops_broken += sst.loops_broken;
    r->anycast_steps += sst.anycast_steps;
    r->state_bytes_per_peer += (double)sc_node_mem_bytes(nd);
    r->scribe_bytes_per_peer += (double)sc_scribe_mem_bytes(sc_node_scribe_c(nd));
  }
  r->state_bytes_per_peer /= n;
  r->scribe_bytes_per_peer /= n;

  if (s->ls) {
    sim_linkstress_summary sum;
    sim_linkstress_summarize(s->ls, &sum);
    r->have_link_stress = true;
    r->link_stress.mean = sum.mean;
    r->link_stress.max = sum.max;
    r->link_stress.links = sum.links_used;
    if (p->baselines) {
      uint32_t *recv = malloc((size_t)(n - 1) * sizeof(uint32_t));
      if (recv) {
        for (uint32_t i = 1; i < n; i++)
          recv[i - 1] = i;
        if (sim_linkstress_central_server(s->net, SOURCE, recv, n - 1, s->k, &sum) == 0) {
          r->central_server.mean = sum.mean;
          r->central_server.max = sum.max;
          r->central_server.links = sum.links_used;
        }
        if (sim_linkstress_ip_multicast(s->net, SOURCE, recv, n - 1, s->k, &sum) == 0) {
          r->ip_multicast.mean = sum.mean;
          r->ip_multicast.max = sum.max;
          r->ip_multicast.links = sum.links_used;
        }
        free(recv);
      } else {
        s->failed = 1;
      }
    }
  }
  const sim_world_counters *c = sim_world_counters_get(s->w);
  r->messages = c->messages;
  r->bytes = c->bytes;
  r->run = sim_world_run_stats(s->w);
  depth_breakdown(s);
}

static FILE *open_out(forest_sim *s, const char *name) {
  return sim_out_open(s->prm->out_dir, name, s->log, "forest");
}

static int write_outputs(forest_sim *s) {
  const sim_forest_params *p = s->prm;
  FILE *f = open_out(s, "peers.csv");
  if (!f) return -1;
  fprintf(
      f, "peer,in_degree,capacity,children,children_peak,stripes_wanted,stripes_received,"
         "msgs_build,msgs_repair,crashed\n");
  for (uint32_t i = 0; i < p->peers; i++) {
    fpeer *fp = &s->fp[i];
    unsigned load =
        fp->dead ? 0 : sc_splitstream_load(sc_node_forest_c(sim_world_node(s->w, i)));
    fprintf(f, "%u,%u,%lld,%u,%u,%d,%d,%u,%u,%d\n", i, fp->in_degree,
            fp->capacity == SIM_CAP_UNBOUNDED ? -1LL : (long long)fp->capacity, load,
            fp->children_peak, __builtin_popcount(fp->wants),
            __builtin_popcount(fp->got1 & fp->wants), fp->msgs_build, fp->msgs_repair,
            fp->dead);
  }
  fclose(f);
  f = open_out(s, "delays.csv");
  if (!f) return -1;
  fprintf(f, "peer,stripe,depth,delay_ms,direct_ms,delay_penalty\n");
  for (uint32_t i = 1; i < p->peers; i++) {
    double direct = (double)sim_net_latency_ns(s->net, SOURCE, i) / 1e6;
    for (unsigned st = 0; st < s->k; st++) {
      size_t at = (size_t)i * s->k + st;
      if (s->arr_us[at] == NO_ARRIVAL) continue;
      double d = s->arr_us[at] / 1e3;
      fprintf(f, "%u,%u,%u,%.3f,%.3f,%.4f\n", i, st, s->depth[at], d, direct,
              direct > 0 ? d / direct : 0.0);
    }
  }
  fclose(f);
  f = open_out(s, "timeseries.csv");
  if (!f) return -1;
  fprintf(f, "t_s,phase,live_peers,attached_fraction,forest_msgs\n");
  for (size_t i = 0; i < s->nts; i++)
    fprintf(f, "%.1f,%s,%u,%.6f,%llu\n", s->ts[i].t_s, phase_name(s->ts[i].phase),
            s->ts[i].live, s->ts[i].attached_fraction, (unsigned long long)s->ts[i].msgs);
  fclose(f);
  if (s->ls) {
    f = open_out(s, "linkstress.csv");
    if (!f) return -1;
    sim_linkstress_write_csv(s->ls, f);
    fclose(f);
  }
  f = open_out(s, "summary.json");
  if (!f) return -1;
  sim_forest_result_json(p, s->res, f, true);
  fclose(f);
  return 0;
}

/* ------------------------------------------------------------------- run */

void sim_forest_params_default(sim_forest_params *p) {
  *p = (sim_forest_params){.peers = 1000,
                           .config = SIM_CAP_16X16,
                           .topology = SIM_NET_TRANSIT_STUB,
                           .seed = 1,
                           .stripes = 16,
                           .settle_s = 60,
                           .spread_s = 1,
                           .build_max_s = 900,
                           .repair_max_s = 600,
                           .refine_per_row = 4};
}

static void forest_free(forest_sim *s) {
  sim_world_del(s->w);
  sim_linkstress_del(s->ls);
  sim_net_del(s->net);
  free(s->fp);
  free(s->arr_us);
  free(s->depth);
  free(s->walk_state);
  free(s->walk_buf);
  free(s->ts);
}

int sim_forest_run(const sim_forest_params *p, sim_forest_result *r, FILE *log) {
  memset(r, 0, sizeof(*r));
  r->build_s = r->repair_s = NAN;
  forest_sim S, *s = &S;
  memset(s, 0, sizeof(S));
  s->prm = p;
  s->res = r;
  s->log = log;
  s->k = p->stripes;
  s->wall_start = s->wall_last = sim_wall_s();
  sc_rng_seed(&s->rng, p->seed ^ 0xf0e57000000001ull);
  if (p->peers < 2 || p->stripes == 0 || p->stripes > SC_STRIPES_MAX) {
    if (log) fprintf(log, "forest: need at least 2 peers and 1..16 stripes\n");
    return -1;
  }
  if (sim_net_new_kind(&s->net, p->topology, p->seed, p->peers) != 0) {
    if (log) fprintf(log, "forest: cannot build the network model\n");
    return -1;
  }
  uint32_t n = p->peers;
  s->fp = calloc(n, sizeof(fpeer));
  s->arr_us = malloc((size_t)n * s->k * sizeof(uint32_t));
  s->depth = calloc((size_t)n * s->k, 1);
  s->walk_state = malloc(n);
  s->walk_buf = malloc((size_t)n * sizeof(uint32_t));
  if (!s->fp || !s->arr_us || !s->depth || !s->walk_state || !s->walk_buf) goto oom;
  memset(s->arr_us, 0xFF, (size_t)n * s->k * sizeof(uint32_t));
  if (p->topology == SIM_NET_TRANSIT_STUB && sim_linkstress_new(&s->ls, s->net, n) != 0)
    goto oom;

  sim_world_config wc;
  sim_world_config_init(&wc, SIM_WORLD_NODES, n, p->seed);
  wc.loss = p->loss;
  wc.wire_check = p->wire_check;
  wc.node.forest.stripes = s->k;
  wc.node.pastry.refine_per_row = p->refine_per_row;
  sim_world_hooks hooks = {.sent = h_sent,
                           .received = h_received,
                           .stripe_data = h_stripe_data,
                           .stripe_changed = h_stripe_changed,
                           .event = h_event};
  if (sim_world_new(&s->w, &wc, s->net, &hooks, s) != 0) goto oom;
  for (uint32_t i = 0; i < n; i++) {
    sc_node_config nc2 = wc.node;
    uint32_t in, cap;
    sim_cap_draw_or_source(p->config, p->seed, i, SOURCE, s->k, &in, &cap);
    s->fp[i].in_degree = in;
    s->fp[i].capacity = cap;
    nc2.forest.in_degree = in;
    nc2.forest.capacity = cap == SIM_CAP_UNBOUNDED ? SC_CAPACITY_UNBOUNDED : cap;
    if (sim_world_add(s->w, i, &nc2) != 0) goto oom;
  }
  s->join_gap_ns = (uint64_t)(1e9 / sim_world_join_rate(n, p->join_rate));
  schedule(s, 0, EV_JOIN, 0);
  if (sim_world_run_all(s->w, more, progress, s) != 0) s->failed = 1;
  if (s->failed) {
    if (log) fprintf(log, "forest: the simulation failed (out of memory?)\n");
    forest_free(s);
    return -1;
  }
  collect(s);
  r->machine = sim_machine_measure(s->wall_start, r->run.sim_events);
  int rv = 0;
  if (p->out_dir && write_outputs(s) != 0) rv = -1;
  forest_free(s);
  return rv;
oom:
  if (log) fprintf(log, "forest: out of memory setting up %u peers\n", n);
  forest_free(s);
  return -1;
}

/* ------------------------------------------------------------------- JSON */

enum { SRC_PRM, SRC_RES, SRC_ROW };
#define PRM(m) SIM_JSON_FIELD(sim_forest_params, SRC_PRM, m)
#define RES(m) SIM_JSON_FIELD(sim_forest_result, SRC_RES, m)
#define RUN(m) SIM_JSON_RUN(sim_forest_result, SRC_RES, m)

static const sim_json_field json_head[] = {RES(peers), RES(receivers)};
static const sim_json_field json_build[] = {PRM(stripes),
                                            RES(build_s),
                                            RES(complete_fraction),
                                            RES(complete_peers),
                                            RES(msgs_per_peer_mean),
                                            RES(msgs_per_peer_max),
                                            RES(children_max),
                                            RES(children_mean),
                                            RES(capacity_violations),
                                            RES(multi_interior_fraction),
                                            RES(nonprimary_children),
                                            RES(nonprimary_interior),
                                            RES(root_overflows),
                                            RES(depth_mean),
                                            RES(depth_max),
                                            RES(delay_penalty_mean),
                                            RES(delay_penalty_p50),
                                            RES(delay_penalty_p90),
                                            RES(delay_penalty_max)};
static const sim_json_field json_link_stress[] = {
    SIM_JSON_FIELD_AS(sim_forest_result, SRC_RES, link_stress.mean, "link_stress_mean"),
    SIM_JSON_FIELD_AS(sim_forest_result, SRC_RES, link_stress.max, "link_stress_max"),
    SIM_JSON_FIELD_AS(sim_forest_result, SRC_RES, link_stress.links,
                      "link_stress_links")};
static const sim_json_field json_ls_row[] = {
    SIM_JSON_FIELD(sim_linkstress_row, SRC_ROW, mean),
    SIM_JSON_FIELD(sim_linkstress_row, SRC_ROW, max),
    SIM_JSON_FIELD(sim_linkstress_row, SRC_ROW, links)};
static const sim_json_field json_protocol[] = {
    RES(anycast_failures), RES(pushdowns),        RES(spare_anycasts), RES(tree_anycasts),
    RES(drops_primary),    RES(drops_nonprimary), RES(loops_refused),  RES(loops_passed),
    RES(loops_broken),     RES(anycast_steps)};
static const sim_json_field json_tree_check[] = {RES(cycles), RES(wrong_roots),
                                                 RES(unattached)};
static const sim_json_field json_repair[] = {PRM(fail_fraction), RES(crashed),
                                             RES(repair_s), RES(complete_fraction_after),
                                             RES(repair_msgs_per_peer)};
static const sim_json_field json_tail[] = {
    RES(messages),
    RES(bytes),
    RES(state_bytes_per_peer),
    RES(scribe_bytes_per_peer),
    RUN(sim_events),
    RUN(sim_time_s),
    SIM_JSON_RUN_DIGEST(sim_forest_result, SRC_RES),
    PRM(seed)};

static void ls_json(sim_json *j, const char *key, const sim_linkstress_row *row) {
  const void *srcs[] = {[SRC_ROW] = row};
  sim_json_object(j, key);
  SIM_JSON_FIELDS(j, json_ls_row, srcs);
  sim_json_object_end(j);
}

void sim_forest_result_json(const sim_forest_params *p, const sim_forest_result *r,
                            FILE *f, bool pretty) {
  const void *srcs[] = {[SRC_PRM] = p, [SRC_RES] = r};
  sim_json j;
  sim_json_begin(&j, f, pretty);
  SIM_JSON_FIELDS(&j, json_head, srcs);
  sim_json_str(&j, "config", sim_cap_name(p->config));
  sim_json_str(&j, "topology", sim_net_kind_name(p->topology));
  SIM_JSON_FIELDS(&j, json_build, srcs);
  if (r->have_link_stress) {
    SIM_JSON_FIELDS(&j, json_link_stress, srcs);
    if (p->baselines) {
      ls_json(&j, "central_server", &r->central_server);
      ls_json(&j, "ip_multicast", &r->ip_multicast);
    }
  } else {
    sim_json_f64(&j, "link_stress_mean", NAN);
    sim_json_f64(&j, "link_stress_max", NAN);
  }
  SIM_JSON_FIELDS(&j, json_protocol, srcs);
  static const char *via_names[SC_VIA_KINDS] = {"none", "routed", "pushdown", "spare",
                                                "tree"};
  sim_json_object(&j, "depth_via");
  for (unsigned v = 0; v < SC_VIA_KINDS; v++)
    sim_json_f64(&j, via_names[v], r->depth_via_mean[v]);
  sim_json_f64(&j, "nonprimary", r->depth_nonprimary_mean);
  sim_json_object_end(&j);
  sim_json_object(&j, "depth_flat");
  for (unsigned v = 0; v < SC_VIA_KINDS; v++)
    sim_json_f64(&j, via_names[v], r->depth_flat_mean[v]);
  sim_json_object_end(&j);
  sim_json_object(&j, "parent_via");
  for (unsigned v = 0; v < SC_VIA_KINDS; v++)
    sim_json_f64(&j, via_names[v], r->parent_via_fraction[v]);
  sim_json_object_end(&j);
  sim_json_object(&j, "tree_check");
  SIM_JSON_FIELDS(&j, json_tree_check, srcs);
  sim_json_object_end(&j);
  if (p->fail_fraction > 0) SIM_JSON_FIELDS(&j, json_repair, srcs);
  SIM_JSON_FIELDS(&j, json_tail, srcs);
  sim_json_machine(&j, &r->machine);
  sim_json_end(&j);
}
