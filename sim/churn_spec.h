/*
 * churn_spec.h — what a `--churn SPEC` says: the parser of the spec and of
 * trace files (docs/churn.md has the grammar). No I/O but
 * sim_churn_trace_read; sim/churn.h turns a spec into events.
 */
#ifndef SIM_CHURN_SPEC_H
#define SIM_CHURN_SPEC_H

#include <stddef.h>
#include <stdint.h>

/* Bounds. A spec is one command-line word; a trace is read whole. */
#define SIM_CHURN_SPEC_MAX         4096u /* bytes of a spec string */
#define SIM_CHURN_FAILS_MAX        16u   /* fail: items in one spec */
#define SIM_CHURN_ERR_MAX          256u /* error buffer; longer quotes of input are cut */
#define SIM_CHURN_TRACE_BYTES_MAX  (256u << 20) /* a trace file's size */
#define SIM_CHURN_TRACE_EVENTS_MAX (16u << 20)  /* a trace's event lines */
#define SIM_CHURN_TIME_S_MAX       1e9          /* any time or session parameter, s */
#define SIM_CHURN_PEERS_MAX        (UINT32_MAX - 1u) /* indices ever handed out */

/* Printable summary of the grammar, for a command's --help. */
#define SIM_CHURN_USAGE                                                                  \
  "--churn SPEC: membership churn; SPEC is 'none' or items joined by '+' or ',':\n"      \
  "  fail:F@T                 F (25% or 0.25) of the online peers other than the\n"      \
  "                           source crash at time T (units s, ms, min, h)\n"            \
  "  exp:mean=T               sessions exponential with mean T\n"                        \
  "  weibull:median=T,shape=K sessions Weibull with median T and shape K\n"              \
  "  pareto:median=T,alpha=A  sessions Pareto (or xm=T instead of median), A > 1\n"      \
  "    session options: polite=P (share of polite leaves, default 0.1),\n"               \
  "    start=T, until=T (churn only inside [start, until))\n"                            \
  "  trace:FILE               replay FILE ('time join|leave|crash peer' per line);\n"    \
  "                           must be the last item\n"                                   \
  "  e.g. weibull:median=10min,shape=0.5,polite=0.1+fail:25%@600s\n"

typedef enum {
  SIM_CHURN_JOIN = 1,         /* a new peer comes online */
  SIM_CHURN_LEAVE_POLITE = 2, /* a peer says goodbye and goes */
  SIM_CHURN_CRASH = 3,        /* a peer stops without a word */
} sim_churn_kind;

typedef enum {
  SIM_SESSION_NONE = 0,
  SIM_SESSION_EXP,
  SIM_SESSION_WEIBULL,
  SIM_SESSION_PARETO,
} sim_session_kind;

/* A session-length distribution, in seconds. Filled by sim_churn_parse;
 * the derived parameters are what the samplers take. */
typedef struct sim_session {
  sim_session_kind kind;
  double mean_s;  /* EXP: the mean */
  double scale_s; /* WEIBULL: λ, from median = λ (ln 2)^(1/shape) */
  double shape;   /* WEIBULL: k */
  double xm_s;    /* PARETO: the minimum, from median = xm 2^(1/alpha) */
  double alpha;   /* PARETO: > 1, so that the mean is finite */
} sim_session;

typedef struct sim_churn_fail {
  uint64_t t_ns;
  double fraction; /* of the online peers other than the source, [0, 1] */
} sim_churn_fail;

typedef struct sim_churn_spec {
  sim_session session; /* kind NONE: no arrivals, no departures */
  double polite;       /* P(a session's end is polite), [0, 1] */
  uint64_t start_ns;   /* session churn only inside [start_ns, until_ns) */
  uint64_t until_ns;   /* UINT64_MAX: no end */
  uint32_t nfail;
  sim_churn_fail fail[SIM_CHURN_FAILS_MAX]; /* in spec order */
  char trace_path[SIM_CHURN_SPEC_MAX];      /* "" unless trace: */
} sim_churn_spec;

/* Parses a --churn SPEC (the grammar is SIM_CHURN_USAGE and docs/churn.md).
 * Does no I/O: a trace file is read by sim_churn_sched_new. On failure
 * writes one line to err (no trailing newline; always NUL-terminated when
 * errlen > 0) naming the bad part and what is accepted, and leaves *out
 * unspecified. Errors: SC_ERR_INVALID (s or out NULL, or a bad spec),
 * SC_ERR_TOO_LARGE (longer than SIM_CHURN_SPEC_MAX). */
int sim_churn_parse(const char *s, sim_churn_spec *out, char *err, size_t errlen);

/* Writes a printf-style message into err (when err and errlen allow; any
 * byte outside printable ASCII becomes '?', since messages quote input) and
 * returns code: the one error path of the churn modules. */
int sim_churn_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Weibull's scale for a median, and Pareto's xm for a median. */
double sim_churn_weibull_scale(double median, double shape);
double sim_churn_pareto_xm(double median, double alpha);

/* One line of a trace file: the peer is the trace's own label. */
typedef struct sim_churn_trace_event {
  uint64_t t_ns;
  uint32_t label;
  uint32_t kind; /* sim_churn_kind */
  uint32_t line; /* 1-based, for messages */
} sim_churn_trace_event;

/* Trace parsing on its own, for tests and tools: parses data (datalen
 * bytes; need not be NUL-terminated) named `name` in messages, into a
 * malloc'd array (the caller frees it) sorted by time, ties in line order.
 * *out is NULL when there are no events. Checks each line, not whether the
 * events make sense together (sim_churn_sched_new does that). Errors:
 * SC_ERR_INVALID (a bad line: "NAME:LINE: ..." in err), SC_ERR_TOO_LARGE
 * (over SIM_CHURN_TRACE_BYTES_MAX or SIM_CHURN_TRACE_EVENTS_MAX),
 * SC_ERR_NOMEM. */
int sim_churn_trace_parse(const char *data, size_t datalen, const char *name,
                          sim_churn_trace_event **out, size_t *nout, char *err,
                          size_t errlen);

/* Reads the trace file at path (at most SIM_CHURN_TRACE_BYTES_MAX bytes)
 * and parses it as sim_churn_trace_parse does, naming path in messages.
 * Errors: as sim_churn_trace_parse, and SC_ERR_INVALID for a file that
 * cannot be opened or read ("trace: cannot open 'PATH': ..."). */
int sim_churn_trace_read(const char *path, sim_churn_trace_event **out, size_t *nout,
                         char *err, size_t errlen);

#endif
