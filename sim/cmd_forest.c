/* cmd_forest.c — `stripecast-sim forest`: flags in, one JSON object out. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/forest_sim.h"

static void forest_usage(FILE *f) {
  fputs(
      "usage: stripecast-sim forest [options]\n"
      "\n"
      "Builds a SplitStream forest (Castro et al., SOSP 2003): N peers join a Pastry\n"
      "overlay, every receiver subscribes to the stripes it wants, and the forest is\n"
      "built when every receiver is attached to each of them along a parent chain\n"
      "ending at the stripe's root. Peer 0, the source, then publishes one message on\n"
      "every stripe; arrivals give tree depth and delay penalty, copies on the wire\n"
      "give link stress. One JSON object goes to stdout.\n"
      "\n"
      "options:\n"
      "  --peers N            peers including the source (2 .. 16,777,216; default 1000)\n"
      "  --config C           in-degree x capacity: 16x16 (default), 16x18, 16x32,\n"
      "                       16xNB (no bound), dxd, gnutella (docs/capacity.md)\n"
      "  --topology T         transit-stub (default; link stress) or sphere, plane\n"
      "  --seed S             run seed; one seed gives one history (default 1)\n"
      "  --stripes K          1, 2, 4, 8 or 16 (default 16)\n"
      "  --baselines          also the link stress of a central server unicasting\n"
      "                       every stripe to every peer, and of IP multicast\n"
      "  --fail-fraction F    after the build, that fraction of receivers crash at\n"
      "                       once; the forest repairs and a second message measures\n"
      "                       it (repair_s, complete_fraction_after), in [0, 1)\n"
      "  --settle-s SECONDS   quiet time after the last Pastry join (default 60)\n"
      "  --join-rate R        Pastry arrivals per simulated second (default N/100,\n"
      "                       clamped to [10, 2000])\n"
      "  --spread-s SECONDS   receivers subscribe at random within this window after\n"
      "                       the overlay settles (default 1)\n"
      "  --build-max-s S      give up waiting for a complete forest (default 900)\n"
      "  --repair-max-s S     give up waiting for repair (default 600)\n"
      "  --loss P             probability that any message is lost, [0, 1)\n"
      "  --refine-per-row K   Pastry's locality refinement (0..16, default 4; 0 makes\n"
      "                       very large runs faster)\n"
      "  --wire-check         every message through the protobuf codec (slower)\n"
      "  --progress           progress on stderr (default when stderr is a terminal)\n"
      "  --out DIR            write peers.csv, delays.csv, timeseries.csv,\n"
      "                       linkstress.csv and summary.json into DIR (created)\n"
      "  --pretty             indent the JSON\n"
      "  -h, --help           this help\n",
      f);
}

int sim_cmd_forest(int argc, char **argv) {
  sim_forest_params p;
  sim_forest_params_default(&p);
  p.progress = isatty(STDERR_FILENO);
  bool pretty = false;
  enum {
    O_PEERS = 256, O_CONFIG, O_TOPO, O_SEED, O_STRIPES, O_BASE, O_FAIL, O_SETTLE, O_JRATE,
    O_SPREAD, O_BMAX, O_RMAX, O_LOSS, O_WIRE, O_PROGRESS, O_OUT, O_PRETTY, O_REFINE
  };
  static const struct option opts[] = {
      {"peers", required_argument, 0, O_PEERS},
      {"config", required_argument, 0, O_CONFIG},
      {"topology", required_argument, 0, O_TOPO},
      {"seed", required_argument, 0, O_SEED},
      {"stripes", required_argument, 0, O_STRIPES},
      {"baselines", no_argument, 0, O_BASE},
      {"fail-fraction", required_argument, 0, O_FAIL},
      {"settle-s", required_argument, 0, O_SETTLE},
      {"join-rate", required_argument, 0, O_JRATE},
      {"spread-s", required_argument, 0, O_SPREAD},
      {"build-max-s", required_argument, 0, O_BMAX},
      {"repair-max-s", required_argument, 0, O_RMAX},
      {"loss", required_argument, 0, O_LOSS},
      {"refine-per-row", required_argument, 0, O_REFINE},
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
      if (!sim_cli_u64("--peers", optarg, 2, SIM_NET_PEERS_MAX, &u)) return 2;
      p.peers = (uint32_t)u;
      break;
    case O_CONFIG:
      if (!sim_cli_config("forest", optarg, &p.config)) return 2;
      break;
    case O_TOPO:
      if (!sim_cli_topology(optarg, &p.topology)) return 2;
      break;
    case O_SEED:
      if (!sim_cli_u64("--seed", optarg, 0, UINT64_MAX, &p.seed)) return 2;
      break;
    case O_STRIPES:
      if (!sim_cli_stripes("forest", optarg, &p.stripes)) return 2;
      break;
    case O_BASE: p.baselines = true; break;
    case O_FAIL:
      if (!sim_cli_f64("--fail-fraction", optarg, 0, 1, false, &p.fail_fraction)) return 2;
      break;
    case O_SETTLE:
      if (!sim_cli_f64("--settle-s", optarg, 0, 1e6, true, &p.settle_s)) return 2;
      break;
    case O_JRATE:
      if (!sim_cli_f64("--join-rate", optarg, 1e-3, 1e7, true, &p.join_rate)) return 2;
      break;
    case O_SPREAD:
      if (!sim_cli_f64("--spread-s", optarg, 0, 1e6, true, &p.spread_s)) return 2;
      break;
    case O_BMAX:
      if (!sim_cli_f64("--build-max-s", optarg, 1, 1e7, true, &p.build_max_s)) return 2;
      break;
    case O_RMAX:
      if (!sim_cli_f64("--repair-max-s", optarg, 1, 1e7, true, &p.repair_max_s)) return 2;
      break;
    case O_LOSS:
      if (!sim_cli_f64("--loss", optarg, 0, 1, false, &p.loss)) return 2;
      break;
    case O_REFINE:
      if (!sim_cli_u64("--refine-per-row", optarg, 0, 16, &u)) return 2;
      p.refine_per_row = (uint32_t)u;
      break;
    case O_WIRE: p.wire_check = true; break;
    case O_PROGRESS: p.progress = true; break;
    case O_OUT: p.out_dir = optarg; break;
    case O_PRETTY: pretty = true; break;
    case 'h': forest_usage(stdout); return 0;
    default: return sim_cli_getopt_error("forest", c, argv);
    }
  }
  if (!sim_cli_no_operands("forest", argc, argv)) return 2;
  if (p.baselines && p.topology != SIM_NET_TRANSIT_STUB) {
    fputs("stripecast-sim forest: --baselines needs --topology transit-stub (link stress "
          "counts router links)\n",
          stderr);
    return 2;
  }
  if (p.out_dir && !sim_cli_out_dir("forest", p.out_dir)) return 2;
  sim_forest_result r;
  if (sim_forest_run(&p, &r, stderr) != 0) return 1;
  sim_forest_result_json(&p, &r, stdout, pretty);
  return 0;
}
