/*
 * churn.h — the simulator's churn models (docs/ARCHITECTURE.md §4): session-length
 * samplers and a deterministic schedule of membership events, made from a
 * parsed `--churn SPEC` (sim/churn_spec.h).
 *
 * A spec names a session model (exponential, Weibull or Pareto session
 * lengths with Poisson arrivals), a trace file to replay, catastrophic
 * failures of a fraction of the online peers at given times, or a mix
 * (docs/churn.md has the grammar, the semantics and worked examples).
 *
 *   sim_churn_spec spec;
 *   char err[SIM_CHURN_ERR_MAX];
 *   if (sim_churn_parse(arg, &spec, err, sizeof err) != SC_OK) { ... err ... }
 *   sim_churn_sched *s;
 *   if (sim_churn_sched_new(&s, &spec, peers, duration_ns, seed, err, sizeof err) ...
 *   sim_churn_event ev;
 *   while (sim_churn_sched_next(s, &ev) == 1) { ... ev.t_ns, ev.kind, ev.peer ... }
 *   sim_churn_sched_del(s);
 *
 * Peers 0..N-1 are online at t = 0 and peer 0, the source, never leaves.
 * Every arrival gets a fresh index (N, N+1, ...), so an index names one
 * session and is never reused. The schedule is a pure function of (spec,
 * N, duration, seed, trace contents); it allocates, but only in proportion
 * to the peers ever online (one heap entry per pending departure).
 */
#ifndef SIM_CHURN_H
#define SIM_CHURN_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "sim/churn_spec.h"

typedef struct sim_churn_event {
  uint64_t t_ns;
  uint32_t peer;
  uint32_t kind; /* sim_churn_kind */
} sim_churn_event;

/* The expected session length of d in seconds (+inf for kind NONE). */
double sim_session_mean_s(const sim_session *d);

/* Samplers, by inversion unless noted, from r's stream; results in the unit
 * of their parameters. All assert positive finite parameters. */
double sim_churn_exp_sample(sc_rng *r, double mean);
double sim_churn_weibull_sample(sc_rng *r, double scale, double shape);
double sim_churn_pareto_sample(sc_rng *r, double xm, double alpha);
/* Gamma(shape, 1) by Marsaglia & Tsang (2000), with the U^(1/a) boost for
 * shape < 1. */
double sim_churn_gamma_sample(sc_rng *r, double shape);

/* One session length of d, and one residual (remaining) session length as
 * seen at a random moment of a stationary system: density (1 - F(x)) /
 * E[S]. The initial peers draw the latter so that t = 0 looks like any
 * other moment (docs/churn.md, "A stationary start"). */
double sim_session_sample(const sim_session *d, sc_rng *r);
double sim_session_residual_sample(const sim_session *d, sc_rng *r);

typedef struct sim_churn_sched sim_churn_sched;

/* Creates the schedule of spec for `peers` initial peers (>= 1; peer 0 is
 * the source) over [0, duration_ns]; reads spec->trace_path if set and
 * checks that the trace is consistent (see docs/churn.md). On failure
 * writes one line to err ("FILE:LINE: ..." for trace errors). Errors:
 * SC_ERR_INVALID (bad arguments, a bad trace, or an unreadable file),
 * SC_ERR_TOO_LARGE (a trace beyond the bounds above), SC_ERR_NOMEM. */
int sim_churn_sched_new(sim_churn_sched **out, const sim_churn_spec *spec, uint32_t peers,
                        uint64_t duration_ns, uint64_t seed, char *err, size_t errlen);
void sim_churn_sched_del(sim_churn_sched *s);

/* The next event in time order (ties: trace, then failures, then
 * departures, then arrivals; a failure's crashes by peer index). Returns 1
 * with *ev filled, 0 when no event is left at or before duration_ns, or
 * SC_ERR_NOMEM / SC_ERR_TOO_LARGE (more than SIM_CHURN_PEERS_MAX peers);
 * after an error the schedule can no longer be used. */
int sim_churn_sched_next(sim_churn_sched *s, sim_churn_event *ev);

/* The time of the event the next call returns, or UINT64_MAX if none;
 * lets a driver keep one engine event for the whole schedule. */
uint64_t sim_churn_sched_peek_ns(sim_churn_sched *s);

/* Peers online now (after the events returned so far), source included. */
uint32_t sim_churn_sched_online(const sim_churn_sched *s);
/* Indices handed out so far: every event's peer is below this. */
uint32_t sim_churn_sched_peers_total(const sim_churn_sched *s);
/* Trace events dropped because a failure had already crashed their peer. */
uint64_t sim_churn_sched_trace_skipped(const sim_churn_sched *s);

#endif
