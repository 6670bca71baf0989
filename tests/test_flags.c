/*
 * test_flags.c — the table-driven flag parser (cli/flags.h): bounds and
 * suffixes of numbers, choices, switches, included tables, the error line of
 * every kind of mistake, and the --help generated from the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/flags.h"

typedef enum { SHAPE_ROUND = 3, SHAPE_SQUARE = 7, SHAPE_STAR = 11 } shape;

typedef struct common {
  uint32_t peers;
  bool pretty;
} common;

typedef struct opts {
  uint64_t count;
  uint16_t port;
  uint64_t delay_ns;
  double frac;
  double rate;
  double dur_s;
  const char *name;
  shape shape;
  bool repair;
  bool verbose;
  bool pns;
  bool count_set;
  unsigned pair_a, pair_b;
  common c;
} opts;

static const flags_choice shapes[] = {
    {"round", SHAPE_ROUND}, {"square", SHAPE_SQUARE}, {"star", SHAPE_STAR}, {NULL, 0}};

static int parse_pair(void *o, const char *v, char *why, size_t whylen) {
  opts *x = o;
  if (sscanf(v, "%u/%u", &x->pair_a, &x->pair_b) == 2) return 0;
  snprintf(why, whylen, "'%s' is not A/B", v);
  return -1;
}

static const flags_unit time_units[] = {{"s", 1}, {"ms", 1e-3}, {"min", 60}, {NULL, 0}};

static const flags_opt common_flags[] = {
    {.kind = FLAGS_SECTION, .name = "shared"},
    {.kind = FLAGS_U64,
     .name = "peers",
     .meta = "N",
     FLAGS_AT(common, peers),
     .min = 2,
     .max = 1u << 24,
     .help = "peers in the run"},
    {.kind = FLAGS_SET, .name = "pretty", FLAGS_AT(common, pretty), .help = "indent"},
    {.kind = FLAGS_END},
};

static const flags_opt table[] = {
    {.kind = FLAGS_U64,
     .name = "count",
     .meta = "N",
     FLAGS_AT(opts, count),
     .min = 0,
     .max = UINT64_MAX,
     .attrs = FLAGS_GIVEN,
     .given = offsetof(opts, count_set),
     .help = "how many"},
    {.kind = FLAGS_U64,
     .name = "port",
     .meta = "P",
     FLAGS_AT(opts, port),
     .min = 1,
     .max = 65535,
     .attrs = FLAGS_REQUIRED,
     .help = "the port"},
    {.kind = FLAGS_U64,
     .name = "delay-ms",
     .meta = "MS",
     FLAGS_AT(opts, delay_ns),
     .max = 60000,
     .scale = 1000000,
     .help = "added delay"},
    {.kind = FLAGS_F64,
     .name = "frac",
     .meta = "F",
     FLAGS_AT(opts, frac),
     .fmin = 0,
     .fmax = 1,
     .attrs = FLAGS_OPEN,
     .help = "a fraction"},
    {.kind = FLAGS_F64,
     .name = "rate",
     .meta = "R",
     FLAGS_AT(opts, rate),
     .fmin = 0.5,
     .fmax = 1e6,
     .dflt = "N/100",
     .help = "a rate"},
    {.kind = FLAGS_F64,
     .name = "dur",
     .meta = "T",
     FLAGS_AT(opts, dur_s),
     .fmin = 1,
     .fmax = 3600,
     .units = time_units,
     .help = "a time"},
    {.kind = FLAGS_STR,
     .name = "name",
     .meta = "NAME",
     FLAGS_AT(opts, name),
     .help = "a name"},
    {.kind = FLAGS_CHOICE,
     .name = "shape",
     .meta = "S",
     FLAGS_AT(opts, shape),
     .choices = shapes,
     .help = "the shape"},
    {.kind = FLAGS_ON_OFF,
     .name = "repair",
     .meta = "on|off",
     FLAGS_AT(opts, repair),
     .help = "repair or not"},
    {.kind = FLAGS_SET, .name = "verbose", FLAGS_AT(opts, verbose), .help = "talk"},
    {.kind = FLAGS_CLEAR, .name = "no-pns", FLAGS_AT(opts, pns), .help = "no proximity"},
    {.kind = FLAGS_CUSTOM,
     .name = "pair",
     .meta = "A/B",
     .parse = parse_pair,
     .dflt = "1/2",
     .help = "two numbers"},
    {.kind = FLAGS_INCLUDE, .sub = common_flags, .off = offsetof(opts, c)},
    {.kind = FLAGS_END},
};

static const flags_cmd cmd = {
    .prog = "prog sub",
    .synopsis = "--port P [options]",
    .about = "Does one thing. This paragraph is long enough that the help has to wrap "
             "it at eighty columns, which the test checks line by line.",
    .opts = table,
    .epilog = "Example: prog sub --port 9\n",
};

static void defaults(opts *o) {
  memset(o, 0, sizeof *o);
  o->count = 5;
  o->rate = 0;
  o->shape = SHAPE_SQUARE;
  o->repair = true;
  o->pns = true;
  o->pair_a = 1;
  o->pair_b = 2;
  o->c.peers = 1000;
}

static char g_err[FLAGS_ERR_BYTES];

/* Parses the NULL-terminated arguments after the program name into o (reset
 * to the defaults first). */
static int parse(opts *o, ...) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)"prog";
  va_list ap;
  va_start(ap, o);
  for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
    argv[argc++] = (char *)a;
  va_end(ap);
  defaults(o);
  g_err[0] = '\0';
  return flags_parse(&cmd, o, argc, argv, g_err, sizeof g_err);
}

#define assert_error(o, says, ...)                                                       \
  do {                                                                                   \
    assert_int_equal(parse(o, "--port", "9", __VA_ARGS__, NULL), FLAGS_ERROR);           \
    if (!strstr(g_err, says)) fail_msg("error '%s' lacks '%s'", g_err, says);            \
  } while (0)

static void test_defaults_and_values(void **state) {
  (void)state;
  opts o;
  assert_int_equal(parse(&o, "--port", "9000", NULL), FLAGS_RUN);
  assert_int_equal(o.port, 9000);
  assert_int_equal(o.count, 5);
  assert_false(o.count_set);
  assert_int_equal(o.shape, SHAPE_SQUARE);
  assert_true(o.repair && o.pns && !o.verbose);
  assert_int_equal(o.c.peers, 1000);

  assert_int_equal(parse(&o, "--port=80", "--count", "7", "--delay-ms", "15", "--frac",
                         "0.25", "--rate=2.5", "--name", "x y", "--shape", "star",
                         "--repair", "off", "--verbose", "--no-pns", "--pair", "3/4",
                         "--peers", "2", "--pretty", NULL),
                   FLAGS_RUN);
  assert_int_equal(o.port, 80);
  assert_int_equal(o.count, 7);
  assert_true(o.count_set);
  assert_int_equal(o.delay_ns, 15000000u); /* scaled into the stored unit */
  assert_true(o.frac == 0.25 && o.rate == 2.5);
  assert_string_equal(o.name, "x y");
  assert_int_equal(o.shape, SHAPE_STAR); /* the choice's value, not its index */
  assert_false(o.repair);
  assert_true(o.verbose);
  assert_false(o.pns);
  assert_int_equal(o.pair_a, 3);
  assert_int_equal(o.pair_b, 4);
  assert_int_equal(o.c.peers, 2); /* through the included table's offset */
  assert_true(o.c.pretty);

  /* A flag given twice keeps its last value; "--" ends the options. */
  assert_int_equal(parse(&o, "--port", "1", "--port", "2", "--", NULL), FLAGS_RUN);
  assert_int_equal(o.port, 2);
}

static void test_u64_bounds_and_suffixes(void **state) {
  (void)state;
  opts o;
  static const struct {
    const char *in;
    uint64_t want;
  } ok[] = {
      {"0", 0},        {"10k", 10000},   {"10K", 10000},
      {"2M", 2000000}, {"1e6", 1000000}, {"1.5k", 1500},
      {"2.5e3", 2500}, {"007", 7},       {"18446744073709551615", UINT64_MAX},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(parse(&o, "--port", "9", "--count", ok[i].in, NULL), FLAGS_RUN);
    assert_true(o.count == ok[i].want);
  }
  /* Bounds are inclusive and named in the error. */
  assert_int_equal(parse(&o, "--port", "9", "--peers", "2", NULL), FLAGS_RUN);
  assert_int_equal(parse(&o, "--port", "9", "--peers", "16777216", NULL), FLAGS_RUN);
  assert_error(&o, "--peers: 1 is below the minimum 2", "--peers", "1");
  assert_error(&o, "--peers: 16777217 is above the maximum 16777216", "--peers",
               "16777217");
  assert_error(&o, "--peers: 20000000 is above the maximum", "--peers", "2e7");
  assert_error(&o, "--port: 65536 is above the maximum 65535", "--port", "65536");
  assert_error(&o, "--count: 18446744073709551616 is above the maximum", "--count",
               "18446744073709551616");
  assert_error(&o, "--count: 1e30 is above the maximum", "--count", "1e30");
  /* Not whole, signed, empty, trailing junk, words. */
  const char *bad[] = {"1.5",  "-5",  "+5",  "",    " 5",  "5x",
                       "10kk", "abc", "nan", "inf", "0x10"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_error(&o, "is not a whole number", "--count", bad[i]);
  /* The scale applies after the bounds, which are in the flag's own unit. */
  assert_error(&o, "--delay-ms: 60001 is above the maximum 60000", "--delay-ms", "60001");
}

static void test_f64(void **state) {
  (void)state;
  opts o;
  assert_int_equal(parse(&o, "--port", "9", "--frac", "0", NULL), FLAGS_RUN);
  assert_int_equal(parse(&o, "--port", "9", "--frac", "0.999", NULL), FLAGS_RUN);
  assert_error(&o, "--frac: 1 is not below 1", "--frac", "1"); /* open maximum */
  assert_error(&o, "--frac: -0.1 is below the minimum 0", "--frac", "-0.1");
  assert_int_equal(parse(&o, "--port", "9", "--rate", "1000000", NULL), FLAGS_RUN);
  assert_error(&o, "--rate: 1000001 is above the maximum 1000000", "--rate", "1000001");
  assert_error(&o, "--rate: 0.25 is below the minimum 0.5", "--rate", "0.25");
  const char *bad[] = {"nan", "inf", "-inf", "", "1x", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_error(&o, "is not a number", "--frac", bad[i]);
  /* Units: the value times the unit's factor, bounds after the conversion. */
  static const struct {
    const char *in;
    double want;
  } ok[] = {{"90", 90}, {"90s", 90}, {"1.5min", 90}, {"2000ms", 2}, {"60min", 3600}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(parse(&o, "--port", "9", "--dur", ok[i].in, NULL), FLAGS_RUN);
    assert_true(o.dur_s == ok[i].want);
  }
  assert_error(&o, "--dur: 0.5 is below the minimum 1", "--dur", "500ms");
  assert_error(&o, "--dur: 3660 is above the maximum 3600", "--dur", "61min");
  assert_error(&o, "--dur: '5h' is not a number (units: s, ms, min)", "--dur", "5h");
  assert_error(&o, "--dur: 'min' is not a number", "--dur", "min");
  assert_error(&o, "--frac: '1s' is not a number", "--frac", "1s"); /* no units */
}

static void test_choices_and_switches(void **state) {
  (void)state;
  opts o;
  assert_int_equal(parse(&o, "--port", "9", "--shape", "round", NULL), FLAGS_RUN);
  assert_int_equal(o.shape, SHAPE_ROUND);
  assert_error(&o, "--shape: 'circle' is not one of round, square, star", "--shape",
               "circle");
  assert_error(&o, "--shape: 'Round' is not one of", "--shape", "Round");
  assert_int_equal(parse(&o, "--port", "9", "--repair", "on", NULL), FLAGS_RUN);
  assert_true(o.repair);
  assert_error(&o, "--repair: 'yes' is not on or off", "--repair", "yes");
  assert_error(&o, "--verbose takes no value", "--verbose=1");
  assert_error(&o, "--name: the value is empty", "--name", "");
  assert_error(&o, "--pair: 'x' is not A/B", "--pair", "x");
}

static void test_usage_errors(void **state) {
  (void)state;
  opts o;
  assert_error(&o, "unknown option '--bogus'", "--bogus");
  assert_error(&o, "unknown option '--bogus'", "--bogus=3");
  assert_error(&o, "unknown option '-x'", "-x");
  /* Names match exactly: no abbreviations. */
  assert_error(&o, "unknown option '--verb'", "--verb");
  assert_error(&o, "unexpected argument 'stray'", "stray");
  assert_error(&o, "unexpected argument 'x'", "--", "x");
  assert_error(&o, "--count needs a value (N)", "--count");
  assert_error(&o, "--count needs a value (N)", "--count", "--verbose");
  assert_int_equal(parse(&o, "--count", "3", NULL), FLAGS_ERROR);
  assert_string_equal(g_err, "--port P is required");
  /* The first bad flag is the one reported. */
  assert_error(&o, "--peers: 0", "--peers", "0", "--frac", "2");
}

static void test_help_wins(void **state) {
  (void)state;
  opts o;
  assert_int_equal(parse(&o, "--count", "9", "--help", NULL), FLAGS_HELP);
  assert_int_equal(o.count, 5); /* untouched: help shows the defaults */
  assert_int_equal(parse(&o, "-h", NULL), FLAGS_HELP);
  /* Even without the required flag, and after a value that would be wrong. */
  assert_int_equal(parse(&o, "--peers", "0", "--help", NULL), FLAGS_HELP);
  /* As a value, --help is a missing value, not a request for help. */
  assert_int_equal(parse(&o, "--port", "9", "--name", "--help", NULL), FLAGS_ERROR);
}

/* The --help text into a string (the caller frees it). */
static char *help_text(const opts *o) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  flags_help(&cmd, o, f);
  fclose(f);
  return buf;
}

static void assert_has(const char *text, const char *piece) {
  if (!strstr(text, piece)) fail_msg("help lacks '%s':\n%s", piece, text);
}

static void test_help_generated(void **state) {
  (void)state;
  opts o;
  defaults(&o);
  char *h = help_text(&o);
  assert_true(strncmp(h, "usage: prog sub --port P [options]\n\nDoes one thing.", 51) ==
              0);
  assert_has(h, "\noptions:\n  --count N");
  assert_has(h, "how many (default 5)"); /* the full u64 range is not worth saying */
  assert_has(h, "the port (1..65535; required)");
  assert_has(h, "added delay (0..60000; default 0)");
  assert_has(h, "a fraction ([0, 1); default 0)");
  assert_has(h, "a rate ([0.5, 1000000]; default N/100)"); /* dflt overrides the field */
  assert_has(h, "a time ([1, 3600]; units s, ms, min; default 0)");
  assert_has(h, "the shape (round, square, star; default square)");
  assert_has(h, "repair or not (default on)");
  assert_has(h, "  --repair on|off");
  assert_has(h, "two numbers (default 1/2)");
  assert_has(h, "\nshared:\n  --peers N");
  assert_has(h, "peers in the run (2..16777216; default 1000)");
  assert_has(h, "  -h, --help            this text\n");
  assert_has(h, "\nExample: prog sub --port 9\n");
  /* Every line fits in 80 columns; the about paragraph was wrapped. */
  size_t lines = 0;
  for (const char *s = h; *s; lines++) {
    size_t n = strcspn(s, "\n");
    if (n > 80) fail_msg("line over 80 columns: %.*s", (int)n, s);
    s += n + (s[n] == '\n');
  }
  assert_true(lines > 15);
  free(h);

  /* The defaults shown are the ones in the struct given. */
  o.c.peers = 77;
  o.shape = SHAPE_ROUND;
  o.name = "abc";
  h = help_text(&o);
  assert_has(h, "default 77)");
  assert_has(h, "default round)");
  assert_has(h, "a name (default \"abc\")");
  free(h);
}

static void test_main_and_report(void **state) {
  (void)state;
  opts o;
  defaults(&o);
  char *out = NULL, *err = NULL;
  size_t outlen = 0, errlen = 0;
  FILE *fo = open_memstream(&out, &outlen), *fe = open_memstream(&err, &errlen);
  char *bad[] = {(char *)"prog",    (char *)"--port", (char *)"9",
                 (char *)"--peers", (char *)"1",      NULL};
  assert_int_equal(flags_main(&cmd, &o, 5, bad, fo, fe), FLAGS_EXIT_USAGE);
  char *ok[] = {(char *)"prog", (char *)"--port", (char *)"9", NULL};
  assert_int_equal(flags_main(&cmd, &o, 3, ok, fo, fe), -1);
  char *help[] = {(char *)"prog", (char *)"--help", NULL};
  assert_int_equal(flags_main(&cmd, &o, 2, help, fo, fe), 0);
  assert_int_equal(flags_fail(&cmd, fe, "--a and --b: pick %d", 1), FLAGS_EXIT_USAGE);
  fclose(fo);
  fclose(fe);
  assert_string_equal(err, "prog sub: --peers: 1 is below the minimum 2; see --help\n"
                           "prog sub: --a and --b: pick 1; see --help\n");
  assert_true(strncmp(out, "usage: prog sub", 15) == 0);
  free(out);
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_and_values),
      cmocka_unit_test(test_u64_bounds_and_suffixes),
      cmocka_unit_test(test_f64),
      cmocka_unit_test(test_choices_and_switches),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_help_wins),
      cmocka_unit_test(test_help_generated),
      cmocka_unit_test(test_main_and_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
