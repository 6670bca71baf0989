/*
 * host.h — one stripecast process: the libev loop, the address table, the
 * peers it hosts (runtime/peer.h), the source's pacing, the receivers'
 * outputs, signals (polite departure, counters on SIGUSR1) and the JSON
 * counters (runtime/stats.c).
 */
#ifndef SC_RUNTIME_HOST_H
#define SC_RUNTIME_HOST_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "cli.h"
#include "encoder.h"
#include "output.h"
#include "peer.h"
#include "ingest.h"
#include "relay.h"
#include "stations.h"
#include "serve.h"
#include "station_source.h"
#include "web.h"

/* Bytes the source reads from its input per tick at most (its read buffer). */
#define RT_SOURCE_READ_MAX (64 * 1024)
#define RT_SOURCE_TICK_S   0.005 /* pacing granularity of the source */
/* After the grace period, how long datagrams held by the impairment layer
 * may take to leave before the process exits anyway. */
#define RT_DRAIN_MAX_S 1.0
/* A --join that has not answered after this long is reported (and tried
 * on), then every RT_JOIN_WARN_EVERY_S. */
#define RT_JOIN_WARN_S       1.0
#define RT_JOIN_WARN_EVERY_S 10.0

enum rt_host_state { RT_RUNNING, RT_DEPARTING, RT_DRAINING, RT_DONE };

typedef struct rt_source {
  int fd;
  bool is_file;     /* a regular file: read at the rate; else what arrives */
  bool joined_seen; /* the source peer finished joining */
  bool started;
  bool eof;
  uint64_t joined_ns, start_ns, eof_ns;
  uint64_t bytes_read;
  uint64_t gen_size; /* d * chunk_bytes: a full generation */
  uint64_t pending;  /* bytes of the generation being filled */
  uint64_t pending_since_ns;
  uint64_t flushes;           /* partial generations cut by --flush-ms or EOF */
  uint64_t write_errors;      /* sc_node_source_write/flush failures */
  rt_station_source *station; /* broadcast: the records' writer */
  rt_ingest *ingest;          /* broadcast --http: the encoders' server */
  bool ingest_began;          /* a session began: the broadcast has started */
  uint64_t ingest_started_ds; /* its start, realtime tenths of a second */
  char mount[SC_HTTP_MOUNT_MAX_BYTES + 1];       /* the station's mount */
  char password[SC_HTTP_PASSWORD_MAX_BYTES + 1]; /* from --source-password-file */
  rt_encoder *enc; /* --input: the built-in encoder, else NULL */
  rt_relay *relay; /* --relay: the relayed stream, else NULL */
} rt_source;

/* A broadcast FILE is read ahead of its container's timestamps by this
 * much media time: the playout it wants, and no more. */
#define RT_SOURCE_LOOKAHEAD_US 1000000
/* Bytes read from a FILE at a time when paced by its timestamps, so the
 * read-ahead overshoots by little. */
#define RT_SOURCE_READ_STEP 4096

typedef struct rt_host {
  struct ev_loop *loop;
  rt_options opt;
  sc_node_config cfg;
  rt_addr_table addrs;
  rt_peer *peers;
  uint32_t npeers;
  uint32_t njoin_next; /* next hosted peer to join */
  rt_output *out;      /* one per peer, with --output or as a listener */
  rt_source src;
  rt_serve *serve;          /* --http: players are served peer 0's station */
  struct rt_status *status; /* status routes, admin, the listener tally */
  char serve_mount[SC_HTTP_MOUNT_MAX_BYTES + 1];
  rt_peer_hooks hooks;
  ev_timer join_timer, grace_timer, drain_timer, stats_timer, source_timer, eof_timer;
  ev_timer end_timer;   /* the broadcast ended: leave (outside core callbacks) */
  ev_timer join_watch;  /* says so while --join does not answer */
  uint64_t join_warned; /* warnings given */
  ev_signal sig_int, sig_term, sig_usr1;
  int state;
  int exit_code;
  uint64_t start_ns;
  uint64_t stats_writes;
  uint64_t drain_deadline_ns;
  rt_web web;           /* the page's rates and continuity samples (web.h) */
  rt_stations stations; /* the broadcaster's announcements, /stations.json */
} rt_host;

/* The exit status of an unusable flag found at start-up (as a usage error). */
#define RT_EXIT_USAGE 2

/* Runs a process as the options say; returns its exit status: 0, 1 (a
 * runtime error) or RT_EXIT_USAGE (a --stats that cannot be written). */
int rt_host_run(const rt_options *opt);

/* Writes the JSON counters of every hosted peer to path ("-": stdout),
 * through a temporary file and a rename so a reader never sees half of it.
 * Returns 0 or -errno. */
int rt_stats_write(rt_host *h, const char *path);
/* Whether rt_stats_write can write path (its temporary file is made and
 * removed; a folder is refused). Returns 0 or -errno. */
int rt_stats_check(const char *path);

#endif
