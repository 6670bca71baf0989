/* node.c — Pastry + Scribe + SplitStream as one peer (see node.h). */
#include "node.h"

#include <string.h>

#include "err.h"

/* The listener tally (core/tally.h), on peers with a stream. */
typedef struct node_tally {
  sc_tally t;
  sc_addr publisher; /* who sends this root its depth-0 chunks of stripe 0 */
  sc_addr root;      /* at the publisher: the tally tree's root that reports */
  sc_id channel;
} node_tally;

struct sc_node {
  sc_pastry *pastry;
  sc_scribe *scribe;
  sc_splitstream *forest;
  sc_channel *chan; /* the stream, when configured */
  sc_state *state;  /* with the stream and the state callbacks */
  void *user;       /* before cb: a chunk reads the first line and cb's head */
  bool source;
  sc_node_callbacks cb;
  const sc_alloc *alloc;
  /* The listener tally, allocated only when on: forests of 10^6 peers pay a
   * pointer. */
  struct node_tally *tally;
  sc_directory *dir; /* the station directory, when on */
};

void sc_node_config_default(sc_node_config *c) {
  sc_pastry_config_default(&c->pastry);
  sc_scribe_config_default(&c->scribe);
  sc_splitstream_config_default(&c->forest);
  c->channel = sc_id_hash("stripecast", 10);
  c->stream = false;
  c->stream_source = false;
  sc_channel_config_default(&c->stream_cfg);
  c->tally = false;
  c->directory = false;
  sc_directory_config_default(&c->directory_cfg);
}

/* --- Pastry's callbacks --- */

static void node_send(void *user, sc_addr to, const sc_msg *m) {
  sc_node *n = user;
  n->cb.send(n->user, to, m);
}

static bool is_scribe_kind(uint8_t kind) {
  return kind >= SC_ROUTE_SCRIBE_JOIN && kind < SC_ROUTE_KIND_END;
}

static void node_deliver(void *user, const sc_msg *m, uint64_t now) {
  sc_node *n = user;
  if (is_scribe_kind(m->u.route.kind)) {
    if (n->scribe) sc_scribe_deliver(n->scribe, m, now);
    return;
  }
  if (n->cb.deliver) n->cb.deliver(n->user, m, now);
}

static bool node_forward(void *user, const sc_msg *m, uint64_t now) {
  sc_node *n = user;
  return n->scribe == NULL || sc_scribe_forward(n->scribe, m, now);
}

static void node_peer_failed(void *user, const sc_ref *dead, uint64_t now) {
  sc_node *n = user;
  if (n->scribe) sc_scribe_peer_failed(n->scribe, dead, now);
  if (n->cb.peer_failed) n->cb.peer_failed(n->user, dead, now);
}

/* --- Scribe's policy, answered by SplitStream --- */

static bool pol_admit(void *user, unsigned g, const sc_ref *nc, bool forwarder,
                      uint64_t now) {
  sc_node *n = user;
  return sc_splitstream_admit(n->forest, g, nc, forwarder, now);
}
static bool pol_take(void *user, unsigned g, const sc_msg_anycast *a, uint64_t now) {
  sc_node *n = user;
  return sc_splitstream_anycast_take(n->forest, g, a, now);
}
static bool pol_find(void *user, unsigned g, unsigned attempt,
                     const sc_msg_scribe_drop *d, uint64_t now) {
  sc_node *n = user;
  return sc_splitstream_find_parent(n->forest, g, attempt, d, now);
}
static void pol_failed(void *user, const sc_id *group, uint64_t app_id, uint64_t now) {
  sc_node *n = user;
  sc_splitstream_anycast_failed(n->forest, group, app_id, now);
}
/* A channel that verifies its chunks forwards them itself (channel.h). */
static bool pol_multicast(void *user, unsigned g, const sc_msg_multicast *m,
                          uint64_t now) {
  sc_node *n = user;
  sc_splitstream_multicast(n->forest, g, m, now);
  return n->chan != NULL && sc_channel_verifies(n->chan);
}
static void pol_changed(void *user, unsigned g, uint64_t now) {
  sc_node *n = user;
  sc_splitstream_tree_changed(n->forest, g, now);
}

/* --- SplitStream's callbacks, passed through --- */

static void ss_data(void *user, unsigned stripe, const sc_msg_multicast *m,
                    uint64_t now) {
  sc_node *n = user;
  if (n->chan) sc_channel_on_stripe(n->chan, stripe, m, now);
  if (n->cb.stripe_data) n->cb.stripe_data(n->user, stripe, m, now);
}

/* --- the stream's callbacks --- */

static void chan_deliver(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                         uint64_t src_ts_ns, uint64_t now) {
  sc_node *n = user;
  if (n->cb.stream_deliver)
    n->cb.stream_deliver(n->user, gen, data, datalen, src_ts_ns, now);
}
static void chan_lost(void *user, uint64_t gen, uint64_t now) {
  sc_node *n = user;
  if (n->cb.stream_lost) n->cb.stream_lost(n->user, gen, now);
}
static void chan_restarted(void *user, uint64_t now) {
  sc_node *n = user;
  if (n->cb.stream_restarted) n->cb.stream_restarted(n->user, now);
}
static size_t st_get(void *user, uint8_t *buf, size_t cap) {
  sc_node *n = user;
  return n->cb.state_get ? n->cb.state_get(n->user, buf, cap) : 0;
}
static bool st_got(void *user, const uint8_t *data, size_t len, uint64_t now) {
  sc_node *n = user;
  return n->cb.state_got ? n->cb.state_got(n->user, data, len, now) : true;
}
static void ss_changed(void *user, unsigned stripe, bool attached, uint64_t now) {
  sc_node *n = user;
  if (n->chan && attached) sc_channel_on_attach(n->chan, stripe, now);
  if (n->cb.stripe_changed) n->cb.stripe_changed(n->user, stripe, attached, now);
}

int sc_node_new(sc_node **out, const sc_ref *self, uint64_t seed,
                const sc_node_config *cfg, const sc_node_callbacks *cb,
                const sc_alloc *alloc, void *user, uint64_t now) {
  if (out == NULL || self == NULL || cb == NULL || cb->send == NULL)
    return SC_ERR_INVALID;
  sc_node_config c;
  if (cfg)
    c = *cfg;
  else
    sc_node_config_default(&c);
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_node *n = alloc->calloc(1, sizeof(*n), alloc->user);
  if (n == NULL) return SC_ERR_NOMEM;
  n->cb = *cb;
  n->alloc = alloc;
  n->user = user;
  sc_pastry_callbacks pcb = {.send = node_send,
                             .deliver = node_deliver,
                             .peer_failed = node_peer_failed,
                             .forward = node_forward};
  int rv = sc_pastry_new(&n->pastry, self, seed, &c.pastry, &pcb, alloc, n, now);
  if (rv < 0) goto fail;
  sc_scribe_policy pol = {.admit = pol_admit,
                          .anycast_take = pol_take,
                          .find_parent = pol_find,
                          .anycast_failed = pol_failed,
                          .multicast = pol_multicast,
                          .tree_changed = pol_changed};
  rv = sc_scribe_new(&n->scribe, n->pastry, &c.scribe, &pol, node_send, alloc, n, seed,
                     now);
  if (rv < 0) goto fail;
  sc_splitstream_callbacks scb = {.stripe_data = ss_data, .stripe_changed = ss_changed};
  rv = sc_splitstream_new(&n->forest, n->scribe, &c.channel, &c.forest, &scb, alloc, n,
                          seed);
  if (rv < 0) goto fail;
  if (c.stream) {
    sc_channel_host host = {.pastry = n->pastry,
                            .scribe = n->scribe,
                            .forest = n->forest,
                            .send = node_send,
                            .deliver = chan_deliver,
                            .lost = chan_lost,
                            .restarted = chan_restarted,
                            .user = n};
    rv = sc_channel_new(&n->chan, &c.stream_cfg, c.stream_source, &c.channel, &host,
                        alloc);
    if (rv < 0) goto fail;
    n->source = c.stream_source;
    if (cb->state_get || cb->state_got) {
      sc_state_host sh = {.pastry = n->pastry,
                          .scribe = n->scribe,
                          .forest = n->forest,
                          .send = node_send,
                          .get = st_get,
                          .got = st_got,
                          .user = n};
      rv = sc_state_new(&n->state, &c.channel, &sh, alloc);
      if (rv < 0) goto fail;
    }
  }
  if (c.stream && c.tally) {
    n->tally = alloc->calloc(1, sizeof(*n->tally), alloc->user);
    rv = SC_ERR_NOMEM;
    if (n->tally == NULL) goto fail;
    n->tally->publisher = SC_ADDR_NONE;
    n->tally->root = SC_ADDR_NONE;
    n->tally->channel = c.channel;
    sc_tally_init(&n->tally->t, now);
  }
  if (c.directory) {
    sc_directory_host dh = {
        .pastry = n->pastry, .self = *self, .send = node_send, .user = n};
    rv = sc_directory_new(&n->dir, &c.directory_cfg, &dh, alloc, now);
    if (rv < 0) goto fail;
  }
  *out = n;
  return SC_OK;
fail:
  sc_node_del(n);
  return rv;
}

void sc_node_del(sc_node *n) {
  if (n == NULL) return;
  sc_directory_del(n->dir);
  sc_state_del(n->state);
  if (n->tally) n->alloc->free(n->tally, n->alloc->user);
  sc_channel_del(n->chan);
  sc_splitstream_del(n->forest);
  sc_scribe_del(n->scribe);
  sc_pastry_del(n->pastry);
  n->alloc->free(n, n->alloc->user);
}

int sc_node_join(sc_node *n, sc_addr bootstrap, uint64_t now) {
  return sc_pastry_join(n->pastry, bootstrap, now);
}

int sc_node_start_forest(sc_node *n, uint64_t now) {
  if (n->source) return SC_OK; /* the source publishes; it wants no stripe */
  if (n->chan) sc_channel_set_join_time(n->chan, now);
  return sc_splitstream_start(n->forest, now);
}

int sc_node_source_write(sc_node *n, const uint8_t *data, size_t datalen, uint64_t now) {
  if (!n->source) return SC_ERR_INVALID;
  return sc_channel_source_write(n->chan, data, datalen, now);
}

int sc_node_source_flush(sc_node *n, uint64_t now) {
  if (!n->source) return SC_ERR_INVALID;
  return sc_channel_source_flush(n->chan, now);
}

void sc_node_stream_stats(const sc_node *n, sc_channel_stats *out) {
  if (n->chan)
    sc_channel_get_stats(n->chan, out);
  else
    memset(out, 0, sizeof(*out));
}

/* --- the listener tally (core/tally.h) --- */

/* The tally travels up stripe 0's tree: every peer with a stream wants it. */
static unsigned tally_group(const sc_node *n) {
  return sc_splitstream_group(n->forest, 0);
}

static bool tally_is_child(void *user, sc_addr from) {
  const sc_node *n = user;
  unsigned g = tally_group(n);
  unsigned k = sc_scribe_children(n->scribe, g);
  for (unsigned i = 0; i < k; i++) {
    sc_ref c;
    if (sc_scribe_child_at(n->scribe, g, i, &c) && c.addr == from) return true;
  }
  return false;
}

/* At the publisher: children (when it is the tally tree's root itself) and
 * the one root that reports. */
static bool tally_is_child_or_root(void *user, sc_addr from) {
  const sc_node *n = user;
  return from == n->tally->root || tally_is_child(user, from);
}

static int tally_recv(sc_node *n, const sc_msg *m, uint64_t now) {
  if (n->tally == NULL || !sc_id_eq(&m->u.tally.channel, &n->tally->channel))
    return SC_OK;
  if (n->source && !tally_is_child(n, m->sender.addr)) {
    /* One tree, one root: a new root's sum replaces the old one's. */
    n->tally->root = m->sender.addr;
    sc_tally_prune(&n->tally->t, tally_is_child_or_root, n, now);
    return sc_tally_report(&n->tally->t, m->sender.addr, m->u.tally.listeners, now);
  }
  /* Only a current child's sum counts: one that moved is counted by its
   * new parent, never twice. */
  if (!tally_is_child(n, m->sender.addr)) return SC_OK;
  return sc_tally_report(&n->tally->t, m->sender.addr, m->u.tally.listeners, now);
}

/* A depth-0 chunk of stripe 0 names its publisher to the root. */
static void tally_learn_publisher(sc_node *n, const sc_msg *m) {
  if (n->tally == NULL || n->source || m->u.multicast.depth != 0) return;
  const sc_id *g = sc_scribe_group_id(n->scribe, tally_group(n));
  if (g != NULL && sc_id_eq(g, &m->u.multicast.group))
    n->tally->publisher = m->sender.addr;
}

static void tally_send(sc_node *n, uint64_t now) {
  if (!sc_tally_due(&n->tally->t, now) || n->source) return;
  sc_tally_prune(&n->tally->t, tally_is_child, n, now);
  unsigned g = tally_group(n);
  sc_ref parent;
  sc_addr to = SC_ADDR_NONE;
  if (sc_scribe_parent(n->scribe, g, &parent))
    to = parent.addr;
  else if (sc_scribe_is_root(n->scribe, g))
    to = n->tally->publisher;
  if (to == SC_ADDR_NONE) return;
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_TALLY;
  m.sender = *sc_scribe_self(n->scribe);
  m.u.tally.channel = n->tally->channel;
  m.u.tally.listeners = sc_tally_total(&n->tally->t, now);
  n->cb.send(n->user, to, &m);
}

void sc_node_tally_set_local(sc_node *n, uint32_t listeners) {
  if (n->tally != NULL) sc_tally_set_local(&n->tally->t, listeners);
}

uint32_t sc_node_tally_total(const sc_node *n, uint64_t now) {
  return n->tally != NULL ? sc_tally_total(&n->tally->t, now) : 0;
}

int sc_node_state_fetch(sc_node *n, uint64_t now) {
  return n->state ? sc_state_fetch(n->state, now) : SC_ERR_INVALID;
}

void sc_node_state_cancel(sc_node *n) {
  if (n->state) sc_state_cancel(n->state);
}

void sc_node_state_stats(const sc_node *n, sc_state_stats *out) {
  if (n->state)
    sc_state_get_stats(n->state, out);
  else
    memset(out, 0, sizeof(*out));
}

/* The group a MULTICAST names by its first 64 bits (core/wire.h), or a
 * SCRIBE_ROOT answering one, completed into *full from the groups of this
 * node's trees and stripes. A group none of them has stays short: its chunk
 * finds no tree here, and an answer to its publisher names it short too,
 * which the publisher completes in turn. */
static const sc_msg *complete_group(const sc_node *n, const sc_msg *m, sc_msg *full) {
  const sc_id *g = m->type == SC_MSG_MULTICAST     ? &m->u.multicast.group
                   : m->type == SC_MSG_SCRIBE_ROOT ? &m->u.scribe_root.group
                                                   : NULL;
  if (g == NULL || g->lo != 0) return m;
  sc_id id = *g;
  if (!sc_scribe_group_complete(n->scribe, &id) &&
      !(n->chan && sc_channel_group_complete(n->chan, &id)))
    return m;
  memcpy(full, m, sc_msg_struct_size(m));
  if (m->type == SC_MSG_MULTICAST)
    full->u.multicast.group = id;
  else
    full->u.scribe_root.group = id;
  return full;
}

int sc_node_recv(sc_node *n, const sc_msg *m, uint64_t now) {
  sc_msg full;
  m = complete_group(n, m, &full);
  if (sc_state_handles(m))
    return n->state ? sc_state_recv(n->state, m, now) : SC_OK; /* not ours to answer */
  if (m->type == SC_MSG_TALLY) return tally_recv(n, m, now);
  if (sc_directory_handles(m))
    return n->dir ? sc_directory_recv(n->dir, m, now) : SC_OK; /* not listing */
  if (m->type == SC_MSG_MULTICAST && m->u.multicast.depth == 0)
    tally_learn_publisher(n, m);
  if (sc_channel_handles(m)) {
    if (n->chan == NULL) return SC_OK; /* no stream on this peer: nothing to do */
    return sc_channel_recv(n->chan, m, now);
  }
  if (m->type >= SC_MSG_MULTICAST && m->type < SC_MSG_TYPE_END)
    return sc_scribe_recv(n->scribe, m, now);
  return sc_pastry_recv(n->pastry, m, now);
}

void sc_node_prefetch(const sc_node *n, const sc_msg *m, unsigned stage) {
  bool stream_msg = sc_channel_handles(m);
  bool scribe_msg = !stream_msg && !sc_state_handles(m) && m->type >= SC_MSG_MULTICAST &&
                    m->type < SC_MSG_TYPE_END && m->type != SC_MSG_TALLY &&
                    !sc_directory_handles(m);
  switch (stage) {
  case 0: {
    /* The layers' own structs. Every message ends in a rearm, which reads
     * all three expiries. */
    if (scribe_msg || stream_msg)
      sc_pastry_prefetch_expiry(n->pastry);
    else
      sc_pastry_prefetch(n->pastry);
    sc_scribe_prefetch(n->scribe);
    if (n->chan) sc_channel_prefetch(n->chan);
    if (m->type == SC_MSG_MULTICAST) {
      /* SplitStream's callbacks and stripe map: its first three lines
       * (the struct is opaque here and its module is not ours to touch). */
      const char *f = (const char *)n->forest;
      __builtin_prefetch(f);
      __builtin_prefetch(f + 64);
      __builtin_prefetch(f + 128);
    }
    break;
  }
  case 1:
    if (scribe_msg)
      sc_scribe_prefetch_msg(n->scribe, m);
    else if (!stream_msg)
      sc_pastry_prefetch_msg(n->pastry, m);
    if (n->chan) sc_channel_prefetch_rx(n->chan);
    break;
  case 2:
    if (scribe_msg) sc_scribe_prefetch_children(n->scribe, m);
    if (n->chan && m->type == SC_MSG_MULTICAST) {
      /* The stripe picks the receiver's counter line: the group (stage 1)
       * and SplitStream's map (stage 0) are in cache. */
      int g = sc_scribe_group_find(n->scribe, &m->u.multicast.group);
      sc_channel_prefetch_chunk(
          n->chan, m, g >= 0 ? sc_splitstream_stripe_of(n->forest, (unsigned)g) : -1);
    }
    break;
  default:
    break;
  }
}

unsigned sc_node_prefetch_targets(const sc_node *n, const sc_msg *m, sc_addr *out,
                                  unsigned max) {
  return sc_scribe_prefetch_targets(n->scribe, m, out, max);
}

int sc_node_depart(sc_node *n, uint64_t now) {
  return sc_scribe_depart(n->scribe, now);
}

void sc_node_depart_finish(sc_node *n, uint64_t now) {
  sc_scribe_depart_finish(n->scribe, now);
}

uint64_t sc_node_get_expiry(const sc_node *n) {
  uint64_t a = sc_pastry_get_expiry(n->pastry);
  uint64_t b = sc_scribe_get_expiry(n->scribe);
  if (b < a) a = b;
  if (n->chan) {
    b = sc_channel_get_expiry(n->chan);
    if (b < a) a = b;
  }
  if (n->state) {
    b = sc_state_get_expiry(n->state);
    if (b < a) a = b;
  }
  if (n->tally != NULL && !n->source) {
    b = sc_tally_get_expiry(&n->tally->t);
    if (b < a) a = b;
  }
  if (n->dir) {
    b = sc_directory_get_expiry(n->dir);
    if (b < a) a = b;
  }
  return a;
}

int sc_node_handle_expiry(sc_node *n, uint64_t now) {
  int rv = SC_OK;
  if (sc_pastry_get_expiry(n->pastry) <= now)
    rv = sc_pastry_handle_expiry(n->pastry, now);
  if (rv < 0) return rv;
  if (sc_scribe_get_expiry(n->scribe) <= now)
    rv = sc_scribe_handle_expiry(n->scribe, now);
  if (rv < 0) return rv;
  if (n->chan && sc_channel_get_expiry(n->chan) <= now)
    sc_channel_handle_expiry(n->chan, now);
  if (n->state && sc_state_get_expiry(n->state) <= now)
    sc_state_handle_expiry(n->state, now);
  if (n->tally != NULL && sc_tally_get_expiry(&n->tally->t) <= now) tally_send(n, now);
  if (n->dir && sc_directory_get_expiry(n->dir) <= now)
    sc_directory_handle_expiry(n->dir, now);
  return rv;
}

sc_pastry *sc_node_pastry(sc_node *n) {
  return n->pastry;
}
sc_scribe *sc_node_scribe(sc_node *n) {
  return n->scribe;
}
sc_splitstream *sc_node_forest(sc_node *n) {
  return n->forest;
}
const sc_pastry *sc_node_pastry_c(const sc_node *n) {
  return n->pastry;
}
const sc_scribe *sc_node_scribe_c(const sc_node *n) {
  return n->scribe;
}
const sc_splitstream *sc_node_forest_c(const sc_node *n) {
  return n->forest;
}

size_t sc_node_mem_bytes(const sc_node *n) {
  return sizeof(*n) + sc_pastry_mem_bytes(n->pastry) + sc_scribe_mem_bytes(n->scribe) +
         sc_splitstream_mem_bytes(n->forest) +
         (n->chan ? sc_channel_mem_bytes(n->chan) : 0) +
         (n->state ? sc_state_mem_bytes(n->state) : 0) +
         (n->tally ? sizeof(*n->tally) : 0) +
         (n->dir ? sc_directory_mem_bytes(n->dir) : 0);
}

sc_directory *sc_node_directory(sc_node *n) {
  return n->dir;
}
