/*
 * test_churn.c — churn specs, session samplers and the membership schedule
 * (sim/churn.h). Statistical checks draw hundreds of thousands of samples
 * from fixed seeds; their tolerances are several standard errors wide, so
 * they pass or fail the same way on every run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/rng.h"
#include "sim/churn.h"

#define NS_PER_S 1000000000ULL

static int parse(const char *s, sim_churn_spec *spec, char *err) {
  int rc = sim_churn_parse(s, spec, err, SIM_CHURN_ERR_MAX);
  if (rc != SC_OK) {
    /* Every failure explains itself in one line. */
    assert_true(strlen(err) > 0);
    assert_true(strlen(err) < SIM_CHURN_ERR_MAX);
    assert_null(strchr(err, '\n'));
  }
  return rc;
}

/* ---------------------------------------------------------------- parser */

static void test_parse_accepts(void **state) {
  (void)state;
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];

  assert_int_equal(parse("none", &sp, err), SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_NONE);
  assert_int_equal(sp.nfail, 0);
  assert_string_equal(sp.trace_path, "");

  assert_int_equal(parse("fail:25%@600s", &sp, err), SC_OK);
  assert_int_equal(sp.nfail, 1);
  assert_true(sp.fail[0].fraction == 0.25);
  assert_true(sp.fail[0].t_ns == 600 * NS_PER_S);

  assert_int_equal(parse("fail:0.1@300s+fail:10%@5min,fail:1@1500ms", &sp, err), SC_OK);
  assert_int_equal(sp.nfail, 3);
  assert_true(sp.fail[1].fraction == 0.1);
  assert_true(sp.fail[1].t_ns == 300 * NS_PER_S);
  assert_true(sp.fail[2].fraction == 1.0);
  assert_true(sp.fail[2].t_ns == 1500000000ULL);
  assert_int_equal(parse("fail:0%@0", &sp, err), SC_OK);
  assert_int_equal(parse("fail:12.5%@1.5h", &sp, err), SC_OK);
  assert_true(sp.fail[0].t_ns == 5400 * NS_PER_S);

  assert_int_equal(parse("exp:mean=10min", &sp, err), SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_EXP);
  assert_true(sp.session.mean_s == 600);
  assert_true(sp.polite == 0.1); /* the default */
  assert_true(sp.start_ns == 0 && sp.until_ns == UINT64_MAX);
  assert_int_equal(parse("exp:median=600s", &sp, err), SC_OK);
  assert_true(fabs(sp.session.mean_s - 600 / log(2.0)) < 1e-9);

  assert_int_equal(parse("weibull:median=10min,shape=0.5", &sp, err), SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_WEIBULL);
  assert_true(sp.session.shape == 0.5);
  /* median = λ (ln 2)^(1/k) */
  assert_true(fabs(sp.session.scale_s * pow(log(2.0), 2.0) - 600) < 1e-9);

  assert_int_equal(
      parse("weibull:shape=2,polite=0.3,median=1h,start=60s,until=2h", &sp, err), SC_OK);
  assert_true(sp.polite == 0.3);
  assert_true(sp.start_ns == 60 * NS_PER_S);
  assert_true(sp.until_ns == 7200 * NS_PER_S);

  assert_int_equal(parse("pareto:median=10min,alpha=1.5", &sp, err), SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_PARETO);
  assert_true(fabs(sp.session.xm_s * pow(2.0, 1 / 1.5) - 600) < 1e-9);
  assert_int_equal(parse("pareto:xm=30s,alpha=2,polite=50%", &sp, err), SC_OK);
  assert_true(sp.session.xm_s == 30 && sp.session.alpha == 2 && sp.polite == 0.5);

  /* A session model with failures, in either order and with either joiner. */
  assert_int_equal(parse("weibull:median=10min,shape=0.5+fail:25%@600s", &sp, err),
                   SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_WEIBULL);
  assert_int_equal(sp.nfail, 1);
  assert_int_equal(parse("fail:25%@600s,exp:mean=1min,polite=0", &sp, err), SC_OK);
  assert_int_equal(sp.session.kind, SIM_SESSION_EXP);
  assert_true(sp.polite == 0);

  /* trace: takes the rest of the spec verbatim, '+' and ',' included. */
  assert_int_equal(parse("trace:churn.txt", &sp, err), SC_OK);
  assert_string_equal(sp.trace_path, "churn.txt");
  assert_int_equal(parse("fail:5%@1s+trace:/tmp/a+b,c=d:e.txt", &sp, err), SC_OK);
  assert_string_equal(sp.trace_path, "/tmp/a+b,c=d:e.txt");
  assert_int_equal(sp.nfail, 1);

  /* Numbers: exponents and bare fractions. */
  assert_int_equal(parse("exp:mean=1e3s", &sp, err), SC_OK);
  assert_true(sp.session.mean_s == 1000);
  assert_int_equal(parse("exp:mean=.5s", &sp, err), SC_OK);
  assert_true(sp.session.mean_s == 0.5);
}

static void test_parse_rejects(void **state) {
  (void)state;
  static const char *bad[] = {
      "",
      "None",
      "none+fail:10%@1s",
      "fail:10%@1s+none",
      "fail",
      "fail:",
      "fail:25%",
      "fail:@600s",
      "fail:25%@",
      "fail:25@600s",   /* 25 is not a fraction */
      "fail:101%@600s", /* over 100% */
      "fail:-1%@600s",
      "fail:25%@600", /* no unit */
      "fail:25%@600sec",
      "fail:25%@-5s",
      "fail:25%@1e12s", /* beyond SIM_CHURN_TIME_S_MAX */
      "fail:25%@nans",
      "fail:inf%@1s",
      "fail:0x10%@1s",
      "fail:25%%@1s",
      "fail:25%@600s,polite=0.1",
      "fail:25%@600s+",
      "+fail:25%@600s",
      "fail:25%@600s++fail:1%@1s",
      "fail:25%@600s,,fail:1%@1s",
      "exp",
      "exp:",
      "exp:10min",
      "exp:mean=",
      "exp:mean=10",
      "exp:mean=0s",
      "exp:mean=10min,median=5min",
      "exp:mean=10min,mean=5min",
      "exp:mean=10min,shape=2",
      "exp:mean=10min,polite=2",
      "exp:mean=10min,polite=",
      "exp:mean=10min,start=5min,until=5min",
      "exp:mean=10min,start=10min,until=5min",
      "exp:mean=10min,until=abc",
      "exp:mean=10min,bogus",
      "exp:mean=10min,=5",
      "exp:mean=10min+exp:mean=5min",
      "exp:mean=10min+weibull:median=1min,shape=1",
      "weibull:median=10min",
      "weibull:shape=0.5",
      "weibull:median=10min,shape=0",
      "weibull:median=10min,shape=0.01",
      "weibull:median=10min,shape=50",
      "weibull:median=10min,shape=abc",
      "weibull:median=10min,shape=0.5s",
      "weibull:median=-10min,shape=0.5",
      "weibull:median=10min,shape=0.5,alpha=2",
      "weibull:mean=10min,shape=0.5",
      "pareto:median=10min",
      "pareto:median=10min,alpha=1",   /* infinite mean */
      "pareto:median=10min,alpha=0.8", /* infinite mean */
      "pareto:median=10min,alpha=11",
      "pareto:median=10min,xm=1min,alpha=2",
      "pareto:alpha=2",
      "pareto:xm=0s,alpha=2",
      "gamma:mean=10min",
      "polite=0.1",
      "start=1s",
      "trace:",
      "trace:a.txt+trace:b.txt" /* the second is part of the first's name */,
      "exp:mean=10min+trace:x.txt",
      "trace:x.txt", /* valid: checked below, kept here as the odd one out */
  };
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  size_t n = sizeof(bad) / sizeof(bad[0]);
  for (size_t i = 0; i < n; i++) {
    int rc = parse(bad[i], &sp, err);
    if (strcmp(bad[i], "trace:x.txt") == 0 ||
        strcmp(bad[i], "trace:a.txt+trace:b.txt") == 0) {
      assert_int_equal(rc, SC_OK); /* file names are not the parser's business */
      continue;
    }
    if (rc != SC_ERR_INVALID) fail_msg("accepted '%s'", bad[i]);
  }
  /* Messages name the bad part and what is accepted. */
  assert_int_equal(parse("pareto:median=10min,alpha=1", &sp, err), SC_ERR_INVALID);
  assert_non_null(strstr(err, "infinite mean"));
  assert_non_null(strstr(err, "alpha > 1"));
  assert_int_equal(parse("fail:25%@600", &sp, err), SC_ERR_INVALID);
  assert_non_null(strstr(err, "'600'"));
  assert_non_null(strstr(err, "ms, s, min or h"));
  assert_int_equal(parse("gamma:mean=10min", &sp, err), SC_ERR_INVALID);
  assert_non_null(strstr(err, "gamma"));
  assert_non_null(strstr(err, "weibull:"));
  assert_int_equal(parse("exp:mean=10min,shape=2", &sp, err), SC_ERR_INVALID);
  assert_non_null(strstr(err, "shape"));
  assert_non_null(strstr(err, "mean="));
  assert_int_equal(parse("weibull:median=10min,shape=0.5,median=1min", &sp, err),
                   SC_ERR_INVALID);
  assert_non_null(strstr(err, "twice"));

  /* Bounds and NULLs. */
  char *big = malloc(SIM_CHURN_SPEC_MAX + 2);
  assert_non_null(big);
  memset(big, 'a', SIM_CHURN_SPEC_MAX + 1);
  big[SIM_CHURN_SPEC_MAX + 1] = '\0';
  assert_int_equal(parse(big, &sp, err), SC_ERR_TOO_LARGE);
  free(big);
  assert_int_equal(sim_churn_parse(NULL, &sp, err, sizeof err), SC_ERR_INVALID);
  assert_int_equal(sim_churn_parse("none", NULL, err, sizeof err), SC_ERR_INVALID);
  /* A tiny or absent error buffer is fine. */
  char tiny[4];
  assert_int_equal(sim_churn_parse("bogus", &sp, tiny, sizeof tiny), SC_ERR_INVALID);
  assert_int_equal(strlen(tiny), 3);
  assert_int_equal(sim_churn_parse("bogus", &sp, NULL, 0), SC_ERR_INVALID);
}

/* Random strings and mutated valid specs: the parser answers OK or an error
 * with a message, never crashes (ASan/UBSan run this too), and anything it
 * accepts is within the documented ranges. */
static void test_parse_garbage(void **state) {
  (void)state;
  static const char alphabet[] = "fail:exp:weibull:pareto:trace:none=%@+,.-0123456789e"
                                 "smhinmedianshapealphaxmpolitestartuntil \t#";
  static const char *seeds[] = {
      "fail:25%@600s",
      "weibull:median=10min,shape=0.5,polite=0.1+fail:25%@600s",
      "pareto:median=10min,alpha=1.5,start=1min,until=2h",
      "exp:mean=10min",
      "fail:10%@300s+fail:10%@400s",
  };
  sc_rng r;
  sc_rng_seed(&r, 7);
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  char buf[160];
  uint32_t accepted = 0;
  for (uint32_t it = 0; it < 60000; it++) {
    size_t n = 0;
    uint32_t mode = it % 3;
    if (mode == 0) { /* any bytes but NUL */
      n = sc_rng_below(&r, 64);
      for (size_t i = 0; i < n; i++)
        buf[i] = (char)(1 + sc_rng_below(&r, 255));
    } else if (mode == 1) { /* spec-like characters */
      n = sc_rng_below(&r, 80);
      for (size_t i = 0; i < n; i++)
        buf[i] = alphabet[sc_rng_below(&r, sizeof(alphabet) - 1)];
    } else { /* a valid spec with a few edits */
      const char *s = seeds[sc_rng_below(&r, sizeof(seeds) / sizeof(seeds[0]))];
      n = strlen(s);
      memcpy(buf, s, n);
      uint32_t edits = 1 + sc_rng_below(&r, 3);
      for (uint32_t e = 0; e < edits && n > 0 && n < sizeof(buf) - 2; e++) {
        size_t at = sc_rng_below(&r, (uint32_t)n);
        char c = alphabet[sc_rng_below(&r, sizeof(alphabet) - 1)];
        switch (sc_rng_below(&r, 3)) {
        case 0:
          buf[at] = c;
          break;
        case 1:
          memmove(buf + at, buf + at + 1, n - at - 1);
          n--;
          break;
        default:
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = c;
          n++;
          break;
        }
      }
    }
    buf[n] = '\0';
    int rc = parse(buf, &sp, err);
    if (rc == SC_OK) {
      accepted++;
      assert_true(sp.nfail <= SIM_CHURN_FAILS_MAX);
      for (uint32_t i = 0; i < sp.nfail; i++)
        assert_true(sp.fail[i].fraction >= 0 && sp.fail[i].fraction <= 1);
      assert_true(sp.polite >= 0 && sp.polite <= 1);
      assert_true(sp.start_ns < sp.until_ns);
      double mean = sim_session_mean_s(&sp.session);
      if (sp.session.kind != SIM_SESSION_NONE) assert_true(mean > 0 && isfinite(mean));
    } else {
      assert_int_equal(rc, SC_ERR_INVALID);
    }
  }
  /* The mutations must sometimes land on valid specs, or this tests little. */
  assert_true(accepted > 100);
}

/* -------------------------------------------------------------- samplers */

static int dbl_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define SAMPLES 200000

static double median_of(double *v, size_t n) {
  qsort(v, n, sizeof *v, dbl_cmp);
  return 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double mean_of(const double *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += v[i];
  return s / (double)n;
}

/* |got - want| / want < tol */
static void assert_rel(double got, double want, double tol) {
  if (!(fabs(got - want) < tol * fabs(want)))
    fail_msg("got %g, want %g within %g%%", got, want, tol * 100);
}

static void test_samplers(void **state) {
  (void)state;
  double *v = malloc(SAMPLES * sizeof *v);
  assert_non_null(v);
  sc_rng r;
  sc_rng_seed(&r, 11);

  /* Exponential: mean 600, median 600 ln 2. sd of the mean 0.2%. */
  for (size_t i = 0; i < SAMPLES; i++)
    v[i] = sim_churn_exp_sample(&r, 600);
  assert_rel(mean_of(v, SAMPLES), 600, 0.01);
  assert_rel(median_of(v, SAMPLES), 600 * log(2.0), 0.01);

  /* Weibull from a median and a shape: the median comes back, and the mean
   * is λ Γ(1 + 1/k) (2λ for k = 0.5). */
  const double shapes[] = {0.5, 1.0, 2.0};
  for (size_t k = 0; k < 3; k++) {
    double scale = sim_churn_weibull_scale(600, shapes[k]);
    for (size_t i = 0; i < SAMPLES; i++)
      v[i] = sim_churn_weibull_sample(&r, scale, shapes[k]);
    assert_rel(mean_of(v, SAMPLES), scale * tgamma(1 + 1 / shapes[k]), 0.02);
    assert_rel(median_of(v, SAMPLES), 600, 0.01);
    for (size_t i = 0; i < SAMPLES; i++)
      assert_true(v[i] >= 0 && isfinite(v[i]));
  }

  /* Pareto from a median: the median comes back; no sample below xm; the
   * mean α xm / (α - 1) checked for α = 3, where the variance is finite. */
  const double alphas[] = {1.5, 3.0};
  for (size_t a = 0; a < 2; a++) {
    double xm = sim_churn_pareto_xm(600, alphas[a]);
    for (size_t i = 0; i < SAMPLES; i++) {
      v[i] = sim_churn_pareto_sample(&r, xm, alphas[a]);
      assert_true(v[i] >= xm && isfinite(v[i]));
    }
    if (alphas[a] > 2)
      assert_rel(mean_of(v, SAMPLES), alphas[a] * xm / (alphas[a] - 1), 0.02);
    assert_rel(median_of(v, SAMPLES), 600, 0.01);
  }

  /* Gamma(a, 1): mean a, variance a. */
  const double gshapes[] = {0.3, 0.5, 1.0, 2.0, 7.5};
  for (size_t g = 0; g < 5; g++) {
    for (size_t i = 0; i < SAMPLES; i++)
      v[i] = sim_churn_gamma_sample(&r, gshapes[g]);
    double m = mean_of(v, SAMPLES), var = 0;
    for (size_t i = 0; i < SAMPLES; i++)
      var += (v[i] - m) * (v[i] - m);
    var /= SAMPLES - 1;
    assert_rel(m, gshapes[g], 0.02);
    assert_rel(var, gshapes[g], 0.05);
  }
  free(v);
}

/* Residual session lengths: E[R] = E[S^2] / (2 E[S]), or the median where
 * that mean is infinite (Pareto with α <= 2). */
static void test_residual(void **state) {
  (void)state;
  double *v = malloc(SAMPLES * sizeof *v);
  assert_non_null(v);
  sc_rng r;
  sc_rng_seed(&r, 12);
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];

  assert_int_equal(parse("exp:mean=10min", &sp, err), SC_OK);
  for (size_t i = 0; i < SAMPLES; i++)
    v[i] = sim_session_residual_sample(&sp.session, &r);
  assert_rel(mean_of(v, SAMPLES), 600, 0.01);

  /* Weibull k = 0.5: E[S^2]/(2 E[S]) = λ Γ(5) / (2 Γ(3)) = 6λ, three times
   * the mean session: a random moment catches the long sessions. */
  assert_int_equal(parse("weibull:median=10min,shape=0.5", &sp, err), SC_OK);
  for (size_t i = 0; i < SAMPLES; i++)
    v[i] = sim_session_residual_sample(&sp.session, &r);
  assert_rel(mean_of(v, SAMPLES), 6 * sp.session.scale_s, 0.03);
  /* k = 2: λ Γ(2) / (2 Γ(1.5)) */
  assert_int_equal(parse("weibull:median=10min,shape=2", &sp, err), SC_OK);
  for (size_t i = 0; i < SAMPLES; i++)
    v[i] = sim_session_residual_sample(&sp.session, &r);
  assert_rel(mean_of(v, SAMPLES), sp.session.scale_s / (2 * tgamma(1.5)), 0.01);

  /* Pareto α = 1.5: P(R < xm) = (α-1)/α = 1/3, median xm (2/α)^(1/(α-1)). */
  assert_int_equal(parse("pareto:xm=100s,alpha=1.5", &sp, err), SC_OK);
  size_t below = 0;
  for (size_t i = 0; i < SAMPLES; i++) {
    v[i] = sim_session_residual_sample(&sp.session, &r);
    below += v[i] < 100;
  }
  assert_rel((double)below / SAMPLES, 1.0 / 3, 0.02);
  assert_rel(median_of(v, SAMPLES), 100 * pow(2 / 1.5, 2), 0.02);
  /* α = 3: E[R] = E[S^2] / (2 E[S]) = (3 xm^2) / (2 · 1.5 xm) = xm */
  assert_int_equal(parse("pareto:xm=100s,alpha=3", &sp, err), SC_OK);
  for (size_t i = 0; i < SAMPLES; i++)
    v[i] = sim_session_residual_sample(&sp.session, &r);
  assert_rel(mean_of(v, SAMPLES), 100, 0.03);
  free(v);
}

/* -------------------------------------------------------------- schedule */

typedef struct run_stats {
  uint64_t events, joins, leaves, crashes, digest;
  double pop_time_avg;             /* online peers, time-weighted over the run */
  double pop_min_rel, pop_max_rel; /* at checkpoints, relative to N */
} run_stats;

/* Runs a schedule to its end, checking the invariants every schedule
 * keeps: time order, fresh join indices, peer 0 never leaves, no peer
 * leaves twice or before it joined, peek and the counters agree. */
static void run_sched(const char *spec_s, uint32_t n, uint64_t duration_ns, uint64_t seed,
                      run_stats *st) {
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(parse(spec_s, &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  int rc = sim_churn_sched_new(&s, &sp, n, duration_ns, seed, err, sizeof err);
  if (rc != SC_OK) fail_msg("sched_new(%s): %s", spec_s, err);
  memset(st, 0, sizeof *st);
  size_t cap = 1024;
  uint8_t *on = calloc(cap, 1); /* 1: online, 2: gone */
  assert_non_null(on);
  for (uint32_t p = 0; p < n; p++) {
    if (p >= cap) {
      size_t ncap = cap * 2 > (size_t)n ? cap * 2 : (size_t)n + 1;
      on = realloc(on, ncap);
      assert_non_null(on);
      memset(on + cap, 0, ncap - cap);
      cap = ncap;
    }
    on[p] = 1;
  }
  uint32_t online = n, next_fresh = n;
  uint64_t last_t = 0, check_every = duration_ns / 64, next_check = check_every;
  double area = 0;
  st->pop_min_rel = st->pop_max_rel = 1;
  st->digest = 1469598103934665603ULL;
  sim_churn_event ev;
  for (;;) {
    uint64_t peek = sim_churn_sched_peek_ns(s);
    assert_int_equal(sim_churn_sched_online(s), online);
    assert_int_equal(sim_churn_sched_peers_total(s), next_fresh);
    rc = sim_churn_sched_next(s, &ev);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0) {
      assert_true(peek == UINT64_MAX);
      break;
    }
    assert_true(peek == ev.t_ns);
    assert_true(ev.t_ns >= last_t && ev.t_ns <= duration_ns);
    while (next_check <= ev.t_ns && next_check < duration_ns) {
      double rel = (double)online / n;
      if (rel < st->pop_min_rel) st->pop_min_rel = rel;
      if (rel > st->pop_max_rel) st->pop_max_rel = rel;
      next_check += check_every;
    }
    area += (double)online * (double)(ev.t_ns - last_t);
    last_t = ev.t_ns;
    st->events++;
    st->digest = (st->digest ^ (ev.t_ns * 31 + ev.peer * 7 + ev.kind)) * 1099511628211ULL;
    if (ev.kind == SIM_CHURN_JOIN) {
      assert_int_equal(ev.peer, next_fresh);
      next_fresh++;
      if (ev.peer >= cap) {
        on = realloc(on, cap * 2);
        assert_non_null(on);
        memset(on + cap, 0, cap);
        cap *= 2;
      }
      on[ev.peer] = 1;
      online++;
      st->joins++;
    } else {
      assert_true(ev.kind == SIM_CHURN_LEAVE_POLITE || ev.kind == SIM_CHURN_CRASH);
      assert_int_not_equal(ev.peer, 0);
      assert_true(ev.peer < cap && on[ev.peer] == 1);
      on[ev.peer] = 2;
      online--;
      if (ev.kind == SIM_CHURN_CRASH)
        st->crashes++;
      else
        st->leaves++;
    }
  }
  area += (double)online * (double)(duration_ns - last_t);
  st->pop_time_avg = area / (double)duration_ns;
  assert_int_equal(sim_churn_sched_online(s), online);
  /* After the end, the end stays. */
  assert_int_equal(sim_churn_sched_next(s, &ev), 0);
  free(on);
  sim_churn_sched_del(s);
}

static void test_sched_none(void **state) {
  (void)state;
  run_stats st;
  run_sched("none", 100, 3600 * NS_PER_S, 1, &st);
  assert_int_equal(st.events, 0);
  assert_true(st.pop_time_avg == 100);
}

/* Collects a fail-only schedule's events. */
static size_t collect(const char *spec_s, uint32_t n, uint64_t duration_ns, uint64_t seed,
                      sim_churn_event *out, size_t max) {
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(parse(spec_s, &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  assert_int_equal(sim_churn_sched_new(&s, &sp, n, duration_ns, seed, err, sizeof err),
                   SC_OK);
  size_t k = 0;
  sim_churn_event ev;
  while (sim_churn_sched_next(s, &ev) == 1) {
    assert_true(k < max);
    out[k++] = ev;
  }
  sim_churn_sched_del(s);
  return k;
}

static void test_fail_exact(void **state) {
  (void)state;
  enum { N = 1001 };
  static sim_churn_event ev[N];
  /* 25% of the 1,000 peers besides the source, all at 600 s. */
  size_t k = collect("fail:25%@600s", N, 3600 * NS_PER_S, 5, ev, N);
  assert_int_equal(k, 250);
  uint8_t seen[N] = {0};
  for (size_t i = 0; i < k; i++) {
    assert_true(ev[i].t_ns == 600 * NS_PER_S);
    assert_int_equal(ev[i].kind, SIM_CHURN_CRASH);
    assert_true(ev[i].peer >= 1 && ev[i].peer < N);
    assert_int_equal(seen[ev[i].peer], 0);
    seen[ev[i].peer] = 1;
    if (i > 0) assert_true(ev[i].peer > ev[i - 1].peer); /* by index */
  }
  /* Spread over the population, not the first 250. */
  uint32_t high = 0;
  for (size_t i = 0; i < k; i++)
    high += ev[i].peer > N / 2;
  assert_in_range(high, 90, 160);

  /* Two rounds: 10% of 1,000, then 10% of the 900 left; spec order does
   * not matter, the second never picks a peer the first took. */
  k = collect("fail:10%@400s+fail:10%@300s", N, 3600 * NS_PER_S, 5, ev, N);
  assert_int_equal(k, 190);
  memset(seen, 0, sizeof seen);
  for (size_t i = 0; i < k; i++) {
    assert_true(ev[i].t_ns == (i < 100 ? 300 : 400) * NS_PER_S);
    assert_int_equal(seen[ev[i].peer], 0);
    seen[ev[i].peer] = 1;
    assert_int_not_equal(ev[i].peer, 0);
  }

  /* Everyone but the source; nobody; after the horizon; a lone source. */
  assert_int_equal(collect("fail:100%@1s", N, 10 * NS_PER_S, 5, ev, N), N - 1);
  assert_int_equal(collect("fail:0%@1s", N, 10 * NS_PER_S, 5, ev, N), 0);
  assert_int_equal(collect("fail:50%@11s", N, 10 * NS_PER_S, 5, ev, N), 0);
  assert_int_equal(collect("fail:50%@10s", N, 10 * NS_PER_S, 5, ev, N), 500);
  assert_int_equal(collect("fail:100%@1s", 1, 10 * NS_PER_S, 5, ev, N), 0);
  /* Rounding: 1/3 of 10 peers is 3. */
  assert_int_equal(collect("fail:0.3333@1s", 11, 10 * NS_PER_S, 5, ev, N), 3);

  /* Another seed, other victims. */
  static sim_churn_event ev2[N];
  size_t k1 = collect("fail:25%@600s", N, 3600 * NS_PER_S, 5, ev, N);
  size_t k2 = collect("fail:25%@600s", N, 3600 * NS_PER_S, 6, ev2, N);
  assert_int_equal(k1, k2);
  assert_true(memcmp(ev, ev2, k1 * sizeof *ev) != 0);
}

/* Little's law: with λ = (N - 1) / E[S] and a stationary start, the
 * population hovers around N from t = 0 on. At N = 2,001 the stationary
 * count is Poisson with sd ~45 (2.2%); the checkpoints allow 8%. */
static void test_population(void **state) {
  (void)state;
  static const struct {
    const char *spec;
    double mean_s;
  } models[] = {
      {"exp:mean=10min", 600},
      {"weibull:median=10min,shape=0.5", 2497.6427772067295}, /* 2 · 600 / (ln 2)^2 */
      {"weibull:median=10min,shape=2", 0},
      {"pareto:median=10min,alpha=1.5", 0},
  };
  for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
    sim_churn_spec sp;
    char err[SIM_CHURN_ERR_MAX];
    assert_int_equal(parse(models[m].spec, &sp, err), SC_OK);
    double mean_s = sim_session_mean_s(&sp.session);
    if (models[m].mean_s > 0) assert_rel(mean_s, models[m].mean_s, 1e-12);
    uint64_t dur = (uint64_t)(20 * mean_s) * NS_PER_S;
    run_stats st;
    run_sched(models[m].spec, 2001, dur, 3, &st);
    print_message("%-32s joins %llu, time-avg population %.1f, checkpoints %.3f..%.3f\n",
                  models[m].spec, (unsigned long long)st.joins, st.pop_time_avg,
                  st.pop_min_rel, st.pop_max_rel);
    /* About 20 sessions' worth of arrivals: 40,000. */
    assert_rel((double)st.joins, 40000, 0.05);
    assert_rel(st.pop_time_avg, 2001, 0.03);
    assert_true(st.pop_min_rel > 0.92 && st.pop_max_rel < 1.08);
  }
}

static void test_polite_fraction(void **state) {
  (void)state;
  run_stats st;
  /* ~40,000 departures: sd of the fraction ~0.2%. */
  run_sched("exp:mean=10min,polite=0.3", 2001, 12000 * NS_PER_S, 4, &st);
  double f = (double)st.leaves / (double)(st.leaves + st.crashes);
  assert_true(fabs(f - 0.3) < 0.015);
  run_sched("exp:mean=10min", 2001, 12000 * NS_PER_S, 4, &st);
  f = (double)st.leaves / (double)(st.leaves + st.crashes);
  assert_true(fabs(f - 0.1) < 0.01);
  run_sched("exp:mean=10min,polite=0", 501, 3000 * NS_PER_S, 4, &st);
  assert_int_equal(st.leaves, 0);
  assert_true(st.crashes > 0);
  run_sched("exp:mean=10min,polite=100%", 501, 3000 * NS_PER_S, 4, &st);
  assert_int_equal(st.crashes, 0);
  assert_true(st.leaves > 0);
  /* A failure's crashes are crashes whatever polite says. */
  run_sched("exp:mean=1000h,polite=1+fail:50%@10s", 501, 20 * NS_PER_S, 4, &st);
  assert_in_range(st.crashes, 250, 250);
}

static void test_window(void **state) {
  (void)state;
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(
      parse("exp:mean=1min,start=10min,until=20min+fail:10%@15min", &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  assert_int_equal(sim_churn_sched_new(&s, &sp, 101, 3600 * NS_PER_S, 9, err, sizeof err),
                   SC_OK);
  sim_churn_event ev;
  uint64_t n = 0, fails = 0;
  while (sim_churn_sched_next(s, &ev) == 1) {
    assert_true(ev.t_ns >= 600 * NS_PER_S && ev.t_ns < 1200 * NS_PER_S);
    fails += ev.t_ns == 900 * NS_PER_S;
    n++;
  }
  assert_true(n > 500); /* ten mean sessions of 100 peers: ~2,000 events */
  assert_true(fails >= 9);
  sim_churn_sched_del(s);

  /* A window starting after the horizon gives nothing; an empty horizon
   * keeps what happens at exactly t = 0. */
  run_stats st;
  run_sched("exp:mean=1min,start=2h", 101, 3600 * NS_PER_S, 9, &st);
  assert_int_equal(st.events, 0);
  run_sched("fail:50%@0s", 101, 0, 9, &st);
  assert_int_equal(st.events, 50);
}

static void test_deterministic(void **state) {
  (void)state;
  const char *spec = "weibull:median=5min,shape=0.5,polite=0.2+fail:20%@30min";
  run_stats a, b, c;
  run_sched(spec, 1001, 3600 * NS_PER_S, 77, &a);
  run_sched(spec, 1001, 3600 * NS_PER_S, 77, &b);
  run_sched(spec, 1001, 3600 * NS_PER_S, 78, &c);
  assert_true(a.events > 1000);
  assert_true(a.events == b.events && a.digest == b.digest);
  assert_true(a.digest != c.digest);
  /* A longer horizon extends the same history: its prefix is identical. */
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(parse(spec, &sp, err), SC_OK);
  sim_churn_sched *s1 = NULL, *s2 = NULL;
  assert_int_equal(
      sim_churn_sched_new(&s1, &sp, 1001, 1800 * NS_PER_S, 77, err, sizeof err), SC_OK);
  assert_int_equal(
      sim_churn_sched_new(&s2, &sp, 1001, 7200 * NS_PER_S, 77, err, sizeof err), SC_OK);
  sim_churn_event e1, e2;
  uint64_t same = 0;
  while (sim_churn_sched_next(s1, &e1) == 1) {
    assert_int_equal(sim_churn_sched_next(s2, &e2), 1);
    assert_true(e1.t_ns == e2.t_ns && e1.peer == e2.peer && e1.kind == e2.kind);
    same++;
  }
  assert_true(same > 100);
  sim_churn_sched_del(s1);
  sim_churn_sched_del(s2);
}

/* ----------------------------------------------------------------- trace */

static void test_trace_parse(void **state) {
  (void)state;
  static const char text[] = "# a comment\n"
                             "\n"
                             "10.5 join 7   # trailing comment\n"
                             "  2 leave 3\r\n"
                             "\t2 crash 4\n"
                             "1e1 join 8\n"
                             "0 join 9";
  sim_churn_trace_event *ev = NULL;
  size_t n = 0;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(
      sim_churn_trace_parse(text, strlen(text), "t.txt", &ev, &n, err, sizeof err),
      SC_OK);
  assert_int_equal(n, 5);
  /* Sorted by time, ties in line order. */
  assert_true(ev[0].t_ns == 0 && ev[0].label == 9 && ev[0].line == 7);
  assert_true(ev[1].t_ns == 2 * NS_PER_S && ev[1].label == 3 && ev[1].line == 4);
  assert_int_equal(ev[1].kind, SIM_CHURN_LEAVE_POLITE);
  assert_true(ev[2].t_ns == 2 * NS_PER_S && ev[2].label == 4);
  assert_int_equal(ev[2].kind, SIM_CHURN_CRASH);
  assert_true(ev[3].t_ns == 10 * NS_PER_S && ev[3].label == 8);
  assert_true(ev[4].t_ns == 10500000000ULL && ev[4].label == 7);
  assert_int_equal(ev[4].kind, SIM_CHURN_JOIN);
  free(ev);

  /* Empty input, only comments. */
  assert_int_equal(sim_churn_trace_parse("", 0, "e", &ev, &n, err, sizeof err), SC_OK);
  assert_int_equal(n, 0);
  assert_null(ev);
  assert_int_equal(sim_churn_trace_parse("#x\n\n  \n", 7, "e", &ev, &n, err, sizeof err),
                   SC_OK);
  assert_int_equal(n, 0);

  static const struct {
    const char *text;
    const char *want; /* in the message */
  } bad[] = {
      {"1 join 1\n2 jion 2\n", "t:2: unknown event 'jion'"},
      {"1 join 1\n\n-3 join 2\n", "t:3: time -3"},
      {"abc join 1\n", "t:1: time 'abc'"},
      {"1s join 1\n", "t:1: time '1s'"},
      {"nan join 1\n", "t:1:"},
      {"inf join 1\n", "t:1:"},
      {"1e400 join 1\n", "t:1:"},
      {"1 join -1\n", "t:1: peer '-1'"},
      {"1 join 1.5\n", "t:1: peer '1.5'"},
      {"1 join 4294967295\n", "t:1: peer"},
      {"1 join 99999999999\n", "t:1: peer"},
      {"1 join\n", "t:1: expected 'TIME join|leave|crash PEER', got 2 fields"},
      {"# ok\n1 join 2 3\n", "t:2: expected"},
      {"1 JOIN 1\n", "t:1: unknown event 'JOIN'"},
      {"1e10 join 1\n", "t:1: time"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ev = (sim_churn_trace_event *)1;
    int rc = sim_churn_trace_parse(bad[i].text, strlen(bad[i].text), "t", &ev, &n, err,
                                   sizeof err);
    assert_int_equal(rc, SC_ERR_INVALID);
    assert_null(ev);
    if (!strstr(err, bad[i].want))
      fail_msg("trace '%s': message '%s' lacks '%s'", bad[i].text, err, bad[i].want);
  }
  /* NUL bytes and garbage never crash the parser. */
  sc_rng r;
  sc_rng_seed(&r, 3);
  char buf[128];
  for (int it = 0; it < 20000; it++) {
    size_t len = sc_rng_below(&r, sizeof buf);
    static const char al[] = "0123456789. -e#\n\tjoinleavecrash\r";
    for (size_t i = 0; i < len; i++)
      buf[i] = it % 2 ? (char)sc_rng_below(&r, 256) : al[sc_rng_below(&r, sizeof al - 1)];
    int rc = sim_churn_trace_parse(buf, len, "g", &ev, &n, err, sizeof err);
    assert_true(rc == SC_OK || rc == SC_ERR_INVALID);
    if (rc == SC_OK) free(ev);
  }
}

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *tmp_trace(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/test_churn_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t len = strlen(text);
  assert_int_equal(write(fd, text, len), (ssize_t)len);
  close(fd);
  return path;
}

static int sched_trace(const char *text, const char *extra, uint32_t n,
                       sim_churn_event *out, size_t max, size_t *nout, char *err) {
  const char *path = tmp_trace(text);
  char spec_s[256];
  snprintf(spec_s, sizeof spec_s, "%strace:%s", extra, path);
  sim_churn_spec sp;
  assert_int_equal(parse(spec_s, &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  int rc = sim_churn_sched_new(&s, &sp, n, 1000 * NS_PER_S, 1, err, SIM_CHURN_ERR_MAX);
  unlink(path);
  if (rc != SC_OK) {
    assert_null(s);
    /* The message names the file. */
    assert_non_null(strstr(err, path));
    return rc;
  }
  size_t k = 0;
  sim_churn_event ev;
  while (sim_churn_sched_next(s, &ev) == 1) {
    assert_true(k < max);
    out[k++] = ev;
  }
  *nout = k;
  sim_churn_sched_del(s);
  return SC_OK;
}

static void test_trace_sched(void **state) {
  (void)state;
  sim_churn_event ev[32];
  size_t k = 0;
  char err[SIM_CHURN_ERR_MAX];
  /* Peers 0..2 online at t = 0; labels 10 and 11 come and go; 10 comes
   * back as a new index; 2 leaves; events past the horizon are cut. */
  assert_int_equal(sched_trace("5 join 10\n6 join 11\n7 leave 10\n8 crash 2\n"
                               "9 join 10\n9.5 crash 11\n2000 crash 1\n",
                               "", 3, ev, 32, &k, err),
                   SC_OK);
  assert_int_equal(k, 6);
  const sim_churn_event want[] = {
      {5 * NS_PER_S, 3, SIM_CHURN_JOIN},         {6 * NS_PER_S, 4, SIM_CHURN_JOIN},
      {7 * NS_PER_S, 3, SIM_CHURN_LEAVE_POLITE}, {8 * NS_PER_S, 2, SIM_CHURN_CRASH},
      {9 * NS_PER_S, 5, SIM_CHURN_JOIN},         {9500000000ULL, 4, SIM_CHURN_CRASH},
  };
  for (size_t i = 0; i < k; i++) {
    assert_true(ev[i].t_ns == want[i].t_ns);
    assert_int_equal(ev[i].peer, want[i].peer);
    assert_int_equal(ev[i].kind, want[i].kind);
  }

  /* Inconsistent traces fail up front, with file:line. */
  static const struct {
    const char *text;
    const char *want;
  } bad[] = {
      {"1 join 5\n2 join 5\n", ":2: join of peer 5, which is already online"},
      {"1 join 1\n", ":1: join of peer 1, which is already online (peers 0..2"},
      {"1 leave 7\n", ":1: leave of peer 7, which is not online"},
      {"1 join 7\n2 crash 7\n3 crash 7\n", ":3: crash of peer 7, which is not online"},
      {"1 crash 0\n", ":1: peer 0 is the source"},
      {"1 join 7\n1 bogus 7\n", ":2: unknown event"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(sched_trace(bad[i].text, "", 3, ev, 32, &k, err), SC_ERR_INVALID);
    if (!strstr(err, bad[i].want))
      fail_msg("trace '%s': message '%s' lacks '%s'", bad[i].text, err, bad[i].want);
  }

  /* A failure that takes a peer first turns the trace's later leave of it
   * into nothing. With one peer besides the source, 100% takes it. */
  assert_int_equal(
      sched_trace("5 leave 1\n6 join 1\n", "fail:100%@1s+", 2, ev, 32, &k, err), SC_OK);
  assert_int_equal(k, 2);
  assert_true(ev[0].t_ns == NS_PER_S && ev[0].peer == 1 && ev[0].kind == SIM_CHURN_CRASH);
  assert_true(ev[1].t_ns == 6 * NS_PER_S && ev[1].peer == 2 &&
              ev[1].kind == SIM_CHURN_JOIN);

  /* A missing file. */
  sim_churn_spec sp;
  assert_int_equal(parse("trace:/nonexistent/churn.txt", &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  assert_int_equal(sim_churn_sched_new(&s, &sp, 3, NS_PER_S, 1, err, sizeof err),
                   SC_ERR_INVALID);
  assert_non_null(strstr(err, "/nonexistent/churn.txt"));
  assert_null(s);
}

/* The example in docs/ parses and replays. */
static void test_trace_example(void **state) {
  (void)state;
  sim_churn_spec sp;
  char err[SIM_CHURN_ERR_MAX];
  assert_int_equal(
      parse("trace:" SC_SOURCE_DIR "/docs/examples/churn-trace.txt", &sp, err), SC_OK);
  sim_churn_sched *s = NULL;
  int rc = sim_churn_sched_new(&s, &sp, 4, 3600 * NS_PER_S, 1, err, sizeof err);
  if (rc != SC_OK) fail_msg("%s", err);
  sim_churn_event ev;
  uint32_t n = 0;
  while (sim_churn_sched_next(s, &ev) == 1)
    n++;
  assert_true(n >= 5);
  sim_churn_sched_del(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_accepts),   cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_parse_garbage),   cmocka_unit_test(test_samplers),
      cmocka_unit_test(test_residual),        cmocka_unit_test(test_sched_none),
      cmocka_unit_test(test_fail_exact),      cmocka_unit_test(test_population),
      cmocka_unit_test(test_polite_fraction), cmocka_unit_test(test_window),
      cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_trace_parse),
      cmocka_unit_test(test_trace_sched),     cmocka_unit_test(test_trace_example),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
