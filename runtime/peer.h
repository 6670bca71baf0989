/*
 * peer.h — one real peer: an sc_node behind a UDP socket in a libev loop
 * (docs/ARCHITECTURE.md §5). The runtime side of the seam of docs/ARCHITECTURE.md §2:
 *
 *  - time: every call into the core gets CLOCK_MONOTONIC in ns (rt_now_ns);
 *  - one expiry: one ev_timer, re-armed after every call into the core to
 *    sc_node_get_expiry(), fires sc_node_handle_expiry();
 *  - output: the core's send callback encodes (core/wire.h: version byte +
 *    protobuf Envelope) and sends, through the impairment layer (impair.h)
 *    when one is configured, which then has a second timer;
 *  - input: each datagram is read into a buffer one byte larger than
 *    SC_WIRE_DATAGRAM_MAX (so an oversized one is seen as such), its length
 *    checked, decoded into the decoder's bounded stack arena, its sender
 *    checked against the UDP source address, and handed to sc_node_recv.
 *    Nothing from the network asserts: every rejected datagram is counted
 *    by reason (rt_counters) and dropped.
 *
 * Addresses: the process's rt_addr_table (addr.h) maps sc_addr <-> IPv4:port.
 * The peer starts the forest (sc_node_start_forest) as soon as Pastry says
 * it has joined.
 */
#ifndef SC_RUNTIME_PEER_H
#define SC_RUNTIME_PEER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "core/guard.h"
#include "core/node.h"
#include "impair.h"
#include "portmap.h"
#include "traverse.h"

/* rt_peer_open: a system call failed; errno is in rt_peer.sys_errno. */
#define RT_ERR_SYS (-100)

/* Datagrams read per readiness callback before giving other peers of the
 * process a turn (fairness when one process hosts hundreds of peers). */
#define RT_PEER_RX_BURST 64
/* Socket buffers asked of the kernel: a generation's burst of chunks to
 * every child fits with room to spare. */
#define RT_PEER_SOCKBUF_BYTES (1 << 20)
/* Addresses of one received message remembered for NAT traversal (a ROW
 * names up to 16, a LEAFSET 16 and a few more); those beyond are not. */
#define RT_PEER_NAMED_MAX 48
/* Latency histogram: 1 ms bins up to this, then one overflow bin. */
#define RT_LAT_BINS_MS 4096

/* What a sent datagram carried (rt_peer_tx_class): its message type, a ROUTE
 * by its kind instead, a MULTICAST that answers a repair apart from one
 * down a tree (or to a stripe's root), so that a peer's upload can be
 * broken down by what it is for (docs/runtime.md, "Counters"). */
#define RT_TX_REPAIR_CHUNK SC_MSG_TYPE_END       /* MULTICAST, repair set */
#define RT_TX_ROUTE_BASE   (SC_MSG_TYPE_END + 1) /* + enum sc_route_kind */
#define RT_TX_TRAVERSAL    (RT_TX_ROUTE_BASE + SC_ROUTE_KIND_END) /* traverse.h's */
#define RT_TX_CLASSES      (RT_TX_TRAVERSAL + 1)

typedef struct rt_counters {
  uint64_t dgrams_in, bytes_in;   /* every datagram read, valid or not */
  uint64_t dgrams_out, bytes_out; /* handed to the socket */
  /* dgrams_out and bytes_out by rt_peer_tx_class (UDP payload bytes; with
   * impairment, counted when handed to the uplink queue). */
  uint64_t tx_dgrams[RT_TX_CLASSES], tx_bytes[RT_TX_CLASSES];
  /* Receive drops, by reason. */
  uint64_t rx_too_large; /* longer than SC_WIRE_DATAGRAM_MAX */
  uint64_t rx_truncated; /* shorter than the smallest datagram */
  uint64_t rx_version;   /* unknown version byte */
  uint64_t rx_malformed; /* did not decode (protobuf, bounds, ids) */
  uint64_t rx_addr_full; /* named an address the full table cannot take */
  uint64_t rx_spoofed;   /* sender address differs from the UDP source */
  uint64_t rx_rejected;  /* decoded, but the core refused it */
  uint64_t rx_not_ipv4;  /* from something other than an IPv4 socket */
  uint64_t rx_limited;   /* requests over their sender's budget (core/guard.h) */
  uint64_t rx_ignored;   /* from a sender ignored for its garbage (core/guard.h) */
  uint64_t rx_errors;    /* recvfrom errors other than EAGAIN */
  /* Send drops, by reason. */
  uint64_t tx_encode_err;   /* the message did not encode */
  uint64_t tx_no_addr;      /* a handle without an address (a bug if ever seen) */
  uint64_t tx_sock_err;     /* sendto failed (EAGAIN, ENOBUFS, ...) */
  uint64_t tx_impair_lost;  /* the loss model */
  uint64_t tx_impair_queue; /* the uplink queue was full */
  uint64_t tx_repair_shed;  /* repair answers not sent: the uplink was busy */
  uint64_t core_nomem;      /* the core ran out of memory in a call */
  uint64_t tx_forged;       /* --forge-chunks: chunks altered on the way out */
} rt_counters;

/* Per stripe, what its tree brought this peer (the core's stripe_data
 * callback) and the tree chunks it sent (MULTICASTs: copies to its
 * children, a source's chunks to the stripe's root), repairs not included,
 * for the web page's view (runtime/web.c). */
typedef struct rt_stripe_counters {
  uint64_t chunks_in;     /* tree chunks received */
  uint64_t chunks_out;    /* tree chunks sent */
  uint64_t chunks_missed; /* sequence numbers skipped (less those that came late) */
  uint32_t last_seq;      /* the newest received, within epoch */
  uint32_t epoch;
  bool have_seq;
} rt_stripe_counters;
/* A jump of more sequence numbers than this is a restart, not a loss. */
#define RT_STRIPE_GAP_MAX 4096

typedef struct rt_peer rt_peer;

/* What the peer tells its host. Each optional. */
typedef struct rt_peer_hooks {
  void (*deliver)(rt_peer *p, uint64_t gen, const uint8_t *data, size_t datalen,
                  uint64_t src_ts_ns, uint64_t now);
  void (*lost)(rt_peer *p, uint64_t gen, uint64_t now);
  /* Playout restarted; new_epoch: a later source epoch (its generations
   * are numbered afresh), else a gap beyond the window (numbered on). */
  void (*restarted)(rt_peer *p, bool new_epoch, uint64_t now);
  /* The stream's application state (core/state.h): given to a peer that
   * asks, taken from a peer's answer. Both NULL: neither. */
  size_t (*state_get)(rt_peer *p, uint8_t *buf, size_t cap);
  bool (*state_got)(rt_peer *p, const uint8_t *data, size_t len, uint64_t now);
} rt_peer_hooks;

struct rt_peer {
  unsigned index; /* in its process */
  struct ev_loop *loop;
  rt_addr_table *addrs;
  const rt_peer_hooks *hooks;
  void *user; /* the host's */
  int fd;
  int sys_errno; /* after RT_ERR_SYS */
  ev_io io;
  ev_timer timer;     /* the core's one expiry */
  uint64_t timer_ns;  /* what timer is armed for; UINT64_MAX: stopped */
  ev_timer qtimer;    /* the impairment queue's next release */
  uint64_t qtimer_ns; /* what qtimer is armed for; UINT64_MAX: stopped */
  bool impaired;
  bool forge; /* --forge-chunks, a test aid: alter every chunk sent down or as a repair */
  rt_impair imp;
  sc_guard *guard; /* per-neighbour limits on what is accepted */
  /* NAT traversal (traverse.h): the public address, punches, keep-alives. */
  rt_trav trav;
  rt_trav_sockets trav_sockets;
  int alt_fd; /* traversal's alternate port (-1: not open) */
  ev_io alt_io;
  int relay_fd[RT_TRAV_RELAYS]; /* relays run for peers behind symmetric NATs */
  ev_io relay_io[RT_TRAV_RELAYS];
  ev_timer ttimer;   /* traversal's tick, and the wait for a BINDING answer */
  bool join_waiting; /* a join held until the BINDING answer (or its wait) */
  /* Behind a router: ask it to forward the port (portmap.h), unless told not to. */
  bool port_map;
  rt_portmap *portmap;
  rt_portmap_result portmap_result;
  sc_addr join_boot;
  /* Decoding a datagram: the addresses it names (for traversal's
   * introducers), through a wire map that records them. */
  sc_wire_addr_map rx_map;
  sc_addr named[RT_PEER_NAMED_MAX];
  unsigned nnamed;
  sc_node *node;
  sc_ref self;
  uint32_t ip;
  uint16_t port;
  bool open; /* socket and watchers live */
  bool forest_started;
  bool departing;
  uint64_t join_ns;
  uint64_t forest_ns; /* when the forest started (subscribed); 0: not yet */
  /* Press play to first byte, step by step (CLOCK_MONOTONIC ns; 0: not
   * yet): Pastry joined, first stripe attached, every wanted stripe
   * attached, first chunk received, first generation delivered. */
  uint64_t joined_ns, first_stripe_ns, all_stripes_ns, first_chunk_ns, first_byte_ns;
  uint32_t stripes_attached; /* bit i: attached in stripe i */
  uint64_t attach_changes;
  rt_counters c;
  /* The stream as delivered (filled by the host's deliver hook too). */
  bool got_first;
  uint64_t first_gen, last_gen;
  uint64_t gens_delivered, gens_lost, bytes_delivered;
  /* Generations neither delivered nor reported lost: numbers skipped over
   * (a playout restart after a gap beyond the window). */
  uint64_t gens_skipped;
  bool next_known;
  uint64_t next_gen; /* expected next, within the epoch playing */
  uint64_t epoch_changes;
  uint32_t lat_ms[RT_LAT_BINS_MS + 1];
  rt_stripe_counters stripe[SC_STRIPES_MAX];
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t rt_now_ns(void);

/*
 * Binds a UDP socket to ip:port (host order), makes the peer (id from seed)
 * and starts its watchers. index, hooks and user are the host's. Returns 0,
 * RT_ERR_SYS (socket or bind failed: sys_errno) or a core error code.
 * On failure nothing is left open.
 */
int rt_peer_open(rt_peer *p, struct ev_loop *loop, rt_addr_table *addrs, unsigned index,
                 uint32_t ip, uint16_t port, const sc_node_config *cfg,
                 const rt_impair_config *imp, uint64_t seed, const rt_peer_hooks *hooks,
                 void *user);

/* Joins the overlay through ip:port, or starts a new one when ip is 0. */
int rt_peer_join(rt_peer *p, uint32_t ip, uint16_t port);
/* A polite departure (sc_node_depart): keep running while children move. */
void rt_peer_depart(rt_peer *p);
/* The end of the grace period: leave the parents (sc_node_depart_finish). */
void rt_peer_depart_finish(rt_peer *p);
/* Datagrams still held by the impairment layer. */
uint32_t rt_peer_queued(const rt_peer *p);
/* Stops the watchers, closes the socket, frees the core peer. Idempotent. */
void rt_peer_close(rt_peer *p);

/* After any call into the core from outside a callback of this peer: start
 * the forest once joined and re-arm the expiry timer. */
void rt_peer_after_core(rt_peer *p, uint64_t now);

/* The class of a message to send (RT_TX_*, < RT_TX_CLASSES), and its name
 * in the counters ("ping", "route_join", "repair_chunk", "traversal", ...; NULL for a
 * class no message has). */
unsigned rt_peer_tx_class(const sc_msg *msg);
const char *rt_peer_tx_class_name(unsigned cls);

/* Number of bits set in stripes_attached. */
unsigned rt_peer_stripes_attached(const rt_peer *p);
/* A latency percentile (0..100) of delivered generations in ms; the
 * overflow bin reads as RT_LAT_BINS_MS. -1 when nothing was delivered. */
int rt_peer_latency_pct_ms(const uint32_t *bins, double pct);

#endif
