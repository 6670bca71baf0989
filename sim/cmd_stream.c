/* cmd_stream.c — `stripecast-sim stream`: flags in, one JSON object out. */
#include <stdio.h>

#include "core/msg.h"
#include "sim/churn_spec.h"
#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/stream_sim.h"

typedef struct stream_cli {
  sim_stream_params p;
  sim_common_opts c;
  bool stripes_set; /* else the stripes follow --fec: d + p */
} stream_cli;

/* --fec D+P: one chunk per stripe, so D + P is at most 16 stripes. */
static int parse_fec(void *opts, const char *s, char *why, size_t whylen) {
  stream_cli *o = opts;
  unsigned a, b;
  char tail;
  if (sscanf(s, "%u+%u%c", &a, &b, &tail) != 2 || a == 0 || a + b > 16) {
    snprintf(why, whylen,
             "'%s' is not D+P with D >= 1 and D + P <= 16 (e.g. 12+4, or 16+0 for no "
             "coding)",
             s);
    return -1;
  }
  o->p.fec_data = a;
  o->p.fec_parity = b;
  return 0;
}

static const flags_opt stream_flags[] = {
    {.kind = FLAGS_SECTION, .name = "the stream"},
    {FLAGS_OPT_CHOICE(stream_cli, p.config, "config", "C", sim_config_choices,
                      "capacities (docs/capacity.md); every listener wants all stripes")},
    {FLAGS_OPT_CHOICE(stream_cli, p.stripes, "stripes", "K", sim_stripes_choices,
                      "stripes, = d + p"),
     .attrs = FLAGS_GIVEN, .given = offsetof(stream_cli, stripes_set),
     .dflt = "D + P of --fec"},
    {.kind = FLAGS_CUSTOM,
     .name = "fec",
     .meta = "D+P",
     .parse = parse_fec,
     .help = "data + parity chunks per generation; 16+0 turns coding off",
     .dflt = "12+4"},
    {FLAGS_OPT_F64(stream_cli, p.rate_kbps, "rate-kbps", "R", 1, 1e6,
                   "stream rate before coding")},
    {FLAGS_OPT_U64(stream_cli, p.chunk_bytes, "chunk-bytes", "B", 1, 1100,
                   "payload per chunk")},
    {FLAGS_OPT_F64(stream_cli, p.buffer_ms, "buffer-ms", "M", 1, 1e6, "playout delay")},
    {FLAGS_OPT_F64(stream_cli, p.duration_s, "duration", "T", 1, 1e7,
                   "time of streaming, in seconds unless a unit follows"),
     .units = sim_seconds_units},
    {FLAGS_OPT_SET(stream_cli, p.payload, "payload",
                   "real bytes, checked at every receiver, for small runs; without it "
                   "chunks are symbolic: sizes without bytes")},
    {FLAGS_OPT_SET(stream_cli, p.sign, "sign",
                   "with --payload: the signed stream (core/auth.h), the source signing "
                   "with a key from the seed and every receiver verifying")},
    {FLAGS_OPT_U64(stream_cli, p.forgers, "forgers", "N", 0, 1000000,
                   "with --payload: peers 1..N alter every chunk they forward or serve "
                   "(forging relays)")},
    {.kind = FLAGS_SECTION, .name = "the forest before it"},
    {FLAGS_OPT_F64(stream_cli, p.spread_s, "spread-s", "S", 0, 1e6,
                   "subscriptions spread over this window")},
    {FLAGS_OPT_F64(stream_cli, p.build_wait_s, "build-wait-s", "S", 0, 1e6,
                   "time the forest gets before the stream starts")},
    {.kind = FLAGS_SECTION, .name = "repair and uplinks"},
    {FLAGS_OPT_ON_OFF(stream_cli, p.repair, "repair",
                      "pull missing chunks from other peers")},
    {FLAGS_OPT_F64(stream_cli, p.repair_wait_ms, "repair-wait-ms", "M", 0, 1e6,
                   "lateness before a chunk is asked for")},
    {FLAGS_OPT_ON_OFF(stream_cli, p.catchup, "catchup",
                      "a peer that finds a new parent in a stripe asks it at once for "
                      "the chunks it missed; needs --repair on")},
    {FLAGS_OPT_U64(stream_cli, p.backfill_gens, "backfill-gens", "N", 0, SC_BACKFILL_MAX,
                   "a late receiver asks each first parent for its stripe's chunks of "
                   "the N newest generations and starts from them (the runtime's "
                   "station listeners: 3); needs --repair on; 0 = off")},
    {FLAGS_OPT_F64(stream_cli, p.uplink_headroom, "uplink-headroom", "H", 0, 1e3,
                   "each peer's uplink: H x its forwarding share of the coded stream + "
                   "32 kbit/s for control; 0 = unlimited")},
    {.kind = FLAGS_SECTION, .name = "churn and failures"},
    {FLAGS_OPT_STR(stream_cli, p.churn, "churn", "SPEC",
                   "churn, times counted from the stream's start; the grammar is below "
                   "and in docs/churn.md"),
     .dflt = "none"},
    {FLAGS_OPT_F64(stream_cli, p.grace_s, "grace-s", "S", 0, 1e4,
                   "a polite leaver forwards this long after its goodbye")},
    {FLAGS_OPT_U64(stream_cli, p.cut_stripes, "cut-stripes", "C", 0, 16,
                   "at --cut-at, crash every peer that forwards only in stripes 0..C-1 "
                   "(and their roots): receivers lose at most those C stripes while the "
                   "trees repair; 0: no cut")},
    {FLAGS_OPT_F64(stream_cli, p.cut_at_s, "cut-at", "T", 0, 1e7,
                   "time into the stream of the cut, in seconds unless a unit follows"),
     .units = sim_seconds_units},
    {.kind = FLAGS_INCLUDE, .sub = sim_common_flags, .off = offsetof(stream_cli, c)},
    {.kind = FLAGS_END},
};

static const flags_cmd stream_cmd = {
    .prog = "stripecast-sim stream",
    .about = "Streams a live channel over a SplitStream forest: N peers join Pastry and "
             "subscribe to every stripe, then peer 0 (the source) publishes a stream "
             "cut into generations of d data + p parity chunks (Reed-Solomon across the "
             "stripes, one chunk per stripe). Receivers play each generation once any d "
             "of its chunks arrived before its playout deadline, and pull missing "
             "chunks from their other stripe parents and leaf set (repair). Churn, loss "
             "and per-peer upstream queues act throughout. Prints one JSON object "
             "(continuity_mean, continuity_p01, generations_lost_fraction, "
             "startup_ms_p50/p95, lag_ms_p50/p95, repair_pull_fraction, "
             "control_overhead_fraction, seed, wall_s, peak_rss_mb, ...); --out DIR "
             "also gets timeseries.csv (per second: peers online, stripes received per "
             "peer, continuity, repairs, uplink drops) and sessions.csv (per receiver "
             "session).",
    .opts = stream_flags,
    .epilog = "Churn:\n" SIM_CHURN_USAGE "\n"
              "Example: stripecast-sim stream --peers 10000 --fec 12+4 --churn "
              "fail:25%@150s \\\n"
              "           --duration 300 --out runs/fail25\n",
};

int sim_cmd_stream(int argc, char **argv) {
  stream_cli o;
  sim_stream_params_default(&o.p);
  SIM_COMMON_COPY(o.c, o.p);
  o.stripes_set = false;
  int rv = sim_cli_parse(&stream_cmd, &o, &o.c, argc, argv);
  if (rv >= 0) return rv;
  SIM_COMMON_COPY(o.p, o.c);
  sim_stream_params *p = &o.p;
  if (!o.stripes_set) {
    p->stripes = p->fec_data + p->fec_parity;
    bool allowed = false;
    for (const flags_choice *c = sim_stripes_choices; c->name; c++)
      allowed |= (uint32_t)c->value == p->stripes;
    if (!allowed)
      return flags_fail(&stream_cmd, stderr,
                        "--fec %u+%u: d + p = %u stripes, but a forest has 1, 2, 4, 8 or "
                        "16",
                        p->fec_data, p->fec_parity, p->stripes);
  }
  if (p->fec_data + p->fec_parity != p->stripes)
    return flags_fail(&stream_cmd, stderr,
                      "--fec %u+%u needs %u stripes, not %u (d + p = stripes: one chunk "
                      "per stripe)",
                      p->fec_data, p->fec_parity, p->fec_data + p->fec_parity,
                      p->stripes);
  if (p->out_dir && !sim_cli_out_dir(&stream_cmd, p->out_dir)) return FLAGS_EXIT_USAGE;
  sim_stream_result r;
  rv = sim_stream_run(p, &r, stderr);
  if (rv == 2) return FLAGS_EXIT_USAGE;
  if (rv != 0) return 1;
  sim_stream_result_json(p, &r, stdout, o.c.pretty);
  return 0;
}
