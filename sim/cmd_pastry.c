/* cmd_pastry.c — `stripecast-sim pastry`: flags in, one JSON object out. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/pastry_sim.h"

static void pastry_usage(FILE *f) {
  fputs(
      "usage: stripecast-sim pastry [options]\n"
      "\n"
      "N peers join a Pastry overlay (Poisson arrivals, each through a nearby peer),\n"
      "the overlay settles, optionally a fraction of peers crash at once and the\n"
      "overlay repairs itself, then random peers look up random keys. A global\n"
      "oracle judges each lookup: it is correct if delivered to the live peer whose\n"
      "id is numerically closest to the key. One JSON object goes to stdout.\n"
      "\n"
      "options:\n"
      "  --peers N            peers to join (1 .. 16,777,216; default 1000; 1e6 and\n"
      "                       100k work)\n"
      "  --lookups L          lookups after the overlay is built (default 1000)\n"
      "  --seed S             run seed; one seed gives one history (default 1)\n"
      "  --topology T         transit-stub (GT-ITM style, 5,050 routers; default),\n"
      "                       sphere or plane (coordinates + access delay). The\n"
      "                       router graph is the same in every run, like the\n"
      "                       papers' one GATech graph; the seed places the peers\n"
      "  --fail-fraction F    fraction of peers that crash at once after the overlay\n"
      "                       settles, in [0, 1) (default 0)\n"
      "  --repair-s SECONDS   quiet repair time after the crash before lookups\n"
      "                       start (default 120: a 30 s lease, 20 s heartbeats and\n"
      "                       3 one-second probes detect a crash within ~55 s)\n"
      "  --settle-s SECONDS   quiet time after the last join (default 60)\n"
      "  --join-rate R        arrivals per simulated second (default N/100,\n"
      "                       clamped to [10, 2000])\n"
      "  --lookup-rate R      lookups per simulated second (default L/10)\n"
      "  --loss P             probability that any message is lost, [0, 1)\n"
      "  --no-pns             turn proximity neighbour selection off\n"
      "  --refine-per-row K   after joining, ask K entries of each routing-table row\n"
      "                       for their row and probe the peers named (0..16,\n"
      "                       default 8; 0 turns the refinement off)\n"
      "  --rt-maintenance-s S repeat that refinement every S simulated seconds\n"
      "                       (default 0: once)\n"
      "  --wire-check         send every message through the protobuf encoder and\n"
      "                       decoder and check the charged size (slower)\n"
      "  --progress           progress on stderr (default when stderr is a terminal)\n"
      "  --out DIR            write hops.csv and summary.json into DIR (created)\n"
      "  --pretty             indent the JSON\n"
      "  -h, --help           this help\n",
      f);
}

int sim_cmd_pastry(int argc, char **argv) {
  sim_pastry_params p;
  sim_pastry_params_default(&p);
  p.progress = isatty(STDERR_FILENO);
  bool pretty = false;
  enum {
    O_PEERS = 256, O_LOOKUPS, O_SEED, O_TOPO, O_FAIL, O_REPAIR, O_SETTLE, O_JRATE,
    O_LRATE, O_LOSS, O_NOPNS, O_WIRE, O_PROGRESS, O_OUT, O_PRETTY, O_REFINE, O_RTM
  };
  static const struct option opts[] = {
      {"peers", required_argument, 0, O_PEERS},
      {"lookups", required_argument, 0, O_LOOKUPS},
      {"seed", required_argument, 0, O_SEED},
      {"topology", required_argument, 0, O_TOPO},
      {"fail-fraction", required_argument, 0, O_FAIL},
      {"repair-s", required_argument, 0, O_REPAIR},
      {"settle-s", required_argument, 0, O_SETTLE},
      {"join-rate", required_argument, 0, O_JRATE},
      {"lookup-rate", required_argument, 0, O_LRATE},
      {"loss", required_argument, 0, O_LOSS},
      {"no-pns", no_argument, 0, O_NOPNS},
      {"refine-per-row", required_argument, 0, O_REFINE},
      {"rt-maintenance-s", required_argument, 0, O_RTM},
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
      if (!sim_cli_u64("--peers", optarg, 1, SIM_NET_PEERS_MAX, &u)) return 2;
      p.peers = (uint32_t)u;
      break;
    case O_LOOKUPS:
      if (!sim_cli_u64("--lookups", optarg, 0, 1000000000, &p.lookups)) return 2;
      break;
    case O_SEED:
      if (!sim_cli_u64("--seed", optarg, 0, UINT64_MAX, &p.seed)) return 2;
      break;
    case O_TOPO:
      if (!sim_cli_topology(optarg, &p.topology)) return 2;
      break;
    case O_FAIL:
      if (!sim_cli_f64("--fail-fraction", optarg, 0, 1, false, &p.fail_fraction)) return 2;
      break;
    case O_REPAIR:
      if (!sim_cli_f64("--repair-s", optarg, 0, 1e6, true, &p.repair_s)) return 2;
      break;
    case O_SETTLE:
      if (!sim_cli_f64("--settle-s", optarg, 0, 1e6, true, &p.settle_s)) return 2;
      break;
    case O_JRATE:
      if (!sim_cli_f64("--join-rate", optarg, 1e-3, 1e7, true, &p.join_rate)) return 2;
      break;
    case O_LRATE:
      if (!sim_cli_f64("--lookup-rate", optarg, 1e-3, 1e8, true, &p.lookup_rate)) return 2;
      break;
    case O_LOSS:
      if (!sim_cli_f64("--loss", optarg, 0, 1, false, &p.loss)) return 2;
      break;
    case O_NOPNS: p.pns = false; break;
    case O_REFINE:
      if (!sim_cli_u64("--refine-per-row", optarg, 0, 16, &u)) return 2;
      p.refine_per_row = (uint32_t)u;
      break;
    case O_RTM:
      if (!sim_cli_f64("--rt-maintenance-s", optarg, 0, 1e6, true, &p.rt_maintenance_s))
        return 2;
      break;
    case O_WIRE: p.wire_check = true; break;
    case O_PROGRESS: p.progress = true; break;
    case O_OUT: p.out_dir = optarg; break;
    case O_PRETTY: pretty = true; break;
    case 'h': pastry_usage(stdout); return 0;
    default: return sim_cli_getopt_error("pastry", c, argv);
    }
  }
  if (!sim_cli_no_operands("pastry", argc, argv)) return 2;
  if (p.out_dir && !sim_cli_out_dir("pastry", p.out_dir)) return 2;
  sim_pastry_result r;
  if (sim_pastry_run(&p, &r, stderr) != 0) return 1;
  sim_pastry_result_json(&p, &r, stdout, pretty);
  return 0;
}
