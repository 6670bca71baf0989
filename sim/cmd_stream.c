/* cmd_stream.c — `stripecast-sim stream`: flags in, one JSON object out. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/churn_spec.h"
#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/stream_sim.h"

static void stream_usage(FILE *f) {
  fputs(
      "usage: stripecast-sim stream [options]\n"
      "\n"
      "Streams a live channel over a SplitStream forest: N peers join Pastry and\n"
      "subscribe to every stripe, then peer 0 (the source) publishes a stream cut into\n"
      "generations of d data + p parity chunks (Reed-Solomon across the stripes,\n"
      "one chunk per stripe). Receivers play each generation once any d of its\n"
      "chunks arrived before its playout deadline, and pull missing chunks from\n"
      "their other stripe parents and leaf set (repair). Churn, loss and per-peer\n"
      "upstream queues act throughout. Prints one JSON object (continuity_mean,\n"
      "continuity_p01, generations_lost_fraction, startup_ms_p50/p95, lag_ms_p50/p95,\n"
      "repair_pull_fraction, control_overhead_fraction, seed, wall_s, peak_rss_mb, ...).\n"
      "\n"
      "options:\n"
      "  --peers N            peers online when the stream starts, source included\n"
      "                       (default 1000)\n"
      "  --config C           capacities: 16x16, 16x18, 16x32, 16xNB, dxd, gnutella\n"
      "                       (default 16x32; every listener wants all stripes)\n"
      "  --topology T         transit-stub, sphere or plane (default sphere)\n"
      "  --stripes K          stripes, = d + p (default 16)\n"
      "  --fec D+P            data + parity chunks per generation (default 12+4;\n"
      "                       16+0 turns coding off)\n"
      "  --rate-kbps R        stream rate before coding (default 128)\n"
      "  --chunk-bytes B      payload per chunk, 1..1100 (default 1024)\n"
      "  --buffer-ms M        playout delay (default 5000)\n"
      "  --churn SPEC         churn, times counted from the stream's start (default\n"
      "                       none; see below and docs/churn.md)\n"
      "  --loss P             probability that any message is lost (default 0)\n"
      "  --duration S         seconds of streaming (default 300)\n"
      "  --repair on|off      pull missing chunks from other peers (default on)\n"
      "  --repair-wait-ms M   lateness before a chunk is asked for (default 1000)\n"
      "  --catchup on|off     a peer that finds a new parent in a stripe asks it at\n"
      "                       once for the chunks it missed (default on; needs repair)\n"
      "  --uplink-headroom H  each peer's uplink: H x its forwarding share of the coded\n"
      "                       stream + 32 kbit/s for control; 0 = unlimited (default 1.5)\n"
      "  --grace-s S          a polite leaver forwards this long after its goodbye\n"
      "                       (default 5)\n"
      "  --settle-s S, --spread-s S, --build-wait-s S, --join-rate R\n"
      "                       overlay quiet time (30), subscription spread (5), time\n"
      "                       the forest gets before the stream starts (60), Pastry\n"
      "                       arrivals per second (N/100 within [10, 2000])\n"
      "  --refine-per-row N   Pastry locality refinement probes per row (default 4)\n"
      "  --payload            real bytes, checked at every receiver (small runs; the\n"
      "                       default is symbolic chunks: sizes without bytes)\n"
      "  --wire-check         every message through the wire codec\n"
      "  --cut-stripes C      at --cut-at S seconds, crash every peer that forwards\n"
      "                       only in stripes 0..C-1 (and their roots): receivers lose\n"
      "                       at most those C stripes while the trees repair\n"
      "  --seed S             run seed (default 1)\n"
      "  --out DIR            timeseries.csv (per second: peers online, stripes\n"
      "                       received per peer, continuity, repairs, uplink drops)\n"
      "                       and sessions.csv (per receiver session)\n"
      "  --progress           progress on stderr (default when stderr is a terminal)\n"
      "  --pretty             indented JSON\n"
      "  --help               this text\n"
      "\n"
      "Churn:\n",
      f);
  fputs(SIM_CHURN_USAGE, f);
  fputs("\n"
        "Example: stripecast-sim stream --peers 10000 --fec 12+4 --churn fail:25%@150s \\\n"
        "           --duration 300 --out runs/fail25\n",
        f);
}

static bool parse_fec(const char *s, uint32_t *d, uint32_t *p) {
  unsigned a, b;
  char tail;
  if (sscanf(s, "%u+%u%c", &a, &b, &tail) != 2 || a == 0 || a + b > 16) {
    fprintf(stderr,
            "stripecast-sim stream: --fec: '%s' is not D+P with D >= 1 and D + P <= 16 "
            "(e.g. 12+4, or 16+0 for no coding)\n",
            s);
    return false;
  }
  *d = a;
  *p = b;
  return true;
}

int sim_cmd_stream(int argc, char **argv) {
  sim_stream_params p;
  sim_stream_params_default(&p);
  p.progress = isatty(STDERR_FILENO);
  bool pretty = false;
  bool stripes_set = false;
  enum {
    O_PEERS = 256, O_CONFIG, O_TOPO, O_SEED, O_STRIPES, O_FEC, O_RATE, O_CHUNK, O_BUF,
    O_CHURN, O_LOSS, O_DUR, O_REPAIR, O_RWAIT, O_UPLINK, O_GRACE, O_SETTLE, O_SPREAD,
    O_BWAIT, O_JRATE, O_REFINE, O_PAYLOAD, O_WIRE, O_PROGRESS, O_OUT, O_PRETTY, O_CUT,
    O_CUT_AT, O_CATCHUP
  };
  static const struct option opts[] = {
      {"peers", required_argument, 0, O_PEERS},
      {"config", required_argument, 0, O_CONFIG},
      {"topology", required_argument, 0, O_TOPO},
      {"seed", required_argument, 0, O_SEED},
      {"stripes", required_argument, 0, O_STRIPES},
      {"fec", required_argument, 0, O_FEC},
      {"rate-kbps", required_argument, 0, O_RATE},
      {"chunk-bytes", required_argument, 0, O_CHUNK},
      {"buffer-ms", required_argument, 0, O_BUF},
      {"churn", required_argument, 0, O_CHURN},
      {"loss", required_argument, 0, O_LOSS},
      {"duration", required_argument, 0, O_DUR},
      {"repair", required_argument, 0, O_REPAIR},
      {"catchup", required_argument, 0, O_CATCHUP},
      {"repair-wait-ms", required_argument, 0, O_RWAIT},
      {"uplink-headroom", required_argument, 0, O_UPLINK},
      {"grace-s", required_argument, 0, O_GRACE},
      {"settle-s", required_argument, 0, O_SETTLE},
      {"spread-s", required_argument, 0, O_SPREAD},
      {"build-wait-s", required_argument, 0, O_BWAIT},
      {"join-rate", required_argument, 0, O_JRATE},
      {"refine-per-row", required_argument, 0, O_REFINE},
      {"payload", no_argument, 0, O_PAYLOAD},
      {"cut-stripes", required_argument, 0, O_CUT},
      {"cut-at", required_argument, 0, O_CUT_AT},
      {"wire-check", no_argument, 0, O_WIRE},
      {"progress", no_argument, 0, O_PROGRESS},
      {"out", required_argument, 0, O_OUT},
      {"pretty", no_argument, 0, O_PRETTY},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  opterr = 0;
  optind = 1;
  int c;
  uint64_t u;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case O_PEERS:
      if (!sim_cli_u64("--peers", optarg, 2, 1u << 23, &u)) return 2;
      p.peers = (uint32_t)u;
      break;
    case O_CONFIG:
      if (!sim_cli_config("stream", optarg, &p.config)) return 2;
      break;
    case O_TOPO:
      if (!sim_cli_topology(optarg, &p.topology)) return 2;
      break;
    case O_SEED:
      if (!sim_cli_u64("--seed", optarg, 0, UINT64_MAX, &p.seed)) return 2;
      break;
    case O_STRIPES:
      if (!sim_cli_stripes("stream", optarg, &p.stripes)) return 2;
      stripes_set = true;
      break;
    case O_FEC:
      if (!parse_fec(optarg, &p.fec_data, &p.fec_parity)) return 2;
      break;
    case O_RATE:
      if (!sim_cli_f64("--rate-kbps", optarg, 1, 1e6, true, &p.rate_kbps)) return 2;
      break;
    case O_CHUNK:
      if (!sim_cli_u64("--chunk-bytes", optarg, 1, 1100, &u)) return 2;
      p.chunk_bytes = (uint32_t)u;
      break;
    case O_BUF:
      if (!sim_cli_f64("--buffer-ms", optarg, 1, 1e6, true, &p.buffer_ms)) return 2;
      break;
    case O_CHURN: p.churn = optarg; break;
    case O_LOSS:
      if (!sim_cli_f64("--loss", optarg, 0, 1, false, &p.loss)) return 2;
      break;
    case O_DUR:
      if (!sim_cli_f64("--duration", optarg, 1, 1e7, true, &p.duration_s)) return 2;
      break;
    case O_CATCHUP:
      if (!sim_cli_on_off("stream", "--catchup", optarg, &p.catchup)) return 2;
      break;
    case O_REPAIR:
      if (!sim_cli_on_off("stream", "--repair", optarg, &p.repair)) return 2;
      break;
    case O_RWAIT:
      if (!sim_cli_f64("--repair-wait-ms", optarg, 0, 1e6, true, &p.repair_wait_ms))
        return 2;
      break;
    case O_UPLINK:
      if (!sim_cli_f64("--uplink-headroom", optarg, 0, 1e3, true, &p.uplink_headroom))
        return 2;
      break;
    case O_GRACE:
      if (!sim_cli_f64("--grace-s", optarg, 0, 1e4, true, &p.grace_s)) return 2;
      break;
    case O_SETTLE:
      if (!sim_cli_f64("--settle-s", optarg, 0, 1e6, true, &p.settle_s)) return 2;
      break;
    case O_SPREAD:
      if (!sim_cli_f64("--spread-s", optarg, 0, 1e6, true, &p.spread_s)) return 2;
      break;
    case O_BWAIT:
      if (!sim_cli_f64("--build-wait-s", optarg, 0, 1e6, true, &p.build_wait_s)) return 2;
      break;
    case O_JRATE:
      if (!sim_cli_f64("--join-rate", optarg, 1e-3, 1e7, true, &p.join_rate)) return 2;
      break;
    case O_REFINE:
      if (!sim_cli_u64("--refine-per-row", optarg, 0, 16, &u)) return 2;
      p.refine_per_row = (uint32_t)u;
      break;
    case O_PAYLOAD: p.payload = true; break;
    case O_CUT:
      if (!sim_cli_u64("--cut-stripes", optarg, 0, 16, &u)) return 2;
      p.cut_stripes = (uint32_t)u;
      break;
    case O_CUT_AT:
      if (!sim_cli_f64("--cut-at", optarg, 0, 1e7, true, &p.cut_at_s)) return 2;
      break;
    case O_WIRE: p.wire_check = true; break;
    case O_PROGRESS: p.progress = true; break;
    case O_OUT: p.out_dir = optarg; break;
    case O_PRETTY: pretty = true; break;
    case 'h': stream_usage(stdout); return 0;
    default: return sim_cli_getopt_error("stream", c, argv);
    }
  }
  if (!sim_cli_no_operands("stream", argc, argv)) return 2;
  if (!stripes_set) p.stripes = p.fec_data + p.fec_parity;
  if (p.fec_data + p.fec_parity != p.stripes) {
    fprintf(stderr,
            "stripecast-sim stream: --fec %u+%u needs %u stripes, not %u (d + p = "
            "stripes: one chunk per stripe)\n",
            p.fec_data, p.fec_parity, p.fec_data + p.fec_parity, p.stripes);
    return 2;
  }
  if (p.out_dir && !sim_cli_out_dir("stream", p.out_dir)) return 2;
  sim_stream_result r;
  int rv = sim_stream_run(&p, &r, stderr);
  if (rv == 2) return 2;
  if (rv != 0) return 1;
  sim_stream_result_json(&p, &r, stdout, pretty);
  return 0;
}
