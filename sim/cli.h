/*
 * cli.h — what stripecast-sim's commands share on the command line: the
 * options every experiment has (one flag table, included by each command's
 * own table; cli/flags.h), the choice lists, and the --out directory.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/flags.h"
#include "sim/netmodel.h"

/* The options of every command. Each command's parameters have fields of
 * the same names: SIM_COMMON_COPY(c, p) takes a command's defaults into c,
 * SIM_COMMON_COPY(p, c) hands the parsed values back. */
typedef struct sim_common_opts {
  uint32_t peers;
  uint64_t seed;
  sim_net_kind topology;
  double loss;
  double settle_s;
  double join_rate;
  uint32_t refine_per_row;
  bool wire_check;
  bool progress;
  const char *out_dir;
  bool pretty; /* the JSON's layout, not a parameter of the run: not copied */
} sim_common_opts;

#define SIM_COMMON_COPY_1(dst, src, f) (dst).f = (src).f;
#define SIM_COMMON_COPY(dst, src)                                                        \
  do {                                                                                   \
    SIM_COMMON_COPY_1(dst, src, peers)                                                   \
    SIM_COMMON_COPY_1(dst, src, seed)                                                    \
    SIM_COMMON_COPY_1(dst, src, topology)                                                \
    SIM_COMMON_COPY_1(dst, src, loss)                                                    \
    SIM_COMMON_COPY_1(dst, src, settle_s)                                                \
    SIM_COMMON_COPY_1(dst, src, join_rate)                                               \
    SIM_COMMON_COPY_1(dst, src, refine_per_row)                                          \
    SIM_COMMON_COPY_1(dst, src, wire_check)                                              \
    SIM_COMMON_COPY_1(dst, src, progress)                                                \
    SIM_COMMON_COPY_1(dst, src, out_dir)                                                 \
  } while (0)

/* The shared options' table (a section of its own in each command's --help). */
extern const flags_opt sim_common_flags[];

/* Units of a time in seconds, as the churn grammar has them (sim/churn_spec.h):
 * "600", "600s" and "10min" are the same --duration. */
extern const flags_unit sim_seconds_units[];

/* --config (sim/capacity.h) and --stripes (1, 2, 4, 8 or 16). */
extern const flags_choice sim_config_choices[];
extern const flags_choice sim_stripes_choices[];

/* Parses a command's argv into opts (the command's own struct, whose common
 * options c already hold the command's defaults) as flags_main does, with
 * the defaults --help shows: progress on when stderr is a terminal, the JSON
 * compact. Returns 0 after --help, FLAGS_EXIT_USAGE after a usage error, or
 * -1 to go on and run. */
int sim_cli_parse(const flags_cmd *cmd, void *opts, sim_common_opts *c, int argc,
                  char **argv);

/* Creates dir (--out) unless it is already a directory; on failure prints
 * the one-line error and returns false. */
bool sim_cli_out_dir(const flags_cmd *cmd, const char *dir);

#endif
