/*
 * churn.c — churn specs, session samplers and the membership schedule (see
 * churn.h; docs/churn.md for the grammar and the reasoning).
 */
#include "sim/churn.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Domain separation of the random streams derived from the run seed, so
 * that e.g. adding a fail: item does not change anyone's session length. */
#define SESSION_TAG 0x73657373696f6e73ULL /* "sessions" */
#define ARRIVE_TAG  0x6172726976616c73ULL /* "arrivals" */
#define FAIL_TAG    0x6661696c75726573ULL /* "failures" */

#define NONE UINT32_MAX

/* A number token is short; anything longer is not a number we accept. */
#define NUM_MAX 64

#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int churn_err(char *err, size_t errlen, int code, const char *fmt, ...)
    ATTR_PRINTF(4, 5);
static int churn_err(char *err, size_t errlen, int code, const char *fmt, ...) {
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

/* ------------------------------------------------------------ samplers */

/* Uniform in (0, 1]: safe under log() and negative powers. */
static double churn_unit_open(sc_rng *r) {
  return 1.0 - sc_rng_unit(r);
}

double sim_churn_exp_sample(sc_rng *r, double mean) {
  assert(mean > 0 && isfinite(mean));
  return -mean * log(churn_unit_open(r));
}

double sim_churn_weibull_sample(sc_rng *r, double scale, double shape) {
  assert(scale > 0 && isfinite(scale) && shape > 0 && isfinite(shape));
  return scale * pow(-log(churn_unit_open(r)), 1.0 / shape);
}

double sim_churn_pareto_sample(sc_rng *r, double xm, double alpha) {
  assert(xm > 0 && isfinite(xm) && alpha > 0 && isfinite(alpha));
  return xm * pow(churn_unit_open(r), -1.0 / alpha);
}

/* Standard normal by Box–Muller; the second value is dropped so that the
 * sampler keeps no state beyond the rng. */
static double churn_normal(sc_rng *r) {
  double u1 = churn_unit_open(r), u2 = sc_rng_unit(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double sim_churn_gamma_sample(sc_rng *r, double shape) {
  assert(shape > 0 && isfinite(shape));
  if (shape < 1.0) {
    /* Gamma(a) = Gamma(a + 1) · U^(1/a) (Marsaglia & Tsang §6). */
    double g = sim_churn_gamma_sample(r, shape + 1.0);
    return g * pow(churn_unit_open(r), 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = churn_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = churn_unit_open(r);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}

double sim_churn_weibull_scale(double median, double shape) {
  return median / pow(log(2.0), 1.0 / shape);
}

double sim_churn_pareto_xm(double median, double alpha) {
  return median * pow(2.0, -1.0 / alpha);
}

double sim_session_mean_s(const sim_session *d) {
  switch (d->kind) {
  case SIM_SESSION_EXP:
    return d->mean_s;
  case SIM_SESSION_WEIBULL:
    return d->scale_s * tgamma(1.0 + 1.0 / d->shape);
  case SIM_SESSION_PARETO:
    return d->alpha * d->xm_s / (d->alpha - 1.0);
  case SIM_SESSION_NONE:
    break;
  }
  return INFINITY;
}

double sim_session_sample(const sim_session *d, sc_rng *r) {
  switch (d->kind) {
  case SIM_SESSION_EXP:
    return sim_churn_exp_sample(r, d->mean_s);
  case SIM_SESSION_WEIBULL:
    return sim_churn_weibull_sample(r, d->scale_s, d->shape);
  case SIM_SESSION_PARETO:
    return sim_churn_pareto_sample(r, d->xm_s, d->alpha);
  case SIM_SESSION_NONE:
    break;
  }
  return INFINITY;
}

double sim_session_residual_sample(const sim_session *d, sc_rng *r) {
  switch (d->kind) {
  case SIM_SESSION_EXP:
    /* Memoryless: what is left of a session is a fresh session. */
    return sim_churn_exp_sample(r, d->mean_s);
  case SIM_SESSION_WEIBULL: {
    /* Density ∝ exp(-(x/λ)^k); with y = (x/λ)^k, y ~ Gamma(1/k), so
     * x = λ · Gamma(1/k)^(1/k). Exact, no rejection against the tail. */
    double y = sim_churn_gamma_sample(r, 1.0 / d->shape);
    return d->scale_s * pow(y, 1.0 / d->shape);
  }
  case SIM_SESSION_PARETO: {
    /* Density 1/E below xm (mass (α-1)/α: uniform there) and
     * (xm/x)^α / E above (mass 1/α: a Pareto with shape α - 1). */
    double a = d->alpha;
    if (sc_rng_unit(r) < (a - 1.0) / a) return d->xm_s * sc_rng_unit(r);
    return sim_churn_pareto_sample(r, d->xm_s, a - 1.0);
  }
  case SIM_SESSION_NONE:
    break;
  }
  return INFINITY;
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
    return churn_err(err, errlen, SC_ERR_INVALID,
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
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "%s: '%.*s' needs a unit: ms, s, min or h (e.g. %.*ss)", what,
                     (int)s.n, s.p, (int)s.n, s.p);
  else
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "%s: unknown unit '%.*s' in '%.*s' (units: ms, s, min, h)", what,
                     (int)u.n, u.p, (int)s.n, s.p);
  v *= mult;
  if (v < 0)
    return churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is negative", what,
                     (int)s.n, s.p);
  if (v > SIM_CHURN_TIME_S_MAX)
    return churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is over %g s", what,
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
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "%s: '%.*s' is not a fraction (a percentage like 25%% or a number "
                     "like 0.25)",
                     what, (int)s.n, s.p);
  if (pct) v /= 100.0;
  if (v < 0 || v > 1)
    return churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is outside [0%%, 100%%]",
                     what, (int)s.n, s.p);
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

static const char *churn_kind_name(sim_session_kind k) {
  switch (k) {
  case SIM_SESSION_EXP:
    return "exp";
  case SIM_SESSION_WEIBULL:
    return "weibull";
  case SIM_SESSION_PARETO:
    return "pareto";
  case SIM_SESSION_NONE:
    break;
  }
  return "none";
}

/* Which keys each session kind takes, for messages. */
static const char *churn_kind_keys(sim_session_kind k) {
  switch (k) {
  case SIM_SESSION_EXP:
    return "mean= (or median=), polite=, start=, until=";
  case SIM_SESSION_WEIBULL:
    return "median=, shape=, polite=, start=, until=";
  case SIM_SESSION_PARETO:
    return "median= (or xm=), alpha=, polite=, start=, until=";
  case SIM_SESSION_NONE:
    break;
  }
  return "";
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
      return churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s' is not a number", what,
                       (int)val.n, val.p);
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
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "%s: unknown option '%.*s' (%s takes %s)", kn, (int)key.n, key.p, kn,
                     churn_kind_keys(o->kind));
  }
  if (rc != SC_OK) return rc;
  if (dup)
    return churn_err(err, errlen, SC_ERR_INVALID, "%s: '%.*s=' is given twice", kn,
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
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "exp: give exactly one of mean=TIME or median=TIME "
                       "(e.g. exp:mean=10min)");
    d->mean_s = o->has_mean ? o->mean_s : o->median_s / log(2.0);
    if (!(d->mean_s > 0))
      return churn_err(err, errlen, SC_ERR_INVALID, "exp: the mean must be above 0");
    return SC_OK;
  case SIM_SESSION_WEIBULL:
    if (!o->has_median || !o->has_shape)
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "weibull: needs median=TIME and shape=K "
                       "(e.g. weibull:median=10min,shape=0.5)");
    if (!(o->median_s > 0))
      return churn_err(err, errlen, SC_ERR_INVALID, "weibull: median must be above 0");
    /* Below 0.1 the mean (λ Γ(1 + 1/k)) is over 10^6 medians: no run would
     * ever reach the stationary state the arrival rate is computed for. */
    if (!(o->shape >= 0.1 && o->shape <= 10))
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "weibull: shape=%g is outside [0.1, 10]", o->shape);
    d->shape = o->shape;
    d->scale_s = sim_churn_weibull_scale(o->median_s, o->shape);
    return SC_OK;
  case SIM_SESSION_PARETO:
    if (o->has_median == o->has_xm || !o->has_alpha)
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "pareto: needs alpha=A and exactly one of median=TIME or xm=TIME "
                       "(e.g. pareto:median=10min,alpha=1.5)");
    /* E[S] = α xm / (α - 1) is infinite for α <= 1: Little's law then asks
     * for no arrivals at all, and the population would only drain. */
    if (!(o->alpha > 1))
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "pareto: alpha=%g gives sessions of infinite mean, so no arrival "
                       "rate keeps the population at N; use alpha > 1 (at most 10)",
                       o->alpha);
    if (!(o->alpha <= 10))
      return churn_err(err, errlen, SC_ERR_INVALID, "pareto: alpha=%g is over 10",
                       o->alpha);
    d->alpha = o->alpha;
    d->xm_s = o->has_xm ? o->xm_s : sim_churn_pareto_xm(o->median_s, o->alpha);
    if (!(d->xm_s > 0))
      return churn_err(err, errlen, SC_ERR_INVALID, "pareto: %s must be above 0",
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
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "fail: '%.*s' needs FRACTION@TIME (e.g. fail:25%%@600s)", (int)arg.n,
                     arg.p);
  if (spec->nfail == SIM_CHURN_FAILS_MAX)
    return churn_err(err, errlen, SC_ERR_INVALID, "fail: more than %u fail: items",
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
  if (!s || !out) return churn_err(err, errlen, SC_ERR_INVALID, "no churn spec");
  size_t len = strnlen(s, SIM_CHURN_SPEC_MAX + 1);
  if (len > SIM_CHURN_SPEC_MAX)
    return churn_err(err, errlen, SC_ERR_TOO_LARGE,
                     "the churn spec is longer than %u bytes", SIM_CHURN_SPEC_MAX);
  memset(out, 0, sizeof *out);
  out->polite = 0.1;
  out->until_ns = UINT64_MAX;
  if (strcmp(s, "none") == 0) return SC_OK;
  if (len == 0)
    return churn_err(err, errlen, SC_ERR_INVALID,
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
      return churn_err(err, errlen, SC_ERR_INVALID,
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
          return churn_err(err, errlen, SC_ERR_INVALID,
                           "trace: needs a file name (trace:FILE)");
        if (out->trace_path[0])
          return churn_err(err, errlen, SC_ERR_INVALID, "trace: given twice");
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
          return churn_err(err, errlen, SC_ERR_INVALID,
                           "unknown churn item '%.*s:' (items: fail:, exp:, weibull:, "
                           "pareto:, trace:; or 'none' alone)",
                           (int)(kind.n < 32 ? kind.n : 32), kind.p);
        if (o.kind != SIM_SESSION_NONE)
          return churn_err(err, errlen, SC_ERR_INVALID,
                           "%.*s: only one session model (exp, weibull or pareto) per "
                           "spec",
                           (int)kind.n, kind.p);
        o.kind = k;
        o.item = tok;
        in_session = true;
        in_fail = false;
        /* The first option rides on the item: weibull:median=10min. */
        if (arg.n == 0 || !memchr(arg.p, '=', arg.n))
          return churn_err(err, errlen, SC_ERR_INVALID,
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
        return churn_err(err, errlen, SC_ERR_INVALID,
                         "fail: takes no options ('%.*s'); write fail:F@T", (int)tok.n,
                         tok.p);
      if (!in_session)
        return churn_err(err, errlen, SC_ERR_INVALID,
                         "option '%.*s' does not follow a session item (exp:, weibull: "
                         "or pareto:)",
                         (int)tok.n, tok.p);
      int rc =
          churn_option(&o, out, &has_polite, &has_start, &has_until, tok, err, errlen);
      if (rc != SC_OK) return rc;
    } else if (slice_eq(tok, "none")) {
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "'none' cannot be combined with other items");
    } else {
      return churn_err(err, errlen, SC_ERR_INVALID,
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
    return churn_err(err, errlen, SC_ERR_INVALID,
                     "%s: until= must be after start=", churn_kind_name(o.kind));
  if (out->trace_path[0] && o.kind != SIM_SESSION_NONE)
    return churn_err(err, errlen, SC_ERR_INVALID,
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
    return churn_err(err, errlen, SC_ERR_INVALID, "trace: bad arguments");
  *out = NULL;
  *nout = 0;
  if (!name) name = "trace";
  if (datalen > SIM_CHURN_TRACE_BYTES_MAX)
    return churn_err(err, errlen, SC_ERR_TOO_LARGE, "%s: over %u bytes", name,
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
      rc = churn_err(err, errlen, SC_ERR_INVALID,
                     "%s:%u: expected 'TIME join|leave|crash PEER', got %zu field%s",
                     name, line, nf, nf == 1 ? "" : "s");
      goto fail;
    }
    double t;
    if (!churn_plain(f[0], &t)) {
      rc = churn_err(err, errlen, SC_ERR_INVALID,
                     "%s:%u: time '%.*s' is not a number of seconds", name, line,
                     (int)(f[0].n < 32 ? f[0].n : 32), f[0].p);
      goto fail;
    }
    if (t < 0 || t > SIM_CHURN_TIME_S_MAX) {
      rc = churn_err(err, errlen, SC_ERR_INVALID, "%s:%u: time %g is outside [0, %g] s",
                     name, line, t, SIM_CHURN_TIME_S_MAX);
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
      rc = churn_err(err, errlen, SC_ERR_INVALID,
                     "%s:%u: unknown event '%.*s' (expected join, leave or crash)", name,
                     line, (int)(f[1].n < 32 ? f[1].n : 32), f[1].p);
      goto fail;
    }
    uint64_t peer = 0;
    bool ok = f[2].n > 0 && f[2].n <= 10;
    for (size_t k = 0; ok && k < f[2].n; k++) {
      ok = f[2].p[k] >= '0' && f[2].p[k] <= '9';
      peer = peer * 10 + (uint64_t)(f[2].p[k] - '0');
    }
    if (!ok || peer > SIM_CHURN_PEERS_MAX) {
      rc = churn_err(err, errlen, SC_ERR_INVALID,
                     "%s:%u: peer '%.*s' is not a whole number in [0, %u]", name, line,
                     (int)(f[2].n < 32 ? f[2].n : 32), f[2].p, SIM_CHURN_PEERS_MAX);
      goto fail;
    }
    if (n == SIM_CHURN_TRACE_EVENTS_MAX) {
      rc = churn_err(err, errlen, SC_ERR_TOO_LARGE, "%s:%u: more than %u events", name,
                     line, SIM_CHURN_TRACE_EVENTS_MAX);
      goto fail;
    }
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      sim_churn_trace_event *p = realloc(ev, ncap * sizeof *ev);
      if (!p) {
        rc = churn_err(err, errlen, SC_ERR_NOMEM, "%s: out of memory", name);
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
    return churn_err(err, errlen, SC_ERR_INVALID, "trace: cannot open '%s': %s", path,
                     strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int rc = SC_OK;
  for (;;) {
    if (n == cap) {
      if (cap > SIM_CHURN_TRACE_BYTES_MAX) {
        rc = churn_err(err, errlen, SC_ERR_TOO_LARGE, "trace: '%s' is over %u bytes",
                       path, SIM_CHURN_TRACE_BYTES_MAX);
        break;
      }
      size_t ncap = cap ? 2 * cap : 4096;
      char *p = realloc(buf, ncap);
      if (!p) {
        rc = churn_err(err, errlen, SC_ERR_NOMEM, "trace: out of memory reading '%s'",
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
        rc = churn_err(err, errlen, SC_ERR_INVALID, "trace: cannot read '%s'", path);
      break;
    }
  }
  fclose(f);
  if (rc == SC_OK && n > SIM_CHURN_TRACE_BYTES_MAX)
    rc = churn_err(err, errlen, SC_ERR_TOO_LARGE, "trace: '%s' is over %u bytes", path,
                   SIM_CHURN_TRACE_BYTES_MAX);
  if (rc != SC_OK) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len = n;
  return SC_OK;
}

/* ------------------------------------------------------------- schedule */

typedef struct churn_dep {
  uint64_t t_ns;
  uint32_t peer;
  uint32_t polite;
} churn_dep;

struct sim_churn_sched {
  sim_churn_spec spec;
  uint32_t peers0;
  uint64_t duration_ns, seed;
  /* Membership: the online peers other than the source, densely, and each
   * peer's slot there (NONE: offline), so that a failure picks uniformly in
   * O(1) per victim and a departure leaves in O(1). */
  uint32_t *online, *pos;
  uint32_t nonline, peers_total, pos_cap;
  /* Departures within the horizon: a binary min-heap on (t_ns, peer). A
   * failure's victims stay in it and are dropped when they surface. */
  churn_dep *heap;
  size_t nheap, heap_cap;
  /* Poisson arrivals. */
  sc_rng arrive_rng;
  double arrive_mean_s; /* 1/λ */
  uint64_t next_arrival_ns;
  /* Failures, in time order (ties in spec order), and the one under way. */
  uint32_t fail_order[SIM_CHURN_FAILS_MAX];
  uint32_t fail_next;
  uint32_t *batch;
  uint32_t nbatch, batch_at, batch_cap;
  uint64_t batch_t_ns;
  /* Trace: events, the distinct labels (sorted) and the index each label
   * names now (NONE: offline). */
  sim_churn_trace_event *trace;
  size_t ntrace, trace_at;
  uint32_t *labels, *label_peer;
  size_t nlabels;
  uint64_t trace_skipped;
  /* One event of lookahead, so that peek is exact. */
  bool staged;
  sim_churn_event stage;
  int error;
};

/* t + d, saturating: a session can outlast any horizon. */
static uint64_t churn_after(uint64_t t_ns, double d_s) {
  double d_ns = d_s * 1e9;
  if (!(d_ns < 1.8e19)) return UINT64_MAX;
  uint64_t d = (uint64_t)d_ns;
  return t_ns > UINT64_MAX - d ? UINT64_MAX : t_ns + d;
}

static int churn_grow_peers(sim_churn_sched *s, uint32_t need) {
  if (need <= s->pos_cap) return SC_OK;
  uint64_t ncap = s->pos_cap ? 2 * (uint64_t)s->pos_cap : 1024;
  while (ncap < need)
    ncap *= 2;
  if (ncap > (uint64_t)SIM_CHURN_PEERS_MAX + 1) ncap = (uint64_t)SIM_CHURN_PEERS_MAX + 1;
  uint32_t *pos = realloc(s->pos, (size_t)ncap * sizeof *pos);
  if (!pos) return SC_ERR_NOMEM;
  s->pos = pos;
  uint32_t *online = realloc(s->online, (size_t)ncap * sizeof *online);
  if (!online) return SC_ERR_NOMEM;
  s->online = online;
  for (uint64_t i = s->pos_cap; i < ncap; i++)
    s->pos[i] = NONE;
  s->pos_cap = (uint32_t)ncap;
  return SC_OK;
}

static void churn_online_add(sim_churn_sched *s, uint32_t peer) {
  assert(peer != 0 && peer < s->pos_cap && s->pos[peer] == NONE);
  s->pos[peer] = s->nonline;
  s->online[s->nonline++] = peer;
}

static void churn_online_remove(sim_churn_sched *s, uint32_t peer) {
  uint32_t at = s->pos[peer];
  assert(peer != 0 && at != NONE);
  uint32_t last = s->online[--s->nonline];
  s->online[at] = last;
  s->pos[last] = at;
  s->pos[peer] = NONE;
}

static bool churn_dep_less(const churn_dep *a, const churn_dep *b) {
  return a->t_ns != b->t_ns ? a->t_ns < b->t_ns : a->peer < b->peer;
}

static int churn_heap_push(sim_churn_sched *s, churn_dep d) {
  if (s->nheap == s->heap_cap) {
    size_t ncap = s->heap_cap ? 2 * s->heap_cap : 1024;
    churn_dep *h = realloc(s->heap, ncap * sizeof *h);
    if (!h) return SC_ERR_NOMEM;
    s->heap = h;
    s->heap_cap = ncap;
  }
  size_t i = s->nheap++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!churn_dep_less(&d, &s->heap[p])) break;
    s->heap[i] = s->heap[p];
    i = p;
  }
  s->heap[i] = d;
  return SC_OK;
}

static void churn_heap_pop(sim_churn_sched *s) {
  assert(s->nheap > 0);
  churn_dep last = s->heap[--s->nheap];
  size_t i = 0, n = s->nheap;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && churn_dep_less(&s->heap[c + 1], &s->heap[c])) c++;
    if (!churn_dep_less(&s->heap[c], &last)) break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  if (n > 0) s->heap[i] = last;
}

/* Draws peer's session (a residual one for the initial peers) starting at
 * from_ns and queues its end if it falls inside the horizon and the churn
 * window. A pure function of (seed, peer): any event order gives each peer
 * the same session and the same polite coin. */
static int churn_start_session(sim_churn_sched *s, uint32_t peer, uint64_t from_ns,
                               bool residual) {
  sc_rng r;
  sc_rng_seed(&r, sc_mix64(s->seed ^ SESSION_TAG) + peer);
  double len_s = residual ? sim_session_residual_sample(&s->spec.session, &r)
                          : sim_session_sample(&s->spec.session, &r);
  bool polite = sc_rng_unit(&r) < s->spec.polite;
  uint64_t t = churn_after(from_ns, len_s);
  if (t > s->duration_ns || t >= s->spec.until_ns) return SC_OK; /* stays */
  return churn_heap_push(s, (churn_dep){t, peer, polite});
}

static void churn_next_arrival(sim_churn_sched *s, uint64_t from_ns) {
  s->next_arrival_ns = UINT64_MAX;
  if (!(s->arrive_mean_s > 0 && isfinite(s->arrive_mean_s))) return;
  uint64_t t =
      churn_after(from_ns, sim_churn_exp_sample(&s->arrive_rng, s->arrive_mean_s));
  if (t <= s->duration_ns && t < s->spec.until_ns) s->next_arrival_ns = t;
}

static int churn_label_index(const sim_churn_sched *s, uint32_t label, size_t *at) {
  size_t lo = 0, hi = s->nlabels;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->labels[mid] < label)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == s->nlabels || s->labels[lo] != label) return SC_ERR_NOT_FOUND;
  *at = lo;
  return SC_OK;
}

static int churn_u32_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Loads the trace, builds the label table and replays it once alone to
 * catch inconsistent lines before the run starts rather than mid-way. */
static int churn_trace_load(sim_churn_sched *s, char *err, size_t errlen) {
  const char *path = s->spec.trace_path;
  char *data = NULL;
  size_t len = 0;
  int rc = churn_read_file(path, &data, &len, err, errlen);
  if (rc != SC_OK) return rc;
  rc = sim_churn_trace_parse(data, len, path, &s->trace, &s->ntrace, err, errlen);
  free(data);
  if (rc != SC_OK) return rc;
  if (s->ntrace == 0) return SC_OK;
  s->labels = malloc(s->ntrace * sizeof *s->labels);
  s->label_peer = malloc(s->ntrace * sizeof *s->label_peer);
  if (!s->labels || !s->label_peer)
    return churn_err(err, errlen, SC_ERR_NOMEM, "trace: out of memory");
  for (size_t i = 0; i < s->ntrace; i++)
    s->labels[i] = s->trace[i].label;
  qsort(s->labels, s->ntrace, sizeof *s->labels, churn_u32_cmp);
  size_t n = 0;
  for (size_t i = 0; i < s->ntrace; i++)
    if (n == 0 || s->labels[n - 1] != s->labels[i]) s->labels[n++] = s->labels[i];
  s->nlabels = n;
  /* label_peer doubles as the "online in the dry run" flag here. */
  for (size_t i = 0; i < n; i++)
    s->label_peer[i] = s->labels[i] < s->peers0 ? s->labels[i] : NONE;
  for (size_t i = 0; i < s->ntrace; i++) {
    const sim_churn_trace_event *e = &s->trace[i];
    size_t at = 0;
    rc = churn_label_index(s, e->label, &at);
    assert(rc == SC_OK);
    bool on = s->label_peer[at] != NONE;
    if (e->kind == SIM_CHURN_JOIN && on)
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "%s:%u: join of peer %u, which is already online (peers 0..%u are "
                       "online from t=0; new peers need labels from %u up)",
                       path, e->line, e->label, s->peers0 - 1, s->peers0);
    if (e->kind != SIM_CHURN_JOIN && e->label == 0)
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "%s:%u: peer 0 is the source, which never leaves", path, e->line);
    if (e->kind != SIM_CHURN_JOIN && !on)
      return churn_err(err, errlen, SC_ERR_INVALID,
                       "%s:%u: %s of peer %u, which is not online", path, e->line,
                       e->kind == SIM_CHURN_CRASH ? "crash" : "leave", e->label);
    s->label_peer[at] = e->kind == SIM_CHURN_JOIN ? 0 : NONE;
  }
  for (size_t i = 0; i < n; i++)
    s->label_peer[i] = s->labels[i] < s->peers0 ? s->labels[i] : NONE;
  return SC_OK;
}

void sim_churn_sched_del(sim_churn_sched *s) {
  if (!s) return;
  free(s->online);
  free(s->pos);
  free(s->heap);
  free(s->batch);
  free(s->trace);
  free(s->labels);
  free(s->label_peer);
  free(s);
}

int sim_churn_sched_new(sim_churn_sched **out, const sim_churn_spec *spec, uint32_t peers,
                        uint64_t duration_ns, uint64_t seed, char *err, size_t errlen) {
  if (err && errlen > 0) err[0] = '\0';
  if (!out || !spec || peers == 0 || peers > SIM_CHURN_PEERS_MAX ||
      spec->nfail > SIM_CHURN_FAILS_MAX)
    return churn_err(err, errlen, SC_ERR_INVALID, "churn: bad arguments");
  *out = NULL;
  sim_churn_sched *s = calloc(1, sizeof *s);
  if (!s) return churn_err(err, errlen, SC_ERR_NOMEM, "churn: out of memory");
  s->spec = *spec;
  s->spec.trace_path[SIM_CHURN_SPEC_MAX - 1] = '\0';
  s->peers0 = peers;
  s->duration_ns = duration_ns;
  s->seed = seed;
  s->peers_total = peers;
  s->next_arrival_ns = UINT64_MAX;
  int rc = churn_grow_peers(s, peers);
  if (rc != SC_OK) {
    churn_err(err, errlen, rc, "churn: out of memory");
    goto fail;
  }
  for (uint32_t p = 1; p < peers; p++)
    churn_online_add(s, p);

  /* Failures in time order; insertion sort keeps spec order on ties. */
  for (uint32_t i = 0; i < s->spec.nfail; i++) {
    uint32_t j = i;
    while (j > 0 && s->spec.fail[s->fail_order[j - 1]].t_ns > s->spec.fail[i].t_ns) {
      s->fail_order[j] = s->fail_order[j - 1];
      j--;
    }
    s->fail_order[j] = i;
  }

  if (s->spec.session.kind != SIM_SESSION_NONE && s->spec.start_ns <= duration_ns) {
    /* Little's law, L = λ E[S]: arrivals at λ = (N - 1) / E[S] keep the
     * expected number of peers besides the source at N - 1. */
    double mean_s = sim_session_mean_s(&s->spec.session);
    s->arrive_mean_s = peers > 1 ? mean_s / (double)(peers - 1) : 0;
    sc_rng_seed(&s->arrive_rng, seed ^ ARRIVE_TAG);
    for (uint32_t p = 1; p < peers; p++) {
      rc = churn_start_session(s, p, s->spec.start_ns, true);
      if (rc != SC_OK) {
        churn_err(err, errlen, rc, "churn: out of memory");
        goto fail;
      }
    }
    churn_next_arrival(s, s->spec.start_ns);
  }

  if (s->spec.trace_path[0]) {
    rc = churn_trace_load(s, err, errlen);
    if (rc != SC_OK) goto fail;
  }
  *out = s;
  return SC_OK;
fail:
  sim_churn_sched_del(s);
  return rc;
}

/* Picks fail item k's victims among the peers online now. */
static int churn_fail_start(sim_churn_sched *s, uint32_t k, uint64_t t_ns) {
  uint32_t want = (uint32_t)floor(s->spec.fail[k].fraction * s->nonline + 0.5);
  if (want > s->nonline) want = s->nonline;
  if (want > s->batch_cap) {
    uint32_t *b = realloc(s->batch, (size_t)want * sizeof *b);
    if (!b) return SC_ERR_NOMEM;
    s->batch = b;
    s->batch_cap = want;
  }
  /* A partial Fisher–Yates over the online array: uniform without
   * replacement, with a stream of its own per item. */
  sc_rng r;
  sc_rng_seed(&r, sc_mix64(s->seed ^ FAIL_TAG) + k);
  for (uint32_t c = 0; c < want; c++) {
    uint32_t j = c + sc_rng_below(&r, s->nonline - c);
    uint32_t a = s->online[c], b = s->online[j];
    s->online[c] = b;
    s->pos[b] = c;
    s->online[j] = a;
    s->pos[a] = j;
    s->batch[c] = b;
  }
  qsort(s->batch, want, sizeof *s->batch, churn_u32_cmp);
  s->nbatch = want;
  s->batch_at = 0;
  s->batch_t_ns = t_ns;
  return SC_OK;
}

/* Drops what no longer applies at the heads of the queues: departures of
 * peers a failure took, trace lines about peers a failure took. */
static void churn_tidy(sim_churn_sched *s) {
  while (s->nheap > 0 && s->pos[s->heap[0].peer] == NONE)
    churn_heap_pop(s);
  while (s->trace_at < s->ntrace && s->trace[s->trace_at].kind != SIM_CHURN_JOIN) {
    size_t at = 0;
    int rc = churn_label_index(s, s->trace[s->trace_at].label, &at);
    assert(rc == SC_OK);
    (void)rc;
    uint32_t p = s->label_peer[at];
    if (p != NONE && s->pos[p] != NONE) break;
    s->label_peer[at] = NONE;
    s->trace_skipped++;
    s->trace_at++;
  }
}

/* Produces the next event into *ev: 1, 0 (none left) or an error. */
static int churn_produce(sim_churn_sched *s, sim_churn_event *ev) {
  for (;;) {
    if (s->batch_at < s->nbatch) {
      uint32_t p = s->batch[s->batch_at++];
      churn_online_remove(s, p);
      *ev = (sim_churn_event){s->batch_t_ns, p, SIM_CHURN_CRASH};
      return 1;
    }
    churn_tidy(s);
    enum { SRC_NONE, SRC_TRACE, SRC_FAIL, SRC_DEP, SRC_ARRIVE } src = SRC_NONE;
    uint64_t t = UINT64_MAX;
    /* Strict '<' in this order gives the documented tie order. */
    if (s->trace_at < s->ntrace) t = s->trace[s->trace_at].t_ns, src = SRC_TRACE;
    if (s->fail_next < s->spec.nfail) {
      uint64_t ft = s->spec.fail[s->fail_order[s->fail_next]].t_ns;
      if (src == SRC_NONE || ft < t) t = ft, src = SRC_FAIL;
    }
    if (s->nheap > 0 && (src == SRC_NONE || s->heap[0].t_ns < t))
      t = s->heap[0].t_ns, src = SRC_DEP;
    if (s->next_arrival_ns != UINT64_MAX && (src == SRC_NONE || s->next_arrival_ns < t))
      t = s->next_arrival_ns, src = SRC_ARRIVE;
    if (src == SRC_NONE || t > s->duration_ns) return 0;

    switch (src) {
    case SRC_TRACE: {
      const sim_churn_trace_event *e = &s->trace[s->trace_at++];
      size_t at = 0;
      int rc = churn_label_index(s, e->label, &at);
      assert(rc == SC_OK);
      if (e->kind == SIM_CHURN_JOIN) {
        /* A label that comes back is a new peer: indices are never reused. */
        if (s->peers_total == SIM_CHURN_PEERS_MAX) return SC_ERR_TOO_LARGE;
        uint32_t p = s->peers_total;
        rc = churn_grow_peers(s, p + 1);
        if (rc != SC_OK) return rc;
        s->peers_total++;
        churn_online_add(s, p);
        s->label_peer[at] = p;
        *ev = (sim_churn_event){e->t_ns, p, SIM_CHURN_JOIN};
      } else {
        uint32_t p = s->label_peer[at];
        churn_online_remove(s, p);
        s->label_peer[at] = NONE;
        *ev = (sim_churn_event){e->t_ns, p, e->kind};
      }
      return 1;
    }
    case SRC_FAIL: {
      int rc = churn_fail_start(s, s->fail_order[s->fail_next++], t);
      if (rc != SC_OK) return rc;
      continue; /* emits the batch, or moves on if it is empty */
    }
    case SRC_DEP: {
      churn_dep d = s->heap[0];
      churn_heap_pop(s);
      churn_online_remove(s, d.peer);
      *ev = (sim_churn_event){d.t_ns, d.peer,
                              d.polite ? SIM_CHURN_LEAVE_POLITE : SIM_CHURN_CRASH};
      return 1;
    }
    case SRC_ARRIVE: {
      if (s->peers_total == SIM_CHURN_PEERS_MAX) return SC_ERR_TOO_LARGE;
      uint32_t p = s->peers_total;
      int rc = churn_grow_peers(s, p + 1);
      if (rc != SC_OK) return rc;
      s->peers_total++;
      churn_online_add(s, p);
      rc = churn_start_session(s, p, t, false);
      if (rc != SC_OK) return rc;
      churn_next_arrival(s, t);
      *ev = (sim_churn_event){t, p, SIM_CHURN_JOIN};
      return 1;
    }
    case SRC_NONE:
      break;
    }
    return 0;
  }
}

static int churn_stage(sim_churn_sched *s) {
  if (s->staged || s->error) return s->error;
  int rc = churn_produce(s, &s->stage);
  if (rc < 0) {
    s->error = rc;
    return rc;
  }
  s->staged = rc == 1;
  return SC_OK;
}

int sim_churn_sched_next(sim_churn_sched *s, sim_churn_event *ev) {
  assert(s && ev);
  int rc = churn_stage(s);
  if (rc != SC_OK) return rc;
  if (!s->staged) return 0;
  *ev = s->stage;
  s->staged = false;
  return 1;
}

uint64_t sim_churn_sched_peek_ns(sim_churn_sched *s) {
  assert(s);
  if (churn_stage(s) != SC_OK || !s->staged) return UINT64_MAX;
  return s->stage.t_ns;
}

uint32_t sim_churn_sched_online(const sim_churn_sched *s) {
  /* The staged event is already applied inside; undo it for the caller. */
  uint32_t n = s->nonline + 1;
  if (s->staged && s->stage.kind == SIM_CHURN_JOIN) return n - 1;
  if (s->staged) return n + 1;
  return n;
}

uint32_t sim_churn_sched_peers_total(const sim_churn_sched *s) {
  return s->peers_total - (s->staged && s->stage.kind == SIM_CHURN_JOIN);
}

uint64_t sim_churn_sched_trace_skipped(const sim_churn_sched *s) {
  return s->trace_skipped;
}
