/*
 * main.c — the stripecast program: parse the command line (runtime/cli.c) and
 * run the process (runtime/host.c). Usage errors exit 2 with one line that
 * points to --help.
 */
#include <stdio.h>

#include "cli.h"
#include "cli/flags.h"
#include "host.h"

int main(int argc, char **argv) {
  rt_options o;
  char err[FLAGS_ERR_BYTES];
  int rv = rt_cli_parse(&o, argc, argv, err, sizeof err);
  if (rv == RT_CLI_HELP) {
    rt_cli_usage(stdout);
    return 0;
  }
  if (rv != RT_CLI_RUN) {
    rt_cli_report(err, stderr);
    return FLAGS_EXIT_USAGE;
  }
  return rt_host_run(&o);
}
