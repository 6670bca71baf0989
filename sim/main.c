/*
 * main.c — `stripecast-sim`: the discrete-event simulator's front door.
 * One subcommand per experiment; each prints one JSON object on stdout.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/flags.h"
#include "sim/cli.h"
#include "sim/commands.h"

static void usage(FILE *f) {
  fputs("usage: stripecast-sim COMMAND [options]\n"
        "\n"
        "Runs stripecast's protocol core over a simulated Internet and prints one\n"
        "JSON object of results on stdout (progress goes to stderr).\n"
        "\n"
        "commands:\n"
        "  pastry     peers join a Pastry overlay and look up random keys\n"
        "  forest     peers build a SplitStream forest of stripe trees\n"
        "  stream     a live stream over the forest: coding, repair, churn, loss\n"
        "  faults     one seed of the fault sweep: drawn faults, checked invariants\n"
        "  directory  stations announced to every peer: cost and time to be listed\n"
        "\n"
        "Run 'stripecast-sim COMMAND --help' for a command's options. Every command\n"
        "takes",
        f);
  /* The shared options, as their one table names them. */
  size_t col = 5;
  bool first = true;
  for (const flags_opt *o = sim_common_flags; o->kind != FLAGS_END; o++) {
    if (o->kind == FLAGS_SECTION) continue;
    bool last = o[1].kind == FLAGS_END;
    const char *sep = first ? " " : last ? " and " : ", ";
    if (col + strlen(sep) + strlen(o->name) + 3 > 78) {
      fputs(first ? "\n" : (last ? " and\n" : ",\n"), f);
      sep = "";
      col = 0;
    }
    col += (size_t)fprintf(f, "%s--%s%s", sep, o->name, last ? ".\n" : "");
    first = false;
  }
  fputs("\nExit status: 0 on success, 1 when a run fails, 2 on a usage error.\n", f);
}

int main(int argc, char **argv) {
  /* libsodium's one-time setup, before any signed stream (core/auth.h). */
  if (sodium_init() < 0) {
    fputs("stripecast-sim: libsodium failed to initialise\n", stderr);
    return 1;
  }
  if (argc < 2) {
    fputs("stripecast-sim: missing command (pastry, forest, stream or faults); see "
          "--help\n",
          stderr);
    return FLAGS_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    puts("stripecast-sim 0.1.0");
    return 0;
  }
  if (strcmp(cmd, "pastry") == 0) return sim_cmd_pastry(argc - 1, argv + 1);
  if (strcmp(cmd, "forest") == 0) return sim_cmd_forest(argc - 1, argv + 1);
  if (strcmp(cmd, "stream") == 0) return sim_cmd_stream(argc - 1, argv + 1);
  if (strcmp(cmd, "faults") == 0) return sim_cmd_faults(argc - 1, argv + 1);
  if (strcmp(cmd, "directory") == 0) return sim_cmd_directory(argc - 1, argv + 1);
  fprintf(stderr,
          "stripecast-sim: unknown command '%s' (pastry, forest, stream or faults); see "
          "--help\n",
          cmd);
  return FLAGS_EXIT_USAGE;
}
