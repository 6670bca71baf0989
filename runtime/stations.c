/* stations.c — the station directory in the runtime (see stations.h). */
#include "runtime/stations.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/station.h"
#include "core/wire.h"
#include "runtime/addr.h"
#include "runtime/host.h"
#include "runtime/key.h"

/* Stations a listing shows at most: the table's bound. */
#define STATIONS_LIST_MAX SC_DIRECTORY_STATIONS_MAX

/* ------------------------------------------------------------ the info */

/* Copies the value of "key=" in lines into out (cap bytes with the NUL),
 * cut at cap - 1; false when absent or empty. */
static bool info_value(const char *lines, const char *key, char *out, size_t cap) {
  size_t klen = strlen(key);
  for (const char *p = lines; p && *p;) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t n = len - klen - 1;
      if (n == 0) return false;
      if (n > cap - 1) n = cap - 1;
      memcpy(out, p + klen + 1, n);
      out[n] = '\0';
      return true;
    }
    p = end ? end + 1 : NULL;
  }
  return false;
}

/* What a record may carry: control bytes are refused by every reader. */
static void info_clean(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

void rt_stations_info(const char *info_lines, const char *station, uint32_t measured_kbps,
                      sc_directory_info *out) {
  memset(out, 0, sizeof *out);
  const char *lines = info_lines ? info_lines : "";
  const char *bare = station && station[0] == '/' ? station + 1 : station ? station : "";
  if (!info_value(lines, "name", out->name, sizeof out->name))
    snprintf(out->name, sizeof out->name, "%s", bare);
  snprintf(out->mount, sizeof out->mount, "%s%s", station && station[0] == '/' ? "" : "/",
           station ? station : "");
  info_value(lines, "description", out->description, sizeof out->description);
  info_value(lines, "genre", out->genre, sizeof out->genre);
  if (!info_value(lines, "content-type", out->codec, sizeof out->codec))
    info_value(lines, "container", out->codec, sizeof out->codec);
  char br[16];
  out->bitrate_kbps = measured_kbps;
  if (info_value(lines, "bitrate", br, sizeof br)) {
    char *end;
    unsigned long v = strtoul(br, &end, 10);
    if (end != br && v > 0 && v < UINT32_MAX) out->bitrate_kbps = (uint32_t)v;
  }
  info_clean(out->name);
  info_clean(out->mount);
  info_clean(out->description);
  info_clean(out->genre);
  info_clean(out->codec);
  out->on_air = true;
}

/* ------------------------------------------------------------ announcing */

static void stations_tick_cb(struct ev_loop *loop, ev_timer *t, int revents) {
  (void)loop;
  (void)revents;
  rt_stations *st = t->data;
  rt_host *h = st->h;
  rt_peer *p = &h->peers[0];
  sc_directory *d = p->node ? sc_node_directory(p->node) : NULL;
  const rt_station_source *src = h->src.station;
  if (!d || !src || !rt_station_source_in_session(src)) return;
  uint64_t now = rt_now_ns();
  rt_station_source_stats ss;
  rt_station_source_get_stats(src, &ss);
  /* The feed's rate while bytes arrive (a file read ahead paces itself by
   * its timestamps); kept once they stop. */
  if (ss.bytes_in > st->bytes_seen) {
    if (st->first_ns == 0) {
      st->first_ns = now;
      st->first_bytes = ss.bytes_in;
    } else if (now > st->first_ns && now - st->first_ns <= SC_DIRECTORY_SETTLE_NS) {
      /* Measured over the first minute, then fixed: a rate that moved
       * with every tick would make every refresh an early one. */
      st->kbps = (uint32_t)((ss.bytes_in - st->first_bytes) * 8 * 1000000ull /
                            (now - st->first_ns));
    }
    st->bytes_seen = ss.bytes_in;
  }
  sc_directory_info in;
  rt_stations_info(rt_station_source_info(src), h->opt.station, st->kbps, &in);
  in.started_unix_s = st->started_unix_s;
  in.listeners = sc_node_tally_total(p->node, now);
  /* What the station says rides its next announcement; the directory
   * decides when that is (core/directory.h). */
  if (sc_directory_announce(d, h->cfg.stream_cfg.auth_sk, &in, now) == SC_OK)
    st->announced = true;
  rt_peer_after_core(p, now);
}

void rt_stations_start(rt_stations *st, rt_host *h) {
  memset(st, 0, sizeof *st);
  st->h = h;
  if (h->opt.cmd != RT_CMD_BROADCAST || !h->opt.auth) return;
  st->started_unix_s = (uint64_t)time(NULL);
  ev_timer_init(&st->tick, stations_tick_cb, 1.0, RT_STATIONS_TICK_S);
  st->tick.data = st;
  ev_timer_start(h->loop, &st->tick);
  st->running = true;
}

void rt_stations_stop(rt_stations *st) {
  if (!st->running) return;
  ev_timer_stop(st->h->loop, &st->tick);
  st->running = false;
  rt_peer *p = &st->h->peers[0];
  if (!st->announced || !p->node) return;
  uint64_t now = rt_now_ns();
  sc_directory_withdraw(sc_node_directory(p->node), now);
  rt_peer_after_core(p, now);
}

/* ------------------------------------------------------------ listing */

static void json_str(rt_serve_buf *b, const char *key, const char *s, bool comma) {
  rt_serve_buf_printf(b, "\"%s\":\"", key);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      rt_serve_buf_printf(b, "\\%c", *s);
    else
      rt_serve_buf_put(b, s, 1);
  }
  rt_serve_buf_put(b, comma ? "\"," : "\"", comma ? 2 : 1);
}

static void key_hex(const uint8_t pk[SC_AUTH_PK_BYTES], char *out) {
  rt_key_hex(pk, out);
}

bool rt_stations_json(const sc_directory *d, uint64_t now, rt_serve_buf *b) {
  sc_directory_entry *e = malloc(STATIONS_LIST_MAX * sizeof *e);
  if (!e) {
    b->overflow = true;
    return false;
  }
  unsigned n = d ? sc_directory_list(d, e, STATIONS_LIST_MAX, now) : 0;
  if (n > STATIONS_LIST_MAX) n = STATIONS_LIST_MAX;
  rt_serve_buf_put(b, "[", 1);
  for (unsigned i = 0; i < n; i++) {
    const sc_directory_record *r = &e[i].rec;
    char id[SC_ID_HEX_LEN + 1], hex[2 * SC_AUTH_PK_BYTES + 1];
    sc_id_to_hex(&r->id, id);
    key_hex(r->pk, hex);
    char spec[SC_DIRECTORY_MOUNT_MAX + 2 * SC_AUTH_PK_BYTES + 2];
    snprintf(spec, sizeof spec, "%s@%s", r->info.mount, hex);
    rt_serve_buf_printf(b, "%s\n{", i ? "," : "");
    json_str(b, "id", id, true);
    json_str(b, "key", hex, true);
    json_str(b, "station", r->info.mount[0] ? spec : hex, true);
    json_str(b, "name", r->info.name, true);
    json_str(b, "mount", r->info.mount, true);
    json_str(b, "description", r->info.description, true);
    json_str(b, "genre", r->info.genre, true);
    json_str(b, "codec", r->info.codec, true);
    rt_serve_buf_printf(
        b,
        "\"bitrate_kbps\":%u,\"listeners\":%u,\"started_unix_s\":%llu,\"on_air\":%s,"
        "\"online\":%s,\"last_heard_s_ago\":%llu}",
        r->info.bitrate_kbps, r->info.listeners,
        (unsigned long long)r->info.started_unix_s, r->info.on_air ? "true" : "false",
        e[i].online ? "true" : "false",
        (unsigned long long)((now > e[i].heard_ns ? now - e[i].heard_ns : 0) /
                             1000000000ull));
  }
  rt_serve_buf_put(b, n ? "\n]\n" : "]\n", n ? 3 : 2);
  free(e);
  return !b->overflow;
}

void rt_stations_table(const sc_directory *d, uint64_t now, FILE *f) {
  sc_directory_entry *e = malloc(STATIONS_LIST_MAX * sizeof *e);
  unsigned n = e && d ? sc_directory_list(d, e, STATIONS_LIST_MAX, now) : 0;
  if (n > STATIONS_LIST_MAX) n = STATIONS_LIST_MAX;
  if (n == 0)
    fputs("no stations listed\n", f);
  else
    fprintf(f, "%-3s %-8s %9s %5s  %-12s %-24s %-16s %s\n", "#", "STATUS", "LISTENERS",
            "KBPS", "CODEC", "NAME", "MOUNT", "GENRE");
  for (unsigned i = 0; i < n; i++) {
    const sc_directory_record *r = &e[i].rec;
    char hex[2 * SC_AUTH_PK_BYTES + 1];
    key_hex(r->pk, hex);
    fprintf(f, "%-3u %-8s %9u %5u  %-12s %-24s %-16s %s\n", i + 1,
            e[i].online ? "online" : "offline", r->info.listeners, r->info.bitrate_kbps,
            r->info.codec, r->info.name, r->info.mount, r->info.genre);
    if (r->info.description[0]) fprintf(f, "    %s\n", r->info.description);
    fprintf(f, "    listen: stripecast listen --station %s@%s\n", r->info.mount, hex);
  }
  free(e);
}

static int stations_route(const rt_serve_request *req, void *ctx, rt_serve_buf *out) {
  rt_stations *st = ctx;
  rt_peer *p = &st->h->peers[0];
  rt_serve_buf body = {0};
  const sc_directory *d = p->node ? sc_node_directory(p->node) : NULL;
  if (!rt_stations_json(d, rt_now_ns(), &body)) {
    free(body.data);
    return SC_ERR_NOBUF;
  }
  int rv = rt_serve_respond(req, out, 200, "application/json", NULL, body.data, body.len);
  free(body.data);
  return rv;
}

int rt_stations_add_routes(rt_stations *st, rt_serve *s) {
  return rt_serve_add_route(s, "/stations.json", stations_route, st);
}
