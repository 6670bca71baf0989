/*
 * traverse_fuzz.c — libFuzzer target for NAT traversal (runtime/traverse.h):
 * its datagram parser and the state it keeps from what arrives. The input
 * is a run of steps, each 23 bytes: an operation, a peer (ip:port, 6
 * bytes) and 16 bytes. The operations are what the network and the peer
 * can do: a traversal datagram from the peer (the 16 bytes, as they come),
 * an overlay message heard from it, a name it gives, a datagram sent to it,
 * a BINDING asked of it, and time passing. Whatever arrives: nothing
 * crashes, answers are well-formed traversal datagrams, the public address
 * is one some answer named, and the contact table holds each peer once.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "runtime/traverse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEP 23

static void sent_check(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                       size_t len) {
  (void)user;
  (void)ip;
  (void)port;
  rt_trav_msg m;
  /* Traversal's own datagrams parse; a held overlay datagram goes as it was. */
  if (len == RT_TRAV_LEN && buf[0] == RT_TRAV_MAGIC)
    assert(rt_trav_decode(buf, len, &m) == 0);
}

static uint16_t alt_open(void *user) {
  (void)user;
  return 40000;
}

static uint16_t relay_open(void *user, unsigned i) {
  bool *open = user;
  assert(i < RT_TRAV_RELAYS && !open[i]);
  open[i] = true;
  return (uint16_t)(50000 + i);
}

static void relay_send(void *user, unsigned i, uint32_t ip, uint16_t port,
                       const uint8_t *buf, size_t len) {
  bool *open = user;
  (void)ip;
  (void)port;
  (void)buf;
  assert(i < RT_TRAV_RELAYS && open[i] && len <= SC_WIRE_DATAGRAM_MAX);
}

static void relay_close(void *user, unsigned i) {
  bool *open = user;
  assert(i < RT_TRAV_RELAYS && open[i]);
  open[i] = false;
}

static void relayed_in(void *user, uint32_t ip, uint16_t port, const uint8_t *buf,
                       size_t len) {
  (void)user;
  (void)ip;
  (void)port;
  (void)buf;
  assert(len > 0 && len <= SC_WIRE_DATAGRAM_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static rt_addr_table addrs;
  static rt_trav t;
  static bool open[RT_TRAV_RELAYS];
  memset(open, 0, sizeof open);
  static const rt_trav_sockets sockets = {.user = open,
                                          .alt_open = alt_open,
                                          .alt_send = sent_check,
                                          .relay_open = relay_open,
                                          .relay_send = relay_send,
                                          .relay_close = relay_close,
                                          .relayed_in = relayed_in};
  if (rt_addr_init(&addrs, 256) != 0) return 0;
  sc_addr self;
  if (rt_addr_intern(&addrs, 0xc0a80102u, 9000, &self) != 0) return 0;
  rt_trav_init(&t, &addrs, self, 0xc0a80102u, 9000, 1, sent_check, NULL);
  rt_trav_set_sockets(&t, &sockets);
  uint64_t now = 1000000000ull;
  sc_addr last = SC_ADDR_NONE;
  for (size_t off = 0; off + STEP <= size; off += STEP) {
    const uint8_t *s = data + off;
    uint32_t ip =
        (uint32_t)s[1] << 24 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 8 | s[4];
    uint16_t port = (uint16_t)(s[5] << 8 | s[6]);
    const uint8_t *body = s + 7;
    sc_addr a = SC_ADDR_NONE;
    bool have = rt_addr_intern(&addrs, ip, port, &a) == 0;
    switch (s[0] % 10) {
    case 0: {
      rt_trav_msg m;
      if (rt_trav_decode(body, RT_TRAV_LEN, &m) == 0) rt_trav_recv(&t, &m, ip, port, now);
      break;
    }
    case 1:
      if (have) rt_trav_heard(&t, a, now);
      break;
    case 2:
      if (have) rt_trav_named(&t, a, last, now);
      break;
    case 3:
      if (have) rt_trav_sending(&t, a, body, 16, now);
      break;
    case 4:
      if (have) rt_trav_ask_binding(&t, a, now);
      break;
    case 5:
      now += (uint64_t)body[0] * 250000000ull; /* up to about a minute */
      (void)rt_trav_tick(&t, now);
      break;
    case 7: {
      /* A relayed datagram from this peer, the 16 bytes its payload. */
      uint8_t w[RT_TRAV_RELAY_MAX];
      size_t wl = rt_trav_wrap(body, 16, ip, port, w);
      rt_trav_msg m;
      assert(rt_trav_decode(w, wl, &m) == 0 && m.payload_len == 16);
      rt_trav_recv(&t, &m, ip, port, now);
      break;
    }
    case 8:
      rt_trav_relay_arrival(&t, body[0] % RT_TRAV_RELAYS, ip, port, body + 1, 15, now);
      break;
    case 9: {
      rt_trav_msg m;
      if (rt_trav_decode(body, RT_TRAV_LEN, &m) == 0) rt_trav_recv_alt(&t, &m, ip, port);
      break;
    }
    default: {
      /* An answer to the latest BINDING asked, naming the address given. */
      unsigned k = (t.binding_next + RT_TRAV_BINDINGS - 1) % RT_TRAV_BINDINGS;
      rt_trav_msg m = {
          .type = RT_TRAV_BINDING, .txid = t.binding[k].txid, .ip = ip, .port = port};
      struct sockaddr_in sa;
      if (t.binding[k].txid && rt_addr_sockaddr(&addrs, t.binding[k].to, &sa) == 0)
        rt_trav_recv(&t, &m, ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port), now);
      break;
    }
    }
    if (have) last = a;
    /* The handle of this peer names what it announces. */
    struct sockaddr_in sa;
    assert(rt_addr_sockaddr(&addrs, self, &sa) == 0);
    assert(ntohl(sa.sin_addr.s_addr) == t.public_ip &&
           ntohs(sa.sin_port) == t.public_port);
    (void)rt_trav_ready(&t);
    /* Each peer in the contact table once. */
    for (unsigned i = 0; i < RT_TRAV_CONTACTS; i += 2)
      assert(t.contact[i].addr == SC_ADDR_NONE ||
             t.contact[i].addr != t.contact[i + 1].addr);
  }
  rt_addr_free(&addrs);
  return 0;
}
