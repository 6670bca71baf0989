/*
 * web.h — the page every peer serves at / (web/, embedded at build time by
 * cmake/embed.cmake) and the /peer.json it polls (http/peerjson.h): this
 * peer's stations and its place in each stripe's tree. The runtime keeps
 * here what the page wants over time: per stripe the chunk rates of the last
 * tick, and a ring of continuity samples over the last ten minutes.
 */
#ifndef SC_RUNTIME_WEB_H
#define SC_RUNTIME_WEB_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/splitstream.h"
#include "http/peerjson.h"
#include "runtime/web_assets.h"

/* Rates are taken over one tick. */
#define RT_WEB_TICK_S 1.0
/* One continuity sample every this many ticks (5 s), the ring holding
 * RT_WEB_SAMPLES of them (10 min). */
#define RT_WEB_SAMPLE_TICKS 5
#define RT_WEB_SAMPLES      SC_PEERJSON_SAMPLES_MAX

struct rt_host;

typedef struct rt_web_sample {
  uint64_t end_ns; /* CLOCK_MONOTONIC at the period's end */
  uint64_t gens, gens_bad;
} rt_web_sample;

typedef struct rt_web {
  struct rt_host *h;
  bool running;
  ev_timer tick;
  uint64_t tick_ns; /* the last tick; 0: none yet */
  uint64_t prev_in[SC_STRIPES_MAX], prev_out[SC_STRIPES_MAX];
  double in_per_s[SC_STRIPES_MAX], out_per_s[SC_STRIPES_MAX];
  unsigned ticks;
  uint64_t period_gens, period_bad; /* the peer's counters at the period's start */
  rt_web_sample ring[RT_WEB_SAMPLES];
  unsigned head, n; /* next slot, samples held */
} rt_web;

/* Starts the tick timer of h's page (its first hosted peer's view). */
void rt_web_start(rt_web *w, struct rt_host *h);
void rt_web_stop(rt_web *w);
/* One tick at now: rates, and every RT_WEB_SAMPLE_TICKS a sample. */
void rt_web_tick(rt_web *w, uint64_t now);
/* The view of the first hosted peer at now. */
void rt_web_snapshot(const rt_web *w, uint64_t now, sc_peerjson_snapshot *s);
/* /peer.json into out (at least SC_PEERJSON_MAX_BYTES); its length or a
 * negative code. */
int rt_web_peer_json(const rt_web *w, uint64_t now, char *out, size_t cap);

/* What the page's routes answer. */
typedef struct rt_web_reply {
  int status; /* 200, or 304 (the client's copy is current: no body) */
  const char *content_type;
  const char *cache_control;
  const char *etag; /* NULL: none */
  const char *body;
  size_t body_len;
} rt_web_reply;

/* Cache-Control of the embedded files: kept, but revalidated on every use
 * (a new binary may bring a new page; the ETag makes that a 304). */
#define RT_WEB_CACHE_ASSET "no-cache"
/* /peer.json changes every tick: never stored. */
#define RT_WEB_CACHE_LIVE "no-store"

/*
 * The answer to a GET or HEAD of path (len bytes, query removed): "/" and
 * the other embedded files, "/peer.json" (rendered into buf, at least
 * SC_PEERJSON_MAX_BYTES). if_none_match: that header's value or NULL.
 * Returns 0 with *out filled, SC_ERR_NOT_FOUND (not a path of the page)
 * or the renderer's error.
 */
int rt_web_route(const rt_web *w, uint64_t now, const char *path, size_t len,
                 const char *if_none_match, size_t inm_len, char *buf, size_t cap,
                 rt_web_reply *out);

struct rt_serve;
/* Adds the page's routes ("/", each embedded file, "/peer.json", and the
 * station's own page at /page/, runtime/page.h) to the players' server
 * (runtime/serve.h). Returns 0 or its error. */
int rt_web_add_routes(rt_web *w, struct rt_serve *s);

/* The embedded file at URL path (len bytes, no query; "/" is
 * /index.html), or NULL. */
const rt_web_asset *rt_web_asset_find(const char *path, size_t len);
/* Its Content-Type, from its name. */
const char *rt_web_content_type(const char *path);

#endif
