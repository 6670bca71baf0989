/* stream_sim.c — the streaming experiment (see stream_sim.h). */
#include "sim/stream_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "core/node.h"
#include "core/rng.h"
#include "sim/arena.h"
#include "sim/churn.h"
#include "sim/json.h"
#include "sim/stats.h"
#include "sim/world.h"

#define TICK_NS SIM_NS_PER_S /* time-series rows */
#define SOURCE  0u
/* Control traffic a peer's uplink is given on top of its share of the
 * stream (heartbeats, Pastry maintenance, repair requests). */
#define CONTROL_ALLOWANCE_BPS 32000.0
/* A message waits at most this long in an upstream queue (tail drop): a
 * home router's upstream buffer at these rates. */
#define UPLINK_QUEUE_MAX_NS (2000ull * 1000000ull)

enum {
  EV_JOIN = SIM_WORLD_EV_USER, /* arg: initial peer joining the overlay */
  EV_BUILD,                    /* receivers subscribe */
  EV_START,                    /* arg: peer subscribes once Pastry is joined */
  EV_T0,                       /* the source starts */
  EV_GEN,                      /* the source cuts one generation */
  EV_CHURN,                    /* the churn schedule's next event(s) */
  EV_GONE,                     /* arg: a politely departing peer's grace ends */
  EV_TICK,                     /* a time-series row */
  EV_CUT,                      /* the stripe cut */
  EV_END,
  /* Kinds enter the trace digest: new ones go last, so runs without them
   * keep their history. */
  EV_PART, /* arg 1: the partition starts; 0: it heals */
  EV_CALM, /* loss stops */
};

enum { ST_NONE, ST_JOINING, ST_PLAYING, ST_DEPARTING, ST_GONE };

typedef struct speer {
  uint64_t join_ns;          /* when it subscribed */
  uint64_t first_deliver_ns; /* 0: nothing played yet */
  uint32_t delivered, lost;  /* generations, this session */
  uint64_t lag_sum_ns;
  uint16_t mask; /* stripes that brought a chunk this tick */
  uint8_t state;
} speer;

typedef struct ts_row {
  double t_s;
  uint32_t online;
  double stripes_mean;
  uint64_t delivered, lost, repair_asks, uplink_drops;
} ts_row;

/* The per-session samples behind the result's means and quantiles. */
typedef struct session_samples {
  sim_samples cont, cont_surv, startup_ms, lag_ms;
} session_samples;

typedef struct stream_sim {
  const sim_stream_params *prm;
  sim_stream_result *res;
  FILE *log;
  sim_net *net;
  sim_world *w;
  sim_churn_sched *churn;
  sc_rng rng;
  speer *sp;
  uint64_t *uplink_bps;
  uint32_t npeers; /* slots: initial peers plus every arrival */
  uint32_t k;
  uint64_t t0_ns, end_ns, gen_ns;
  uint64_t gens;
  uint64_t join_gap_ns;
  uint64_t bytes0, payload0;
  /* per tick */
  uint64_t tick_delivered, tick_lost;
  uint64_t repair_asks_last, uplink_drops_last;
  ts_row *ts;
  size_t nts, ts_cap;
  /* per session */
  session_samples q;
  uint64_t sum_delivered, sum_lost, complete_sessions;
  uint64_t repair_asks, repair_got, chunks_stored, catchup_asks;
  FILE *sessions_csv;
  uint8_t *expect;  /* payload mode: one generation's bytes, rebuilt per check */
  uint8_t *forgers; /* sim_world_config.forgers; NULL: none */
  uint8_t auth_pk[SC_AUTH_PK_BYTES], auth_sk[SC_AUTH_SK_BYTES];
  /* invariants: per peer, 1 + the next generation it must resolve (0: none
   * resolved yet), and when it arrived */
  uint64_t *inv_next, *inv_arrive_ns;
  bool parted; /* the partition is on */
  double wall_start, wall_last;
  double wall_t0;     /* wall clock when the stream started */
  uint64_t events_t0; /* events processed before it */
  bool streaming, done;
  int failed;
} stream_sim;

/* ------------------------------------------------------------- payload */

/* The stream's byte at offset o: a pure function of (seed, o), so any
 * receiver's output can be checked without keeping the stream. */
static uint8_t stream_byte(uint64_t seed, uint64_t o) {
  return (uint8_t)(sc_mix64(seed ^ (o >> 3)) >> (8 * (o & 7)));
}

/* Whether data is the stream's bytes from offset base: a word of the
 * stream at a time where the offsets allow (the same bytes as stream_byte). */
static bool stream_bytes_equal(uint64_t seed, uint64_t base, const uint8_t *data,
                               size_t len) {
  size_t i = 0;
  for (; i < len && ((base + i) & 7) != 0; i++)
    if (data[i] != stream_byte(seed, base + i)) return false;
  for (; i + 8 <= len; i += 8) {
    uint64_t w = sc_mix64(seed ^ ((base + i) >> 3));
    for (unsigned b = 0; b < 8; b++)
      if (data[i + b] != (uint8_t)(w >> (8 * b))) return false;
  }
  for (; i < len; i++)
    if (data[i] != stream_byte(seed, base + i)) return false;
  return true;
}

static uint32_t gen_bytes(const stream_sim *s) {
  return s->prm->fec_data * s->prm->chunk_bytes;
}

/* ---------------------------------------------------------------- hooks */

/* A receiver resolves generations one after another (docs/stream.md): a
 * skipped one is a silent gap, a repeated one a double count. */
static void inv_resolved(stream_sim *s, uint32_t peer, uint64_t gen) {
  if (!s->inv_next) return;
  if (s->inv_next[peer] != 0 && s->inv_next[peer] != gen + 1) s->res->inv.order_breaks++;
  s->inv_next[peer] = gen + 2;
}

/* The partition's side of peer i: a pure function of (seed, i). */
static bool part_side(const stream_sim *s, uint32_t i) {
  if (i == SOURCE) return false;
  uint64_t h = sc_mix64(s->prm->seed ^ 0x9a7d1e5ull ^ ((uint64_t)i << 20));
  return (double)(h >> 11) * 0x1p-53 < s->prm->partition_fraction;
}

static bool h_cut(void *ctx, uint32_t from, uint32_t to, uint64_t now) {
  (void)now;
  const stream_sim *s = ctx;
  return s->parted && part_side(s, from) != part_side(s, to);
}

static void h_stripe_data(void *ctx, uint32_t peer, unsigned stripe,
                          const sc_msg_multicast *m, uint64_t now) {
  (void)m;
  (void)now;
  stream_sim *s = ctx;
  s->sp[peer].mask |= (uint16_t)(1u << stripe);
}

static void h_deliver(void *ctx, uint32_t peer, uint64_t gen, const uint8_t *data,
                      size_t datalen, uint64_t src_ts_ns, uint64_t now) {
  stream_sim *s = ctx;
  speer *p = &s->sp[peer];
  inv_resolved(s, peer, gen);
  p->delivered++;
  s->tick_delivered++;
  if (p->first_deliver_ns == 0) p->first_deliver_ns = now;
  if (now > src_ts_ns) p->lag_sum_ns += now - src_ts_ns;
  if (s->prm->payload) {
    uint64_t base = gen * gen_bytes(s);
    bool ok = data != NULL && datalen == gen_bytes(s);
    if (ok) ok = stream_bytes_equal(s->prm->seed, base, data, datalen);
    if (!ok) s->res->payload_mismatches++;
  }
}

static void h_prefetch(void *ctx, uint32_t peer) {
  stream_sim *s = ctx;
  if (peer < s->npeers) __builtin_prefetch(&s->sp[peer]);
}

static void h_lost(void *ctx, uint32_t peer, uint64_t gen, uint64_t now) {
  (void)now;
  stream_sim *s = ctx;
  inv_resolved(s, peer, gen);
  s->sp[peer].lost++;
  s->tick_lost++;
}

/* --------------------------------------------------------------- helpers */

static void session_samples_init(session_samples *q) {
  sim_samples_init(&q->cont);
  sim_samples_init(&q->cont_surv);
  sim_samples_init(&q->startup_ms);
  sim_samples_init(&q->lag_ms);
}

static void session_samples_free(session_samples *q) {
  sim_samples_free(&q->cont);
  sim_samples_free(&q->cont_surv);
  sim_samples_free(&q->startup_ms);
  sim_samples_free(&q->lag_ms);
}

static void schedule(stream_sim *s, uint64_t t, int kind, uint32_t arg) {
  sim_world_schedule(s->w, t, (uint32_t)kind, arg);
}

static double coded_rate_bps(const sim_stream_params *p) {
  return p->rate_kbps * 1000.0 * (double)(p->fec_data + p->fec_parity) / p->fec_data;
}

/* Creates peer i with its capacity draw and uplink. */
static int add_peer(stream_sim *s, uint32_t i) {
  const sim_stream_params *p = s->prm;
  sc_node_config nc;
  sc_node_config_default(&nc);
  nc.forest.stripes = s->k;
  nc.pastry.refine_per_row = p->refine_per_row;
  uint32_t in, cap;
  sim_cap_draw_or_source(p->config, p->seed, i, SOURCE, s->k, &in, &cap);
  if (i != SOURCE) in = s->k; /* a listener wants every stripe of its stream */
  nc.forest.in_degree = in;
  nc.forest.capacity = cap == SIM_CAP_UNBOUNDED ? SC_CAPACITY_UNBOUNDED : cap;
  nc.stream = true;
  nc.stream_source = i == SOURCE;
  sc_channel_config *cc = &nc.stream_cfg;
  cc->stream.data_chunks = p->fec_data;
  cc->stream.parity_chunks = p->fec_parity;
  cc->stream.chunk_bytes = p->chunk_bytes;
  cc->stream.buffer_ns = (uint64_t)(p->buffer_ms * 1e6);
  double gens_in_buffer = p->buffer_ms * 1e6 / (double)s->gen_ns;
  uint32_t window = (uint32_t)(4 * gens_in_buffer) + 32;
  cc->stream.window_gens = window > SC_STREAM_WINDOW_MAX ? SC_STREAM_WINDOW_MAX : window;
  cc->stream.symbolic = !p->payload;
  if (p->sign) {
    cc->auth = true;
    memcpy(cc->auth_pk, s->auth_pk, sizeof cc->auth_pk);
    if (i == SOURCE) memcpy(cc->auth_sk, s->auth_sk, sizeof cc->auth_sk);
  }
  cc->repair = p->repair;
  cc->catchup = p->catchup;
  cc->backfill_gens = p->backfill_gens;
  cc->repair_wait_ns = (uint64_t)(p->repair_wait_ms * 1e6);
  if (p->uplink_headroom > 0 && cap != SIM_CAP_UNBOUNDED) {
    /* Forwarding cap children costs cap/k of the coded stream; the source
     * also sends every chunk once, to the stripe roots. */
    double share = (double)(cap > 0 ? cap : 1) / (double)s->k + (i == SOURCE ? 1.0 : 0.0);
    s->uplink_bps[i] = (uint64_t)(p->uplink_headroom * share * coded_rate_bps(p) +
                                  CONTROL_ALLOWANCE_BPS);
  }
  int rv = sim_world_add(s->w, i, &nc);
  if (rv == 0) s->sp[i].state = ST_JOINING;
  return rv;
}

/* Closes peer i's session into the statistics. */
static void end_session(stream_sim *s, uint32_t i, bool survivor) {
  speer *p = &s->sp[i];
  sc_node *nd = sim_world_node(s->w, i);
  if (nd && i != SOURCE) {
    sc_channel_stats cs;
    sc_node_stream_stats(nd, &cs);
    s->repair_asks += cs.repair_asks;
    s->catchup_asks += cs.catchup_asks;
    s->res->backfill_asks += cs.backfill_asks;
    s->res->backfilled_gens += cs.backfilled_gens;
    s->repair_got += cs.repair_chunks_got;
    s->chunks_stored += cs.stream.chunks_stored;
    s->res->chunks_forged += cs.auth.chunks_forged;
    s->res->chunks_good += cs.auth.chunks_good;
    s->res->sig_checks += cs.auth.sig_checks;
    s->res->auth_parent_switches += cs.auth_parent_switches;
    if (s->prm->invariants &&
        (cs.stream.gens_delivered != p->delivered || cs.stream.gens_lost != p->lost))
      s->res->inv.accounting++;
  }
  if (i == SOURCE) return;
  uint64_t resolved = (uint64_t)p->delivered + p->lost;
  if (resolved == 0) return;
  double c = (double)p->delivered / (double)resolved;
  s->res->sessions++;
  s->sum_delivered += p->delivered;
  s->sum_lost += p->lost;
  if (p->lost == 0) s->complete_sessions++;
  if (sim_samples_add(&s->q.cont, c) != 0) s->failed = 1;
  if (survivor && sim_samples_add(&s->q.cont_surv, c) != 0) s->failed = 1;
  if (p->first_deliver_ns) {
    uint64_t from = p->join_ns > s->t0_ns ? p->join_ns : s->t0_ns;
    double st =
        p->first_deliver_ns > from ? (double)(p->first_deliver_ns - from) / 1e6 : 0;
    if (sim_samples_add(&s->q.startup_ms, st) != 0) s->failed = 1;
  }
  if (p->delivered &&
      sim_samples_add(&s->q.lag_ms, (double)p->lag_sum_ns / p->delivered / 1e6))
    s->failed = 1;
  if (s->sessions_csv)
    fprintf(s->sessions_csv, "%u,%.3f,%u,%u,%.6f,%d\n", i,
            p->join_ns > s->t0_ns ? (double)(p->join_ns - s->t0_ns) / 1e9 : 0.0,
            p->delivered, p->lost, c, survivor ? 1 : 0);
}

static void gone(stream_sim *s, uint32_t i) {
  end_session(s, i, false);
  s->sp[i].state = ST_GONE;
  sim_world_retire(s->w, i);
}

static void ts_push(stream_sim *s, uint64_t now) {
  void *ts = s->ts;
  if (sim_array_grow(&ts, &s->ts_cap, s->nts, sizeof(ts_row), 256) != 0) {
    s->failed = 1;
    return;
  }
  s->ts = ts;
  uint32_t online = 0;
  uint64_t stripes = 0;
  for (uint32_t i = 1; i < s->npeers; i++) {
    speer *p = &s->sp[i];
    if (p->state == ST_PLAYING || p->state == ST_DEPARTING) {
      online++;
      stripes += (uint64_t)__builtin_popcount(p->mask);
    }
    p->mask = 0;
  }
  const sim_world_counters *c = sim_world_counters_get(s->w);
  ts_row *row = &s->ts[s->nts++];
  row->t_s = (double)(now - s->t0_ns) / 1e9;
  row->online = online;
  row->stripes_mean = online ? (double)stripes / online : 0;
  row->delivered = s->tick_delivered;
  row->lost = s->tick_lost;
  row->repair_asks = c->by_type[SC_MSG_REPAIR_REQ] - s->repair_asks_last;
  row->uplink_drops = c->uplink_drops - s->uplink_drops_last;
  s->repair_asks_last = c->by_type[SC_MSG_REPAIR_REQ];
  s->uplink_drops_last = c->uplink_drops;
  s->tick_delivered = s->tick_lost = 0;
}

static bool more(void *ctx) {
  const stream_sim *s = ctx;
  return !s->done && !s->failed;
}

static void progress(void *ctx, bool force) {
  stream_sim *s = ctx;
  sim_world_progress pg;
  if (!s->prm->progress || !s->log ||
      !sim_world_progress_due(s->w, s->wall_start, &s->wall_last, 2.0, force, &pg))
    return;
  if (s->streaming) {
    double done =
        ((double)sim_world_now(s->w) - (double)s->t0_ns) / (double)(s->end_ns - s->t0_ns);
    double eta = done > 0 ? pg.wall_s * (1 - done) / done : 0;
    fprintf(s->log,
            "stream: t=%.0fs (%.0f%% of the stream) gens %llu events %.2fM/s wall "
            "%.0fs eta %.0fs\n",
            pg.sim_s, 100 * done, (unsigned long long)s->gens, pg.events_per_s / 1e6,
            pg.wall_s, eta);
  } else {
    fprintf(s->log, "stream: setting up t=%.0fs joined %u/%u events %.2fM/s wall %.0fs\n",
            pg.sim_s, sim_world_joined(s->w), s->prm->peers, pg.events_per_s / 1e6,
            pg.wall_s);
  }
  fflush(s->log);
}

/* ----------------------------------------------------------------- churn */

static void churn_apply(stream_sim *s, const sim_churn_event *ev, uint64_t now) {
  uint32_t i = ev->peer;
  if (i >= s->npeers) {
    s->failed = 1;
    return;
  }
  speer *p = &s->sp[i];
  switch (ev->kind) {
  case SIM_CHURN_JOIN:
    if (p->state != ST_NONE) break;
    s->res->arrivals++;
    if (s->inv_arrive_ns) s->inv_arrive_ns[i] = now;
    if (add_peer(s, i) != 0 || sim_world_join(s->w, i) != 0) {
      s->failed = 1;
      break;
    }
    schedule(s, now + SIM_NS_PER_S, EV_START, i);
    break;
  case SIM_CHURN_CRASH:
    if (p->state == ST_NONE || p->state == ST_GONE || i == SOURCE) break;
    s->res->crashes++;
    gone(s, i);
    break;
  case SIM_CHURN_LEAVE_POLITE:
    if (p->state == ST_NONE || p->state == ST_GONE || p->state == ST_DEPARTING ||
        i == SOURCE)
      break;
    s->res->polite_departures++;
    p->state = ST_DEPARTING;
    if (sc_node_depart(sim_world_node(s->w, i), now) == SC_ERR_NOMEM) s->failed = 1;
    sim_world_rearm(s->w, i);
    schedule(s, now + (uint64_t)(s->prm->grace_s * 1e9), EV_GONE, i);
    break;
  default:
    break;
  }
}

/* Crashes every peer whose forwarding lies only in the cut stripes: their
 * interior peers and roots. */
static void stripe_cut(stream_sim *s) {
  uint32_t cut = s->prm->cut_stripes;
  for (uint32_t i = 1; i < s->npeers; i++) {
    speer *p = &s->sp[i];
    if (p->state != ST_PLAYING) continue;
    const sc_node *nd = sim_world_node(s->w, i);
    const sc_scribe *sb = sc_node_scribe_c(nd);
    const sc_splitstream *ss = sc_node_forest_c(nd);
    bool in_cut = false, outside = false;
    for (unsigned st = 0; st < s->k; st++) {
      unsigned g = sc_splitstream_group(ss, st);
      bool forwards = sc_scribe_children(sb, g) > 0 || sc_scribe_is_root(sb, g);
      if (!forwards) continue;
      if (st < cut)
        in_cut = true;
      else
        outside = true;
    }
    if (in_cut && !outside) {
      s->res->cut_crashes++;
      gone(s, i);
    }
  }
}

/* ------------------------------------------------------------ invariants */

static bool live_state(uint8_t st) {
  return st == ST_PLAYING || st == ST_DEPARTING;
}

/* SplitStream §3: a peer forwards to at most its capacity, plus one child
 * per stripe it roots (sc_splitstream_admit). */
static void inv_capacity(stream_sim *s) {
  for (uint32_t i = 0; i < s->npeers; i++) {
    if (!live_state(s->sp[i].state) && i != SOURCE) continue;
    const sc_splitstream *ss = sc_node_forest_c(sim_world_node(s->w, i));
    uint32_t cap = sc_splitstream_config_get(ss)->capacity;
    if (cap != SC_CAPACITY_UNBOUNDED &&
        sc_splitstream_load(ss) > (uint64_t)cap + sc_splitstream_root_allowance(ss))
      s->res->inv.capacity_excess++;
  }
}

/* Settled: subscribed (or arrived) at least quiet_s before the end. */
static bool settled(const stream_sim *s, uint64_t t_ns) {
  return t_ns + (uint64_t)(s->prm->quiet_s * 1e9) <= s->end_ns;
}

/* Walks every survivor's parent chain in stripe st: it must reach a root
 * without repeating a peer (Scribe's trees are trees), every chain the same
 * root, and through live peers only. mark[] is scratch, npeers bytes. */
static void inv_stripe(stream_sim *s, unsigned st, uint8_t *mark, uint32_t *chain) {
  enum { NEW = 0, ON, DONE };
  sim_stream_invariants *inv = &s->res->inv;
  memset(mark, NEW, s->npeers);
  uint32_t root = UINT32_MAX;
  for (uint32_t i = 1; i < s->npeers; i++) {
    if (s->sp[i].state != ST_PLAYING || mark[i] != NEW) continue;
    bool hold = settled(s, s->sp[i].join_ns);
    uint32_t len = 0, cur = i;
    for (;;) {
      if (mark[cur] == DONE) break;
      if (mark[cur] == ON) {
        inv->cycles++;
        break;
      }
      mark[cur] = ON;
      chain[len++] = cur;
      const sc_node *nd = sim_world_node(s->w, cur);
      const sc_scribe *sb = sc_node_scribe_c(nd);
      unsigned g = sc_splitstream_group(sc_node_forest_c(nd), st);
      if (sc_scribe_is_root(sb, g)) {
        if (root == UINT32_MAX)
          root = cur;
        else if (root != cur)
          inv->extra_roots++;
        break;
      }
      sc_ref parent;
      if (!sc_scribe_parent(sb, g, &parent) || parent.addr >= s->npeers ||
          !sim_world_alive(s->w, (uint32_t)parent.addr)) {
        if (hold) inv->unattached++;
        break;
      }
      cur = (uint32_t)parent.addr;
    }
    for (uint32_t k = 0; k < len; k++)
      mark[chain[k]] = DONE;
  }
}

/* Settled survivors play to the end: their last resolved generation is
 * within a playout buffer (and slack for a long first path) of the last
 * one published. Settled arrivals have subscribed. */
static void inv_liveness(stream_sim *s) {
  sim_stream_invariants *inv = &s->res->inv;
  uint64_t slack_ns = (uint64_t)(s->prm->buffer_ms * 1e6) + 5 * SIM_NS_PER_S;
  uint64_t slack = slack_ns / s->gen_ns + 2;
  for (uint32_t i = 1; i < s->npeers; i++) {
    const speer *p = &s->sp[i];
    if (p->state == ST_JOINING && s->inv_arrive_ns[i] && settled(s, s->inv_arrive_ns[i]))
      inv->stuck_joining++;
    if (p->state != ST_PLAYING || !settled(s, p->join_ns)) continue;
    if (s->inv_next[i] == 0 || s->inv_next[i] - 1 + slack < s->gens) inv->stalled++;
  }
}

static void inv_check_end(stream_sim *s) {
  inv_capacity(s);
  inv_liveness(s);
  uint8_t *mark = malloc(s->npeers);
  uint32_t *chain = malloc(s->npeers * sizeof(uint32_t));
  if (!mark || !chain)
    s->failed = 1;
  else
    for (unsigned st = 0; st < s->k; st++)
      inv_stripe(s, st, mark, chain);
  free(mark);
  free(chain);
}

/* ---------------------------------------------------------------- events */

static void h_event(void *ctx, const sim_event *ev) {
  stream_sim *s = ctx;
  uint64_t now = ev->t_ns;
  const sim_stream_params *p = s->prm;
  switch (ev->kind) {
  case EV_JOIN: {
    uint32_t i = ev->arg;
    if (sim_world_join(s->w, i) != 0) s->failed = 1;
    if (i + 1 < p->peers)
      schedule(s, now + sim_exp_gap_ns(&s->rng, s->join_gap_ns), EV_JOIN, i + 1);
    else
      schedule(s, now + (uint64_t)(p->settle_s * 1e9), EV_BUILD, 0);
    break;
  }
  case EV_BUILD: {
    uint64_t spread = (uint64_t)(p->spread_s * 1e9);
    for (uint32_t i = 1; i < p->peers; i++)
      schedule(s, now + (spread ? sc_rng_next(&s->rng) % spread : 0), EV_START, i);
    schedule(s, now + (uint64_t)(p->build_wait_s * 1e9), EV_T0, 0);
    break;
  }
  case EV_START: {
    uint32_t i = ev->arg;
    speer *sp = &s->sp[i];
    if (sp->state != ST_JOINING) break;
    sc_node *nd = sim_world_node(s->w, i);
    if (!sc_pastry_is_joined(sc_node_pastry(nd))) {
      schedule(s, now + SIM_NS_PER_S, EV_START, i); /* not in the overlay yet */
      break;
    }
    if (sc_node_start_forest(nd, now) == SC_ERR_NOMEM) s->failed = 1;
    sp->state = ST_PLAYING;
    sp->join_ns = now;
    sim_world_rearm(s->w, i);
    break;
  }
  case EV_T0: {
    s->t0_ns = now;
    s->wall_t0 = sim_wall_s();
    s->events_t0 = sim_world_engine(s->w)->events_processed;
    if (p->progress && s->log)
      fprintf(s->log, "stream: forest built: t=%.0fs, %llu events in %.1fs wall\n",
              (double)now / 1e9, (unsigned long long)s->events_t0,
              s->wall_t0 - s->wall_start);
    s->end_ns = now + (uint64_t)(p->duration_s * 1e9);
    s->streaming = true;
    const sim_world_counters *c = sim_world_counters_get(s->w);
    s->bytes0 = c->bytes;
    s->payload0 = c->payload_bytes;
    s->repair_asks_last = c->by_type[SC_MSG_REPAIR_REQ];
    s->uplink_drops_last = c->uplink_drops;
    schedule(s, now, EV_GEN, 0);
    schedule(s, now + TICK_NS, EV_TICK, 0);
    schedule(s, s->end_ns, EV_END, 0);
    uint64_t t = sim_churn_sched_peek_ns(s->churn);
    if (t != UINT64_MAX) schedule(s, now + t, EV_CHURN, 0);
    if (p->cut_stripes) schedule(s, now + (uint64_t)(p->cut_at_s * 1e9), EV_CUT, 0);
    if (p->calm_at_s > 0) schedule(s, now + (uint64_t)(p->calm_at_s * 1e9), EV_CALM, 0);
    if (p->partition_fraction > 0 && p->partition_for_s > 0) {
      uint64_t at = now + (uint64_t)(p->partition_at_s * 1e9);
      schedule(s, at, EV_PART, 1);
      schedule(s, at + (uint64_t)(p->partition_for_s * 1e9), EV_PART, 0);
    }
    break;
  }
  case EV_CUT:
    stripe_cut(s);
    break;
  case EV_GEN: {
    if (now >= s->end_ns) break;
    sc_node *src = sim_world_node(s->w, SOURCE);
    uint32_t gb = gen_bytes(s);
    int rv;
    if (p->payload) {
      uint64_t base = s->gens * gb;
      for (uint32_t i = 0; i < gb; i++)
        s->expect[i] = stream_byte(p->seed, base + i);
      if (p->inject_corruption && s->gens == 3) s->expect[gb / 2] ^= 0x20;
      rv = sc_node_source_write(src, s->expect, gb, now);
    } else {
      rv = sc_node_source_write(src, NULL, gb, now);
    }
    if (rv != 0) s->failed = 1;
    s->gens++;
    sim_world_rearm(s->w, SOURCE);
    schedule(s, now + s->gen_ns, EV_GEN, 0);
    break;
  }
  case EV_CHURN: {
    sim_churn_event ce;
    while (sim_churn_sched_peek_ns(s->churn) + s->t0_ns <= now) {
      int rv = sim_churn_sched_next(s->churn, &ce);
      if (rv != 1) {
        if (rv < 0) s->failed = 1;
        break;
      }
      churn_apply(s, &ce, now);
    }
    uint64_t t = sim_churn_sched_peek_ns(s->churn);
    if (t != UINT64_MAX) schedule(s, s->t0_ns + t, EV_CHURN, 0);
    break;
  }
  case EV_GONE: {
    uint32_t i = ev->arg;
    if (s->sp[i].state != ST_DEPARTING) break;
    sc_node_depart_finish(sim_world_node(s->w, i), now);
    gone(s, i);
    break;
  }
  case EV_PART:
    s->parted = ev->arg != 0;
    break;
  case EV_CALM:
    sim_world_set_loss(s->w, 0);
    break;
  case EV_TICK:
    if (p->invariants) inv_capacity(s);
    ts_push(s, now);
    if (now + TICK_NS <= s->end_ns) schedule(s, now + TICK_NS, EV_TICK, 0);
    break;
  case EV_END:
    if (p->invariants) inv_check_end(s);
    s->done = true;
    sim_world_stop(s->w);
    break;
  default:
    break;
  }
}

/* --------------------------------------------------------------- outputs */

static FILE *open_out(stream_sim *s, const char *name) {
  return sim_out_open(s->prm->out_dir, name, s->log, "stream");
}

static int write_timeseries(stream_sim *s) {
  FILE *f = open_out(s, "timeseries.csv");
  if (!f) return -1;
  fputs("t_s,peers_online,stripes_received_mean,continuity,gens_delivered,gens_lost,"
        "repair_requests,uplink_drops\n",
        f);
  for (size_t i = 0; i < s->nts; i++) {
    const ts_row *r = &s->ts[i];
    uint64_t res = r->delivered + r->lost;
    fprintf(f, "%.0f,%u,%.4f,", r->t_s, r->online, r->stripes_mean);
    if (res) fprintf(f, "%.6f", (double)r->delivered / (double)res);
    fprintf(f, ",%llu,%llu,%llu,%llu\n", (unsigned long long)r->delivered,
            (unsigned long long)r->lost, (unsigned long long)r->repair_asks,
            (unsigned long long)r->uplink_drops);
  }
  return fclose(f) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------- run */

/* The result, from the closed sessions and the world's counters. */
static void collect(stream_sim *s) {
  sim_stream_result *r = s->res;
  r->gens_published = s->gens;
  r->continuity_mean = sim_samples_mean(&s->q.cont);
  r->continuity_p01 = sim_samples_quantile(&s->q.cont, 0.01);
  r->continuity_min = sim_samples_quantile(&s->q.cont, 0.0);
  r->survivors_continuity_mean = sim_samples_mean(&s->q.cont_surv);
  r->survivors_continuity_p01 = sim_samples_quantile(&s->q.cont_surv, 0.01);
  uint64_t resolved = s->sum_delivered + s->sum_lost;
  r->generations_lost_fraction = resolved ? (double)s->sum_lost / (double)resolved : NAN;
  r->complete_sessions_fraction =
      r->sessions ? (double)s->complete_sessions / r->sessions : NAN;
  r->startup_ms_p50 = sim_samples_quantile(&s->q.startup_ms, 0.5);
  r->startup_ms_p95 = sim_samples_quantile(&s->q.startup_ms, 0.95);
  r->lag_ms_p50 = sim_samples_quantile(&s->q.lag_ms, 0.5);
  r->lag_ms_p95 = sim_samples_quantile(&s->q.lag_ms, 0.95);
  r->repair_asks = s->repair_asks;
  r->catchup_asks = s->catchup_asks;
  r->repair_chunks_got = s->repair_got;
  r->chunks_stored = s->chunks_stored;
  r->repair_pull_fraction =
      s->chunks_stored ? (double)s->repair_got / (double)s->chunks_stored : 0;
  const sim_world_counters *c = sim_world_counters_get(s->w);
  uint64_t bytes = c->bytes - s->bytes0, payload = c->payload_bytes - s->payload0;
  r->control_overhead_fraction =
      payload ? (double)(bytes - payload) / (double)payload : NAN;
  r->messages = c->messages;
  r->messages_lost = c->messages_lost;
  r->uplink_drops = c->uplink_drops;
  r->repair_shed = c->repair_shed;
  r->bytes = c->bytes;
  r->payload_bytes = c->payload_bytes;
  r->forged_sent = c->forged_sent;
  r->messages_cut = c->messages_cut;
  r->run = sim_world_run_stats(s->w);
}

void sim_stream_params_default(sim_stream_params *p) {
  *p = (sim_stream_params){.peers = 1000,
                           .config = SIM_CAP_16X32,
                           .topology = SIM_NET_SPHERE,
                           .seed = 1,
                           .stripes = 16,
                           .fec_data = 12,
                           .fec_parity = 4,
                           .rate_kbps = 128,
                           .chunk_bytes = 1024,
                           .buffer_ms = 5000,
                           .duration_s = 300,
                           .repair = true,
                           .catchup = true,
                           .repair_wait_ms = 1000,
                           .uplink_headroom = 1.5,
                           .grace_s = 5,
                           .settle_s = 30,
                           .spread_s = 5,
                           .build_wait_s = 60,
                           .refine_per_row = 4};
}

static void stream_free(stream_sim *s) {
  sim_world_del(s->w);
  sim_net_del(s->net);
  sim_churn_sched_del(s->churn);
  free(s->sp);
  free(s->uplink_bps);
  free(s->ts);
  free(s->expect);
  free(s->forgers);
  free(s->inv_next);
  free(s->inv_arrive_ns);
  session_samples_free(&s->q);
  if (s->sessions_csv) fclose(s->sessions_csv);
}

/* Builds the churn schedule; counts the peers it will bring (a dry run of
 * the same pure schedule) so every slot exists up front. */
static int make_churn(stream_sim *s, uint32_t *total) {
  const sim_stream_params *p = s->prm;
  sim_churn_spec spec;
  char err[SIM_CHURN_ERR_MAX];
  if (sim_churn_parse(p->churn ? p->churn : "none", &spec, err, sizeof err) != SC_OK) {
    if (s->log) fprintf(s->log, "stripecast-sim stream: --churn: %s\n", err);
    return 2;
  }
  uint64_t dur = (uint64_t)(p->duration_s * 1e9);
  sim_churn_sched *dry;
  if (sim_churn_sched_new(&dry, &spec, p->peers, dur, p->seed, err, sizeof err) !=
      SC_OK) {
    if (s->log) fprintf(s->log, "stripecast-sim stream: --churn: %s\n", err);
    return 2;
  }
  sim_churn_event ev;
  int rv;
  while ((rv = sim_churn_sched_next(dry, &ev)) == 1) {
  }
  *total = sim_churn_sched_peers_total(dry);
  sim_churn_sched_del(dry);
  if (rv < 0) {
    if (s->log)
      fprintf(s->log, "stripecast-sim stream: the churn schedule failed (%d)\n", rv);
    return -1;
  }
  if (*total < p->peers) *total = p->peers;
  if (sim_churn_sched_new(&s->churn, &spec, p->peers, dur, p->seed, err, sizeof err) !=
      SC_OK)
    return -1;
  return 0;
}

int sim_stream_run(const sim_stream_params *p, sim_stream_result *r, FILE *log) {
  memset(r, 0, sizeof(*r));
  stream_sim S, *s = &S;
  memset(s, 0, sizeof(S));
  s->prm = p;
  s->res = r;
  s->log = log;
  s->k = p->stripes;
  s->wall_start = s->wall_last = sim_wall_s();
  session_samples_init(&s->q);
  sc_rng_seed(&s->rng, p->seed ^ 0x57e4a3000000001ull);
  if (p->peers < 2 || p->fec_data == 0 || p->fec_data + p->fec_parity != p->stripes ||
      p->stripes > SC_STRIPES_MAX || p->chunk_bytes == 0 ||
      p->chunk_bytes > SC_CHUNK_BYTES_MAX || p->rate_kbps <= 0) {
    if (log)
      fprintf(log,
              "stripecast-sim stream: need >= 2 peers, d + p = stripes <= 16, "
              "1..%u chunk bytes and a positive rate\n",
              SC_CHUNK_BYTES_MAX);
    return -1;
  }
  if ((p->sign || p->forgers) && !p->payload) {
    if (log) fprintf(log, "stripecast-sim stream: --sign and --forgers need --payload\n");
    return -1;
  }
  s->gen_ns = (uint64_t)((double)gen_bytes(s) * 8.0 / (p->rate_kbps * 1000.0) * 1e9);
  if (s->gen_ns == 0) s->gen_ns = 1;
  uint32_t total;
  int rv = make_churn(s, &total);
  if (rv != 0) {
    stream_free(s);
    return rv;
  }
  s->npeers = total;
  r->peers_total = total;
  if (sim_net_new_kind(&s->net, p->topology, p->seed, total) != 0) {
    if (log) fprintf(log, "stream: cannot build the network model for %u peers\n", total);
    stream_free(s);
    return -1;
  }
  s->sp = sim_huge_calloc(total, sizeof(speer)); /* every chunk touches it (arena.h) */
  s->uplink_bps = calloc(total, sizeof(uint64_t));
  if (p->payload) s->expect = malloc(gen_bytes(s));
  if (p->invariants) {
    s->inv_next = calloc(total, sizeof(uint64_t));
    s->inv_arrive_ns = calloc(total, sizeof(uint64_t));
  }
  if (!s->sp || !s->uplink_bps || (p->payload && !s->expect) ||
      (p->invariants && (!s->inv_next || !s->inv_arrive_ns)))
    goto oom;
  if (p->out_dir) {
    s->sessions_csv = open_out(s, "sessions.csv");
    if (!s->sessions_csv) {
      stream_free(s);
      return -1;
    }
    fputs("peer,join_s,gens_delivered,gens_lost,continuity,survivor\n", s->sessions_csv);
  }

  sim_world_config wc;
  sim_world_config_init(&wc, SIM_WORLD_NODES, total, p->seed);
  wc.loss = p->loss;
  wc.wire_check = p->wire_check;
  if (p->sign) {
    /* A key from the seed: one seed, one run (signing is deterministic). */
    uint8_t kseed[32] = {0};
    for (int b = 0; b < 8; b++)
      kseed[b] = (uint8_t)(p->seed >> (8 * b));
    crypto_sign_seed_keypair(s->auth_pk, s->auth_sk, kseed);
  }
  if (p->forgers) {
    s->forgers = calloc(total, 1);
    if (!s->forgers) goto oom;
    for (uint32_t i = 1; i <= p->forgers && i < total; i++)
      s->forgers[i] = 1;
    wc.forgers = s->forgers;
  }
  if (p->uplink_headroom > 0) {
    if (sim_uplink_cfg_init(&wc.uplink, 0, 0, UPLINK_QUEUE_MAX_NS) != 0) goto oom;
    wc.uplink_rate_bps = s->uplink_bps;
  }
  sim_world_hooks hooks = {.stripe_data = h_stripe_data,
                           .stream_deliver = h_deliver,
                           .stream_lost = h_lost,
                           .prefetch = h_prefetch,
                           .event = h_event};
  if (p->partition_fraction > 0) hooks.cut = h_cut;
  if (sim_world_new(&s->w, &wc, s->net, &hooks, s) != 0) goto oom;
  for (uint32_t i = 0; i < p->peers; i++)
    if (add_peer(s, i) != 0) goto oom;
  s->join_gap_ns = (uint64_t)(1e9 / sim_world_join_rate(p->peers, p->join_rate));
  schedule(s, 0, EV_JOIN, 0);
  if (sim_world_run_all(s->w, more, progress, s) != 0) s->failed = 1;
  if (p->progress && s->log && s->streaming) {
    uint64_t ev = sim_world_engine(s->w)->events_processed - s->events_t0;
    double wall = sim_wall_s() - s->wall_t0;
    fprintf(s->log, "stream: streaming: %llu events in %.1fs wall (%.2fM/s)\n",
            (unsigned long long)ev, wall, wall > 0 ? (double)ev / wall / 1e6 : 0.0);
  }
  if (s->failed || !s->done) {
    if (log) fprintf(log, "stream: the simulation failed (out of memory?)\n");
    stream_free(s);
    return -1;
  }
  /* Survivors close their sessions at the end. */
  for (uint32_t i = 0; i < s->npeers; i++) {
    uint8_t st = s->sp[i].state;
    if (st == ST_PLAYING || st == ST_DEPARTING || (i == SOURCE && st != ST_NONE)) {
      if (i != SOURCE) r->survivors++;
      end_session(s, i, true);
    }
  }
  collect(s);
  r->machine = sim_machine_measure(s->wall_start, r->run.sim_events);
  rv = 0;
  if (p->out_dir && write_timeseries(s) != 0) rv = -1;
  stream_free(s);
  return rv;
oom:
  if (log) fprintf(log, "stream: out of memory setting up %u peers\n", total);
  stream_free(s);
  return -1;
}

/* ------------------------------------------------------------------- JSON */

enum { SRC_PRM, SRC_RES };
#define PRM(m)         SIM_JSON_FIELD(sim_stream_params, SRC_PRM, m)
#define RES(m)         SIM_JSON_FIELD(sim_stream_result, SRC_RES, m)
#define RUN(m)         SIM_JSON_RUN(sim_stream_result, SRC_RES, m)
#define RES_AS(m, key) SIM_JSON_FIELD_AS(sim_stream_result, SRC_RES, m, key)

static const sim_json_field json_rate[] = {PRM(rate_kbps), PRM(chunk_bytes),
                                           PRM(buffer_ms)};
static const sim_json_field json_quality[] = {PRM(loss),
                                              PRM(duration_s),
                                              PRM(repair),
                                              PRM(catchup),
                                              PRM(uplink_headroom),
                                              PRM(payload),
                                              RES(continuity_mean),
                                              RES(continuity_p01),
                                              RES(continuity_min),
                                              RES(survivors_continuity_mean),
                                              RES(survivors_continuity_p01),
                                              RES(generations_lost_fraction),
                                              RES(complete_sessions_fraction),
                                              RES(startup_ms_p50),
                                              RES(startup_ms_p95),
                                              RES(lag_ms_p50),
                                              RES(lag_ms_p95),
                                              RES(repair_pull_fraction),
                                              RES(control_overhead_fraction),
                                              RES(sessions),
                                              RES(survivors),
                                              RES(peers_total),
                                              RES(arrivals),
                                              RES(crashes)};
static const sim_json_field json_cut[] = {RES(cut_crashes)};
static const sim_json_field json_repair[] = {
    RES(polite_departures),
    RES_AS(gens_published, "generations_published"),
    RES_AS(repair_asks, "repair_requests"),
    RES_AS(catchup_asks, "catchup_requests"),
    RES(repair_shed),
    RES_AS(repair_chunks_got, "repair_chunks"),
    RES(chunks_stored)};
static const sim_json_field json_payload[] = {RES(payload_mismatches)};
static const sim_json_field json_backfill[] = {PRM(backfill_gens), RES(backfill_asks),
                                               RES(backfilled_gens)};
static const sim_json_field json_sign[] = {PRM(sign),        PRM(forgers),
                                           RES(forged_sent), RES(chunks_forged),
                                           RES(chunks_good), RES(auth_parent_switches),
                                           RES(sig_checks)};
static const sim_json_field json_tail[] = {
    RES(messages),
    RES(messages_lost),
    RES(uplink_drops),
    RES(bytes),
    RES(payload_bytes),
    RUN(sim_events),
    SIM_JSON_RUN_DIGEST(sim_stream_result, SRC_RES),
    PRM(seed),
    RUN(sim_time_s)};

void sim_stream_result_json(const sim_stream_params *p, const sim_stream_result *r,
                            FILE *f, bool pretty) {
  const void *srcs[] = {[SRC_PRM] = p, [SRC_RES] = r};
  sim_json j;
  sim_json_begin(&j, f, pretty);
  sim_json_u64(&j, "peers", p->peers);
  sim_json_str(&j, "config", sim_cap_name(p->config));
  sim_json_str(&j, "topology", sim_net_kind_name(p->topology));
  sim_json_u64(&j, "stripes", p->stripes);
  char fec[32];
  snprintf(fec, sizeof fec, "%u+%u", p->fec_data, p->fec_parity);
  sim_json_str(&j, "fec", fec);
  SIM_JSON_FIELDS(&j, json_rate, srcs);
  sim_json_str(&j, "churn", p->churn ? p->churn : "none");
  SIM_JSON_FIELDS(&j, json_quality, srcs);
  if (p->cut_stripes) SIM_JSON_FIELDS(&j, json_cut, srcs);
  SIM_JSON_FIELDS(&j, json_repair, srcs);
  if (p->payload) SIM_JSON_FIELDS(&j, json_payload, srcs);
  if (p->backfill_gens) SIM_JSON_FIELDS(&j, json_backfill, srcs);
  if (p->sign || p->forgers) SIM_JSON_FIELDS(&j, json_sign, srcs);
  SIM_JSON_FIELDS(&j, json_tail, srcs);
  sim_json_machine(&j, &r->machine);
  sim_json_end(&j);
}
