/*
 * test_runtime_unit.c — the real runtime's pure parts: the address table and
 * its wire map (runtime/addr.h), the send-path impairment model
 * (runtime/impair.h) with literal times, and the command line (runtime/cli.h).
 * Sockets and the loop are exercised by the loopback tests
 * (test_runtime_cluster.c: the stream, kill and garbage scenarios).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/station.h"
#include "core/wire.h"
#include "runtime/addr.h"
#include "runtime/cli.h"
#include "runtime/impair.h"
#include "runtime/peer.h"
#include "runtime/stations.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define MS             1000000ull

/* ------------------------------------------------------------- addr */

static void test_addr_intern(void **state) {
  (void)state;
  rt_addr_table t;
  assert_int_equal(rt_addr_init(&t, 4), 0);
  sc_addr a, b, c;
  assert_int_equal(rt_addr_intern(&t, IP(127, 0, 0, 1), 9000, &a), 0);
  assert_int_equal(rt_addr_intern(&t, IP(127, 0, 0, 1), 9001, &b), 0);
  assert_int_not_equal(a, b);
  assert_int_equal(rt_addr_intern(&t, IP(127, 0, 0, 1), 9000, &c), 0);
  assert_int_equal(a, c); /* the same address keeps its handle */
  assert_int_equal(rt_addr_find(&t, IP(127, 0, 0, 1), 9001, &c), 0);
  assert_int_equal(b, c);
  assert_int_equal(rt_addr_find(&t, IP(127, 0, 0, 2), 9001, &c), SC_ERR_NOT_FOUND);
  struct sockaddr_in sa;
  assert_int_equal(rt_addr_sockaddr(&t, b, &sa), 0);
  assert_int_equal(ntohl(sa.sin_addr.s_addr), IP(127, 0, 0, 1));
  assert_int_equal(ntohs(sa.sin_port), 9001);
  assert_int_equal(rt_addr_sockaddr(&t, 77, &sa), SC_ERR_NOT_FOUND);
  /* Unreachable addresses are refused. */
  assert_int_equal(rt_addr_intern(&t, 0, 9000, &c), SC_ERR_INVALID);
  assert_int_equal(rt_addr_intern(&t, IP(10, 0, 0, 1), 0, &c), SC_ERR_INVALID);
  /* The bound: two more fit, the fifth is refused and counted. */
  assert_int_equal(rt_addr_intern(&t, IP(10, 0, 0, 1), 1, &c), 0);
  assert_int_equal(rt_addr_intern(&t, IP(10, 0, 0, 2), 1, &c), 0);
  assert_int_equal(rt_addr_intern(&t, IP(10, 0, 0, 3), 1, &c), SC_ERR_FULL);
  assert_int_equal(t.full, 1);
  assert_int_equal(rt_addr_intern(&t, IP(10, 0, 0, 2), 1, &c), 0); /* known: fine */
  rt_addr_free(&t);
  assert_int_equal(rt_addr_init(&t, 0), SC_ERR_INVALID);
  assert_int_equal(rt_addr_init(&t, RT_ADDR_MAX + 1), SC_ERR_INVALID);
}

static void test_addr_many(void **state) {
  (void)state;
  rt_addr_table t;
  assert_int_equal(rt_addr_init(&t, 5000), 0);
  for (uint32_t i = 0; i < 5000; i++) {
    sc_addr a;
    assert_int_equal(
        rt_addr_intern(&t, IP(10, 0, i >> 8, i & 255), (uint16_t)(i + 1), &a), 0);
    assert_int_equal(a, i);
  }
  for (uint32_t i = 0; i < 5000; i++) {
    sc_addr a;
    assert_int_equal(rt_addr_find(&t, IP(10, 0, i >> 8, i & 255), (uint16_t)(i + 1), &a),
                     0);
    assert_int_equal(a, i);
  }
  rt_addr_free(&t);
}

static void test_addr_wire_map(void **state) {
  (void)state;
  rt_addr_table t;
  assert_int_equal(rt_addr_init(&t, 8), 0);
  const sc_wire_addr_map *m = rt_addr_map(&t);
  sc_addr a;
  assert_int_equal(rt_addr_intern(&t, IP(192, 168, 1, 2), 0x1234, &a), 0);
  uint8_t out[SC_WIRE_ADDR_MAX];
  assert_int_equal(m->to_bytes(m->user, a, out, sizeof out), RT_ADDR_WIRE_LEN);
  const uint8_t want[] = {192, 168, 1, 2, 0x12, 0x34};
  assert_memory_equal(out, want, sizeof want);
  assert_true(m->to_bytes(m->user, 5, out, sizeof out) < 0); /* no such handle */
  sc_addr b;
  assert_int_equal(m->from_bytes(m->user, want, sizeof want, &b), 0);
  assert_int_equal(a, b);
  const uint8_t other[] = {10, 1, 2, 3, 0, 80};
  assert_int_equal(m->from_bytes(m->user, other, sizeof other, &b), 0);
  assert_int_not_equal(a, b);
  assert_true(m->from_bytes(m->user, want, 5, &b) < 0); /* wrong length */
  const uint8_t zero_port[] = {10, 1, 2, 3, 0, 0};
  assert_true(m->from_bytes(m->user, zero_port, 6, &b) < 0);

  /* A whole message through the codec with this map. */
  sc_msg msg;
  memset(&msg, 0, sizeof msg);
  msg.type = SC_MSG_PING;
  msg.sender.id = sc_id_hash("x", 1);
  msg.sender.addr = a;
  msg.u.ping.sent_ns = 12345;
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  int n = sc_wire_encode(&msg, m, buf, sizeof buf);
  assert_true(n > 0);
  assert_int_equal((size_t)n, sc_wire_size(&msg, RT_ADDR_WIRE_LEN));
  sc_msg back;
  assert_int_equal(sc_wire_decode(buf, (size_t)n, m, &back), 0);
  assert_int_equal(back.sender.addr, a);
  assert_int_equal(back.u.ping.sent_ns, 12345);
  rt_addr_free(&t);
}

static void test_addr_parse(void **state) {
  (void)state;
  uint32_t ip;
  uint16_t port;
  assert_int_equal(rt_addr_parse("127.0.0.1:9000", &ip, &port), 0);
  assert_int_equal(ip, IP(127, 0, 0, 1));
  assert_int_equal(port, 9000);
  const char *bad[] = {"127.0.0.1",       "127.0.0.1:",   ":9000",          "127.0.0.1:0",
                       "127.0.0.1:65536", "127.0.0.1:9x", "localhost:9000", "1.2.3:9",
                       "127.0.0.1:-1",    "300.0.0.1:9",  "127.0.0.1: 9"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(rt_addr_parse(bad[i], &ip, &port), SC_ERR_INVALID);
  char s[RT_ADDR_STR_MAX];
  rt_addr_format(IP(255, 255, 255, 255), 65535, s);
  assert_string_equal(s, "255.255.255.255:65535");
}

/* ----------------------------------------------------------- impair */

static struct sockaddr_in to_addr(void) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_port = htons(9);
  return sa;
}

static void test_impair_off(void **state) {
  (void)state;
  rt_impair_config c;
  rt_impair_config_default(&c);
  assert_false(rt_impair_active(&c));
  rt_impair q;
  assert_int_equal(rt_impair_init(&q, &c, 1), 0);
  struct sockaddr_in sa = to_addr();
  uint8_t d[100] = {0};
  assert_int_equal(rt_impair_submit(&q, 0, d, sizeof d, &sa), RT_IMPAIR_SEND_NOW);
  assert_int_equal(rt_impair_next(&q), UINT64_MAX);
  assert_int_equal(rt_impair_backlog_ns(&q, 0), 0);
  rt_impair_free(&q);
  c.loss = 1.5;
  assert_int_equal(rt_impair_init(&q, &c, 1), SC_ERR_INVALID);
  c.loss = 0;
  c.queue_max = RT_IMPAIR_QUEUE_MAX + 1;
  assert_int_equal(rt_impair_init(&q, &c, 1), SC_ERR_INVALID);
}

static void test_impair_loss(void **state) {
  (void)state;
  rt_impair_config c;
  rt_impair_config_default(&c);
  c.loss = 0.25;
  rt_impair q;
  assert_int_equal(rt_impair_init(&q, &c, 42), 0);
  struct sockaddr_in sa = to_addr();
  uint8_t d[10] = {0};
  unsigned lost = 0, sent = 0;
  for (int i = 0; i < 20000; i++) {
    int rv = rt_impair_submit(&q, 0, d, sizeof d, &sa);
    if (rv == RT_IMPAIR_LOST) lost++;
    if (rv == RT_IMPAIR_SEND_NOW) sent++; /* loss alone never queues */
  }
  assert_int_equal(lost + sent, 20000);
  assert_int_equal(q.lost, lost);
  /* 25% of 20,000 = 5,000; sd ~ 61: +-400 is over 6 sd. */
  assert_in_range(lost, 4600, 5400);
  rt_impair_free(&q);
}

static void test_impair_rate(void **state) {
  (void)state;
  rt_impair_config c;
  rt_impair_config_default(&c);
  c.rate_bps = 8000 * 100; /* 100,000 bytes/s: 1,000 wire bytes take 10 ms */
  c.queue_ns_max = 35 * MS;
  rt_impair q;
  assert_int_equal(rt_impair_init(&q, &c, 1), 0);
  struct sockaddr_in sa = to_addr();
  uint8_t d[1000 - RT_IMPAIR_OVERHEAD];
  for (size_t i = 0; i < sizeof d; i++)
    d[i] = (uint8_t)i;
  uint64_t t0 = 1000 * MS;
  /* Three fit (waits 10, 20, 30 ms); the fourth would wait 40 > 35 ms. */
  for (int i = 0; i < 3; i++)
    assert_int_equal(rt_impair_submit(&q, t0, d, sizeof d, &sa), RT_IMPAIR_QUEUED);
  assert_int_equal(rt_impair_submit(&q, t0, d, sizeof d, &sa), RT_IMPAIR_OVERFLOW);
  assert_int_equal(q.overflow, 1);
  /* The backlog a peer reads to shed repair answers (SC_REPAIR_SHED_BACKLOG_NS). */
  assert_int_equal(rt_impair_backlog_ns(&q, t0), 30 * MS);
  assert_int_equal(rt_impair_backlog_ns(&q, t0 + 25 * MS), 5 * MS);
  assert_int_equal(rt_impair_backlog_ns(&q, t0 + 31 * MS), 0);
  assert_int_equal(rt_impair_next(&q), t0 + 10 * MS);
  assert_null(rt_impair_peek(&q, t0 + 10 * MS - 1));
  const rt_impair_pkt *p = rt_impair_peek(&q, t0 + 10 * MS);
  assert_non_null(p);
  assert_int_equal(p->len, sizeof d);
  assert_memory_equal(p->data, d, sizeof d);
  rt_impair_done(&q);
  assert_int_equal(rt_impair_next(&q), t0 + 20 * MS);
  /* Once the uplink idles, a new datagram leaves 10 ms after its arrival. */
  uint64_t t1 = t0 + 100 * MS;
  while (rt_impair_peek(&q, t1))
    rt_impair_done(&q);
  assert_int_equal(rt_impair_submit(&q, t1, d, sizeof d, &sa), RT_IMPAIR_QUEUED);
  assert_int_equal(rt_impair_next(&q), t1 + 10 * MS);
  rt_impair_free(&q);
}

static void test_impair_delay_jitter(void **state) {
  (void)state;
  rt_impair_config c;
  rt_impair_config_default(&c);
  c.delay_ns = 50 * MS;
  c.jitter_ns = 20 * MS;
  c.queue_max = 64;
  rt_impair q;
  assert_int_equal(rt_impair_init(&q, &c, 7), 0);
  struct sockaddr_in sa = to_addr();
  uint8_t d[4];
  for (int i = 0; i < 64; i++) {
    memcpy(d, &i, sizeof d);
    assert_int_equal(rt_impair_submit(&q, (uint64_t)i * MS, d, sizeof d, &sa),
                     RT_IMPAIR_QUEUED);
  }
  /* The count bound. */
  assert_int_equal(rt_impair_submit(&q, 64 * MS, d, sizeof d, &sa), RT_IMPAIR_OVERFLOW);
  /* Every datagram leaves in [sent + 50, sent + 70) ms, in release order,
   * and jitter reorders some of them. */
  uint64_t last = 0;
  unsigned reordered = 0, n = 0;
  int prev = -1;
  for (uint64_t now = 0; now < 200 * MS; now += MS / 4) {
    const rt_impair_pkt *p;
    while ((p = rt_impair_peek(&q, now)) != NULL) {
      int i;
      memcpy(&i, p->data, sizeof i);
      assert_true(p->release_ns >= (uint64_t)i * MS + 50 * MS);
      assert_true(p->release_ns < (uint64_t)i * MS + 70 * MS);
      assert_true(p->release_ns >= last);
      last = p->release_ns;
      if (i < prev) reordered++;
      prev = i;
      n++;
      rt_impair_done(&q);
    }
  }
  assert_int_equal(n, 64);
  assert_true(reordered > 0);
  assert_int_equal(rt_impair_next(&q), UINT64_MAX);
  rt_impair_free(&q);
}

/* -------------------------------------------------------------- cli */

static int parse(rt_options *o, char *err, const char *a0, ...) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)"stripecast";
  va_list ap;
  va_start(ap, a0);
  for (const char *a = a0; a; a = va_arg(ap, const char *))
    argv[argc++] = (char *)a;
  va_end(ap);
  return rt_cli_parse(o, argc, argv, err, 256);
}

static void test_cli(void **state) {
  (void)state;
  rt_options o;
  char err[256];
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", NULL), RT_CLI_RUN);
  assert_int_equal(o.port, 9000);
  assert_int_equal(o.peers, 1);
  assert_true(o.stream);
  assert_int_equal(parse(&o, err, "--help", NULL), RT_CLI_HELP);
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", "--peers", "30", "--join",
                         "127.0.0.1:8000", "--loss", "0.02", "--delay-ms", "10",
                         "--jitter-ms", "5", "--upload-kbps", "2000", "--output",
                         "/tmp/o-%i", "--capacity", "8", NULL),
                   RT_CLI_RUN);
  assert_int_equal(o.peers, 30);
  assert_true(o.join);
  assert_int_equal(o.join_port, 8000);
  assert_true(o.impair.loss > 0.0199 && o.impair.loss < 0.0201);
  assert_int_equal(o.impair.delay_ns, 10 * MS);
  assert_int_equal(o.impair.rate_bps, 2000000);
  assert_int_equal(o.capacity, 8);

  /* Usage errors name the problem. */
  struct {
    const char *a[6];
    const char *says;
  } bad[] = {
      {{"--peers", "2", NULL}, "--listen"},
      {{"--listen", "127.0.0.1:9000", "--bogus", NULL}, "unknown option"},
      {{"--listen", "127.0.0.1:9000", "--peers", NULL}, "needs a value"},
      {{"--listen", "127.0.0.1:9000", "--peers", "0", NULL}, "--peers"},
      {{"--listen", "127.0.0.1:9000", "--loss", "2", NULL}, "--loss"},
      {{"--listen", "0.0.0.0:9000", NULL}, "0.0.0.0"},
      {{"--listen", "127.0.0.1:65535", "--peers", "2", NULL}, "65535"},
      {{"--listen", "127.0.0.1:9000", "--peers", "2", "--output", "x"}, "%i"},
      {{"--listen", "127.0.0.1:9000", "--join", "127.0.0.1:9000", NULL}, "own peers"},
      {{"--listen", "127.0.0.1:9000", "--source", "f", "--no-stream", NULL}, "--source"},
      {{"--listen", "127.0.0.1:9000", "stray", NULL}, "unexpected"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char **a = bad[i].a;
    err[0] = '\0';
    assert_int_equal(parse(&o, err, a[0], a[1], a[2], a[3], a[4], a[5], NULL),
                     RT_CLI_ERROR);
    assert_non_null(strstr(err, bad[i].says));
  }
}

/* Every flag of the program, its value landing in its field, and the
 * defaults of the ones not given. */
static void test_cli_every_flag(void **state) {
  (void)state;
  rt_options o;
  char err[256];
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", NULL), RT_CLI_RUN);
  assert_string_equal(o.channel, "stripecast");
  assert_int_equal(o.rate_kbps, 1000);
  assert_int_equal(o.flush_ms, 500);
  assert_true(o.eof_exit_ms == -1);
  assert_int_equal(o.grace_ms, 3000);
  assert_int_equal(o.join_spread_ms, 20);
  assert_int_equal(o.impair.queue_ns_max, 200 * MS);
  assert_false(o.join || o.capacity_set || o.seed_set || o.verbose);
  assert_int_equal(o.root_refresh_ms, 1000); /* the low-level form: the core's 1 s */
  assert_null(o.source);

  static const char *const args[] = {"stripecast",
                                     "--listen=127.0.0.1:9000",
                                     "--source",
                                     "in.ts",
                                     "--rate-kbps",
                                     "2k",
                                     "--flush-ms",
                                     "250",
                                     "--start-delay-ms",
                                     "5000",
                                     "--eof-exit-ms",
                                     "0",
                                     "--stats",
                                     "s.json",
                                     "--stats-interval-ms",
                                     "1000",
                                     "--loss",
                                     "0.5",
                                     "--delay-ms",
                                     "3",
                                     "--jitter-ms",
                                     "4",
                                     "--upload-kbps",
                                     "500",
                                     "--queue-ms",
                                     "50",
                                     "--heartbeat-ms",
                                     "100",
                                     "--buffer-ms",
                                     "3000",
                                     "--window-gens",
                                     "256",
                                     "--root-refresh-ms",
                                     "200",
                                     "--repair-asks",
                                     "8",
                                     "--grace-ms",
                                     "0",
                                     "--join-spread-ms",
                                     "5",
                                     "--seed",
                                     "18446744073709551615",
                                     "--capacity",
                                     "0",
                                     "--channel",
                                     "tv",
                                     "--join",
                                     "10.0.0.1:7000",
                                     "--verbose"};
  char *argv[sizeof args / sizeof args[0]];
  int argc = (int)(sizeof args / sizeof args[0]);
  for (int i = 0; i < argc; i++)
    argv[i] = (char *)args[i];
  assert_int_equal(rt_cli_parse(&o, argc, argv, err, sizeof err), RT_CLI_RUN);
  assert_int_equal(o.ip, IP(127, 0, 0, 1));
  assert_string_equal(o.source, "in.ts");
  assert_int_equal(o.rate_kbps, 2000);
  assert_int_equal(o.flush_ms, 250);
  assert_int_equal(o.start_delay_ms, 5000);
  assert_true(o.eof_exit_ms == 0);
  assert_string_equal(o.stats, "s.json");
  assert_int_equal(o.stats_interval_ms, 1000);
  assert_true(o.impair.loss == 0.5);
  assert_int_equal(o.impair.delay_ns, 3 * MS);
  assert_int_equal(o.impair.jitter_ns, 4 * MS);
  assert_int_equal(o.impair.rate_bps, 500000);
  assert_int_equal(o.impair.queue_ns_max, 50 * MS);
  assert_int_equal(o.heartbeat_ms, 100);
  assert_int_equal(o.buffer_ms, 3000);
  assert_int_equal(o.window_gens, 256);
  assert_int_equal(o.root_refresh_ms, 200);
  assert_int_equal(o.repair_asks, 8);
  assert_int_equal(o.grace_ms, 0);
  assert_int_equal(o.join_spread_ms, 5);
  assert_true(o.seed_set && o.seed == UINT64_MAX);
  assert_true(o.capacity_set && o.capacity == 0);
  assert_string_equal(o.channel, "tv");
  assert_true(o.join && o.join_ip == IP(10, 0, 0, 1) && o.join_port == 7000);
  assert_true(o.verbose && o.stream);
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", "--no-stream", NULL),
                   RT_CLI_RUN);
  assert_false(o.stream);
}

/* Signed stations on the command line: the station's key as listeners
 * give it, the broadcaster's choices, the low-level form's keys, keygen. */
static void test_cli_signed(void **state) {
  (void)state;
  rt_options o;
  char err[256];
  const char *hex = "67d422bed199491439fac48d4bc79bb0cad852cc5ba1619be01651a2f567495b";
  char spec[128];
  snprintf(spec, sizeof spec, "/live.opus@%s", hex);
  assert_int_equal(
      parse(&o, err, "listen", "--station", spec, "--listen", "127.0.0.1:9100", NULL),
      RT_CLI_RUN);
  assert_true(o.auth);
  assert_int_equal(o.auth_pk[0], 0x67);
  assert_int_equal(o.auth_pk[31], 0x5b);
  sc_id want, named;
  sc_station_key_id(o.auth_pk, &want);
  assert_memory_equal(&o.station_id, &want, sizeof want);
  assert_int_equal(
      parse(&o, err, "listen", "--station", hex, "--listen", "127.0.0.1:9100", NULL),
      RT_CLI_RUN);
  assert_true(o.auth);
  assert_memory_equal(&o.station_id, &want, sizeof want);
  assert_int_equal(sc_station_id("/live.opus", &named), 0);
  assert_false(sc_id_eq(&want, &named));
  /* A broadcaster signs unless told not to; its key is read at start. */
  assert_int_equal(parse(&o, err, "broadcast", "--station", "/live.opus", "--listen",
                         "127.0.0.1:9000", "--source", "x", "--key", "k", NULL),
                   RT_CLI_RUN);
  assert_true(o.auth);
  assert_string_equal(o.key, "k");
  assert_int_equal(parse(&o, err, "broadcast", "--station", "/live.opus", "--listen",
                         "127.0.0.1:9000", "--source", "x", "--unsigned", NULL),
                   RT_CLI_RUN);
  assert_false(o.auth);
  assert_memory_equal(&o.station_id, &named, sizeof named);
  /* The low-level form: a source's key, receivers' public key. */
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", "--verify-key", hex,
                         "--forge-chunks", NULL),
                   RT_CLI_RUN);
  assert_true(o.auth && o.forge_chunks);
  assert_memory_equal(&o.station_id, &want, sizeof want);
  assert_int_equal(parse(&o, err, "keygen", "--out", "f.key", NULL), RT_CLI_RUN);
  assert_int_equal(o.cmd, RT_CMD_KEYGEN);
  assert_string_equal(o.key, "f.key");

  struct {
    const char *a[10];
    const char *says;
  } bad[] = {
      {{"listen", "--station", "/x@abcd", "--listen", "127.0.0.1:9000", NULL},
       "station's key"},
      {{"broadcast", "--station", spec, "--listen", "127.0.0.1:9000", "--source", "x"},
       "key comes from --key"},
      {{"broadcast", "--station", "/s", "--listen", "127.0.0.1:9000", "--source", "x",
        "--unsigned", "--key", "k"},
       "give one"},
      {{"--listen", "127.0.0.1:9000", "--key", "k", NULL}, "goes with --source"},
      {{"--listen", "127.0.0.1:9000", "--source", "x", "--verify-key", hex, NULL},
       "receiver's"},
      {{"--listen", "127.0.0.1:9000", "--verify-key", "abc", NULL}, "64 hex digits"},
      {{"keygen", NULL}, "--out"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char **a = bad[i].a;
    err[0] = '\0';
    assert_int_equal(
        parse(&o, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL),
        RT_CLI_ERROR);
    if (!strstr(err, bad[i].says))
      fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].says);
  }
}

/* The two commands of the radio: their own flags, the station as the
 * channel, their own errors; the low-level form is unchanged. */
static void test_cli_commands(void **state) {
  (void)state;
  rt_options o;
  char err[256];
  assert_int_equal(parse(&o, err, "listen", "--station", "live.opus", "--listen",
                         "127.0.0.1:9100", "--join", "127.0.0.1:9000", "--output", "-",
                         NULL),
                   RT_CLI_RUN);
  assert_int_equal(o.cmd, RT_CMD_LISTEN);
  assert_string_equal(o.station, "live.opus");
  sc_id want;
  assert_int_equal(sc_station_id("/live.opus", &want), 0);
  assert_memory_equal(&o.station_id, &want, sizeof want);
  assert_null(o.channel);
  assert_null(o.source);
  /* A listener's capacity has the forest's slack. */
  assert_true(o.capacity_set && o.capacity == RT_LISTEN_CAPACITY);
  assert_int_equal(parse(&o, err, "broadcast", "--station", "/live.opus", "--listen",
                         "127.0.0.1:9000", "--source", "x.opus", NULL),
                   RT_CLI_RUN);
  assert_int_equal(o.cmd, RT_CMD_BROADCAST);
  assert_string_equal(o.source, "x.opus");
  assert_true(o.eof_exit_ms == RT_BROADCAST_EOF_EXIT_MS);
  /* A broadcaster forwards only as a stripe's root, unless told otherwise. */
  assert_true(o.capacity_set && o.capacity == RT_BROADCAST_CAPACITY);
  assert_memory_equal(&o.station_id, &want, sizeof want);
  assert_int_equal(parse(&o, err, "broadcast", "--station", "/live.opus", "--listen",
                         "127.0.0.1:9000", "--source", "x.opus", "--capacity", "4", NULL),
                   RT_CLI_RUN);
  assert_true(o.capacity_set && o.capacity == 4);
  assert_int_equal(parse(&o, err, "listen", "--help", NULL), RT_CLI_HELP);
  assert_int_equal(parse(&o, err, "broadcast", "--help", NULL), RT_CLI_HELP);
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", NULL), RT_CLI_RUN);
  assert_int_equal(o.cmd, RT_CMD_PEER);

  struct {
    const char *a[8];
    const char *says;
  } bad[] = {
      {{"listen", "--listen", "127.0.0.1:9000", NULL}, "--station"},
      {{"listen", "--station", "a b", "--listen", "127.0.0.1:9000", NULL},
       "station name"},
      {{"listen", "--station", "s", "--listen", "127.0.0.1:9000", "--source", "f"},
       "unknown option"},
      {{"listen", "--station", "s", "--listen", "127.0.0.1:9000", "--channel", "c"},
       "unknown option"},
      {{"broadcast", "--station", "s", "--listen", "127.0.0.1:9000", NULL}, "--source"},
      {{"broadcast", "--station", "s", "--listen", "127.0.0.1:9000", "--output", "o"},
       "unknown option"},
      {{"broadcast", "--station", "s", "--listen", "127.0.0.1:9000", "--peers", "2"},
       "unknown option"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char **a = bad[i].a;
    err[0] = '\0';
    assert_int_equal(parse(&o, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL),
                     RT_CLI_ERROR);
    if (!strstr(err, bad[i].says))
      fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].says);
  }
  /* stdout cannot carry both the stream and the counters. */
  assert_int_equal(parse(&o, err, "listen", "--station", "s", "--listen",
                         "127.0.0.1:9000", "--output", "-", "--stats", "-", NULL),
                   RT_CLI_ERROR);
  assert_non_null(strstr(err, "--stats"));
  assert_int_equal(
      parse(&o, err, "--listen", "127.0.0.1:9000", "--output", "-", "--stats", "-", NULL),
      RT_CLI_ERROR);
  assert_int_equal(parse(&o, err, "listen", "--station", "s", "--listen",
                         "127.0.0.1:9000", "--output", "-", "--stats", "s.json", NULL),
                   RT_CLI_RUN);
  /* --join by host name (IPv4), and a clear error when it does not
   * resolve (.invalid never does, RFC 2606). */
  assert_int_equal(
      parse(&o, err, "--listen", "127.0.0.1:9000", "--join", "localhost:8000", NULL),
      RT_CLI_RUN);
  assert_true(o.join && o.join_ip == IP(127, 0, 0, 1) && o.join_port == 8000);
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", "--join",
                         "no-such-host.invalid:8000", NULL),
                   RT_CLI_ERROR);
  assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid'"));
  assert_int_equal(
      parse(&o, err, "--listen", "127.0.0.1:9000", "--join", "localhost:0", NULL),
      RT_CLI_ERROR);
  assert_non_null(strstr(err, "PORT"));
  /* --listen by host name too; digits and dots are an address or nothing
   * (not inet_aton's "1.2.3" for 1.2.0.3). */
  assert_int_equal(parse(&o, err, "--listen", "localhost:9000", NULL), RT_CLI_RUN);
  assert_true(o.ip == IP(127, 0, 0, 1) && o.port == 9000);
  assert_int_equal(parse(&o, err, "--listen", "1.2.3:9000", NULL), RT_CLI_ERROR);
  assert_non_null(strstr(err, "not an IPv4 address"));
  assert_int_equal(parse(&o, err, "--listen", "127.0.0.1:9000", "--join", "10.1:9", NULL),
                   RT_CLI_ERROR);
  /* A bare PORT: the address this machine reaches --join from. */
  assert_int_equal(parse(&o, err, "--listen", "9000", "--join", "127.0.0.1:8000", NULL),
                   RT_CLI_RUN);
  assert_true(o.ip == IP(127, 0, 0, 1) && o.port == 9000);
  assert_int_equal(parse(&o, err, "--listen", "9000", NULL), RT_CLI_ERROR);
  assert_non_null(strstr(err, "--join"));
  assert_int_equal(parse(&o, err, "--listen", "0", "--join", "127.0.0.1:8000", NULL),
                   RT_CLI_ERROR);

  /* Each command's help is its own. */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  rt_cli_usage(RT_CMD_LISTEN, f);
  fclose(f);
  assert_non_null(strstr(buf, "stripecast listen"));
  assert_non_null(strstr(buf, "--station"));
  assert_null(strstr(buf, "--source"));
  free(buf);
  f = open_memstream(&buf, &len);
  rt_cli_usage(RT_CMD_BROADCAST, f);
  fclose(f);
  assert_non_null(strstr(buf, "stripecast broadcast"));
  assert_non_null(strstr(buf, "--source"));
  assert_null(strstr(buf, "--output"));
  free(buf);
  f = open_memstream(&buf, &len);
  rt_cli_usage(RT_CMD_PEER, f);
  fclose(f);
  assert_non_null(strstr(buf, "low-level"));
  assert_non_null(strstr(buf, "--channel"));
  free(buf);
}

static void test_cli_output_path(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(rt_cli_output_path("d/out-%i-%p.bin", 3, 9103, out, sizeof out), 0);
  assert_string_equal(out, "d/out-3-9103.bin");
  assert_int_equal(rt_cli_output_path("100%%", 0, 1, out, sizeof out), 0);
  assert_string_equal(out, "100%");
  assert_int_equal(rt_cli_output_path("abcdefgh", 0, 1, out, 8), SC_ERR_NOBUF);
}

/* Sent datagrams by class: every message type has its own, a ROUTE its
 * kind's, a repair answer its own apart from tree chunks; all distinct. */
static void test_tx_classes(void **state) {
  (void)state;
  sc_msg m;
  memset(&m, 0, sizeof m);
  const char *seen[RT_TX_CLASSES] = {0};
  for (unsigned t = 1; t < SC_MSG_TYPE_END; t++) {
    m.type = (uint8_t)t;
    if (t == SC_MSG_ROUTE) continue;
    unsigned c = rt_peer_tx_class(&m);
    assert_true(c < RT_TX_CLASSES);
    assert_string_equal(rt_peer_tx_class_name(c), sc_msg_type_name(t));
    assert_null(seen[c]);
    seen[c] = rt_peer_tx_class_name(c);
  }
  m.type = SC_MSG_MULTICAST;
  m.u.multicast.repair = 1;
  unsigned c = rt_peer_tx_class(&m);
  assert_string_equal(rt_peer_tx_class_name(c), "repair_chunk");
  assert_null(seen[c]);
  seen[c] = "repair_chunk";
  m.type = SC_MSG_ROUTE;
  for (unsigned k = 1; k < SC_ROUTE_KIND_END; k++) {
    m.u.route.kind = (uint8_t)k;
    c = rt_peer_tx_class(&m);
    assert_true(c < RT_TX_CLASSES);
    assert_non_null(rt_peer_tx_class_name(c));
    assert_non_null(strstr(rt_peer_tx_class_name(c), "route_"));
    assert_null(seen[c]);
    seen[c] = rt_peer_tx_class_name(c);
  }
  m.u.route.kind = SC_ROUTE_SCRIBE_ROOT;
  assert_string_equal(rt_peer_tx_class_name(rt_peer_tx_class(&m)), "route_scribe_root");
  /* A kind no sender uses is still counted, as a plain route. */
  m.u.route.kind = 200;
  c = rt_peer_tx_class(&m);
  assert_true(c < RT_TX_CLASSES);
  assert_string_equal(rt_peer_tx_class_name(c), "route");
  assert_null(rt_peer_tx_class_name(0));
  assert_null(rt_peer_tx_class_name(RT_TX_CLASSES));
}

static void test_latency_pct(void **state) {
  (void)state;
  static uint32_t bins[RT_LAT_BINS_MS + 1];
  memset(bins, 0, sizeof bins);
  assert_int_equal(rt_peer_latency_pct_ms(bins, 50), -1);
  for (int i = 1; i <= 100; i++)
    bins[i] = 1; /* 1..100 ms, one each */
  assert_int_equal(rt_peer_latency_pct_ms(bins, 50), 50);
  assert_int_equal(rt_peer_latency_pct_ms(bins, 95), 95);
  assert_int_equal(rt_peer_latency_pct_ms(bins, 100), 100);
  bins[RT_LAT_BINS_MS] = 100; /* as many beyond the last bin */
  assert_int_equal(rt_peer_latency_pct_ms(bins, 95), RT_LAT_BINS_MS);
}

/* A broadcaster's announcement from its INFO lines: what an encoder or the
 * broadcast flags said, the mount, the measured rate where none was said,
 * control bytes never reaching a record. */
static void test_stations_info(void **state) {
  (void)state;
  sc_directory_info in;
  rt_stations_info("station=/jazz.mp3\nstarted=1\nname=Night Jazz\ndescription=late\n"
                   "genre=jazz\nbitrate=192\ncontent-type=audio/mpeg\ncontainer=mp3\n",
                   "/jazz.mp3", 127, &in);
  assert_string_equal(in.name, "Night Jazz");
  assert_string_equal(in.mount, "/jazz.mp3");
  assert_string_equal(in.description, "late");
  assert_string_equal(in.genre, "jazz");
  assert_string_equal(in.codec, "audio/mpeg");
  assert_int_equal(in.bitrate_kbps, 192);
  assert_true(in.on_air);
  /* Nothing said: the name from the mount, the container, the measured rate. */
  rt_stations_info("station=talk\ncontainer=ogg\nbitrate=\n", "talk", 64, &in);
  assert_string_equal(in.name, "talk");
  assert_string_equal(in.mount, "/talk");
  assert_string_equal(in.codec, "ogg");
  assert_string_equal(in.genre, "");
  assert_int_equal(in.bitrate_kbps, 64);
  /* A name over the record's bound is cut to it; a tab becomes a space. */
  char lines[256];
  snprintf(lines, sizeof lines, "name=%0100d\ngenre=a\tb\n", 7);
  rt_stations_info(lines, "/x", 0, &in);
  assert_int_equal(strlen(in.name), SC_DIRECTORY_NAME_MAX);
  assert_string_equal(in.genre, "a b");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stations_info),       cmocka_unit_test(test_addr_intern),
      cmocka_unit_test(test_addr_many),           cmocka_unit_test(test_addr_wire_map),
      cmocka_unit_test(test_addr_parse),          cmocka_unit_test(test_impair_off),
      cmocka_unit_test(test_impair_loss),         cmocka_unit_test(test_impair_rate),
      cmocka_unit_test(test_impair_delay_jitter), cmocka_unit_test(test_cli),
      cmocka_unit_test(test_cli_every_flag),      cmocka_unit_test(test_cli_commands),
      cmocka_unit_test(test_cli_signed),          cmocka_unit_test(test_cli_output_path),
      cmocka_unit_test(test_latency_pct),         cmocka_unit_test(test_tx_classes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
