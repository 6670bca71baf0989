/*
 * media_video_util.c — see media_video_util.h.
 */
#include "media_video_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int mv_read_file(const char *path, uint8_t **data, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return -1;
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (n < cap) break;
    uint8_t *b2 = realloc(buf, cap * 2);
    if (!b2) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = b2;
    cap *= 2;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (!buf || bad) {
    free(buf);
    return -1;
  }
  *data = buf;
  *len = n;
  return 0;
}

void mv_collect(void *user, const sc_media_unit *u) {
  mv_out *o = user;
  if (o->len + u->datalen > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + u->datalen)
      cap *= 2;
    uint8_t *b = realloc(o->bytes, cap);
    if (!b) abort();
    o->bytes = b;
    o->cap = cap;
  }
  if (o->nunits == o->unitscap) {
    size_t cap = o->unitscap ? o->unitscap * 2 : 256;
    mv_unit *x = realloc(o->units, cap * sizeof *x);
    if (!x) abort();
    o->units = x;
    o->unitscap = cap;
  }
  o->units[o->nunits++] = (mv_unit){
      .offset = o->len, .len = u->datalen, .flags = u->flags, .end_us = u->end_us};
  if (u->datalen) memcpy(o->bytes + o->len, u->data, u->datalen);
  o->len += u->datalen;
}

void mv_out_free(mv_out *o) {
  free(o->bytes);
  free(o->units);
  memset(o, 0, sizeof *o);
}

/* splitmix64: a fixed, portable sequence for the piece sizes. */
static uint64_t mv_next(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int mv_run(sc_media_framer *f, const uint8_t *data, size_t len, size_t max_piece,
           uint64_t seed, mv_out *o) {
  memset(o, 0, sizeof *o);
  size_t off = 0;
  while (off < len) {
    size_t n = max_piece ? 1 + (size_t)(mv_next(&seed) % max_piece) : len;
    if (n > len - off) n = len - off;
    int rc = sc_media_framer_feed(f, data + off, n, mv_collect, o);
    if (rc != SC_OK) return rc;
    off += n;
  }
  sc_media_framer_flush(f, mv_collect, o);
  return SC_OK;
}

int mv_webm_unknown_clusters(uint8_t *data, size_t len) {
  sc_media_framer *f;
  if (sc_media_framer_new(&f, SC_MEDIA_WEBM, NULL) != SC_OK) return -1;
  mv_out o;
  int rc = mv_run(f, data, len, 0, 0, &o);
  sc_media_framer_del(f);
  if (rc != SC_OK) {
    mv_out_free(&o);
    return -1;
  }
  int n = 0;
  for (size_t i = 0; i < o.nunits; i++) {
    const mv_unit *u = &o.units[i];
    uint8_t *p = data + u->offset;
    if (u->len < 6 || (u->flags & SC_MEDIA_UNIT_GARBAGE) || p[0] != 0x1F ||
        p[1] != 0x43 || p[2] != 0xB6 || p[3] != 0x75)
      continue;
    /* The size's length is given by its first byte's leading zeros. */
    int sl = 1;
    while (sl <= 8 && !(p[4] & (0x80 >> (sl - 1))))
      sl++;
    if (sl > 8 || 4 + (size_t)sl > u->len) continue;
    p[4] = (uint8_t)((0x80 >> (sl - 1)) | ((0x80 >> (sl - 1)) - 1));
    for (int k = 1; k < sl; k++)
      p[4 + k] = 0xFF;
    n++;
  }
  mv_out_free(&o);
  return n;
}
