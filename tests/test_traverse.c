/*
 * test_traverse.c — NAT traversal's logic (runtime/traverse.h), with peers
 * that exchange datagrams by hand: the datagram format and its strict
 * parser, a public address learnt from a BINDING answer (and the handle
 * re-pointed at it), a symmetric NAT told from a second answer, a punch
 * through an introducer with the held datagrams sent again in order,
 * keep-alives only from behind a router, a contact table that names alone
 * cannot flush, a second view on an alternate port, and a relay for a peer
 * behind a symmetric NAT (both ways, leased, bounded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "runtime/traverse.h"

#define S  1000000000ull
#define T0 (100 * S)

/* Home A behind router 203.0.113.21, C public, X behind 203.0.113.22. */
#define A_LOCAL_IP  0xc0a80102u /* 192.168.1.2 */
#define A_PUBLIC_IP 0xcb007115u /* 203.0.113.21 */
#define C_IP        0xcb00710au /* 203.0.113.10 */
#define X_LOCAL_IP  0xc0a80202u /* 192.168.2.2 */
#define X_PUBLIC_IP 0xcb007116u /* 203.0.113.22 */
#define PORT        9000

/* What one peer sent, for the test to deliver or inspect. */
typedef struct sent {
  uint32_t ip;
  uint16_t port;
  size_t len;
  uint8_t data[SC_WIRE_DATAGRAM_MAX];
} sent;

typedef struct peer {
  rt_addr_table addrs;
  rt_trav t;
  sc_addr self;
  sent out[64];
  unsigned nout;
  /* The fake sockets: the alternate port's, the relays', what came in
   * through a relay. */
  rt_trav_sockets sockets;
  sent alt_out[8], relay_out[8], relayed_in[8];
  unsigned nalt, nrelay_out, nrelayed_in;
  unsigned relay_slot[8]; /* relay_send's slot, per relay_out */
  bool relay_open[RT_TRAV_RELAYS];
} peer;

static void fake_send(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                      size_t len) {
  peer *p = user;
  assert_true(p->nout < 64);
  sent *s = &p->out[p->nout++];
  s->ip = ip;
  s->port = port;
  s->len = len;
  memcpy(s->data, buf, len);
}

static void record(sent *s, uint32_t ip, uint16_t port, const uint8_t *buf, size_t len) {
  s->ip = ip;
  s->port = port;
  s->len = len;
  memcpy(s->data, buf, len);
}

static uint16_t fake_alt_open(void *user) {
  (void)user;
  return 40000;
}

static void fake_alt_send(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                          size_t len) {
  peer *p = user;
  assert_true(p->nalt < 8);
  record(&p->alt_out[p->nalt++], ip, port, buf, len);
}

static uint16_t fake_relay_open(void *user, unsigned i) {
  peer *p = user;
  assert_false(p->relay_open[i]);
  p->relay_open[i] = true;
  return (uint16_t)(50000 + i);
}

static void fake_relay_send(void *user, unsigned i, uint32_t ip, uint16_t port,
                            const uint8_t *buf, size_t len) {
  peer *p = user;
  assert_true(p->relay_open[i] && p->nrelay_out < 8);
  p->relay_slot[p->nrelay_out] = i;
  record(&p->relay_out[p->nrelay_out++], ip, port, buf, len);
}

static void fake_relay_close(void *user, unsigned i) {
  peer *p = user;
  assert_true(p->relay_open[i]);
  p->relay_open[i] = false;
}

static void fake_relayed_in(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                            size_t len) {
  peer *p = user;
  assert_true(p->nrelayed_in < 8);
  record(&p->relayed_in[p->nrelayed_in++], ip, port, buf, len);
}

static void with_sockets(peer *p) {
  p->sockets = (rt_trav_sockets){.user = p,
                                 .alt_open = fake_alt_open,
                                 .alt_send = fake_alt_send,
                                 .relay_open = fake_relay_open,
                                 .relay_send = fake_relay_send,
                                 .relay_close = fake_relay_close,
                                 .relayed_in = fake_relayed_in};
  rt_trav_set_sockets(&p->t, &p->sockets);
}

static peer *peer_new(uint32_t ip, uint16_t port, uint64_t seed) {
  peer *p = test_calloc(1, sizeof *p);
  assert_int_equal(rt_addr_init(&p->addrs, 4096), 0);
  assert_int_equal(rt_addr_intern(&p->addrs, ip, port, &p->self), 0);
  rt_trav_init(&p->t, &p->addrs, p->self, ip, port, seed, fake_send, p);
  return p;
}

static void peer_free(peer *p) {
  rt_addr_free(&p->addrs);
  test_free(p);
}

static sc_addr handle(peer *p, uint32_t ip, uint16_t port) {
  sc_addr a;
  assert_int_equal(rt_addr_intern(&p->addrs, ip, port, &a), 0);
  return a;
}

/* Hands p's i-th datagram to q as coming from ip:port; returns its message. */
static rt_trav_msg deliver(peer *p, unsigned i, peer *q, uint32_t ip, uint16_t port,
                           uint64_t now) {
  rt_trav_msg m;
  assert_int_equal(rt_trav_decode(p->out[i].data, p->out[i].len, &m), 0);
  rt_trav_recv(&q->t, &m, ip, port, now);
  return m;
}

static void test_datagram_format(void **state) {
  (void)state;
  rt_trav_msg m = {
      .type = RT_TRAV_PUNCH, .txid = 0x0102030405060708ull, .ip = C_IP, .port = 65535};
  uint8_t b[RT_TRAV_LEN];
  rt_trav_encode(&m, b);
  assert_int_equal(b[0], RT_TRAV_MAGIC);
  assert_int_not_equal(b[0], SC_WIRE_VERSION);
  rt_trav_msg d;
  assert_int_equal(rt_trav_decode(b, sizeof b, &d), 0);
  assert_int_equal(d.type, m.type);
  assert_true(d.txid == m.txid && d.ip == m.ip && d.port == m.port);
  /* Anything else is refused: a length off by one, another first byte, an
   * unknown type. */
  assert_int_equal(rt_trav_decode(b, sizeof b - 1, &d), SC_ERR_INVALID);
  uint8_t longer[RT_TRAV_LEN + 1] = {0};
  memcpy(longer, b, sizeof b);
  assert_int_equal(rt_trav_decode(longer, sizeof longer, &d), SC_ERR_INVALID);
  b[0] = SC_WIRE_VERSION;
  assert_int_equal(rt_trav_decode(b, sizeof b, &d), SC_ERR_INVALID);
  b[0] = RT_TRAV_MAGIC;
  b[1] = 0;
  assert_int_equal(rt_trav_decode(b, sizeof b, &d), SC_ERR_INVALID);
  b[1] = RT_TRAV_TYPE_END;
  assert_int_equal(rt_trav_decode(b, sizeof b, &d), SC_ERR_INVALID);
}

static void test_public_address_from_binding(void **state) {
  (void)state;
  peer *a = peer_new(A_LOCAL_IP, PORT, 1);
  peer *c = peer_new(C_IP, PORT, 2);
  sc_addr a_c = handle(a, C_IP, PORT);
  rt_trav_ask_binding(&a->t, a_c, T0);
  assert_int_equal(a->nout, 1);
  /* C sees A at its router's address and says so. */
  deliver(a, 0, c, A_PUBLIC_IP, PORT, T0);
  assert_int_equal(c->nout, 1);
  assert_int_equal(c->t.c.bindings_answered, 1);
  /* An answer that does not echo the question's txid changes nothing. */
  rt_trav_msg forged = {.type = RT_TRAV_BINDING, .txid = 42, .ip = 0x01020304, .port = 7};
  rt_trav_recv(&a->t, &forged, C_IP, PORT, T0);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_UNKNOWN);
  assert_int_equal(a->t.c.rx_unknown, 1);
  deliver(c, 0, a, C_IP, PORT, T0);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_MAPPED);
  assert_int_equal(a->t.public_ip, A_PUBLIC_IP);
  /* The handle stays; it names the public address now. */
  sc_addr found;
  assert_int_equal(rt_addr_find(&a->addrs, A_PUBLIC_IP, PORT, &found), 0);
  assert_int_equal(found, a->self);
  assert_int_equal(rt_addr_find(&a->addrs, A_LOCAL_IP, PORT, &found), SC_ERR_NOT_FOUND);
  struct sockaddr_in sa;
  assert_int_equal(rt_addr_sockaddr(&a->addrs, a->self, &sa), 0);
  assert_int_equal(ntohl(sa.sin_addr.s_addr), A_PUBLIC_IP);
  /* A replayed answer is not taken twice. */
  deliver(c, 0, a, C_IP, PORT, T0);
  assert_int_equal(a->t.c.address_changes, 1);

  /* A peer seen where it bound has no NAT. */
  peer *p = peer_new(C_IP, PORT + 1, 3);
  rt_trav_ask_binding(&p->t, handle(p, C_IP, PORT), T0);
  deliver(p, 0, c, C_IP, PORT + 1, T0);
  deliver(c, 1, p, C_IP, PORT, T0);
  assert_int_equal(p->t.nat, RT_TRAV_NAT_NONE);
  assert_int_equal(p->t.c.address_changes, 0);
  peer_free(p);
  peer_free(a);
  peer_free(c);
}

static void test_symmetric_nat_from_second_answer(void **state) {
  (void)state;
  peer *a = peer_new(A_LOCAL_IP, PORT, 1);
  peer *c = peer_new(C_IP, PORT, 2);
  peer *d = peer_new(C_IP, PORT + 1, 3);
  rt_trav_ask_binding(&a->t, handle(a, C_IP, PORT), T0);
  /* The router gives the way to C port 40001 ... */
  deliver(a, 0, c, A_PUBLIC_IP, 40001, T0);
  deliver(c, 0, a, C_IP, PORT, T0);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_MAPPED);
  /* ... and, at the next tick, the way to D (a contact) another port. */
  rt_trav_sending(&a->t, handle(a, C_IP, PORT + 1), (const uint8_t *)"x", 1, T0);
  unsigned before = a->nout;
  rt_trav_tick(&a->t, T0 + S);
  assert_int_equal(a->nout, before + 1);
  rt_trav_msg q = deliver(a, before, d, A_PUBLIC_IP, 40002, T0 + S);
  assert_int_equal(q.type, RT_TRAV_BINDING_REQ);
  deliver(d, 0, a, C_IP, PORT + 1, T0 + S);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_SYMMETRIC);
  /* The first address stays announced. */
  assert_int_equal(a->t.public_port, 40001);
  assert_string_equal(rt_trav_nat_name(a->t.nat), "symmetric");
  peer_free(a);
  peer_free(c);
  peer_free(d);
}

/* A (behind a router) learnt of X (behind another) from C, which talks with
 * both. A's datagrams to X pass X's router only once X has sent to A. */
static void test_punch_through_introducer(void **state) {
  (void)state;
  peer *a = peer_new(A_PUBLIC_IP, PORT, 1);
  peer *c = peer_new(C_IP, PORT, 2);
  peer *x = peer_new(X_PUBLIC_IP, PORT, 3);
  sc_addr a_c = handle(a, C_IP, PORT), a_x = handle(a, X_PUBLIC_IP, PORT);
  sc_addr c_x = handle(c, X_PUBLIC_IP, PORT);
  sc_addr x_c = handle(x, C_IP, PORT);
  rt_trav_heard(&a->t, a_c, T0);
  rt_trav_heard(&c->t, c_x, T0);
  rt_trav_heard(&x->t, x_c, T0);
  rt_trav_named(&a->t, a_x, a_c, T0);
  /* The first datagram to X asks C for a punch; so does no later one
   * within the back-off, but every one is held. */
  rt_trav_sending(&a->t, a_x, (const uint8_t *)"first", 5, T0);
  rt_trav_sending(&a->t, a_x, (const uint8_t *)"second", 6, T0 + 1);
  assert_int_equal(a->nout, 1);
  assert_int_equal(a->t.c.punch_requests_sent, 1);
  assert_int_equal(a->out[0].ip, C_IP);
  rt_trav_msg req = deliver(a, 0, c, A_PUBLIC_IP, PORT, T0);
  assert_int_equal(req.type, RT_TRAV_PUNCH_REQ);
  assert_int_equal(req.ip, X_PUBLIC_IP);
  /* C passes it on to X, naming A where C sees it. */
  assert_int_equal(c->nout, 1);
  assert_int_equal(c->out[0].ip, X_PUBLIC_IP);
  rt_trav_msg punch = deliver(c, 0, x, C_IP, PORT, T0);
  assert_int_equal(punch.type, RT_TRAV_PUNCH);
  assert_int_equal(punch.ip, A_PUBLIC_IP);
  /* X says hello to A, which opens X's router toward A ... */
  assert_int_equal(x->nout, 1);
  assert_int_equal(x->out[0].ip, A_PUBLIC_IP);
  deliver(x, 0, a, X_PUBLIC_IP, PORT, T0);
  /* ... and A sends what it held, in order. */
  assert_int_equal(a->nout, 3);
  assert_int_equal(a->out[1].len, 5);
  assert_memory_equal(a->out[1].data, "first", 5);
  assert_memory_equal(a->out[2].data, "second", 6);
  assert_int_equal(a->t.c.held_resent, 2);
  /* X is heard from now: no more punches. */
  rt_trav_sending(&a->t, a_x, (const uint8_t *)"third", 5, T0 + 2 * S);
  assert_int_equal(a->t.c.punch_requests_sent, 1);

  /* A punch for a peer C has not heard from lately is not passed on. */
  rt_trav_msg stale = {
      .type = RT_TRAV_PUNCH_REQ, .txid = 9, .ip = X_PUBLIC_IP, .port = PORT};
  rt_trav_recv(&c->t, &stale, A_PUBLIC_IP, PORT, T0 + RT_TRAV_FRESH_NS + S);
  assert_int_equal(c->t.c.punches_unreachable, 1);
  assert_int_equal(c->nout, 1);
  /* Nor does X answer a PUNCH from a peer it does not talk with. */
  rt_trav_msg odd = {.type = RT_TRAV_PUNCH, .txid = 9, .ip = 0x01020304, .port = 5};
  rt_trav_recv(&x->t, &odd, 0x05060708, PORT, T0);
  assert_int_equal(x->nout, 1);
  peer_free(a);
  peer_free(c);
  peer_free(x);
}

static void test_keepalives_only_behind_a_router(void **state) {
  (void)state;
  peer *a = peer_new(A_LOCAL_IP, PORT, 1);
  peer *c = peer_new(C_IP, PORT, 2);
  sc_addr a_c = handle(a, C_IP, PORT);
  rt_trav_ask_binding(&a->t, a_c, T0);
  deliver(a, 0, c, A_PUBLIC_IP, PORT, T0);
  deliver(c, 0, a, C_IP, PORT, T0);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_MAPPED);
  /* C keeps talking to A; A says nothing for a while. */
  for (uint64_t t = T0; t <= T0 + 45 * S; t += S) {
    rt_trav_heard(&a->t, a_c, t);
    rt_trav_tick(&a->t, t);
  }
  /* Never RT_TRAV_KEEPALIVE_NS of silence toward C. */
  assert_true(a->t.c.keepalives_sent >= 2);
  uint64_t last_tx = a->t.contact[0].tx_ns;
  for (unsigned i = 0; i < RT_TRAV_CONTACTS; i++)
    if (a->t.contact[i].addr == a_c) last_tx = a->t.contact[i].tx_ns;
  assert_true(T0 + 45 * S - last_tx < RT_TRAV_KEEPALIVE_NS);
  /* A peer with no router sends none. */
  peer *p = peer_new(C_IP, PORT + 1, 3);
  sc_addr p_c = handle(p, C_IP, PORT);
  rt_trav_ask_binding(&p->t, p_c, T0);
  deliver(p, 0, c, C_IP, PORT + 1, T0);
  deliver(c, 1, p, C_IP, PORT, T0);
  assert_int_equal(p->t.nat, RT_TRAV_NAT_NONE);
  for (uint64_t t = T0; t <= T0 + 45 * S; t += S) {
    rt_trav_heard(&p->t, p_c, t);
    rt_trav_tick(&p->t, t);
  }
  assert_int_equal(p->t.c.keepalives_sent, 0);
  peer_free(p);
  peer_free(a);
  peer_free(c);
}

static void test_names_do_not_flush_contacts(void **state) {
  (void)state;
  peer *a = peer_new(A_PUBLIC_IP, PORT, 1);
  sc_addr talk[64];
  for (unsigned i = 0; i < 64; i++) {
    talk[i] = handle(a, 0x0a000001u + i, PORT);
    rt_trav_heard(&a->t, talk[i], T0);
  }
  /* A flood of names (as a hostile ROW could carry) ... */
  for (unsigned i = 0; i < 3000; i++)
    rt_trav_named(&a->t, handle(a, 0x0b000001u + i, PORT), talk[0], T0 + S);
  /* ... leaves every peer A talks with in the table. */
  for (unsigned i = 0; i < 64; i++) {
    bool in = false;
    for (unsigned k = 0; k < RT_TRAV_CONTACTS; k++)
      in |= a->t.contact[k].addr == talk[i] && a->t.contact[k].rx_ns == T0;
    assert_true(in);
  }
  peer_free(a);
}

/* A peer joining through public C: C offers its alternate port; the second
 * view there is the same (an endpoint-independent router) or not (a
 * symmetric one, which gets a relay at C). */
static peer *second_view(peer *c, uint16_t alt_seen_port) {
  peer *a = peer_new(A_LOCAL_IP, PORT, 1);
  with_sockets(a);
  rt_trav_ask_binding(&a->t, handle(a, C_IP, PORT), T0);
  deliver(a, 0, c, A_PUBLIC_IP, 40001, T0);
  /* C: ALT, then BINDING. */
  unsigned first = c->nout - 2;
  assert_int_equal(c->out[first].data[1], RT_TRAV_ALT);
  assert_int_equal(c->out[first + 1].data[1], RT_TRAV_BINDING);
  rt_trav_msg alt = deliver(c, first, a, C_IP, PORT, T0);
  assert_int_equal(alt.port, 40000);
  /* A asks at the alternate port at once ... */
  assert_int_equal(a->nout, 2);
  assert_int_equal(a->out[1].port, 40000);
  deliver(c, first + 1, a, C_IP, PORT, T0);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_MAPPED);
  assert_false(rt_trav_ready(&a->t)); /* not before the second view */
  /* ... which C answers from that port. */
  rt_trav_msg q;
  assert_int_equal(rt_trav_decode(a->out[1].data, a->out[1].len, &q), 0);
  unsigned nalt = c->nalt;
  rt_trav_recv_alt(&c->t, &q, A_PUBLIC_IP, alt_seen_port);
  assert_int_equal(c->nalt, nalt + 1);
  rt_trav_msg ans;
  assert_int_equal(rt_trav_decode(c->alt_out[nalt].data, c->alt_out[nalt].len, &ans), 0);
  rt_trav_recv(&a->t, &ans, C_IP, 40000, T0);
  return a;
}

static void test_second_view_on_the_alternate_port(void **state) {
  (void)state;
  peer *c = peer_new(C_IP, PORT, 2);
  with_sockets(c);
  peer *a = second_view(c, 40001);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_MAPPED);
  assert_true(rt_trav_ready(&a->t));
  assert_false(a->t.relayed);
  peer_free(a);
  peer_free(c);
}

static void test_relay_behind_a_symmetric_nat(void **state) {
  (void)state;
  peer *c = peer_new(C_IP, PORT, 2);
  with_sockets(c);
  peer *a = second_view(c, 40002);
  assert_int_equal(a->t.nat, RT_TRAV_NAT_SYMMETRIC);
  assert_false(rt_trav_ready(&a->t));
  /* A asks C for a relay; C opens one and names its address. */
  rt_trav_msg alloc = deliver(a, a->nout - 1, c, A_PUBLIC_IP, 40001, T0);
  assert_int_equal(alloc.type, RT_TRAV_ALLOCATE);
  assert_true(c->relay_open[0]);
  rt_trav_msg got = deliver(c, c->nout - 1, a, C_IP, PORT, T0);
  assert_int_equal(got.type, RT_TRAV_ALLOCATED);
  assert_true(a->t.relayed && rt_trav_ready(&a->t));
  assert_int_equal(a->t.public_ip, C_IP);
  assert_int_equal(a->t.public_port, 50000);
  sc_addr found;
  assert_int_equal(rt_addr_find(&a->addrs, C_IP, 50000, &found), 0);
  assert_int_equal(found, a->self);
  /* Out: A's datagram for X, wrapped, leaves through the relay socket. */
  uint8_t w[RT_TRAV_RELAY_MAX];
  size_t wl = rt_trav_wrap((const uint8_t *)"overlay", 7, X_PUBLIC_IP, PORT, w);
  rt_trav_msg r;
  assert_int_equal(rt_trav_decode(w, wl, &r), 0);
  assert_int_equal(r.payload_len, 7);
  rt_trav_recv(&c->t, &r, A_PUBLIC_IP, 40001, T0 + S);
  assert_int_equal(c->nrelay_out, 1);
  assert_int_equal(c->relay_slot[0], 0);
  assert_int_equal(c->relay_out[0].ip, X_PUBLIC_IP);
  assert_memory_equal(c->relay_out[0].data, "overlay", 7);
  /* In: X's answer at the relay socket reaches A, naming X. */
  rt_trav_relay_arrival(&c->t, 0, X_PUBLIC_IP, PORT, (const uint8_t *)"answer", 6,
                        T0 + S);
  rt_trav_msg in = deliver(c, c->nout - 1, a, C_IP, PORT, T0 + S);
  assert_int_equal(in.type, RT_TRAV_RELAY);
  assert_int_equal(a->nrelayed_in, 1);
  assert_int_equal(a->relayed_in[0].ip, X_PUBLIC_IP);
  assert_memory_equal(a->relayed_in[0].data, "answer", 6);
  /* A RELAY from anyone else is nobody's. */
  rt_trav_recv(&c->t, &r, X_PUBLIC_IP, PORT, T0 + S);
  assert_int_equal(c->nrelay_out, 1);
  /* A keeps its lease; unrefreshed, a relay closes. */
  unsigned before = a->nout;
  rt_trav_tick(&a->t, T0 + 2 * S);
  assert_int_equal(a->nout, before + 1);
  assert_int_equal(a->out[before].data[1], RT_TRAV_ALLOCATE);
  rt_trav_tick(&c->t, T0 + S + RT_TRAV_RELAY_IDLE_NS + S);
  assert_false(c->relay_open[0]);
  peer_free(a);
  peer_free(c);
}

static void test_relays_are_bounded(void **state) {
  (void)state;
  peer *c = peer_new(C_IP, PORT, 2);
  with_sockets(c);
  for (unsigned i = 0; i <= RT_TRAV_RELAYS; i++) {
    rt_trav_msg a = {.type = RT_TRAV_ALLOCATE, .txid = 100 + i};
    rt_trav_recv(&c->t, &a, 0x0a000001u + i, PORT, T0);
    rt_trav_msg ans;
    assert_int_equal(rt_trav_decode(c->out[c->nout - 1].data, RT_TRAV_LEN, &ans), 0);
    assert_int_equal(ans.type, RT_TRAV_ALLOCATED);
    /* The ninth is refused: port 0. */
    assert_int_equal(ans.port == 0, i == RT_TRAV_RELAYS);
  }
  assert_int_equal(c->t.c.relays_opened, RT_TRAV_RELAYS);
  assert_int_equal(c->t.c.relays_refused, 1);
  /* A refresh of an open relay takes no other. */
  rt_trav_msg again = {.type = RT_TRAV_ALLOCATE, .txid = 100};
  rt_trav_recv(&c->t, &again, 0x0a000001u, PORT, T0 + S);
  assert_int_equal(c->t.c.relays_opened, RT_TRAV_RELAYS);
  peer_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_datagram_format),
      cmocka_unit_test(test_public_address_from_binding),
      cmocka_unit_test(test_symmetric_nat_from_second_answer),
      cmocka_unit_test(test_punch_through_introducer),
      cmocka_unit_test(test_keepalives_only_behind_a_router),
      cmocka_unit_test(test_names_do_not_flush_contacts),
      cmocka_unit_test(test_second_view_on_the_alternate_port),
      cmocka_unit_test(test_relay_behind_a_symmetric_nat),
      cmocka_unit_test(test_relays_are_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
