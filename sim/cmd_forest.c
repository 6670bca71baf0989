/* cmd_forest.c — `stripecast-sim forest`: flags in, one JSON object out. */
#include <stdio.h>

#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/forest_sim.h"

typedef struct forest_cli {
  sim_forest_params p;
  sim_common_opts c;
} forest_cli;

static const flags_opt forest_flags[] = {
    {FLAGS_OPT_CHOICE(forest_cli, p.config, "config", "C", sim_config_choices,
                      "in-degree x capacity of every peer, as docs/capacity.md defines "
                      "them; 16xNB has no bound")},
    {FLAGS_OPT_CHOICE(forest_cli, p.stripes, "stripes", "K", sim_stripes_choices,
                      "stripes, one tree each")},
    {FLAGS_OPT_SET(forest_cli, p.baselines, "baselines",
                   "also the link stress of a central server unicasting every stripe to "
                   "every peer, and of IP multicast (needs --topology transit-stub)")},
    {FLAGS_OPT_F64(forest_cli, p.fail_fraction, "fail-fraction", "F", 0, 1,
                   "after the build, that fraction of receivers crash at once; the "
                   "forest repairs and a second message measures it: repair_s, "
                   "complete_fraction_after"),
     .attrs = FLAGS_OPEN},
    {FLAGS_OPT_F64(forest_cli, p.spread_s, "spread-s", "S", 0, 1e6,
                   "receivers subscribe at random within this window after the overlay "
                   "settles")},
    {FLAGS_OPT_F64(forest_cli, p.build_max_s, "build-max-s", "S", 1, 1e7,
                   "give up waiting for a complete forest")},
    {FLAGS_OPT_F64(forest_cli, p.repair_max_s, "repair-max-s", "S", 1, 1e7,
                   "give up waiting for repair")},
    {.kind = FLAGS_INCLUDE, .sub = sim_common_flags, .off = offsetof(forest_cli, c)},
    {.kind = FLAGS_END},
};

static const flags_cmd forest_cmd = {
    .prog = "stripecast-sim forest",
    .about = "Builds a SplitStream forest (Castro et al., SOSP 2003): N peers join a "
             "Pastry overlay, every receiver subscribes to the stripes it wants, and "
             "the forest is built when every receiver is attached to each of them "
             "along a parent chain ending at the stripe's root. Peer 0, the source, "
             "then publishes one message on every stripe; arrivals give tree depth and "
             "delay penalty, copies on the wire give link stress. One JSON object goes "
             "to stdout; --out DIR also gets peers.csv, delays.csv, timeseries.csv, "
             "linkstress.csv and summary.json.",
    .opts = forest_flags,
};

int sim_cmd_forest(int argc, char **argv) {
  forest_cli o;
  sim_forest_params_default(&o.p);
  SIM_COMMON_COPY(o.c, o.p);
  int rv = sim_cli_parse(&forest_cmd, &o, &o.c, argc, argv);
  if (rv >= 0) return rv;
  SIM_COMMON_COPY(o.p, o.c);
  if (o.p.baselines && o.p.topology != SIM_NET_TRANSIT_STUB)
    return flags_fail(&forest_cmd, stderr,
                      "--baselines needs --topology transit-stub (link stress counts "
                      "router links)");
  if (o.p.out_dir && !sim_cli_out_dir(&forest_cmd, o.p.out_dir)) return FLAGS_EXIT_USAGE;
  sim_forest_result r;
  if (sim_forest_run(&o.p, &r, stderr) != 0) return 1;
  sim_forest_result_json(&o.p, &r, stdout, o.c.pretty);
  return 0;
}
