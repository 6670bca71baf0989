/*
 * test_uplink.c — per-peer upstream FIFO with tail drop, and random loss
 * (sim/uplink.h). Literal times and rates; one fixed seed for the loss.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/rng.h"
#include "sim/uplink.h"

#define MS 1000000ULL

static void test_tx_time(void **state) {
  (void)state;
  /* 1,200 bytes at 1 Mbit/s: 9.6 ms. */
  assert_true(sim_uplink_tx_ns(1000000, 1200) == 9600000);
  /* Rounded up to a whole ns: 1 byte at 3 bit/s is 8/3 s. */
  assert_true(sim_uplink_tx_ns(3, 1) == 2666666667ULL);
  assert_true(sim_uplink_tx_ns(0, 1200) == 0); /* unlimited */
  assert_true(sim_uplink_tx_ns(SIM_UPLINK_RATE_MAX, 1) == 1);
  assert_true(sim_uplink_tx_ns(1, SIM_UPLINK_PACKET_MAX) ==
              (uint64_t)SIM_UPLINK_PACKET_MAX * 8 * 1000000000ULL);
}

static void test_cfg(void **state) {
  (void)state;
  sim_uplink_cfg c = {0};
  assert_int_equal(sim_uplink_cfg_init(&c, 1000000, 3000, 0), SC_OK);
  assert_true(c.queue_drain_ns == 24 * MS);
  assert_int_equal(sim_uplink_cfg_init(NULL, 1, 0, 0), SC_ERR_INVALID);
  assert_int_equal(sim_uplink_cfg_init(&c, SIM_UPLINK_RATE_MAX + 1, 0, 0),
                   SC_ERR_INVALID);
  assert_int_equal(sim_uplink_cfg_init(&c, 1, SIM_UPLINK_QUEUE_BYTES_MAX + 1, 0),
                   SC_ERR_INVALID);
  assert_true(c.rate_bps == 1000000); /* untouched by the failures */
  assert_int_equal(sim_uplink_cfg_init(&c, SIM_UPLINK_RATE_MAX,
                                       SIM_UPLINK_QUEUE_BYTES_MAX, UINT64_MAX),
                   SC_OK);
}

static void test_fifo(void **state) {
  (void)state;
  sim_uplink_cfg c;
  assert_int_equal(sim_uplink_cfg_init(&c, 1000000, 0, 0), SC_OK);
  uint64_t free_at = 0;
  /* Three packets handed over together leave one after another. */
  assert_true(sim_uplink_send(&c, &free_at, 100 * MS, 1000) == 108 * MS);
  assert_true(sim_uplink_send(&c, &free_at, 100 * MS, 1000) == 116 * MS);
  assert_true(sim_uplink_send(&c, &free_at, 101 * MS, 500) == 120 * MS);
  assert_true(free_at == 120 * MS);
  assert_true(sim_uplink_backlog_ns(free_at, 110 * MS) == 10 * MS);
  assert_true(sim_uplink_backlog_ns(free_at, 130 * MS) == 0);
  /* An idle link starts at once. */
  assert_true(sim_uplink_send(&c, &free_at, 200 * MS, 1000) == 208 * MS);
  /* Unlimited: no serialisation, no state. */
  sim_uplink_cfg inf;
  assert_int_equal(sim_uplink_cfg_init(&inf, 0, 1000, 1), SC_OK);
  uint64_t f2 = 5;
  assert_true(sim_uplink_send(&inf, &f2, 7, 1200) == 7);
  assert_true(f2 == 5);
}

static void test_tail_drop_bytes(void **state) {
  (void)state;
  sim_uplink_cfg c;
  /* 3,000 bytes of buffer, the packet on the wire included. */
  assert_int_equal(sim_uplink_cfg_init(&c, 1000000, 3000, 0), SC_OK);
  uint64_t free_at = 0;
  assert_true(sim_uplink_send(&c, &free_at, 0, 1000) == 8 * MS);
  assert_true(sim_uplink_send(&c, &free_at, 0, 1000) == 16 * MS);
  assert_true(sim_uplink_send(&c, &free_at, 0, 1000) == 24 * MS);
  assert_true(sim_uplink_send(&c, &free_at, 0, 1000) == SIM_UPLINK_DROP);
  assert_true(sim_uplink_send(&c, &free_at, 0, 1) == SIM_UPLINK_DROP);
  assert_true(free_at == 24 * MS); /* a drop leaves the link alone */
  /* Once a packet's worth has drained, one more fits. */
  assert_true(sim_uplink_send(&c, &free_at, 7 * MS, 1000) == SIM_UPLINK_DROP);
  assert_true(sim_uplink_send(&c, &free_at, 8 * MS, 1000) == 32 * MS);
  /* A packet bigger than the buffer never fits. */
  uint64_t idle = 0;
  assert_true(sim_uplink_send(&c, &idle, 0, 3001) == SIM_UPLINK_DROP);
  assert_true(sim_uplink_send(&c, &idle, 0, 3000) == 24 * MS);
}

static void test_tail_drop_delay(void **state) {
  (void)state;
  sim_uplink_cfg c;
  /* Drop what would wait more than 10 ms for its first bit to go out. */
  assert_int_equal(sim_uplink_cfg_init(&c, 1000000, 0, 10 * MS), SC_OK);
  uint64_t free_at = 0;
  assert_true(sim_uplink_send(&c, &free_at, 0, 1200) == 9600000);  /* waits 0 */
  assert_true(sim_uplink_send(&c, &free_at, 0, 1200) == 19200000); /* waits 9.6 ms */
  assert_true(sim_uplink_send(&c, &free_at, 0, 1200) == SIM_UPLINK_DROP);
  assert_true(sim_uplink_send(&c, &free_at, 9200000, 1200) == 28800000); /* waits 10 ms */
}

/* A sender that always has something to send gets the link rate, and the
 * queue's drops make up the rest. */
static void test_saturation(void **state) {
  (void)state;
  sim_uplink_cfg c;
  assert_int_equal(sim_uplink_cfg_init(&c, 2000000, 12000, 0), SC_OK);
  uint64_t free_at = 0, sent = 0, dropped = 0, last = 0;
  /* Offer 4 Mbit/s (a 1,000-byte packet every 2 ms) for 10 s. */
  for (uint64_t t = 0; t < 10000 * MS; t += 2 * MS) {
    uint64_t d = sim_uplink_send(&c, &free_at, t, 1000);
    if (d == SIM_UPLINK_DROP) {
      dropped++;
    } else {
      assert_true(d > last); /* FIFO: departures in order */
      last = d;
      sent++;
    }
    /* The queue never holds more than its 12,000 bytes (48 ms of sending). */
    assert_true(sim_uplink_backlog_ns(free_at, t) <= c.queue_drain_ns);
  }
  /* 2 Mbit/s is 250 packets/s: 2,500 in 10 s, give or take a queue. */
  assert_in_range(sent, 2500, 2512);
  assert_int_equal(sent + dropped, 5000);
}

static void test_loss(void **state) {
  (void)state;
  sc_rng r;
  sc_rng_seed(&r, 1);
  uint32_t lost = 0;
  for (int i = 0; i < 100000; i++)
    lost += sim_uplink_lost(&r, 0.05);
  assert_in_range(lost, 4700, 5300); /* sd ~69 */
  for (int i = 0; i < 1000; i++) {
    assert_false(sim_uplink_lost(&r, 0));
    assert_true(sim_uplink_lost(&r, 1));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tx_time),
      cmocka_unit_test(test_cfg),
      cmocka_unit_test(test_fifo),
      cmocka_unit_test(test_tail_drop_bytes),
      cmocka_unit_test(test_tail_drop_delay),
      cmocka_unit_test(test_saturation),
      cmocka_unit_test(test_loss),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
