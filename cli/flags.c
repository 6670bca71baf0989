/* flags.c — the table-driven command-line parser (see flags.h). */
#include "cli/flags.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COL   24     /* where an option's help text starts */
#define HELP_WIDTH 80     /* --help wraps its prose at this column */
#define NBSP       '\x1f' /* a space --help does not break a line at */

/* One entry of a command with its included tables flattened: where its
 * table's struct starts inside the caller's options. */
typedef struct flat {
  const flags_opt *o;
  size_t base;
} flat;

typedef struct flat_table {
  flat e[FLAGS_OPTS_MAX];
  size_t n;
} flat_table;

static bool takes_value(flags_kind k) {
  return k == FLAGS_U64 || k == FLAGS_F64 || k == FLAGS_STR || k == FLAGS_CHOICE ||
         k == FLAGS_ON_OFF || k == FLAGS_CUSTOM;
}

static bool is_flag(flags_kind k) {
  return k >= FLAGS_SET;
}

static uint64_t size_max(size_t size) {
  return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/* The table's promises, checked before every use: a contradiction here is a
 * programming error, never the user's. */
static void check_entry(const flags_opt *o) {
  assert(o->name && o->name[0] != '-');
  switch (o->kind) {
  case FLAGS_SET:
  case FLAGS_CLEAR:
  case FLAGS_ON_OFF:
    assert(o->size == sizeof(bool));
    break;
  case FLAGS_U64: {
    uint64_t scale = o->scale ? o->scale : 1;
    assert(o->size == 1 || o->size == 2 || o->size == 4 || o->size == 8);
    assert(o->min <= o->max && o->max <= size_max(o->size) / scale);
    break;
  }
  case FLAGS_F64:
    assert(o->size == sizeof(double) && o->fmin < o->fmax);
    for (const flags_unit *u = o->units; u && u->suffix; u++)
      assert(u->factor > 0);
    break;
  case FLAGS_STR:
    assert(o->size == sizeof(const char *));
    break;
  case FLAGS_CHOICE:
    assert(o->choices && o->choices[0].name);
    assert(o->size == 1 || o->size == 2 || o->size == 4 || o->size == 8);
    for (const flags_choice *c = o->choices; c->name; c++)
      assert(c->value >= 0 && (uint64_t)c->value <= size_max(o->size));
    break;
  case FLAGS_CUSTOM:
    assert(o->parse && o->meta);
    break;
  default:
    break;
  }
  assert(!takes_value(o->kind) || o->meta);
}

static void flatten(const flags_opt *t, size_t base, flat_table *ft) {
  for (; t->kind != FLAGS_END; t++) {
    if (t->kind == FLAGS_INCLUDE) {
      assert(t->sub);
      flatten(t->sub, base + t->off, ft);
      continue;
    }
    if (is_flag(t->kind)) {
      check_entry(t);
      for (size_t i = 0; i < ft->n; i++)
        assert(!is_flag(ft->e[i].o->kind) || strcmp(ft->e[i].o->name, t->name) != 0);
      assert(strcmp(t->name, "help") != 0);
    }
    assert(ft->n < FLAGS_OPTS_MAX);
    ft->e[ft->n++] = (flat){t, base};
  }
}

static int why(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* --------------------------------------------------------------- numbers */

/* A double as people write it: whole values in digits (1000000, not
 * 1e+06), others as %g. */
static const char *fmt_f64(char *buf, size_t len, double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    snprintf(buf, len, "%.0f", v);
  else
    snprintf(buf, len, "%g", v);
  return buf;
}

int flags_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
              size_t errlen) {
  /* Decimal only: strtod would also take hex, "inf" and leading blanks. */
  bool decimal = s[strspn(s, "0123456789.eE+-kKM")] == '\0';
  if (!decimal ||
      (!isdigit((unsigned char)s[0]) && !(s[0] == '.' && isdigit((unsigned char)s[1]))))
    return why(err, errlen, "'%s' is not a whole number (e.g. 1000, 10k, 2M, 1e6)", s);
  uint64_t v;
  size_t digits = strspn(s, "0123456789");
  if (s[digits] == '\0') {
    /* Plain digits: exact over the whole range (a double is not above 2^53). */
    errno = 0;
    unsigned long long u = strtoull(s, NULL, 10);
    if (errno == ERANGE)
      return why(err, errlen, "%s is above the maximum %llu", s, (unsigned long long)max);
    v = u;
  } else {
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end == 'k' || *end == 'K')
      d *= 1e3, end++;
    else if (*end == 'M')
      d *= 1e6, end++;
    if (*end != '\0' || !isfinite(d) || d != floor(d))
      return why(err, errlen, "'%s' is not a whole number (e.g. 1000, 10k, 2M, 1e6)", s);
    if (d >= 18446744073709551616.0)
      return why(err, errlen, "%s is above the maximum %llu", s, (unsigned long long)max);
    v = (uint64_t)d;
  }
  if (v < min)
    return why(err, errlen, "%llu is below the minimum %llu", (unsigned long long)v,
               (unsigned long long)min);
  if (v > max)
    return why(err, errlen, "%llu is above the maximum %llu", (unsigned long long)v,
               (unsigned long long)max);
  *out = v;
  return 0;
}

/* The units' suffixes as "a, b, c" for messages and help. */
static void unit_list(const flags_unit *units, char *out, size_t outlen) {
  size_t n = 0;
  out[0] = '\0';
  for (const flags_unit *u = units; u && u->suffix && n < outlen; u++)
    n += (size_t)snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", u->suffix);
}

int flags_f64_units(const char *s, const flags_unit *units, double min, double max,
                    bool open_max, double *out, char *err, size_t errlen) {
  char *end = NULL;
  double v = 0;
  if (s[0] != '\0' && !isspace((unsigned char)s[0]) && !strpbrk(s, "xX")) {
    errno = 0;
    v = strtod(s, &end);
  }
  if (end && end != s && *end != '\0' && units) {
    const flags_unit *u = units;
    while (u->suffix && strcmp(u->suffix, end) != 0)
      u++;
    if (u->suffix) {
      v *= u->factor;
      end += strlen(end);
    }
  }
  if (!end || end == s || *end != '\0' || !isfinite(v)) {
    char list[96];
    unit_list(units, list, sizeof list);
    if (units) return why(err, errlen, "'%s' is not a number (units: %s)", s, list);
    return why(err, errlen, "'%s' is not a number", s);
  }
  char a[32], b[32], c[32];
  fmt_f64(a, sizeof a, v);
  fmt_f64(b, sizeof b, min);
  fmt_f64(c, sizeof c, max);
  if (v < min) return why(err, errlen, "%s is below the minimum %s", a, b);
  if (v > max) return why(err, errlen, "%s is above the maximum %s", a, c);
  if (open_max && v == max)
    return why(err, errlen, "%s is not below %s (the range is [%s, %s))", a, c, b, c);
  *out = v;
  return 0;
}

int flags_f64(const char *s, double min, double max, bool open_max, double *out,
              char *err, size_t errlen) {
  return flags_f64_units(s, NULL, min, max, open_max, out, err, errlen);
}

/* --------------------------------------------------------------- fields */

static void store_uint(void *field, size_t size, uint64_t v) {
  uint8_t u8 = (uint8_t)v;
  uint16_t u16 = (uint16_t)v;
  uint32_t u32 = (uint32_t)v;
  switch (size) {
  case 1:
    memcpy(field, &u8, 1);
    break;
  case 2:
    memcpy(field, &u16, 2);
    break;
  case 4:
    memcpy(field, &u32, 4);
    break;
  default:
    memcpy(field, &v, 8);
    break;
  }
}

static uint64_t load_uint(const void *field, size_t size) {
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  switch (size) {
  case 1:
    memcpy(&u8, field, 1);
    return u8;
  case 2:
    memcpy(&u16, field, 2);
    return u16;
  case 4:
    memcpy(&u32, field, 4);
    return u32;
  default:
    memcpy(&u64, field, 8);
    return u64;
  }
}

static void store_bool(void *field, bool v) {
  memcpy(field, &v, sizeof v);
}

/* Converts value for entry o and stores it; 0, or -1 with the reason. */
static int apply(const flags_opt *o, char *base, const char *value, char *err,
                 size_t errlen) {
  char *field = base + o->off;
  switch (o->kind) {
  case FLAGS_SET:
  case FLAGS_CLEAR:
    store_bool(field, o->kind == FLAGS_SET);
    return 0;
  case FLAGS_U64: {
    uint64_t v;
    if (flags_u64(value, o->min, o->max, &v, err, errlen) != 0) return -1;
    store_uint(field, o->size, v * (o->scale ? o->scale : 1));
    return 0;
  }
  case FLAGS_F64: {
    double v;
    if (flags_f64_units(value, o->units, o->fmin, o->fmax, o->attrs & FLAGS_OPEN, &v, err,
                        errlen) != 0)
      return -1;
    memcpy(field, &v, sizeof v);
    return 0;
  }
  case FLAGS_STR:
    if (value[0] == '\0') return why(err, errlen, "the value is empty");
    memcpy(field, &value, sizeof value);
    return 0;
  case FLAGS_CHOICE: {
    size_t n = 0, at = 0;
    for (const flags_choice *c = o->choices; c->name; c++) {
      if (strcmp(c->name, value) == 0) {
        store_uint(field, o->size, (uint64_t)c->value);
        return 0;
      }
      n++;
    }
    at = (size_t)snprintf(err, errlen, "'%s' is not one of", value);
    for (size_t i = 0; i < n && at < errlen; i++)
      at += (size_t)snprintf(err + at, errlen - at, "%s %s", i ? "," : "",
                             o->choices[i].name);
    return -1;
  }
  case FLAGS_ON_OFF:
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
      return why(err, errlen, "'%s' is not on or off", value);
    store_bool(field, value[1] == 'n');
    return 0;
  case FLAGS_CUSTOM:
    return o->parse(base, value, err, errlen) == 0 ? 0 : -1;
  default:
    assert(!"not a flag");
    return -1;
  }
}

/* ---------------------------------------------------------------- parse */

/* The flag at argv[*i] (advancing *i past its value): its entry in ft (or
 * NULL for --help), its value, or -1 with the error line. Returns 1 at "--". */
static int next_flag(const flat_table *ft, int argc, char **argv, int *i,
                     const flat **hit, const char **value, char *err, size_t errlen) {
  const char *a = argv[*i];
  *hit = NULL;
  *value = NULL;
  if (strcmp(a, "--") == 0) return 1;
  if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return 0;
  if (a[0] != '-' || a[1] == '\0') return why(err, errlen, "unexpected argument '%s'", a);
  if (a[1] != '-') return why(err, errlen, "unknown option '%s'", a);
  const char *name = a + 2;
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t)(eq - name) : strlen(name);
  for (size_t k = 0; k < ft->n && !*hit; k++) {
    const flags_opt *o = ft->e[k].o;
    if (is_flag(o->kind) && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      *hit = &ft->e[k];
  }
  if (!*hit) return why(err, errlen, "unknown option '%.*s'", (int)len + 2, a);
  const flags_opt *o = (*hit)->o;
  if (!takes_value(o->kind)) {
    if (eq) return why(err, errlen, "--%s takes no value", o->name);
    return 0;
  }
  if (eq) {
    *value = eq + 1;
  } else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
    *value = argv[++*i];
  } else {
    return why(err, errlen, "--%s needs a value (%s)", o->name, o->meta);
  }
  return 0;
}

int flags_parse(const flags_cmd *cmd, void *opts, int argc, char **argv, char *err,
                size_t errlen) {
  flat_table ft = {.n = 0};
  flatten(cmd->opts, 0, &ft);
  const flat *hit;
  const char *value;
  /* First pass: names only, so that --help wins and leaves opts untouched. */
  for (int i = 1; i < argc; i++) {
    int rv = next_flag(&ft, argc, argv, &i, &hit, &value, err, errlen);
    if (rv < 0) return FLAGS_ERROR;
    if (rv == 1) {
      if (i + 1 < argc) {
        why(err, errlen, "unexpected argument '%s'", argv[i + 1]);
        return FLAGS_ERROR;
      }
      break;
    }
    if (!hit) return FLAGS_HELP;
  }
  bool seen[FLAGS_OPTS_MAX] = {false};
  for (int i = 1; i < argc; i++) {
    if (next_flag(&ft, argc, argv, &i, &hit, &value, err, errlen) != 0) break;
    const flags_opt *o = hit->o;
    char *base = (char *)opts + hit->base;
    size_t at = (size_t)snprintf(err, errlen, "--%s: ", o->name);
    if (at >= errlen) at = errlen - 1;
    if (apply(o, base, value, err + at, errlen - at) != 0) return FLAGS_ERROR;
    if (o->attrs & FLAGS_GIVEN) store_bool(base + o->given, true);
    seen[hit - ft.e] = true;
  }
  for (size_t k = 0; k < ft.n; k++) {
    const flags_opt *o = ft.e[k].o;
    if ((o->attrs & FLAGS_REQUIRED) && !seen[k]) {
      why(err, errlen, "--%s %s is required", o->name, o->meta ? o->meta : "");
      return FLAGS_ERROR;
    }
  }
  err[0] = '\0';
  return FLAGS_RUN;
}

/* ----------------------------------------------------------------- help */

/* Writes text word by word from column *col, wrapping at HELP_WIDTH to
 * column indent; a newline in text starts a new line at indent. */
static void put_wrapped(FILE *f, const char *text, size_t indent, size_t *col) {
  const char *s = text;
  while (*s) {
    if (*s == '\n') {
      fputc('\n', f);
      *col = 0;
      s++;
      if (*s && *s != '\n') {
        fprintf(f, "%*s", (int)indent, "");
        *col = indent;
      }
      continue;
    }
    if (*s == ' ') {
      s++;
      continue;
    }
    size_t w = strcspn(s, " \n");
    bool line_start = *col <= indent;
    if (!line_start && *col + 1 + w > HELP_WIDTH) {
      fprintf(f, "\n%*s", (int)indent, "");
      *col = indent;
      line_start = true;
    }
    if (!line_start) {
      fputc(' ', f);
      (*col)++;
    }
    for (size_t k = 0; k < w; k++)
      fputc(s[k] == NBSP ? ' ' : s[k], f);
    *col += w;
    s += w;
  }
}

/* The parenthesis after an option's help: its range or choices and its
 * default, as the table and the defaults in opts say. Empty if neither. */
static void describe(const flags_opt *o, const char *base, char *out, size_t outlen) {
  const char *field = base + o->off;
  char range[160] = "", dflt[96] = "";
  size_t n = 0;
  switch (o->kind) {
  case FLAGS_U64: {
    uint64_t scale = o->scale ? o->scale : 1;
    if (o->min != 0 || o->max != size_max(o->size) / scale)
      snprintf(range, sizeof range, "%llu..%llu", (unsigned long long)o->min,
               (unsigned long long)o->max);
    snprintf(dflt, sizeof dflt, "%llu",
             (unsigned long long)(load_uint(field, o->size) / scale));
    break;
  }
  case FLAGS_F64: {
    double v;
    char a[32], b[32];
    memcpy(&v, field, sizeof v);
    snprintf(range, sizeof range, "[%s,%c%s%c", fmt_f64(a, sizeof a, o->fmin), NBSP,
             fmt_f64(b, sizeof b, o->fmax), (o->attrs & FLAGS_OPEN) ? ')' : ']');
    fmt_f64(dflt, sizeof dflt, v);
    if (o->units) {
      char list[96];
      unit_list(o->units, list, sizeof list);
      size_t at = strlen(range);
      snprintf(range + at, sizeof range - at, "; units %s", list);
    }
    break;
  }
  case FLAGS_STR: {
    const char *v;
    memcpy(&v, field, sizeof v);
    if (v) snprintf(dflt, sizeof dflt, "\"%s\"", v);
    break;
  }
  case FLAGS_CHOICE: {
    uint64_t v = load_uint(field, o->size);
    for (const flags_choice *c = o->choices; c->name && n < sizeof range; c++) {
      n += (size_t)snprintf(range + n, sizeof range - n, "%s%s", n ? ", " : "", c->name);
      if ((uint64_t)c->value == v) snprintf(dflt, sizeof dflt, "%s", c->name);
    }
    break;
  }
  case FLAGS_ON_OFF: {
    bool v;
    memcpy(&v, field, sizeof v);
    snprintf(dflt, sizeof dflt, "%s", v ? "on" : "off");
    break;
  }
  default:
    break;
  }
  if (o->dflt) snprintf(dflt, sizeof dflt, "%s", o->dflt);
  if (o->attrs & FLAGS_REQUIRED) snprintf(dflt, sizeof dflt, "required");
  const char *sep = range[0] && dflt[0] ? "; " : "";
  const char *dw = dflt[0] && !(o->attrs & FLAGS_REQUIRED) ? "default " : "";
  if (range[0] || dflt[0])
    snprintf(out, outlen, "(%s%s%s%s)", range, sep, dw, dflt);
  else
    out[0] = '\0';
}

static void help_option(FILE *f, const flags_opt *o, const char *base) {
  char head[96], paren[320];
  int w = snprintf(head, sizeof head, "  --%s%s%s", o->name, o->meta ? " " : "",
                   o->meta ? o->meta : "");
  fputs(head, f);
  size_t col = (size_t)w;
  if (col + 1 >= HELP_COL) {
    fputc('\n', f);
    col = 0;
  }
  fprintf(f, "%*s", (int)(HELP_COL - col), "");
  col = HELP_COL;
  put_wrapped(f, o->help ? o->help : "", HELP_COL, &col);
  describe(o, base, paren, sizeof paren);
  if (paren[0]) put_wrapped(f, paren, HELP_COL, &col);
  fputc('\n', f);
}

void flags_help(const flags_cmd *cmd, const void *opts, FILE *f) {
  assert(opts);
  flat_table ft = {.n = 0};
  flatten(cmd->opts, 0, &ft);
  size_t col = 0;
  fprintf(f, "usage: %s %s\n", cmd->prog, cmd->synopsis ? cmd->synopsis : "[options]");
  if (cmd->about) {
    fputc('\n', f);
    put_wrapped(f, cmd->about, 0, &col);
    fputc('\n', f);
  }
  if (ft.n == 0 || ft.e[0].o->kind != FLAGS_SECTION) fputs("\noptions:\n", f);
  for (size_t k = 0; k < ft.n; k++) {
    const flags_opt *o = ft.e[k].o;
    if (o->kind == FLAGS_SECTION)
      fprintf(f, "\n%s:\n", o->name);
    else
      help_option(f, o, (const char *)opts + ft.e[k].base);
  }
  fprintf(f, "  -h, --help%*sthis text\n", HELP_COL - 12, "");
  if (cmd->epilog) {
    fputc('\n', f);
    fputs(cmd->epilog, f);
  }
}

void flags_report(const flags_cmd *cmd, const char *err, FILE *f) {
  fprintf(f, "%s: %s; see --help\n", cmd->prog, err);
}

int flags_main(const flags_cmd *cmd, void *opts, int argc, char **argv, FILE *out,
               FILE *errf) {
  char err[FLAGS_ERR_BYTES];
  switch (flags_parse(cmd, opts, argc, argv, err, sizeof err)) {
  case FLAGS_HELP:
    flags_help(cmd, opts, out);
    return 0;
  case FLAGS_ERROR:
    flags_report(cmd, err, errf);
    return FLAGS_EXIT_USAGE;
  default:
    return -1;
  }
}

int flags_fail(const flags_cmd *cmd, FILE *errf, const char *fmt, ...) {
  char err[FLAGS_ERR_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, sizeof err, fmt, ap);
  va_end(ap);
  flags_report(cmd, err, errf);
  return FLAGS_EXIT_USAGE;
}
