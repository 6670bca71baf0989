/*
 * flags.h — one table-driven command-line parser for both programs
 * (stripecast-sim's commands and the stripecast runtime).
 *
 * A command is a table of options. Each entry names its flag, the kind of
 * value it takes, where the value goes (an offsetof into the caller's options
 * struct), its bounds or choices, and its help text. The same table drives
 * parsing, the one-line usage errors and the generated --help, so a bound or
 * a default cannot say one thing in the help and do another.
 *
 * Accepted forms: --name VALUE, --name=VALUE, switches as --name, -h and
 * --help, and "--" to end the options. Names are matched exactly (no
 * abbreviations: a prefix that is unique today becomes ambiguous when a flag
 * is added). A flag given twice keeps its last value. Operands are refused.
 *
 * Errors are one line naming the flag and what is wrong, e.g.
 *   stripecast-sim forest: --peers: 0 is below the minimum 2; see --help
 * and a usage error is exit status FLAGS_EXIT_USAGE (2).
 */
#ifndef SC_CLI_FLAGS_H
#define SC_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FLAGS_EXIT_USAGE 2   /* exit status of a usage error */
#define FLAGS_OPTS_MAX   96  /* entries of one command, included tables counted */
#define FLAGS_ERR_BYTES  256 /* room for one error line */

typedef enum flags_kind {
  FLAGS_END = 0, /* terminates a table */
  FLAGS_SECTION, /* a heading in --help (name is the heading); takes no flag */
  FLAGS_INCLUDE, /* the entries of sub, whose offsets count from off */
  FLAGS_SET,     /* switch: the bool at off becomes true */
  FLAGS_CLEAR,   /* switch: the bool at off becomes false (--no-...) */
  FLAGS_U64,     /* whole number in [min, max]; stored times scale */
  FLAGS_F64,     /* finite number in [fmin, fmax] (fmax excluded with FLAGS_OPEN) */
  FLAGS_STR,     /* the argument itself (const char *); never empty */
  FLAGS_CHOICE,  /* one of choices' names; stores its value (>= 0; an int or enum) */
  FLAGS_ON_OFF,  /* "on" or "off" into a bool */
  FLAGS_CUSTOM,  /* parse(opts, value, why): multi-field or shaped values */
} flags_kind;

/* Attribute bits of an entry. */
enum {
  FLAGS_REQUIRED = 1u << 0, /* a usage error when absent */
  FLAGS_OPEN = 1u << 1,     /* FLAGS_F64: fmax itself is out of range */
  FLAGS_GIVEN = 1u << 2,    /* set the bool at given when the flag appears */
};

typedef struct flags_choice {
  const char *name;
  int value;
} flags_choice;

/* A unit a FLAGS_F64 value may carry ("10min"): the value times factor is
 * in the field's unit. A bare number is in the field's unit. */
typedef struct flags_unit {
  const char *suffix;
  double factor;
} flags_unit;

/* Parses value into the caller's options; 0, or nonzero with why (what is
 * wrong with the value, without the flag's name) filled. */
typedef int (*flags_parse_fn)(void *opts, const char *value, char *why, size_t whylen);

typedef struct flags_opt {
  flags_kind kind;
  const char *name;            /* without "--"; the heading for FLAGS_SECTION */
  const char *meta;            /* the value's placeholder in --help ("N", "ADDR:PORT") */
  const char *help;            /* one sentence or more; --help wraps it */
  const char *dflt;            /* the default as --help says it; NULL: from the field */
  size_t off;                  /* the target field: offsetof into the options struct */
  size_t size;                 /* sizeof the target field (FLAGS_AT fills both) */
  unsigned attrs;              /* FLAGS_REQUIRED | FLAGS_OPEN | FLAGS_GIVEN */
  size_t given;                /* with FLAGS_GIVEN: offsetof a bool */
  uint64_t min, max;           /* FLAGS_U64 bounds, in the flag's own unit */
  uint64_t scale;              /* FLAGS_U64: stored value = given value x scale (0: 1) */
  double fmin, fmax;           /* FLAGS_F64 bounds */
  const flags_choice *choices; /* FLAGS_CHOICE: ends with a NULL name */
  const flags_unit *units;     /* FLAGS_F64, optional: ends with a NULL suffix */
  flags_parse_fn parse;        /* FLAGS_CUSTOM */
  const struct flags_opt *sub; /* FLAGS_INCLUDE */
} flags_opt;

/* The target field of an entry: .off and .size of member f of struct type T. */
#define FLAGS_AT(T, f) .off = offsetof(T, f), .size = sizeof(((T *)0)->f)

/* The common entries in one line or two: the members every entry of that kind
 * has, ending with the help. They go inside the entry's braces, so that the
 * rarer members follow as designators:
 *   {FLAGS_OPT_F64(opts, loss, "loss", "P", 0, 1, "loss probability"),
 *    .attrs = FLAGS_OPEN}, */
#define FLAGS_OPT_(kind_, T, f, name_, meta_, help_)                                     \
  .kind = kind_, .name = name_, .meta = meta_, FLAGS_AT(T, f), .help = help_
#define FLAGS_OPT_U64(T, f, name_, meta_, lo, hi, help_)                                 \
  FLAGS_OPT_(FLAGS_U64, T, f, name_, meta_, help_), .min = lo, .max = hi
#define FLAGS_OPT_F64(T, f, name_, meta_, lo, hi, help_)                                 \
  FLAGS_OPT_(FLAGS_F64, T, f, name_, meta_, help_), .fmin = lo, .fmax = hi
#define FLAGS_OPT_CHOICE(T, f, name_, meta_, choices_, help_)                            \
  FLAGS_OPT_(FLAGS_CHOICE, T, f, name_, meta_, help_), .choices = choices_
#define FLAGS_OPT_STR(T, f, name_, meta_, help_)                                         \
  FLAGS_OPT_(FLAGS_STR, T, f, name_, meta_, help_)
#define FLAGS_OPT_ON_OFF(T, f, name_, help_)                                             \
  FLAGS_OPT_(FLAGS_ON_OFF, T, f, name_, "on|off", help_)
#define FLAGS_OPT_SET(T, f, name_, help_) FLAGS_OPT_(FLAGS_SET, T, f, name_, NULL, help_)
#define FLAGS_OPT_CLEAR(T, f, name_, help_)                                              \
  FLAGS_OPT_(FLAGS_CLEAR, T, f, name_, NULL, help_)

/* One command: its table and the prose around the generated option list. */
typedef struct flags_cmd {
  const char *prog;     /* "stripecast-sim forest": prefixes errors and usage */
  const char *synopsis; /* after prog on the usage line, e.g. "[options]" */
  const char *about;    /* paragraph(s) after the usage line; --help wraps them */
  const flags_opt *opts;
  const char *epilog; /* printed verbatim after the options (examples, grammars) */
} flags_cmd;

enum { FLAGS_RUN = 0, FLAGS_HELP = 1, FLAGS_ERROR = -1 };

/* Parses argv[1..argc-1] into opts (which holds the defaults already).
 * Returns FLAGS_RUN; FLAGS_HELP for -h/--help (opts untouched); or
 * FLAGS_ERROR with one line in err (the flag and what is wrong, without the
 * program's name). A table that contradicts itself (bounds, sizes, duplicate
 * names) is a programming error and asserts. */
int flags_parse(const flags_cmd *cmd, void *opts, int argc, char **argv, char *err,
                size_t errlen);

/* Writes --help: usage line, about, the options (grouped by sections, each
 * with its bounds or choices and its default, read from opts when the entry
 * has no dflt), and the epilog. opts should hold the defaults. */
void flags_help(const flags_cmd *cmd, const void *opts, FILE *f);

/* Writes "PROG: ERR; see --help" as one line. */
void flags_report(const flags_cmd *cmd, const char *err, FILE *f);

/* For a command's main: parses; on --help writes the help to out and
 * returns 0; on an error writes the line to errf and returns
 * FLAGS_EXIT_USAGE; otherwise returns -1 (go on and run). */
int flags_main(const flags_cmd *cmd, void *opts, int argc, char **argv, FILE *out,
               FILE *errf);

/* Reports a usage error found after parsing (flags that contradict each
 * other) in the same form as flags_report; returns FLAGS_EXIT_USAGE. */
int flags_fail(const flags_cmd *cmd, FILE *errf, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The number parsers behind FLAGS_U64 and FLAGS_F64, for custom parsers:
 * 0, or nonzero with why filled. u64 takes 1500, 1.5k, 2M, 1e6 (whole
 * values only, exact up to 2^64 - 1 when written out in digits). */
int flags_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why,
              size_t whylen);
int flags_f64(const char *s, double min, double max, bool open_max, double *out,
              char *why, size_t whylen);
/* flags_f64 with an optional unit after the number (units may be NULL). */
int flags_f64_units(const char *s, const flags_unit *units, double min, double max,
                    bool open_max, double *out, char *why, size_t whylen);

#endif
