/*
 * test_state.c — core/state.c through two whole peers (sc_node) on an
 * instant network: a peer asks its neighbour for the stream's state and gets
 * it whole, in fragments; an empty answer, a forged or stale fragment, a
 * foreign channel and an ask beyond the answering rate each do what state.h
 * says and are counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/node.h"

#define MS     1000000ull
#define QMAX   4096
#define STATE0 2500 /* bytes of peer 0's state: three fragments */

typedef struct {
  sc_addr to;
  sc_msg m;
  uint8_t payload[SC_CHUNK_BYTES_MAX > SC_STATE_FRAGMENT_BYTES ? SC_CHUNK_BYTES_MAX
                                                               : SC_STATE_FRAGMENT_BYTES];
} queued;

typedef struct {
  sc_node *node[2];
  queued *q;
  size_t qhead, qlen;
  uint64_t now;
  size_t state_len[2]; /* what each peer's application holds */
  uint8_t got[SC_STATE_BYTES_MAX];
  size_t gotlen;
  unsigned answers;
  unsigned fragments_to[2];
  bool drop_state;     /* the network loses every STATE */
  unsigned refuse;     /* whole answers the application refuses first */
  uint32_t last_nonce; /* of the last STATE_REQ sent */
} world;

static world *g_w; /* the callbacks' world (the test runs one at a time) */

static void send_cb(void *user, sc_addr to, const sc_msg *m) {
  (void)user;
  world *w = g_w;
  if (m->type == SC_MSG_STATE_REQ) w->last_nonce = m->u.state_req.nonce;
  if (m->type == SC_MSG_STATE) {
    w->fragments_to[to]++;
    if (w->drop_state) return;
  }
  assert_true(w->qlen < QMAX);
  queued *x = &w->q[(w->qhead + w->qlen++) % QMAX];
  x->to = to;
  x->m = *m;
  if (m->type == SC_MSG_MULTICAST && m->u.multicast.data) {
    memcpy(x->payload, m->u.multicast.data, m->u.multicast.len);
    x->m.u.multicast.data = x->payload;
  }
  if (m->type == SC_MSG_STATE && m->u.state.len) {
    memcpy(x->payload, m->u.state.data, m->u.state.len);
    x->m.u.state.data = x->payload;
  }
}

static size_t state_get(void *user, uint8_t *buf, size_t cap) {
  unsigned i = (unsigned)(uintptr_t)user;
  size_t n = g_w->state_len[i];
  assert_true(n <= cap);
  for (size_t k = 0; k < n; k++)
    buf[k] = (uint8_t)(k * 7 + i);
  return n;
}

static bool state_got(void *user, const uint8_t *data, size_t len, uint64_t now) {
  (void)user;
  (void)now;
  if (g_w->refuse > 0) {
    g_w->refuse--;
    return false;
  }
  memcpy(g_w->got, data, len);
  g_w->gotlen = len;
  g_w->answers++;
  return true;
}

static const sc_node_callbacks cb = {
    .send = send_cb, .state_get = state_get, .state_got = state_got};

static void run_until(world *w, uint64_t until) {
  for (;;) {
    while (w->qlen > 0) {
      queued x = w->q[w->qhead];
      w->qhead = (w->qhead + 1) % QMAX;
      w->qlen--;
      (void)sc_node_recv(w->node[x.to], &x.m, w->now);
    }
    uint64_t t = sc_node_get_expiry(w->node[0]);
    uint64_t t1 = sc_node_get_expiry(w->node[1]);
    if (t1 < t) t = t1;
    if (t > until) break;
    if (t > w->now) w->now = t;
    for (int i = 0; i < 2; i++)
      if (sc_node_get_expiry(w->node[i]) <= w->now)
        assert_int_equal(sc_node_handle_expiry(w->node[i], w->now), 0);
  }
  w->now = until;
}

/* Two peers: 0 bootstraps, 1 joins through it; both receive the stream. */
static world *world_new(void) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->q = calloc(QMAX, sizeof *w->q);
  assert_non_null(w->q);
  g_w = w;
  w->now = 1000 * MS;
  sc_node_config cfg;
  sc_node_config_default(&cfg);
  cfg.stream = true;
  for (unsigned i = 0; i < 2; i++) {
    sc_ref self = {sc_id_hash(&i, sizeof i), i};
    assert_int_equal(sc_node_new(&w->node[i], &self, 7 + i, &cfg, &cb, NULL,
                                 (void *)(uintptr_t)i, w->now),
                     0);
  }
  assert_int_equal(sc_node_join(w->node[0], SC_ADDR_NONE, w->now), 0);
  assert_int_equal(sc_node_join(w->node[1], 0, w->now), 0);
  run_until(w, w->now + 5000 * MS);
  return w;
}

static void world_del(world *w) {
  sc_node_del(w->node[0]);
  sc_node_del(w->node[1]);
  free(w->q);
  free(w);
  g_w = NULL;
}

static void test_fetch_whole(void **state) {
  (void)state;
  world *w = world_new();
  w->state_len[0] = STATE0;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + 10 * MS);
  assert_int_equal(w->answers, 1);
  assert_int_equal(w->gotlen, STATE0);
  for (size_t k = 0; k < STATE0; k++)
    if (w->got[k] != (uint8_t)(k * 7)) fail_msg("byte %zu", k);
  assert_int_equal(w->fragments_to[1], 3);
  sc_state_stats a, b;
  sc_node_state_stats(w->node[1], &a);
  sc_node_state_stats(w->node[0], &b);
  assert_int_equal(a.fetches, 1);
  assert_int_equal(a.asks, 1);
  assert_int_equal(a.answers, 1);
  assert_int_equal(b.reqs_served, 1);
  assert_int_equal(b.fragments_sent, 3);
  /* Done: no more asks, nothing on the timer. */
  run_until(w, w->now + 2000 * MS);
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, 1);
  world_del(w);
}

/* An answer the application refuses (a signature that does not hold) costs
 * one ask: the fetch goes on with the next and takes its answer. */
static void test_refused(void **state) {
  (void)state;
  world *w = world_new();
  w->state_len[0] = STATE0;
  w->refuse = 2;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + 10 * MS);
  assert_int_equal(w->answers, 1);
  assert_int_equal(w->gotlen, STATE0);
  sc_state_stats a;
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, 3);
  assert_int_equal(a.answers_refused, 2);
  assert_int_equal(a.answers, 1);
  /* Refused every time: the fetch gives up after SC_STATE_ASKS_MAX asks. */
  w->refuse = 1000;
  w->answers = 0;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + 100 * MS);
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, 3 + SC_STATE_ASKS_MAX);
  assert_int_equal(a.answers_refused, 2 + SC_STATE_ASKS_MAX);
  assert_int_equal(a.gave_up, 1);
  assert_int_equal(w->answers, 0);
  world_del(w);
}

static void test_empty_and_silence(void **state) {
  (void)state;
  world *w = world_new();
  /* Peer 0 holds nothing: each ask gets an empty answer, the fetch gives up
   * after SC_STATE_ASKS_MAX asks and hands nothing on. */
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + 10000 * MS);
  sc_state_stats a;
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, SC_STATE_ASKS_MAX);
  assert_int_equal(a.empty_answers, SC_STATE_ASKS_MAX);
  assert_int_equal(a.gave_up, 1);
  assert_int_equal(w->answers, 0);
  /* Answers lost: asks repeat SC_STATE_ASK_WAIT_NS apart, then give up. */
  w->state_len[0] = 100;
  w->drop_state = true;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + SC_STATE_ASK_WAIT_NS / 2);
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, SC_STATE_ASKS_MAX + 1);
  run_until(w, w->now + SC_STATE_ASKS_MAX * SC_STATE_ASK_WAIT_NS);
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.asks, 2 * SC_STATE_ASKS_MAX);
  assert_int_equal(a.gave_up, 2);
  /* A cancelled fetch takes no late answer. */
  w->drop_state = false;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  sc_node_state_cancel(w->node[1]);
  run_until(w, w->now + 10 * MS);
  assert_int_equal(w->answers, 0);
  sc_node_state_stats(w->node[1], &a);
  assert_true(a.fragments_stale >= 1);
  world_del(w);
}

static void test_hostile(void **state) {
  (void)state;
  world *w = world_new();
  sc_msg m;
  memset(&m, 0, sizeof m);
  sc_id channel = sc_id_hash("stripecast", 10);
  /* A fragment nobody asked for: stale, nothing taken. */
  m.type = SC_MSG_STATE;
  m.sender.addr = 0;
  m.sender.id = sc_id_hash("x", 1);
  m.u.state.channel = channel;
  m.u.state.total = 10;
  m.u.state.len = 10;
  uint8_t bytes[SC_STATE_FRAGMENT_BYTES] = {0};
  m.u.state.data = bytes;
  assert_int_equal(sc_node_recv(w->node[1], &m, w->now), SC_OK);
  sc_state_stats a;
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.fragments_stale, 1);
  /* Another channel's ask: refused, not answered. */
  sc_msg r;
  memset(&r, 0, sizeof r);
  r.type = SC_MSG_STATE_REQ;
  r.sender = m.sender;
  r.sender.addr = 1;
  r.u.state_req.channel = sc_id_hash("other", 5);
  assert_int_equal(sc_node_recv(w->node[0], &r, w->now), SC_ERR_INVALID);
  /* Asks beyond the rate are shed. */
  w->state_len[0] = 10;
  r.u.state_req.channel = channel;
  unsigned before = w->fragments_to[1];
  for (int i = 0; i < SC_STATE_ANSWERS_PER_S + 5; i++)
    assert_int_equal(sc_node_recv(w->node[0], &r, w->now), SC_OK);
  sc_state_stats b;
  sc_node_state_stats(w->node[0], &b);
  assert_int_equal(b.reqs_served, SC_STATE_ANSWERS_PER_S);
  assert_int_equal(b.reqs_shed, 5);
  assert_int_equal(w->fragments_to[1] - before, SC_STATE_ANSWERS_PER_S);
  assert_int_equal(b.msgs_invalid, 1);
  w->qlen = 0; /* those answers are not the test's */
  /* Forged answers to a real ask (its own nonce, from the peer asked): a
   * wrong length, an offset off the fragment grid, a total over the bound,
   * a second total; each refused and counted, the fetch goes on and takes
   * the true fragments. */
  w->drop_state = true;
  assert_int_equal(sc_node_state_fetch(w->node[1], w->now), 0);
  run_until(w, w->now + 1 * MS);
  m.sender.addr = 0;
  m.u.state.nonce = w->last_nonce;
  struct {
    uint32_t total, offset;
    uint16_t len;
  } bad[] = {{2048, 0, 1000},
             {2048, 512, 1024},
             {SC_STATE_BYTES_MAX + 1, 0, 1024},
             {2048, 2048, 0}};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    m.u.state.total = bad[k].total;
    m.u.state.offset = bad[k].offset;
    m.u.state.len = bad[k].len;
    assert_int_equal(sc_node_recv(w->node[1], &m, w->now), SC_ERR_INVALID);
  }
  m.u.state.total = 2048;
  m.u.state.offset = 0;
  m.u.state.len = 1024;
  assert_int_equal(sc_node_recv(w->node[1], &m, w->now), SC_OK);
  m.u.state.total = 3000; /* the same ask, another answer */
  assert_int_equal(sc_node_recv(w->node[1], &m, w->now), SC_ERR_INVALID);
  assert_int_equal(w->answers, 0);
  m.u.state.total = 2048;
  m.u.state.offset = 1024;
  assert_int_equal(sc_node_recv(w->node[1], &m, w->now), SC_OK);
  assert_int_equal(w->answers, 1);
  assert_int_equal(w->gotlen, 2048);
  sc_node_state_stats(w->node[1], &a);
  assert_int_equal(a.msgs_invalid, 5);
  assert_int_equal(a.answers, 1);
  world_del(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fetch_whole),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_empty_and_silence),
      cmocka_unit_test(test_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
