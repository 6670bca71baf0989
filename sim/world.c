/* world.c — peers over a network model, driven by the engine (see world.h). */
#include "sim/world.h"

#include <stdlib.h>
#include <string.h>

#include "core/channel.h"
#include "core/err.h"
#include "core/wire.h"
#include "sim/arena.h"
#include "sim/packet.h"
#include "sim/topology.h"

#define BOOTSTRAP_SAMPLES 64 /* joined peers sampled to find a nearby bootstrap */
#define BOOTSTRAP_LOCAL   16 /* peers on the newcomer's own router considered */
#define BOOTSTRAP_BATCH   8  /* samples drawn and prefetched together */
_Static_assert(BOOTSTRAP_SAMPLES % BOOTSTRAP_BATCH == 0, "whole batches");

/*
 * What differs between the two kinds of world besides the peers' code. The
 * salt of the world's random stream, the hash rule of the event history and
 * the bootstrap sample's bound date from when each kind had its own driver;
 * keeping them keeps every recorded history (and trace_digest) reproducible.
 * The prefetch distances (events ahead, 0: none) are each kind's measured
 * best; see prefetch_ahead.
 */
typedef struct world_kind_traits {
  uint64_t rng_salt;
  bool digest_pastry_rule;  /* seed-initialised, t*64 + kind + (arg << 40) */
  unsigned bootstrap_tries; /* random draws for up to BOOTSTRAP_SAMPLES joined peers */
  bool arena_packed;        /* sim_arena_new_packed rather than sim_arena_new */
  size_t arena_peer_bytes;  /* address space reserved a peer */
  uint8_t pf_peer, pf_state, pf_core[SC_NODE_PREFETCH_STAGES], pf_targets;
} world_kind_traits;

static const world_kind_traits kind_traits[] = {
    [SIM_WORLD_NODES] = {.rng_salt = 0x3077d00000000001ull,
                         .bootstrap_tries = BOOTSTRAP_SAMPLES,
                         /* The packed arena saves memory: at 10^6 peers the
                          * 64-byte rounding of Scribe's, SplitStream's and the
                          * node's odd-sized objects cost ~0.2 GB (arena.h);
                          * ~8 KB a peer is used at 10^6. */
                         .arena_packed = true,
                         .arena_peer_bytes = 32u << 10,
                         .pf_peer = 10,
                         .pf_state = 8,
                         .pf_core = {6, 4, 2},
                         .pf_targets = 1},
    [SIM_WORLD_PASTRY] = {.rng_salt = 0x5157ull,
                          .digest_pastry_rule = true,
                          .bootstrap_tries = 8 * BOOTSTRAP_SAMPLES,
                          /* ~3.5 KB a peer used; cache-line objects. */
                          .arena_peer_bytes = 16u << 10,
                          /* 5/3, 7/4, 10/6 for the first two: 4.52, 4.59,
                           * 4.32 M events/cpu-s at 3*10^4 peers. */
                          .pf_peer = 7,
                          .pf_state = 4,
                          .pf_core = {2, 0, 0},
                          .pf_targets = 2},
};

typedef struct world_peer {
  union {
    sc_node *node;     /* SIM_WORLD_NODES */
    sc_pastry *pastry; /* SIM_WORLD_PASTRY */
  };
  sim_world *w;
  uint64_t timer_ns;
  uint32_t index;
  bool alive, joined;
  bool ready; /* its Pastry layer has joined: kept by sim_world_rearm */
} world_peer;
/* Two to a cache line: a peer's record never straddles two. */
_Static_assert(sizeof(world_peer) == 32, "world_peer is half a cache line");

struct sim_world {
  sim_world_config cfg;
  const world_kind_traits *kt;
  sim_world_hooks hooks;
  void *ctx;
  sim_engine eng;
  sim_net *net;
  sc_rng rng;
  world_peer *peers;
  sc_id *ids;
  uint64_t *uplink_free_ns; /* sim/uplink.h: when each upstream link is idle;
                             * NULL without uplinks */
  uint64_t *added_bits;     /* peers ever added, a bit each: read per message sent, so
                             * small enough to stay in cache (not the world_peer) */
  uint32_t *joined_list;    /* peers whose join started, in order */
  uint32_t *router_first;   /* transit-stub: peers by router (CSR), from the */
  uint32_t *router_peers;   /* first join on; NULL before or without routers */
  uint32_t njoined;
  sim_packet_pool pool;
  sim_arena *arena;           /* peers' core state; NULL: libc */
  const sc_alloc *peer_alloc; /* the arena's, or NULL (libc) */
  sim_world_counters ctr;
  uint64_t digest;
  bool failed, stop;
};

sc_id sim_peer_id(uint64_t seed, uint32_t i) {
  uint64_t base = sc_mix64(seed ^ sc_mix64(0x1d000000ull + i));
  sc_id id = {sc_mix64(base + 1), sc_mix64(base + 2)};
  return id;
}

static bool bare(const sim_world *w) {
  return w->cfg.kind == SIM_WORLD_PASTRY;
}

/* ------------------------------------------------------- the peers' code */

static bool peer_present(const world_peer *wp) {
  return wp->node != NULL; /* either member: the union's one pointer */
}

static void peer_del(const sim_world *w, world_peer *wp) {
  if (bare(w))
    sc_pastry_del(wp->pastry);
  else
    sc_node_del(wp->node);
  wp->node = NULL;
}

static uint64_t peer_expiry(const sim_world *w, const world_peer *wp) {
  return bare(w) ? sc_pastry_get_expiry(wp->pastry) : sc_node_get_expiry(wp->node);
}

static bool peer_pastry_joined(const sim_world *w, world_peer *wp) {
  return sc_pastry_is_joined(bare(w) ? wp->pastry : sc_node_pastry(wp->node));
}

static int peer_recv(const sim_world *w, world_peer *wp, const sc_msg *m, uint64_t now) {
  return bare(w) ? sc_pastry_recv(wp->pastry, m, now) : sc_node_recv(wp->node, m, now);
}

static int peer_expire(const sim_world *w, world_peer *wp, uint64_t now) {
  return bare(w) ? sc_pastry_handle_expiry(wp->pastry, now)
                 : sc_node_handle_expiry(wp->node, now);
}

/* -------------------------------------------------------------- callbacks */

static void enqueue(sim_world *w, uint32_t from, uint32_t to, const sc_msg *m,
                    size_t bytes) {
  uint64_t depart = w->eng.now_ns;
  uint64_t rate =
      w->cfg.uplink_rate_bps ? w->cfg.uplink_rate_bps[from] : w->cfg.uplink.rate_bps;
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
        sim_uplink_backlog_ns(w->uplink_free_ns[from], depart) >
            SC_REPAIR_SHED_BACKLOG_NS) {
      w->ctr.repair_shed++;
      return;
    }
    depart = sim_uplink_send(&up, &w->uplink_free_ns[from], depart, (uint32_t)bytes);
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
  if (to >= w->cfg.peers || !(w->added_bits[to / 64] >> (to % 64) & 1)) {
    w->ctr.wire_errors++;
    return;
  }
  if (w->hooks.sent) w->hooks.sent(w->ctx, wp->index, to, m);
  if (w->hooks.cut && w->hooks.cut(w->ctx, wp->index, to, w->eng.now_ns)) {
    w->ctr.messages_cut++;
    return;
  }
  sc_msg forged;
  uint8_t fbytes[SC_CHUNK_BYTES_MAX];
  if (w->cfg.forgers && w->cfg.forgers[wp->index] && m->type == SC_MSG_MULTICAST &&
      m->u.multicast.data && m->u.multicast.len > 0 &&
      m->u.multicast.len <= sizeof fbytes &&
      (m->u.multicast.depth > 0 || m->u.multicast.repair)) {
    /* A forging relay: one payload byte changed (the packet copies it). */
    forged = *m;
    memcpy(fbytes, m->u.multicast.data, m->u.multicast.len);
    fbytes[m->u.multicast.len / 3] ^= 0x5a;
    forged.u.multicast.data = fbytes;
    m = &forged;
    w->ctr.forged_sent++;
  }
  if (w->cfg.loss > 0 && sc_rng_unit(&w->rng) < w->cfg.loss) {
    w->ctr.messages_lost++;
    return;
  }
  if (w->cfg.wire_check) {
    uint8_t buf[SC_WIRE_DATAGRAM_MAX];
    sc_msg decoded;
    const sc_wire_addr_map *map = sc_wire_addr_map_index6();
    int n = sc_wire_encode(m, map, buf, sizeof(buf));
    /* Prove the two paths agree: the struct that arrives is the one the
     * real codec decodes, and the size charged is the size it encodes. */
    if (n < 0 || (size_t)n != bytes ||
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
          (a->len &&
           memcmp(b->data, a->data ? a->data : sc_wire_zero_payload, a->len) != 0)) {
        w->ctr.wire_errors++;
        return;
      }
      b->data = a->data;
      decoded.sender = m->sender; /* a chunk names no sender: the world knows it */
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

static void cb_peer_failed(void *user, const sc_ref *dead, uint64_t now) {
  world_peer *wp = user;
  if (wp->w->hooks.peer_failed)
    wp->w->hooks.peer_failed(wp->w->ctx, wp->index, dead, now);
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
    wp->w->hooks.stream_deliver(wp->w->ctx, wp->index, gen, data, datalen, src_ts_ns,
                                now);
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

void sim_world_config_init(sim_world_config *cfg, sim_world_kind kind, uint32_t peers,
                           uint64_t seed) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->kind = kind;
  cfg->peers = peers;
  cfg->seed = seed;
  if (kind == SIM_WORLD_PASTRY)
    sc_pastry_config_default(&cfg->node.pastry);
  else
    sc_node_config_default(&cfg->node);
}

int sim_world_new(sim_world **out, const sim_world_config *cfg, sim_net *net,
                  const sim_world_hooks *hooks, void *ctx) {
  if (cfg->peers == 0 || cfg->peers > sim_net_peers_max(net)) return -1;
  sim_world *w = calloc(1, sizeof(*w));
  if (!w) return -1;
  w->cfg = *cfg;
  if (hooks) w->hooks = *hooks;
  w->ctx = ctx;
  w->net = net;
  w->kt =
      &kind_traits[cfg->kind == SIM_WORLD_PASTRY ? SIM_WORLD_PASTRY : SIM_WORLD_NODES];
  sc_rng_seed(&w->rng, cfg->seed ^ w->kt->rng_salt);
  if (w->kt->digest_pastry_rule) w->digest = cfg->seed;
  /* Read for every message (the receiver's, each target's): huge pages
   * spare the TLB (arena.h). */
  w->peers = sim_huge_calloc(cfg->peers, sizeof(world_peer));
  w->ids = calloc(cfg->peers, sizeof(sc_id));
  w->joined_list = calloc(cfg->peers, sizeof(uint32_t));
  w->added_bits = calloc((cfg->peers + 63u) / 64u, sizeof(uint64_t));
  bool uplinks = cfg->uplink.rate_bps != 0 || cfg->uplink_rate_bps != NULL;
  if (uplinks) w->uplink_free_ns = sim_huge_calloc(cfg->peers, sizeof(uint64_t));
    /* Peers' core state from the huge-page slab arena (arena.h says why),
     * unless this is a sanitizer build, whose allocator must see every object.
     * Besides the TLB, the arena saves memory: no per-object header, and a
     * freed object is reused by the next one of its size class, where libc's
     * heap fragments under a million peers' growing arrays. Address space
     * only. */
#ifndef __SANITIZE_ADDRESS__
  size_t reserve =
      (size_t)cfg->peers * (w->kt->arena_peer_bytes + cfg->arena_extra_peer_bytes) +
      (256u << 20);
  if ((w->kt->arena_packed ? sim_arena_new_packed(&w->arena, reserve)
                           : sim_arena_new(&w->arena, reserve)) == 0)
    w->peer_alloc = sim_arena_alloc(w->arena);
#endif
  if (!w->peers || !w->ids || !w->joined_list || !w->added_bits ||
      (uplinks && !w->uplink_free_ns) || sim_engine_init(&w->eng, cfg->peers) != 0) {
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
      if (peer_present(&w->peers[i])) peer_del(w, &w->peers[i]);
  sim_arena_del(w->arena);
  sim_packet_pool_free(&w->pool);
  free(w->peers);
  free(w->ids);
  free(w->joined_list);
  free(w->added_bits);
  free(w->uplink_free_ns);
  free(w->router_first);
  free(w->router_peers);
  sim_engine_free(&w->eng);
  free(w);
}

int sim_world_add(sim_world *w, uint32_t i, const sc_node_config *cfg) {
  world_peer *wp = &w->peers[i];
  if (peer_present(wp)) return SC_ERR_INVALID;
  wp->w = w;
  wp->index = i;
  w->ids[i] = sim_peer_id(w->cfg.seed, i);
  sim_net_place(w->net, i);
  sc_ref self = {w->ids[i], i};
  uint64_t seed = sc_mix64(w->cfg.seed * 31 + i);
  if (!cfg) cfg = &w->cfg.node;
  void (*failed)(void *, const sc_ref *, uint64_t) =
      w->hooks.peer_failed ? cb_peer_failed : NULL;
  int rv;
  if (bare(w)) {
    sc_pastry_callbacks cb = {
        .send = cb_send, .deliver = cb_deliver, .peer_failed = failed};
    rv = sc_pastry_new(&wp->pastry, &self, seed, &cfg->pastry, &cb, w->peer_alloc, wp,
                       w->eng.now_ns);
  } else {
    sc_node_callbacks cb = {.send = cb_send,
                            .deliver = cb_deliver,
                            .peer_failed = failed,
                            .stripe_data = cb_stripe_data,
                            .stripe_changed = cb_stripe_changed,
                            .stream_deliver = cb_stream_deliver,
                            .stream_lost = cb_stream_lost};
    rv = sc_node_new(&wp->node, &self, seed, cfg, &cb, w->peer_alloc, wp, w->eng.now_ns);
  }
  if (rv != 0) return rv;
  w->added_bits[i / 64] |= 1ull << (i % 64);
  wp->alive = true;
  wp->timer_ns = SIM_TIME_NEVER;
  return 0;
}

void sim_world_rearm(sim_world *w, uint32_t i) {
  world_peer *wp = &w->peers[i];
  if (!wp->alive) return;
  wp->ready = peer_pastry_joined(w, wp);
  uint64_t t = peer_expiry(w, wp);
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
  for (uint32_t r = 0; r < routers; r++)
    w->router_first[r + 1] += w->router_first[r];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = sim_net_router(w->net, i);
    w->router_peers[w->router_first[r] + fill[r]++] = i;
  }
  free(fill);
  return 0;
}

/* A candidate bootstrap: alive, and its own join has completed. */
static bool bootstrap_ok(const sim_world *w, uint32_t j) {
  return w->peers[j].alive && w->peers[j].ready;
}

static void bootstrap_consider(const sim_world *w, uint32_t i, uint32_t j, sc_addr *best,
                               uint64_t *best_lat) {
  uint64_t lat = sim_net_latency_ns(w->net, i, j);
  if (lat < *best_lat) *best_lat = lat, *best = j;
}

/*
 * A nearby joined peer for newcomer i to join through. Pastry §2.4 assumes
 * the newcomer knows one (found by expanding-ring search, or given by an
 * administrator); the locality of every routing-table row it builds starts
 * there. On the transit-stub model: the nearest of the first
 * BOOTSTRAP_LOCAL joined peers on its own stub router, as a LAN-scoped
 * discovery would; when there is none, or on other models, the nearest of
 * up to BOOTSTRAP_SAMPLES joined peers drawn at random (at most the kind's
 * bootstrap_tries draws); when none of those has finished joining, the
 * first live joined peer. SC_ADDR_NONE: nobody has joined.
 */
static sc_addr pick_bootstrap(sim_world *w, uint32_t i) {
  sc_addr best = SC_ADDR_NONE;
  uint64_t best_lat = UINT64_MAX;
  if (w->router_first) {
    uint32_t r = sim_net_router(w->net, i);
    unsigned found = 0;
    for (uint32_t k = w->router_first[r];
         k < w->router_first[r + 1] && found < BOOTSTRAP_LOCAL; k++) {
      uint32_t j = w->router_peers[k];
      if (j == i || !bootstrap_ok(w, j)) continue;
      found++;
      bootstrap_consider(w, i, j, &best, &best_lat);
    }
    if (best != SC_ADDR_NONE) return best;
  }
  if (w->njoined == 0) return SC_ADDR_NONE;
  /* Draw the samples a batch at a time and prefetch each batch: a million
   * peers' records and placements are cache misses, taken side by side. */
  unsigned found = 0;
  for (unsigned tries = 0; tries < w->kt->bootstrap_tries && found < BOOTSTRAP_SAMPLES;) {
    uint32_t batch[BOOTSTRAP_BATCH];
    for (unsigned k = 0; k < BOOTSTRAP_BATCH; k++) {
      batch[k] = w->joined_list[sc_rng_below(&w->rng, w->njoined)];
      __builtin_prefetch(&w->peers[batch[k]]);
      sim_net_prefetch(w->net, batch[k]);
    }
    for (unsigned k = 0; k < BOOTSTRAP_BATCH && found < BOOTSTRAP_SAMPLES; k++, tries++) {
      if (!bootstrap_ok(w, batch[k])) continue;
      found++;
      bootstrap_consider(w, i, batch[k], &best, &best_lat);
    }
  }
  for (uint32_t k = 0; k < w->njoined && best == SC_ADDR_NONE; k++)
    if (bootstrap_ok(w, w->joined_list[k])) best = w->joined_list[k];
  return best;
}

double sim_world_join_rate(uint32_t n, double rate) {
  if (rate > 0) return rate;
  rate = n / 100.0;
  return rate < 10 ? 10 : rate > 2000 ? 2000 : rate;
}

int sim_world_join(sim_world *w, uint32_t i) {
  if (sim_net_topo(w->net) && !w->router_first && index_routers(w) != 0)
    return SC_ERR_NOMEM;
  sc_addr boot = pick_bootstrap(w, i);
  world_peer *wp = &w->peers[i];
  int rv = bare(w) ? sc_pastry_join(wp->pastry, boot, w->eng.now_ns)
                   : sc_node_join(wp->node, boot, w->eng.now_ns);
  if (rv != 0) return rv;
  wp->joined = true;
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
  if (!peer_present(wp)) return;
  peer_del(w, wp);
}

/* ------------------------------------------------------------------- run */

/*
 * A message's handling reads a chain of lines nobody can fetch in parallel
 * from the code alone: the packet and the receiver's world_peer, its core
 * state, the layers' structs, their tables (a routing-table slot, a Scribe
 * group, the stream's slots). The bucket being consumed says which messages
 * come next, so fetch the chain as a pipeline over them: each stage reads
 * lines the stage before asked for a few events earlier, at the kind's
 * distances (world_kind_traits). Hints only: nothing here changes what
 * happens.
 */
#define PREFETCH_TARGETS_MAX 16 /* peers a message names, prefetched */

static inline const sim_packet *ahead_packet(const sim_world *w, unsigned k) {
  if (k == 0) return NULL;
  const sim_event *e = sim_engine_peek_ahead(&w->eng, k - 1);
  return e && e->kind == SIM_WORLD_EV_MSG ? e->ptr : NULL;
}

/* The receiver's own state: the node's first lines, or the Pastry peer's. */
static void prefetch_state(const sim_world *w, const sim_packet *pk) {
  const world_peer *wp = &w->peers[pk->to];
  if (peer_present(wp) && bare(w)) {
    sc_pastry_prefetch(wp->pastry);
    sim_net_prefetch(w->net, pk->msg.sender.addr);
  } else if (peer_present(wp)) {
    __builtin_prefetch(wp->node);
    __builtin_prefetch((const char *)wp->node + 64);
    __builtin_prefetch((const char *)wp->node + 111); /* 112 bytes, 16-aligned */
  }
  sim_packet_prefetch_rest(pk);
  sim_net_prefetch(w->net, pk->to);
  if (w->uplink_free_ns) __builtin_prefetch(&w->uplink_free_ns[pk->to]); /* it answers */
  if (w->hooks.prefetch) w->hooks.prefetch(w->ctx, pk->to);
}

/* The tables receiving the message reads (stage st of the core's). */
static void prefetch_core(const sim_world *w, const sim_packet *pk, unsigned st) {
  const world_peer *wp = &w->peers[pk->to];
  if (!peer_present(wp)) return;
  if (!bare(w)) {
    sc_node_prefetch(wp->node, &pk->msg, st);
    return;
  }
  sc_pastry_prefetch_msg(wp->pastry, &pk->msg);
  sim_net_prefetch_pair(w->net, pk->to, pk->msg.sender.addr);
}

/* The peers the message names, which the receiver is likely to send to. */
static void prefetch_targets(const sim_world *w, const sim_packet *pk) {
  const world_peer *wp = &w->peers[pk->to];
  if (!peer_present(wp)) return;
  sc_addr t[PREFETCH_TARGETS_MAX];
  unsigned n = 0;
  const sc_msg *m = &pk->msg;
  if (!bare(w)) {
    n = sc_node_prefetch_targets(wp->node, m, t, PREFETCH_TARGETS_MAX);
    for (unsigned i = 0; i < n; i++)
      if (t[i] < w->cfg.peers) __builtin_prefetch(&w->peers[t[i]]);
  } else if (m->type == SC_MSG_LEAFSET) { /* the peers named are often pinged next */
    for (unsigned i = 0; i < m->u.leafset.n && i < SC_LEAFSET_MAX; i++)
      sim_net_prefetch(w->net, m->u.leafset.e[i].addr);
  } else if (m->type == SC_MSG_ROW) {
    for (unsigned i = 0; i < m->u.row.n && i < SC_ROW_ENTRIES; i++)
      sim_net_prefetch(w->net, m->u.row.e[i].addr);
  }
  for (unsigned i = 0; i < n; i++)
    if (t[i] < w->cfg.peers) sim_net_prefetch(w->net, t[i]);
}

static void prefetch_ahead(const sim_world *w) {
  const world_kind_traits *kt = w->kt;
  /* The event names the receiver (arg): the packet is not read yet. */
  const sim_event *e = sim_engine_peek_ahead(&w->eng, kt->pf_peer - 1u);
  if (e && e->kind == SIM_WORLD_EV_MSG) {
    __builtin_prefetch(e->ptr);
    __builtin_prefetch(&w->peers[e->arg]);
  }
  const sim_packet *pk = ahead_packet(w, kt->pf_state);
  if (pk) prefetch_state(w, pk);
  for (unsigned st = 0; st < SC_NODE_PREFETCH_STAGES; st++)
    if ((pk = ahead_packet(w, kt->pf_core[st]))) prefetch_core(w, pk, st);
  if ((pk = ahead_packet(w, kt->pf_targets))) prefetch_targets(w, pk);
}

static uint64_t digest_step(const sim_world *w, uint64_t h, const sim_event *ev) {
  if (w->kt->digest_pastry_rule)
    return sc_mix64(h ^ (ev->t_ns * 64 + ev->kind + ((uint64_t)ev->arg << 40)));
  return sc_mix64(h ^ (ev->t_ns * 0x9e3779b97f4a7c15ull + ev->kind * 131 + ev->arg));
}

void sim_world_schedule(sim_world *w, uint64_t t_ns, uint32_t kind, uint32_t arg) {
  if (sim_engine_schedule(&w->eng, t_ns, kind, arg, NULL) != 0) w->failed = true;
}

int sim_world_run(sim_world *w, uint64_t until_ns) {
  sim_event ev;
  w->stop = false;
  while (!w->stop && !w->failed) {
    /* Stop before the first event past until_ns, with the clock there. */
    if (!sim_engine_next_before(&w->eng, until_ns, &ev)) {
      if (w->eng.failed) w->failed = true;
      if (!w->failed && until_ns != SIM_TIME_NEVER && w->eng.now_ns < until_ns)
        w->eng.now_ns = until_ns;
      break;
    }
    prefetch_ahead(w);
    w->digest = digest_step(w, w->digest, &ev);
    if (ev.kind == SIM_EV_TIMER) {
      world_peer *wp = &w->peers[ev.arg];
      wp->timer_ns = SIM_TIME_NEVER;
      if (!wp->alive) continue;
      if (peer_expire(w, wp, ev.t_ns) <= SC_ERR_FATAL) w->failed = true;
      sim_world_rearm(w, ev.arg);
    } else if (ev.kind == SIM_WORLD_EV_MSG) {
      sim_packet *pk = ev.ptr;
      world_peer *wp = &w->peers[pk->to];
      if (wp->alive) {
        if (w->hooks.received) w->hooks.received(w->ctx, pk->to, &pk->msg);
        if (peer_recv(w, wp, &pk->msg, ev.t_ns) <= SC_ERR_FATAL) w->failed = true;
        sim_world_rearm(w, pk->to);
      }
      sim_packet_put(&w->pool, pk);
    } else if (w->hooks.event) {
      w->hooks.event(w->ctx, &ev);
    }
  }
  return w->failed ? -1 : 0;
}

int sim_world_run_all(sim_world *w, bool (*more)(void *ctx),
                      void (*progress)(void *ctx, bool final), void *ctx) {
  int rv = 0;
  while (rv == 0 && more(ctx)) {
    rv = sim_world_run(w, w->eng.now_ns + SIM_NS_PER_S);
    if (progress) progress(ctx, false);
    if (sim_engine_pending(&w->eng) == 0) break;
  }
  if (progress) progress(ctx, true);
  return rv;
}

void sim_world_stop(sim_world *w) {
  w->stop = true;
}

bool sim_world_progress_due(sim_world *w, double wall_start, double *wall_last,
                            double interval_s, bool force, sim_world_progress *pg) {
  double now;
  if (!sim_progress_due(wall_last, interval_s, force, &now)) return false;
  pg->wall_s = now - wall_start;
  pg->sim_s = (double)w->eng.now_ns / 1e9;
  pg->events = w->eng.events_processed;
  pg->events_per_s = pg->wall_s > 0 ? (double)pg->events / pg->wall_s : 0;
  return true;
}

sim_engine *sim_world_engine(sim_world *w) {
  return &w->eng;
}
uint64_t sim_world_now(const sim_world *w) {
  return w->eng.now_ns;
}
sc_node *sim_world_node(sim_world *w, uint32_t i) {
  return bare(w) ? NULL : w->peers[i].node;
}
sc_pastry *sim_world_pastry(sim_world *w, uint32_t i) {
  world_peer *wp = &w->peers[i];
  if (!peer_present(wp)) return NULL;
  return bare(w) ? wp->pastry : sc_node_pastry(wp->node);
}
void sim_world_set_loss(sim_world *w, double loss) {
  w->cfg.loss = loss;
}

sc_rng *sim_world_rng(sim_world *w) {
  return &w->rng;
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
sim_run_stats sim_world_run_stats(const sim_world *w) {
  sim_run_stats rs = {.sim_events = w->eng.events_processed,
                      .trace_digest = w->digest,
                      .sim_time_s = (double)w->eng.now_ns / 1e9};
  return rs;
}
