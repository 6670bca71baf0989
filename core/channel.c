/* channel.c — the stream on one peer (see channel.h). */
#include "channel.h"

#include <string.h>

#include <sodium.h>

#include "err.h"

#define NEVER UINT64_MAX
/* A source does not locate one stripe's root more often than this, however
 * many "not the root" answers arrive. */
#define LOCATE_MIN_GAP_NS 100000000ull
/* A receiver that sees this many chunks in a row beyond its window has lost
 * the stream for longer than the window: it restarts playout. */
#define AHEAD_RESTART 64

/* A chunk of the signed stream is its payload, its manifest piece and one
 * byte that says whether the sender verified it before sending it
 * (AUTH_VERIFIED): a peer that holds the generation's manifest checks a
 * chunk before it forwards it; one that does not yet (fewer than d chunks
 * of the generation arrived) forwards it at once, marked unverified, and
 * judges it when the manifest is known. Holding unverified chunks until d
 * arrive deadlocks the forest: every peer waits for chunks its parents hold
 * (docs/ARCHITECTURE.md §3, "Signed stream"). */
#define AUTH_VERIFIED   1u
#define AUTH_FLAG_BYTES 1u

typedef struct pending_chunk {
  sc_msg_multicast m; /* data points at bytes below when not symbolic */
  uint64_t sent_ns;   /* when sent to the current root; 0: not yet */
  uint8_t resent;     /* sent again to the same root once already */
  uint8_t bytes[SC_CHUNK_BYTES_MAX];
} pending_chunk;

typedef struct stripe_root {
  sc_ref ref;          /* cached root; addr SC_ADDR_NONE while unknown */
  uint64_t refresh_ns; /* next time to locate it again */
  uint64_t located_ns; /* last time a locate was sent */
  uint16_t npending;   /* chunks not yet acknowledged by the root */
} stripe_root;

typedef struct repair_slot {
  uint64_t gen;
  uint64_t next_ask_ns;
  uint32_t asks;
  uint32_t used;
} repair_slot;

/* A generation of the signed stream whose chunks the verifier stages (its
 * manifest is not known: fewer than d chunks of it arrived). Playout knows
 * only verified chunks, so without these asks a generation short at a
 * peer's start (trees still forming, a forging parent being replaced) or
 * at the stream's end (nothing after it) is never asked for. */
typedef struct staged_ask {
  uint64_t gen;
  uint64_t first_ns; /* when its first chunk was staged */
  uint64_t next_ask_ns;
  uint32_t epoch;
  uint32_t asks;
  bool used;
} staged_ask;

struct sc_channel {
  /* First, together, what a chunk down a stripe and the expiry read (a
   * simulator hands a peer a chunk hundreds of millions of times, and
   * fetches these lines ahead: sc_channel_prefetch). */
  sc_stream_receiver *rx;
  repair_slot *slots; /* [SC_CHANNEL_REPAIR_SLOTS], with repair on */
  uint64_t repair_check_ns;
  uint64_t newest_gen; /* newest generation a stripe brought, +1 (0: none) */
  uint32_t ahead_streak;
  unsigned stripes;
  bool source;
  uint64_t last_chunk_ns[SC_STRIPES_MAX]; /* last chunk down each stripe */
  sc_channel_config cfg;
  sc_channel_host host;
  const sc_alloc *alloc;
  sc_id channel;
  sc_id stripe_id[SC_STRIPES_MAX];
  sc_stream_source *src;
  /* Source. */
  stripe_root roots[SC_STRIPES_MAX];
  pending_chunk *pending; /* [stripes][SC_CHANNEL_PENDING_MAX] */
  /* Receiver. */
  uint32_t ask_rr;                    /* rotates the peers asked */
  uint64_t probed_ns[SC_STRIPES_MAX]; /* last probe of each stripe's parent */
  uint32_t backfill_asked;            /* stripes whose parent was asked */
  uint64_t first_stripe_gen;          /* of the first chunk down a stripe, +1 */
  uint64_t first_played_gen;          /* of the first generation delivered, +1 */
  sc_channel_stats st;
  /* The signed stream (cfg.auth). */
  size_t piece_bytes;
  sc_auth_signer *signer;     /* source */
  sc_chunk *sign_chunks;      /* source: the generation being cut [stripes] */
  uint8_t *sign_data;         /* [stripes][chunk_bytes] */
  uint8_t *sign_pieces;       /* [stripes][piece_bytes] */
  sc_auth_verifier *verifier; /* receiver */
  staged_ask *staged;         /* [SC_AUTH_STAGE_GENS], receiver with repair on */
  uint64_t now;               /* of the call in progress, for verdicts */
  uint64_t blamed_ns[SC_STRIPES_MAX];
  uint32_t forged_unverified[SC_STRIPES_MAX]; /* in a row, from the stripe's parent */
  /* The verdict on the chunk being offered when it comes through the
   * callback inside the offer (-1: none). */
  int inner_verdict;
  uint64_t inner_gen;
  unsigned inner_index;
  uint8_t scratch[SC_CHUNK_BYTES_MAX]; /* a chunk and its piece, to send */
};

void sc_channel_config_default(sc_channel_config *c) {
  sc_stream_config_default(&c->stream);
  c->repair = true;
  c->catchup = true;
  c->repair_wait_ns = 400000000ull;
  c->repair_wait_start_ns = 0;
  c->backfill_gens = 0;
  c->repair_retry_ns = 300000000ull;
  /* Asks stop at the deadline; the count is a backstop. 8 asks (2.4 s) ran
   * out while 8 of 30 real peers crashed at once and their stripes' trees
   * re-formed (bench/RESULTS.md, "Crashes"); 32 outlast a 5 s buffer. */
  c->repair_ask_max = 32;
  c->root_refresh_ns = 1000000000ull;
  c->stall_ns = 1000000000ull;
  c->probe_timeout_ns = 500000000ull;
  c->root_ack_timeout_ns = 1000000000ull;
  c->auth = false;
  memset(c->auth_pk, 0, sizeof c->auth_pk);
  memset(c->auth_sk, 0, sizeof c->auth_sk);
}

/* ---------------------------------------------------------------- source */

static int stripe_of_group(const sc_channel *c, const sc_id *group) {
  for (unsigned i = 0; i < c->stripes; i++)
    if (sc_id_cmp(&c->stripe_id[i], group) == 0) return (int)i;
  return -1;
}

bool sc_channel_group_complete(const sc_channel *c, sc_id *id) {
  for (unsigned i = 0; i < c->stripes; i++)
    if (c->stripe_id[i].hi == id->hi) {
      *id = c->stripe_id[i];
      return true;
    }
  return false;
}

/* Locates stripe i's root (Scribe's anycast to the stripe id). While the
 * root is unknown, an unanswered locate is sent again after an ack timeout,
 * not a refresh period: its route may have ended at the root that just
 * crashed, before Pastry noticed, and with the broadcaster's 30 s refresh
 * the stripe's chunks waited 30 s for the next try (every survivor of
 * tests/station_kill.py lost the same generations in 1 of 4 runs). */
static void locate_root(sc_channel *c, unsigned i, uint64_t now) {
  stripe_root *r = &c->roots[i];
  uint64_t again = c->cfg.root_refresh_ns;
  if (r->ref.addr == SC_ADDR_NONE && c->cfg.root_ack_timeout_ns < again)
    again = c->cfg.root_ack_timeout_ns;
  r->located_ns = now;
  r->refresh_ns = now + again;
  c->st.publishes_routed++;
  (void)sc_scribe_locate_root(c->host.scribe, &c->stripe_id[i], now);
}

static pending_chunk *pending_of(sc_channel *c, unsigned i) {
  return &c->pending[i * SC_CHANNEL_PENDING_MAX];
}

static void pending_remove(sc_channel *c, unsigned i, unsigned k) {
  pending_chunk *q = pending_of(c, i);
  stripe_root *r = &c->roots[i];
  for (unsigned j = k; j + 1 < r->npending; j++) {
    q[j].m = q[j + 1].m;
    q[j].sent_ns = q[j + 1].sent_ns;
    q[j].resent = q[j + 1].resent;
    if (q[j + 1].m.data) {
      memcpy(q[j].bytes, q[j + 1].bytes, q[j + 1].m.len);
      q[j].m.data = q[j].bytes;
    }
  }
  r->npending--;
}

/* Sends pending chunk k of stripe i to the cached root. */
static void send_pending(sc_channel *c, unsigned i, unsigned k, uint64_t now) {
  pending_chunk *e = &pending_of(c, i)[k];
  sc_msg m;
  m.type = SC_MSG_MULTICAST;
  m.sender = *sc_pastry_self(c->host.pastry);
  m.u.multicast = e->m;
  e->sent_ns = now;
  c->host.send(c->host.user, c->roots[i].ref.addr, &m);
}

/* The cached root of stripe i is gone, or not the root: forget it, keep the
 * unacknowledged chunks for whoever the next locate finds. */
static void drop_root(sc_channel *c, unsigned i) {
  stripe_root *r = &c->roots[i];
  r->ref.addr = SC_ADDR_NONE;
  pending_chunk *q = pending_of(c, i);
  for (unsigned k = 0; k < r->npending; k++) {
    q[k].sent_ns = 0;
    q[k].resent = 0;
  }
}

/* Sends one chunk to stripe i's root and keeps it until the root
 * acknowledges it, so a chunk sent to a root that crashed is sent again to
 * the next one (the erasure code cannot rebuild a chunk that never entered
 * any tree). */
static void publish(sc_channel *c, unsigned i, const sc_msg_multicast *mc, uint64_t now) {
  stripe_root *r = &c->roots[i];
  const sc_ref *self = sc_pastry_self(c->host.pastry);
  if (r->ref.addr == self->addr) {
    /* This peer is the stripe's root itself. Once a closer peer joined it
     * is not (a broadcaster that streamed alone, for the stripes whose ids
     * its first listener is closer to), and a tree of its own with nobody
     * in it reached nobody until the next refresh, 30 s: the new root is
     * located at once, publishing here meanwhile. A tree with members is
     * left to the refresh, as before (its members move to the new root). */
    if (!sc_pastry_owns(c->host.pastry, &c->stripe_id[i]) &&
        sc_scribe_children(c->host.scribe, sc_splitstream_group(c->host.forest, i)) ==
            0 &&
        now >= r->located_ns + LOCATE_MIN_GAP_NS)
      locate_root(c, i, now);
    if (sc_scribe_publish_local(c->host.scribe, mc, now) == SC_OK) return;
    drop_root(c, i);
  }
  pending_chunk *q = pending_of(c, i);
  if (r->npending == SC_CHANNEL_PENDING_MAX) {
    pending_remove(c, i, 0);
    c->st.chunks_unacked_dropped++;
  }
  pending_chunk *e = &q[r->npending++];
  e->m = *mc;
  e->sent_ns = 0;
  e->resent = 0;
  if (mc->data) {
    memcpy(e->bytes, mc->data, mc->len);
    e->m.data = e->bytes;
  }
  if (r->ref.addr != SC_ADDR_NONE)
    send_pending(c, i, r->npending - 1u, now);
  else if (r->located_ns == 0 || now >= r->refresh_ns)
    locate_root(c, i, now);
}

static void publish_chunk(sc_channel *c, const sc_chunk *ch, const uint8_t *piece,
                          uint64_t now);

/* The signed stream: the generation's chunks are kept until the last is
 * cut (in the same call), signed, and published with their pieces. */
static void source_emit_signed(sc_channel *c, const sc_chunk *ch, uint64_t now) {
  const size_t cb = c->cfg.stream.chunk_bytes;
  sc_chunk *k = &c->sign_chunks[ch->index];
  *k = *ch;
  memcpy(c->sign_data + ch->index * cb, ch->data, cb);
  k->data = c->sign_data + ch->index * cb;
  if (ch->index + 1u < c->stripes) return;
  if (sc_auth_sign(c->signer, c->sign_chunks, c->sign_pieces) != SC_OK) return;
  for (unsigned i = 0; i < c->stripes; i++)
    publish_chunk(c, &c->sign_chunks[i], c->sign_pieces + i * c->piece_bytes, now);
}

static void source_emit(void *user, const sc_chunk *ch, uint64_t now) {
  sc_channel *c = user;
  if (c->signer) {
    source_emit_signed(c, ch, now);
    return;
  }
  publish_chunk(c, ch, NULL, now);
}

/* Publishes chunk ch, with its manifest piece behind the payload when
 * signed. */
static void publish_chunk(sc_channel *c, const sc_chunk *ch, const uint8_t *piece,
                          uint64_t now) {
  sc_msg_multicast m;
  memset(&m, 0, sizeof(m));
  m.group = c->stripe_id[ch->index];
  m.seq = (uint32_t)ch->gen;
  m.depth = 0;
  m.sent_ns = ch->src_ts_ns;
  m.gen_bytes = ch->gen_bytes;
  m.epoch = ch->epoch;
  m.len = (uint16_t)c->cfg.stream.chunk_bytes;
  m.data = ch->data; /* NULL in symbolic mode: a payload nobody reads */
  if (piece) {
    memcpy(c->scratch, ch->data, m.len);
    memcpy(c->scratch + m.len, piece, c->piece_bytes);
    c->scratch[m.len + c->piece_bytes] = AUTH_VERIFIED;
    m.len = (uint16_t)(m.len + c->piece_bytes + AUTH_FLAG_BYTES);
    m.data = c->scratch;
  }
  c->st.chunks_published++;
  publish(c, ch->index, &m, now);
}

static void on_root_answer(sc_channel *c, const sc_msg *msg, uint64_t now) {
  if (!c->source) return;
  const sc_msg_scribe_root *a = &msg->u.scribe_root;
  int i = stripe_of_group(c, &a->group);
  if (i < 0) return;
  stripe_root *r = &c->roots[i];
  if (!a->is_root) {
    if (r->ref.addr == msg->sender.addr) {
      drop_root(c, (unsigned)i);
      if (now >= r->located_ns + LOCATE_MIN_GAP_NS) locate_root(c, (unsigned)i, now);
    }
    return;
  }
  if (a->ack) {
    if (r->ref.addr != msg->sender.addr) return;
    pending_chunk *q = pending_of(c, (unsigned)i);
    for (unsigned k = 0; k < r->npending; k++)
      if (q[k].m.seq == a->seq && q[k].sent_ns) {
        pending_remove(c, (unsigned)i, k);
        break;
      }
    return;
  }
  /* The answer to a locate. */
  if (r->ref.addr != msg->sender.addr) {
    if (r->ref.addr != SC_ADDR_NONE) {
      c->st.root_changes++;
      drop_root(c, (unsigned)i);
    }
    r->ref = msg->sender;
  }
  r->refresh_ns = now + c->cfg.root_refresh_ns;
  const sc_ref *self = sc_pastry_self(c->host.pastry);
  pending_chunk *q = pending_of(c, (unsigned)i);
  for (unsigned k = 0; k < r->npending;) {
    if (q[k].sent_ns) {
      k++;
    } else if (r->ref.addr == self->addr) {
      (void)sc_scribe_publish_local(c->host.scribe, &q[k].m, now);
      pending_remove(c, (unsigned)i, k);
    } else {
      c->st.chunks_resent++;
      send_pending(c, (unsigned)i, k, now);
      k++;
    }
  }
}

/* Unacknowledged chunks: two overdue mean the root is gone (probe it, locate
 * the next); one alone was lost on the way, or its acknowledgement was: it
 * is sent again once, and given up when overdue again if the root is
 * located again within an ack timeout anyway (a new root then gets the
 * rest). With a longer refresh period (the broadcaster's 30 s) it waits
 * instead for the answer to a locate sent now: the same root gets it a third
 * time, a new one with the rest. A slow stripe (one chunk a generation,
 * 0.8 s apart at 128 kbit/s) rarely has two overdue at once, and giving its
 * chunk up lost it whenever its root had crashed (tests/station_kill.py).
 * Not with the short period: in the simulator's churn runs (1 s) the third
 * copies to congested roots cost continuity (0.9985 -> 0.9931, seed 4). */
static void check_acks(sc_channel *c, unsigned i, uint64_t now) {
  stripe_root *r = &c->roots[i];
  if (r->ref.addr == SC_ADDR_NONE) return;
  pending_chunk *q = pending_of(c, i);
  unsigned overdue = 0;
  for (unsigned k = 0; k < r->npending; k++)
    if (q[k].sent_ns && now >= q[k].sent_ns + c->cfg.root_ack_timeout_ns) overdue++;
  if (overdue >= 2) {
    c->st.roots_suspected++;
    (void)sc_pastry_probe(c->host.pastry, &r->ref, c->cfg.probe_timeout_ns, now);
    drop_root(c, i);
    locate_root(c, i, now);
  } else if (overdue == 1) {
    for (unsigned k = 0; k < r->npending; k++) {
      if (!q[k].sent_ns || now < q[k].sent_ns + c->cfg.root_ack_timeout_ns) continue;
      if (q[k].resent && c->cfg.root_refresh_ns <= c->cfg.root_ack_timeout_ns) {
        pending_remove(c, i, k);
      } else if (q[k].resent) {
        q[k].sent_ns = 0;
        q[k].resent = 0;
        if (now >= r->located_ns + LOCATE_MIN_GAP_NS) locate_root(c, i, now);
      } else {
        q[k].resent = 1;
        c->st.chunks_resent++;
        send_pending(c, i, k, now);
      }
      break;
    }
  }
}

static uint64_t source_expiry(const sc_channel *c) {
  uint64_t t = NEVER;
  for (unsigned i = 0; i < c->stripes; i++) {
    const stripe_root *r = &c->roots[i];
    if (r->refresh_ns < t) t = r->refresh_ns;
    const pending_chunk *q = &c->pending[i * SC_CHANNEL_PENDING_MAX];
    if (r->ref.addr == SC_ADDR_NONE) continue;
    uint64_t timeout = c->cfg.root_ack_timeout_ns;
    for (unsigned k = 0; k < r->npending; k++) {
      if (!q[k].sent_ns) continue;
      uint64_t due = q[k].sent_ns + timeout;
      if (due < t) t = due;
    }
  }
  return t;
}

/* -------------------------------------------------------------- receiver */

static void rx_deliver(void *user, uint64_t gen, const uint8_t *data, size_t datalen,
                       uint64_t src_ts_ns, uint64_t now) {
  sc_channel *c = user;
  if (c->first_played_gen == 0) c->first_played_gen = gen + 1;
  c->host.deliver(c->host.user, gen, data, datalen, src_ts_ns, now);
}

static void rx_lost(void *user, uint64_t gen, uint64_t now) {
  sc_channel *c = user;
  if (c->host.lost) c->host.lost(c->host.user, gen, now);
}

static void rx_restarted(void *user, uint64_t now) {
  sc_channel *c = user;
  if (c->host.restarted) c->host.restarted(c->host.user, now);
}

/* How late a generation's chunks may be before they are asked for. */
static uint64_t repair_wait(const sc_channel *c) {
  if (c->cfg.repair_wait_start_ns && !sc_stream_receiver_playing(c->rx))
    return c->cfg.repair_wait_start_ns;
  return c->cfg.repair_wait_ns;
}

/* Hands a chunk to the receiver; returns its verdict. */
static int take(sc_channel *c, const sc_chunk *chp, uint64_t now) {
  sc_chunk ch = *chp;
  int rv = sc_stream_receiver_recv(c->rx, &ch, now);
  if (rv == SC_ERR_TOO_LARGE) {
    /* Beyond the window: after a long gap, start playout afresh (a forged
     * chunk alone cannot do this: it takes a run of them). */
    if (++c->ahead_streak >= AHEAD_RESTART) {
      sc_stream_receiver_restart(c->rx, now);
      c->ahead_streak = 0;
      c->st.restarts++;
      rv = sc_stream_receiver_recv(c->rx, &ch, now);
    }
  } else if (rv >= 0) {
    c->ahead_streak = 0;
  }
  if (rv == SC_STREAM_STORED && c->slots && c->repair_check_ns == NEVER)
    c->repair_check_ns = now + repair_wait(c);
  return rv;
}

static sc_chunk chunk_of(const sc_channel *c, unsigned index, const sc_msg_multicast *m) {
  sc_chunk ch = {
      .gen = m->seq,
      .src_ts_ns = m->sent_ns,
      .gen_bytes = m->gen_bytes,
      .epoch = m->epoch,
      .index = (uint8_t)index,
      .data = c->cfg.stream.symbolic ? NULL : m->data,
      .datalen = c->cfg.stream.symbolic ? 0 : m->len,
  };
  return ch;
}

static int take_chunk(sc_channel *c, unsigned index, const sc_msg_multicast *m,
                      uint64_t now) {
  sc_chunk ch = chunk_of(c, index, m);
  return take(c, &ch, now);
}

/* ------------------------------------------------------ the signed stream */

/* A chunk's tag for the verifier: where it came from. */
#define TAG_TREE      (1ull << 63) /* down a stripe; else a repair answer */
#define TAG_SENDER_OK (1ull << 62) /* the sender said it verified it */
#define TAG_DEPTH(t)  ((uint16_t)((t)&0xffffu))

/* The message that carries chunk ch with piece and flag (in c->scratch). */
static void signed_msg_with(sc_channel *c, const sc_chunk *ch, const uint8_t *piece,
                            uint8_t flag, sc_msg_multicast *m) {
  const size_t cb = c->cfg.stream.chunk_bytes;
  memcpy(c->scratch, ch->data, cb);
  if (piece != c->scratch + cb) memcpy(c->scratch + cb, piece, c->piece_bytes);
  c->scratch[cb + c->piece_bytes] = flag;
  memset(m, 0, sizeof *m);
  m->group = c->stripe_id[ch->index];
  m->seq = (uint32_t)ch->gen;
  m->sent_ns = ch->src_ts_ns;
  m->gen_bytes = ch->gen_bytes;
  m->epoch = ch->epoch;
  m->len = (uint16_t)(cb + c->piece_bytes + AUTH_FLAG_BYTES);
  m->data = c->scratch;
}

/* A verified chunk's message (a forward, a repair answer). Returns false
 * when the manifest of its generation is no longer kept. */
static bool signed_msg(sc_channel *c, const sc_chunk *ch, sc_msg_multicast *m) {
  uint8_t *piece = c->scratch + c->cfg.stream.chunk_bytes;
  if (sc_auth_verifier_piece(c->verifier, ch->epoch, ch->gen, ch->index, piece) != SC_OK)
    return false;
  signed_msg_with(c, ch, piece, AUTH_VERIFIED, m);
  return true;
}

static void forward(sc_channel *c, sc_msg_multicast *m, uint64_t tag, uint64_t now) {
  m->depth = TAG_DEPTH(tag);
  (void)sc_scribe_multicast_children(c->host.scribe, m, now);
}

/* A forged or replayed chunk down stripe index. A parent that said it
 * verified it made it (every peer checks what it can before forwarding):
 * look for another parent at once. One that forwarded it unverified may be
 * an honest peer below a forger, which finds out as soon as its own
 * manifest is known and replaces its parent: only SC_CHANNEL_UNVERIFIED_MAX
 * forged chunks in a row from it make us look for another. At most one
 * search a SC_CHANNEL_BLAME_GAP_NS a stripe. */
static void blame(sc_channel *c, unsigned index, uint64_t tag, uint64_t now) {
  if (!(tag & TAG_TREE) || index >= c->stripes) return;
  if (!(tag & TAG_SENDER_OK) && ++c->forged_unverified[index] < SC_CHANNEL_UNVERIFIED_MAX)
    return;
  if (c->blamed_ns[index] && now - c->blamed_ns[index] < SC_CHANNEL_BLAME_GAP_NS) return;
  c->blamed_ns[index] = now;
  c->forged_unverified[index] = 0;
  c->st.auth_parent_switches++;
  (void)sc_scribe_switch_parent(c->host.scribe,
                                sc_splitstream_group(c->host.forest, index), now);
}

/* An authentic chunk: to the receiver (a repair answer that was new is
 * counted as got). */
static void accept_chunk(sc_channel *c, const sc_chunk *ch, uint64_t tag, uint64_t now) {
  int rv = take(c, ch, now);
  if (tag & TAG_TREE)
    c->forged_unverified[ch->index] = 0;
  else if (rv == SC_STREAM_STORED)
    c->st.repair_chunks_got++;
}

static void on_verdict(void *user, const sc_chunk *ch, uint64_t tag, int verdict) {
  sc_channel *c = user;
  if (ch->index == c->inner_index && ch->gen == c->inner_gen) c->inner_verdict = verdict;
  if (verdict == SC_AUTH_GOOD)
    accept_chunk(c, ch, tag, c->now);
  else
    blame(c, ch->index, tag, c->now);
}

/* Chunk ch was staged: its generation is asked for if it is still
 * unverified a repair wait later (the oldest entry makes room). */
static void note_staged(sc_channel *c, const sc_chunk *ch, uint64_t now) {
  /* Playout waits for it if it comes before the first generation verified. */
  sc_stream_receiver_expect(c->rx, ch->gen, ch->epoch);
  if (c->staged == NULL) return;
  staged_ask *room = NULL;
  for (unsigned k = 0; k < SC_AUTH_STAGE_GENS; k++) {
    staged_ask *s = &c->staged[k];
    if (s->used && s->gen == ch->gen && s->epoch == ch->epoch) return;
    if (room == NULL || !s->used || (room->used && s->first_ns < room->first_ns))
      room = s;
  }
  *room = (staged_ask){.gen = ch->gen,
                       .epoch = ch->epoch,
                       .first_ns = now,
                       .next_ask_ns = now + repair_wait(c),
                       .used = true};
  if (room->next_ask_ns < c->repair_check_ns) c->repair_check_ns = room->next_ask_ns;
}

/* A chunk of the signed stream, down a stripe (tree) or a repair answer. */
static void offer_signed(sc_channel *c, unsigned index, const sc_msg_multicast *m,
                         bool tree, uint64_t now) {
  const size_t cb = c->cfg.stream.chunk_bytes;
  const bool shaped = m->data && m->len == cb + c->piece_bytes + AUTH_FLAG_BYTES;
  sc_chunk ch = chunk_of(c, index, m);
  ch.datalen = shaped ? cb : 0;
  const uint8_t *piece = shaped ? m->data + cb : NULL;
  uint64_t tag = (tree ? TAG_TREE : 0) | m->depth;
  sc_msg_multicast fw;
  if (shaped && m->data[cb + c->piece_bytes] == AUTH_VERIFIED) tag |= TAG_SENDER_OK;
  c->now = now;
  c->inner_verdict = -1;
  c->inner_gen = ch.gen;
  c->inner_index = index;
  int rv = sc_auth_verifier_offer(c->verifier, &ch, piece, tag);
  if (rv == SC_AUTH_HELD && c->inner_verdict >= 0) {
    /* Its manifest became known with it: judged (and played) inside. */
    if (tree && c->inner_verdict == SC_AUTH_GOOD && signed_msg(c, &ch, &fw))
      forward(c, &fw, tag, now);
    return;
  }
  switch (rv) {
  case SC_AUTH_GOOD:
    accept_chunk(c, &ch, tag, now);
    if (tree && signed_msg(c, &ch, &fw)) forward(c, &fw, tag, now);
    break;
  case SC_AUTH_HELD:
    /* The manifest is not known yet: on at once, marked unverified (the
     * verdict comes with the manifest). */
    note_staged(c, &ch, now);
    if (tree) {
      signed_msg_with(c, &ch, piece, 0, &fw);
      forward(c, &fw, tag, now);
    }
    break;
  case SC_AUTH_FORGED:
  case SC_AUTH_REPLAYED:
  case SC_ERR_INVALID:
    blame(c, index, tag, now);
    break;
  default: /* a duplicate, an earlier epoch: dropped */
    break;
  }
}

bool sc_channel_verifies(const sc_channel *c) {
  return c->verifier != NULL;
}

/* A newer generation arrived: any stripe silent for stall_ns while the
 * others moved on has a parent that may be gone; probe it (once a stall). */
static void check_stalls(sc_channel *c, uint64_t now) {
  for (unsigned i = 0; i < c->stripes; i++) {
    uint64_t last = c->last_chunk_ns[i];
    if (last == 0 || now - last < c->cfg.stall_ns) continue;
    unsigned g = sc_splitstream_group(c->host.forest, i);
    sc_ref parent;
    if (!sc_scribe_parent(c->host.scribe, g, &parent)) continue;
    if (c->probed_ns[i] < last) {
      /* A new stall: is the parent alive? */
      c->probed_ns[i] = now;
      c->st.parent_probes++;
      (void)sc_pastry_probe(c->host.pastry, &parent, c->cfg.probe_timeout_ns, now);
    } else if (now - c->probed_ns[i] >= 2 * c->cfg.stall_ns) {
      /* Still silent long after the probe (which would have declared a
       * dead parent dead by now): the parent lives but sends nothing (its
       * own upstream is cut, or it no longer counts us). Find another. */
      c->probed_ns[i] = now;
      c->st.parent_switches++;
      (void)sc_scribe_switch_parent(c->host.scribe, g, now);
    }
  }
}

void sc_channel_on_stripe(sc_channel *c, unsigned stripe, const sc_msg_multicast *m,
                          uint64_t now) {
  if (c->rx == NULL || stripe >= c->stripes) return;
  c->st.stripe_chunks++;
  c->last_chunk_ns[stripe] = now;
  if (c->first_stripe_gen == 0) c->first_stripe_gen = m->seq + 1ull;
  if (c->verifier)
    offer_signed(c, stripe, m, true, now);
  else
    (void)take_chunk(c, stripe, m, now);
  if (m->seq + 1ull > c->newest_gen) {
    c->newest_gen = m->seq + 1ull;
    if (c->cfg.stall_ns) check_stalls(c, now);
  }
}

/* Appends r to out[0..*n) unless its address is there already. */
static void add_candidate(sc_ref *out, unsigned *n, const sc_ref *r) {
  for (unsigned k = 0; k < *n; k++)
    if (out[k].addr == r->addr) return;
  out[(*n)++] = *r;
}

#define CANDIDATES_MAX (SC_STRIPES_MAX + SC_LEAFSET_MAX)

/* Peers to ask for chunks: parents in the stripes this peer is attached in,
 * then its leaf set (other receivers of the stream, close in id space and
 * unrelated to its trees). out holds CANDIDATES_MAX. */
static unsigned repair_candidates(const sc_channel *c, sc_ref *out) {
  unsigned n = 0;
  for (unsigned i = 0; i < c->stripes; i++) {
    sc_ref p;
    if (sc_scribe_parent(c->host.scribe, sc_splitstream_group(c->host.forest, i), &p))
      add_candidate(out, &n, &p);
  }
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned nl = sc_pastry_leafset(c->host.pastry, ls, SC_LEAFSET_MAX, NULL);
  if (nl > SC_LEAFSET_MAX) nl = SC_LEAFSET_MAX;
  for (unsigned i = 0; i < nl; i++)
    add_candidate(out, &n, &ls[i]);
  return n;
}

/* Asks peer `to` for the chunks of generation gen whose bits are in want. */
static void send_repair_req(sc_channel *c, sc_addr to, uint64_t gen, uint32_t want,
                            unsigned back) {
  sc_msg m;
  memset(&m, 0, sizeof(m));
  m.type = SC_MSG_REPAIR_REQ;
  m.sender = *sc_pastry_self(c->host.pastry);
  m.u.repair_req.channel = c->channel;
  m.u.repair_req.generation = (uint32_t)gen;
  m.u.repair_req.want = want;
  m.u.repair_req.back = (uint8_t)back;
  c->host.send(c->host.user, to, &m);
}

static void ask(sc_channel *c, const sc_stream_want *w, uint32_t asks) {
  sc_ref cand[CANDIDATES_MAX];
  unsigned nc = repair_candidates(c, cand);
  if (nc == 0) return;
  const sc_ref *to = &cand[c->ask_rr++ % nc];
  /* Ask for as many chunks as decoding needs, starting at a different
   * missing index on each retry so one peer's gap is not asked twice. */
  uint32_t want = 0, got = 0;
  for (unsigned k = 0; k < c->stripes && got < w->needed; k++) {
    unsigned i = (k + asks * 5u) % c->stripes;
    if (w->missing & (1u << i)) {
      want |= 1u << i;
      got++;
    }
  }
  if (want == 0) return;
  c->st.repair_asks++;
  c->st.repair_chunks_asked += got;
  send_repair_req(c, to->addr, w->gen, want, 0);
}

/*
 * A peer that was cut from a stripe's tree (its parent crashed, or it was
 * dropped) misses that stripe's chunks until it re-attaches, and Scribe's
 * multicast sends the new parent's *next* chunks only. The generations still
 * waiting are exactly what the new parent most likely holds (it is in the
 * tree), so each is asked of it at once, for every chunk it misses (the
 * parent holds its own stripe's chunk and often others, or has decoded the
 * generation), instead of waiting for the repair pulls' timer and their
 * rotation over other peers. 2,000 simulated peers, 25% crash: survivors'
 * continuity 0.9983 -> 0.9992 asking for the stripe's chunk alone, 0.9997
 * asking for all (bench/RESULTS.md). The answers are repair answers, which
 * a busy uplink sheds (the simulator's scavenger class), so the burst after
 * a crash cannot starve the tree. Not in the paper: SplitStream leaves
 * losses to the application (§4).
 */
void sc_channel_on_attach(sc_channel *c, unsigned stripe, uint64_t now) {
  if (c->rx == NULL || !c->cfg.repair || !c->cfg.catchup || stripe >= c->stripes) return;
  unsigned g = sc_splitstream_group(c->host.forest, stripe);
  sc_ref parent;
  if (!sc_scribe_parent(c->host.scribe, g, &parent)) return;
  if (c->cfg.backfill_gens && !sc_stream_receiver_playing(c->rx) &&
      !(c->backfill_asked & (1u << stripe))) {
    /* Each parent answers for its own stripe, which it surely receives:
     * one chunk a generation from each, the asks spread over the parents. */
    c->backfill_asked |= 1u << stripe;
    c->st.backfill_asks++;
    send_repair_req(c, parent.addr, 0, 1u << stripe, c->cfg.backfill_gens);
  }
  sc_stream_want w[SC_CHANNEL_REPAIR_SLOTS];
  size_t n = sc_stream_receiver_wants(c->rx, w, SC_CHANNEL_REPAIR_SLOTS, now);
  for (size_t k = 0; k < n; k++) {
    if (!(w[k].missing & (1u << stripe))) continue;
    c->st.catchup_asks++;
    send_repair_req(c, parent.addr, w[k].gen, w[k].missing, 0);
  }
}

/* Asks for the chunks the staged generations lack; returns when to look
 * again. One a verdict resolved, one playout passed and one asked for
 * repair_ask_max times are forgotten. */
static uint64_t staged_check(sc_channel *c, uint64_t now) {
  uint64_t next = NEVER;
  if (c->staged == NULL) return next;
  const unsigned d = c->cfg.stream.data_chunks;
  const uint64_t played =
      sc_stream_receiver_playing(c->rx) ? sc_stream_receiver_next_gen(c->rx) : 0;
  for (unsigned k = 0; k < SC_AUTH_STAGE_GENS; k++) {
    staged_ask *s = &c->staged[k];
    if (!s->used) continue;
    uint32_t present;
    if (!sc_auth_verifier_staged(c->verifier, s->epoch, s->gen, &present) ||
        s->gen < played || s->asks >= c->cfg.repair_ask_max) {
      s->used = false;
      continue;
    }
    if (s->next_ask_ns <= now) {
      unsigned held = (unsigned)__builtin_popcount(present);
      sc_stream_want w = {.gen = s->gen,
                          .missing =
                              ((c->stripes < 32 ? 1u << c->stripes : 0u) - 1u) & ~present,
                          .needed = held < d ? d - held : 1};
      ask(c, &w, s->asks);
      c->st.auth_staged_asks++;
      s->asks++;
      s->next_ask_ns = now + c->cfg.repair_retry_ns;
    }
    if (s->next_ask_ns < next) next = s->next_ask_ns;
  }
  return next;
}

static void repair_check(sc_channel *c, uint64_t now) {
  const uint64_t wait = repair_wait(c);
  sc_stream_want w[SC_CHANNEL_REPAIR_SLOTS];
  size_t n = sc_stream_receiver_wants(c->rx, w, SC_CHANNEL_REPAIR_SLOTS, now);
  uint64_t next = NEVER;
  uint64_t buffer = c->cfg.stream.buffer_ns;
  for (size_t k = 0; k < n; k++) {
    /* The generation's chunks were due at deadline - buffer (the first
     * chunk's delay, docs/stream.md); ask once they are repair_wait late. */
    uint64_t due = w[k].deadline_ns > buffer ? w[k].deadline_ns - buffer : 0;
    due += wait;
    repair_slot *s = &c->slots[w[k].gen % SC_CHANNEL_REPAIR_SLOTS];
    if (!s->used || s->gen != w[k].gen) {
      s->used = 1;
      s->gen = w[k].gen;
      s->asks = 0;
      s->next_ask_ns = due;
    }
    if (s->asks >= c->cfg.repair_ask_max) continue;
    if (s->next_ask_ns <= now) {
      ask(c, &w[k], s->asks);
      s->asks++;
      s->next_ask_ns = now + c->cfg.repair_retry_ns;
      if (s->asks >= c->cfg.repair_ask_max) continue;
    }
    if (s->next_ask_ns < next) next = s->next_ask_ns;
  }
  uint64_t staged_next = staged_check(c, now);
  c->repair_check_ns = staged_next < next ? staged_next : next;
}

/* Sends the chunks of generation gen in want that this peer holds to the
 * asker; returns how many. */
static unsigned serve_gen(sc_channel *c, const sc_msg *req, uint64_t gen, uint32_t want) {
  unsigned sent = 0;
  for (unsigned i = 0; i < c->stripes; i++) {
    if (!(want & (1u << i))) continue;
    sc_chunk ch;
    if (sc_stream_receiver_chunk(c->rx, gen, i, &ch) != SC_OK) continue;
    sc_msg m;
    memset(&m, 0, sizeof(m));
    m.type = SC_MSG_MULTICAST;
    m.sender = *sc_pastry_self(c->host.pastry);
    if (c->verifier) {
      /* Only with its piece: without it the asker could not verify it. */
      if (!signed_msg(c, &ch, &m.u.multicast)) {
        c->st.auth_unsigned_served++;
        continue;
      }
      m.u.multicast.repair = 1;
      c->host.send(c->host.user, req->sender.addr, &m);
      sent++;
      continue;
    }
    m.u.multicast.group = c->stripe_id[i];
    m.u.multicast.seq = (uint32_t)ch.gen;
    m.u.multicast.sent_ns = ch.src_ts_ns;
    m.u.multicast.gen_bytes = ch.gen_bytes;
    m.u.multicast.epoch = ch.epoch;
    m.u.multicast.repair = 1;
    m.u.multicast.len = (uint16_t)c->cfg.stream.chunk_bytes;
    m.u.multicast.data = ch.data;
    c->host.send(c->host.user, req->sender.addr, &m);
    sent++;
  }
  return sent;
}

/* Answers a peer's REPAIR_REQ with the chunks this peer holds: of one
 * generation, or of the newest q->back ones, oldest first (a backfill). */
static void serve(sc_channel *c, const sc_msg *req) {
  if (c->rx == NULL) return;
  const sc_msg_repair_req *q = &req->u.repair_req;
  unsigned sent = 0;
  if (q->back == 0) {
    sent = serve_gen(c, req, q->generation, q->want);
  } else {
    /* One small ask buys no more than an ordinary repair's answer can
     * (a generation's chunks): back x stripes asked <= stripes. */
    const uint32_t all = (c->stripes < 32 ? 1u << c->stripes : 0u) - 1u;
    unsigned asked = (unsigned)__builtin_popcount(q->want & all);
    if (asked == 0) return;
    uint64_t back = q->back;
    if (back * asked > c->stripes) back = c->stripes / asked;
    if (back > c->newest_gen) back = c->newest_gen;
    for (uint64_t g = c->newest_gen - back; g < c->newest_gen; g++)
      sent += serve_gen(c, req, g, q->want);
  }
  if (sent) {
    c->st.repair_reqs_served++;
    c->st.repair_chunks_sent += sent;
  } else {
    c->st.repair_reqs_unknown++;
  }
}

/* ------------------------------------------------------------- lifecycle */

/* The signed stream's signer (source) or verifier (receiver). */
static int auth_new(sc_channel *c, bool source) {
  const sc_stream_config *sc = &c->cfg.stream;
  const sc_alloc *a = c->alloc;
  c->piece_bytes = sc_auth_piece_bytes(sc->data_chunks, sc->parity_chunks);
  if (sc->symbolic || c->piece_bytes == 0 ||
      sc->chunk_bytes + c->piece_bytes + AUTH_FLAG_BYTES > SC_CHUNK_BYTES_MAX)
    return SC_ERR_INVALID;
  if (!source)
    return sc_auth_verifier_new(&c->verifier, c->cfg.auth_pk, &c->channel,
                                sc->data_chunks, sc->parity_chunks, sc->chunk_bytes,
                                sc->window_gens, on_verdict, c, a);
  c->sign_chunks = a->calloc(c->stripes, sizeof(sc_chunk), a->user);
  c->sign_data = a->calloc(c->stripes, sc->chunk_bytes, a->user);
  c->sign_pieces = a->calloc(c->stripes, c->piece_bytes, a->user);
  if (!c->sign_chunks || !c->sign_data || !c->sign_pieces) return SC_ERR_NOMEM;
  return sc_auth_signer_new(&c->signer, c->cfg.auth_sk, &c->channel, sc->data_chunks,
                            sc->parity_chunks, sc->chunk_bytes, a);
}

int sc_channel_new(sc_channel **out, const sc_channel_config *cfg, bool source,
                   const sc_id *channel, const sc_channel_host *host,
                   const sc_alloc *alloc) {
  if (out == NULL || cfg == NULL || channel == NULL || host == NULL ||
      host->pastry == NULL || host->scribe == NULL || host->forest == NULL ||
      host->send == NULL || host->deliver == NULL)
    return SC_ERR_INVALID;
  unsigned stripes = sc_splitstream_stripes(host->forest);
  if (cfg->stream.data_chunks + cfg->stream.parity_chunks != stripes ||
      cfg->stream.chunk_bytes > SC_CHUNK_BYTES_MAX || cfg->root_refresh_ns == 0)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_channel *c = alloc->calloc(1, sizeof(*c), alloc->user);
  if (c == NULL) return SC_ERR_NOMEM;
  c->cfg = *cfg;
  c->host = *host;
  c->alloc = alloc;
  c->source = source;
  c->stripes = stripes;
  c->channel = *channel;
  c->repair_check_ns = NEVER;
  for (unsigned i = 0; i < stripes; i++) {
    c->stripe_id[i] = sc_splitstream_stripe_id(channel, stripes, i);
    c->roots[i].ref.addr = SC_ADDR_NONE;
    c->roots[i].refresh_ns = NEVER;
  }
  int rv;
  if (cfg->auth) {
    rv = auth_new(c, source);
    if (rv != SC_OK) goto fail;
  }
  if (source) {
    c->pending = alloc->calloc((size_t)stripes * SC_CHANNEL_PENDING_MAX,
                               sizeof(pending_chunk), alloc->user);
    if (c->pending == NULL) {
      rv = SC_ERR_NOMEM;
      goto fail;
    }
    rv = sc_stream_source_new(&c->src, &cfg->stream, source_emit, c, alloc);
  } else {
    sc_stream_receiver_callbacks rcb = {
        .deliver = rx_deliver, .lost = rx_lost, .restarted = rx_restarted};
    rv = sc_stream_receiver_new(&c->rx, &cfg->stream, &rcb, c, alloc);
    if (rv == SC_OK && cfg->repair) {
      c->slots = alloc->calloc(SC_CHANNEL_REPAIR_SLOTS, sizeof(repair_slot), alloc->user);
      if (c->slots == NULL) rv = SC_ERR_NOMEM;
      if (rv == SC_OK && c->verifier) {
        c->staged = alloc->calloc(SC_AUTH_STAGE_GENS, sizeof(staged_ask), alloc->user);
        if (c->staged == NULL) rv = SC_ERR_NOMEM;
      }
    }
  }
  if (rv != SC_OK) goto fail;
  *out = c;
  return SC_OK;
fail:
  sc_channel_del(c);
  return rv;
}

void sc_channel_del(sc_channel *c) {
  if (c == NULL) return;
  const sc_alloc *a = c->alloc;
  sc_stream_source_del(c->src);
  sc_stream_receiver_del(c->rx);
  if (c->pending) a->free(c->pending, a->user);
  if (c->slots) a->free(c->slots, a->user);
  if (c->staged) a->free(c->staged, a->user);
  sc_auth_signer_del(c->signer);
  sc_auth_verifier_del(c->verifier);
  if (c->sign_chunks) a->free(c->sign_chunks, a->user);
  if (c->sign_data) a->free(c->sign_data, a->user);
  if (c->sign_pieces) a->free(c->sign_pieces, a->user);
  sodium_memzero(c->cfg.auth_sk, sizeof c->cfg.auth_sk);
  a->free(c, a->user);
}

int sc_channel_source_write(sc_channel *c, const uint8_t *data, size_t datalen,
                            uint64_t now) {
  if (c->src == NULL) return SC_ERR_INVALID;
  return sc_stream_source_write(c->src, data, datalen, now);
}

int sc_channel_source_flush(sc_channel *c, uint64_t now) {
  if (c->src == NULL) return SC_ERR_INVALID;
  sc_stream_source_flush(c->src, now);
  return SC_OK;
}

void sc_channel_set_join_time(sc_channel *c, uint64_t join_ns) {
  if (c->rx) sc_stream_receiver_set_join_time(c->rx, join_ns);
}

bool sc_channel_handles(const sc_msg *m) {
  return m->type == SC_MSG_REPAIR_REQ || m->type == SC_MSG_SCRIBE_ROOT ||
         (m->type == SC_MSG_MULTICAST && m->u.multicast.repair);
}

int sc_channel_recv(sc_channel *c, const sc_msg *m, uint64_t now) {
  switch (m->type) {
  case SC_MSG_SCRIBE_ROOT:
    on_root_answer(c, m, now);
    return SC_OK;
  case SC_MSG_REPAIR_REQ:
    if (sc_id_cmp(&m->u.repair_req.channel, &c->channel) != 0 ||
        m->u.repair_req.want == 0 || m->u.repair_req.want >> c->stripes != 0) {
      c->st.msgs_invalid++;
      return SC_ERR_INVALID;
    }
    serve(c, m);
    return SC_OK;
  case SC_MSG_MULTICAST: {
    int i = stripe_of_group(c, &m->u.multicast.group);
    if (i < 0) {
      c->st.msgs_invalid++;
      return SC_ERR_INVALID;
    }
    if (c->rx == NULL) return SC_OK;
    if (c->verifier) {
      offer_signed(c, (unsigned)i, &m->u.multicast, false, now);
      return SC_OK;
    }
    if (take_chunk(c, (unsigned)i, &m->u.multicast, now) == SC_STREAM_STORED)
      c->st.repair_chunks_got++;
    return SC_OK;
  }
  default:
    c->st.msgs_invalid++;
    return SC_ERR_INVALID;
  }
}

void sc_channel_prefetch(const sc_channel *c) {
  /* The hot fields and the configuration (the stripe is not known yet, so
   * all 16 last-chunk times), and the counter a chunk bumps. */
  const char *a = (const char *)c, *end = (const char *)(&c->cfg + 1);
  for (; a < end; a += 64)
    __builtin_prefetch(a);
  __builtin_prefetch(end - 1);
  __builtin_prefetch(&c->st.stripe_chunks);
}

void sc_channel_prefetch_rx(const sc_channel *c) {
  if (c->rx) sc_stream_receiver_prefetch(c->rx);
}

void sc_channel_prefetch_chunk(const sc_channel *c, const sc_msg *m, int stripe) {
  if (c->rx == NULL || m->type != SC_MSG_MULTICAST) return;
  sc_stream_receiver_prefetch_gen(c->rx, m->u.multicast.seq,
                                  stripe >= 0 ? (unsigned)stripe : SC_FEC_CHUNKS_MAX);
}

uint64_t sc_channel_get_expiry(const sc_channel *c) {
  uint64_t t = NEVER;
  if (c->rx) {
    t = sc_stream_receiver_get_expiry(c->rx);
    if (c->repair_check_ns < t) t = c->repair_check_ns;
  }
  if (c->source) {
    uint64_t u = source_expiry(c);
    if (u < t) t = u;
  }
  return t;
}

void sc_channel_handle_expiry(sc_channel *c, uint64_t now) {
  if (c->rx) {
    if (sc_stream_receiver_get_expiry(c->rx) <= now)
      sc_stream_receiver_handle_expiry(c->rx, now);
    if (c->repair_check_ns <= now) repair_check(c, now);
  }
  if (c->source)
    for (unsigned i = 0; i < c->stripes; i++) {
      check_acks(c, i, now);
      if (c->roots[i].refresh_ns <= now) locate_root(c, i, now);
    }
}

void sc_channel_get_stats(const sc_channel *c, sc_channel_stats *out) {
  *out = c->st;
  if (c->first_played_gen && c->first_played_gen < c->first_stripe_gen)
    out->backfilled_gens = c->first_stripe_gen - c->first_played_gen;
  if (c->verifier) sc_auth_verifier_get_stats(c->verifier, &out->auth);
  if (c->rx)
    sc_stream_receiver_get_stats(c->rx, &out->stream);
  else
    memset(&out->stream, 0, sizeof(out->stream));
}

size_t sc_channel_mem_bytes(const sc_channel *c) {
  size_t n = sizeof(*c);
  if (c->rx) n += sc_stream_receiver_mem_bytes(c->rx);
  if (c->pending)
    n += (size_t)c->stripes * SC_CHANNEL_PENDING_MAX * sizeof(pending_chunk);
  if (c->slots) n += SC_CHANNEL_REPAIR_SLOTS * sizeof(repair_slot);
  if (c->verifier) n += sc_auth_verifier_mem_bytes(c->verifier);
  if (c->signer) n += (size_t)c->stripes * (c->cfg.stream.chunk_bytes + c->piece_bytes);
  return n;
}
