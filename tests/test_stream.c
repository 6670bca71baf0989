/*
 * test_stream.c — the stream source and receiver (core/stream.c) through
 * their public API. A test writes a byte stream into a source at literal
 * times, keeps every chunk it emits, then hands chunks to receivers in an
 * order, with losses and duplicates and delays of its choosing, driving
 * deadlines through get_expiry/handle_expiry as a host would. It asserts on
 * what the receiver delivers (bytes, order, times), what it reports lost,
 * what it lists as wanted and serves, and its counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/rng.h"
#include "core/stream.h"
#include "failalloc.h"

#define MS      1000000ull
#define S       1000000000ull
#define T0      (10 * S) /* the source starts here */
#define CH_MAX  4096
#define OUT_MAX (1 << 16)
#define GEN_MAX 512
#define NEVER   UINT64_MAX

typedef struct emitted {
  sc_chunk c;
  uint8_t *buf;
} emitted;

/* Everything a test sees: the source's chunks and one receiver's output. */
typedef struct harness {
  sc_stream_config cfg;
  uint8_t in[OUT_MAX]; /* the stream written */
  size_t inlen;
  emitted ch[CH_MAX]; /* chunks in emission order: gen g index i at g*n+i */
  size_t nch;
  uint64_t ngen;
  uint8_t out[OUT_MAX]; /* delivered bytes (payload mode) */
  size_t outlen;
  size_t out_bytes; /* delivered byte count (both modes) */
  uint64_t del_gen[GEN_MAX], del_ns[GEN_MAX];
  size_t ndel;
  uint64_t lost_gen[GEN_MAX], lost_ns[GEN_MAX];
  size_t nlost;
  bool any_resolved;
  uint64_t last_resolved;
} harness;

static harness *h_new(unsigned d, unsigned p, uint32_t cb, bool symbolic) {
  harness *h = calloc(1, sizeof(*h));
  assert_non_null(h);
  sc_stream_config_default(&h->cfg);
  h->cfg.data_chunks = d;
  h->cfg.parity_chunks = p;
  h->cfg.chunk_bytes = cb;
  h->cfg.buffer_ns = 1 * S;
  h->cfg.window_gens = 32;
  h->cfg.symbolic = symbolic;
  return h;
}

static void h_del(harness *h) {
  for (size_t i = 0; i < h->nch; i++)
    free(h->ch[i].buf);
  free(h);
}

static unsigned h_n(const harness *h) {
  return h->cfg.data_chunks + h->cfg.parity_chunks;
}

static const sc_chunk *chunk_at(const harness *h, uint64_t gen, unsigned index) {
  size_t i = (size_t)gen * h_n(h) + index;
  assert_true(i < h->nch);
  assert_int_equal(h->ch[i].c.gen, gen);
  assert_int_equal(h->ch[i].c.index, index);
  return &h->ch[i].c;
}

/* ---------------------------------------------------------- callbacks */

static void on_emit(void *user, const sc_chunk *c, uint64_t now) {
  harness *h = user;
  assert_true(h->nch < CH_MAX);
  assert_int_equal(c->src_ts_ns, now);
  emitted *e = &h->ch[h->nch++];
  e->c = *c;
  e->buf = NULL;
  if (c->data != NULL) {
    assert_int_equal(c->datalen, h->cfg.chunk_bytes);
    e->buf = malloc(c->datalen);
    assert_non_null(e->buf);
    memcpy(e->buf, c->data, c->datalen);
    e->c.data = e->buf;
  } else {
    assert_int_equal(c->datalen, 0);
  }
  if (c->gen + 1 > h->ngen) h->ngen = c->gen + 1;
}

/* Generations resolve strictly in order, each once. */
static void resolved(harness *h, uint64_t gen) {
  if (h->any_resolved) assert_true(gen > h->last_resolved);
  h->any_resolved = true;
  h->last_resolved = gen;
}

static void on_deliver(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                       uint64_t src_ts_ns, uint64_t now) {
  harness *h = user;
  resolved(h, gen);
  assert_true(h->ndel < GEN_MAX);
  h->del_gen[h->ndel] = gen;
  h->del_ns[h->ndel++] = now;
  if (h->nch > 0) assert_int_equal(src_ts_ns, chunk_at(h, gen, 0)->src_ts_ns);
  if (h->cfg.symbolic) {
    assert_null(data);
  } else {
    assert_non_null(data);
    assert_true(h->outlen + datalen <= OUT_MAX);
    memcpy(h->out + h->outlen, data, datalen);
    h->outlen += datalen;
  }
  h->out_bytes += datalen;
}

static void on_lost(void *user, uint64_t gen, uint64_t now) {
  harness *h = user;
  resolved(h, gen);
  assert_true(h->nlost < GEN_MAX);
  h->lost_gen[h->nlost] = gen;
  h->lost_ns[h->nlost++] = now;
}

static const sc_stream_receiver_callbacks cbs = {.deliver = on_deliver, .lost = on_lost};

/* ------------------------------------------------------------ helpers */

/* Writes len pseudo-random bytes in pieces of 1..300 bytes, 5 ms apart
 * from T0, then flushes (a padded last generation unless len fits). */
static void h_source(harness *h, size_t len, uint64_t seed) {
  sc_stream_source *src = NULL;
  assert_int_equal(sc_stream_source_new(&src, &h->cfg, on_emit, h, NULL), SC_OK);
  sc_rng r;
  sc_rng_seed(&r, seed);
  assert_true(len <= OUT_MAX);
  for (size_t i = 0; i < len; i++)
    h->in[i] = (uint8_t)sc_rng_next(&r);
  h->inlen = len;
  uint64_t t = T0;
  for (size_t off = 0; off < len; t += 5 * MS) {
    size_t take = 1 + sc_rng_below(&r, 300);
    if (take > len - off) take = len - off;
    assert_int_equal(
        sc_stream_source_write(src, h->cfg.symbolic ? NULL : h->in + off, take, t),
        SC_OK);
    off += take;
  }
  sc_stream_source_flush(src, t);
  assert_int_equal(sc_stream_source_next_gen(src), h->ngen);
  sc_stream_source_del(src);
}

static sc_stream_receiver *h_receiver(harness *h) {
  sc_stream_receiver *r = NULL;
  assert_int_equal(sc_stream_receiver_new(&r, &h->cfg, &cbs, h, NULL), SC_OK);
  return r;
}

/* Honours every expiry up to t, as the host's timer would. */
/* Every generation reached the application, in order, byte for byte. */
static void assert_every_gen_delivered(const harness *h) {
  assert_int_equal(h->outlen, h->inlen);
  assert_memory_equal(h->out, h->in, h->inlen);
  assert_int_equal(h->ndel, h->ngen);
  assert_int_equal(h->nlost, 0);
}

static void drive(sc_stream_receiver *r, uint64_t t) {
  uint64_t e;
  while ((e = sc_stream_receiver_get_expiry(r)) != NEVER && e <= t)
    sc_stream_receiver_handle_expiry(r, e);
}

typedef struct arrival {
  const sc_chunk *c;
  uint64_t at_ns;
  size_t seq;
} arrival;

static int arrival_cmp(const void *a, const void *b) {
  const arrival *x = a, *y = b;
  if (x->at_ns != y->at_ns) return x->at_ns < y->at_ns ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Delivers arrivals in time order, driving expiries between them. */
static void feed(sc_stream_receiver *r, arrival *a, size_t n) {
  for (size_t i = 0; i < n; i++)
    a[i].seq = i;
  qsort(a, n, sizeof(*a), arrival_cmp);
  for (size_t i = 0; i < n; i++) {
    drive(r, a[i].at_ns);
    int rc = sc_stream_receiver_recv(r, a[i].c, a[i].at_ns);
    assert_true(rc >= 0);
  }
}

/* A delay: 10 ms for generation 0, so that playout starts there (start-up
 * races are test_startup_race's), else 10 ms + up to spread_ms. */
static uint64_t early_or_random(uint64_t gen, sc_rng *rng, uint32_t spread_ms) {
  return gen == 0 ? 10 * MS : (10 + sc_rng_below(rng, spread_ms)) * MS;
}

/* The playout clock as docs/stream.md defines it. */
static uint64_t deadline_of(const harness *h, uint64_t first_at, uint64_t first_src_ts,
                            uint64_t gen) {
  return chunk_at(h, gen, 0)->src_ts_ns + (first_at - first_src_ts) + h->cfg.buffer_ns;
}

/* ------------------------------------------------------------ source */

static void test_source_chunks(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 1000, 1); /* 3 whole generations of 256 + 232 bytes */
  assert_int_equal(h->ngen, 4);
  assert_int_equal(h->nch, 4 * 6);
  for (uint64_t g = 0; g < 4; g++)
    for (unsigned i = 0; i < 6; i++) {
      const sc_chunk *c = chunk_at(h, g, i);
      assert_int_equal(c->gen_bytes, g < 3 ? 256 : 232);
      assert_int_equal(c->src_ts_ns, chunk_at(h, g, 0)->src_ts_ns);
      if (i < 4) /* systematic: data chunks are the stream */
        assert_memory_equal(c->data, h->in + g * 256 + i * 64,
                            g < 3 || i < 3 ? 64 : 232 - 3 * 64);
    }
  /* The padding is zero. */
  const sc_chunk *last = chunk_at(h, 3, 3);
  for (size_t j = 232 - 3 * 64; j < 64; j++)
    assert_int_equal(last->data[j], 0);
  /* Time runs with the writes. */
  assert_true(chunk_at(h, 3, 0)->src_ts_ns > chunk_at(h, 0, 0)->src_ts_ns);

  /* Flush with nothing pending emits nothing; bad writes are refused. */
  sc_stream_source *src = NULL;
  assert_int_equal(sc_stream_source_new(&src, &h->cfg, on_emit, h, NULL), SC_OK);
  size_t before = h->nch;
  sc_stream_source_flush(src, T0);
  assert_int_equal(h->nch, before);
  assert_int_equal(sc_stream_source_write(src, NULL, 10, T0), SC_ERR_INVALID);
  assert_int_equal(sc_stream_source_write(src, NULL, 0, T0), SC_OK);
  sc_stream_source_del(src);
  h_del(h);
}

/* stamp_first_byte: a generation carries the time its first byte was
 * written, while it is still emitted when cut (full, or flushed). */
typedef struct stamps {
  uint64_t gen[8], src_ts[8], emit_ns[8];
  unsigned n;
} stamps;

static void on_emit_stamp(void *user, const sc_chunk *c, uint64_t now) {
  stamps *s = user;
  if (c->index != 0) return;
  assert_true(s->n < 8);
  s->gen[s->n] = c->gen;
  s->src_ts[s->n] = c->src_ts_ns;
  s->emit_ns[s->n++] = now;
}

static void test_source_stamp_first_byte(void **state) {
  (void)state;
  sc_stream_config cfg;
  sc_stream_config_default(&cfg);
  cfg.data_chunks = 2;
  cfg.parity_chunks = 1;
  cfg.chunk_bytes = 50; /* 100 bytes a generation */
  uint8_t b[150] = {0};
  for (int on = 0; on <= 1; on++) {
    cfg.stamp_first_byte = on;
    stamps st = {0};
    sc_stream_source *src = NULL;
    assert_int_equal(sc_stream_source_new(&src, &cfg, on_emit_stamp, &st, NULL), SC_OK);
    assert_int_equal(sc_stream_source_write(src, b, 60, T0), SC_OK);
    assert_int_equal(st.n, 0);
    /* Fills generation 0 (first byte at T0) and starts 1 at T0 + 1 s. */
    assert_int_equal(sc_stream_source_write(src, b, 150, T0 + S), SC_OK);
    assert_int_equal(st.n, 2);
    assert_int_equal(sc_stream_source_write(src, b, 30, T0 + 2 * S), SC_OK);
    /* Generation 2 holds 10 bytes from T0 + 1 s and 30 from T0 + 2 s. */
    sc_stream_source_flush(src, T0 + 3 * S);
    assert_int_equal(st.n, 3);
    for (unsigned i = 0; i < 3; i++)
      assert_int_equal(st.gen[i], i);
    assert_int_equal(st.emit_ns[0], T0 + S);
    assert_int_equal(st.emit_ns[1], T0 + S);
    assert_int_equal(st.emit_ns[2], T0 + 3 * S);
    assert_int_equal(st.src_ts[0], on ? T0 : T0 + S);
    assert_int_equal(st.src_ts[1], T0 + S);
    assert_int_equal(st.src_ts[2], on ? T0 + S : T0 + 3 * S);
    sc_stream_source_del(src);
  }
}

/* ------------------------------------------------------------ receiver */

/* Every chunk, reordered by random delays, 20% of them twice. */
static void test_roundtrip_reorder_dup(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 3000, 2);
  sc_stream_receiver *r = h_receiver(h);
  static arrival a[CH_MAX * 2];
  size_t n = 0, dups = 0;
  sc_rng rng;
  sc_rng_seed(&rng, 3);
  for (size_t i = 0; i < h->nch; i++) {
    const uint64_t at = h->ch[i].c.src_ts_ns + early_or_random(h->ch[i].c.gen, &rng, 290);
    a[n++] = (arrival){&h->ch[i].c, at, 0};
    if (sc_rng_below(&rng, 5) == 0) {
      a[n++] = (arrival){&h->ch[i].c, at + sc_rng_below(&rng, 300) * MS, 0};
      dups++;
    }
  }
  feed(r, a, n);
  drive(r, NEVER - 1);
  assert_every_gen_delivered(h);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_delivered, h->ngen);
  assert_int_equal(st.gens_lost, 0);
  assert_int_equal(st.bytes_delivered, h->inlen);
  /* A data chunk that arrives after its generation was rebuilt is a
   * duplicate too. */
  assert_true(st.chunks_dup >= dups);
  assert_int_equal(st.chunks_stored + st.chunks_dup, h->nch + dups);
  assert_int_equal(st.chunks_late + st.chunks_invalid + st.chunks_ahead, 0);
  assert_int_equal(sc_stream_receiver_get_expiry(r), NEVER);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A window that is not a power of two (the simulator's is 4 x the buffer's
 * generations + 32) turns round many times: generation g in slot g % 13. */
static void test_roundtrip_odd_window(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h->cfg.window_gens = 13;
  h->cfg.buffer_ns = 100 * MS;
  h_source(h, 30000, 4);
  assert_true(h->ngen > 8 * h->cfg.window_gens);
  sc_stream_receiver *r = h_receiver(h);
  static arrival a[CH_MAX];
  size_t n = 0;
  sc_rng rng;
  sc_rng_seed(&rng, 5);
  for (size_t i = 0; i < h->nch; i++) {
    if (h->ch[i].c.index == (h->ch[i].c.gen % 6) && h->ch[i].c.gen % 3 == 1) continue;
    a[n++] = (arrival){
        &h->ch[i].c, h->ch[i].c.src_ts_ns + early_or_random(h->ch[i].c.gen, &rng, 20), 0};
  }
  feed(r, a, n);
  /* Resolved generations stay servable while in the window. */
  sc_chunk c;
  uint64_t last = h->ngen - 1;
  assert_int_equal(sc_stream_receiver_chunk(r, last, 0, &c), SC_OK);
  assert_int_equal(c.gen, last);
  assert_int_equal(sc_stream_receiver_chunk(r, last - h->cfg.window_gens, 0, &c),
                   SC_ERR_NOT_FOUND);
  drive(r, NEVER - 1);
  assert_every_gen_delivered(h);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_early + st.chunks_late + st.chunks_ahead, 0);
  assert_int_equal(st.chunks_stored + st.chunks_dup, n);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* Exactly p chunks of every generation lost, data or parity: all decode. */
static void test_losses_up_to_p(void **state) {
  (void)state;
  static const unsigned codes[][2] = {{4, 2}, {3, 3}, {12, 4}, {6, 1}};
  for (size_t k = 0; k < 4; k++) {
    harness *h = h_new(codes[k][0], codes[k][1], 100, false);
    const unsigned n = h_n(h), p = codes[k][1];
    h_source(h, 20000, 10 + k);
    sc_stream_receiver *r = h_receiver(h);
    static arrival a[CH_MAX];
    size_t na = 0;
    uint64_t rebuilt = 0;
    sc_rng rng;
    sc_rng_seed(&rng, 20 + k);
    for (uint64_t g = 0; g < h->ngen; g++) {
      uint32_t lost = 0;
      while (__builtin_popcount(lost) < (int)p)
        lost |= 1u << sc_rng_below(&rng, n);
      rebuilt += (lost & ((1u << codes[k][0]) - 1)) != 0;
      for (unsigned i = 0; i < n; i++)
        if (!(lost & (1u << i))) {
          const sc_chunk *c = chunk_at(h, g, i);
          a[na++] = (arrival){c, c->src_ts_ns + early_or_random(g, &rng, 200), 0};
        }
    }
    feed(r, a, na);
    drive(r, NEVER - 1);
    assert_int_equal(h->outlen, h->inlen);
    assert_memory_equal(h->out, h->in, h->inlen);
    sc_stream_stats st;
    sc_stream_receiver_get_stats(r, &st);
    assert_int_equal(st.gens_delivered, h->ngen);
    assert_int_equal(st.gens_lost, 0);
    assert_int_equal(st.gens_decoded, rebuilt);
    assert_true(rebuilt > 0);
    sc_stream_receiver_del(r);
    h_del(h);
  }
}

/* Generation 3 loses p + 1 chunks, generation 7 every chunk: both are
 * reported lost at their deadlines, every other one delivered in order. */
static void test_losses_beyond_p(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 12, 4);
  assert_int_equal(h->ngen, 12);
  sc_stream_receiver *r = h_receiver(h);
  static arrival a[CH_MAX];
  size_t na = 0;
  for (uint64_t g = 0; g < h->ngen; g++)
    for (unsigned i = 0; i < 6; i++) {
      if (g == 7 || (g == 3 && (i == 0 || i == 2 || i == 5))) continue;
      const sc_chunk *c = chunk_at(h, g, i);
      a[na++] = (arrival){c, c->src_ts_ns + (50 + 7 * i) * MS, 0};
    }
  const uint64_t first_at = chunk_at(h, 0, 0)->src_ts_ns + 50 * MS;
  const uint64_t src0 = chunk_at(h, 0, 0)->src_ts_ns;
  feed(r, a, na);
  drive(r, NEVER - 1);

  assert_int_equal(h->nlost, 2);
  assert_int_equal(h->lost_gen[0], 3);
  assert_int_equal(h->lost_ns[0], deadline_of(h, first_at, src0, 3));
  /* Nothing of 7 arrived: its deadline is known only from 8's. */
  assert_int_equal(h->lost_gen[1], 7);
  assert_int_equal(h->lost_ns[1], deadline_of(h, first_at, src0, 8));
  assert_int_equal(h->ndel, 10);
  for (size_t i = 0; i < h->ndel; i++) {
    uint64_t g = h->del_gen[i];
    assert_true(g != 3 && g != 7);
    assert_true(h->del_ns[i] <= deadline_of(h, first_at, src0, g));
  }
  /* 4 waited for 3 to be given up. */
  assert_int_equal(h->del_gen[3], 4);
  assert_int_equal(h->del_ns[3], deadline_of(h, first_at, src0, 3));
  /* The bytes are the stream without generations 3 and 7. */
  assert_int_equal(h->outlen, 10 * 256);
  assert_memory_equal(h->out, h->in, 3 * 256);
  assert_memory_equal(h->out + 3 * 256, h->in + 4 * 256, 3 * 256);
  assert_memory_equal(h->out + 6 * 256, h->in + 8 * 256, 4 * 256);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_delivered, 10);
  assert_int_equal(st.gens_lost, 2);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* Deadlines fire only through the expiry; chunks after them are late. */
static void test_deadlines_and_late(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 6, 5);
  sc_stream_receiver *r = h_receiver(h);
  assert_int_equal(sc_stream_receiver_get_expiry(r), NEVER);
  const uint64_t src0 = chunk_at(h, 0, 0)->src_ts_ns;
  const uint64_t at = src0 + 40 * MS;
  /* Start at generation 1 with three chunks (not decodable). */
  for (unsigned i = 0; i < 3; i++)
    assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, i), at), SC_STREAM_STORED);
  /* The clock: deadline(g) = src_ts(g) + (first arrival - src_ts(1)) + buffer. */
  const uint64_t offset = at - chunk_at(h, 1, 0)->src_ts_ns + h->cfg.buffer_ns;
  const uint64_t dl1 = at + h->cfg.buffer_ns;
  assert_int_equal(sc_stream_receiver_get_expiry(r), dl1);
  /* Generation 2 complete, waiting behind 1. */
  for (unsigned i = 0; i < 4; i++)
    assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 2, i), at + 10 * MS),
                     SC_STREAM_STORED);
  assert_int_equal(h->ndel, 0);
  sc_stream_receiver_handle_expiry(r, dl1 - 1);
  assert_int_equal(h->nlost + h->ndel, 0);
  sc_stream_receiver_handle_expiry(r, dl1);
  assert_int_equal(h->nlost, 1);
  assert_int_equal(h->lost_gen[0], 1);
  assert_int_equal(h->ndel, 1);
  assert_int_equal(h->del_gen[0], 2);
  assert_int_equal(h->del_ns[0], dl1);
  /* Generation 0 is before playout started, and playout is under way: late. */
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 0, 0), dl1), SC_STREAM_LATE);
  /* The missing chunk of 1 now: late. A chunk of 3 exactly at its
   * deadline: late too (a deadline is the last moment not included). */
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, 3), dl1 + 1),
                   SC_STREAM_LATE);
  const uint64_t dl3 = chunk_at(h, 3, 0)->src_ts_ns + offset;
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 3, 0), dl3), SC_STREAM_LATE);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.chunks_late, 3);
  assert_int_equal(st.gens_lost, 1);
  assert_int_equal(st.gens_delivered, 1);
  /* Late chunks still count as flowing on their stripe. */
  assert_int_equal(st.chunks_by_index[0], 1 + 1 + 1 + 1);
  assert_int_equal(st.chunks_by_index[3], 1 + 1);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* Playout starts with the first chunk's generation, but an earlier one that
 * arrives before anything was played becomes the first instead. */
static void test_startup_race(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 4, 15);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 3, 0)->src_ts_ns + 10 * MS;
  sc_stream_receiver_recv(r, chunk_at(h, 2, 0), t);
  for (unsigned i = 0; i < 4; i++)
    assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, i), t + MS),
                     SC_STREAM_STORED);
  assert_int_equal(h->ndel, 1);
  /* 1 is played: 0 is too late now. */
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 0, 0), t + 2 * MS),
                   SC_STREAM_LATE);
  for (unsigned i = 1; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 2, i), t + 3 * MS);
  assert_int_equal(h->ndel, 2);
  assert_memory_equal(h->out, h->in + 256, 512);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.startup_ns, MS);
  assert_int_equal(st.gens_lost, 0);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A receiver that attached while generation 1 was in flight got only its
 * last chunks (fewer than d). When generation 2 decodes, nothing has played
 * yet: playout starts at 2 at once (the listener pressed play), instead of
 * waiting a whole buffer for 1's deadline. 1 is skipped, not lost; its
 * chunks are late from then on. */
static void test_startup_skips_partial_first(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h->cfg.start_skips_partial = true;
  h_source(h, 256 * 4, 16);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 2, 0)->src_ts_ns + 10 * MS;
  for (unsigned i = 4; i < 6; i++) /* 1's parity only: 2 of the 4 needed */
    assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, i), t), SC_STREAM_STORED);
  for (unsigned i = 0; i < 3; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 2, i), t + MS);
  assert_int_equal(h->ndel, 0);
  sc_stream_receiver_recv(r, chunk_at(h, 2, 3), t + 2 * MS);
  assert_int_equal(h->ndel, 1);
  assert_int_equal(h->del_gen[0], 2);
  assert_int_equal(h->del_ns[0], t + 2 * MS);
  assert_memory_equal(h->out, h->in + 512, 256);
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, 0), t + 3 * MS),
                   SC_STREAM_LATE);
  for (unsigned i = 0; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 3, i), t + 4 * MS);
  assert_int_equal(h->ndel, 2);
  assert_int_equal(h->del_gen[1], 3);
  drive(r, t + 10 * S);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_skipped, 1);
  assert_int_equal(st.gens_lost, 0);
  assert_int_equal(h->nlost, 0);
  assert_int_equal(st.startup_ns, 2 * MS);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A signed stream stages generation 0's chunks (its manifest unknown) while
 * generation 1 is verified whole: told that 0 exists, playout starts at 0
 * and waits for it instead of playing 1 and finding 0 late. Expectations of
 * another epoch, and any once something played, change nothing; one that
 * never comes is lost at the first known generation's deadline. */
static void test_startup_expected(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 4, 17);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 1, 0)->src_ts_ns + 10 * MS;
  const uint32_t ep = chunk_at(h, 0, 0)->epoch;
  sc_stream_receiver_expect(r, 0, ep);
  for (unsigned i = 0; i < 4; i++)
    assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 1, i), t), SC_STREAM_STORED);
  assert_int_equal(h->ndel, 0);
  sc_stream_want w[4];
  assert_int_equal(sc_stream_receiver_wants(r, w, 4, t), 1);
  assert_int_equal(w[0].gen, 0);
  assert_int_equal(w[0].needed, 4);
  for (unsigned i = 2; i < 6; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), t + MS);
  assert_int_equal(h->ndel, 2);
  assert_int_equal(h->del_gen[0], 0);
  assert_memory_equal(h->out, h->in, 512);
  sc_stream_receiver_expect(r, 0, ep); /* played: ignored */
  for (unsigned i = 0; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 2, i), t + 2 * MS);
  assert_int_equal(h->ndel, 3);
  sc_stream_receiver_del(r);

  /* Expected while started, before anything played; it never comes. */
  h->ndel = h->nlost = 0;
  h->outlen = h->out_bytes = 0;
  h->any_resolved = false;
  r = h_receiver(h);
  sc_stream_receiver_expect(r, 0, ep + 1); /* another epoch's: not this stream's */
  sc_stream_receiver_recv(r, chunk_at(h, 2, 0), t);
  sc_stream_receiver_expect(r, 1, ep);
  for (unsigned i = 1; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 2, i), t + MS);
  assert_int_equal(h->ndel, 0);
  drive(r, t + 10 * S);
  assert_int_equal(h->nlost, 1);
  assert_int_equal(h->lost_gen[0], 1);
  assert_int_equal(h->ndel, 1);
  assert_int_equal(h->del_gen[0], 2);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A generation of which nothing arrived holds up the next one until the
 * next one's deadline, then is lost. */
static void test_empty_generation(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 3, 6);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t at = chunk_at(h, 2, 0)->src_ts_ns + 20 * MS;
  for (unsigned i = 0; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), at);
  for (unsigned i = 2; i < 6; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 2, i), at);
  assert_int_equal(h->ndel, 1);
  const uint64_t dl2 =
      chunk_at(h, 2, 0)->src_ts_ns - chunk_at(h, 0, 0)->src_ts_ns + at + h->cfg.buffer_ns;
  assert_int_equal(sc_stream_receiver_get_expiry(r), dl2);
  drive(r, dl2 - 1);
  assert_int_equal(h->ndel, 1);
  drive(r, dl2);
  assert_int_equal(h->nlost, 1);
  assert_int_equal(h->lost_gen[0], 1);
  assert_int_equal(h->ndel, 2);
  assert_int_equal(h->del_ns[1], dl2);
  assert_memory_equal(h->out + 256, h->in + 512, 256);
  assert_int_equal(sc_stream_receiver_get_expiry(r), NEVER);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* No payload: d distinct indices make a generation. */
static void test_symbolic(void **state) {
  (void)state;
  harness *h = h_new(12, 4, 1024, true);
  h_source(h, 12 * 1024 * 5 + 100, 7);
  assert_int_equal(h->ngen, 6);
  for (size_t i = 0; i < h->nch; i++)
    assert_null(h->ch[i].c.data);
  assert_int_equal(chunk_at(h, 5, 0)->gen_bytes, 100);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 5, 0)->src_ts_ns + 30 * MS;
  /* Generation 0: index 0 twelve times is one chunk, not twelve. */
  for (int k = 0; k < 12; k++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, 0), t);
  assert_int_equal(h->ndel, 0);
  for (unsigned i = 5; i < 16; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), t);
  assert_int_equal(h->ndel, 1);
  /* The others: 4 lost chunks each (of any kind). */
  for (uint64_t g = 1; g < 6; g++)
    for (unsigned i = 0; i < 16; i++)
      if ((i + g) % 4 != 0) sc_stream_receiver_recv(r, chunk_at(h, g, i), t);
  assert_int_equal(h->ndel, 6);
  assert_int_equal(h->out_bytes, 12 * 1024 * 5 + 100);
  /* A chunk with a payload is fine too: the payload is ignored. */
  static const uint8_t junk[1024];
  sc_chunk c = *chunk_at(h, 5, 15); /* a parity index not sent before */
  c.data = junk;
  c.datalen = sizeof(junk);
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_STREAM_STORED);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.chunks_dup, 11);
  assert_int_equal(st.gens_delivered, 6);
  assert_int_equal(st.gens_decoded, 6);
  /* Held chunks are served without payload. */
  sc_chunk out;
  assert_int_equal(sc_stream_receiver_chunk(r, 3, 1, &out), SC_OK);
  assert_null(out.data);
  assert_int_equal(out.datalen, 0);
  /* The ring without payload is small: for the simulator's many peers. */
  assert_true(sc_stream_receiver_mem_bytes(r) < 4096);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A repair list, a chunk served by one receiver, taken by another. */
static void test_repair(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 3, 8);
  harness *hb = h_new(4, 2, 64, false); /* receiver B's output */
  sc_stream_receiver *a = h_receiver(h);
  sc_stream_receiver *b = NULL;
  assert_int_equal(sc_stream_receiver_new(&b, &h->cfg, &cbs, hb, NULL), SC_OK);
  const uint64_t t = chunk_at(h, 2, 0)->src_ts_ns + 20 * MS;
  for (size_t i = 0; i < h->nch; i++)
    sc_stream_receiver_recv(b, &h->ch[i].c, t);
  assert_int_equal(hb->ndel, 3);

  /* A: three chunks of 0, nothing of 1, data 0, 2, 3 and parity 4 of 2. */
  for (unsigned i = 0; i < 3; i++)
    sc_stream_receiver_recv(a, chunk_at(h, 0, i), t);
  static const unsigned have2[] = {0, 2, 3, 4};
  for (unsigned k = 0; k < 4; k++)
    sc_stream_receiver_recv(a, chunk_at(h, 2, have2[k]), t);
  assert_int_equal(h->ndel, 0);

  sc_stream_want w[8];
  assert_int_equal(sc_stream_receiver_wants(a, w, 8, t), 2);
  const uint64_t dl0 = t + h->cfg.buffer_ns;
  const uint64_t dl2 =
      chunk_at(h, 2, 0)->src_ts_ns - chunk_at(h, 0, 0)->src_ts_ns + t + h->cfg.buffer_ns;
  assert_int_equal(w[0].gen, 0);
  assert_int_equal(w[0].missing, 0x38);
  assert_int_equal(w[0].needed, 1);
  assert_int_equal(w[0].deadline_ns, dl0);
  assert_int_equal(w[1].gen, 1);
  assert_int_equal(w[1].missing, 0x3F);
  assert_int_equal(w[1].needed, 4);
  assert_int_equal(w[1].deadline_ns, dl2);
  assert_int_equal(sc_stream_receiver_wants(a, w, 1, t), 1);
  assert_int_equal(w[0].gen, 0);
  /* At 0's deadline only 1 is left to want. */
  assert_int_equal(sc_stream_receiver_wants(a, w, 8, dl0), 1);
  assert_int_equal(w[0].gen, 1);

  /* What A serves: rebuilt data chunk 1 of 2, parity 4; not parity 5. */
  sc_chunk c;
  assert_int_equal(sc_stream_receiver_chunk(a, 2, 1, &c), SC_OK);
  assert_memory_equal(c.data, chunk_at(h, 2, 1)->data, 64);
  assert_int_equal(c.gen_bytes, 256);
  assert_int_equal(c.src_ts_ns, chunk_at(h, 2, 1)->src_ts_ns);
  assert_int_equal(sc_stream_receiver_chunk(a, 2, 4, &c), SC_OK);
  assert_memory_equal(c.data, chunk_at(h, 2, 4)->data, 64);
  assert_int_equal(sc_stream_receiver_chunk(a, 2, 5, &c), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_stream_receiver_chunk(a, 0, 3, &c), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_stream_receiver_chunk(a, 1, 0, &c), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_stream_receiver_chunk(a, 99, 0, &c), SC_ERR_NOT_FOUND);
  assert_int_equal(sc_stream_receiver_chunk(a, 0, 40, &c), SC_ERR_NOT_FOUND);

  /* Repair from B: its chunk 5 of 0 (parity), then four chunks of 1. */
  assert_int_equal(sc_stream_receiver_chunk(b, 0, 5, &c), SC_OK);
  assert_int_equal(sc_stream_receiver_recv(a, &c, t + 1), SC_STREAM_STORED);
  assert_int_equal(h->ndel, 1);
  for (unsigned i = 0; i < 4; i++) {
    assert_int_equal(sc_stream_receiver_chunk(b, 1, i, &c), SC_OK);
    assert_int_equal(sc_stream_receiver_recv(a, &c, t + 2), SC_STREAM_STORED);
  }
  assert_int_equal(h->ndel, 3);
  assert_int_equal(h->outlen, h->inlen);
  assert_memory_equal(h->out, h->in, h->inlen);
  assert_int_equal(sc_stream_receiver_wants(a, w, 8, t + 2), 0);
  sc_stream_receiver_del(a);
  sc_stream_receiver_del(b);
  h_del(hb);
  h_del(h);
}

/* Hostile or broken chunks are refused, counted, and change nothing. */
static void test_malformed(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h->cfg.window_gens = 2; /* so that generation 0 is far in the past */
  h_source(h, 256 * 6, 9);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 5, 0)->src_ts_ns + 10 * MS;
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 2, 0), t), SC_STREAM_STORED);
  const uint64_t expiry = sc_stream_receiver_get_expiry(r);

  sc_chunk c = *chunk_at(h, 2, 1);
  c.index = 6; /* >= d + p */
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c.index = 255;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c = *chunk_at(h, 2, 1);
  c.datalen = 63;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c.datalen = 64;
  c.data = NULL;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c = *chunk_at(h, 2, 1);
  c.gen_bytes = 0;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c.gen_bytes = 4 * 64 + 1;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c = *chunk_at(h, 2, 1);
  c.gen_bytes = 100; /* disagrees with the generation's first chunk */
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c = *chunk_at(h, 2, 1);
  c.src_ts_ns += 1;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c = *chunk_at(h, 2, 1);
  c.gen = SC_STREAM_GEN_MAX + 1;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  c.gen = UINT64_MAX;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_INVALID);
  /* Far future: beyond the window while generation 2 waits. */
  c = *chunk_at(h, 2, 1);
  c.gen = 2 + h->cfg.window_gens + SC_STREAM_AHEAD_SLACK;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_TOO_LARGE);
  c.gen = SC_STREAM_GEN_MAX;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_ERR_TOO_LARGE);
  /* Far past. */
  c = *chunk_at(h, 2, 1);
  c.gen = 0;
  assert_int_equal(sc_stream_receiver_recv(r, &c, t), SC_STREAM_LATE);

  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.chunks_invalid, 10);
  assert_int_equal(st.chunks_ahead, 2);
  assert_int_equal(st.chunks_late, 1);
  assert_int_equal(st.chunks_stored, 1);
  assert_int_equal(sc_stream_receiver_get_expiry(r), expiry);
  sc_stream_want w[4];
  assert_int_equal(sc_stream_receiver_wants(r, w, 4, t), 1);
  assert_int_equal(w[0].missing, 0x3E);

  /* The real stream still plays, byte-exact. */
  for (uint64_t g = 2; g < 6; g++)
    for (unsigned i = 0; i < 6; i++)
      sc_stream_receiver_recv(r, chunk_at(h, g, i), t);
  assert_int_equal(h->ndel, 4);
  assert_memory_equal(h->out, h->in + 2 * 256, 4 * 256);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* The ring: old generations are served until room is needed. A waiting
 * generation is pushed out only by the stream outrunning the window (a chunk
 * in sequence): it is then resolved early, never by a far-future chunk. */
static void test_window(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h->cfg.window_gens = 4;
  h_source(h, 256 * 10, 11);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 9, 0)->src_ts_ns + 10 * MS;
  /* 0 incomplete: 1..3 fit behind it, 4 does not. */
  for (unsigned i = 0; i < 3; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), t);
  for (uint64_t g = 1; g < 4; g++)
    for (unsigned i = 0; i < 4; i++)
      sc_stream_receiver_recv(r, chunk_at(h, g, i), t);
  assert_int_equal(h->ndel, 0);
  /* Far ahead of the newest generation (3): refused, nothing moves. */
  sc_chunk far = *chunk_at(h, 3, 0);
  far.gen = 3 + SC_STREAM_AHEAD_SLACK + 1;
  assert_int_equal(sc_stream_receiver_recv(r, &far, t), SC_ERR_TOO_LARGE);
  assert_int_equal(h->ndel, 0);
  sc_stream_receiver_recv(r, chunk_at(h, 0, 4), t);
  assert_int_equal(h->ndel, 4);
  /* Now 4..9 slide the window; 0..5 go out of it. */
  for (uint64_t g = 4; g < 10; g++)
    for (unsigned i = 0; i < 6; i++)
      assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, g, i), t),
                       SC_STREAM_STORED);
  assert_int_equal(h->ndel, 10);
  assert_memory_equal(h->out, h->in, 10 * 256);
  sc_chunk c;
  assert_int_equal(sc_stream_receiver_chunk(r, 5, 0, &c), SC_ERR_NOT_FOUND);
  for (uint64_t g = 6; g < 10; g++)
    assert_int_equal(sc_stream_receiver_chunk(r, g, 5, &c), SC_OK);
  /* A chunk of a delivered generation in the window: a duplicate. */
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 8, 1), t), SC_STREAM_DUP);
  assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, 3, 1), t), SC_STREAM_LATE);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A window smaller than rate x buffer: the stream outruns it while a
 * generation waits. The oldest waiting generation is resolved early (lost:
 * it cannot decode) and playout goes on, instead of stalling until a restart
 * (seen on real peers at 3 Mbit/s with a 128-generation window and 5 s of
 * buffer). */
static void test_window_outrun(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h->cfg.window_gens = 4;
  h->cfg.buffer_ns = 100 * S;
  h_source(h, 256 * 10, 17);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 9, 0)->src_ts_ns + 10 * MS;
  for (unsigned i = 0; i < 3; i++) /* 0 never decodes */
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), t);
  for (uint64_t g = 1; g < 10; g++)
    for (unsigned i = 0; i < 4; i++)
      assert_int_equal(sc_stream_receiver_recv(r, chunk_at(h, g, i), t),
                       SC_STREAM_STORED);
  assert_int_equal(h->ndel, 9);
  assert_memory_equal(h->out, h->in + 256, 9 * 256);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_lost, 1);
  assert_int_equal(st.gens_early, 1);
  assert_int_equal(st.chunks_ahead, 0);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* Restart: a new playout clock from the next chunk; stats carry on. */
static void test_restart(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 8, 12);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 0, 0)->src_ts_ns + 10 * MS;
  for (unsigned i = 0; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 0, i), t);
  for (unsigned i = 0; i < 2; i++)
    sc_stream_receiver_recv(r, chunk_at(h, 1, i), t);
  sc_stream_receiver_restart(r, t);
  assert_int_equal(sc_stream_receiver_get_expiry(r), NEVER);
  /* Generation 1 is gone; 6 starts playout at a later time. */
  const uint64_t t2 = t + 100 * S;
  for (uint64_t g = 6; g < 8; g++)
    for (unsigned i = 0; i < 4; i++)
      sc_stream_receiver_recv(r, chunk_at(h, g, i), t2);
  assert_int_equal(h->ndel, 3);
  assert_int_equal(h->del_gen[1], 6);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_delivered, 3);
  assert_int_equal(st.gens_lost, 1); /* 1 was waiting at the restart */
  assert_int_equal(st.first_chunk_ns, t);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* A source that starts anew (a restarted process, or a second broadcaster)
 * numbers its generations from 0 under a later epoch: the receiver follows
 * it at once, and chunks of the earlier epoch that still arrive are dropped
 * and counted, never interleaved with the new stream. */
typedef struct epoch_log {
  uint64_t gen[64];
  uint8_t first_byte[64];
  size_t n;
  unsigned restarts;
} epoch_log;

static void epoch_deliver(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                          uint64_t src_ts_ns, uint64_t now) {
  (void)datalen, (void)src_ts_ns, (void)now;
  epoch_log *l = user;
  assert_true(l->n < 64);
  l->gen[l->n] = gen;
  l->first_byte[l->n++] = data[0];
}

static void epoch_restarted(void *user, uint64_t now) {
  (void)now;
  ((epoch_log *)user)->restarts++;
}

static void test_epoch(void **state) {
  (void)state;
  harness *old = h_new(4, 2, 64, false);
  old->cfg.epoch = 0xfffffff0u; /* the next epoch wraps: RFC 1982 order */
  h_source(old, 256 * 8, 21);
  harness *fresh = h_new(4, 2, 64, false);
  fresh->cfg.epoch = 5;
  h_source(fresh, 256 * 4, 22);
  assert_int_equal(chunk_at(old, 3, 0)->epoch, 0xfffffff0u);
  assert_int_equal(chunk_at(fresh, 0, 0)->epoch, 5);

  epoch_log log = {0};
  const sc_stream_receiver_callbacks cb = {.deliver = epoch_deliver,
                                           .restarted = epoch_restarted};
  sc_stream_receiver *r = NULL;
  assert_int_equal(sc_stream_receiver_new(&r, &old->cfg, &cb, &log, NULL), SC_OK);
  uint64_t t = chunk_at(old, 0, 0)->src_ts_ns + 10 * MS;
  for (uint64_t g = 0; g < 4; g++)
    for (unsigned i = 0; i < 4; i++)
      assert_int_equal(sc_stream_receiver_recv(r, chunk_at(old, g, i), t),
                       SC_STREAM_STORED);
  assert_int_equal(log.n, 4);
  /* The new source's generation 0, 100 ms later: played at once, although
   * the old numbering is at 4. */
  t += 100 * MS;
  for (uint64_t g = 0; g < 4; g++)
    for (unsigned i = 0; i < 4; i++)
      assert_int_equal(sc_stream_receiver_recv(r, chunk_at(fresh, g, i), t),
                       SC_STREAM_STORED);
  assert_int_equal(log.n, 8);
  assert_int_equal(log.restarts, 1);
  for (size_t k = 0; k < 4; k++) {
    assert_int_equal(log.gen[4 + k], k);
    assert_int_equal(log.first_byte[4 + k], fresh->in[k * 256]);
  }
  /* The old source still sends: dropped, counted, nothing played. */
  for (uint64_t g = 4; g < 8; g++)
    for (unsigned i = 0; i < 6; i++)
      assert_int_equal(sc_stream_receiver_recv(r, chunk_at(old, g, i), t),
                       SC_STREAM_STALE);
  assert_int_equal(log.n, 8);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.epoch_changes, 1);
  assert_int_equal(st.chunks_stale, 24);
  assert_int_equal(st.gens_delivered, 8);
  assert_int_equal(st.gens_lost, 0);
  /* What a peer serves for repair carries the playing epoch. */
  sc_chunk c;
  assert_int_equal(sc_stream_receiver_chunk(r, 2, 1, &c), SC_OK);
  assert_int_equal(c.epoch, 5);
  sc_stream_receiver_del(r);
  h_del(old);
  h_del(fresh);
}

/* Start-up delay, join time, lag and per-stripe counts. */
/* A listener already listening when a new source starts (a new epoch):
 * the new source's generation 0, staged and expected while the old epoch
 * played, is waited for although generation 1 decodes first, and is not
 * skipped even with start_skips_partial (only a first start skips). */
static void test_restart_expected(void **state) {
  (void)state;
  harness *old = h_new(4, 2, 64, false);
  old->cfg.epoch = 3;
  old->cfg.start_skips_partial = true;
  h_source(old, 256 * 4, 23);
  harness *fresh = h_new(4, 2, 64, false);
  fresh->cfg.epoch = 4;
  h_source(fresh, 256 * 4, 24);
  epoch_log log = {0};
  const sc_stream_receiver_callbacks cb = {.deliver = epoch_deliver,
                                           .restarted = epoch_restarted};
  sc_stream_receiver *r = NULL;
  assert_int_equal(sc_stream_receiver_new(&r, &old->cfg, &cb, &log, NULL), SC_OK);
  uint64_t t = chunk_at(old, 0, 0)->src_ts_ns + 10 * MS;
  for (uint64_t g = 0; g < 2; g++)
    for (unsigned i = 0; i < 4; i++)
      sc_stream_receiver_recv(r, chunk_at(old, g, i), t);
  assert_int_equal(log.n, 2);
  t += 100 * MS;
  sc_stream_receiver_expect(r, 0, 4);
  for (unsigned i = 0; i < 4; i++)
    sc_stream_receiver_recv(r, chunk_at(fresh, 1, i), t);
  assert_int_equal(log.restarts, 1);
  assert_int_equal(log.n, 2); /* 1 waits for 0 */
  for (unsigned i = 1; i < 5; i++)
    sc_stream_receiver_recv(r, chunk_at(fresh, 0, i), t + MS);
  assert_int_equal(log.n, 4);
  assert_int_equal(log.gen[2], 0);
  assert_int_equal(log.gen[3], 1);
  assert_int_equal(log.first_byte[2], fresh->in[0]);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_int_equal(st.gens_skipped, 0);
  assert_int_equal(st.gens_lost, 0);
  sc_stream_receiver_del(r);
  h_del(old);
  h_del(fresh);
}

static void test_accounting(void **state) {
  (void)state;
  harness *h = h_new(4, 2, 64, false);
  h_source(h, 256 * 5, 13);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t join = chunk_at(h, 0, 0)->src_ts_ns - 200 * MS;
  sc_stream_receiver_set_join_time(r, join);
  static arrival a[CH_MAX];
  size_t na = 0;
  for (uint64_t g = 0; g < 5; g++)
    for (unsigned i = 0; i < 6; i++) {
      if (i == 1) continue; /* stripe 1 is cut */
      const sc_chunk *c = chunk_at(h, g, i);
      a[na++] = (arrival){c, c->src_ts_ns + (50 + i) * MS, 0};
    }
  feed(r, a, na);
  drive(r, NEVER - 1);
  sc_stream_stats st;
  sc_stream_receiver_get_stats(r, &st);
  assert_true(st.started && st.playing && st.joined);
  assert_int_equal(st.first_chunk_ns, chunk_at(h, 0, 0)->src_ts_ns + 50 * MS);
  /* The fourth chunk (index 4) completes each generation at +54 ms. */
  assert_int_equal(st.startup_ns, 4 * MS);
  assert_int_equal(st.join_startup_ns, 254 * MS);
  assert_int_equal(st.lag_max_ns, 54 * MS);
  assert_int_equal(st.lag_sum_ns, 5 * 54 * MS);
  assert_int_equal(st.gens_decoded, 5);
  for (unsigned i = 0; i < 6; i++)
    assert_int_equal(st.chunks_by_index[i], i == 1 ? 0 : 5);
  assert_int_equal(st.chunks_stored, 25);
  sc_stream_receiver_del(r);
  h_del(h);
}

/* 16 + 0: coding off; one lost chunk loses the generation. */
static void test_no_parity(void **state) {
  (void)state;
  harness *h = h_new(16, 0, 32, false);
  h_source(h, 512 * 3, 14);
  sc_stream_receiver *r = h_receiver(h);
  const uint64_t t = chunk_at(h, 2, 0)->src_ts_ns + 10 * MS;
  for (uint64_t g = 0; g < 3; g++)
    for (unsigned i = 0; i < 16; i++)
      if (!(g == 1 && i == 7)) sc_stream_receiver_recv(r, chunk_at(h, g, i), t);
  drive(r, NEVER - 1);
  assert_int_equal(h->ndel, 2);
  assert_int_equal(h->nlost, 1);
  assert_int_equal(h->lost_gen[0], 1);
  assert_memory_equal(h->out, h->in, 512);
  assert_memory_equal(h->out + 512, h->in + 1024, 512);
  sc_stream_receiver_del(r);
  h_del(h);
}

static void test_invalid_config(void **state) {
  (void)state;
  sc_stream_config c;
  sc_stream_config_default(&c);
  sc_stream_receiver *r = NULL;
  sc_stream_source *s = NULL;
  assert_int_equal(sc_stream_receiver_new(&r, &c, NULL, NULL, NULL), SC_ERR_INVALID);
  sc_stream_receiver_callbacks nodeliver = {.lost = on_lost};
  assert_int_equal(sc_stream_receiver_new(&r, &c, &nodeliver, NULL, NULL),
                   SC_ERR_INVALID);
  assert_int_equal(sc_stream_source_new(&s, &c, NULL, NULL, NULL), SC_ERR_INVALID);
  sc_stream_config bad = c;
  bad.buffer_ns = 0;
  assert_int_equal(sc_stream_receiver_new(&r, &bad, &cbs, NULL, NULL), SC_ERR_INVALID);
  bad = c;
  bad.window_gens = 0;
  assert_int_equal(sc_stream_receiver_new(&r, &bad, &cbs, NULL, NULL), SC_ERR_INVALID);
  bad.window_gens = SC_STREAM_WINDOW_MAX + 1;
  assert_int_equal(sc_stream_receiver_new(&r, &bad, &cbs, NULL, NULL), SC_ERR_INVALID);
  bad = c;
  bad.data_chunks = 30;
  bad.parity_chunks = 3;
  assert_int_equal(sc_stream_receiver_new(&r, &bad, &cbs, NULL, NULL), SC_ERR_INVALID);
  assert_int_equal(sc_stream_source_new(&s, &bad, on_emit, NULL, NULL), SC_ERR_INVALID);
  bad = c;
  bad.chunk_bytes = 0;
  assert_int_equal(sc_stream_source_new(&s, &bad, on_emit, NULL, NULL), SC_ERR_INVALID);
  assert_null(r);
  assert_null(s);
  sc_stream_receiver_del(NULL);
  sc_stream_source_del(NULL);
}

/* Each allocation of the constructors fails in turn: SC_ERR_NOMEM, and
 * nothing leaks. Once built, chunks never allocate. */
static void test_alloc_failure(void **state) {
  (void)state;
  for (int symbolic = 0; symbolic < 2; symbolic++) {
    harness *h = h_new(12, 4, 256, symbolic);
    failalloc fa;
    failalloc_init(&fa, -1);
    sc_stream_receiver *r = NULL;
    sc_stream_source *s = NULL;
    assert_int_equal(sc_stream_receiver_new(&r, &h->cfg, &cbs, h, &fa.alloc), SC_OK);
    assert_int_equal(sc_stream_source_new(&s, &h->cfg, on_emit, h, &fa.alloc), SC_OK);
    const long total = fa.calls;
    /* A generation through source and receiver: no allocation. */
    uint8_t buf[12 * 256] = {0};
    assert_int_equal(sc_stream_source_write(s, symbolic ? NULL : buf, sizeof(buf), T0),
                     SC_OK);
    for (size_t i = 0; i < h->nch; i++)
      if (i != 3) sc_stream_receiver_recv(r, &h->ch[i].c, T0 + MS);
    assert_int_equal(h->ndel, 1);
    assert_int_equal(fa.calls, total);
    sc_stream_receiver_del(r);
    sc_stream_source_del(s);
    assert_int_equal(fa.live, 0);

    for (long k = 0; k < total; k++) {
      failalloc_init(&fa, k);
      r = NULL;
      s = NULL;
      int rr = sc_stream_receiver_new(&r, &h->cfg, &cbs, h, &fa.alloc);
      int rs = sc_stream_source_new(&s, &h->cfg, on_emit, h, &fa.alloc);
      assert_true(rr == SC_ERR_NOMEM || rs == SC_ERR_NOMEM);
      assert_true(rr == SC_OK || rr == SC_ERR_NOMEM);
      assert_true(rs == SC_OK || rs == SC_ERR_NOMEM);
      sc_stream_receiver_del(r);
      sc_stream_source_del(s);
      assert_int_equal(fa.live, 0);
    }
    h_del(h);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_source_chunks),
      cmocka_unit_test(test_source_stamp_first_byte),
      cmocka_unit_test(test_roundtrip_reorder_dup),
      cmocka_unit_test(test_roundtrip_odd_window),
      cmocka_unit_test(test_losses_up_to_p),
      cmocka_unit_test(test_losses_beyond_p),
      cmocka_unit_test(test_deadlines_and_late),
      cmocka_unit_test(test_startup_race),
      cmocka_unit_test(test_startup_skips_partial_first),
      cmocka_unit_test(test_startup_expected),
      cmocka_unit_test(test_restart_expected),
      cmocka_unit_test(test_empty_generation),
      cmocka_unit_test(test_symbolic),
      cmocka_unit_test(test_repair),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_window),
      cmocka_unit_test(test_restart),
      cmocka_unit_test(test_epoch),
      cmocka_unit_test(test_window_outrun),
      cmocka_unit_test(test_accounting),
      cmocka_unit_test(test_no_parity),
      cmocka_unit_test(test_invalid_config),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
