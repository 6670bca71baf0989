/*
 * cli.h — strict number parsing for the simulator's flags: a value is taken
 * whole or rejected with a one-line error naming the flag (exit code 2).
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/capacity.h"
#include "sim/netmodel.h"

/* Parse s as an unsigned integer in [min, max] (accepts 1e6-style and
 * k/M suffixes); on failure print "stripecast-sim: --flag: ..." and return false. */
bool sim_cli_u64(const char *flag, const char *s, uint64_t min, uint64_t max,
                 uint64_t *out);
/* Parse s as a finite double in [min, max) (or [min, max] if max_inclusive). */
bool sim_cli_f64(const char *flag, const char *s, double min, double max,
                 bool max_inclusive, double *out);

/* Parse s as a network model (--topology); on failure print the one-line
 * error naming the choices and return false. */
bool sim_cli_topology(const char *s, sim_net_kind *out);
/* Parse s as a capacity configuration (--config) or a stripe count (--stripes:
 * 1, 2, 4, 8 or 16); on failure print "stripecast-sim CMD: --flag: ..." and
 * return false. */
bool sim_cli_config(const char *cmd, const char *s, sim_cap_kind *out);
bool sim_cli_stripes(const char *cmd, const char *s, uint32_t *out);
/* Parse s as "on" or "off" for flag (e.g. "--repair"); on failure print
 * "stripecast-sim CMD: --flag: ..." and return false. */
bool sim_cli_on_off(const char *cmd, const char *flag, const char *s, bool *out);
/* getopt_long's leftovers for command cmd: prints the one-line error for
 * c (':' a missing value, anything else an unknown option) and returns 2. */
int sim_cli_getopt_error(const char *cmd, int c, char **argv);
/* Returns false (after the error line) if arguments remain after the
 * options. */
bool sim_cli_no_operands(const char *cmd, int argc, char **argv);
/* Create dir (--out) unless it is already a directory; on failure print
 * "stripecast-sim CMD: --out: ..." and return false. */
bool sim_cli_out_dir(const char *cmd, const char *dir);

#endif
