/*
 * channel.h — the stream on one peer: the glue between the SplitStream forest
 * (one chunk per stripe per generation) and core/stream (source, receiver),
 * plus the two mechanisms that live between them, sans I/O (docs/ARCHITECTURE.md §2):
 *
 *  - publishing: the source sends chunk i of every generation to the root of
 *    stripe i. Like Scribe §2.2's sources it locates the root by routing to
 *    the stripe id (a ROUTE of kind SC_ROUTE_SCRIBE_ROOT), caches the address
 *    the root answers with (SC_MSG_SCRIBE_ROOT) and sends chunks straight to
 *    it as MULTICAST of depth 0, which the root acknowledges. It locates the
 *    root again every root_refresh_ns, at once when the cached peer answers
 *    that it is not the root, and when two chunks go unacknowledged for
 *    root_ack_timeout_ns (the root is then also probed); unacknowledged
 *    chunks are sent again to the new root. (The acknowledgements are ours:
 *    a chunk sent into a crashed root is in no tree, and no repair or code
 *    can bring it back.)
 *  - repair beyond the trees (the seeds' "missing data is fetched from other
 *    sources"): a generation that cannot be decoded repair_wait_ns after its
 *    chunks were due is asked for, chunk by chunk, from other peers that
 *    receive the stream — this peer's parents in the other stripes first,
 *    then its leaf set — with SC_MSG_REPAIR_REQ; they answer with the chunks
 *    they hold as MULTICAST with repair set. Asks repeat every
 *    repair_retry_ns to the next candidate until the deadline.
 *
 * The owner (core/node.c) hands it stripe data, repair traffic and the
 * expiry; it sends through the node's send callback.
 */
#ifndef SC_CHANNEL_H
#define SC_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "auth.h"
#include "msg.h"
#include "pastry.h"
#include "scribe.h"
#include "splitstream.h"
#include "stream.h"

/* Chunks a source holds per stripe until the root acknowledges them. A dead
 * root is suspected after root_ack_timeout_ns (1 s) and a new one located
 * after a probe and a routed locate; every chunk sent meanwhile must still be
 * held then, or it never enters any tree. 128 generations are 4.2 s of a
 * 3 Mbit/s stream (12 KB generations); 2.3 MB a source at 16 x 1 KB. */
#define SC_CHANNEL_PENDING_MAX 128
/* Hosts send a repair answer (MULTICAST with repair set) only from an uplink
 * holding at most this much work, and shed it otherwise: repair is a
 * scavenger class that never queues ahead of the trees' chunks, and the
 * asker asks another peer (bench/RESULTS.md, "Catch-up and repair as a
 * scavenger class"). The core sends; the simulator (sim/world.c) and the
 * runtime (runtime/peer.c) apply it. */
#define SC_REPAIR_SHED_BACKLOG_NS (250ull * 1000000ull)

/* Generations whose repair asks a receiver tracks at once (a ring). */
#define SC_CHANNEL_REPAIR_SLOTS 64

typedef struct sc_channel_config {
  sc_stream_config stream; /* d + p must equal the forest's stripes */
  bool repair;             /* pull missing chunks (default true) */
  /* On finding a parent in a stripe, ask it at once for the chunks missed
   * (sc_channel_on_attach; default true, needs repair). */
  bool catchup;
  /* A generation's chunks are due when its first chunk's delay says so
   * (deadline - buffer); ask once they are this late. Default 400 ms. */
  uint64_t repair_wait_ns;
  /* The same wait while nothing has played yet (0: repair_wait_ns, the
   * default). A listener that attached while a generation was in flight
   * misses its first chunks for good; the runtime asks for them after 50 ms,
   * so the first generation plays without a 400 ms pause. */
  uint64_t repair_wait_start_ns;
  /* A listener that attaches mid-stream asks each stripe's new parent, at
   * once, for that stripe's chunks of the parent's backfill_gens newest
   * generations (at most SC_BACKFILL_MAX; default 0: off, the simulator's).
   * Its playout then starts a generation or two back, at a record the
   * generations before the live one hold whole, instead of waiting for the
   * next one the source cuts and, in it, for a record that starts there
   * (an Ogg page can span two generations): Icecast's burst on connect,
   * served by the tree. A parent without the stream (the broadcaster)
   * answers nothing; the code covers up to p silent parents. */
  uint32_t backfill_gens;
  uint64_t repair_retry_ns; /* between two asks for one generation; default 300 ms */
  uint32_t repair_ask_max;  /* asks for one generation; default 32 */
  uint64_t root_refresh_ns; /* source: re-locate stripe roots; default 1 s */
  /* The data is the tree's heartbeat: a stripe silent this long while others
   * bring newer generations has its parent probed (sc_pastry_probe), which
   * declares it dead in seconds instead of Scribe's heartbeat minutes.
   * Default 1 s; 0: off. */
  uint64_t stall_ns;
  uint64_t probe_timeout_ns; /* per probe of a stalled parent; default 500 ms */
  /* Source: a root that acknowledges none of two chunks sent this long ago
   * is suspected; default 1 s. */
  uint64_t root_ack_timeout_ns;
  /* The signed stream (core/auth.h; docs/ARCHITECTURE.md §3, "Signed
   * stream"); default off. A source signs every generation with auth_sk;
   * a receiver verifies every chunk against auth_pk before it plays or
   * forwards it when it can (channel.c), and a chunk carries its manifest
   * piece and a verified flag behind its payload (len = chunk_bytes +
   * sc_auth_piece_bytes(d, p) + 1). Needs real payload
   * (not symbolic). The host calls sodium_init() first. */
  bool auth;
  uint8_t auth_pk[SC_AUTH_PK_BYTES];
  uint8_t auth_sk[SC_AUTH_SK_BYTES]; /* a source's; unused by a receiver */
} sc_channel_config;

/* A parent that sent a forged or replayed chunk is replaced at most this
 * often a stripe (each search takes a while to find one). */
#define SC_CHANNEL_BLAME_GAP_NS 1000000000ull
/* Forged chunks in a row that a parent may forward marked unverified
 * before it is replaced (an honest parent below a forger stops after one
 * or two: it replaces its own parent once its manifest is known). */
#define SC_CHANNEL_UNVERIFIED_MAX 8

void sc_channel_config_default(sc_channel_config *c);

typedef struct sc_channel_stats {
  sc_stream_stats stream; /* the receiver's (zero for a source) */
  /* Source. */
  uint64_t chunks_published;
  uint64_t publishes_routed;       /* chunks sent by routing (root unknown or refresh) */
  uint64_t root_changes;           /* a stripe's cached root replaced */
  uint64_t roots_suspected;        /* roots that stopped acknowledging */
  uint64_t chunks_resent;          /* unacknowledged chunks sent to a new root */
  uint64_t chunks_unacked_dropped; /* pushed out of the unacknowledged window */
  /* Repair, asking side. */
  uint64_t repair_asks; /* REPAIR_REQ sent */
  uint64_t repair_chunks_asked;
  uint64_t repair_chunks_got; /* repair answers that were new chunks */
  /* Repair, answering side. */
  uint64_t repair_reqs_served;
  uint64_t repair_chunks_sent;
  uint64_t repair_reqs_unknown; /* for a generation this peer does not hold */
  /* Catch-up: on finding a parent, the chunks of that stripe missed while
   * without one, asked of the parent (one REPAIR_REQ per generation). */
  uint64_t catchup_asks;
  uint64_t backfill_asks; /* REPAIR_REQs with back > 0 sent to new parents */
  /* Generations played before the first one that came down a stripe: what
   * the backfill bought (0 when playout began with the stripes' own). */
  uint64_t backfilled_gens;
  /* Chunks on stripes (not repairs) handed to the receiver. */
  uint64_t stripe_chunks;
  uint64_t restarts;        /* playout restarted after a gap beyond the window */
  uint64_t parent_probes;   /* stalled stripes' parents probed */
  uint64_t parent_switches; /* stalled stripes whose live parent was replaced */
  uint64_t msgs_invalid;    /* malformed channel messages dropped */
  /* The signed stream: the verifier's counters (chunks good, forged,
   * replayed, ...; zero when off) and the parents replaced for sending a
   * forged or replayed chunk down a stripe. */
  sc_auth_stats auth;
  uint64_t auth_parent_switches;
  uint64_t auth_unsigned_served; /* repair asks for chunks whose manifest is gone */
  uint64_t auth_staged_asks;     /* REPAIR_REQs for generations still unverified */
} sc_channel_stats;

typedef struct sc_channel sc_channel;

/* What the channel uses of its peer (all required but lost). */
typedef struct sc_channel_host {
  sc_pastry *pastry;
  sc_scribe *scribe;
  sc_splitstream *forest;
  void (*send)(void *user, sc_addr to, const sc_msg *msg);
  void (*deliver)(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                  uint64_t src_ts_ns, uint64_t now);
  void (*lost)(void *user, uint64_t gen, uint64_t now);
  void (*restarted)(void *user, uint64_t now); /* optional */
  void *user;
} sc_channel_host;

/*
 * Creates the stream of channel on one peer: a source (publishes, holds no
 * receiver) or a receiver. cfg->stream's d + p must equal the forest's
 * stripes. alloc NULL is libc. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM.
 */
int sc_channel_new(sc_channel **out, const sc_channel_config *cfg, bool source,
                   const sc_id *channel, const sc_channel_host *host,
                   const sc_alloc *alloc);
void sc_channel_del(sc_channel *c);

/* Source: see sc_node_source_write / sc_node_source_flush. */
int sc_channel_source_write(sc_channel *c, const uint8_t *data, size_t datalen,
                            uint64_t now);
int sc_channel_source_flush(sc_channel *c, uint64_t now);

/* Receiver: the peer subscribed at join_ns (for the start-up statistics). */
/* This peer found a (new) parent in stripe: ask it at once for the stripe's
 * chunks of the generations still waiting (the catch-up). */
void sc_channel_on_attach(sc_channel *c, unsigned stripe, uint64_t now);
void sc_channel_set_join_time(sc_channel *c, uint64_t join_ns);
/* A chunk that came down stripe `stripe`'s tree. */
void sc_channel_on_stripe(sc_channel *c, unsigned stripe, const sc_msg_multicast *m,
                          uint64_t now);
/* True when the channel verifies its stripes' chunks (cfg.auth, a
 * receiver): it then forwards them itself once verified, and Scribe must
 * not (the node's hold policy). */
bool sc_channel_verifies(const sc_channel *c);
/* True for the messages the channel handles: REPAIR_REQ, MULTICAST with
 * repair set, SCRIBE_ROOT. */
bool sc_channel_handles(const sc_msg *msg);

/* Completes *id, a group named by its first 64 bits (core/wire.h), from
 * the channel's stripes: a source need not be in its stripes' trees. */
bool sc_channel_group_complete(const sc_channel *c, sc_id *id);
/* Handles one of those. Returns 0 or SC_ERR_INVALID (counted, dropped). */
int sc_channel_recv(sc_channel *c, const sc_msg *msg, uint64_t now);

uint64_t sc_channel_get_expiry(const sc_channel *c);

/* Hints for a host that knows which peer gets which message next (the
 * simulator's prefetch pipeline), each once the lines the one before asked
 * for are in cache; no effect on behaviour: the channel's lines that a
 * chunk and the expiry read; its receiver's; for a chunk (a MULTICAST) of
 * `stripe` (-1: unknown), the slots of its generation and of the next one
 * to play and the stripe's counter. */
void sc_channel_prefetch(const sc_channel *c);
void sc_channel_prefetch_rx(const sc_channel *c);
void sc_channel_prefetch_chunk(const sc_channel *c, const sc_msg *m, int stripe);
void sc_channel_handle_expiry(sc_channel *c, uint64_t now);

void sc_channel_get_stats(const sc_channel *c, sc_channel_stats *out);
size_t sc_channel_mem_bytes(const sc_channel *c);

#endif
