/* peer.c — see peer.h. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/wire.h"

uint64_t rt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ----------------------------------------------------------- send path */

unsigned rt_peer_tx_class(const sc_msg *msg) {
  if (msg->type == SC_MSG_MULTICAST && msg->u.multicast.repair) return RT_TX_REPAIR_CHUNK;
  if (msg->type == SC_MSG_ROUTE && msg->u.route.kind < SC_ROUTE_KIND_END)
    return RT_TX_ROUTE_BASE + msg->u.route.kind;
  return msg->type < SC_MSG_TYPE_END ? msg->type : 0;
}

const char *rt_peer_tx_class_name(unsigned cls) {
  static const char *const route[SC_ROUTE_KIND_END] = {
      [SC_ROUTE_JOIN] = "route_join",
      [SC_ROUTE_LOOKUP] = "route_lookup",
      [SC_ROUTE_APP] = "route_app",
      [SC_ROUTE_SCRIBE_JOIN] = "route_scribe_join",
      [SC_ROUTE_ANYCAST] = "route_anycast",
      [SC_ROUTE_PUBLISH] = "route_publish",
      [SC_ROUTE_SCRIBE_ROOT] = "route_scribe_root"};
  if (cls == RT_TX_REPAIR_CHUNK) return "repair_chunk";
  if (cls == RT_TX_TRAVERSAL) return "traversal";
  if (cls >= RT_TX_ROUTE_BASE && cls < RT_TX_TRAVERSAL) {
    const char *n = route[cls - RT_TX_ROUTE_BASE];
    return n ? n : "route";
  }
  if (cls == 0 || cls >= SC_MSG_TYPE_END) return NULL;
  return sc_msg_type_name(cls);
}

static void peer_count_tx(rt_peer *p, unsigned cls, size_t len) {
  p->c.tx_dgrams[cls]++;
  p->c.tx_bytes[cls] += (uint64_t)len;
}

/* Returns whether the socket took the datagram. Behind a relay
 * (traverse.h), every datagram goes through it, to the relaying peer too
 * (it must come from the relayed address), but traversal's own to the
 * relaying peer (the relay's refresh). */
static bool peer_sendto(rt_peer *p, const uint8_t *data, size_t len,
                        const struct sockaddr_in *to) {
  uint8_t wrapped[RT_TRAV_RELAY_MAX];
  struct sockaddr_in via;
  if (p->trav.relayed && len <= SC_WIRE_DATAGRAM_MAX &&
      rt_addr_sockaddr(p->addrs, p->trav.relay_via, &via) == 0 &&
      (data[0] != RT_TRAV_MAGIC || via.sin_addr.s_addr != to->sin_addr.s_addr ||
       via.sin_port != to->sin_port)) {
    len =
        rt_trav_wrap(data, len, ntohl(to->sin_addr.s_addr), ntohs(to->sin_port), wrapped);
    data = wrapped;
    to = &via;
    p->trav.c.relayed_dgrams_sent++;
  }
  ssize_t n = sendto(p->fd, data, len, 0, (const struct sockaddr *)to, sizeof *to);
  if (n < 0) {
    /* EAGAIN (socket buffer full), ENOBUFS, EPERM: the datagram is lost, as
     * on any congested path; the protocol above copes with loss. */
    p->c.tx_sock_err++;
    return false;
  }
  p->c.dgrams_out++;
  p->c.bytes_out += (uint64_t)n;
  return true;
}

/* Traversal's datagrams go straight out, not through the impairment layer:
 * they are few, and the overlay's own (which they help through) are held
 * back there already. */
static void peer_trav_send(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                           size_t len) {
  rt_peer *p = user;
  if (!p->open) return;
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  if (peer_sendto(p, buf, len, &sa)) peer_count_tx(p, RT_TX_TRAVERSAL, len);
}

static void peer_qtimer_arm(rt_peer *p, uint64_t now) {
  uint64_t next = rt_impair_next(&p->imp);
  ev_timer_stop(p->loop, &p->qtimer);
  p->qtimer_ns = next;
  if (next == UINT64_MAX || !p->open) return;
  double after = next > now ? (double)(next - now) / 1e9 : 0.0;
  ev_timer_set(&p->qtimer, after, 0.0);
  ev_timer_start(p->loop, &p->qtimer);
}

static void peer_qtimer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  uint64_t now = rt_now_ns();
  const rt_impair_pkt *pk;
  while ((pk = rt_impair_peek(&p->imp, now)) != NULL) {
    peer_sendto(p, pk->data, pk->len, &pk->to);
    rt_impair_done(&p->imp);
  }
  peer_qtimer_arm(p, now);
}

/* A tree chunk sent on to a child (a root's too, which is not a member of
 * its stripe and so gets no stripe_data callback): counted by stripe. */
static void peer_count_out(rt_peer *p, const sc_msg *msg) {
  int g = sc_scribe_group_find(sc_node_scribe_c(p->node), &msg->u.multicast.group);
  int stripe =
      g < 0 ? -1 : sc_splitstream_stripe_of(sc_node_forest_c(p->node), (unsigned)g);
  if (stripe >= 0 && stripe < SC_STRIPES_MAX) p->stripe[stripe].chunks_out++;
}

/* The core's send callback: must not re-enter the core (docs/ARCHITECTURE.md §2). */
static void cb_send(void *user, sc_addr to, const sc_msg *msg) {
  rt_peer *p = user;
  if (!p->open) return;
  /* Repair answers are the scavenger class (SC_REPAIR_SHED_BACKLOG_NS), as
   * in the simulator. Only a peer that limits its own upload rate knows its
   * backlog. With a queue shorter than twice the threshold, shed at half the
   * queue: before tree chunks are tail-dropped. */
  if (p->impaired && msg->type == SC_MSG_MULTICAST && msg->u.multicast.repair) {
    uint64_t max = p->imp.cfg.queue_ns_max / 2;
    if (max > SC_REPAIR_SHED_BACKLOG_NS) max = SC_REPAIR_SHED_BACKLOG_NS;
    if (rt_impair_backlog_ns(&p->imp, rt_now_ns()) > max) {
      p->c.tx_repair_shed++;
      return;
    }
  }
  sc_msg forged;
  uint8_t fbytes[SC_CHUNK_BYTES_MAX];
  if (p->forge && msg->type == SC_MSG_MULTICAST && msg->u.multicast.data &&
      msg->u.multicast.len > 0 && msg->u.multicast.len <= sizeof fbytes &&
      (msg->u.multicast.depth > 0 || msg->u.multicast.repair)) {
    /* A forging relay (test aid): one payload byte changed, as a relay that
     * injects its own content would. */
    forged = *msg;
    memcpy(fbytes, msg->u.multicast.data, msg->u.multicast.len);
    fbytes[msg->u.multicast.len / 3] ^= 0x5a;
    forged.u.multicast.data = fbytes;
    msg = &forged;
    p->c.tx_forged++;
  }
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  int len = sc_wire_encode(msg, rt_addr_map(p->addrs), buf, sizeof buf);
  if (len < 0) {
    p->c.tx_encode_err++;
    return;
  }
  struct sockaddr_in sa;
  if (rt_addr_sockaddr(p->addrs, to, &sa) != 0) {
    p->c.tx_no_addr++;
    return;
  }
  if (msg->type == SC_MSG_MULTICAST && !msg->u.multicast.repair) peer_count_out(p, msg);
  unsigned cls = rt_peer_tx_class(msg);
  rt_trav_sending(&p->trav, to, buf, (size_t)len, rt_now_ns());
  if (!p->impaired) {
    if (peer_sendto(p, buf, (size_t)len, &sa)) peer_count_tx(p, cls, (size_t)len);
    return;
  }
  uint64_t now = rt_now_ns();
  int rv = rt_impair_submit(&p->imp, now, buf, (size_t)len, &sa);
  switch (rv) {
  case RT_IMPAIR_SEND_NOW:
    if (peer_sendto(p, buf, (size_t)len, &sa)) peer_count_tx(p, cls, (size_t)len);
    break;
  case RT_IMPAIR_LOST:
    p->c.tx_impair_lost++;
    break;
  case RT_IMPAIR_QUEUED:
    peer_count_tx(p, cls, (size_t)len);
    /* Only a new head can move the timer earlier; most submissions go
     * behind it (FIFO uplink), so re-arming every time would be waste. */
    if (rt_impair_next(&p->imp) < p->qtimer_ns) peer_qtimer_arm(p, now);
    break;
  default:
    p->c.tx_impair_queue++;
    break;
  }
}

/* ------------------------------------------------------- core callbacks */

static void cb_stripe_changed(void *user, unsigned stripe, bool attached, uint64_t now) {
  rt_peer *p = user;
  if (stripe >= 32) return;
  if (attached)
    p->stripes_attached |= 1u << stripe;
  else
    p->stripes_attached &= ~(1u << stripe);
  p->attach_changes++;
  if (!attached) return;
  if (!p->first_stripe_ns) p->first_stripe_ns = now;
  if (!p->all_stripes_ns) {
    const sc_splitstream *ss = sc_node_forest_c(p->node);
    unsigned k = sc_splitstream_stripes(ss), wanted = 0;
    for (unsigned s = 0; s < k; s++)
      wanted += sc_splitstream_wants(ss, s);
    if (rt_peer_stripes_attached(p) >= wanted) p->all_stripes_ns = now;
  }
}

static void cb_stripe_data(void *user, unsigned stripe, const sc_msg_multicast *m,
                           uint64_t now) {
  (void)now;
  rt_peer *p = user;
  if (stripe >= SC_STRIPES_MAX) return;
  rt_stripe_counters *c = &p->stripe[stripe];
  c->chunks_in++;
  if (!c->have_seq || c->epoch != m->epoch) {
    c->have_seq = true;
    c->epoch = m->epoch;
    c->last_seq = m->seq;
    return;
  }
  uint32_t ahead = m->seq - c->last_seq;
  if (ahead == 0) return;
  if (ahead <= RT_STRIPE_GAP_MAX) {
    c->chunks_missed += ahead - 1;
    c->last_seq = m->seq;
  } else if ((uint32_t)(c->last_seq - m->seq) <= RT_STRIPE_GAP_MAX) {
    if (c->chunks_missed) c->chunks_missed--; /* late, counted missed before */
  } else {
    c->last_seq = m->seq; /* a restart */
  }
}

static void cb_stream_deliver(void *user, uint64_t gen, const uint8_t *data,
                              size_t datalen, uint64_t src_ts_ns, uint64_t now) {
  rt_peer *p = user;
  if (!p->got_first) {
    p->got_first = true;
    p->first_gen = gen;
    p->first_byte_ns = now;
  }
  if (p->next_known && gen > p->next_gen) p->gens_skipped += gen - p->next_gen;
  p->next_known = true;
  p->next_gen = gen + 1;
  p->last_gen = gen;
  p->gens_delivered++;
  p->bytes_delivered += datalen;
  /* End-to-end latency: every peer of one host reads the same
   * CLOCK_MONOTONIC, so src_ts (the source's clock) is comparable here; on
   * other hosts the number means nothing and is only reported. */
  uint64_t lat_ms = now > src_ts_ns ? (now - src_ts_ns) / 1000000 : 0;
  p->lat_ms[lat_ms < RT_LAT_BINS_MS ? lat_ms : RT_LAT_BINS_MS]++;
  if (p->hooks && p->hooks->deliver)
    p->hooks->deliver(p, gen, data, datalen, src_ts_ns, now);
}

static void cb_stream_lost(void *user, uint64_t gen, uint64_t now) {
  rt_peer *p = user;
  p->gens_lost++;
  if (p->next_known && gen > p->next_gen) p->gens_skipped += gen - p->next_gen;
  p->next_known = true;
  p->next_gen = gen + 1;
  if (p->hooks && p->hooks->lost) p->hooks->lost(p, gen, now);
}

static void cb_stream_restarted(void *user, uint64_t now) {
  rt_peer *p = user;
  /* The receiver counts the later epochs it followed: a change here means
   * the restart is a new source, whose generations count from 0 again. */
  sc_channel_stats cs;
  sc_node_stream_stats(p->node, &cs);
  bool new_epoch = cs.stream.epoch_changes != p->epoch_changes;
  p->epoch_changes = cs.stream.epoch_changes;
  if (new_epoch) p->next_known = false;
  if (p->hooks && p->hooks->restarted) p->hooks->restarted(p, new_epoch, now);
}

static size_t cb_state_get(void *user, uint8_t *buf, size_t cap) {
  rt_peer *p = user;
  return p->hooks->state_get ? p->hooks->state_get(p, buf, cap) : 0;
}

static bool cb_state_got(void *user, const uint8_t *data, size_t len, uint64_t now) {
  rt_peer *p = user;
  return p->hooks->state_got ? p->hooks->state_got(p, data, len, now) : true;
}

/* -------------------------------------------------------------- timers */

void rt_peer_after_core(rt_peer *p, uint64_t now) {
  if (!p->node) return;
  if (!p->forest_started && !p->departing &&
      sc_pastry_is_joined(sc_node_pastry(p->node))) {
    p->forest_started = true;
    p->forest_ns = now;
    p->joined_ns = now;
    if (sc_node_start_forest(p->node, now) == SC_ERR_NOMEM) p->c.core_nomem++;
  }
  uint64_t exp = sc_node_get_expiry(p->node);
  if (exp == p->timer_ns && ev_is_active(&p->timer)) return;
  ev_timer_stop(p->loop, &p->timer);
  p->timer_ns = exp;
  if (exp == UINT64_MAX || !p->open) return;
  double after = exp > now ? (double)(exp - now) / 1e9 : 0.0;
  ev_timer_set(&p->timer, after, 0.0);
  ev_timer_start(p->loop, &p->timer);
}

static void peer_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  uint64_t now = rt_now_ns();
  /* libev measures from its cached loop time, so the timer may fire a hair
   * before the core's deadline; then it is only re-armed. */
  if (now >= p->timer_ns) {
    if (sc_node_handle_expiry(p->node, now) == SC_ERR_NOMEM) p->c.core_nomem++;
  }
  p->timer_ns = UINT64_MAX; /* force a re-arm: the timer is no longer active */
  rt_peer_after_core(p, now);
}

/* ------------------------------------------------------------ receive */

/* Requests: messages that make this peer answer (a PING, a row, chunks,
 * the station's state) or search (a Scribe join, an anycast). Each sender
 * has a budget for them (core/guard.h); what flows down the trees and
 * the routed messages neighbours forward for others do not count. */
static bool is_request(unsigned t) {
  return t == SC_MSG_PING || t == SC_MSG_ROW_REQUEST || t == SC_MSG_SCRIBE_JOIN ||
         t == SC_MSG_ANYCAST || t == SC_MSG_REPAIR_REQ || t == SC_MSG_STATE_REQ ||
         t == SC_MSG_DIRECTORY_REQ;
}

/* The wire map of decoding: the table's, remembering each address named. */
static int peer_named_from_bytes(void *user, const uint8_t *in, size_t inlen,
                                 sc_addr *out) {
  rt_peer *p = user;
  const sc_wire_addr_map *m = rt_addr_map(p->addrs);
  int rv = m->from_bytes(m->user, in, inlen, out);
  if (rv == 0 && p->nnamed < RT_PEER_NAMED_MAX) p->named[p->nnamed++] = *out;
  return rv;
}

static const sc_wire_addr_map *peer_rx_map(rt_peer *p) {
  const sc_wire_addr_map *m = rt_addr_map(p->addrs);
  p->rx_map.user = p;
  p->rx_map.to_bytes = m->to_bytes;
  p->rx_map.from_bytes = peer_named_from_bytes;
  p->nnamed = 0;
  return &p->rx_map;
}

static void peer_join_now(rt_peer *p, uint64_t now);
static void peer_port_map(rt_peer *p);
static void peer_ttimer_cb(struct ev_loop *loop, ev_timer *w, int revents);

static void peer_port_mapped(void *user, const rt_portmap_result *r) {
  rt_peer *p = user;
  bool first =
      p->portmap_result.method == RT_PORTMAP_NONE && r->method != RT_PORTMAP_NONE;
  p->portmap_result = *r;
  /* Only the port the router already gives this peer helps: a mapping of
   * another would be an address the peer does not announce. */
  p->trav.forwarded = r->method != RT_PORTMAP_NONE && r->ext_port == p->trav.public_port;
  if (first) {
    char a[RT_ADDR_STR_MAX];
    rt_addr_format(r->ext_ip ? r->ext_ip : p->trav.public_ip, r->ext_port, a);
    fprintf(stderr, "stripecast: peer %u: the router forwards UDP %s to this peer (%s)\n",
            p->index, a, rt_portmap_method_name(r->method));
  }
}

/* Asks the home router to forward this peer's public port to it. */
static void peer_port_map(rt_peer *p) {
  if (rt_portmap_start(&p->portmap, p->loop, p->port, p->trav.public_port,
                       peer_port_mapped, p) != 0)
    snprintf(p->portmap_result.why, sizeof p->portmap_result.why,
             "could not start the port mapping");
}

/* ------------------------------------------- traversal's own sockets */

/* A UDP socket on this peer's address and a port the kernel picks, read by
 * cb; returns the port, 0 on failure. */
static int peer_socket(uint32_t ip, uint16_t port);

static uint16_t peer_extra_socket(rt_peer *p, int *fd, ev_io *io,
                                  void (*cb)(struct ev_loop *, ev_io *, int)) {
  int s = peer_socket(p->ip, 0);
  if (s < 0) return 0;
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  if (getsockname(s, (struct sockaddr *)&sa, &sl) != 0) {
    close(s);
    return 0;
  }
  *fd = s;
  ev_io_init(io, cb, s, EV_READ);
  io->data = p;
  ev_io_start(p->loop, io);
  return ntohs(sa.sin_port);
}

static void peer_extra_close(rt_peer *p, int *fd, ev_io *io) {
  if (*fd < 0) return;
  ev_io_stop(p->loop, io);
  close(*fd);
  *fd = -1;
}

/* One datagram from an extra socket into buf; returns its length, -1 when
 * there is none (or it was too long). */
static ssize_t peer_extra_read(int fd, uint8_t *buf, size_t cap,
                               struct sockaddr_in *from) {
  socklen_t fl = sizeof *from;
  ssize_t n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)from, &fl);
  if (n < 0 || (size_t)n >= cap || fl != sizeof *from || from->sin_family != AF_INET)
    return -1;
  return n;
}

static void peer_alt_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  uint8_t buf[RT_TRAV_LEN + 1];
  struct sockaddr_in from;
  rt_trav_msg m;
  for (int i = 0; i < RT_PEER_RX_BURST && p->alt_fd >= 0; i++) {
    ssize_t n = peer_extra_read(p->alt_fd, buf, sizeof buf, &from);
    if (n < 0) break;
    uint32_t ip = ntohl(from.sin_addr.s_addr);
    uint16_t port = ntohs(from.sin_port);
    uint64_t now = rt_now_ns();
    if (rt_trav_decode(buf, (size_t)n, &m) != 0) {
      p->trav.c.rx_malformed++;
      continue;
    }
    if (sc_guard_request(p->guard, ip, port, 1, now) != SC_GUARD_PASS) {
      p->c.rx_limited++;
      continue;
    }
    rt_trav_recv_alt(&p->trav, &m, ip, port);
  }
}

static uint16_t sock_alt_open(void *user) {
  rt_peer *p = user;
  return peer_extra_socket(p, &p->alt_fd, &p->alt_io, peer_alt_cb);
}

static void sock_send(rt_peer *p, int fd, uint32_t ip, uint16_t port, const uint8_t *buf,
                      size_t len) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  if (fd >= 0 && sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    p->c.tx_sock_err++;
}

static void sock_alt_send(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                          size_t len) {
  rt_peer *p = user;
  sock_send(p, p->alt_fd, ip, port, buf, len);
}

static void peer_relay_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  unsigned slot = (unsigned)(w - p->relay_io);
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 1];
  struct sockaddr_in from;
  for (int i = 0; i < RT_PEER_RX_BURST && p->relay_fd[slot] >= 0; i++) {
    ssize_t n = peer_extra_read(p->relay_fd[slot], buf, sizeof buf, &from);
    if (n < 0) break;
    rt_trav_relay_arrival(&p->trav, slot, ntohl(from.sin_addr.s_addr),
                          ntohs(from.sin_port), buf, (size_t)n, rt_now_ns());
  }
}

static uint16_t sock_relay_open(void *user, unsigned i) {
  rt_peer *p = user;
  return peer_extra_socket(p, &p->relay_fd[i], &p->relay_io[i], peer_relay_cb);
}

static void sock_relay_send(void *user, unsigned i, uint32_t ip, uint16_t port,
                            const uint8_t *buf, size_t len) {
  rt_peer *p = user;
  sock_send(p, p->relay_fd[i], ip, port, buf, len);
}

static void sock_relay_close(void *user, unsigned i) {
  rt_peer *p = user;
  peer_extra_close(p, &p->relay_fd[i], &p->relay_io[i]);
}

static void peer_recv_one(rt_peer *p, const uint8_t *buf, size_t len,
                          const struct sockaddr_in *from, uint64_t now);

/* A datagram for this peer through its relay, as if from ip:port. */
static void sock_relayed_in(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                            size_t len) {
  rt_peer *p = user;
  uint64_t now = rt_now_ns();
  /* A relay inside a relay is nobody's: refused, so unwrapping never nests. */
  if (len > 1 && buf[0] == RT_TRAV_MAGIC && buf[1] == RT_TRAV_RELAY) {
    p->trav.c.rx_malformed++;
    return;
  }
  if (sc_guard_arrival(p->guard, ip, port, now) == SC_GUARD_IGNORED) {
    p->c.rx_ignored++;
    return;
  }
  struct sockaddr_in from = {.sin_family = AF_INET};
  from.sin_addr.s_addr = htonl(ip);
  from.sin_port = htons(port);
  peer_recv_one(p, buf, len, &from, now);
}

/* Tells the user what traversal found out, once: a relay taken, or a
 * symmetric NAT with none. */
static void peer_say_nat(const rt_peer *p, enum rt_trav_nat before, bool was_relayed,
                         bool was_refused) {
  const rt_trav *t = &p->trav;
  char a[RT_ADDR_STR_MAX];
  rt_addr_format(t->public_ip, t->public_port, a);
  if (t->relayed && !was_relayed)
    fprintf(stderr,
            "stripecast: peer %u: the router gives every peer this one calls a port of "
            "its own (a symmetric NAT); the peer joined through relays for it, at %s\n",
            p->index, a);
  else if (t->nat == RT_TRAV_NAT_SYMMETRIC && !t->relayed &&
           ((before != RT_TRAV_NAT_SYMMETRIC && t->alloc_txid == 0) ||
            (t->alloc_refused && !was_refused)))
    fprintf(stderr,
            "stripecast: peer %u: the router gives every peer this one calls a port of "
            "its own (a symmetric NAT) and no relay was had, so other peers cannot reach "
            "it; forward UDP port %u on the router to this machine, or join through a "
            "peer with a public address\n",
            p->index, (unsigned)p->port);
}

/* A traversal datagram (traverse.h). */
static void peer_recv_trav(rt_peer *p, const uint8_t *buf, size_t len, uint32_t ip,
                           uint16_t port, uint64_t now) {
  rt_trav_msg m;
  if (rt_trav_decode(buf, len, &m) != 0) {
    p->trav.c.rx_malformed++;
    sc_guard_strike(p->guard, ip, port, now);
    return;
  }
  /* Questions cost the asker from its budget, as the overlay's do. */
  if ((m.type == RT_TRAV_BINDING_REQ || m.type == RT_TRAV_PUNCH_REQ ||
       m.type == RT_TRAV_ALLOCATE) &&
      sc_guard_request(p->guard, ip, port, 1, now) != SC_GUARD_PASS) {
    p->c.rx_limited++;
    return;
  }
  bool was_relayed = p->trav.relayed, was_refused = p->trav.alloc_refused;
  enum rt_trav_nat before = p->trav.nat;
  rt_trav_recv(&p->trav, &m, ip, port, now);
  peer_say_nat(p, before, was_relayed, was_refused);
  if (!rt_trav_ready(&p->trav)) return;
  if (p->trav.nat == RT_TRAV_NAT_MAPPED && p->port_map && !p->portmap) peer_port_map(p);
  if (p->join_waiting) peer_join_now(p, now);
}

static void peer_recv_one(rt_peer *p, const uint8_t *buf, size_t len,
                          const struct sockaddr_in *from, uint64_t now) {
  const uint32_t ip = ntohl(from->sin_addr.s_addr);
  const uint16_t port = ntohs(from->sin_port);
  if (len > 0 && buf[0] == RT_TRAV_MAGIC) {
    peer_recv_trav(p, buf, len, ip, port, now);
    return;
  }
  sc_msg msg;
  const uint64_t full_before = p->addrs->full;
  int rv = sc_wire_decode(buf, len, peer_rx_map(p), &msg);
  if (rv != 0) {
    switch (rv) {
    case SC_ERR_TOO_LARGE:
      p->c.rx_too_large++;
      break;
    case SC_ERR_TRUNCATED:
      p->c.rx_truncated++;
      break;
    case SC_ERR_VERSION:
      p->c.rx_version++;
      break;
    default:
      /* The table refusing a new address shows as a failed decode; tell
       * the two apart by its counter (peer_io_cb). */
      p->c.rx_malformed++;
      break;
    }
    /* Garbage, unless this peer's address table refused the message. */
    if (p->addrs->full == full_before) sc_guard_strike(p->guard, ip, port, now);
    return;
  }
  /* A peer is what it says only if the datagram came from there: the core
   * learns the sender's address from the message, and a forged one would
   * poison every table it reaches. */
  sc_addr src;
  const bool known = rt_addr_find(p->addrs, ip, port, &src) == 0;
  /* A chunk names no sender (core/wire.h): it is from where it came from,
   * which must be a peer this one has heard of. */
  if (known && msg.type == SC_MSG_MULTICAST) msg.sender.addr = src;
  if (!known || src != msg.sender.addr) {
    p->c.rx_spoofed++;
    sc_guard_strike(p->guard, ip, port, now);
    return;
  }
  rt_trav_heard(&p->trav, src, now);
  for (unsigned i = 0; i < p->nnamed; i++)
    rt_trav_named(&p->trav, p->named[i], src, now);
  /* A repair request costs the chunks it asks for, a directory request the
   * page of records it may get: the answer bytes are what a flooder (or a
   * spoofer using this peer as a reflector) buys. */
  unsigned cost = msg.type == SC_MSG_REPAIR_REQ
                      ? (unsigned)__builtin_popcount(msg.u.repair_req.want)
                  : msg.type == SC_MSG_DIRECTORY_REQ ? SC_DIRECTORY_PAGE
                                                     : 1u;
  if (is_request(msg.type) &&
      sc_guard_request(p->guard, ip, port, cost, now) != SC_GUARD_PASS) {
    p->c.rx_limited++;
    return;
  }
  rv = sc_node_recv(p->node, &msg, now);
  if (rv == SC_ERR_NOMEM)
    p->c.core_nomem++;
  else if (rv < 0)
    p->c.rx_rejected++;
}

static void peer_io_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  /* One byte more than the largest datagram: a longer one shows up as
   * MSG_TRUNC with its real length, and is dropped as too large. */
  uint8_t buf[RT_TRAV_RELAY_MAX + 1];
  uint64_t now = 0;
  bool any = false;
  for (int i = 0; i < RT_PEER_RX_BURST && p->open; i++) {
    struct sockaddr_storage from;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr mh = {
        .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(p->fd, &mh, MSG_TRUNC);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) p->c.rx_errors++;
      break;
    }
    p->c.dgrams_in++;
    p->c.bytes_in += (uint64_t)n;
    if (from.ss_family != AF_INET) {
      p->c.rx_not_ipv4++;
      continue;
    }
    struct sockaddr_in from4;
    memcpy(&from4, &from, sizeof from4);
    now = rt_now_ns();
    const uint32_t ip = ntohl(from4.sin_addr.s_addr);
    const uint16_t port = ntohs(from4.sin_port);
    if (sc_guard_arrival(p->guard, ip, port, now) == SC_GUARD_IGNORED) {
      p->c.rx_ignored++;
      continue;
    }
    /* Only a relayed datagram (traversal's header on an overlay datagram)
     * may be longer than the overlay's largest. */
    if ((size_t)n >
        (buf[0] == RT_TRAV_MAGIC ? RT_TRAV_RELAY_MAX : SC_WIRE_DATAGRAM_MAX)) {
      p->c.rx_too_large++;
      sc_guard_strike(p->guard, ip, port, now);
      continue;
    }
    any = true;
    uint64_t full_before = p->addrs->full;
    uint64_t malformed_before = p->c.rx_malformed;
    peer_recv_one(p, buf, (size_t)n, &from4, now);
    if (p->addrs->full != full_before && p->c.rx_malformed != malformed_before) {
      p->c.rx_malformed--;
      p->c.rx_addr_full++;
    }
  }
  if (any) rt_peer_after_core(p, now);
}

/* ------------------------------------------------------------ lifecycle */

static int peer_socket(uint32_t ip, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int buf = RT_PEER_SOCKBUF_BYTES;
  /* Best effort: the kernel caps these at net.core.[rw]mem_max. */
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(ip);
  sa.sin_port = htons(port);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

int rt_peer_open(rt_peer *p, struct ev_loop *loop, rt_addr_table *addrs, unsigned index,
                 uint32_t ip, uint16_t port, const sc_node_config *cfg,
                 const rt_impair_config *imp, uint64_t seed, const rt_peer_hooks *hooks,
                 void *user) {
  memset(p, 0, sizeof *p);
  p->index = index;
  p->loop = loop;
  p->addrs = addrs;
  p->hooks = hooks;
  p->user = user;
  p->ip = ip;
  p->port = port;
  p->timer_ns = UINT64_MAX;
  p->qtimer_ns = UINT64_MAX;
  p->fd = -1;
  sc_addr self_addr;
  int rv = rt_addr_intern(addrs, ip, port, &self_addr);
  if (rv != 0) return rv;
  p->impaired = rt_impair_active(imp);
  if (p->impaired) {
    rv = rt_impair_init(&p->imp, imp, sc_mix64(seed ^ 0x696d70616972ull));
    if (rv != 0) return rv;
  }
  p->fd = peer_socket(ip, port);
  if (p->fd < 0) {
    p->sys_errno = -p->fd;
    rv = RT_ERR_SYS;
    p->fd = -1;
    if (p->impaired) rt_impair_free(&p->imp);
    return rv;
  }
  /* The id: a hash of the seed and the address, so two peers of one run
   * never share an id and one seed gives one overlay. */
  struct {
    uint64_t seed;
    uint32_t ip;
    uint16_t port;
  } idsrc;
  memset(&idsrc, 0, sizeof idsrc);
  idsrc.seed = seed;
  idsrc.ip = ip;
  idsrc.port = port;
  p->self.id = sc_id_hash(&idsrc, sizeof idsrc);
  p->self.addr = self_addr;
  rt_trav_init(&p->trav, addrs, self_addr, ip, port, seed, peer_trav_send, p);
  p->alt_fd = -1;
  for (unsigned i = 0; i < RT_TRAV_RELAYS; i++)
    p->relay_fd[i] = -1;
  p->trav_sockets = (rt_trav_sockets){.user = p,
                                      .alt_open = sock_alt_open,
                                      .alt_send = sock_alt_send,
                                      .relay_open = sock_relay_open,
                                      .relay_send = sock_relay_send,
                                      .relay_close = sock_relay_close,
                                      .relayed_in = sock_relayed_in};
  rt_trav_set_sockets(&p->trav, &p->trav_sockets);
  sc_node_callbacks cb = {.send = cb_send,
                          .stripe_changed = cb_stripe_changed,
                          .stripe_data = cb_stripe_data,
                          .stream_deliver = cb_stream_deliver,
                          .stream_lost = cb_stream_lost,
                          .stream_restarted = cb_stream_restarted};
  if (hooks && (hooks->state_get || hooks->state_got)) {
    cb.state_get = cb_state_get;
    cb.state_got = cb_state_got;
  }
  rv = sc_guard_new(&p->guard, NULL);
  if (rv != 0) {
    close(p->fd);
    p->fd = -1;
    if (p->impaired) rt_impair_free(&p->imp);
    return rv;
  }
  p->open = true; /* the send callback may run inside sc_node_new */
  uint64_t now = rt_now_ns();
  rv = sc_node_new(&p->node, &p->self, sc_mix64(seed), cfg, &cb, NULL, p, now);
  if (rv != 0) {
    sc_guard_del(p->guard);
    p->guard = NULL;
    p->open = false;
    close(p->fd);
    p->fd = -1;
    if (p->impaired) rt_impair_free(&p->imp);
    return rv;
  }
  ev_io_init(&p->io, peer_io_cb, p->fd, EV_READ);
  p->io.data = p;
  ev_io_start(loop, &p->io);
  ev_timer_init(&p->timer, peer_timer_cb, 0.0, 0.0);
  p->timer.data = p;
  ev_timer_init(&p->qtimer, peer_qtimer_cb, 0.0, 0.0);
  p->qtimer.data = p;
  ev_timer_init(&p->ttimer, peer_ttimer_cb, (double)RT_TRAV_TICK_NS / 1e9,
                (double)RT_TRAV_TICK_NS / 1e9);
  p->ttimer.data = p;
  ev_timer_start(loop, &p->ttimer);
  return 0;
}

static void peer_join_now(rt_peer *p, uint64_t now) {
  p->join_waiting = false;
  if (sc_node_join(p->node, p->join_boot, now) == SC_ERR_NOMEM) p->c.core_nomem++;
  rt_peer_after_core(p, now);
}

/* Traversal's tick; first, the end of the wait for a BINDING answer. */
static void peer_ttimer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_peer *p = w->data;
  uint64_t now = rt_now_ns();
  if (p->join_waiting) peer_join_now(p, now);
  (void)rt_trav_tick(&p->trav, now);
}

int rt_peer_join(rt_peer *p, uint32_t ip, uint16_t port) {
  sc_addr boot = SC_ADDR_NONE;
  if (ip != 0) {
    int rv = rt_addr_intern(p->addrs, ip, port, &boot);
    if (rv != 0) return rv;
  }
  uint64_t now = rt_now_ns();
  p->join_ns = now;
  p->join_boot = boot;
  if (boot == SC_ADDR_NONE) {
    int rv = sc_node_join(p->node, boot, now);
    rt_peer_after_core(p, now);
    return rv;
  }
  /* Ask first how the peer joined through sees this one: behind a router
   * the join must name the router's address for this peer (traverse.h). */
  rt_trav_ask_binding(&p->trav, boot, now);
  p->join_waiting = true;
  ev_timer_stop(p->loop, &p->ttimer);
  ev_timer_set(&p->ttimer, (double)RT_TRAV_BINDING_WAIT_NS / 1e9,
               (double)RT_TRAV_TICK_NS / 1e9);
  ev_timer_start(p->loop, &p->ttimer);
  return 0;
}

void rt_peer_depart(rt_peer *p) {
  if (!p->open || p->departing) return;
  p->departing = true;
  uint64_t now = rt_now_ns();
  if (sc_node_depart(p->node, now) == SC_ERR_NOMEM) p->c.core_nomem++;
  rt_peer_after_core(p, now);
}

void rt_peer_depart_finish(rt_peer *p) {
  if (!p->open) return;
  uint64_t now = rt_now_ns();
  sc_node_depart_finish(p->node, now);
  /* From here on the peer is gone: no timers, no input. Datagrams the
   * impairment layer holds (the LEAVEs) still go out on its timer. */
  ev_timer_stop(p->loop, &p->timer);
  ev_timer_stop(p->loop, &p->ttimer);
  ev_io_stop(p->loop, &p->io);
}

uint32_t rt_peer_queued(const rt_peer *p) {
  return p->impaired ? p->imp.n : 0;
}

void rt_peer_close(rt_peer *p) {
  if (!p->open) return;
  p->open = false;
  ev_io_stop(p->loop, &p->io);
  ev_timer_stop(p->loop, &p->timer);
  ev_timer_stop(p->loop, &p->qtimer);
  ev_timer_stop(p->loop, &p->ttimer);
  rt_portmap_stop(p->portmap);
  p->portmap = NULL;
  peer_extra_close(p, &p->alt_fd, &p->alt_io);
  for (unsigned i = 0; i < RT_TRAV_RELAYS; i++)
    peer_extra_close(p, &p->relay_fd[i], &p->relay_io[i]);
  sc_node_del(p->node);
  p->node = NULL;
  sc_guard_del(p->guard);
  p->guard = NULL;
  close(p->fd);
  p->fd = -1;
  if (p->impaired) rt_impair_free(&p->imp);
}

unsigned rt_peer_stripes_attached(const rt_peer *p) {
  return (unsigned)__builtin_popcount(p->stripes_attached);
}

int rt_peer_latency_pct_ms(const uint32_t *bins, double pct) {
  uint64_t total = 0;
  for (unsigned i = 0; i <= RT_LAT_BINS_MS; i++)
    total += bins[i];
  if (total == 0) return -1;
  /* The smallest bin at which the cumulative count reaches pct% (nearest
   * rank). */
  uint64_t rank = (uint64_t)(pct / 100.0 * (double)total + 0.999999);
  if (rank == 0) rank = 1;
  uint64_t cum = 0;
  for (unsigned i = 0; i <= RT_LAT_BINS_MS; i++) {
    cum += bins[i];
    if (cum >= rank) return (int)i;
  }
  return RT_LAT_BINS_MS;
}
