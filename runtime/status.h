/*
 * status.h — what a peer's --http server tells status tools, monitoring
 * and admins, and the station-wide listener count behind it.
 *
 * Routes on the players' server (runtime/serve.h), in the shapes of
 * http/status.h:
 *   /status-json.xsl   Icecast 2.4's status JSON (butt, web players, ...)
 *   /7.html            SHOUTcast v1's one-line status
 *   /metrics           Prometheus text format 0.0.4
 *   /admin/...         Icecast's admin commands with user 'admin' and
 *                      --admin-password(-file) (401 without them); on the
 *                      broadcaster /admin/metadata goes to the ingest server
 *
 * The listener tally (core/tally.h): every RT_STATUS_TICK_NS each hosted
 * peer's own count (its players, plus one per --output) goes into its
 * node; every SC_TALLY_PERIOD_NS the broadcaster writes the station-wide
 * count and peak as a LISTENERS record, which every peer's status pages
 * then report. Until one arrived a peer reports its own players.
 */
#ifndef SC_RUNTIME_STATUS_H
#define SC_RUNTIME_STATUS_H

#include <stdint.h>

#include "http/http.h"

#define RT_STATUS_TICK_NS 1000000000ull
/* listclients lists at most this many players (http/status.h's bound). */
#define RT_STATUS_CLIENTS_MAX 1024
/* Icecast's defaults for the server keys it always reports. */
#define RT_STATUS_ADMIN    "icemaster@localhost"
#define RT_STATUS_LOCATION "Earth"

struct rt_host;
typedef struct rt_status rt_status;

/* Registers the routes (with --http) and starts the tally timer. Reads
 * --admin-password-file. Returns 0 or a negative code (printed). */
int rt_status_new(rt_status **out, struct rt_host *h);
void rt_status_del(rt_status *s);

/* The admin password (NULL: none), for the ingest server's /admin/metadata. */
const char *rt_status_admin_password(const rt_status *s);

#endif
