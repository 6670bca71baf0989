/*
 * test_station.c — records inside generations (core/station): every record
 * arrives whole and in order; a lost generation costs exactly the records
 * that touch it; a late joiner starts at a record boundary; station state is
 * kept; hostile generations are counted and change nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/station.h"

#define GENS_MAX    4096
#define GEN_BYTES   64
#define RECORDS_MAX 512

/* A stand-in for core/stream's source: cuts a generation every GEN_BYTES
 * bytes and on flush, and remembers which record each byte belongs to. */
typedef struct {
  uint8_t gen[GENS_MAX][GEN_BYTES];
  size_t genlen[GENS_MAX];
  size_t gens;
  size_t fill;
} gen_log;

static int log_write(void *user, const uint8_t *data, size_t n) {
  gen_log *g = user;
  while (n > 0) {
    size_t take = GEN_BYTES - g->fill;
    if (take > n) take = n;
    memcpy(g->gen[g->gens] + g->fill, data, take);
    g->fill += take;
    data += take;
    n -= take;
    if (g->fill == GEN_BYTES) {
      g->genlen[g->gens++] = GEN_BYTES;
      g->fill = 0;
    }
  }
  return SC_OK;
}

static int log_flush(void *user) {
  gen_log *g = user;
  if (g->fill) {
    g->genlen[g->gens++] = g->fill;
    g->fill = 0;
  }
  return SC_OK;
}

typedef struct {
  uint8_t type;
  size_t len;
  uint8_t fill;               /* payload byte i is fill + i */
  size_t first_gen, last_gen; /* generations its bytes lie in */
} record_spec;

typedef struct {
  record_spec spec[RECORDS_MAX];
  size_t n;
  gen_log log;
} script;

/* Writes n records of random sizes (some spanning several generations) with
 * random flushes, noting where each record lands. */
static void script_write(script *s, unsigned seed, size_t n) {
  srand(seed);
  memset(s, 0, sizeof *s);
  sc_station_writer w;
  sc_station_sink sink = {log_write, log_flush, &s->log};
  assert_int_equal(sc_station_writer_init(&w, GEN_BYTES, &sink), SC_OK);
  uint8_t payload[1000];
  for (size_t i = 0; i < n; i++) {
    record_spec *r = &s->spec[i];
    r->type = (uint8_t)(SC_STATION_MEDIA + rand() % 2);
    r->len = (size_t)(rand() % 5 == 0 ? rand() % 300 : rand() % 40);
    r->fill = (uint8_t)rand();
    for (size_t k = 0; k < r->len; k++)
      payload[k] = (uint8_t)(r->fill + k);
    r->first_gen = s->log.gens;
    assert_int_equal(sc_station_writer_put(&w, r->type, payload, r->len), SC_OK);
    /* The last byte lies in the open generation, or in the one just cut. */
    r->last_gen = s->log.fill ? s->log.gens : s->log.gens - 1;
    if (rand() % 7 == 0) assert_int_equal(sc_station_writer_flush(&w), SC_OK);
  }
  assert_int_equal(sc_station_writer_flush(&w), SC_OK);
  s->n = n;
  assert_true(s->log.gens < GENS_MAX);
}

typedef struct {
  uint8_t type[RECORDS_MAX * 2];
  size_t len[RECORDS_MAX * 2];
  uint8_t first[RECORDS_MAX * 2];
  bool ok[RECORDS_MAX * 2];
  size_t n;
} seen;

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t n) {
  seen *s = user;
  assert_true(s->n < RECORDS_MAX * 2);
  s->type[s->n] = (uint8_t)type;
  s->len[s->n] = n;
  s->first[s->n] = n ? data[0] : 0;
  bool ok = true;
  for (size_t k = 1; k < n; k++)
    ok = ok && data[k] == (uint8_t)(data[0] + k);
  s->ok[s->n] = ok;
  s->n++;
}

static void expect_records(const script *sc, const seen *got, size_t lost_gen,
                           size_t from_gen) {
  size_t j = 0;
  for (size_t i = 0; i < sc->n; i++) {
    const record_spec *r = &sc->spec[i];
    bool touches_lost =
        lost_gen != SIZE_MAX && r->first_gen <= lost_gen && r->last_gen >= lost_gen;
    bool before_join = r->first_gen < from_gen;
    if (touches_lost || before_join) continue;
    assert_true(j < got->n);
    assert_int_equal(got->type[j], r->type);
    assert_int_equal(got->len[j], r->len);
    if (r->len) assert_int_equal(got->first[j], r->fill);
    assert_true(got->ok[j]);
    j++;
  }
  assert_int_equal(j, got->n);
}

static void test_roundtrip(void **state) {
  (void)state;
  static script sc;
  for (unsigned seed = 1; seed <= 20; seed++) {
    script_write(&sc, seed, 200);
    seen got = {0};
    sc_station_reader *r;
    assert_int_equal(sc_station_reader_new(&r, on_record, &got, NULL), SC_OK);
    for (size_t g = 0; g < sc.log.gens; g++)
      assert_int_equal(sc_station_reader_gen(r, g, sc.log.gen[g], sc.log.genlen[g]),
                       SC_OK);
    expect_records(&sc, &got, SIZE_MAX, 0);
    sc_station_reader_stats st;
    sc_station_reader_get_stats(r, &st);
    assert_int_equal(st.records_cut, 0);
    assert_int_equal(st.bytes_dropped, 0);
    sc_station_reader_del(r);
  }
}

/* Lose each generation in turn, once reported as lost and once as a gap in
 * generation numbers: exactly the records touching it are missing. */
static void test_each_loss(void **state) {
  (void)state;
  static script sc;
  script_write(&sc, 7, 150);
  for (int mode = 0; mode < 2; mode++) {
    for (size_t lost = 0; lost < sc.log.gens; lost++) {
      seen got = {0};
      sc_station_reader *r;
      assert_int_equal(sc_station_reader_new(&r, on_record, &got, NULL), SC_OK);
      for (size_t g = 0; g < sc.log.gens; g++) {
        if (g == lost) {
          if (mode == 0) sc_station_reader_lost(r, g);
          continue;
        }
        assert_int_equal(sc_station_reader_gen(r, g, sc.log.gen[g], sc.log.genlen[g]),
                         SC_OK);
      }
      expect_records(&sc, &got, lost, 0);
      sc_station_reader_stats st;
      sc_station_reader_get_stats(r, &st);
      bool gap_seen = mode == 0 || (lost > 0 && lost + 1 < sc.log.gens);
      assert_int_equal(st.gens_lost, gap_seen ? 1 : 0);
      sc_station_reader_del(r);
    }
  }
}

/* A late joiner's first generation may begin mid-record: it starts at the
 * first record that begins in it. */
static void test_late_join(void **state) {
  (void)state;
  static script sc;
  script_write(&sc, 11, 150);
  for (size_t from = 0; from < sc.log.gens; from++) {
    seen got = {0};
    sc_station_reader *r;
    assert_int_equal(sc_station_reader_new(&r, on_record, &got, NULL), SC_OK);
    for (size_t g = from; g < sc.log.gens; g++)
      assert_int_equal(sc_station_reader_gen(r, g, sc.log.gen[g], sc.log.genlen[g]),
                       SC_OK);
    expect_records(&sc, &got, SIZE_MAX, from);
    sc_station_reader_del(r);
  }
}

static void test_state(void **state) {
  (void)state;
  static gen_log log;
  memset(&log, 0, sizeof log);
  sc_station_writer w;
  sc_station_sink sink = {log_write, log_flush, &log};
  assert_int_equal(sc_station_writer_init(&w, GEN_BYTES, &sink), SC_OK);
  const char *info = "content-type=audio/ogg\nname=Test FM\n";
  assert_int_equal(
      sc_station_writer_put(&w, SC_STATION_INFO, (const uint8_t *)info, strlen(info)),
      SC_OK);
  uint8_t headers[150];
  memset(headers, 0x4f, sizeof headers);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_HEADERS, headers, sizeof headers),
                   SC_OK);
  assert_int_equal(
      sc_station_writer_put(&w, SC_STATION_TITLE, (const uint8_t *)"A - B", 5), SC_OK);
  uint8_t tally[SC_STATION_LISTENERS_BYTES];
  sc_station_listeners_encode(70000, 70001, tally);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_LISTENERS, tally, sizeof tally),
                   SC_OK);
  /* A LISTENERS record of the wrong length is counted, not kept. */
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_LISTENERS, tally, 3), SC_OK);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_END, NULL, 0), SC_OK);
  assert_int_equal(sc_station_writer_put(&w, 99, NULL, 0), SC_ERR_INVALID);
  assert_int_equal(sc_station_writer_flush(&w), SC_OK);
  assert_int_equal(sc_station_writer_flush(&w), SC_OK); /* nothing to cut */

  seen got = {0};
  sc_station_reader *r;
  assert_int_equal(sc_station_reader_new(&r, on_record, &got, NULL), SC_OK);
  uint32_t listeners = 0, peak = 0;
  assert_false(sc_station_reader_listeners(r, &listeners, &peak));
  for (size_t g = 0; g < log.gens; g++)
    sc_station_reader_gen(r, g, log.gen[g], log.genlen[g]);
  assert_int_equal(got.n, 5);
  assert_true(sc_station_reader_listeners(r, &listeners, &peak));
  assert_int_equal(listeners, 70000);
  assert_int_equal(peak, 70001);
  sc_station_reader_stats st;
  sc_station_reader_get_stats(r, &st);
  assert_int_equal(st.records_invalid, 1);
  const uint8_t *h;
  size_t hlen;
  sc_station_reader_headers(r, &h, &hlen);
  assert_int_equal(hlen, sizeof headers);
  assert_memory_equal(h, headers, sizeof headers);
  assert_string_equal(sc_station_reader_title(r), "A - B");
  assert_true(sc_station_reader_ended(r));
  char v[32];
  assert_true(sc_station_info_get(sc_station_reader_info(r), "name", v, sizeof v));
  assert_string_equal(v, "Test FM");
  assert_true(sc_station_info_get(sc_station_reader_info(r), "content-type", v, 6));
  assert_string_equal(v, "audio");
  assert_false(sc_station_info_get(sc_station_reader_info(r), "genre", v, sizeof v));
  sc_station_reader_del(r);
}

/* Hostile generations: random bytes, forged lengths, lying prefixes. The
 * reader counts them, emits only well-formed records and keeps going: a
 * clean stream after them reads whole. */
static void test_hostile(void **state) {
  (void)state;
  seen got = {0};
  sc_station_reader *r;
  assert_int_equal(sc_station_reader_new(&r, on_record, &got, NULL), SC_OK);
  srand(3);
  uint8_t junk[GEN_BYTES];
  uint64_t g = 0;
  for (; g < 2000; g++) {
    size_t n = (size_t)rand() % (GEN_BYTES + 1);
    for (size_t k = 0; k < n; k++)
      junk[k] = (uint8_t)rand();
    if (n >= 4 && rand() % 2) { /* a plausible prefix */
      junk[0] = junk[1] = junk[2] = 0;
      junk[3] = (uint8_t)(4 + rand() % 8);
    }
    if (n >= 10 && rand() % 3 == 0) { /* a forged huge length */
      junk[junk[3] % n] = SC_STATION_MEDIA;
      memset(junk + 5, 0xff, 4);
    }
    assert_int_equal(sc_station_reader_gen(r, g, junk, n), SC_OK);
  }
  sc_station_reader_stats st;
  sc_station_reader_get_stats(r, &st);
  assert_true(st.records_invalid > 0);
  /* A clean stream afterwards (a new source) reads whole. */
  static script sc;
  script_write(&sc, 5, 100);
  sc_station_reader_restart(r);
  got.n = 0;
  for (size_t k = 0; k < sc.log.gens; k++)
    sc_station_reader_gen(r, k, sc.log.gen[k], sc.log.genlen[k]);
  expect_records(&sc, &got, SIZE_MAX, 0);
  sc_station_reader_del(r);
}

static void test_bounds(void **state) {
  (void)state;
  static gen_log log;
  sc_station_writer w;
  sc_station_sink sink = {log_write, log_flush, &log};
  assert_int_equal(sc_station_writer_init(&w, 9, &sink), SC_ERR_INVALID);
  assert_int_equal(sc_station_writer_init(&w, GEN_BYTES, &sink), SC_OK);
  static uint8_t big[1];
  assert_int_equal(
      sc_station_writer_put(&w, SC_STATION_MEDIA, big, SC_STATION_RECORD_MAX + 1),
      SC_ERR_TOO_LARGE);
  assert_int_equal(sc_station_writer_put(&w, SC_STATION_MEDIA, NULL, 3), SC_ERR_INVALID);
}

static void test_station_id(void **state) {
  (void)state;
  sc_id a, b, c;
  assert_int_equal(sc_station_id("/live.opus", &a), SC_OK);
  assert_int_equal(sc_station_id("live.opus", &b), SC_OK);
  assert_int_equal(sc_station_id("/other.mp3", &c), SC_OK);
  assert_memory_equal(&a, &b, sizeof a);
  assert_memory_not_equal(&a, &c, sizeof a);
  assert_int_equal(sc_station_id("", &a), SC_ERR_INVALID);
  assert_int_equal(sc_station_id("/", &a), SC_ERR_INVALID);
  assert_int_equal(sc_station_id("/a b", &a), SC_ERR_INVALID);
  assert_int_equal(sc_station_id(NULL, &a), SC_ERR_INVALID);
}

/* The state a peer hands a listener that attached mid-stream: records back
 * to back, taken as the stream's would be; anything malformed is refused
 * whole and changes nothing. */
typedef struct {
  int types[8];
  size_t n;
} state_seen;

static void on_state_record(void *user, sc_station_record_type type, const uint8_t *data,
                            size_t len) {
  (void)data;
  (void)len;
  state_seen *s = user;
  if (s->n < 8) s->types[s->n++] = (int)type;
}

static void test_fetched_state(void **state) {
  (void)state;
  uint8_t buf[4096];
  const uint8_t hdr[] = "OggS-headers";
  int n = sc_station_state_encode(buf, sizeof buf, "container=ogg\nsession=1\n", hdr,
                                  sizeof hdr - 1, "A - B");
  assert_true(n > 0);
  assert_int_equal(sc_station_state_encode(buf, sizeof buf, "", hdr, 3, "t"), 0);
  assert_int_equal(sc_station_state_encode(buf, 10, "container=ogg\n", hdr, 3, ""),
                   SC_ERR_TOO_LARGE);

  state_seen got = {0};
  sc_station_reader *r;
  assert_int_equal(sc_station_reader_new(&r, on_state_record, &got, NULL), SC_OK);
  /* Cut short, a media record, a length over the bound: refused whole. */
  assert_int_equal(sc_station_reader_state(r, buf, (size_t)n - 1), SC_ERR_INVALID);
  uint8_t media[] = {SC_STATION_MEDIA, 1, 'x'};
  assert_int_equal(sc_station_reader_state(r, media, sizeof media), SC_ERR_INVALID);
  uint8_t big[] = {SC_STATION_TITLE, 0x81, 0x40}; /* 8,193 bytes claimed */
  assert_int_equal(sc_station_reader_state(r, big, sizeof big), SC_ERR_INVALID);
  assert_int_equal(got.n, 0);
  assert_string_equal(sc_station_reader_info(r), "");

  assert_int_equal(sc_station_reader_state(r, buf, (size_t)n), SC_OK);
  assert_int_equal(got.n, 3);
  assert_int_equal(got.types[0], SC_STATION_INFO);
  assert_int_equal(got.types[1], SC_STATION_HEADERS);
  assert_int_equal(got.types[2], SC_STATION_TITLE);
  assert_string_equal(sc_station_reader_info(r), "container=ogg\nsession=1\n");
  assert_string_equal(sc_station_reader_title(r), "A - B");
  const uint8_t *h;
  size_t hlen;
  sc_station_reader_headers(r, &h, &hlen);
  assert_int_equal(hlen, sizeof hdr - 1);
  assert_memory_equal(h, hdr, hlen);
  sc_station_reader_del(r);
}

/* The state's signature: holds for the bytes, the channel and the key it
 * was made with, and for nothing else; the record that carries it splits
 * off the end of a fetched state. */
static void test_state_signature(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  uint8_t pk[32], sk[64], pk2[32], sk2[64];
  crypto_sign_keypair(pk, sk);
  crypto_sign_keypair(pk2, sk2);
  sc_id ch = sc_id_hash("ch", 2), other = sc_id_hash("other", 5);
  uint8_t buf[512];
  int n = sc_station_state_encode(buf, sizeof buf, "container=ogg\n",
                                  (const uint8_t *)"<H>", 3, "A title");
  assert_true(n > 0);
  uint8_t sig[SC_STATION_SIG_BYTES];
  sc_station_state_sign(sk, &ch, buf, (size_t)n, sig);
  assert_true(sc_station_state_verify(pk, &ch, buf, (size_t)n, sig));
  assert_false(sc_station_state_verify(pk2, &ch, buf, (size_t)n, sig));
  assert_false(sc_station_state_verify(pk, &other, buf, (size_t)n, sig));
  assert_false(sc_station_state_verify(pk, &ch, buf, (size_t)n - 1, sig));
  for (int k = 0; k < n; k++) { /* any byte altered */
    buf[k] ^= 0x20;
    assert_false(sc_station_state_verify(pk, &ch, buf, (size_t)n, sig));
    buf[k] ^= 0x20;
  }
  /* Carried as the state's last record. */
  sc_station_sig_record(sig, buf + n);
  size_t len;
  const uint8_t *got;
  assert_true(
      sc_station_state_split(buf, (size_t)n + SC_STATION_SIG_RECORD_BYTES, &len, &got));
  assert_int_equal(len, n);
  assert_memory_equal(got, sig, sizeof sig);
  assert_false(sc_station_state_split(buf, (size_t)n, &len, &got)); /* none */
  assert_false(sc_station_state_split(buf, 10, &len, &got));        /* too short */
  assert_false(sc_station_state_split(NULL, 0, &len, &got));
}

/* A signed station's state: the page goes in only when the signature's
 * record still fits after it, and the record goes in only when it fits;
 * the broadcaster and a relay build the same bytes this way. */
static void test_state_signable(void **state) {
  (void)state;
  uint8_t page[100], sig[SC_STATION_SIG_BYTES], buf[1024];
  memset(page, 'p', sizeof page);
  memset(sig, 's', sizeof sig);
  const char *info = "container=ogg\n";
  int k = sc_station_state_encode(buf, sizeof buf, info, (const uint8_t *)"<H>", 3, "T");
  assert_true(k > 0);
  size_t records = (size_t)k, with_page = records + 2 + sizeof page;
  size_t whole = with_page + SC_STATION_SIG_RECORD_BYTES;
  /* Room for everything: records, page, signature. */
  int n = sc_station_state_encode_signable(buf, whole, info, (const uint8_t *)"<H>", 3,
                                           "T", page, sizeof page);
  assert_int_equal(n, with_page);
  assert_int_equal(sc_station_state_append_sig(buf, whole, (size_t)n, sig), whole);
  size_t len;
  const uint8_t *got;
  assert_true(sc_station_state_split(buf, whole, &len, &got));
  assert_int_equal(len, with_page);
  assert_memory_equal(got, sig, sizeof sig);
  /* The page fits, but not beside the signature: it is left out. */
  n = sc_station_state_encode_signable(buf, whole - 1, info, (const uint8_t *)"<H>", 3,
                                       "T", page, sizeof page);
  assert_int_equal(n, records);
  assert_int_equal(sc_station_state_append_sig(buf, whole - 1, (size_t)n, sig),
                   records + SC_STATION_SIG_RECORD_BYTES);
  /* The records fit, the signature does not: nothing to serve. */
  n = sc_station_state_encode_signable(buf, records + 1, info, (const uint8_t *)"<H>", 3,
                                       "T", page, sizeof page);
  assert_int_equal(n, records);
  assert_int_equal(sc_station_state_append_sig(buf, records + 1, (size_t)n, sig), 0);
  assert_int_equal(sc_station_state_append_sig(buf, records, records + 1, sig), 0);
  /* No INFO, no state; records over cap, an error. */
  assert_int_equal(sc_station_state_encode_signable(buf, sizeof buf, "", NULL, 0, "T",
                                                    page, sizeof page),
                   0);
  assert_int_equal(sc_station_state_encode_signable(buf, records - 1, info,
                                                    (const uint8_t *)"<H>", 3, "T", page,
                                                    sizeof page),
                   SC_ERR_TOO_LARGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_state_signature), cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_each_loss),       cmocka_unit_test(test_late_join),
      cmocka_unit_test(test_state),           cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_bounds),          cmocka_unit_test(test_station_id),
      cmocka_unit_test(test_fetched_state),   cmocka_unit_test(test_state_signable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
