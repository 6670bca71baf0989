/* cli.c — flag value parsing (see cli.h). */
#include "sim/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <sys/stat.h>

bool sim_cli_f64(const char *flag, const char *s, double min, double max,
                 bool max_inclusive, double *out) {
  char *end = NULL;
  errno = 0;
  double v = s ? strtod(s, &end) : NAN;
  if (!s || end == s || *end != '\0' || errno != 0 || !isfinite(v)) {
    fprintf(stderr, "stripecast-sim: %s: '%s' is not a number\n", flag, s ? s : "");
    return false;
  }
  if (v < min || v > max || (!max_inclusive && v == max)) {
    fprintf(stderr, "stripecast-sim: %s: %g is outside [%g, %g%c\n", flag, v, min, max,
            max_inclusive ? ']' : ')');
    return false;
  }
  *out = v;
  return true;
}

bool sim_cli_u64(const char *flag, const char *s, uint64_t min, uint64_t max,
                 uint64_t *out) {
  char *end = NULL;
  errno = 0;
  double v = s ? strtod(s, &end) : NAN;
  double mult = 1;
  if (s && end != s && (*end == 'k' || *end == 'K'))
    mult = 1e3, end++;
  else if (s && end != s && *end == 'M')
    mult = 1e6, end++;
  v *= mult;
  if (!s || end == s || *end != '\0' || errno != 0 || !isfinite(v) || v != floor(v) ||
      v < 0) {
    fprintf(stderr, "stripecast-sim: %s: '%s' is not a whole number\n", flag, s ? s : "");
    return false;
  }
  if (v < (double)min || v > (double)max) {
    fprintf(stderr, "stripecast-sim: %s: %s is outside [%llu, %llu]\n", flag, s,
            (unsigned long long)min, (unsigned long long)max);
    return false;
  }
  *out = (uint64_t)v;
  return true;
}

bool sim_cli_topology(const char *s, sim_net_kind *out) {
  if (sim_net_kind_parse(s, out) == 0) return true;
  fprintf(stderr,
          "stripecast-sim: --topology: '%s' is not one of transit-stub, sphere, plane\n",
          s ? s : "");
  return false;
}

bool sim_cli_out_dir(const char *cmd, const char *dir) {
  if (mkdir(dir, 0777) == 0) return true;
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return true;
  fprintf(stderr, "stripecast-sim %s: --out: cannot create directory '%s'\n", cmd, dir);
  return false;
}

bool sim_cli_config(const char *cmd, const char *s, sim_cap_kind *out) {
  if (sim_cap_parse(s, out) == 0) return true;
  fprintf(stderr,
          "stripecast-sim %s: --config: '%s' is not one of 16x16, 16x18, 16x32, 16xNB, dxd, "
          "gnutella\n",
          cmd, s);
  return false;
}

bool sim_cli_stripes(const char *cmd, const char *s, uint32_t *out) {
  uint64_t u;
  if (!sim_cli_u64("--stripes", s, 1, 16, &u)) return false;
  if (u != 1 && u != 2 && u != 4 && u != 8 && u != 16) {
    fprintf(stderr, "stripecast-sim %s: --stripes: %llu is not 1, 2, 4, 8 or 16\n", cmd,
            (unsigned long long)u);
    return false;
  }
  *out = (uint32_t)u;
  return true;
}

bool sim_cli_on_off(const char *cmd, const char *flag, const char *s, bool *out) {
  if (strcmp(s, "on") == 0 || strcmp(s, "off") == 0) {
    *out = s[1] == 'n';
    return true;
  }
  fprintf(stderr, "stripecast-sim %s: %s: '%s' is not on or off\n", cmd, flag, s);
  return false;
}

int sim_cli_getopt_error(const char *cmd, int c, char **argv) {
  if (c == ':')
    fprintf(stderr, "stripecast-sim %s: %s needs a value\n", cmd, argv[optind - 1]);
  else
    fprintf(stderr, "stripecast-sim %s: unknown option '%s' (try --help)\n", cmd,
            argv[optind - 1]);
  return 2;
}

bool sim_cli_no_operands(const char *cmd, int argc, char **argv) {
  if (optind >= argc) return true;
  fprintf(stderr, "stripecast-sim %s: unexpected argument '%s' (try --help)\n", cmd,
          argv[optind]);
  return false;
}
