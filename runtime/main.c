/*
 * main.c — the stripecast program: parse the command line (runtime/cli.c) and
 * run the process (runtime/host.c). Usage errors exit 2 with one line and a
 * pointer to --help.
 */
#include <stdio.h>

#include "cli.h"
#include "host.h"

int main(int argc, char **argv) {
  rt_options o;
  char err[256];
  int rv = rt_cli_parse(&o, argc, argv, err, sizeof err);
  if (rv == RT_CLI_HELP) {
    rt_cli_usage(stdout);
    return 0;
  }
  if (rv != RT_CLI_RUN) {
    fprintf(stderr, "stripecast: %s (see stripecast --help)\n", err);
    return 2;
  }
  return rt_host_run(&o);
}
