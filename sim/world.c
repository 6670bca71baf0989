/* world.c — peers over a network model, driven by the engine (see world.h). */
#include "sim/world.h"

#include <stdlib.h>
#include <string.h>

#include "core/channel.h"
#include "core/err.h"
#include "core/rng.h"
#include "core/wire.h"
#include "sim/arena.h"
#include "sim/packet.h"
#include "sim/topology.h"

#define BOOTSTRAP_SAMPLES 64
#define BOOTSTRAP_LOCAL 16 /* peers on the newcomer's own router considered */

typedef struct world_peer {
  sc_node *node;
  sim_world *w;
  uint64_t timer_ns;
  uint64_t uplink_free_ns; /* sim/uplink.h: when the upstream link is idle */
  uint32_t index;
  bool alive, joined, retired;
} world_peer;

struct sim_world {
  sim_world_config cfg;
  sim_world_hooks hooks;
  void *ctx;
  sim_engine eng;
  sim_net *net;
  sc_rng rng;
  world_peer *peers;
  sc_id *ids;
  uint32_t *joined_list; /* peers whose join started, in order */
  uint32_t *router_first; /* transit-stub: peers by router (CSR), from the */
  uint32_t *router_peers; /* first join on; NULL before or without routers */
  uint32_t njoined;
  sim_packet_pool pool;
  sim_arena *arena;               /* peers' core state; NULL: libc */
  const sc_alloc *peer_alloc;     /* the arena's, or NULL (libc) */
  sim_world_counters ctr;
  uint64_t digest;
  bool failed, stop;
};

/* -------------------------------------------------------------- callbacks */

static void enqueue(sim_world *w, uint32_t from, uint32_t to, const sc_msg *m,
                    size_t bytes) {
  uint64_t depart = w->eng.now_ns;
  uint64_t rate = w->cfg.uplink_rate_bps ? w->cfg.uplink_rate_bps[from] : w->cfg.uplink.rate_bps;
  if (rate) {
    sim_uplink_cfg up = w->cfg.uplink;
    if (w->cfg.uplink_rate_bps) {
      /* Per-peer rates: the queue is bounded in waiting time only. */
      up.rate_bps = rate;
      up.queue_bytes_max = 0;
      up.queue_drain_ns = 0;
    }
    /* Repair answers are the scavenger class: a host sends them only from
     * an uplink that is nearly idle, never queued behind (and delaying) the
     * tree's own chunks; past SC_REPAIR_SHED_BACKLOG_NS of backlog they are
     * shed, and the asker asks someone else. Without this, repair traffic
     * after a crash queued ahead of tree chunks at the very peers that
     * serve both, and an uncoded stream lost every generation for good. */
    if (m->type == SC_MSG_MULTICAST && m->u.multicast.repair &&
        sim_uplink_backlog_ns(w->peers[from].uplink_free_ns, depart) >
            SC_REPAIR_SHED_BACKLOG_NS) {
      w->ctr.repair_shed++;
      return;
    }
    depart = sim_uplink_send(&up, &w->peers[from].uplink_free_ns, depart, (uint32_t)bytes);
    if (depart == SIM_UPLINK_DROP) {
      w->ctr.uplink_drops++;
      return;
    }
  }
  sim_packet *pk = sim_packet_new(&w->pool, to, m);
  if (!pk) {
    w->failed = true;
    return;
  }
  uint64_t lat = sim_net_latency_ns(w->net, from, to);
  if (sim_engine_schedule(&w->eng, depart + lat, SIM_WORLD_EV_MSG, to, pk) != 0)
    w->failed = true;
}

static void cb_send(void *user, sc_addr to, const sc_msg *m) {
  world_peer *wp = user;
  sim_world *w = wp->w;
  w->ctr.messages++;
  if (m->type < SC_MSG_TYPE_END) w->ctr.by_type[m->type]++;
  size_t bytes = sc_wire_size(m, SIM_WORLD_ADDR_BYTES);
  w->ctr.bytes += bytes;
  if (m->type < SC_MSG_TYPE_END) w->ctr.bytes_by_type[m->type] += bytes;
  if (m->type == SC_MSG_MULTICAST) w->ctr.payload_bytes += m->u.multicast.len;
  if (to >= w->cfg.peers || (w->peers[to].node == NULL && !w->peers[to].retired)) {
    w->ctr.wire_errors++;
    return;
  }
  if (w->hooks.sent) w->hooks.sent(w->ctx, wp->index, to, m);
  if (w->cfg.loss > 0 && sc_rng_unit(&w->rng) < w->cfg.loss) {
    w->ctr.messages_lost++;
    return;
  }
  if (w->cfg.wire_check) {
    uint8_t buf[SC_WIRE_DATAGRAM_MAX];
    sc_msg decoded;
    const sc_wire_addr_map *map = sc_wire_addr_map_index6();
    int n = sc_wire_encode(m, map, buf, sizeof(buf));
    if (n < 0 || (size_t)n != sc_wire_size(m, SIM_WORLD_ADDR_BYTES) ||
        sc_wire_decode(buf, (size_t)n, map, &decoded) != 0) {
      w->ctr.wire_errors++;
      return;
    }
    if (decoded.type == SC_MSG_MULTICAST) {
      /* The decoded payload points into buf, which dies here: travel with
       * the sender's (same content, checked), or stay symbolic. */
      const sc_msg_multicast *a = &m->u.multicast;
      sc_msg_multicast *b = &decoded.u.multicast;
      if (b->len != a->len ||
          (a->len && memcmp(b->data, a->data ? a->data : sc_wire_zero_payload, a->len) != 0)) {
        w->ctr.wire_errors++;
        return;
      }
      b->data = a->data;
    }
    enqueue(w, wp->index, to, &decoded, bytes);
    return;
  }
  enqueue(w, wp->index, to, m, bytes);
}

static void cb_deliver(void *user, const sc_msg *m, uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.deliver) wp->w->hooks.deliver(wp->w->ctx, wp->index, m, now);
}

static void cb_stripe_data(void *user, unsigned stripe, const sc_msg_multicast *m,
                           uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.stripe_data)
    wp->w->hooks.stripe_data(wp->w->ctx, wp->index, stripe, m, now);
}

static void cb_stream_deliver(void *user, uint64_t gen, const uint8_t *data,
                              size_t datalen, uint64_t src_ts_ns, uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.stream_deliver)
    wp->w->hooks.stream_deliver(wp->w->ctx, wp->index, gen, data, datalen, src_ts_ns, now);
}

static void cb_stream_lost(void *user, uint64_t gen, uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.stream_lost) wp->w->hooks.stream_lost(wp->w->ctx, wp->index, gen, now);
}

static void cb_stripe_changed(void *user, unsigned stripe, bool attached, uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.stripe_changed)
    wp->w->hooks.stripe_changed(wp->w->ctx, wp->index, stripe, attached, now);
}

/* ----------------------------------------------------------------- peers */

int sim_world_new(sim_world **out, const sim_world_config *cfg, sim_net *net,
                  const sim_world_hooks *hooks, void *ctx) {
  if (cfg->peers == 0 || cfg->peers > sim_net_peers_max(net)) return -1;
  sim_world *w = calloc(1, sizeof(*w));
  if (!w) return -1;
  w->cfg = *cfg;
  if (hooks) w->hooks = *hooks;
  w->ctx = ctx;
  w->net = net;
  sc_rng_seed(&w->rng, cfg->seed ^ 0x3077d00000000001ull);
  /* Read for every message (the receiver's, each target's): huge pages
   * spare the TLB (arena.h). */
  w->peers = sim_huge_calloc(cfg->peers, sizeof(world_peer));
  w->ids = calloc(cfg->peers, sizeof(sc_id));
  w->joined_list = calloc(cfg->peers, sizeof(uint32_t));
  /* Peers' core state from the huge-page slab arena, as in pastry_sim.c
   * (arena.h says why), unless this is a sanitizer build, whose allocator
   * must see every object. Besides the TLB, the arena saves memory: no
   * per-object header, and a freed object is reused by the next one of its
   * size class, where libc's heap fragments under a million peers' growing
   * arrays; the packed arena also rounds sizes to 16 bytes, not 64
   * (arena.h). Address space only: ~8 KB a peer is used at 10^6, 32 KB
   * reserved. */
#ifndef __SANITIZE_ADDRESS__
  if (sim_arena_new_packed(&w->arena, (size_t)cfg->peers * (32u << 10) + (256u << 20)) == 0)
    w->peer_alloc = sim_arena_alloc(w->arena);
#endif
  if (!w->peers || !w->ids || !w->joined_list ||
      sim_engine_init(&w->eng, cfg->peers) != 0) {
    sim_world_del(w);
    return -1;
  }
  *out = w;
  return 0;
}

void sim_world_del(sim_world *w) {
  if (!w) return;
  if (w->peers)
    for (uint32_t i = 0; i < w->cfg.peers; i++)
      sc_node_del(w->peers[i].node);
  sim_arena_del(w->arena);
  sim_packet_pool_free(&w->pool);
  free(w->peers);
  free(w->ids);
  free(w->joined_list);
  free(w->router_first);
  free(w->router_peers);
  sim_engine_free(&w->eng);
  free(w);
}

int sim_world_add(sim_world *w, uint32_t i, const sc_node_config *cfg) {
  world_peer *wp = &w->peers[i];
  if (wp->node) return SC_ERR_INVALID;
  wp->w = w;
  wp->index = i;
  w->ids[i] = sim_peer_id(w->cfg.seed, i);
  sim_net_place(w->net, i);
  sc_ref self = {w->ids[i], i};
  sc_node_callbacks cb = {.send = cb_send,
                          .deliver = cb_deliver,
                          .stripe_data = cb_stripe_data,
                          .stripe_changed = cb_stripe_changed,
                          .stream_deliver = cb_stream_deliver,
                          .stream_lost = cb_stream_lost};
  int rv = sc_node_new(&wp->node, &self, sc_mix64(w->cfg.seed * 31 + i),
                       cfg ? cfg : &w->cfg.node, &cb, w->peer_alloc, wp, w->eng.now_ns);
  if (rv != 0) return rv;
  wp->alive = true;
  wp->timer_ns = SIM_TIME_NEVER;
  return 0;
}

void sim_world_rearm(sim_world *w, uint32_t i) {
  world_peer *wp = &w->peers[i];
  if (!wp->alive) return;
  uint64_t t = sc_node_get_expiry(wp->node);
  if (t < w->eng.now_ns) t = w->eng.now_ns; /* overdue: run it now */
  if (t == wp->timer_ns) return;
  wp->timer_ns = t;
  sim_engine_set_timer(&w->eng, i, t);
}

/* Indexes every peer by its stub router (a CSR array, by index within a
 * router), placing them all first: placement is a pure function of (seed,
 * peer). Returns -1 when out of memory. */
static int index_routers(sim_world *w) {
  const sim_topo *topo = sim_net_topo(w->net);
  uint32_t routers = sim_topo_routers(topo), n = w->cfg.peers;
  w->router_first = calloc((size_t)routers + 1, sizeof(uint32_t));
  w->router_peers = malloc((size_t)n * sizeof(uint32_t));
  uint32_t *fill = calloc(routers, sizeof(uint32_t));
  if (!w->router_first || !w->router_peers || !fill) {
    free(fill);
    free(w->router_first);
    free(w->router_peers);
    w->router_first = w->router_peers = NULL;
    return -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    sim_net_place(w->net, i);
    w->router_first[sim_net_router(w->net, i) + 1]++;
  }
  for (uint32_t r = 0; r < routers; r++) w->router_first[r + 1] += w->router_first[r];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = sim_net_router(w->net, i);
    w->router_peers[w->router_first[r] + fill[r]++] = i;
  }
  free(fill);
  return 0;
}

static bool bootstrap_ok(const sim_world *w, uint32_t j) {
  return w->peers[j].alive && w->peers[j].joined &&
         sc_pastry_is_joined(sc_node_pastry(w->peers[j].node));
}

double sim_world_join_rate(uint32_t n, double rate) {
  if (rate > 0) return rate;
  rate = n / 100.0;
  return rate < 10 ? 10 : rate > 2000 ? 2000 : rate;
}

int sim_world_join(sim_world *w, uint32_t i) {
  sc_addr best = SC_ADDR_NONE;
  uint64_t best_lat = UINT64_MAX;
  /* A newcomer joins through a nearby peer (Pastry §2.4; the locality of
   * every routing-table row it builds starts there): on transit-stub, the
   * nearest of the first BOOTSTRAP_LOCAL joined peers on its own stub
   * router (a LAN-scoped discovery, as pastry_sim.c's pick_bootstrap), and
   * only when there is none, the nearest of a random sample. */
  if (sim_net_topo(w->net) && !w->router_first && index_routers(w) != 0) return SC_ERR_NOMEM;
  if (w->router_first) {
    uint32_t r = sim_net_router(w->net, i);
    unsigned found = 0;
    for (uint32_t k = w->router_first[r]; k < w->router_first[r + 1] && found < BOOTSTRAP_LOCAL;
         k++) {
      uint32_t j = w->router_peers[k];
      if (j == i || !bootstrap_ok(w, j)) continue;
      found++;
      uint64_t lat = sim_net_latency_ns(w->net, i, j);
      if (lat < best_lat) best_lat = lat, best = j;
    }
  }
  bool local = best != SC_ADDR_NONE;
  for (unsigned k = 0; !local && k < BOOTSTRAP_SAMPLES && w->njoined > 0; k++) {
    uint32_t j = w->joined_list[sc_rng_below(&w->rng, w->njoined)];
    if (!w->peers[j].alive || !sc_pastry_is_joined(sc_node_pastry(w->peers[j].node)))
      continue;
    uint64_t lat = sim_net_latency_ns(w->net, i, j);
    if (lat < best_lat) best_lat = lat, best = j;
  }
  if (best == SC_ADDR_NONE && w->njoined > 0) {
    /* None of the sample had finished joining: take any live joined peer. */
    for (uint32_t k = 0; k < w->njoined; k++) {
      uint32_t j = w->joined_list[k];
      if (w->peers[j].alive && sc_pastry_is_joined(sc_node_pastry(w->peers[j].node))) {
        best = j;
        break;
      }
    }
  }
  int rv = sc_node_join(w->peers[i].node, best, w->eng.now_ns);
  if (rv != 0) return rv;
  w->peers[i].joined = true;
  w->joined_list[w->njoined++] = i;
  sim_world_rearm(w, i);
  return 0;
}

void sim_world_crash(sim_world *w, uint32_t i) {
  world_peer *wp = &w->peers[i];
  if (!wp->alive) return;
  wp->alive = false;
  sim_engine_set_timer(&w->eng, i, SIM_TIME_NEVER);
  wp->timer_ns = SIM_TIME_NEVER;
}

void sim_world_retire(sim_world *w, uint32_t i) {
  world_peer *wp = &w->peers[i];
  sim_world_crash(w, i);
  if (wp->node == NULL) return;
  sc_node_del(wp->node);
  wp->node = NULL;
  wp->retired = true;
}

/* ------------------------------------------------------------------- run */

/*
 * A message's handling reads a chain of lines nobody can fetch in parallel
 * from the code alone: the packet and the receiver's world_peer, its sc_node,
 * the layers' structs, their tables (a Scribe group, the stream's slots).
 * The bucket being consumed says which messages come next, so fetch the
 * chain as a pipeline over them (as pastry_sim.c does): each stage reads
 * lines the stage before asked for a couple of events earlier. Hints only:
 * nothing here changes what happens.
 */
#define PREFETCH_PEER        10 /* the packet's first line and the world_peer */
#define PREFETCH_NODE        8  /* the sc_node, the packet's rest, the placement */
#define PREFETCH_CORE0       6  /* sc_node_prefetch stages 0, 1, 2 */
#define PREFETCH_CORE1       4
#define PREFETCH_CORE2       2
#define PREFETCH_TARGETS     1 /* the world_peers and placements of the targets */
#define PREFETCH_TARGETS_MAX 16
_Static_assert(SC_NODE_PREFETCH_STAGES == 3, "one distance per core stage");

static inline const sim_packet *ahead_packet(const sim_world *w, unsigned k) {
  const sim_event *e = sim_engine_peek_ahead(&w->eng, k - 1);
  return e && e->kind == SIM_WORLD_EV_MSG ? e->ptr : NULL;
}

static void prefetch_ahead(const sim_world *w) {
  const sim_event *e = sim_engine_peek_ahead(&w->eng, PREFETCH_PEER - 1);
  if (e && e->kind == SIM_WORLD_EV_MSG) {
    __builtin_prefetch(e->ptr);
    __builtin_prefetch(&w->peers[e->arg]);
  }
  const sim_packet *pk = ahead_packet(w, PREFETCH_NODE);
  if (pk) {
    const sc_node *n = w->peers[pk->to].node;
    if (n) {
      __builtin_prefetch(n);
      __builtin_prefetch((const char *)n + 64);
      __builtin_prefetch((const char *)n + 111); /* 112 bytes, 16-aligned */
    }
    sim_packet_prefetch_rest(pk);
    sim_net_prefetch(w->net, pk->to);
    if (w->hooks.prefetch) w->hooks.prefetch(w->ctx, pk->to);
  }
  static const unsigned dist[SC_NODE_PREFETCH_STAGES] = {PREFETCH_CORE0, PREFETCH_CORE1,
                                                         PREFETCH_CORE2};
  for (unsigned st = 0; st < SC_NODE_PREFETCH_STAGES; st++) {
    pk = ahead_packet(w, dist[st]);
    if (pk && w->peers[pk->to].node)
      sc_node_prefetch(w->peers[pk->to].node, &pk->msg, st);
  }
  pk = ahead_packet(w, PREFETCH_TARGETS);
  if (pk && w->peers[pk->to].node) {
    sc_addr t[PREFETCH_TARGETS_MAX];
    unsigned n = sc_node_prefetch_targets(w->peers[pk->to].node, &pk->msg, t,
                                          PREFETCH_TARGETS_MAX);
    for (unsigned i = 0; i < n; i++) {
      if (t[i] >= w->cfg.peers) continue;
      __builtin_prefetch(&w->peers[t[i]]);
      sim_net_prefetch(w->net, t[i]);
    }
  }
}

int sim_world_run(sim_world *w, uint64_t until_ns) {
  sim_event ev;
  w->stop = false;
  while (!w->stop && !w->failed) {
    /* Peek at the clock: stop before the first event past until_ns. */
    uint64_t next = sim_engine_next_time(&w->eng);
    if (w->eng.failed) {
      w->failed = true;
      break;
    }
    if (next == SIM_TIME_NEVER || next > until_ns) {
      if (until_ns != SIM_TIME_NEVER && w->eng.now_ns < until_ns)
        w->eng.now_ns = until_ns;
      break;
    }
    if (!sim_engine_next(&w->eng, &ev)) break;
    prefetch_ahead(w);
    w->digest =
        sc_mix64(w->digest ^ (ev.t_ns * 0x9e3779b97f4a7c15ull + ev.kind * 131 + ev.arg));
    if (ev.kind == SIM_EV_TIMER) {
      world_peer *wp = &w->peers[ev.arg];
      wp->timer_ns = SIM_TIME_NEVER;
      if (!wp->alive) continue;
      if (sc_node_handle_expiry(wp->node, ev.t_ns) == SC_ERR_NOMEM) w->failed = true;
      sim_world_rearm(w, ev.arg);
    } else if (ev.kind == SIM_WORLD_EV_MSG) {
      sim_packet *pk = ev.ptr;
      world_peer *wp = &w->peers[pk->to];
      if (wp->alive) {
        if (w->hooks.received) w->hooks.received(w->ctx, pk->to, &pk->msg);
        if (sc_node_recv(wp->node, &pk->msg, ev.t_ns) == SC_ERR_NOMEM) w->failed = true;
        sim_world_rearm(w, pk->to);
      }
      sim_packet_put(&w->pool, pk);
    } else if (w->hooks.event) {
      w->hooks.event(w->ctx, &ev);
    }
  }
  return w->failed ? -1 : 0;
}

void sim_world_stop(sim_world *w) {
  w->stop = true;
}

sim_engine *sim_world_engine(sim_world *w) {
  return &w->eng;
}
uint64_t sim_world_now(const sim_world *w) {
  return w->eng.now_ns;
}
sc_node *sim_world_node(sim_world *w, uint32_t i) {
  return w->peers[i].node;
}
bool sim_world_alive(const sim_world *w, uint32_t i) {
  return w->peers[i].alive;
}
const sc_id *sim_world_id(const sim_world *w, uint32_t i) {
  return &w->ids[i];
}
uint32_t sim_world_peers(const sim_world *w) {
  return w->cfg.peers;
}
uint32_t sim_world_joined(const sim_world *w) {
  return w->njoined;
}
const sim_world_counters *sim_world_counters_get(const sim_world *w) {
  return &w->ctr;
}
uint64_t sim_world_digest(const sim_world *w) {
  return w->digest;
}
