/* traverse.c — see traverse.h. */
#include "traverse.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "core/rng.h"

/* ------------------------------------------------------------ datagrams */

void rt_trav_encode(const rt_trav_msg *m, uint8_t out[RT_TRAV_LEN]) {
  out[0] = RT_TRAV_MAGIC;
  out[1] = m->type;
  sc_put_be64(out + 2, m->txid);
  sc_put_be32(out + 10, m->ip);
  sc_put_be16(out + 14, m->port);
}

int rt_trav_decode(const uint8_t *buf, size_t len, rt_trav_msg *out) {
  if (len < RT_TRAV_LEN || buf[0] != RT_TRAV_MAGIC) return SC_ERR_INVALID;
  if (buf[1] < RT_TRAV_BINDING_REQ || buf[1] >= RT_TRAV_TYPE_END) return SC_ERR_INVALID;
  if (buf[1] == RT_TRAV_RELAY ? (len == RT_TRAV_LEN || len > RT_TRAV_RELAY_MAX)
                              : len != RT_TRAV_LEN)
    return SC_ERR_INVALID;
  memset(out, 0, sizeof *out);
  if (buf[1] == RT_TRAV_RELAY) {
    out->payload = buf + RT_TRAV_LEN;
    out->payload_len = len - RT_TRAV_LEN;
  }
  out->type = buf[1];
  out->txid = sc_get_be64(buf + 2);
  out->ip = sc_get_be32(buf + 10);
  out->port = sc_get_be16(buf + 14);
  return 0;
}

size_t rt_trav_wrap(const uint8_t *buf, size_t len, uint32_t ip, uint16_t port,
                    uint8_t *out) {
  rt_trav_msg m = {.type = RT_TRAV_RELAY, .ip = ip, .port = port};
  rt_trav_encode(&m, out);
  memcpy(out + RT_TRAV_LEN, buf, len);
  return RT_TRAV_LEN + len;
}

const char *rt_trav_nat_name(enum rt_trav_nat n) {
  switch (n) {
  case RT_TRAV_NAT_NONE:
    return "none";
  case RT_TRAV_NAT_MAPPED:
    return "mapped";
  case RT_TRAV_NAT_SYMMETRIC:
    return "symmetric";
  default:
    return "unknown";
  }
}

/* ------------------------------------------------------------ contacts */

static bool fresh(uint64_t t_ns, uint64_t now) {
  return t_ns != 0 && now - t_ns < RT_TRAV_FRESH_NS;
}

/* The two slots a handle may sit in. */
static rt_trav_contact *contact_pair(rt_trav *t, sc_addr a) {
  uint32_t i = (uint32_t)sc_mix64(a) & (RT_TRAV_CONTACTS / 2 - 1);
  return &t->contact[2 * i];
}

static rt_trav_contact *contact_find(rt_trav *t, sc_addr a) {
  rt_trav_contact *c = contact_pair(t, a);
  if (c[0].addr == a) return &c[0];
  if (c[1].addr == a) return &c[1];
  return NULL;
}

static uint64_t last_activity(const rt_trav_contact *c) {
  return c->rx_ns > c->tx_ns ? c->rx_ns : c->tx_ns;
}

static void contact_reset(rt_trav_contact *c, sc_addr a) {
  memset(c, 0, sizeof *c);
  c->addr = a;
  c->introducer = SC_ADDR_NONE;
  c->punch_wait = 1;
}

/* The entry for a, made if new. With evict_active, traffic wins the slot
 * from the less recently active of the two; without, only an empty or idle
 * slot is taken (a peer merely named must not push out one in use). */
static rt_trav_contact *contact_get(rt_trav *t, sc_addr a, bool evict_active,
                                    uint64_t now) {
  rt_trav_contact *c = contact_find(t, a);
  if (c) return c;
  rt_trav_contact *pair = contact_pair(t, a);
  rt_trav_contact *v =
      pair[0].addr == SC_ADDR_NONE ? &pair[0]
      : pair[1].addr == SC_ADDR_NONE
          ? &pair[1]
          : (last_activity(&pair[0]) <= last_activity(&pair[1]) ? &pair[0] : &pair[1]);
  if (v->addr != SC_ADDR_NONE && !evict_active && fresh(last_activity(v), now))
    return NULL;
  contact_reset(v, a);
  return v;
}

/* ------------------------------------------------------------ sending */

static void trav_send(rt_trav *t, uint32_t ip, uint16_t port, const rt_trav_msg *m) {
  uint8_t buf[RT_TRAV_LEN];
  rt_trav_encode(m, buf);
  t->send(t->user, ip, port, buf, sizeof buf);
}

static bool trav_send_to(rt_trav *t, sc_addr to, const rt_trav_msg *m) {
  struct sockaddr_in sa;
  if (rt_addr_sockaddr(t->addrs, to, &sa) != 0) return false;
  trav_send(t, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port), m);
  return true;
}

/* A non-zero transaction id. */
static uint64_t trav_txid(rt_trav *t) {
  uint64_t x;
  do
    x = sc_rng_next(&t->rng);
  while (x == 0);
  return x;
}

void rt_trav_init(rt_trav *t, rt_addr_table *addrs, sc_addr self, uint32_t local_ip,
                  uint16_t local_port, uint64_t seed, rt_trav_send_fn send, void *user) {
  memset(t, 0, sizeof *t);
  t->addrs = addrs;
  t->self = self;
  t->local_ip = t->public_ip = local_ip;
  t->local_port = t->public_port = local_port;
  t->first_observer = SC_ADDR_NONE;
  t->alt_observer = SC_ADDR_NONE;
  t->relay_via = SC_ADDR_NONE;
  sc_rng_seed(&t->rng, sc_mix64(seed ^ 0x74726176ull));
  t->send = send;
  t->user = user;
  for (unsigned i = 0; i < RT_TRAV_CONTACTS; i++)
    contact_reset(&t->contact[i], SC_ADDR_NONE);
}

void rt_trav_set_sockets(rt_trav *t, const rt_trav_sockets *sockets) {
  t->sockets = sockets;
}

bool rt_trav_ready(const rt_trav *t) {
  switch (t->nat) {
  case RT_TRAV_NAT_NONE:
    return true;
  case RT_TRAV_NAT_MAPPED:
    return t->second_answered;
  case RT_TRAV_NAT_SYMMETRIC:
    return t->relayed || t->alloc_refused;
  default:
    return false;
  }
}

/* Whether this peer can offer what needs a public address: an alternate
 * port, a relay. */
static bool trav_public(const rt_trav *t) {
  return t->sockets && (t->nat == RT_TRAV_NAT_NONE || t->nat == RT_TRAV_NAT_UNKNOWN);
}

void rt_trav_ask_binding(rt_trav *t, sc_addr to, uint64_t now) {
  rt_trav_msg m = {.type = RT_TRAV_BINDING_REQ, .txid = trav_txid(t)};
  if (!trav_send_to(t, to, &m)) return;
  t->binding[t->binding_next].txid = m.txid;
  t->binding[t->binding_next].to = to;
  t->binding_next = (t->binding_next + 1) % RT_TRAV_BINDINGS;
  t->c.bindings_sent++;
  rt_trav_contact *c = contact_get(t, to, true, now);
  if (c) c->tx_ns = now;
}

void rt_trav_heard(rt_trav *t, sc_addr from, uint64_t now) {
  rt_trav_contact *c = contact_get(t, from, true, now);
  if (!c) return;
  c->rx_ns = now;
  c->punch_wait = 1;
  c->punch_ns = 0;
  c->punch_txid = 0;
}

void rt_trav_named(rt_trav *t, sc_addr a, sc_addr by, uint64_t now) {
  if (a == t->self || a == by || a == SC_ADDR_NONE) return;
  rt_trav_contact *c = contact_get(t, a, false, now);
  if (!c || fresh(c->rx_ns, now)) return;
  c->introducer = by;
}

/* Keeps a copy of a datagram for the punch txid to to answer; the oldest
 * held one makes room. */
static void trav_hold(rt_trav *t, uint64_t txid, sc_addr to, const uint8_t *dgram,
                      size_t len, uint64_t now) {
  if (len > sizeof t->held[0].data) return;
  rt_trav_held *h = &t->held[0];
  for (unsigned i = 0; i < RT_TRAV_HELD; i++) {
    if (t->held[i].txid == 0) {
      h = &t->held[i];
      break;
    }
    if (t->held[i].sent_ns < h->sent_ns) h = &t->held[i];
  }
  h->txid = txid;
  h->to = to;
  h->sent_ns = now;
  h->len = (uint16_t)len;
  memcpy(h->data, dgram, len);
}

void rt_trav_sending(rt_trav *t, sc_addr to, const uint8_t *dgram, size_t len,
                     uint64_t now) {
  rt_trav_contact *c = contact_get(t, to, true, now);
  if (!c) return;
  c->tx_ns = now;
  /* Through a relay every peer reaches this one, and it them: no punch. */
  if (fresh(c->rx_ns, now) || t->relayed) return;
  if (now < c->punch_ns) {
    /* A punch is out: the target's router drops this too until it is
     * answered. */
    if (c->punch_txid) trav_hold(t, c->punch_txid, to, dgram, len, now);
    return;
  }
  sc_addr via = c->introducer;
  if (via == SC_ADDR_NONE || via == to) return;
  const rt_trav_contact *vc = contact_find(t, via);
  if (!vc || !fresh(vc->rx_ns, now)) return;
  struct sockaddr_in sa;
  if (rt_addr_sockaddr(t->addrs, to, &sa) != 0) return;
  rt_trav_msg m = {.type = RT_TRAV_PUNCH_REQ,
                   .txid = trav_txid(t),
                   .ip = ntohl(sa.sin_addr.s_addr),
                   .port = ntohs(sa.sin_port)};
  if (!trav_send_to(t, via, &m)) return;
  t->c.punch_requests_sent++;
  c->punch_txid = m.txid;
  c->punch_ns = now + (uint64_t)c->punch_wait * RT_TRAV_PUNCH_MIN_NS;
  if ((uint64_t)c->punch_wait * 2 * RT_TRAV_PUNCH_MIN_NS <= RT_TRAV_PUNCH_MAX_NS)
    c->punch_wait *= 2;
  /* The datagram the punch is for: the target's router drops it now, and
   * the HELLO that answers says when it would pass. */
  trav_hold(t, m.txid, to, dgram, len, now);
}

/* ------------------------------------------------------------ receiving */

static void trav_adopt(rt_trav *t, uint32_t ip, uint16_t port) {
  if (ip == t->public_ip && port == t->public_port) return;
  if (rt_addr_rebind(t->addrs, t->self, ip, port) != 0) return;
  t->public_ip = ip;
  t->public_port = port;
  t->c.address_changes++;
}

static void on_binding(rt_trav *t, const rt_trav_msg *m, sc_addr src, uint64_t now) {
  unsigned k;
  for (k = 0; k < RT_TRAV_BINDINGS; k++)
    if (t->binding[k].txid == m->txid && t->binding[k].to == src) break;
  if (k == RT_TRAV_BINDINGS || m->txid == 0 || m->ip == 0 || m->port == 0) {
    t->c.rx_unknown++;
    return;
  }
  t->binding[k].txid = 0;
  t->c.bindings_got++;
  rt_trav_heard(t, src, now);
  bool same = m->ip == t->public_ip && m->port == t->public_port;
  if (t->nat == RT_TRAV_NAT_UNKNOWN) {
    /* The first answer is taken as it is: the peer joined through. */
    t->first_observer = src;
    trav_adopt(t, m->ip, m->port);
    t->nat = (m->ip == t->local_ip && m->port == t->local_port) ? RT_TRAV_NAT_NONE
                                                                : RT_TRAV_NAT_MAPPED;
    return;
  }
  if (src != t->first_observer) t->second_answered = true;
  if (same || src == t->first_observer) return;
  if (t->nat == RT_TRAV_NAT_MAPPED && m->ip == t->public_ip) {
    /* One router, another port for another peer: every peer sees this one
     * elsewhere, and only a relay can be its address. Asked of the peer
     * joined through, before the join (the answer came to the alternate
     * port that peer offered), so that the peer joins at the relay's
     * address. */
    t->nat = RT_TRAV_NAT_SYMMETRIC;
    if (src == t->alt_observer && !t->relayed) {
      rt_trav_msg a = {.type = RT_TRAV_ALLOCATE, .txid = trav_txid(t)};
      if (trav_send_to(t, t->first_observer, &a)) t->alloc_txid = a.txid;
    }
    return;
  }
  if (t->nat == RT_TRAV_NAT_SYMMETRIC) return;
  /* Seen elsewhere by a second peer: the router's mapping (or the route)
   * changed. The observer becomes the reference for the next check. */
  t->first_observer = src;
  trav_adopt(t, m->ip, m->port);
  t->nat = (m->ip == t->local_ip && m->port == t->local_port) ? RT_TRAV_NAT_NONE
                                                              : RT_TRAV_NAT_MAPPED;
}

static void on_punch_req(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip,
                         uint16_t src_port, uint64_t now) {
  sc_addr target;
  const rt_trav_contact *c;
  if (rt_addr_find(t->addrs, m->ip, m->port, &target) != 0 ||
      (c = contact_find(t, target)) == NULL || !fresh(c->rx_ns, now)) {
    /* Only a peer that talks with the target can reach it through its router. */
    t->c.punches_unreachable++;
    return;
  }
  rt_trav_msg p = {
      .type = RT_TRAV_PUNCH, .txid = m->txid, .ip = src_ip, .port = src_port};
  trav_send(t, m->ip, m->port, &p);
  t->c.punches_forwarded++;
}

static void on_punch(rt_trav *t, const rt_trav_msg *m, sc_addr src, uint64_t now) {
  const rt_trav_contact *c = contact_find(t, src);
  if (!c || !fresh(c->rx_ns, now) || m->ip == 0 || m->port == 0) {
    t->c.rx_unknown++;
    return;
  }
  rt_trav_msg h = {.type = RT_TRAV_HELLO, .txid = m->txid};
  trav_send(t, m->ip, m->port, &h);
  t->c.hellos_sent++;
  sc_addr asker;
  if (rt_addr_find(t->addrs, m->ip, m->port, &asker) == 0) {
    rt_trav_contact *ac = contact_get(t, asker, true, now);
    if (ac) ac->tx_ns = now;
  }
}

static void on_hello(rt_trav *t, const rt_trav_msg *m, sc_addr src, uint64_t now) {
  t->c.hellos_got++;
  rt_trav_heard(t, src, now);
  if (m->txid == 0) return;
  struct sockaddr_in sa;
  if (rt_addr_sockaddr(t->addrs, src, &sa) != 0) return;
  /* What was held for this punch, in the order it was sent. */
  for (;;) {
    rt_trav_held *first = NULL;
    for (unsigned i = 0; i < RT_TRAV_HELD; i++) {
      rt_trav_held *h = &t->held[i];
      if (h->txid == m->txid && h->to == src && (!first || h->sent_ns < first->sent_ns))
        first = h;
    }
    if (!first) break;
    t->send(t->user, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port), first->data,
            first->len);
    t->c.held_resent++;
    first->txid = 0;
  }
}

/* ---------------------------------------------- alternate port, relays */

/* A BINDING answered on the alternate port when this peer is public. */
static void answer_binding(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip,
                           uint16_t src_port) {
  if (trav_public(t) && t->sockets->alt_open) {
    if (!t->alt_port) t->alt_port = t->sockets->alt_open(t->sockets->user);
    if (t->alt_port) {
      /* First, so that the asker knows a second view is coming when the
       * BINDING arrives. */
      rt_trav_msg alt = {
          .type = RT_TRAV_ALT, .txid = m->txid, .ip = t->public_ip, .port = t->alt_port};
      trav_send(t, src_ip, src_port, &alt);
    }
  }
  /* Anyone may ask (a peer about to join is known to nobody). The answer
   * is no larger than the question: no amplification for a spoofer. */
  rt_trav_msg a = {
      .type = RT_TRAV_BINDING, .txid = m->txid, .ip = src_ip, .port = src_port};
  trav_send(t, src_ip, src_port, &a);
  t->c.bindings_answered++;
}

void rt_trav_recv_alt(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip,
                      uint16_t src_port) {
  if (m->type != RT_TRAV_BINDING_REQ || !t->sockets || !t->sockets->alt_send) {
    t->c.rx_unknown++;
    return;
  }
  rt_trav_msg a = {
      .type = RT_TRAV_BINDING, .txid = m->txid, .ip = src_ip, .port = src_port};
  uint8_t buf[RT_TRAV_LEN];
  rt_trav_encode(&a, buf);
  t->sockets->alt_send(t->sockets->user, src_ip, src_port, buf, sizeof buf);
  t->c.bindings_answered++;
}

/* The first observer offers its alternate port: ask there too. */
static void on_alt(rt_trav *t, const rt_trav_msg *m, sc_addr src, uint64_t now) {
  unsigned k;
  for (k = 0; k < RT_TRAV_BINDINGS; k++)
    if (t->binding[k].txid == m->txid && t->binding[k].to == src) break;
  sc_addr alt;
  if (k == RT_TRAV_BINDINGS || t->nat != RT_TRAV_NAT_UNKNOWN || m->port == 0 ||
      rt_addr_intern(t->addrs, m->ip, m->port, &alt) != 0) {
    t->c.rx_unknown++;
    return;
  }
  t->alt_observer = alt;
  rt_trav_ask_binding(t, alt, now);
}

static void on_allocated(rt_trav *t, const rt_trav_msg *m, sc_addr src) {
  if (m->txid != t->alloc_txid || m->txid == 0 || src != t->first_observer) {
    t->c.rx_unknown++;
    return;
  }
  if (t->relayed) return; /* a refresh, answered */
  if (m->port == 0 || m->ip == 0) {
    t->alloc_refused = true;
    return;
  }
  if (rt_addr_rebind(t->addrs, t->self, m->ip, m->port) != 0) return;
  t->public_ip = m->ip;
  t->public_port = m->port;
  t->relayed = true;
  t->relay_via = src;
  t->c.address_changes++;
}

static int relay_of_client(const rt_trav *t, uint32_t ip, uint16_t port) {
  for (unsigned i = 0; i < RT_TRAV_RELAYS; i++)
    if (t->relay[i].open && t->relay[i].client_ip == ip &&
        t->relay[i].client_port == port)
      return (int)i;
  return -1;
}

/* A peer behind a symmetric NAT asks for (or refreshes) a relay. */
static void on_allocate(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip,
                        uint16_t src_port, uint64_t now) {
  rt_trav_msg a = {.type = RT_TRAV_ALLOCATED, .txid = m->txid};
  int i = relay_of_client(t, src_ip, src_port);
  if (i < 0 && trav_public(t) && t->sockets->relay_open) {
    for (unsigned k = 0; k < RT_TRAV_RELAYS && i < 0; k++) {
      if (t->relay[k].open) continue;
      uint16_t port = t->sockets->relay_open(t->sockets->user, k);
      if (!port) break;
      rt_trav_relay *r = &t->relay[k];
      memset(r, 0, sizeof *r);
      r->open = true;
      r->client_ip = src_ip;
      r->client_port = src_port;
      r->port = port;
      r->txid = m->txid;
      t->c.relays_opened++;
      i = (int)k;
    }
  }
  if (i < 0) {
    t->c.relays_refused++;
  } else {
    t->relay[i].used_ns = now;
    a.ip = t->public_ip;
    a.port = t->relay[i].port;
  }
  trav_send(t, src_ip, src_port, &a);
}

static void on_relay(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip, uint16_t src_port,
                     sc_addr src, uint64_t now) {
  int i = relay_of_client(t, src_ip, src_port);
  if (i >= 0) {
    /* From a client: out through its relay socket. */
    t->relay[i].used_ns = now;
    t->sockets->relay_send(t->sockets->user, (unsigned)i, m->ip, m->port, m->payload,
                           m->payload_len);
    t->c.relay_dgrams_out++;
  } else if (t->relayed && src == t->relay_via && t->sockets && t->sockets->relayed_in) {
    /* For this peer, through its relay. */
    t->c.relayed_dgrams_got++;
    t->sockets->relayed_in(t->sockets->user, m->ip, m->port, m->payload, m->payload_len);
  } else {
    t->c.rx_unknown++;
  }
}

void rt_trav_relay_arrival(rt_trav *t, unsigned i, uint32_t ip, uint16_t port,
                           const uint8_t *buf, size_t len, uint64_t now) {
  (void)now;
  if (i >= RT_TRAV_RELAYS || !t->relay[i].open || len == 0 || len > SC_WIRE_DATAGRAM_MAX)
    return;
  uint8_t out[RT_TRAV_RELAY_MAX];
  size_t n = rt_trav_wrap(buf, len, ip, port, out);
  t->send(t->user, t->relay[i].client_ip, t->relay[i].client_port, out, n);
  t->c.relay_dgrams_in++;
}

void rt_trav_recv(rt_trav *t, const rt_trav_msg *m, uint32_t src_ip, uint16_t src_port,
                  uint64_t now) {
  sc_addr src = SC_ADDR_NONE;
  bool known = rt_addr_find(t->addrs, src_ip, src_port, &src) == 0;
  switch (m->type) {
  case RT_TRAV_BINDING_REQ:
    answer_binding(t, m, src_ip, src_port);
    return;
  case RT_TRAV_PUNCH_REQ:
    on_punch_req(t, m, src_ip, src_port, now);
    return;
  case RT_TRAV_ALLOCATE:
    on_allocate(t, m, src_ip, src_port, now);
    return;
  case RT_TRAV_RELAY:
    on_relay(t, m, src_ip, src_port, src, now);
    return;
  default:
    break;
  }
  if (!known) {
    t->c.rx_unknown++;
    return;
  }
  switch (m->type) {
  case RT_TRAV_BINDING:
    on_binding(t, m, src, now);
    break;
  case RT_TRAV_PUNCH:
    on_punch(t, m, src, now);
    break;
  case RT_TRAV_HELLO:
    on_hello(t, m, src, now);
    break;
  case RT_TRAV_ALT:
    on_alt(t, m, src, now);
    break;
  case RT_TRAV_ALLOCATED:
    on_allocated(t, m, src);
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------ timers */

/* The contact other than avoid last active (sent to or heard from) within
 * RT_TRAV_FRESH_NS, or SC_ADDR_NONE. Sent to is enough: a BINDING request
 * opens the way for its own answer, even through a router that would drop
 * anything else from that peer. */
static sc_addr freshest_contact(const rt_trav *t, sc_addr avoid, uint64_t now) {
  sc_addr best = SC_ADDR_NONE;
  uint64_t best_t = 0;
  for (unsigned i = 0; i < RT_TRAV_CONTACTS; i++) {
    const rt_trav_contact *c = &t->contact[i];
    uint64_t at = last_activity(c);
    if (c->addr == SC_ADDR_NONE || c->addr == avoid || !fresh(at, now)) continue;
    if (at > best_t) {
      best_t = at;
      best = c->addr;
    }
  }
  return best;
}

/* The next contact after the cursor, other than avoid, active within
 * RT_TRAV_FRESH_NS, or SC_ADDR_NONE: each call another one. */
static sc_addr next_contact(rt_trav *t, sc_addr avoid, uint64_t now) {
  for (unsigned k = 0; k < RT_TRAV_CONTACTS; k++) {
    const rt_trav_contact *c = &t->contact[(t->ask_cursor + k) % RT_TRAV_CONTACTS];
    if (c->addr == SC_ADDR_NONE || c->addr == avoid || !fresh(last_activity(c), now))
      continue;
    t->ask_cursor = (t->ask_cursor + k + 1) % RT_TRAV_CONTACTS;
    return c->addr;
  }
  return SC_ADDR_NONE;
}

uint64_t rt_trav_tick(rt_trav *t, uint64_t now) {
  if (now < t->tick_ns) return t->tick_ns;
  t->tick_ns = now + RT_TRAV_TICK_NS;
  for (unsigned i = 0; i < RT_TRAV_HELD; i++)
    if (t->held[i].txid && now - t->held[i].sent_ns > RT_TRAV_PUNCH_MAX_NS)
      t->held[i].txid = 0;
  for (unsigned i = 0; i < RT_TRAV_RELAYS; i++) {
    rt_trav_relay *r = &t->relay[i];
    if (r->open && now - r->used_ns > RT_TRAV_RELAY_IDLE_NS) {
      r->open = false;
      t->sockets->relay_close(t->sockets->user, i);
    }
  }
  if (t->relayed) {
    /* The relay's lease, and the router's way to it. */
    if (now >= t->alloc_refresh_ns) {
      rt_trav_msg a = {.type = RT_TRAV_ALLOCATE, .txid = t->alloc_txid};
      trav_send_to(t, t->relay_via, &a);
      t->alloc_refresh_ns = now + RT_TRAV_KEEPALIVE_NS;
    }
    return t->tick_ns;
  }
  if (t->nat == RT_TRAV_NAT_UNKNOWN) return t->tick_ns;
  /* A second peer's view: the same address, or a symmetric NAT. Until one
   * answers, another contact each tick (a peer behind its own router may
   * never see the question). */
  if (!t->second_answered) {
    sc_addr other = next_contact(t, t->first_observer, now);
    if (other != SC_ADDR_NONE) rt_trav_ask_binding(t, other, now);
    t->recheck_ns = now + RT_TRAV_RECHECK_NS;
  } else if (now >= t->recheck_ns) {
    sc_addr other = freshest_contact(t, t->first_observer, now);
    if (other == SC_ADDR_NONE) other = freshest_contact(t, SC_ADDR_NONE, now);
    if (other != SC_ADDR_NONE) rt_trav_ask_binding(t, other, now);
    t->recheck_ns = now + RT_TRAV_RECHECK_NS;
  }
  if (t->nat == RT_TRAV_NAT_NONE) return t->tick_ns;
  /* Behind a router: no peer we hear from may go RT_TRAV_KEEPALIVE_NS
   * without a datagram from us, or the router forgets the mapping. */
  rt_trav_msg ka = {.type = RT_TRAV_HELLO};
  for (unsigned i = 0; i < RT_TRAV_CONTACTS; i++) {
    rt_trav_contact *c = &t->contact[i];
    if (c->addr == SC_ADDR_NONE || !fresh(c->rx_ns, now)) continue;
    if (now - c->tx_ns + RT_TRAV_TICK_NS < RT_TRAV_KEEPALIVE_NS) continue;
    if (trav_send_to(t, c->addr, &ka)) {
      c->tx_ns = now;
      t->c.keepalives_sent++;
    }
  }
  return t->tick_ns;
}
