/* cli.c — the options every stripecast-sim command shares (see cli.h). */
#include "sim/cli.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/capacity.h"

static const flags_choice topology_choices[] = {
    {"transit-stub", SIM_NET_TRANSIT_STUB},
    {"sphere", SIM_NET_SPHERE},
    {"plane", SIM_NET_PLANE},
    {NULL, 0},
};

const flags_unit sim_seconds_units[] = {
    {"s", 1}, {"ms", 1e-3}, {"min", 60}, {"h", 3600}, {NULL, 0},
};

const flags_choice sim_config_choices[] = {
    {"16x16", SIM_CAP_16X16},
    {"16x18", SIM_CAP_16X18},
    {"16x32", SIM_CAP_16X32},
    {"16xNB", SIM_CAP_16XNB},
    {"dxd", SIM_CAP_DXD},
    {"gnutella", SIM_CAP_GNUTELLA},
    {NULL, 0},
};

/* SplitStream's stripe counts: a power of two up to 16, so that a stripe is
 * one digit (or part of one) of an id in base 16 (Castro et al., SOSP 2003). */
const flags_choice sim_stripes_choices[] = {
    {"1", 1}, {"2", 2}, {"4", 4}, {"8", 8}, {"16", 16}, {NULL, 0},
};

const flags_opt sim_common_flags[] = {
    {.kind = FLAGS_SECTION, .name = "options of every command"},
    {FLAGS_OPT_U64(sim_common_opts, peers, "peers", "N", 2, SIM_NET_PEERS_MAX,
                   "peers in the overlay when the experiment starts (in forest and "
                   "stream peer 0 is the source); 100k, 1M and 1e6 work")},
    {FLAGS_OPT_U64(sim_common_opts, seed, "seed", "S", 0, UINT64_MAX,
                   "run seed; one seed gives one history")},
    {FLAGS_OPT_CHOICE(sim_common_opts, topology, "topology", "T", topology_choices,
                      "the network model: transit-stub (GT-ITM style, 5,050 routers; "
                      "link stress needs it), or sphere or plane (coordinates + access "
                      "delay). The router graph is the same in every run, like the "
                      "papers' one GATech graph; the seed places the peers")},
    {FLAGS_OPT_F64(sim_common_opts, loss, "loss", "P", 0, 1,
                   "probability that any message is lost"),
     .attrs = FLAGS_OPEN},
    {FLAGS_OPT_F64(sim_common_opts, settle_s, "settle-s", "S", 0, 1e6,
                   "quiet time after the last Pastry join")},
    {FLAGS_OPT_F64(sim_common_opts, join_rate, "join-rate", "R", 1e-3, 1e7,
                   "Pastry arrivals per simulated second"),
     .dflt = "N/100 within [10, 2000]"},
    {FLAGS_OPT_U64(sim_common_opts, refine_per_row, "refine-per-row", "K", 0, 16,
                   "Pastry's locality refinement: after joining, ask K entries of each "
                   "routing-table row for their row and probe the peers named; 0 turns "
                   "it off, which makes very large runs faster")},
    {FLAGS_OPT_SET(sim_common_opts, wire_check, "wire-check",
                   "send every message through the protobuf encoder and decoder and "
                   "check the charged size (slower)")},
    {FLAGS_OPT_SET(sim_common_opts, progress, "progress", "progress on stderr"),
     .dflt = "on when stderr is a terminal"},
    {FLAGS_OPT_STR(sim_common_opts, out_dir, "out", "DIR",
                   "write the command's CSV files (named above) into DIR, created if "
                   "missing")},
    {FLAGS_OPT_SET(sim_common_opts, pretty, "pretty", "indent the JSON")},
    {.kind = FLAGS_END},
};

int sim_cli_parse(const flags_cmd *cmd, void *opts, sim_common_opts *c, int argc,
                  char **argv) {
  c->progress = isatty(STDERR_FILENO);
  c->pretty = false;
  return flags_main(cmd, opts, argc, argv, stdout, stderr);
}

bool sim_cli_out_dir(const flags_cmd *cmd, const char *dir) {
  if (mkdir(dir, 0777) == 0) return true;
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return true;
  flags_fail(cmd, stderr, "--out: cannot create directory '%s'", dir);
  return false;
}
