/*
 * media_video_util.h — helpers shared by the WebM / MPEG-TS framer tests and
 * the late-start tool: read a file, run a framer and keep what it emitted.
 */
#ifndef SC_MEDIA_VIDEO_UTIL_H
#define SC_MEDIA_VIDEO_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

typedef struct {
  size_t offset; /* in the concatenation of all units */
  size_t len;
  uint32_t flags;
  int64_t end_us;
} mv_unit;

typedef struct {
  uint8_t *bytes; /* every unit's bytes, concatenated */
  size_t len, cap;
  mv_unit *units;
  size_t nunits, unitscap;
} mv_out;

/* The whole file at path in *data (malloc'd); 0 or -1. */
int mv_read_file(const char *path, uint8_t **data, size_t *len);
/* The framer's callback: appends the unit to the mv_out given as user. */
void mv_collect(void *user, const sc_media_unit *u);
void mv_out_free(mv_out *o);
/* Feed data in pieces of 1..max_piece bytes drawn with seed (max_piece 0:
 * whole), flush, and collect into *o (zeroed first). Returns SC_OK or the
 * framer's error. Stats and headers stay in the framer. */
int mv_run(sc_media_framer *f, const uint8_t *data, size_t len, size_t max_piece,
           uint64_t seed, mv_out *o);
/* Rewrite, in place, the size of every Cluster of the WebM stream
 * data[0..len) as "unknown" (all ones, same length), as live muxers that do
 * not buffer a Cluster write it. Returns how many were rewritten, -1 on error. */
int mv_webm_unknown_clusters(uint8_t *data, size_t len);

#endif
