/*
 * peerjson.h — /peer.json, the live view of one peer that the web page of
 * every peer polls (web/app.js): who the peer is, the stations it carries,
 * and per stripe its parent, its children, the chunks it receives and
 * forwards and the chunks its tree did not bring, plus a ring of continuity
 * samples over the last minutes.
 *
 * Pure code like the rest of http/: the runtime fills a snapshot (plain
 * values it read from its own state, runtime/web.c) and this writes the JSON
 * into the caller's bounded buffer. No clock, no I/O, no allocation. Strings
 * that came from the network (a station's title, its mount) are escaped and
 * made valid UTF-8 (an invalid byte becomes U+FFFD, RFC 8259 §8.1 wants
 * UTF-8), so any snapshot renders to valid JSON.
 */
#ifndef SC_HTTP_PEERJSON_H
#define SC_HTTP_PEERJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

/* Bounds of a snapshot. */
#define SC_PEERJSON_STRIPES_MAX 16 /* SC_STRIPES_MAX: k <= 2^b = 16 */
#define SC_PEERJSON_CHILDREN_MAX                                                         \
  16 /* children listed per stripe (the count is exact)                                  \
      */
#define SC_PEERJSON_STATIONS_MAX 4
#define SC_PEERJSON_SAMPLES_MAX  120 /* e.g. one per 5 s over 10 min */
/* A dotted IPv4 address and port ("255.255.255.255:65535"), without NUL. */
#define SC_PEERJSON_ADDR_MAX_BYTES 21
/* Each station string (mount, content type, name, title), without NUL. */
#define SC_PEERJSON_TEXT_MAX_BYTES 255
/* Every snapshot within the bounds above renders into this many bytes
 * (tests/test_peerjson.c renders the largest one). */
#define SC_PEERJSON_MAX_BYTES (96 * 1024)

typedef struct sc_peerjson_ref {
  sc_id id;
  char addr[SC_PEERJSON_ADDR_MAX_BYTES + 1];
} sc_peerjson_ref;

typedef struct sc_peerjson_station {
  char mount[SC_PEERJSON_TEXT_MAX_BYTES + 1];        /* its URL path on this peer */
  char content_type[SC_PEERJSON_TEXT_MAX_BYTES + 1]; /* "" while not known */
  char name[SC_PEERJSON_TEXT_MAX_BYTES + 1];
  char title[SC_PEERJSON_TEXT_MAX_BYTES + 1]; /* now playing; "" none */
  uint32_t listeners;                         /* players on this peer */
  uint32_t page_bytes; /* the station's page at /page/ (its bundle); 0: none */
} sc_peerjson_station;

typedef struct sc_peerjson_stripe {
  bool wanted;   /* this peer subscribes to the stripe */
  bool attached; /* it has a way to the stripe's root */
  bool root;     /* it is the stripe's root */
  bool has_parent;
  sc_peerjson_ref parent;
  uint32_t nchildren; /* all of them; the first SC_PEERJSON_CHILDREN_MAX listed */
  sc_peerjson_ref children[SC_PEERJSON_CHILDREN_MAX];
  uint64_t chunks_in;     /* tree chunks received, since start */
  uint64_t chunks_out;    /* tree chunks sent (to children; a source's to roots) */
  uint64_t chunks_missed; /* sequence numbers the tree skipped, since start */
  double in_per_s;        /* over the runtime's last rate interval */
  double out_per_s;
} sc_peerjson_stripe;

/* One continuity sample: the generations resolved during one period. */
typedef struct sc_peerjson_sample {
  double age_s;      /* how long ago the period ended */
  uint64_t gens;     /* generations delivered in the period */
  uint64_t gens_bad; /* lost or skipped in the period */
} sc_peerjson_sample;

typedef struct sc_peerjson_snapshot {
  sc_id id;
  char addr[SC_PEERJSON_ADDR_MAX_BYTES + 1];
  bool source; /* the broadcaster's peer: publishes, receives no stripe */
  double uptime_s;
  uint32_t nstations;
  sc_peerjson_station stations[SC_PEERJSON_STATIONS_MAX];
  /* The stream as this peer delivered it, since start. */
  bool playing;
  uint64_t gens_delivered, gens_bad;
  uint32_t nstripes;
  sc_peerjson_stripe stripes[SC_PEERJSON_STRIPES_MAX];
  double sample_period_s;
  uint32_t nsamples; /* oldest first */
  sc_peerjson_sample samples[SC_PEERJSON_SAMPLES_MAX];
} sc_peerjson_snapshot;

/*
 * Writes s as one JSON object (docs/runtime.md lists the fields) into out,
 * NUL-terminated. Returns its length, SC_ERR_INVALID (a count beyond its
 * bound) or SC_ERR_NOBUF (cap too small; out then holds a truncated,
 * NUL-terminated prefix, never more than cap bytes).
 */
int sc_peerjson_render(const sc_peerjson_snapshot *s, char *out, size_t cap);

#endif
