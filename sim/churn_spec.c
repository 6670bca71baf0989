/*
 * churn_spec.c — the --churn SPEC parser and the trace-file reader (see
 * churn_spec.h; docs/churn.md for the grammar).
 */
#include "sim/churn_spec.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* A number token is short; anything longer is not a number we accept. */
#define NUM_MAX 64

int sim_churn_err(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* Messages quote the input, which may hold anything: keep them one
     * printable line. */
    for (char *c = err; *c; c++)
      if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
  }
  return code;
}

/* --------------------------------------------------------- parametrisation */

double sim_churn_weibull_scale(double median, double shape) {
  return median / pow(log(2.0), 1.0 / shape);
}

double sim_churn_pareto_xm(double median, double alpha) {
  return median * pow(2.0, -1.0 / alpha);
}

/* --------------------------------------------------------------- parser */

/* A slice of the spec: no NUL inside, not NUL-terminated. */
typedef struct slice {
  const char *p;
  size_t n;
} slice;

static bool slice_eq(slice s, const char *lit) {
  size_t n = strlen(lit);
  return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Parses the longest decimal-number prefix of s (digits, one '.', an
 * exponent; a leading '-' only so that negatives get their own message).
 * strtod alone would also take "inf", "nan" and hex floats. Returns the
 * length taken, 0 if s does not start with a number. */
static size_t churn_number(slice s, double *v) {
  size_t i = 0, digits = 0;
  if (i < s.n && s.p[i] == '-') i++;
  while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
    i++, digits++;
  if (i < s.n && s.p[i] == '.') {
    i++;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
      i++, digits++;
  }
  if (digits == 0) return 0;
  if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.n && (s.p[j] == '+' || s.p[j] == '-')) j++;
    size_t k = j;
    while (k < s.n && s.p[k] >= '0' && s.p[k] <= '9')
      k++;
    if (k > j) i = k; /* "5e" is 5 followed by the unit 'e' (an error later) */
  }
  if (i >= NUM_MAX) return 0;
  char buf[NUM_MAX];
  memcpy(buf, s.p, i);
  buf[i] = '\0';
  errno = 0;
  char *end = NULL;
  double x = strtod(buf, &end);
  if (end != buf + i || !isfinite(x)) return 0;
  *v = x;
  return i;
}

/* The whole slice as a plain number. */
static bool churn_plain(slice s, double *v) {
  size_t n = churn_number(s, v);
  return n > 0 && n == s.n;
}

/* A time: a number and a unit (ms, s, min, h); "0" alone is also fine.
 * In seconds, within [0, SIM_CHURN_TIME_S_MAX]. */
static int churn_time(slice s, const char *what, double *out_s, char *err,
                      size_t errlen) {
  double v;
  size_t n = churn_number(s, &v);
  if (n == 0)
    return sim_churn_err(
        err, errlen, SC_ERR_INVALID,
        "%s: '%.*s' is not a time (a number and a unit: ms, s, min or h, "
        "e.g. 600s or 10min)",
        what, (int)s.n, s.p);
  slice u = {s.p + n, s.n - n};
  double mult;
  if (slice_eq(u, "ms"))
    mult = 1e-3;
  else if (slice_eq(u, "s"))
    mult = 1;
  else if (slice_eq(u, "min"))
    mult = 60;
  else if (slice_eq(u, "h"))
    mult = 3600;
  else if (u.n == 0 && v == 0)
    mult = 1;
  else if (u.n == 0)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s: '%.*s' needs a unit: ms, s, min or h (e.g. %.*ss)", what,
                         (int)s.n, s.p, (int)s.n, s.p);
  else
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s: unknown unit '%.*s' in '%.*s' (units: ms, s, min, h)", what,
                         (int)u.n, u.p, (int)s.n, s.p);
  v *= mult;
  if (v < 0)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is negative", what,
                         (int)s.n, s.p);
  if (v > SIM_CHURN_TIME_S_MAX)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is over %g s", what,
                         (int)s.n, s.p, SIM_CHURN_TIME_S_MAX);
  *out_s = v;
  return SC_OK;
}

/* Seconds to ns; SIM_CHURN_TIME_S_MAX keeps it far below 2^64. */
static uint64_t churn_s_to_ns(double s) {
  return (uint64_t)llround(s * 1e9);
}

/* A fraction: "25%" or "0.25", within [0, 1]. */
static int churn_fraction(slice s, const char *what, double *out, char *err,
                          size_t errlen) {
  double v;
  size_t n = churn_number(s, &v);
  bool pct = n > 0 && n + 1 == s.n && s.p[n] == '%';
  if (n == 0 || (n != s.n && !pct))
    return sim_churn_err(
        err, errlen, SC_ERR_INVALID,
        "%s: '%.*s' is not a fraction (a percentage like 25%% or a number "
        "like 0.25)",
        what, (int)s.n, s.p);
  if (pct) v /= 100.0;
  if (v < 0 || v > 1)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s: '%.*s' is outside [0%%, 100%%]", what, (int)s.n, s.p);
  *out = v;
  return SC_OK;
}

/* The options one session item collected, before they are checked. */
typedef struct session_opts {
  sim_session_kind kind;
  slice item; /* the item's first token, for messages */
  bool has_median, has_mean, has_shape, has_alpha, has_xm;
  double median_s, mean_s, shape, alpha, xm_s;
} session_opts;

/* Each session kind's name and, for messages, the keys it takes. */
static const struct {
  const char *name, *keys;
} churn_kinds[] = {
    [SIM_SESSION_NONE] = {"none", ""},
    [SIM_SESSION_EXP] = {"exp", "mean= (or median=), polite=, start=, until="},
    [SIM_SESSION_WEIBULL] = {"weibull", "median=, shape=, polite=, start=, until="},
    [SIM_SESSION_PARETO] = {"pareto",
                            "median= (or xm=), alpha=, polite=, start=, until="},
};

static const char *churn_kind_name(sim_session_kind k) {
  return (size_t)k < sizeof(churn_kinds) / sizeof(*churn_kinds) ? churn_kinds[k].name
                                                                : "none";
}

static const char *churn_kind_keys(sim_session_kind k) {
  return (size_t)k < sizeof(churn_kinds) / sizeof(*churn_kinds) ? churn_kinds[k].keys
                                                                : "";
}

/* key=value inside a session item. */
static int churn_option(session_opts *o, sim_churn_spec *spec, bool *has_polite,
                        bool *has_start, bool *has_until, slice tok, char *err,
                        size_t errlen) {
  const char *eq = memchr(tok.p, '=', tok.n);
  assert(eq);
  slice key = {tok.p, (size_t)(eq - tok.p)};
  slice val = {eq + 1, tok.n - key.n - 1};
  const char *kn = churn_kind_name(o->kind);
  char what[48];
  snprintf(what, sizeof what, "%s: %.*s", kn, (int)(key.n < 16 ? key.n : 16), key.p);
  bool dup = false;
  int rc = SC_OK;
  double v = 0;
  if (slice_eq(key, "median") && o->kind != SIM_SESSION_NONE) {
    dup = o->has_median;
    o->has_median = true;
    rc = churn_time(val, what, &o->median_s, err, errlen);
  } else if (slice_eq(key, "mean") && o->kind == SIM_SESSION_EXP) {
    dup = o->has_mean;
    o->has_mean = true;
    rc = churn_time(val, what, &o->mean_s, err, errlen);
  } else if (slice_eq(key, "xm") && o->kind == SIM_SESSION_PARETO) {
    dup = o->has_xm;
    o->has_xm = true;
    rc = churn_time(val, what, &o->xm_s, err, errlen);
  } else if ((slice_eq(key, "shape") && o->kind == SIM_SESSION_WEIBULL) ||
             (slice_eq(key, "alpha") && o->kind == SIM_SESSION_PARETO)) {
    bool shape = o->kind == SIM_SESSION_WEIBULL;
    dup = shape ? o->has_shape : o->has_alpha;
    if (!churn_plain(val, &v))
      return sim_churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is not a number",
                           what, (int)val.n, val.p);
    if (shape) {
      o->has_shape = true;
      o->shape = v;
    } else {
      o->has_alpha = true;
      o->alpha = v;
    }
  } else if (slice_eq(key, "polite")) {
    dup = *has_polite;
    *has_polite = true;
    rc = churn_fraction(val, what, &spec->polite, err, errlen);
  } else if (slice_eq(key, "start") || slice_eq(key, "until")) {
    bool start = slice_eq(key, "start");
    dup = start ? *has_start : *has_until;
    *(start ? has_start : has_until) = true;
    double t_s = 0;
    rc = churn_time(val, what, &t_s, err, errlen);
    if (rc == SC_OK) *(start ? &spec->start_ns : &spec->until_ns) = churn_s_to_ns(t_s);
  } else {
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s: unknown option '%.*s' (%s takes %s)", kn, (int)key.n, key.p,
                         kn, churn_kind_keys(o->kind));
  }
  if (rc != SC_OK) return rc;
  if (dup)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s=' is given twice", kn,
                         (int)key.n, key.p);
  return SC_OK;
}

/* Checks a finished session item and derives the samplers' parameters. */
static int churn_session_finish(const session_opts *o, sim_session *d, char *err,
                                size_t errlen) {
  memset(d, 0, sizeof *d);
  d->kind = o->kind;
  switch (o->kind) {
  case SIM_SESSION_EXP:
    if (o->has_mean == o->has_median)
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "exp: give exactly one of mean=TIME or median=TIME "
                           "(e.g. exp:mean=10min)");
    d->mean_s = o->has_mean ? o->mean_s : o->median_s / log(2.0);
    if (!(d->mean_s > 0))
      return sim_churn_err(err, errlen, SC_ERR_INVALID, "exp: the mean must be above 0");
    return SC_OK;
  case SIM_SESSION_WEIBULL:
    if (!o->has_median || !o->has_shape)
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "weibull: needs median=TIME and shape=K "
                           "(e.g. weibull:median=10min,shape=0.5)");
    if (!(o->median_s > 0))
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "weibull: median must be above 0");
    /* Below 0.1 the mean (λ Γ(1 + 1/k)) is over 10^6 medians: no run would
     * ever reach the stationary state the arrival rate is computed for. */
    if (!(o->shape >= 0.1 && o->shape <= 10))
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "weibull: shape=%g is outside [0.1, 10]", o->shape);
    d->shape = o->shape;
    d->scale_s = sim_churn_weibull_scale(o->median_s, o->shape);
    return SC_OK;
  case SIM_SESSION_PARETO:
    if (o->has_median == o->has_xm || !o->has_alpha)
      return sim_churn_err(
          err, errlen, SC_ERR_INVALID,
          "pareto: needs alpha=A and exactly one of median=TIME or xm=TIME "
          "(e.g. pareto:median=10min,alpha=1.5)");
    /* E[S] = α xm / (α - 1) is infinite for α <= 1: Little's law then asks
     * for no arrivals at all, and the population would only drain. */
    if (!(o->alpha > 1))
      return sim_churn_err(
          err, errlen, SC_ERR_INVALID,
          "pareto: alpha=%g gives sessions of infinite mean, so no arrival "
          "rate keeps the population at N; use alpha > 1 (at most 10)",
          o->alpha);
    if (!(o->alpha <= 10))
      return sim_churn_err(err, errlen, SC_ERR_INVALID, "pareto: alpha=%g is over 10",
                           o->alpha);
    d->alpha = o->alpha;
    d->xm_s = o->has_xm ? o->xm_s : sim_churn_pareto_xm(o->median_s, o->alpha);
    if (!(d->xm_s > 0))
      return sim_churn_err(err, errlen, SC_ERR_INVALID, "pareto: %s must be above 0",
                           o->has_xm ? "xm" : "median");
    return SC_OK;
  case SIM_SESSION_NONE:
    break;
  }
  return SC_OK;
}

/* fail:F@T */
static int churn_fail_item(sim_churn_spec *spec, slice arg, char *err, size_t errlen) {
  const char *at = memchr(arg.p, '@', arg.n);
  if (!at)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "fail: '%.*s' needs FRACTION@TIME (e.g. fail:25%%@600s)",
                         (int)arg.n, arg.p);
  if (spec->nfail == SIM_CHURN_FAILS_MAX)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "fail: more than %u fail: items",
                         SIM_CHURN_FAILS_MAX);
  slice f = {arg.p, (size_t)(at - arg.p)};
  slice t = {at + 1, arg.n - f.n - 1};
  sim_churn_fail *it = &spec->fail[spec->nfail];
  int rc = churn_fraction(f, "fail", &it->fraction, err, errlen);
  if (rc != SC_OK) return rc;
  double t_s;
  rc = churn_time(t, "fail", &t_s, err, errlen);
  if (rc != SC_OK) return rc;
  it->t_ns = churn_s_to_ns(t_s);
  spec->nfail++;
  return SC_OK;
}

int sim_churn_parse(const char *s, sim_churn_spec *out, char *err, size_t errlen) {
  if (err && errlen > 0) err[0] = '\0';
  if (!s || !out) return sim_churn_err(err, errlen, SC_ERR_INVALID, "no churn spec");
  size_t len = strnlen(s, SIM_CHURN_SPEC_MAX + 1);
  if (len > SIM_CHURN_SPEC_MAX)
    return sim_churn_err(err, errlen, SC_ERR_TOO_LARGE,
                         "the churn spec is longer than %u bytes", SIM_CHURN_SPEC_MAX);
  memset(out, 0, sizeof *out);
  out->polite = 0.1;
  out->until_ns = UINT64_MAX;
  if (strcmp(s, "none") == 0) return SC_OK;
  if (len == 0)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "empty churn spec (use 'none', or items like fail:25%%@600s, "
                         "exp:mean=10min, weibull:..., pareto:..., trace:FILE)");

  session_opts o = {0};
  bool in_session = false, in_fail = false;
  bool has_polite = false, has_start = false, has_until = false;
  size_t i = 0;
  while (i <= len) {
    size_t j = i;
    while (j < len && s[j] != '+' && s[j] != ',')
      j++;
    slice tok = {s + i, j - i};
    if (tok.n == 0)
      return sim_churn_err(
          err, errlen, SC_ERR_INVALID,
          "empty item at byte %zu of '%s' (items are joined by one '+' or "
          "',', with none at either end)",
          i, s);
    const char *colon = memchr(tok.p, ':', tok.n);
    const char *eq = memchr(tok.p, '=', tok.n);
    if (colon && (!eq || colon < eq)) {
      /* A new item: kind:argument. */
      slice kind = {tok.p, (size_t)(colon - tok.p)};
      slice arg = {colon + 1, tok.n - kind.n - 1};
      if (slice_eq(kind, "trace")) {
        /* The path is everything after "trace:", '+' and ',' included. */
        size_t plen = len - (size_t)(arg.p - s);
        if (plen == 0)
          return sim_churn_err(err, errlen, SC_ERR_INVALID,
                               "trace: needs a file name (trace:FILE)");
        if (out->trace_path[0])
          return sim_churn_err(err, errlen, SC_ERR_INVALID, "trace: given twice");
        memcpy(out->trace_path, arg.p, plen);
        out->trace_path[plen] = '\0';
        j = len;
        in_fail = false;
      } else if (slice_eq(kind, "fail")) {
        int rc = churn_fail_item(out, arg, err, errlen);
        if (rc != SC_OK) return rc;
        in_fail = true;
      } else {
        sim_session_kind k = SIM_SESSION_NONE;
        if (slice_eq(kind, "exp"))
          k = SIM_SESSION_EXP;
        else if (slice_eq(kind, "weibull"))
          k = SIM_SESSION_WEIBULL;
        else if (slice_eq(kind, "pareto"))
          k = SIM_SESSION_PARETO;
        else
          return sim_churn_err(
              err, errlen, SC_ERR_INVALID,
              "unknown churn item '%.*s:' (items: fail:, exp:, weibull:, "
              "pareto:, trace:; or 'none' alone)",
              (int)(kind.n < 32 ? kind.n : 32), kind.p);
        if (o.kind != SIM_SESSION_NONE)
          return sim_churn_err(
              err, errlen, SC_ERR_INVALID,
              "%.*s: only one session model (exp, weibull or pareto) per "
              "spec",
              (int)kind.n, kind.p);
        o.kind = k;
        o.item = tok;
        in_session = true;
        in_fail = false;
        /* The first option rides on the item: weibull:median=10min. */
        if (arg.n == 0 || !memchr(arg.p, '=', arg.n))
          return sim_churn_err(err, errlen, SC_ERR_INVALID,
                               "%s: expected key=value after '%s:' (%s takes %s)",
                               churn_kind_name(k), churn_kind_name(k), churn_kind_name(k),
                               churn_kind_keys(k));
        int rc =
            churn_option(&o, out, &has_polite, &has_start, &has_until, arg, err, errlen);
        if (rc != SC_OK) return rc;
      }
    } else if (eq) {
      /* key=value continues the current session item. */
      if (in_fail)
        return sim_churn_err(err, errlen, SC_ERR_INVALID,
                             "fail: takes no options ('%.*s'); write fail:F@T",
                             (int)tok.n, tok.p);
      if (!in_session)
        return sim_churn_err(
            err, errlen, SC_ERR_INVALID,
            "option '%.*s' does not follow a session item (exp:, weibull: "
            "or pareto:)",
            (int)tok.n, tok.p);
      int rc =
          churn_option(&o, out, &has_polite, &has_start, &has_until, tok, err, errlen);
      if (rc != SC_OK) return rc;
    } else if (slice_eq(tok, "none")) {
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "'none' cannot be combined with other items");
    } else {
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "'%.*s' is neither an item (fail:, exp:, weibull:, pareto:, "
                           "trace:) nor a key=value option",
                           (int)tok.n, tok.p);
    }
    i = j + 1;
  }

  if (o.kind != SIM_SESSION_NONE) {
    int rc = churn_session_finish(&o, &out->session, err, errlen);
    if (rc != SC_OK) return rc;
  }
  if (out->start_ns >= out->until_ns)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s: until= must be after start=", churn_kind_name(o.kind));
  if (out->trace_path[0] && o.kind != SIM_SESSION_NONE)
    return sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "trace: cannot be combined with a session model (%s:); a trace "
                         "already says who comes and goes",
                         churn_kind_name(o.kind));
  return SC_OK;
}

/* ---------------------------------------------------------------- trace */

static int churn_trace_cmp(const void *a, const void *b) {
  const sim_churn_trace_event *x = a, *y = b;
  if (x->t_ns != y->t_ns) return x->t_ns < y->t_ns ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

int sim_churn_trace_parse(const char *data, size_t datalen, const char *name,
                          sim_churn_trace_event **out, size_t *nout, char *err,
                          size_t errlen) {
  if (err && errlen > 0) err[0] = '\0';
  if (!out || !nout || (!data && datalen > 0))
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "trace: bad arguments");
  *out = NULL;
  *nout = 0;
  if (!name) name = "trace";
  if (datalen > SIM_CHURN_TRACE_BYTES_MAX)
    return sim_churn_err(err, errlen, SC_ERR_TOO_LARGE, "%s: over %u bytes", name,
                         SIM_CHURN_TRACE_BYTES_MAX);
  sim_churn_trace_event *ev = NULL;
  size_t n = 0, cap = 0;
  uint32_t line = 0;
  int rc = SC_OK;
  for (size_t i = 0; i < datalen;) {
    size_t e = i;
    while (e < datalen && data[e] != '\n')
      e++;
    line++;
    /* Fields end at '#' (a comment) or the line's end. */
    size_t end = i;
    while (end < e && data[end] != '#')
      end++;
    slice f[4];
    size_t nf = 0;
    for (size_t k = i; k < end;) {
      while (k < end && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r'))
        k++;
      if (k == end) break;
      size_t b = k;
      while (k < end && data[k] != ' ' && data[k] != '\t' && data[k] != '\r')
        k++;
      if (nf < 4) f[nf] = (slice){data + b, k - b};
      nf++;
    }
    i = e + 1;
    if (nf == 0) continue;
    if (nf != 3) {
      rc = sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s:%u: expected 'TIME join|leave|crash PEER', got %zu field%s",
                         name, line, nf, nf == 1 ? "" : "s");
      goto fail;
    }
    double t;
    if (!churn_plain(f[0], &t)) {
      rc = sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s:%u: time '%.*s' is not a number of seconds", name, line,
                         (int)(f[0].n < 32 ? f[0].n : 32), f[0].p);
      goto fail;
    }
    if (t < 0 || t > SIM_CHURN_TIME_S_MAX) {
      rc = sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s:%u: time %g is outside [0, %g] s", name, line, t,
                         SIM_CHURN_TIME_S_MAX);
      goto fail;
    }
    uint32_t kind;
    if (slice_eq(f[1], "join"))
      kind = SIM_CHURN_JOIN;
    else if (slice_eq(f[1], "leave"))
      kind = SIM_CHURN_LEAVE_POLITE;
    else if (slice_eq(f[1], "crash"))
      kind = SIM_CHURN_CRASH;
    else {
      rc = sim_churn_err(err, errlen, SC_ERR_INVALID,
                         "%s:%u: unknown event '%.*s' (expected join, leave or crash)",
                         name, line, (int)(f[1].n < 32 ? f[1].n : 32), f[1].p);
      goto fail;
    }
    uint64_t peer = 0;
    bool ok = f[2].n > 0 && f[2].n <= 10;
    for (size_t k = 0; ok && k < f[2].n; k++) {
      ok = f[2].p[k] >= '0' && f[2].p[k] <= '9';
      peer = peer * 10 + (uint64_t)(f[2].p[k] - '0');
    }
    if (!ok || peer > SIM_CHURN_PEERS_MAX) {
      rc =
          sim_churn_err(err, errlen, SC_ERR_INVALID,
                        "%s:%u: peer '%.*s' is not a whole number in [0, %u]", name, line,
                        (int)(f[2].n < 32 ? f[2].n : 32), f[2].p, SIM_CHURN_PEERS_MAX);
      goto fail;
    }
    if (n == SIM_CHURN_TRACE_EVENTS_MAX) {
      rc = sim_churn_err(err, errlen, SC_ERR_TOO_LARGE, "%s:%u: more than %u events",
                         name, line, SIM_CHURN_TRACE_EVENTS_MAX);
      goto fail;
    }
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      sim_churn_trace_event *p = realloc(ev, ncap * sizeof *ev);
      if (!p) {
        rc = sim_churn_err(err, errlen, SC_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
      }
      ev = p;
      cap = ncap;
    }
    ev[n++] = (sim_churn_trace_event){churn_s_to_ns(t), (uint32_t)peer, kind, line};
  }
  /* Traces merged from several sources need not be sorted; sorting here
   * (ties in line order) is cheaper than asking every producer to. */
  if (n > 1) qsort(ev, n, sizeof *ev, churn_trace_cmp);
  *out = ev;
  *nout = n;
  return SC_OK;
fail:
  free(ev);
  return rc;
}

/* Reads a whole file, up to SIM_CHURN_TRACE_BYTES_MAX. */
static int churn_read_file(const char *path, char **data, size_t *len, char *err,
                           size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "trace: cannot open '%s': %s", path,
                         strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int rc = SC_OK;
  for (;;) {
    if (n == cap) {
      if (cap > SIM_CHURN_TRACE_BYTES_MAX) {
        rc = sim_churn_err(err, errlen, SC_ERR_TOO_LARGE, "trace: '%s' is over %u bytes",
                           path, SIM_CHURN_TRACE_BYTES_MAX);
        break;
      }
      size_t ncap = cap ? 2 * cap : 4096;
      char *p = realloc(buf, ncap);
      if (!p) {
        rc = sim_churn_err(err, errlen, SC_ERR_NOMEM, "trace: out of memory reading '%s'",
                           path);
        break;
      }
      buf = p;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        rc = sim_churn_err(err, errlen, SC_ERR_INVALID, "trace: cannot read '%s'", path);
      break;
    }
  }
  fclose(f);
  if (rc == SC_OK && n > SIM_CHURN_TRACE_BYTES_MAX)
    rc = sim_churn_err(err, errlen, SC_ERR_TOO_LARGE, "trace: '%s' is over %u bytes",
                       path, SIM_CHURN_TRACE_BYTES_MAX);
  if (rc != SC_OK) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len = n;
  return SC_OK;
}

int sim_churn_trace_read(const char *path, sim_churn_trace_event **out, size_t *nout,
                         char *err, size_t errlen) {
  if (err && errlen > 0) err[0] = '\0';
  if (!path || !out || !nout)
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "trace: bad arguments");
  char *data = NULL;
  size_t len = 0;
  int rc = churn_read_file(path, &data, &len, err, errlen);
  if (rc != SC_OK) return rc;
  rc = sim_churn_trace_parse(data, len, path, out, nout, err, errlen);
  free(data);
  return rc;
}
