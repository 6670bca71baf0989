/*
 * churn.c — session samplers and the membership schedule (see churn.h;
 * docs/churn.md for the reasoning).
 */
#include "sim/churn.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Domain separation of the random streams derived from the run seed, so
 * that e.g. adding a fail: item does not change anyone's session length. */
#define SESSION_TAG 0x73657373696f6e73ULL /* "sessions" */
#define ARRIVE_TAG  0x6172726976616c73ULL /* "arrivals" */
#define FAIL_TAG    0x6661696c75726573ULL /* "failures" */

#define NONE UINT32_MAX

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
  int rc = sim_churn_trace_read(path, &s->trace, &s->ntrace, err, errlen);
  if (rc != SC_OK) return rc;
  if (s->ntrace == 0) return SC_OK;
  s->labels = malloc(s->ntrace * sizeof *s->labels);
  s->label_peer = malloc(s->ntrace * sizeof *s->label_peer);
  if (!s->labels || !s->label_peer)
    return sim_churn_err(err, errlen, SC_ERR_NOMEM, "trace: out of memory");
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
      return sim_churn_err(
          err, errlen, SC_ERR_INVALID,
          "%s:%u: join of peer %u, which is already online (peers 0..%u are "
          "online from t=0; new peers need labels from %u up)",
          path, e->line, e->label, s->peers0 - 1, s->peers0);
    if (e->kind != SIM_CHURN_JOIN && e->label == 0)
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
                           "%s:%u: peer 0 is the source, which never leaves", path,
                           e->line);
    if (e->kind != SIM_CHURN_JOIN && !on)
      return sim_churn_err(err, errlen, SC_ERR_INVALID,
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
    return sim_churn_err(err, errlen, SC_ERR_INVALID, "churn: bad arguments");
  *out = NULL;
  sim_churn_sched *s = calloc(1, sizeof *s);
  if (!s) return sim_churn_err(err, errlen, SC_ERR_NOMEM, "churn: out of memory");
  s->spec = *spec;
  s->spec.trace_path[SIM_CHURN_SPEC_MAX - 1] = '\0';
  s->peers0 = peers;
  s->duration_ns = duration_ns;
  s->seed = seed;
  s->peers_total = peers;
  s->next_arrival_ns = UINT64_MAX;
  int rc = churn_grow_peers(s, peers);
  if (rc != SC_OK) {
    sim_churn_err(err, errlen, rc, "churn: out of memory");
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
        sim_churn_err(err, errlen, rc, "churn: out of memory");
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
  if (want > 1) qsort(s->batch, want, sizeof *s->batch, churn_u32_cmp);
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
