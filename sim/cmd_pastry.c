/* cmd_pastry.c — `stripecast-sim pastry`: flags in, one JSON object out. */
#include <stdio.h>

#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/pastry_sim.h"

typedef struct pastry_cli {
  sim_pastry_params p;
  sim_common_opts c;
} pastry_cli;

static const flags_opt pastry_flags[] = {
    {FLAGS_OPT_U64(pastry_cli, p.lookups, "lookups", "L", 0, 1000000000,
                   "lookups after the overlay is built")},
    {FLAGS_OPT_F64(pastry_cli, p.fail_fraction, "fail-fraction", "F", 0, 1,
                   "fraction of peers that crash at once after the overlay settles"),
     .attrs = FLAGS_OPEN},
    {FLAGS_OPT_F64(pastry_cli, p.repair_s, "repair-s", "S", 0, 1e6,
                   "quiet repair time after the crash before lookups start; a 30 s "
                   "lease, 20 s heartbeats and 3 one-second probes detect a crash "
                   "within ~55 s")},
    {FLAGS_OPT_F64(pastry_cli, p.lookup_rate, "lookup-rate", "R", 1e-3, 1e8,
                   "lookups per simulated second"),
     .dflt = "L/10"},
    {FLAGS_OPT_CLEAR(pastry_cli, p.pns, "no-pns",
                     "turn proximity neighbour selection off")},
    {FLAGS_OPT_F64(pastry_cli, p.rt_maintenance_s, "rt-maintenance-s", "S", 0, 1e6,
                   "repeat the routing-table refinement (--refine-per-row) every S "
                   "simulated seconds"),
     .dflt = "0: once, after joining"},
    {.kind = FLAGS_INCLUDE, .sub = sim_common_flags, .off = offsetof(pastry_cli, c)},
    {.kind = FLAGS_END},
};

static const flags_cmd pastry_cmd = {
    .prog = "stripecast-sim pastry",
    .about = "N peers join a Pastry overlay (Poisson arrivals, each through a nearby "
             "peer), the overlay settles, optionally a fraction of peers crash at once "
             "and the overlay repairs itself, then random peers look up random keys. A "
             "global oracle judges each lookup: it is correct if delivered to the live "
             "peer whose id is numerically closest to the key. One JSON object goes to "
             "stdout; --out DIR also gets hops.csv and summary.json.",
    .opts = pastry_flags,
};

int sim_cmd_pastry(int argc, char **argv) {
  pastry_cli o;
  sim_pastry_params_default(&o.p);
  SIM_COMMON_COPY(o.c, o.p);
  int rv = sim_cli_parse(&pastry_cmd, &o, &o.c, argc, argv);
  if (rv >= 0) return rv;
  SIM_COMMON_COPY(o.p, o.c);
  if (o.p.out_dir && !sim_cli_out_dir(&pastry_cmd, o.p.out_dir)) return FLAGS_EXIT_USAGE;
  sim_pastry_result r;
  if (sim_pastry_run(&o.p, &r, stderr) != 0) return 1;
  sim_pastry_result_json(&o.p, &r, stdout, o.c.pretty);
  return 0;
}
