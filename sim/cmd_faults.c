/*
 * cmd_faults.c — `stripecast-sim faults`: one run of the seeded fault sweep
 * (docs/faults.md). The seed draws a small overlay and its faults (crashes,
 * polite departures, arrivals, loss, a partition that heals), runs the
 * stream with real payload bytes, and checks the invariants of
 * sim_stream_invariants, byte-exact delivery and determinism (the same
 * seed run twice gives the same trace digest). In the spirit of the
 * deterministic simulation testing of FoundationDB and TigerBeetle: a
 * failure is a seed, and the seed replays it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "core/rng.h"
#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/json.h"
#include "sim/stream_sim.h"

/* The shape of every drawn run: faults only in the first FAULT_WINDOW_S of
 * the stream, then QUIET_S without any, long enough for Scribe's heartbeat
 * failure detection (2 misses of 10 s) and a re-join's timeouts. */
#define FAULT_WINDOW_S 20.0
#define QUIET_S        40.0
#define PEERS_MIN      20u
#define PEERS_MAX      200u
#define CHURN_SPEC_MAX 256u /* bytes of a drawn --churn spec */

typedef struct faults_cli {
  sim_common_opts c; /* only seed, progress and pretty are used */
  bool repeat;       /* run twice and compare the digests */
  bool inject;       /* corrupt one generation at the source */
  uint32_t peers_max;
} faults_cli;

/* One drawn run: the stream's parameters and the spec they point to. */
typedef struct faults_draw {
  sim_stream_params p;
  char churn[CHURN_SPEC_MAX];
} faults_draw;

static double unit(sc_rng *r) {
  return sc_rng_unit(r);
}

/* Where the next churn item goes in d->churn, and its room. */
#define CHURN_TAIL(d)                                                                    \
  (d)->churn + strlen((d)->churn), sizeof(d)->churn - strlen((d)->churn)

/* Everything a seed decides. The draws come from their own stream, so the
 * run's own randomness (seeded with the same seed) is the stream command's. */
static void faults_draw_params(faults_draw *d, uint64_t seed, uint32_t peers_max) {
  sc_rng r;
  sc_rng_seed(&r, seed ^ 0xfa017500000001ull);
  sim_stream_params *p = &d->p;
  sim_stream_params_default(p);
  p->seed = seed;
  p->payload = true;
  /* Small chunks at the default generation period (12 x 256 B at 32 kbit/s:
   * 0.77 s): every byte still checked, a quarter of the copying. */
  p->chunk_bytes = 256;
  p->rate_kbps = 32;
  p->invariants = true;
  p->quiet_s = QUIET_S;
  p->calm_at_s = FAULT_WINDOW_S;
  /* Peers log-uniform: small overlays are cheap and as telling. */
  double lo = log((double)PEERS_MIN), hi = log((double)(peers_max + 1));
  p->peers = (uint32_t)exp(lo + unit(&r) * (hi - lo));
  if (p->peers < PEERS_MIN) p->peers = PEERS_MIN;
  if (p->peers > peers_max) p->peers = peers_max;
  static const sim_cap_kind configs[] = {SIM_CAP_16X32, SIM_CAP_16X32, SIM_CAP_16X18,
                                         SIM_CAP_16XNB};
  p->config = configs[sc_rng_below(&r, 4)];
  p->topology = unit(&r) < 0.5 ? SIM_NET_SPHERE : SIM_NET_PLANE;
  p->duration_s = FAULT_WINDOW_S + QUIET_S;
  p->settle_s = 5;
  p->build_wait_s = 20;
  p->catchup = unit(&r) < 0.8;
  static const double headroom[] = {1.5, 3, 0};
  p->uplink_headroom = headroom[sc_rng_below(&r, 3)];
  p->loss = unit(&r) < 0.5 ? 0 : 0.03 * unit(&r);
  d->churn[0] = '\0';
  if (unit(&r) < 0.6) {
    double mean_s = 20 + 180 * unit(&r);
    double polite = unit(&r);
    snprintf(CHURN_TAIL(d), "exp:mean=%.0fs,polite=%.2f,until=%.0fs", mean_s, polite,
             FAULT_WINDOW_S);
  }
  uint32_t fails = unit(&r) < 0.5 ? 0 : 1 + (uint32_t)sc_rng_below(&r, 2);
  for (uint32_t i = 0; i < fails; i++) {
    double frac = 5 + 35 * unit(&r), at_s = FAULT_WINDOW_S * unit(&r);
    snprintf(CHURN_TAIL(d), "%sfail:%.0f%%@%.1fs", d->churn[0] ? "+" : "", frac, at_s);
  }
  p->churn = d->churn[0] ? d->churn : "none";
  if (unit(&r) < 0.4) {
    p->partition_fraction = 0.1 + 0.4 * unit(&r);
    p->partition_at_s = (FAULT_WINDOW_S - 2) * unit(&r);
    p->partition_for_s = 1 + (FAULT_WINDOW_S - p->partition_at_s - 1) * unit(&r);
  }
}

/* The violations, by name, as the JSON and the failure line print them. */
typedef struct faults_check {
  const char *name;
  uint64_t n;
} faults_check;

enum { CHECKS_MAX = 12 };

static size_t faults_checks(const sim_stream_result *r, bool repeat_differs,
                            faults_check *out) {
  const sim_stream_invariants *v = &r->inv;
  size_t n = 0;
  out[n++] = (faults_check){"cycles", v->cycles};
  out[n++] = (faults_check){"extra_roots", v->extra_roots};
  out[n++] = (faults_check){"unattached", v->unattached};
  out[n++] = (faults_check){"capacity_excess", v->capacity_excess};
  out[n++] = (faults_check){"order_breaks", v->order_breaks};
  out[n++] = (faults_check){"stalled", v->stalled};
  out[n++] = (faults_check){"stuck_joining", v->stuck_joining};
  out[n++] = (faults_check){"accounting", v->accounting};
  out[n++] = (faults_check){"payload_mismatches", r->payload_mismatches};
  out[n++] = (faults_check){"nondeterminism", repeat_differs ? 1 : 0};
  return n;
}

static const flags_opt faults_common[] = {
    {FLAGS_OPT_U64(sim_common_opts, seed, "seed", "S", 0, UINT64_MAX,
                   "the seed: it draws the overlay, the faults and the run's history")},
    {FLAGS_OPT_SET(sim_common_opts, progress, "progress", "progress on stderr"),
     .dflt = "on when stderr is a terminal"},
    {FLAGS_OPT_SET(sim_common_opts, pretty, "pretty", "indent the JSON")},
    {.kind = FLAGS_END},
};

static const flags_opt faults_flags[] = {
    {.kind = FLAGS_SECTION, .name = "the run"},
    {.kind = FLAGS_INCLUDE, .sub = faults_common, .off = offsetof(faults_cli, c)},
    {FLAGS_OPT_ON_OFF(faults_cli, repeat, "repeat",
                      "run the seed twice and require the same trace digest "
                      "(determinism)")},
    {FLAGS_OPT_SET(faults_cli, inject, "inject-corruption",
                   "a test of the checks: the source sends one generation with a byte "
                   "changed, which must fail the run (payload_mismatches)")},
    {FLAGS_OPT_U64(faults_cli, peers_max, "peers-max", "N", PEERS_MIN, 100000,
                   "the largest overlay a seed may draw (peers are log-uniform from "
                   "20); changes what every seed draws")},
    {.kind = FLAGS_END},
};

static const flags_cmd faults_cmd = {
    .prog = "stripecast-sim faults",
    .about = "One run of the seeded fault sweep (docs/faults.md). The seed draws an "
             "overlay of 20 to --peers-max peers (16 stripes, 12+4 coding, real "
             "payload bytes) and its faults in the first 20 s of a 60 s stream: "
             "session churn with polite and abrupt leaves and arrivals, crashes of "
             "a fraction of the peers, message loss, and a partition that heals; "
             "the last 40 s are quiet. Then it checks: no tree cycles, one root "
             "per stripe, capacity bounds at every second, every settled survivor "
             "attached to every stripe and playing to the end, generations "
             "resolved in order and byte-exact, the session counts equal to the "
             "core's own, and (with --repeat on) the same trace digest twice. "
             "Prints one JSON object (ok, the draws, each violation count, "
             "trace_digest, replay); exit status 1 when a check fails, with the "
             "command that replays it on stderr.",
    .opts = faults_flags,
    .epilog = "Example: stripecast-sim faults --seed 42 --pretty\n"
              "A sweep: bench/fault_sweep.sh --seeds 10000 (progress and a summary)\n",
};

static void faults_json(const faults_draw *d, const sim_stream_result *r,
                        const faults_check *ck, size_t nck, bool ok, uint64_t digest2,
                        bool repeat, bool pretty, const char *replay) {
  const sim_stream_params *p = &d->p;
  sim_json j;
  sim_json_begin(&j, stdout, pretty);
  sim_json_u64(&j, "seed", p->seed);
  sim_json_bool(&j, "ok", ok);
  sim_json_u64(&j, "peers", p->peers);
  sim_json_str(&j, "config", sim_cap_name(p->config));
  sim_json_str(&j, "topology", sim_net_kind_name(p->topology));
  sim_json_str(&j, "churn", p->churn);
  sim_json_f64(&j, "loss", p->loss);
  sim_json_f64(&j, "uplink_headroom", p->uplink_headroom);
  sim_json_bool(&j, "catchup", p->catchup);
  sim_json_f64(&j, "partition_fraction", p->partition_fraction);
  sim_json_f64(&j, "partition_at_s", p->partition_at_s);
  sim_json_f64(&j, "partition_for_s", p->partition_for_s);
  for (size_t i = 0; i < nck; i++)
    sim_json_u64(&j, ck[i].name, ck[i].n);
  sim_json_u64(&j, "sessions", r->sessions);
  sim_json_u64(&j, "survivors", r->survivors);
  sim_json_u64(&j, "crashes", r->crashes);
  sim_json_u64(&j, "polite_departures", r->polite_departures);
  sim_json_u64(&j, "arrivals", r->arrivals);
  sim_json_u64(&j, "generations_published", r->gens_published);
  sim_json_f64(&j, "continuity_mean", r->continuity_mean);
  sim_json_f64(&j, "generations_lost_fraction", r->generations_lost_fraction);
  sim_json_u64(&j, "messages", r->messages);
  sim_json_u64(&j, "messages_lost", r->messages_lost);
  sim_json_u64(&j, "messages_cut", r->messages_cut);
  sim_json_u64(&j, "sim_events", r->run.sim_events);
  sim_json_hex64(&j, "trace_digest", r->run.trace_digest);
  if (repeat) sim_json_hex64(&j, "trace_digest_repeat", digest2);
  sim_json_str(&j, "replay", replay);
  sim_json_machine(&j, &r->machine);
  sim_json_end(&j);
}

int sim_cmd_faults(int argc, char **argv) {
  faults_cli o;
  memset(&o, 0, sizeof o);
  o.c.seed = 1;
  o.repeat = true;
  o.peers_max = PEERS_MAX;
  int rv = sim_cli_parse(&faults_cmd, &o, &o.c, argc, argv);
  if (rv >= 0) return rv;
  /* These overlays are small: the arenas' huge pages (sim/arena.h, for
   * 10^6 peers) would cost each run more zeroed memory than its work. */
  (void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  faults_draw d;
  faults_draw_params(&d, o.c.seed, o.peers_max);
  d.p.progress = o.c.progress;
  d.p.inject_corruption = o.inject;
  char replay[128];
  int n = snprintf(replay, sizeof replay, "stripecast-sim faults --seed %llu",
                   (unsigned long long)o.c.seed);
  if (o.peers_max != PEERS_MAX)
    n += snprintf(replay + n, sizeof replay - (size_t)n, " --peers-max %u", o.peers_max);
  if (o.inject) snprintf(replay + n, sizeof replay - (size_t)n, " --inject-corruption");
  sim_stream_result r, r2;
  if (sim_stream_run(&d.p, &r, stderr) != 0) {
    fprintf(stderr, "stripecast-sim faults: seed %llu: the run failed; replay: %s\n",
            (unsigned long long)o.c.seed, replay);
    return 1;
  }
  bool differs = false;
  if (o.repeat) {
    if (sim_stream_run(&d.p, &r2, stderr) != 0) {
      fprintf(stderr, "stripecast-sim faults: seed %llu: the repeat failed; replay: %s\n",
              (unsigned long long)o.c.seed, replay);
      return 1;
    }
    differs = r2.run.trace_digest != r.run.trace_digest ||
              r2.run.sim_events != r.run.sim_events ||
              memcmp(&r2.inv, &r.inv, sizeof r.inv) != 0 ||
              r2.payload_mismatches != r.payload_mismatches;
  }
  faults_check ck[CHECKS_MAX];
  size_t nck = faults_checks(&r, differs, ck);
  bool ok = true;
  for (size_t i = 0; i < nck; i++)
    ok &= ck[i].n == 0;
  faults_json(&d, &r, ck, nck, ok, o.repeat ? r2.run.trace_digest : 0, o.repeat,
              o.c.pretty, replay);
  if (ok) return 0;
  fprintf(stderr,
          "stripecast-sim faults: seed %llu FAILED:", (unsigned long long)o.c.seed);
  for (size_t i = 0; i < nck; i++)
    if (ck[i].n) fprintf(stderr, " %s=%llu", ck[i].name, (unsigned long long)ck[i].n);
  fprintf(stderr, "; replay: %s\n", replay);
  return 1;
}
