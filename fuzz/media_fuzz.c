/*
 * media_fuzz.c — the media framers under libFuzzer.
 *
 * Input: one byte choosing the kind (byte % 6, an sc_media_kind) and the
 * largest piece ((byte / 6) * 23 + 1 bytes), then the stream. The stream is
 * framed twice, whole and in pieces of pseudo-random sizes seeded by a hash of
 * the input, and each run must give the stream back unit by unit, keep counters
 * that add up, keep as headers exactly the header units of the current set, and
 * cut the same units as the other run (adjacent garbage merged). The header set
 * then goes through sc_media_now_playing, and the stream through
 * sc_media_probe.
 *
 * Seeds: fuzz/corpus/media/ (the test samples behind their kind byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/media.h"

#define CHECK(c)                                                                         \
  do {                                                                                   \
    if (!(c)) abort();                                                                   \
  } while (0)

typedef struct {
  size_t off, len;
  uint32_t flags;
  int64_t end_us;
} unit_rec;

typedef struct {
  sc_media_framer *f;
  const uint8_t *input;
  size_t inputlen;
  size_t off; /* bytes emitted so far */
  unit_rec *units;
  size_t n, cap;
  size_t set_start; /* offset of the current header set's first unit */
  uint8_t *set;     /* the current header set, as the units gave it */
  size_t setlen;
  uint64_t garbage, sync, header, sets;
} run_out;

static void on_unit(void *user, const sc_media_unit *u) {
  run_out *r = user;
  CHECK(u->datalen > 0);
  CHECK(r->off + u->datalen <= r->inputlen);
  CHECK(memcmp(u->data, r->input + r->off, u->datalen) == 0);
  CHECK(u->end_us >= -1);
  /* NEW_HEADERS only on a header unit */
  CHECK(!(u->flags & SC_MEDIA_UNIT_NEW_HEADERS) || (u->flags & SC_MEDIA_UNIT_HEADER));
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 64;
    r->units = realloc(r->units, r->cap * sizeof *r->units);
    CHECK(r->units);
  }
  r->units[r->n++] = (unit_rec){r->off, u->datalen, u->flags, u->end_us};
  r->off += u->datalen;
  if (u->flags & SC_MEDIA_UNIT_GARBAGE) r->garbage += u->datalen;
  if (u->flags & SC_MEDIA_UNIT_SYNC) r->sync++;
  if (u->flags & SC_MEDIA_UNIT_HEADER) {
    r->header++;
    if (u->flags & SC_MEDIA_UNIT_NEW_HEADERS) {
      r->sets++;
      r->setlen = 0;
    }
    r->set = realloc(r->set, r->setlen + u->datalen);
    CHECK(r->set);
    memcpy(r->set + r->setlen, u->data, u->datalen);
    r->setlen += u->datalen;
    /* Inputs here are far below SC_MEDIA_HEADERS_MAX: the framer keeps the
     * whole set. */
    const uint8_t *h;
    size_t hl;
    sc_media_framer_headers(r->f, &h, &hl);
    CHECK(hl == r->setlen && (hl == 0 || memcmp(h, r->set, hl) == 0));
  }
}

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

static void run(run_out *r, sc_media_kind kind, const uint8_t *data, size_t len,
                size_t piece_max, uint64_t seed) {
  memset(r, 0, sizeof *r);
  r->input = data;
  r->inputlen = len;
  CHECK(sc_media_framer_new(&r->f, kind, NULL) == SC_OK);
  for (size_t off = 0; off < len;) {
    size_t piece = len;
    if (piece_max) {
      seed = mix64(seed + 0x9e3779b97f4a7c15u);
      piece = 1 + seed % piece_max;
    }
    if (piece > len - off) piece = len - off;
    CHECK(sc_media_framer_feed(r->f, data + off, piece, on_unit, r) == SC_OK);
    off += piece;
  }
  sc_media_framer_flush(r->f, on_unit, r);
  CHECK(r->off == len);
  const sc_media_stats *st = sc_media_framer_stats(r->f);
  CHECK(st->bytes == len);
  CHECK(st->units == r->n);
  CHECK(st->garbage_bytes == r->garbage);
  CHECK(st->sync_units == r->sync);
  CHECK(st->header_units == r->header);
  CHECK(st->header_sets == r->sets);
  CHECK(st->garbage_bytes <= st->bytes);
}

static void run_free(run_out *r) {
  sc_media_framer_del(r->f);
  free(r->units);
  free(r->set);
}

/* The same units, adjacent garbage merged. */
static void same_units(const run_out *a, const run_out *b) {
  if (a->n <= 1 && a->sync + a->header + a->garbage == 0 &&
      b->sync + b->header + b->garbage == 0) {
    /* Opaque bytes (UNKNOWN, or a kind this build has no framer for): one
     * unit per feed, so the units follow the feeding. */
    return;
  }
  size_t i = 0, j = 0;
  while (i < a->n && j < b->n) {
    const unit_rec *u = &a->units[i], *v = &b->units[j];
    CHECK(u->off == v->off && u->flags == v->flags);
    if (u->flags & SC_MEDIA_UNIT_GARBAGE) {
      size_t ue = u->off + u->len, ve = v->off + v->len;
      while (ue != ve) {
        if (ue < ve) {
          CHECK(++i < a->n && (a->units[i].flags & SC_MEDIA_UNIT_GARBAGE));
          ue += a->units[i].len;
        } else {
          CHECK(++j < b->n && (b->units[j].flags & SC_MEDIA_UNIT_GARBAGE));
          ve += b->units[j].len;
        }
      }
    } else {
      CHECK(u->len == v->len && u->end_us == v->end_us);
    }
    i++, j++;
  }
  CHECK(i == a->n && j == b->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  sc_media_kind kind = (sc_media_kind)(data[0] % 6);
  size_t piece_max = (size_t)(data[0] / 6) * 23 + 1;
  uint64_t seed = 1469598103934665603u; /* FNV-1a of the input */
  for (size_t i = 0; i < size; i++)
    seed = (seed ^ data[i]) * 1099511628211u;
  data++, size--;

  run_out whole, pieces;
  run(&whole, kind, data, size, 0, 0);
  run(&pieces, kind, data, size, piece_max, seed);
  same_units(&whole, &pieces);
  CHECK(whole.setlen == pieces.setlen);

  const uint8_t *h;
  size_t hl;
  sc_media_framer_headers(whole.f, &h, &hl);
  char line[64];
  size_t cap = 1 + seed % sizeof line;
  int rc = sc_media_now_playing(h, hl, line, cap);
  CHECK(rc == SC_ERR_NOT_FOUND ||
        (rc >= 0 && (size_t)rc < cap && strlen(line) == (size_t)rc));
  rc = sc_media_now_playing(data, size, line, sizeof line);
  CHECK(rc == SC_ERR_NOT_FOUND || (rc >= 0 && strlen(line) == (size_t)rc));
  sc_media_kind probed = sc_media_probe(data, size);
  CHECK(probed >= SC_MEDIA_UNKNOWN && probed <= SC_MEDIA_MPEGTS);

  run_free(&whole);
  run_free(&pieces);
  return 0;
}
