/*
 * world.h — a population of peers over a network model, driven by the event
 * engine: the simulator side of docs/ARCHITECTURE.md §2's seam for every
 * experiment. A world's peers are of one kind: whole peers (core/node.h:
 * Pastry, Scribe, SplitStream, the stream), or bare Pastry peers
 * (core/pastry.h) for the overlay experiment.
 *
 * The world owns the peers, the messages in flight (a size-classed pool: a
 * message is copied with only the bytes its type uses) and one timer per
 * peer. Experiments add their own events (kinds from SIM_WORLD_EV_USER) and
 * observe peers through hooks.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/node.h"
#include "core/pastry.h"
#include "core/rng.h"
#include "sim/engine.h"
#include "sim/netmodel.h"
#include "sim/stats.h"
#include "sim/uplink.h"

#define SIM_WORLD_ADDR_BYTES 6 /* an IPv4 address and port on the wire */

enum {
  SIM_WORLD_EV_MSG = SIM_EV_USER,
  SIM_WORLD_EV_USER, /* experiments' kinds start here */
};

typedef struct sim_world sim_world;

typedef enum sim_world_kind {
  SIM_WORLD_NODES = 0, /* whole peers (sc_node) */
  SIM_WORLD_PASTRY,    /* bare Pastry peers (sc_pastry), configured by node.pastry */
} sim_world_kind;

typedef struct sim_world_hooks {
  /* Every message a live peer sends, before loss (for counting). Optional. */
  void (*sent)(void *ctx, uint32_t from, uint32_t to, const sc_msg *m);
  /* A partition (the fault sweep): true drops the message from `from` to
   * `to`, counted in messages_cut. Asked after `sent`, before loss; draws no
   * random numbers, so a run without partitions keeps its history. Optional. */
  bool (*cut)(void *ctx, uint32_t from, uint32_t to, uint64_t now);
  /* Every message handed to a live peer. Optional. */
  void (*received)(void *ctx, uint32_t to, const sc_msg *m);
  void (*stripe_data)(void *ctx, uint32_t peer, unsigned stripe,
                      const sc_msg_multicast *m, uint64_t now);
  void (*stripe_changed)(void *ctx, uint32_t peer, unsigned stripe, bool attached,
                         uint64_t now);
  void (*deliver)(void *ctx, uint32_t peer, const sc_msg *m, uint64_t now);
  /* Peer `peer` declared another dead (Pastry's failure detector). Optional. */
  void (*peer_failed)(void *ctx, uint32_t peer, const sc_ref *dead, uint64_t now);
  /* The stream (node config .stream): a generation played or skipped. */
  void (*stream_deliver)(void *ctx, uint32_t peer, uint64_t gen, const uint8_t *data,
                         size_t datalen, uint64_t src_ts_ns, uint64_t now);
  void (*stream_lost)(void *ctx, uint32_t peer, uint64_t gen, uint64_t now);
  /* A hint: a message for `peer` comes within a few events; prefetch the
   * experiment's own state of it. Optional; must change nothing. */
  void (*prefetch)(void *ctx, uint32_t peer);
  /* An event of an experiment's own kind. Required if any are scheduled. */
  void (*event)(void *ctx, const sim_event *ev);
} sim_world_hooks;

typedef struct sim_world_config {
  sim_world_kind kind;
  uint32_t peers; /* peer indices 0 .. peers-1 */
  uint64_t seed;
  double loss;         /* probability that any message is lost, [0, 1) */
  bool wire_check;     /* every message through encode and decode */
  sc_node_config node; /* the defaults every peer starts from */
  /* Every peer's upstream link (sim/uplink.h): a FIFO at uplink.rate_bps
   * that a message waits in before its propagation delay; rate 0: none. */
  sim_uplink_cfg uplink;
  /* Per-peer rates overriding uplink.rate_bps (bits/s, 0: unlimited), with
   * the queue bounded by uplink.queue_delay_max_ns only; NULL: everyone has
   * uplink. Borrowed, `peers` entries. */
  const uint64_t *uplink_rate_bps;
  /* Forging peers (a test of the signed stream, core/auth.h): a non-zero
   * entry alters one payload byte of every stream chunk that peer forwards
   * or sends as a repair answer. NULL: none. Borrowed, `peers` entries. */
  const uint8_t *forgers;
  /* Address space reserved a peer beyond its kind's (an experiment whose
   * peers keep more state, such as a station directory); 0: none. */
  size_t arena_extra_peer_bytes;
} sim_world_config;

/* Peer i's overlay id in a run with this seed: a pure function of both, the
 * same in every experiment. */
sc_id sim_peer_id(uint64_t seed, uint32_t i);

/* cfg for `peers` peers of `kind` from seed, with the kind's default peer
 * config (sc_node_config_default, or sc_pastry_config_default in
 * node.pastry), no loss, no wire check and no uplinks. */
void sim_world_config_init(sim_world_config *cfg, sim_world_kind kind, uint32_t peers,
                           uint64_t seed);

/* Creates the world over net (borrowed; placed peers only). Returns 0 or -1. */
int sim_world_new(sim_world **out, const sim_world_config *cfg, sim_net *net,
                  const sim_world_hooks *hooks, void *ctx);
void sim_world_del(sim_world *w);

/* Creates peer i with cfg (NULL: the world's node config) and places it. Its
 * id is a pure function of (seed, i). Returns 0 or a negative error. */
int sim_world_add(sim_world *w, uint32_t i, const sc_node_config *cfg);
/* The overlay's default arrival rate for n peers (per second): n/100 within
 * [10, 2000], or `rate` itself when positive (a --join-rate flag). */
double sim_world_join_rate(uint32_t n, double rate);
/* Peer i joins the overlay through a nearby joined peer (nearest of a sample;
 * Pastry §2.4), or alone when none is joined. */
int sim_world_join(sim_world *w, uint32_t i);
/* Peer i crashes: no goodbye; messages to it vanish. */
void sim_world_crash(sim_world *w, uint32_t i);
/* Frees a crashed (or departed) peer's state; its index stays dead. */
void sim_world_retire(sim_world *w, uint32_t i);
/* Re-reads peer i's expiry after the experiment touched it directly. */
void sim_world_rearm(sim_world *w, uint32_t i);

/* Schedules an event of the experiment's (kind >= SIM_WORLD_EV_USER); when
 * that fails (out of memory) the world fails: sim_world_run returns -1. */
void sim_world_schedule(sim_world *w, uint64_t t_ns, uint32_t kind, uint32_t arg);

/* Runs events until the queue is empty or the clock would pass until_ns.
 * Returns 0, or -1 on an internal failure (out of memory). */
int sim_world_run(sim_world *w, uint64_t until_ns);
/* Runs the experiment to its end: one simulated second at a time while
 * more(ctx) says so and events remain, calling progress(ctx, false) after
 * each second and progress(ctx, true) at the end (progress may be NULL).
 * Returns 0, or -1 on an internal failure. */
int sim_world_run_all(sim_world *w, bool (*more)(void *ctx),
                      void (*progress)(void *ctx, bool final), void *ctx);
/* The numbers a progress line of a run reports. */
typedef struct sim_world_progress {
  double wall_s;       /* wall-clock seconds since the run started */
  double sim_s;        /* the simulated clock */
  double events_per_s; /* events per wall-clock second so far */
  uint64_t events;     /* events processed */
} sim_world_progress;
/* Paces a run's progress lines as sim_progress_due does (one every
 * interval_s of wall time, or when forced) and fills *pg for the line;
 * false when none is due. wall_start is sim_wall_s at the run's start. */
bool sim_world_progress_due(sim_world *w, double wall_start, double *wall_last,
                            double interval_s, bool force, sim_world_progress *pg);
/* Changes the loss probability from now on (the fault sweep's loss stops
 * before its quiet end). */
void sim_world_set_loss(sim_world *w, double loss);
/* Stops sim_world_run after the current event. */
void sim_world_stop(sim_world *w);

sim_engine *sim_world_engine(sim_world *w);
uint64_t sim_world_now(const sim_world *w);
sc_node *sim_world_node(sim_world *w, uint32_t i); /* NULL if never added */
/* Peer i's Pastry layer (the whole of a bare Pastry peer); NULL if none. */
sc_pastry *sim_world_pastry(sim_world *w, uint32_t i);
/* The world's random stream (bootstrap samples, losses): an experiment that
 * draws from it too interleaves its draws with the world's. */
sc_rng *sim_world_rng(sim_world *w);
bool sim_world_alive(const sim_world *w, uint32_t i);
const sc_id *sim_world_id(const sim_world *w, uint32_t i);
uint32_t sim_world_peers(const sim_world *w);
uint32_t sim_world_joined(const sim_world *w);

typedef struct sim_world_counters {
  uint64_t messages, messages_lost, bytes, wire_errors;
  uint64_t uplink_drops; /* tail drops at a full upstream queue */
  uint64_t repair_shed;  /* repair answers not sent: the uplink was busy */
  uint64_t messages_cut; /* dropped by a partition (hooks.cut) */
  uint64_t by_type[SC_MSG_TYPE_END];
  uint64_t bytes_by_type[SC_MSG_TYPE_END];
  uint64_t payload_bytes; /* stream chunks' payload bytes within `bytes` */
  uint64_t forged_sent;   /* chunks the forgers altered */
} sim_world_counters;
const sim_world_counters *sim_world_counters_get(const sim_world *w);
/* A hash of the event history: equal for runs that did the same things. */
uint64_t sim_world_digest(const sim_world *w);
/* Events so far, their hash, and the clock. */
sim_run_stats sim_world_run_stats(const sim_world *w);

#endif
