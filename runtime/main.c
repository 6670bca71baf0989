/*
 * main.c — the stripecast program: parse the command line (runtime/cli.c:
 * `stripecast listen ...`, `stripecast broadcast ...`, or the low-level
 * `stripecast --listen ...`) and run the process (runtime/host.c). Usage
 * errors exit 2 with one line that points to the command's --help.
 */
#include <stdio.h>

#include "cli.h"
#include "cli/flags.h"
#include "host.h"

int main(int argc, char **argv) {
  rt_options o;
  char err[FLAGS_ERR_BYTES];
  int cmd = rt_cli_command(argc, argv);
  int rv = rt_cli_parse(&o, argc, argv, err, sizeof err);
  if (rv == RT_CLI_HELP) {
    rt_cli_usage(cmd, stdout);
    return 0;
  }
  if (rv != RT_CLI_RUN) {
    rt_cli_report(cmd, err, stderr);
    return FLAGS_EXIT_USAGE;
  }
  return rt_host_run(&o);
}
