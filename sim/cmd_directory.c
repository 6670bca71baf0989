/*
 * cmd_directory.c — `stripecast-sim directory`: the station directory's cost
 * and reach (docs/directory.md). N whole peers (no forest, no stream) join a
 * Pastry overlay and settle; then S stations start one after another, each
 * on a random peer, and each announcement spreads over the routing tables
 * (core/directory.c). For every station the run records when 99 % of the
 * peers first held its record (time-to-listed), and counts every directory
 * message and byte (sc_wire_size, as the world charges them). One JSON object
 * on stdout.
 *
 * The steady cost follows from one announcement's: each of 1,000 stations
 * announces once a refresh period (SC_DIRECTORY_REFRESH_NS, jittered ±10 %)
 * and an announcement costs every peer the same bytes whoever sends it, so
 * a peer's average rate is 1,000 x (the bytes per peer of one announcement)
 * / the refresh period; the JSON gives both.
 *
 * Records are signed for real (keys from the seed), but peers do not verify
 * them (directory_cfg.verify off): 10^5 peers checking every record would be
 * the whole run, and verification changes no message.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/directory.h"
#include "sim/cli.h"
#include "sim/commands.h"
#include "sim/netmodel.h"
#include "sim/stats.h"
#include "sim/world.h"

enum { EV_JOIN = SIM_WORLD_EV_USER, EV_SETTLED, EV_STATION, EV_END };

#define DIR_STATIONS_MAX 4096
#define DIR_LISTED_SHARE 0.99

typedef struct dir_cli {
  uint32_t stations;
  double spread_s;
  double measure_s;
  uint32_t target_stations; /* the steady cost is given for this many */
  sim_common_opts c;
} dir_cli;

typedef struct station_run {
  uint8_t pk8[8]; /* the first bytes of its key: how a record is told apart */
  uint32_t peer;
  uint64_t start_ns;
  uint32_t listed; /* peers holding its record */
  double t99_s;    /* time to 99 % of the peers; < 0: not reached */
} station_run;

typedef struct dir_sim {
  const dir_cli *o;
  sim_net *net;
  sim_world *w;
  sc_rng *rng;
  uint32_t joined;
  uint64_t join_gap_ns;
  station_run *st;
  uint32_t started;
  uint64_t *seen; /* stations x peers bits: a peer's first copy counted */
  uint32_t target;
  uint64_t base_msgs, base_bytes; /* directory traffic before the stations */
  uint64_t first_start_ns, end_ns;
  size_t record_bytes;
  bool done, failed;
} dir_sim;

static const flags_opt dir_flags[] = {
    {FLAGS_OPT_U64(dir_cli, stations, "stations", "S", 1, DIR_STATIONS_MAX,
                   "stations started after the overlay settles, one after another")},
    {FLAGS_OPT_F64(dir_cli, spread_s, "spread-s", "S", 0, 1e6,
                   "the stations' starts spread evenly over S simulated seconds")},
    {FLAGS_OPT_F64(dir_cli, measure_s, "measure-s", "S", 1, 1e6,
                   "simulated seconds after the last start before the run ends")},
    {FLAGS_OPT_U64(dir_cli, target_stations, "target-stations", "K", 1, 1000000,
                   "the steady cost per peer is given for K stations")},
    {.kind = FLAGS_INCLUDE, .sub = sim_common_flags, .off = offsetof(dir_cli, c)},
    {.kind = FLAGS_END},
};

static const flags_cmd dir_cmd = {
    .prog = "stripecast-sim directory",
    .about = "The station directory: N peers join a Pastry overlay and settle, then S "
             "stations start one after another, each announcing a signed record that "
             "spreads over the routing tables. Reports each station's time until 99% "
             "of the peers list it, the directory's messages and bytes per peer, and "
             "the steady cost per peer of --target-stations stations refreshing every "
             "40 minutes. One JSON object goes to stdout.",
    .opts = dir_flags,
};

static int station_of(const dir_sim *s, const uint8_t *rec, size_t len) {
  if (len < 4 + 8) return -1;
  for (uint32_t i = 0; i < s->started; i++)
    if (memcmp(s->st[i].pk8, rec + 4, 8) == 0) return (int)i;
  return -1;
}

static void mark(dir_sim *s, uint32_t i, uint32_t peer, uint64_t now) {
  uint64_t bit = (uint64_t)i * s->o->c.peers + peer;
  if (s->seen[bit / 64] >> (bit % 64) & 1) return;
  s->seen[bit / 64] |= 1ull << (bit % 64);
  station_run *r = &s->st[i];
  if (++r->listed == s->target) r->t99_s = (double)(now - r->start_ns) / 1e9;
}

static void h_received(void *ctx, uint32_t to, const sc_msg *m) {
  dir_sim *s = ctx;
  if (m->type != SC_MSG_ANNOUNCE || m->u.announce.len == 0 || !m->u.announce.data) return;
  int i = station_of(s, m->u.announce.data, m->u.announce.len);
  if (i >= 0) mark(s, (uint32_t)i, to, sim_world_now(s->w));
}

static void on_join(dir_sim *s, uint64_t now) {
  uint32_t i = s->joined++;
  int rv = sim_world_add(s->w, i, NULL);
  if (rv == 0) rv = sim_world_join(s->w, i);
  if (rv != 0) {
    fprintf(stderr, "stripecast-sim directory: peer %u cannot join: %d\n", i, rv);
    s->failed = true;
    return;
  }
  if (s->joined < s->o->c.peers) {
    sim_world_schedule(s->w, now + sim_exp_gap_ns(s->rng, s->join_gap_ns), EV_JOIN, 0);
  } else {
    sim_world_schedule(s->w, now + (uint64_t)(s->o->c.settle_s * 1e9), EV_SETTLED, 0);
  }
}

static void on_settled(dir_sim *s, uint64_t now) {
  const sim_world_counters *c = sim_world_counters_get(s->w);
  s->base_msgs = c->by_type[SC_MSG_ANNOUNCE] + c->by_type[SC_MSG_DIRECTORY_REQ];
  s->base_bytes =
      c->bytes_by_type[SC_MSG_ANNOUNCE] + c->bytes_by_type[SC_MSG_DIRECTORY_REQ];
  s->first_start_ns = now;
  uint32_t n = s->o->stations;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t at = now + (uint64_t)(s->o->spread_s * 1e9 * i / (n > 1 ? n - 1 : 1));
    sim_world_schedule(s->w, at, EV_STATION, i);
  }
  s->end_ns = now + (uint64_t)((s->o->spread_s + s->o->measure_s) * 1e9);
  sim_world_schedule(s->w, s->end_ns, EV_END, 0);
}

/* Station i starts on a random live peer with a key drawn from the seed. */
static void on_station(dir_sim *s, uint32_t i, uint64_t now) {
  uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES],
      sk[crypto_sign_SECRETKEYBYTES];
  for (size_t k = 0; k < sizeof seed; k += 8) {
    uint64_t v = sc_rng_next(s->rng);
    memcpy(seed + k, &v, 8);
  }
  crypto_sign_seed_keypair(pk, sk, seed);
  uint32_t peer = sc_rng_below(s->rng, s->o->c.peers);
  station_run *r = &s->st[i];
  memcpy(r->pk8, pk, sizeof r->pk8);
  r->peer = peer;
  r->start_ns = now;
  r->t99_s = -1;
  s->started = i + 1;
  sc_directory_info in;
  memset(&in, 0, sizeof in);
  snprintf(in.name, sizeof in.name, "Station %u", i);
  snprintf(in.mount, sizeof in.mount, "/station-%u.opus", i);
  snprintf(in.description, sizeof in.description, "simulated station %u of %u", i,
           s->o->stations);
  snprintf(in.genre, sizeof in.genre, "%s", i % 2 ? "jazz" : "talk");
  snprintf(in.codec, sizeof in.codec, "audio/ogg");
  in.bitrate_kbps = 128;
  in.listeners = 1 + i % 50;
  in.started_unix_s = 1765000000 + i;
  in.on_air = true;
  if (s->record_bytes == 0) {
    uint8_t rec[SC_DIRECTORY_RECORD_MAX];
    int len = sc_directory_record_sign(&in, 0, sk, rec, sizeof rec);
    s->record_bytes = len > 0 ? (size_t)len : 0;
  }
  sc_node *node = sim_world_node(s->w, peer);
  mark(s, i, peer, now); /* the announcer lists it at once */
  int rv = node ? sc_directory_announce(sc_node_directory(node), sk, &in, now) : -1;
  if (rv != 0) {
    fprintf(stderr, "stripecast-sim directory: station %u on peer %u: %d\n", i, peer, rv);
    s->failed = true;
  }
  sodium_memzero(sk, sizeof sk);
  sim_world_rearm(s->w, peer);
}

static void h_event(void *ctx, const sim_event *ev) {
  dir_sim *s = ctx;
  switch (ev->kind) {
  case EV_JOIN:
    on_join(s, ev->t_ns);
    break;
  case EV_SETTLED:
    on_settled(s, ev->t_ns);
    break;
  case EV_STATION:
    on_station(s, ev->arg, ev->t_ns);
    break;
  case EV_END:
    s->done = true;
    sim_world_stop(s->w);
    break;
  default:
    break;
  }
}

static bool more(void *ctx) {
  const dir_sim *s = ctx;
  return !s->done && !s->failed;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(const double *v, size_t n, double q) {
  if (n == 0) return -1;
  size_t k = (size_t)ceil(q * (double)n);
  return v[k ? k - 1 : 0];
}

static void report(dir_sim *s, double wall0) {
  const dir_cli *o = s->o;
  const sim_world_counters *c = sim_world_counters_get(s->w);
  uint32_t n = o->c.peers, k = s->started;
  uint64_t msgs =
      c->by_type[SC_MSG_ANNOUNCE] + c->by_type[SC_MSG_DIRECTORY_REQ] - s->base_msgs;
  uint64_t bytes = c->bytes_by_type[SC_MSG_ANNOUNCE] +
                   c->bytes_by_type[SC_MSG_DIRECTORY_REQ] - s->base_bytes;
  double *t = malloc((k ? k : 1) * sizeof *t);
  size_t reached = 0;
  uint32_t listed_min = n;
  for (uint32_t i = 0; i < k; i++) {
    if (s->st[i].t99_s >= 0) t[reached++] = s->st[i].t99_s;
    if (s->st[i].listed < listed_min) listed_min = s->st[i].listed;
  }
  if (t) qsort(t, reached, sizeof *t, cmp_double);
  double per_ann_msgs = k ? (double)msgs / k : 0;
  double per_ann_peer_bytes = k ? (double)bytes / k / n : 0;
  double refresh_s = (double)SC_DIRECTORY_REFRESH_NS / 1e9;
  double steady_bps = o->target_stations * per_ann_peer_bytes * 8 / refresh_s;
  sim_run_stats rs = sim_world_run_stats(s->w);
  printf("{\"peers\":%u,\"stations\":%u,\"seed\":%llu,\"topology\":\"%s\","
         "\"record_bytes\":%zu,\"directory_messages\":%llu,\"directory_bytes\":%llu,"
         "\"messages_per_announcement\":%.1f,\"copies_per_peer\":%.4f,"
         "\"bytes_per_peer_per_announcement\":%.1f,"
         "\"listed_99_reached\":%zu,\"t99_s_p50\":%.3f,\"t99_s_p95\":%.3f,"
         "\"t99_s_max\":%.3f,\"listed_min_fraction\":%.5f,"
         "\"target_stations\":%u,\"refresh_s\":%.0f,"
         "\"steady_bits_per_s_per_peer_each_way\":%.1f,"
         "\"wire_errors\":%llu,\"sim_events\":%llu,\"trace_digest\":\"%016llx\",\"wall_"
         "s\":%.1f}\n",
         n, k, (unsigned long long)o->c.seed, sim_net_kind_name(o->c.topology),
         s->record_bytes, (unsigned long long)msgs, (unsigned long long)bytes,
         per_ann_msgs, n ? per_ann_msgs / n : 0, per_ann_peer_bytes, reached,
         quantile(t, reached, 0.5), quantile(t, reached, 0.95),
         reached ? t[reached - 1] : -1, n ? (double)listed_min / n : 0,
         o->target_stations, refresh_s, steady_bps, (unsigned long long)c->wire_errors,
         (unsigned long long)rs.sim_events, (unsigned long long)sim_world_digest(s->w),
         sim_wall_s() - wall0);
  free(t);
}

static int dir_run(const dir_cli *o) {
  dir_sim s;
  memset(&s, 0, sizeof s);
  s.o = o;
  double wall0 = sim_wall_s();
  s.target = (uint32_t)ceil(DIR_LISTED_SHARE * o->c.peers);
  s.st = calloc(o->stations, sizeof *s.st);
  s.seen = calloc(((size_t)o->stations * o->c.peers + 63) / 64, sizeof(uint64_t));
  int rv = -1;
  if (!s.st || !s.seen || sim_net_new_kind(&s.net, o->c.topology, o->c.seed, o->c.peers))
    goto out;
  sim_world_config wc;
  sim_world_config_init(&wc, SIM_WORLD_NODES, o->c.peers, o->c.seed);
  wc.loss = o->c.loss;
  wc.wire_check = o->c.wire_check;
  wc.node.pastry.refine_per_row = o->c.refine_per_row;
  wc.node.directory = true;
  wc.node.directory_cfg.verify = false;
  /* A directory of S stations: an entry and a record (one 64-byte-rounded
   * object) each, and the table's doubling. */
  wc.arena_extra_peer_bytes = (size_t)o->stations * 512;
  sim_world_hooks hooks = {.received = h_received, .event = h_event};
  if (sim_world_new(&s.w, &wc, s.net, &hooks, &s) != 0) goto out;
  s.rng = sim_world_rng(s.w);
  s.join_gap_ns = (uint64_t)(1e9 / sim_world_join_rate(o->c.peers, o->c.join_rate));
  sim_world_schedule(s.w, 0, EV_JOIN, 0);
  if (sim_world_run_all(s.w, more, NULL, &s) != 0 || s.failed) goto out;
  report(&s, wall0);
  rv = 0;
out:
  if (rv != 0)
    fprintf(stderr, "stripecast-sim directory: the run failed (out of memory?)\n");
  sim_world_del(s.w);
  sim_net_del(s.net);
  free(s.st);
  free(s.seen);
  return rv;
}

int sim_cmd_directory(int argc, char **argv) {
  dir_cli o = {.stations = 100, .spread_s = 60, .measure_s = 60, .target_stations = 1000};
  o.c.peers = 10000;
  o.c.seed = 1;
  o.c.topology = SIM_NET_SPHERE;
  o.c.settle_s = 60;
  o.c.refine_per_row = 8;
  int rv = sim_cli_parse(&dir_cmd, &o, &o.c, argc, argv);
  if (rv >= 0) return rv;
  return dir_run(&o) == 0 ? 0 : 1;
}
