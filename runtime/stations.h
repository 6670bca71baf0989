/*
 * stations.h — the station directory (core/directory.h) in the runtime: a
 * broadcaster announces its station, every station peer serves the list at
 * /stations.json, and `stripecast stations` asks a peer for it
 * (docs/directory.md).
 */
#ifndef SC_RUNTIME_STATIONS_H
#define SC_RUNTIME_STATIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "core/directory.h"
#include "runtime/cli.h"
#include "runtime/serve.h"

/* How often a broadcaster brings its announcement up to date (its
 * listeners, what INFO says); the directory decides when to send. */
#define RT_STATIONS_TICK_S 5.0
/* `stripecast stations`: after the last answer, the list is taken as
 * whole once this long passes without another. */
#define RT_STATIONS_QUIET_MS 300
/* The wait for the asked peer's BINDING answer (how it sees the asker). */
#define RT_STATIONS_BINDING_MS 1000

struct rt_host;

typedef struct rt_stations {
  struct rt_host *h;
  ev_timer tick;
  bool running;
  bool announced;
  uint64_t started_unix_s; /* the broadcast's start on the realtime clock */
  uint64_t bytes_seen;     /* the source's bytes at the last tick */
  uint32_t kbps;           /* measured while bytes arrive, kept when they stop */
  uint64_t first_ns;       /* the first tick that saw bytes */
  uint64_t first_bytes;
} rt_stations;

/* Starts the broadcaster's announcements (a signed broadcast only; an
 * unsigned station has no key to sign with and is not listed). */
void rt_stations_start(rt_stations *st, struct rt_host *h);
/* The broadcast ends: announce the station off the air, and stop. */
void rt_stations_stop(rt_stations *st);
/* Adds /stations.json to the players' server. */
int rt_stations_add_routes(rt_stations *st, rt_serve *s);

/* What a station says about itself, from its INFO lines (name=,
 * description=, genre=, bitrate=, content-type=, container=), the station
 * name it was started with (mount, and name when INFO has none) and the
 * bitrate measured at the source (when INFO has none). */
void rt_stations_info(const char *info_lines, const char *station, uint32_t measured_kbps,
                      sc_directory_info *out);

/* The directory as JSON: an array of stations, ranked, each with id, key,
 * station (the --station a listener gives), name, mount, description,
 * genre, codec, bitrate_kbps, listeners, started_unix_s, on_air, online,
 * last_heard_s_ago. Returns false when b overflowed. */
bool rt_stations_json(const sc_directory *d, uint64_t now, rt_serve_buf *b);
/* The same as a table for people. */
void rt_stations_table(const sc_directory *d, uint64_t now, FILE *f);

/* `stripecast stations --join ADDR [--json]`: asks the peer at --join for
 * its directory and prints it. Returns the exit status. */
int rt_stations_query(const rt_options *o);

#endif
