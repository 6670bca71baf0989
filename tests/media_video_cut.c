/*
 * media_video_cut.c — a test tool for the WebM and MPEG-TS framers.
 *
 *   media_video_cut dump FILE [unknown-clusters]
 *     prints every unit: offset, length, flags (H header, N new header set,
 *     S sync, G garbage) and end_us.
 *   media_video_cut late FILE WITH WITHOUT [unknown-clusters] [nonsync]
 *     picks the sync unit nearest the middle of FILE (not the first one) and
 *     writes what a late listener joining there receives: the kept headers
 *     then the stream from that unit (WITH), and the same without the headers
 *     (WITHOUT).
 *
 * unknown-clusters: first rewrite every WebM Cluster's size as unknown.
 * nonsync: cut instead at a unit that is not a sync point, as a control: for
 * MPEG-TS the next packet after the sync unit that starts a PES on the same
 * PID, for WebM the next unit after it (a block in the middle of a Cluster).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "media/media.h"
#include "media_video_util.h"

static int write_file(const char *path, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return -1;
  int ok = (alen == 0 || fwrite(a, 1, alen, fp) == alen) &&
           (blen == 0 || fwrite(b, 1, blen, fp) == blen);
  return fclose(fp) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "dump") != 0 && strcmp(argv[1], "late") != 0) ||
      (strcmp(argv[1], "late") == 0 && argc < 5)) {
    fprintf(stderr, "usage: media_video_cut dump FILE [unknown-clusters]\n"
                    "       media_video_cut late FILE WITH WITHOUT [unknown-clusters]\n");
    return 2;
  }
  bool late = strcmp(argv[1], "late") == 0;
  uint8_t *data;
  size_t len;
  if (mv_read_file(argv[2], &data, &len) != 0) {
    fprintf(stderr, "media_video_cut: cannot read %s\n", argv[2]);
    return 1;
  }
  sc_media_kind kind = sc_media_probe(data, len);
  if (kind != SC_MEDIA_WEBM && kind != SC_MEDIA_MPEGTS) {
    fprintf(stderr, "media_video_cut: %s is neither WebM nor MPEG-TS\n", argv[2]);
    return 1;
  }
  bool unknown_clusters = false, nonsync = false;
  for (int i = late ? 5 : 3; i < argc; i++) {
    if (strcmp(argv[i], "unknown-clusters") == 0) {
      unknown_clusters = true;
    } else if (strcmp(argv[i], "nonsync") == 0) {
      nonsync = true;
    } else {
      fprintf(stderr, "media_video_cut: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (unknown_clusters && mv_webm_unknown_clusters(data, len) <= 0) {
    fprintf(stderr, "media_video_cut: no cluster to rewrite in %s\n", argv[2]);
    return 1;
  }
  sc_media_framer *f;
  mv_out o;
  if (sc_media_framer_new(&f, kind, NULL) != SC_OK ||
      mv_run(f, data, len, 0, 0, &o) != SC_OK)
    return 1;
  if (!late) {
    for (size_t i = 0; i < o.nunits; i++) {
      const mv_unit *u = &o.units[i];
      printf("%zu %zu %s%s%s%s %lld\n", u->offset, u->len,
             u->flags & SC_MEDIA_UNIT_HEADER ? "H" : "-",
             u->flags & SC_MEDIA_UNIT_NEW_HEADERS ? "N" : "-",
             u->flags & SC_MEDIA_UNIT_SYNC ? "S" : "-",
             u->flags & SC_MEDIA_UNIT_GARBAGE ? "G" : "-", (long long)u->end_us);
    }
    sc_media_framer_del(f);
    mv_out_free(&o);
    free(data);
    return 0;
  }
  /* The headers are the framer's state after the whole stream; with one
   * header set they are the ones a listener joining anywhere gets. */
  const uint8_t *hdr;
  size_t hdrlen;
  sc_media_framer_headers(f, &hdr, &hdrlen);
  size_t best = o.nunits, nsync = 0;
  for (size_t i = 0; i < o.nunits; i++) {
    if (!(o.units[i].flags & SC_MEDIA_UNIT_SYNC)) continue;
    if (nsync++ == 0) continue;
    if (best == o.nunits || labs((long)o.units[i].offset - (long)len / 2) <
                                labs((long)o.units[best].offset - (long)len / 2))
      best = i;
  }
  if (best == o.nunits || hdrlen == 0) {
    fprintf(stderr, "media_video_cut: no sync unit after the first, or no headers\n");
    return 1;
  }
  size_t cut = best;
  if (nonsync) {
    const uint8_t *p = data + o.units[best].offset;
    for (cut = best + 1; cut < o.nunits; cut++) {
      const uint8_t *q = data + o.units[cut].offset;
      if (kind == SC_MEDIA_WEBM ||
          ((q[1] & 0x40) && (q[1] & 0x1F) == (p[1] & 0x1F) && q[2] == p[2]))
        break;
    }
    if (cut == o.nunits || (o.units[cut].flags & SC_MEDIA_UNIT_SYNC)) {
      fprintf(stderr, "media_video_cut: no non-sync unit to cut at\n");
      return 1;
    }
  }
  size_t at = o.units[cut].offset;
  printf("cut at byte %zu of %zu (unit %zu, %s), headers %zu bytes\n", at, len, cut,
         nonsync ? "not a sync point" : "a sync point", hdrlen);
  if (write_file(argv[3], hdr, hdrlen, data + at, len - at) != 0 ||
      write_file(argv[4], NULL, 0, data + at, len - at) != 0) {
    fprintf(stderr, "media_video_cut: cannot write the output\n");
    return 1;
  }
  sc_media_framer_del(f);
  mv_out_free(&o);
  free(data);
  return 0;
}
