/*
 * media_cut.c — a test tool: frame a file with a media framer and print its
 * units, or write what a late listener would receive.
 *
 *   media-cut KIND FILE units          one line per unit: offset length flags end_us
 *   media-cut KIND FILE late [OFFSET]  the header set, then the stream from the
 *                                      sync unit nearest OFFSET (default: the
 *                                      middle) onward
 *   media-cut KIND FILE late-bare [OFFSET]  the same cut without the headers
 *   media-cut KIND FILE now-playing    sc_media_now_playing on the final headers
 *
 * KIND is ogg, mp3, aac or probe (sc_media_probe on the first bytes).
 * Not installed: tests/check_media_late_start.sh uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/media.h"

typedef struct {
  size_t off;
  size_t len;
  uint32_t flags;
  int64_t end_us;
  uint8_t *headers; /* the header set current when this unit was emitted */
  size_t headerslen;
} unit_rec;

typedef struct {
  sc_media_framer *f;
  unit_rec *units;
  size_t n, cap, off;
} ctx;

static void on_unit(void *user, const sc_media_unit *u) {
  ctx *c = user;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 256;
    c->units = realloc(c->units, c->cap * sizeof *c->units);
    if (!c->units) abort();
  }
  unit_rec *r = &c->units[c->n++];
  r->off = c->off;
  r->len = u->datalen;
  r->flags = u->flags;
  r->end_us = u->end_us;
  const uint8_t *h;
  sc_media_framer_headers(c->f, &h, &r->headerslen);
  r->headers = malloc(r->headerslen + 1);
  if (!r->headers) abort();
  if (r->headerslen) memcpy(r->headers, h, r->headerslen);
  c->off += u->datalen;
}

static int usage(void) {
  fprintf(stderr, "usage: media-cut ogg|mp3|aac|probe FILE "
                  "units|late|late-bare|now-playing [OFFSET]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) return usage();
  FILE *fp = fopen(argv[2], "rb");
  if (!fp) {
    perror(argv[2]);
    return 1;
  }
  size_t cap = 1 << 16, len = 0;
  uint8_t *data = malloc(cap);
  size_t got;
  while (data && (got = fread(data + len, 1, cap - len, fp)) > 0) {
    len += got;
    if (len == cap) data = realloc(data, cap *= 2);
  }
  fclose(fp);
  if (!data) return 1;
  sc_media_kind kind;
  if (strcmp(argv[1], "probe") == 0)
    kind = sc_media_probe(data, len);
  else if (strcmp(argv[1], "ogg") == 0)
    kind = SC_MEDIA_OGG;
  else if (strcmp(argv[1], "mp3") == 0)
    kind = SC_MEDIA_MP3;
  else if (strcmp(argv[1], "aac") == 0)
    kind = SC_MEDIA_AAC;
  else
    return usage();
  ctx c = {0};
  if (sc_media_framer_new(&c.f, kind, NULL) != SC_OK) return 1;
  if (sc_media_framer_feed(c.f, data, len, on_unit, &c) != SC_OK) return 1;
  sc_media_framer_flush(c.f, on_unit, &c);
  int rc = 0;
  if (strcmp(argv[3], "units") == 0) {
    printf("kind %s\n", sc_media_kind_name(kind));
    for (size_t i = 0; i < c.n; i++)
      printf("%zu %zu %s%s%s%s %lld\n", c.units[i].off, c.units[i].len,
             c.units[i].flags & SC_MEDIA_UNIT_HEADER ? "H" : "-",
             c.units[i].flags & SC_MEDIA_UNIT_NEW_HEADERS ? "N" : "-",
             c.units[i].flags & SC_MEDIA_UNIT_SYNC ? "S" : "-",
             c.units[i].flags & SC_MEDIA_UNIT_GARBAGE ? "G" : "-",
             (long long)c.units[i].end_us);
  } else if (strcmp(argv[3], "late") == 0 || strcmp(argv[3], "late-bare") == 0) {
    /* The data sync unit nearest the target (the middle of the file). */
    size_t target = argc == 5 ? (size_t)strtoull(argv[4], NULL, 10) : len / 2;
    size_t best = c.n, best_dist = 0;
    for (size_t i = 0; i < c.n; i++) {
      const unit_rec *u = &c.units[i];
      if (!(u->flags & SC_MEDIA_UNIT_SYNC) || (u->flags & SC_MEDIA_UNIT_HEADER)) continue;
      size_t dist = u->off > target ? u->off - target : target - u->off;
      if (best == c.n || dist < best_dist) best = i, best_dist = dist;
    }
    if (best == c.n) {
      fprintf(stderr, "media-cut: no sync unit\n");
      return 1;
    }
    const unit_rec *u = &c.units[best];
    fprintf(stderr, "media-cut: cut at unit %zu, offset %zu of %zu, headers %zu bytes\n",
            best, u->off, len, u->headerslen);
    if (strcmp(argv[3], "late") == 0) fwrite(u->headers, 1, u->headerslen, stdout);
    fwrite(data + u->off, 1, len - u->off, stdout);
  } else if (strcmp(argv[3], "now-playing") == 0) {
    const uint8_t *h;
    size_t hl;
    sc_media_framer_headers(c.f, &h, &hl);
    char line[256];
    int n = sc_media_now_playing(h, hl, line, sizeof line);
    if (n < 0) {
      fprintf(stderr, "media-cut: %s\n", sc_strerror(n));
      rc = 1;
    } else {
      printf("%s\n", line);
    }
  } else {
    return usage();
  }
  for (size_t i = 0; i < c.n; i++)
    free(c.units[i].headers);
  free(c.units);
  free(data);
  sc_media_framer_del(c.f);
  return rc;
}
