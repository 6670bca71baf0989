/*
 * node.h — one whole peer: Pastry, Scribe and the SplitStream forest wired
 * together behind the seam of docs/ARCHITECTURE.md §2 (time in, messages in, one expiry,
 * callbacks out). The simulator and the real runtime both drive peers
 * through this type; each layer stays usable (and tested) on its own.
 */
#ifndef SC_NODE_H
#define SC_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "channel.h"
#include "directory.h"
#include "msg.h"
#include "pastry.h"
#include "scribe.h"
#include "splitstream.h"
#include "state.h"
#include "tally.h"

typedef struct sc_node sc_node;

typedef struct sc_node_config {
  sc_pastry_config pastry;
  sc_scribe_config scribe;
  sc_splitstream_config forest;
  sc_id channel; /* the channel whose stripes this peer takes part in */
  /* The stream (core/channel.h). Off: the peer builds the forest only (the
   * forest experiments). On: a receiver, or with stream_source the source,
   * which publishes and does not subscribe. */
  bool stream;
  bool stream_source;
  sc_channel_config stream_cfg;
  /* With the stream: count the station's listeners up stripe 0's tree
   * (core/tally.h; one TALLY a peer a SC_TALLY_PERIOD_NS). Off by default:
   * the simulator's histories stay as they were. */
  bool tally;
  /* The station directory (core/directory.h): this peer lists the stations
   * on the overlay and passes announcements on. Off by default: the
   * simulator's histories stay as they were. */
  bool directory;
  sc_directory_config directory_cfg;
} sc_node_config;

/* Defaults of every layer; channel = hash("stripecast"). */
void sc_node_config_default(sc_node_config *c);

typedef struct sc_node_callbacks {
  void (*send)(void *user, sc_addr to, const sc_msg *msg); /* required */
  /* A routed message of kind SC_ROUTE_LOOKUP / SC_ROUTE_APP ended here. */
  void (*deliver)(void *user, const sc_msg *msg, uint64_t now);
  void (*peer_failed)(void *user, const sc_ref *dead, uint64_t now);
  void (*stripe_data)(void *user, unsigned stripe, const sc_msg_multicast *m,
                      uint64_t now);
  void (*stripe_changed)(void *user, unsigned stripe, bool attached, uint64_t now);
  /* With the stream on, a receiver's bytes in order: generation gen, datalen
   * bytes (data NULL in symbolic mode; valid only during the call). */
  void (*stream_deliver)(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                         uint64_t src_ts_ns, uint64_t now);
  /* A generation missed its deadline and is skipped. Optional. */
  void (*stream_lost)(void *user, uint64_t gen, uint64_t now);
  /* Playout restarted: the generations that follow are a new stream
   * (a later source epoch, or a gap beyond the window). Optional. */
  void (*stream_restarted)(void *user, uint64_t now);
  /* The stream's application state (core/state.h), with the stream on:
   * state_get gives it to a peer that asks, state_got takes the answer of a
   * sc_node_state_fetch (false: refused, ask another; core/state.h). Both
   * NULL: the peer neither asks nor answers. */
  size_t (*state_get)(void *user, uint8_t *buf, size_t cap);
  bool (*state_got)(void *user, const uint8_t *data, size_t len, uint64_t now);
} sc_node_callbacks;

/* Creates the peer; like sc_pastry_new. Returns 0, SC_ERR_INVALID, SC_ERR_NOMEM. */
int sc_node_new(sc_node **out, const sc_ref *self, uint64_t seed,
                const sc_node_config *cfg, const sc_node_callbacks *cb,
                const sc_alloc *alloc, void *user, uint64_t now);
void sc_node_del(sc_node *n);

/* Joins the overlay (sc_pastry_join). */
int sc_node_join(sc_node *n, sc_addr bootstrap, uint64_t now);
/* Subscribes to the channel's stripes (once joined). */
int sc_node_start_forest(sc_node *n, uint64_t now);

/* Hands the peer a message of any layer. Returns 0, SC_ERR_INVALID (counted
 * and dropped) or SC_ERR_NOMEM. */
int sc_node_recv(sc_node *n, const sc_msg *msg, uint64_t now);

/*
 * Hints for a host that knows which peer gets which message next (the
 * simulator's prefetch pipeline over its event queue): start loading what
 * sc_node_recv(n, msg) and sc_node_get_expiry(n) will read. A peer's state
 * is a chain of pointers (node, its layers, their tables), so the hint comes
 * in stages, SC_NODE_PREFETCH_STAGES in all: stage s loads lines found
 * through those stage s - 1 asked for, so a host calls stage 0 a few events
 * ahead and each later stage closer to the message. n itself (its first
 * lines) is the host's to prefetch before stage 0. No effect on behaviour.
 */
#define SC_NODE_PREFETCH_STAGES 3
void sc_node_prefetch(const sc_node *n, const sc_msg *msg, unsigned stage);
/* After the last stage: up to max of the peers that sc_node_recv(n, msg)
 * will forward msg to (a MULTICAST's children), into out, for a host that
 * prefetches its own state of each; their number. */
unsigned sc_node_prefetch_targets(const sc_node *n, const sc_msg *msg, sc_addr *out,
                                  unsigned max);

/* A polite departure (sc_scribe_depart): children are told and re-parent
 * while this peer keeps forwarding; after the host's grace period,
 * sc_node_depart_finish leaves the parents and the host stops the peer. */
int sc_node_depart(sc_node *n, uint64_t now);
void sc_node_depart_finish(sc_node *n, uint64_t now);

/* The source's side of the stream (config.stream_source): appends bytes;
 * each d * chunk_bytes of them become one generation, published at once.
 * flush cuts what is pending into a padded generation (a latency bound the
 * host enforces, or the end of the stream). Returns 0, SC_ERR_INVALID (not a
 * source) or SC_ERR_NOMEM. */
int sc_node_source_write(sc_node *n, const uint8_t *data, size_t datalen, uint64_t now);
int sc_node_source_flush(sc_node *n, uint64_t now);

/* The stream's counters (all zero with the stream off). */
void sc_node_stream_stats(const sc_node *n, sc_channel_stats *out);

/* A receiver that attached mid-stream asks its parents for the stream's
 * state instead of waiting for the source's next repeat (core/state.h).
 * SC_ERR_INVALID without the state callbacks. */
int sc_node_state_fetch(sc_node *n, uint64_t now);
/* The state came otherwise (in the stream): stop asking. */
void sc_node_state_cancel(sc_node *n);
void sc_node_state_stats(const sc_node *n, sc_state_stats *out);

uint64_t sc_node_get_expiry(const sc_node *n);
int sc_node_handle_expiry(sc_node *n, uint64_t now);

sc_pastry *sc_node_pastry(sc_node *n);
sc_scribe *sc_node_scribe(sc_node *n);
sc_splitstream *sc_node_forest(sc_node *n);
const sc_pastry *sc_node_pastry_c(const sc_node *n);
const sc_scribe *sc_node_scribe_c(const sc_node *n);
const sc_splitstream *sc_node_forest_c(const sc_node *n);

size_t sc_node_mem_bytes(const sc_node *n);

/* The station directory, or NULL when config.directory is off. A host
 * announces its station through it (sc_directory_announce) and lists it
 * (sc_directory_list); calls into it count as calls into the peer (re-read
 * the expiry after). */
sc_directory *sc_node_directory(sc_node *n);

/* The listener tally (core/tally.h), on peers with a stream: this peer's
 * own listeners (its players, plus one if it writes the stream out), and
 * the sum so far — at the publisher, the station-wide count from the tally
 * tree's root plus its own. */
void sc_node_tally_set_local(sc_node *n, uint32_t listeners);
uint32_t sc_node_tally_total(const sc_node *n, uint64_t now);

#endif
