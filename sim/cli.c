/* cli.c — the options every stripecast-sim command shares (see cli.h). */
#include "sim/cli.h"

#include <stdio.h>
#include <sys/stat.h>

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
    {.kind = FLAGS_U64,
     .name = "peers",
     .meta = "N",
     FLAGS_AT(sim_common_opts, peers),
     .min = 2,
     .max = SIM_NET_PEERS_MAX,
     .help = "peers in the overlay when the experiment starts (in forest and stream "
             "peer 0 is the source); 100k, 1M and 1e6 work"},
    {.kind = FLAGS_U64,
     .name = "seed",
     .meta = "S",
     FLAGS_AT(sim_common_opts, seed),
     .max = UINT64_MAX,
     .help = "run seed; one seed gives one history"},
    {.kind = FLAGS_CHOICE,
     .name = "topology",
     .meta = "T",
     FLAGS_AT(sim_common_opts, topology),
     .choices = topology_choices,
     .help = "the network model: transit-stub (GT-ITM style, 5,050 routers; link "
             "stress needs it), or sphere or plane (coordinates + access delay). The "
             "router graph is the same in every run, like the papers' one GATech "
             "graph; the seed places the peers"},
    {.kind = FLAGS_F64,
     .name = "loss",
     .meta = "P",
     FLAGS_AT(sim_common_opts, loss),
     .fmin = 0,
     .fmax = 1,
     .attrs = FLAGS_OPEN,
     .help = "probability that any message is lost"},
    {.kind = FLAGS_F64,
     .name = "settle-s",
     .meta = "S",
     FLAGS_AT(sim_common_opts, settle_s),
     .fmin = 0,
     .fmax = 1e6,
     .help = "quiet time after the last Pastry join"},
    {.kind = FLAGS_F64,
     .name = "join-rate",
     .meta = "R",
     FLAGS_AT(sim_common_opts, join_rate),
     .fmin = 1e-3,
     .fmax = 1e7,
     .dflt = "N/100 within [10, 2000]",
     .help = "Pastry arrivals per simulated second"},
    {.kind = FLAGS_U64,
     .name = "refine-per-row",
     .meta = "K",
     FLAGS_AT(sim_common_opts, refine_per_row),
     .min = 0,
     .max = 16,
     .help = "Pastry's locality refinement: after joining, ask K entries of each "
             "routing-table row for their row and probe the peers named; 0 turns it "
             "off, which makes very large runs faster"},
    {.kind = FLAGS_SET,
     .name = "wire-check",
     FLAGS_AT(sim_common_opts, wire_check),
     .help = "send every message through the protobuf encoder and decoder and check "
             "the charged size (slower)"},
    {.kind = FLAGS_SET,
     .name = "progress",
     FLAGS_AT(sim_common_opts, progress),
     .dflt = "on when stderr is a terminal",
     .help = "progress on stderr"},
    {.kind = FLAGS_STR,
     .name = "out",
     .meta = "DIR",
     FLAGS_AT(sim_common_opts, out_dir),
     .help = "write the command's CSV files (named above) into DIR, created if "
             "missing"},
    {.kind = FLAGS_SET,
     .name = "pretty",
     FLAGS_AT(sim_common_opts, pretty),
     .help = "indent the JSON"},
    {.kind = FLAGS_END},
};

bool sim_cli_out_dir(const flags_cmd *cmd, const char *dir) {
  if (mkdir(dir, 0777) == 0) return true;
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return true;
  flags_fail(cmd, stderr, "--out: cannot create directory '%s'", dir);
  return false;
}
