/*
 * main.c — the stripecast program: parse the command line (runtime/cli.c:
 * `stripecast listen ...`, `stripecast broadcast ...`, or the low-level
 * `stripecast --listen ...`) and run the process (runtime/host.c). Usage
 * errors exit 2 with one line that points to the command's --help.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "cli.h"
#include "cli/flags.h"
#include "host.h"
#include "key.h"
#include "page.h"
#include "stations.h"

/* stripecast keygen --out FILE: the public key on stdout (the station's id). */
static int keygen(const rt_options *o) {
  rt_key key;
  char err[512];
  if (rt_key_generate(o->key, &key, err, sizeof err) != 0) {
    fprintf(stderr, "stripecast keygen: %s\n", err);
    sodium_memzero(&key, sizeof key);
    return 1;
  }
  char hex[2 * SC_AUTH_PK_BYTES + 1];
  rt_key_hex(key.pk, hex);
  sodium_memzero(&key, sizeof key);
  printf("%s\n", hex);
  fprintf(stderr,
          "stripecast keygen: key written to %s (owner-only); listeners give "
          "--station NAME@%s\n",
          o->key, hex);
  return 0;
}

int main(int argc, char **argv) {
  /* libsodium's one-time setup (its randomness, its CPU dispatch) before
   * any key is made or any chunk signed or verified. */
  if (sodium_init() < 0) {
    fputs("stripecast: libsodium failed to initialise\n", stderr);
    return 1;
  }
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
  if (cmd == RT_CMD_KEYGEN) return keygen(&o);
  if (cmd == RT_CMD_STATIONS) return rt_stations_query(&o);
  /* The page is read before anything starts: a bad one is a usage error. */
  char perr[1024]; /* room for a path */
  if (o.page_dir && rt_page_load(o.page_dir, &o.page, &o.page_len, perr, sizeof perr)) {
    rt_cli_report(cmd, perr, stderr);
    return FLAGS_EXIT_USAGE;
  }
  int rc = rt_host_run(&o);
  free(o.page);
  return rc;
}
