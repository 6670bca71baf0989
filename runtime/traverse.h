/*
 * traverse.h — NAT traversal beneath the overlay protocol (docs/nat.md).
 *
 * Most listeners sit behind a home router that rewrites their source address
 * and drops datagrams from anyone they have not sent to first. This module
 * lets such a peer take part as any other, in four mechanisms:
 *
 *  1. Its public address. Before it joins, a peer asks the peer it joins
 *     through how it is seen (a BINDING request, as STUN's, RFC 8489 §3) and
 *     announces that address instead of the one it bound. Identity stays
 *     what the overlay checks: a datagram is accepted only from the address
 *     its sender announces (runtime/peer.c), so a peer is confirmed by
 *     answering there. A second answer, from that peer's alternate port
 *     (ALT, RFC 5780 §4.3) or from another peer, tells a router that maps
 *     every destination to its own port (a "symmetric" NAT, RFC 4787 §4.1,
 *     address-and-port-dependent mapping).
 *  2. Hole punching (RFC 5128 §3.3), coordinated through a peer both sides
 *     reach. Whenever a peer is about to send to a peer it has not heard from
 *     lately, it also asks the peer that told it of that one (its
 *     introducer: the sender of the message that named it) to pass a PUNCH
 *     on; the target answers with a HELLO straight to the asker, which opens
 *     the target's router toward it, and the asker sends again what it held.
 *  3. Keep-alives: a peer whose public address differs from its own sends a
 *     HELLO to each peer it talks with at least every RT_TRAV_KEEPALIVE_NS,
 *     well inside the 30 s a router may keep an idle UDP mapping (RFC 4787
 *     REQ-5 asks for at least 2 minutes, many routers keep 30 s).
 *  4. A relay behind a symmetric NAT, found before the join: the peer joined
 *     through opens a socket for it (ALLOCATE, as TURN does, RFC 8656), whose
 *     address it announces; its datagrams travel both ways inside RELAYs.
 *
 * Traversal datagrams are told from the overlay's by their first byte
 * (RT_TRAV_MAGIC, against SC_WIRE_VERSION), as STUN is told from RTP on one
 * port (RFC 7983). Each is RT_TRAV_LEN bytes:
 *
 *   magic(1) type(1) txid(8) ip(4) port(2)     (big-endian)
 *
 * and a RELAY carries an overlay datagram after them.
 *
 * Pure logic: told the time, handed datagrams, sending through a callback;
 * runtime/peer.c owns the sockets. Memory is fixed (RT_TRAV_CONTACTS,
 * RT_TRAV_HELD, RT_TRAV_BINDINGS, RT_TRAV_RELAYS) whatever the network sends.
 */
#ifndef SC_RUNTIME_TRAVERSE_H
#define SC_RUNTIME_TRAVERSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "core/rng.h"
#include "core/wire.h"

#define RT_TRAV_MAGIC 0xf5 /* first byte; the overlay's is SC_WIRE_VERSION */
#define RT_TRAV_LEN   16

enum rt_trav_type {
  RT_TRAV_BINDING_REQ = 1, /* "how do you see me?" (txid) */
  RT_TRAV_BINDING = 2,     /* the answer: txid echoed, the source seen */
  RT_TRAV_PUNCH_REQ = 3,   /* to an introducer: "let ip:port know I call" */
  RT_TRAV_PUNCH = 4,       /* introducer -> target: "ip:port calls you" */
  RT_TRAV_HELLO = 5,       /* target -> asker (txid of the punch), or a
                              keep-alive (txid 0) */
  RT_TRAV_ALT = 6,         /* just before a BINDING: "ask me again at ip:port",
                              another socket of the answering peer */
  RT_TRAV_ALLOCATE = 7,    /* "relay for me" (txid); sent again to refresh */
  RT_TRAV_ALLOCATED = 8,   /* the relayed address ip:port (port 0: refused) */
  RT_TRAV_RELAY = 9,       /* header + a datagram: to the relaying peer, ip:port
                              is where it goes; from it, where it came from */
  RT_TRAV_TYPE_END
};

typedef struct rt_trav_msg {
  uint8_t type;
  uint64_t txid;
  uint32_t ip; /* host order */
  uint16_t port;
  /* RT_TRAV_RELAY: the datagram carried, after the header. */
  const uint8_t *payload;
  size_t payload_len;
} rt_trav_msg;

/* The longest traversal datagram: a relayed overlay datagram and its header. */
#define RT_TRAV_RELAY_MAX (RT_TRAV_LEN + SC_WIRE_DATAGRAM_MAX)

/* Writes m's RT_TRAV_LEN bytes of header (a RELAY's payload follows them). */
void rt_trav_encode(const rt_trav_msg *m, uint8_t out[RT_TRAV_LEN]);
/* Parses a datagram. Returns 0, or SC_ERR_INVALID (wrong length, magic or
 * type: count it and drop it). Only a RELAY is longer than RT_TRAV_LEN, by
 * 1 to SC_WIRE_DATAGRAM_MAX bytes. */
int rt_trav_decode(const uint8_t *buf, size_t len, rt_trav_msg *out);

/* How long things last (CLOCK_MONOTONIC ns). */
#define RT_TRAV_FRESH_NS (60ull * 1000000000ull) /* heard from lately */
#define RT_TRAV_KEEPALIVE_NS                                                             \
  (20ull * 1000000000ull)                           /* longest silence toward a contact */
#define RT_TRAV_TICK_NS      (5ull * 1000000000ull) /* keep-alive scan period */
#define RT_TRAV_PUNCH_MIN_NS (1000ull * 1000000ull) /* first punch retry */
#define RT_TRAV_PUNCH_MAX_NS (32ull * 1000000000ull) /* retries back off to this */
#define RT_TRAV_BINDING_WAIT_NS                                                          \
  (1000ull * 1000000ull) /* a BINDING answer, before joining anyway */
#define RT_TRAV_RECHECK_NS                                                               \
  (60ull * 1000000000ull) /* a BINDING to a contact this often                           \
                           */

#define RT_TRAV_RELAYS        8 /* peers one peer relays for at once */
#define RT_TRAV_BINDINGS      4 /* BINDING requests outstanding (the latest) */
#define RT_TRAV_RELAY_IDLE_NS (60ull * 1000000000ull) /* an unrefreshed relay closes */
#define RT_TRAV_CONTACTS      1024 /* peers tracked (2-way set-associative) */
#define RT_TRAV_HELD          16   /* datagrams held for punches to answer */

/* What this peer knows of its router. */
enum rt_trav_nat {
  RT_TRAV_NAT_UNKNOWN = 0, /* no BINDING answered yet */
  RT_TRAV_NAT_NONE,        /* seen at the address it bound */
  RT_TRAV_NAT_MAPPED,      /* seen elsewhere, the same to every peer asked */
  RT_TRAV_NAT_SYMMETRIC    /* seen at different ports by different peers */
};
const char *rt_trav_nat_name(enum rt_trav_nat n);

typedef struct rt_trav_contact {
  sc_addr addr;        /* SC_ADDR_NONE: empty */
  sc_addr introducer;  /* who named it last while it was not fresh */
  uint64_t rx_ns;      /* last heard from (0: never) */
  uint64_t tx_ns;      /* last sent to */
  uint64_t punch_ns;   /* next punch allowed */
  uint32_t punch_wait; /* current back-off, in RT_TRAV_PUNCH_MIN_NS units */
  uint64_t punch_txid; /* the punch asked for last (0: none) */
} rt_trav_contact;

typedef struct rt_trav_held {
  uint64_t txid; /* 0: empty */
  sc_addr to;
  uint64_t sent_ns;
  uint16_t len;
  uint8_t data[SC_WIRE_DATAGRAM_MAX];
} rt_trav_held;

/* A relay this peer runs for a peer behind a symmetric NAT (TURN's idea,
 * RFC 8656: a public address of the relaying peer's stands for the client). */
typedef struct rt_trav_relay {
  bool open;
  uint32_t client_ip; /* where the client's datagrams come from */
  uint16_t client_port;
  uint16_t port; /* the relayed address's port (this peer's address) */
  uint64_t txid, used_ns;
} rt_trav_relay;

/* The sockets a peer opens for traversal besides its own (runtime/peer.c). */
typedef struct rt_trav_sockets {
  void *user;
  /* A second socket, for a second view in one BINDING exchange (RFC 5780
   * §4.3's alternate port): opened at first use; returns its port, 0: none. */
  uint16_t (*alt_open)(void *user);
  void (*alt_send)(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                   size_t len);
  /* Relay slot i's socket: returns its port, 0: none. */
  uint16_t (*relay_open)(void *user, unsigned i);
  void (*relay_send)(void *user, unsigned i, uint32_t ip, uint16_t port,
                     const uint8_t *buf, size_t len);
  void (*relay_close)(void *user, unsigned i);
  /* A datagram for this peer that came through its relay, from ip:port. */
  void (*relayed_in)(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                     size_t len);
} rt_trav_sockets;

typedef struct rt_trav_counters {
  uint64_t bindings_sent, bindings_answered, bindings_got;
  uint64_t punch_requests_sent, punches_forwarded, punches_unreachable;
  uint64_t hellos_sent, hellos_got, held_resent;
  uint64_t keepalives_sent;
  uint64_t address_changes; /* the announced address moved */
  uint64_t relays_opened, relays_refused, relay_dgrams_in, relay_dgrams_out;
  uint64_t relayed_dgrams_sent, relayed_dgrams_got; /* as a relay's client */
  uint64_t rx_malformed; /* traversal datagrams that did not parse */
  uint64_t rx_unknown;   /* from, or about, a peer not known: ignored */
} rt_trav_counters;

/* Sends len bytes to ip:port (host order). */
typedef void (*rt_trav_send_fn)(void *user, uint32_t ip, uint16_t port,
                                const uint8_t *buf, size_t len);

typedef struct rt_trav {
  rt_addr_table *addrs;
  sc_addr self; /* this peer's handle: re-pointed at its public address */
  uint32_t local_ip;
  uint16_t local_port;
  uint32_t public_ip;
  uint16_t public_port;
  enum rt_trav_nat nat;
  /* The router forwards the public port here (a port mapping, portmap.h):
   * reachable without a punch. Set by the peer. */
  bool forwarded;
  /* The first answer's observer, to ask a different peer the second time. */
  sc_addr first_observer;
  bool second_answered; /* a peer other than the first has answered */
  sc_addr alt_observer; /* the first observer's alternate port, when offered */
  unsigned ask_cursor;  /* where the next search for a peer to ask starts */
  /* Outstanding BINDING requests (the latest few). */
  struct {
    uint64_t txid;
    sc_addr to;
  } binding[RT_TRAV_BINDINGS];
  unsigned binding_next;
  uint64_t recheck_ns; /* next BINDING to a contact */
  uint64_t tick_ns;    /* next keep-alive scan */
  sc_rng rng;
  rt_trav_send_fn send;
  void *user;
  const rt_trav_sockets *sockets; /* NULL: no alternate port, no relays */
  uint16_t alt_port;              /* opened; 0: not yet */
  /* As a client behind a symmetric NAT: the relay asked for and got. */
  uint64_t alloc_txid;
  bool alloc_refused;
  bool relayed;      /* the announced address is a relay's */
  sc_addr relay_via; /* the relaying peer */
  uint64_t alloc_refresh_ns;
  rt_trav_relay relay[RT_TRAV_RELAYS]; /* as a relaying peer */
  rt_trav_contact contact[RT_TRAV_CONTACTS];
  rt_trav_held held[RT_TRAV_HELD];
  rt_trav_counters c;
} rt_trav;

/* Sets t up for a peer bound to local ip:port whose handle is self. */
void rt_trav_init(rt_trav *t, rt_addr_table *addrs, sc_addr self, uint32_t local_ip,
                  uint16_t local_port, uint64_t seed, rt_trav_send_fn send, void *user);

/* Lets the peer answer on an alternate port and relay for others. */
void rt_trav_set_sockets(rt_trav *t, const rt_trav_sockets *sockets);
/* Whether the peer knows enough of its router to join: its public address,
 * and a second view of it (or a relay, behind a symmetric NAT). */
bool rt_trav_ready(const rt_trav *t);
/* A traversal datagram on the alternate port (only BINDING requests). */
void rt_trav_recv_alt(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip,
                      uint16_t src_port);
/* A datagram on relay slot i's socket, from ip:port: passed to its client. */
void rt_trav_relay_arrival(rt_trav *t, unsigned i, uint32_t ip, uint16_t port,
                           const uint8_t *buf, size_t len, uint64_t now);
/* Writes into out (at least RT_TRAV_RELAY_MAX bytes) the RELAY datagram
 * that carries len bytes for ip:port through this peer's relay; returns its
 * length. */
size_t rt_trav_wrap(const uint8_t *buf, size_t len, uint32_t ip, uint16_t port,
                    uint8_t *out);

/* Asks the peer at handle to how it sees this one. */
void rt_trav_ask_binding(rt_trav *t, sc_addr to, uint64_t now);

/* An overlay message from handle from passed the identity check. */
void rt_trav_heard(rt_trav *t, sc_addr from, uint64_t now);
/* A message from by (accepted) named the peer at a. */
void rt_trav_named(rt_trav *t, sc_addr a, sc_addr by, uint64_t now);
/* An overlay datagram of len bytes is about to go to handle to: notes it, and
 * when to has not been heard from lately asks its introducer for a punch
 * (at most once per back-off), holding a copy of each datagram sent while a
 * punch is out, to send them again when it is answered. */
void rt_trav_sending(rt_trav *t, sc_addr to, const uint8_t *dgram, size_t len,
                     uint64_t now);

/* A traversal datagram from src_ip:src_port (host order). */
void rt_trav_recv(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip, uint16_t src_port,
                  uint64_t now);

/* Keep-alives and re-checks due by now. Returns the next time to call. */
uint64_t rt_trav_tick(rt_trav *t, uint64_t now);

#endif
