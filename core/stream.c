/*
 * stream.c — stream source and receiver, sans I/O (see stream.h and
 * docs/stream.md).
 *
 * The receiver keeps a ring of window_gens generation slots: generation g
 * lives in slot g % window_gens while tail <= g < tail + window_gens. Slots
 * below `next` (the next generation to play) are resolved, delivered or
 * lost, and kept only to serve repairs; slots from `next` up are waiting.
 * All memory, payload included, is taken at creation: a chunk costs a
 * memcpy, never a malloc.
 */
#include "stream.h"

#include <assert.h>
#include <string.h>

#include "err.h"

#define NEVER UINT64_MAX

void sc_stream_config_default(sc_stream_config *c) {
  memset(c, 0, sizeof(*c));
  c->data_chunks = 12;
  c->parity_chunks = 4;
  c->chunk_bytes = 1024;
  c->buffer_ns = 5000000000ull;
  c->window_gens = 128;
  c->symbolic = false;
  c->start_skips_partial = false;
  c->stamp_first_byte = false;
}

/* The coding parameters both sides need. */
static bool config_code_ok(const sc_stream_config *c) {
  return c->data_chunks >= 1 && c->data_chunks + c->parity_chunks <= SC_FEC_CHUNKS_MAX &&
         c->chunk_bytes >= 1 && c->chunk_bytes <= SC_FEC_CHUNK_BYTES_MAX;
}

static uint32_t mask_below(unsigned n) {
  return n >= 32 ? UINT32_MAX : (1u << n) - 1u;
}

static unsigned popcount32(uint32_t x) {
  unsigned n = 0;
  for (; x; x &= x - 1)
    n++;
  return n;
}

/* ------------------------------------------------------------ source */

struct sc_stream_source {
  sc_stream_config cfg;
  sc_stream_emit_fn emit;
  void *user;
  const sc_alloc *alloc;
  sc_fec *fec;       /* NULL in symbolic mode */
  uint8_t *buf;      /* (d+p) * chunk_bytes: data chunks, then parity; NULL if symbolic */
  size_t fill;       /* stream bytes pending in the current generation */
  uint64_t first_ns; /* when its first byte was written */
  uint64_t gen;      /* the next generation's number */
};

int sc_stream_source_new(sc_stream_source **out, const sc_stream_config *cfg,
                         sc_stream_emit_fn emit, void *user, const sc_alloc *alloc) {
  if (out == NULL || cfg == NULL || emit == NULL || !config_code_ok(cfg))
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_stream_source *s = alloc->calloc(1, sizeof(*s), alloc->user);
  if (s == NULL) return SC_ERR_NOMEM;
  s->cfg = *cfg;
  s->emit = emit;
  s->user = user;
  s->alloc = alloc;
  if (!cfg->symbolic) {
    int rc = sc_fec_new(&s->fec, cfg->data_chunks, cfg->parity_chunks, cfg->chunk_bytes,
                        alloc);
    if (rc != SC_OK) goto fail;
    s->buf = alloc->malloc(
        (size_t)(cfg->data_chunks + cfg->parity_chunks) * cfg->chunk_bytes, alloc->user);
    if (s->buf == NULL) goto fail;
  }
  *out = s;
  return SC_OK;
fail:
  sc_stream_source_del(s);
  return SC_ERR_NOMEM;
}

void sc_stream_source_del(sc_stream_source *s) {
  if (s == NULL) return;
  sc_fec_del(s->fec);
  s->alloc->free(s->buf, s->alloc->user);
  s->alloc->free(s, s->alloc->user);
}

/* Codes and emits the pending generation (fill > 0 bytes). */
static void source_cut(sc_stream_source *s, uint64_t now) {
  const unsigned d = s->cfg.data_chunks, n = d + s->cfg.parity_chunks;
  const size_t cb = s->cfg.chunk_bytes;
  assert(s->fill > 0 && s->fill <= d * cb);
  if (s->buf != NULL) {
    /* Zero padding: the receiver's decode must see the bytes parity was
     * computed from. */
    memset(s->buf + s->fill, 0, d * cb - s->fill);
    const uint8_t *data[SC_FEC_CHUNKS_MAX];
    uint8_t *parity[SC_FEC_CHUNKS_MAX];
    for (unsigned i = 0; i < d; i++)
      data[i] = s->buf + i * cb;
    for (unsigned i = d; i < n; i++)
      parity[i - d] = s->buf + i * cb;
    sc_fec_encode(s->fec, data, parity);
  }
  sc_chunk c = {.gen = s->gen,
                .src_ts_ns = s->cfg.stamp_first_byte ? s->first_ns : now,
                .gen_bytes = (uint32_t)s->fill,
                .epoch = s->cfg.epoch};
  for (unsigned i = 0; i < n; i++) {
    c.index = (uint8_t)i;
    c.data = s->buf != NULL ? s->buf + i * cb : NULL;
    c.datalen = s->buf != NULL ? cb : 0;
    s->emit(s->user, &c, now);
  }
  s->gen++;
  s->fill = 0;
}

int sc_stream_source_write(sc_stream_source *s, const uint8_t *data, size_t datalen,
                           uint64_t now) {
  if ((data == NULL) != s->cfg.symbolic && datalen > 0) return SC_ERR_INVALID;
  const size_t gen_bytes = (size_t)s->cfg.data_chunks * s->cfg.chunk_bytes;
  while (datalen > 0) {
    size_t take = gen_bytes - s->fill;
    if (take > datalen) take = datalen;
    if (s->fill == 0) s->first_ns = now;
    if (s->buf != NULL) {
      memcpy(s->buf + s->fill, data, take);
      data += take;
    }
    s->fill += take;
    datalen -= take;
    if (s->fill == gen_bytes) source_cut(s, now);
  }
  return SC_OK;
}

void sc_stream_source_flush(sc_stream_source *s, uint64_t now) {
  if (s->fill > 0) source_cut(s, now);
}

uint64_t sc_stream_source_next_gen(const sc_stream_source *s) {
  return s->gen;
}

/* ---------------------------------------------------------- receiver */

enum { SLOT_EMPTY = 0, SLOT_PENDING, SLOT_DECODED, SLOT_DELIVERED, SLOT_LOST };

typedef struct stream_slot {
  uint64_t gen;
  uint64_t src_ts_ns; /* deadline = src_ts_ns + offset_ns */
  uint32_t held;      /* chunk indices held */
  uint32_t gen_bytes;
  uint8_t state;
  uint8_t rebuilt; /* a data chunk was computed from parity */
} stream_slot;

struct sc_stream_receiver {
  sc_stream_config cfg;
  sc_stream_receiver_callbacks cb;
  void *user;
  const sc_alloc *alloc;
  sc_fec *fec;        /* NULL in symbolic mode */
  stream_slot *slots; /* window_gens */
  uint8_t *payload;   /* window_gens * (d+p) * chunk_bytes; NULL if symbolic */
  unsigned n;         /* d + p */
  bool started;       /* the playout clock is set */
  bool resolved_any;  /* a generation was delivered or lost since the start */
  uint64_t offset_ns; /* playout clock: deadline = src_ts + offset (mod 2^64) */
  uint64_t tail;      /* oldest generation in the ring */
  uint32_t tail_slot; /* tail % window_gens (set_tail), so slot_of divides not */
  uint64_t next;      /* next generation to deliver or lose */
  uint64_t top;       /* newest generation stored + 1 */
  uint64_t join_ns;
  uint32_t epoch; /* of the stream playing (valid once started) */
  /* Before the start: the first generation expected (sc_stream_receiver_expect). */
  bool expect_set;
  uint32_t expect_epoch;
  uint64_t expect_gen;
  sc_stream_stats stats;
};

int sc_stream_receiver_new(sc_stream_receiver **out, const sc_stream_config *cfg,
                           const sc_stream_receiver_callbacks *cb, void *user,
                           const sc_alloc *alloc) {
  if (out == NULL || cfg == NULL || cb == NULL || cb->deliver == NULL ||
      !config_code_ok(cfg) || cfg->buffer_ns == 0 || cfg->window_gens == 0 ||
      cfg->window_gens > SC_STREAM_WINDOW_MAX)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_stream_receiver *r = alloc->calloc(1, sizeof(*r), alloc->user);
  if (r == NULL) return SC_ERR_NOMEM;
  r->cfg = *cfg;
  r->cb = *cb;
  r->user = user;
  r->alloc = alloc;
  r->n = cfg->data_chunks + cfg->parity_chunks;
  r->slots = alloc->calloc(cfg->window_gens, sizeof(stream_slot), alloc->user);
  if (r->slots == NULL) goto fail;
  if (!cfg->symbolic) {
    if (sc_fec_new(&r->fec, cfg->data_chunks, cfg->parity_chunks, cfg->chunk_bytes,
                   alloc) != SC_OK)
      goto fail;
    r->payload =
        alloc->malloc((size_t)cfg->window_gens * r->n * cfg->chunk_bytes, alloc->user);
    if (r->payload == NULL) goto fail;
  }
  *out = r;
  return SC_OK;
fail:
  sc_stream_receiver_del(r);
  return SC_ERR_NOMEM;
}

void sc_stream_receiver_del(sc_stream_receiver *r) {
  if (r == NULL) return;
  sc_fec_del(r->fec);
  r->alloc->free(r->payload, r->alloc->user);
  r->alloc->free(r->slots, r->alloc->user);
  r->alloc->free(r, r->alloc->user);
}

void sc_stream_receiver_set_join_time(sc_stream_receiver *r, uint64_t join_ns) {
  r->join_ns = join_ns;
  r->stats.joined = true;
}

static stream_slot *slot_find(const sc_stream_receiver *r, uint64_t g);
static void set_tail(sc_stream_receiver *r, uint64_t tail);
static void resolve_next(sc_stream_receiver *r, uint64_t now);

void sc_stream_receiver_restart(sc_stream_receiver *r, uint64_t now) {
  /* The waiting generations are resolved, not forgotten: decoded ones are
   * played, the rest counted lost, so continuity stays honest. */
  if (r->started) {
    while (r->next < r->top)
      resolve_next(r, now);
  }
  memset(r->slots, 0, (size_t)r->cfg.window_gens * sizeof(stream_slot));
  /* An expectation of a newer epoch (the new source's first generation,
   * staged) carries over into the new start. */
  if (r->expect_set && (int32_t)(r->expect_epoch - r->epoch) <= 0) r->expect_set = false;
  r->started = false;
  r->resolved_any = false;
  r->next = r->top = 0;
  set_tail(r, 0);
  if (r->cb.restarted) r->cb.restarted(r->user, now);
}

/* Generation g's slot if the ring holds g, else NULL. */
/* Generation g's slot, g % window_gens, for tail <= g < tail + window_gens:
 * from tail's slot, without the 64-bit division (several per chunk). */
static inline uint32_t slot_of(const sc_stream_receiver *r, uint64_t g) {
  assert(g >= r->tail && g - r->tail < r->cfg.window_gens);
  uint64_t i = r->tail_slot + (g - r->tail);
  return (uint32_t)(i >= r->cfg.window_gens ? i - r->cfg.window_gens : i);
}

static void set_tail(sc_stream_receiver *r, uint64_t tail) {
  r->tail = tail;
  r->tail_slot = (uint32_t)(tail % r->cfg.window_gens);
}

static stream_slot *slot_find(const sc_stream_receiver *r, uint64_t g) {
  if (!r->started || g < r->tail || g - r->tail >= r->cfg.window_gens) return NULL;
  stream_slot *s = &r->slots[slot_of(r, g)];
  return s->state != SLOT_EMPTY && s->gen == g ? s : NULL;
}

static uint8_t *slot_payload(const sc_stream_receiver *r, const stream_slot *s) {
  if (r->payload == NULL) return NULL;
  return r->payload + (size_t)(s - r->slots) * r->n * r->cfg.chunk_bytes;
}

static uint64_t slot_deadline(const sc_stream_receiver *r, const stream_slot *s) {
  return s->src_ts_ns + r->offset_ns;
}

/* The first generation >= g (and < top) with a slot, or top if none. */
static uint64_t first_known(const sc_stream_receiver *r, uint64_t g) {
  for (; g < r->top; g++)
    if (slot_find(r, g) != NULL) return g;
  return r->top;
}

static void deliver(sc_stream_receiver *r, stream_slot *s, uint64_t now) {
  assert(s->state == SLOT_DECODED && s->gen == r->next);
  s->state = SLOT_DELIVERED;
  r->next++;
  r->resolved_any = true;
  sc_stream_stats *st = &r->stats;
  st->gens_delivered++;
  st->gens_decoded += s->rebuilt;
  st->bytes_delivered += s->gen_bytes;
  if (!st->playing) {
    st->playing = true;
    st->startup_ns = now - st->first_chunk_ns;
    if (st->joined) st->join_startup_ns = now >= r->join_ns ? now - r->join_ns : 0;
  }
  uint64_t lag = (int64_t)(now - s->src_ts_ns) > 0 ? now - s->src_ts_ns : 0;
  st->lag_sum_ns += lag;
  if (lag > st->lag_max_ns) st->lag_max_ns = lag;
  /* Data chunks sit back to back in the slot: the stream is one span. */
  r->cb.deliver(r->user, s->gen, slot_payload(r, s), s->gen_bytes, s->src_ts_ns, now);
}

static void lose(sc_stream_receiver *r, uint64_t g, uint64_t now) {
  stream_slot *s = slot_find(r, g);
  if (s != NULL) s->state = SLOT_LOST;
  assert(g == r->next);
  r->next++;
  r->resolved_any = true;
  r->stats.gens_lost++;
  if (r->cb.lost) r->cb.lost(r->user, g, now);
}

/* Resolves the next generation to play now: played if decoded, else lost. */
static void resolve_next(sc_stream_receiver *r, uint64_t now) {
  stream_slot *s = slot_find(r, r->next);
  if (s != NULL && s->state == SLOT_DECODED)
    deliver(r, s, now);
  else
    lose(r, r->next, now);
}

/* Delivers every decoded generation that is next in order. */
static void deliver_ready(sc_stream_receiver *r, uint64_t now) {
  stream_slot *s;
  while ((s = slot_find(r, r->next)) != NULL && s->state == SLOT_DECODED)
    deliver(r, s, now);
}

void sc_stream_receiver_handle_expiry(sc_stream_receiver *r, uint64_t now) {
  for (;;) {
    uint64_t h = first_known(r, r->next);
    if (h == r->top) return;
    stream_slot *s = slot_find(r, h);
    if (slot_deadline(r, s) > now) return;
    /* Source timestamps do not decrease with the generation number, so a
     * generation of which nothing arrived had its deadline by h's. */
    while (r->next < h)
      lose(r, r->next, now);
    resolve_next(r, now);
    deliver_ready(r, now);
  }
}

uint64_t sc_stream_receiver_get_expiry(const sc_stream_receiver *r) {
  uint64_t h = first_known(r, r->next);
  return h == r->top ? NEVER : slot_deadline(r, slot_find(r, h));
}

void sc_stream_receiver_prefetch(const sc_stream_receiver *r) {
  /* The configuration, the ring's bounds and clock, the first counters. */
  const char *a = (const char *)r, *end = (const char *)(&r->stats.chunks_dup + 1);
  for (; a < end; a += 64)
    __builtin_prefetch(a);
  __builtin_prefetch(end - 1);
}

void sc_stream_receiver_prefetch_gen(const sc_stream_receiver *r, uint64_t gen,
                                     unsigned index) {
  const uint32_t window = r->cfg.window_gens;
  if (index < SC_FEC_CHUNKS_MAX) __builtin_prefetch(&r->stats.chunks_by_index[index]);
  if (gen >= r->tail && gen - r->tail < window)
    __builtin_prefetch(&r->slots[slot_of(r, gen)]);
  if (r->next >= r->tail && r->next - r->tail < window)
    __builtin_prefetch(&r->slots[slot_of(r, r->next)]);
}

/* Rebuilds the data chunks of a slot holding d chunks. */
static void slot_decode(sc_stream_receiver *r, stream_slot *s) {
  const unsigned d = r->cfg.data_chunks;
  const uint32_t data_mask = mask_below(d);
  s->rebuilt = (s->held & data_mask) != data_mask;
  if (r->fec != NULL && s->rebuilt) {
    const size_t cb = r->cfg.chunk_bytes;
    uint8_t *base = slot_payload(r, s);
    const uint8_t *present[SC_FEC_CHUNKS_MAX];
    uint8_t *out[SC_FEC_CHUNKS_MAX];
    for (unsigned i = 0; i < r->n; i++) {
      present[i] = s->held & (1u << i) ? base + i * cb : NULL;
      if (i < d) out[i] = base + i * cb;
    }
    int rc = sc_fec_decode(r->fec, present, out);
    assert(rc == SC_OK);
    (void)rc;
  }
  /* Decoded data chunks are held: this peer can serve them to others. */
  s->held |= data_mask;
  s->state = SLOT_DECODED;
}

/* Nothing played yet and g decoded while the generations before it are not:
 * playout starts at g. A receiver that attaches to its stripes while a
 * generation is in flight gets only the chunks of it sent after it came, so
 * its first generation is often partial; waiting for it (repair, or its
 * deadline a whole buffer later) would keep a listener who pressed play in
 * silence while the next generations are already decodable. Nothing was
 * heard yet, so skipping costs the listener no gap. */
static void start_at(sc_stream_receiver *r, uint64_t g) {
  r->stats.gens_skipped += g - r->next;
  r->next = g;
  set_tail(r, g);
}

static bool chunk_valid(const sc_stream_receiver *r, const sc_chunk *c) {
  if (c->index >= r->n || c->gen > SC_STREAM_GEN_MAX) return false;
  if (c->gen_bytes == 0 || c->gen_bytes > r->cfg.data_chunks * r->cfg.chunk_bytes)
    return false;
  if (r->cfg.symbolic) return true; /* a payload, if any, is ignored */
  return c->data != NULL && c->datalen == r->cfg.chunk_bytes;
}

int sc_stream_receiver_recv(sc_stream_receiver *r, const sc_chunk *c, uint64_t now) {
  sc_stream_stats *st = &r->stats;
  if (!chunk_valid(r, c)) {
    st->chunks_invalid++;
    return SC_ERR_INVALID;
  }
  if (r->started && c->epoch != r->epoch) {
    /* A replaced source keeps sending for a while (or a second one sends at
     * once): only the latest epoch plays. A later one restarts playout at
     * once instead of waiting out the old numbering (RFC 1982 comparison).
     * Nothing here authenticates an epoch: signed chunks must. */
    if ((int32_t)(c->epoch - r->epoch) < 0) {
      st->chunks_stale++;
      return SC_STREAM_STALE;
    }
    st->epoch_changes++;
    sc_stream_receiver_restart(r, now);
  }
  const uint64_t g = c->gen;
  const uint32_t window = r->cfg.window_gens;
  stream_slot *s = slot_find(r, g);
  if (s != NULL && (s->src_ts_ns != c->src_ts_ns || s->gen_bytes != c->gen_bytes)) {
    st->chunks_invalid++;
    return SC_ERR_INVALID;
  }
  st->chunks_by_index[c->index]++;
  sc_stream_receiver_handle_expiry(r, now);

  if (!r->started) {
    /* The playout clock (docs/stream.md): the first chunk's one-way delay
     * plus the buffer, the same for every later generation. */
    r->started = true;
    r->epoch = c->epoch;
    r->offset_ns = now + r->cfg.buffer_ns - c->src_ts_ns;
    r->next = r->top = g;
    set_tail(r, g);
    if (r->expect_set && r->expect_epoch == c->epoch && r->expect_gen < g &&
        g - r->expect_gen < window) {
      r->next = r->expect_gen;
      set_tail(r, r->expect_gen);
    }
    r->expect_set = false;
    if (!st->started) {
      st->started = true;
      st->first_chunk_ns = now;
    }
  }
  if (g < r->tail && !r->resolved_any && r->top - g <= window) {
    /* Chunks of the first generations race each other down different
     * trees: until playout resolves its first generation, an earlier one
     * may still become the first (the window bounds how far back). */
    r->next = g;
    set_tail(r, g);
  }
  if (g < r->tail) {
    st->chunks_late++;
    return SC_STREAM_LATE;
  }
  uint64_t deadline = s != NULL ? slot_deadline(r, s) : c->src_ts_ns + r->offset_ns;
  if (now >= deadline || (s != NULL && s->state == SLOT_LOST)) {
    st->chunks_late++;
    return SC_STREAM_LATE;
  }
  if (g - r->tail >= window) {
    /* Make room by forgetting resolved generations. Waiting ones go only
     * for a chunk in sequence (at most SC_STREAM_AHEAD_SLACK past the
     * newest generation seen): then the stream itself outruns a window
     * smaller than rate x buffer, and the oldest waiting generations are
     * resolved early, played if decoded and lost if not, so the window
     * bounds the buffer instead of stalling playout. A forged far-future
     * generation still cannot push the buffer out. */
    if (g - window + 1 > r->next) {
      if (g >= r->top + SC_STREAM_AHEAD_SLACK) {
        st->chunks_ahead++;
        return SC_ERR_TOO_LARGE;
      }
      while (r->next < g - window + 1) {
        st->gens_early++;
        resolve_next(r, now);
        deliver_ready(r, now);
      }
    }
    set_tail(r, g - window + 1);
  }
  if (s == NULL) {
    s = &r->slots[slot_of(r, g)];
    *s = (stream_slot){.gen = g,
                       .src_ts_ns = c->src_ts_ns,
                       .gen_bytes = c->gen_bytes,
                       .state = SLOT_PENDING};
    if (g >= r->top) r->top = g + 1;
  }
  const uint32_t bit = 1u << c->index;
  if (s->held & bit) {
    st->chunks_dup++;
    return SC_STREAM_DUP;
  }
  if (r->payload != NULL)
    memcpy(slot_payload(r, s) + (size_t)c->index * r->cfg.chunk_bytes, c->data,
           r->cfg.chunk_bytes);
  s->held |= bit;
  st->chunks_stored++;
  if (s->state == SLOT_PENDING && popcount32(s->held) >= r->cfg.data_chunks) {
    slot_decode(r, s);
    /* Only a listener's first start skips: after a restart (a new source)
     * the listener is already listening, and the new source's first
     * generation is worth its repair. */
    if (r->cfg.start_skips_partial && !r->resolved_any && g > r->next &&
        st->gens_delivered == 0 && st->gens_lost == 0)
      start_at(r, g);
    deliver_ready(r, now);
  }
  return SC_STREAM_STORED;
}

size_t sc_stream_receiver_wants(const sc_stream_receiver *r, sc_stream_want *out,
                                size_t out_max, uint64_t now) {
  const unsigned d = r->cfg.data_chunks;
  size_t k = 0;
  uint64_t bound_gen = r->next; /* first known generation >= the current one */
  for (uint64_t g = r->next; g < r->top && k < out_max; g++) {
    const stream_slot *s = slot_find(r, g);
    sc_stream_want w = {.gen = g};
    if (s != NULL) {
      if (s->state != SLOT_PENDING) continue;
      w.deadline_ns = slot_deadline(r, s);
      w.missing = mask_below(r->n) & ~s->held;
      w.needed = d - popcount32(s->held);
    } else {
      if (bound_gen <= g) bound_gen = first_known(r, g + 1);
      assert(bound_gen < r->top); /* top - 1 is always known */
      w.deadline_ns = slot_deadline(r, slot_find(r, bound_gen));
      w.missing = mask_below(r->n);
      w.needed = d;
    }
    if (w.deadline_ns > now) out[k++] = w;
  }
  return k;
}

int sc_stream_receiver_chunk(const sc_stream_receiver *r, uint64_t gen, unsigned index,
                             sc_chunk *out) {
  const stream_slot *s = index < r->n ? slot_find(r, gen) : NULL;
  if (s == NULL || !(s->held & (1u << index))) return SC_ERR_NOT_FOUND;
  const uint8_t *base = slot_payload(r, s);
  *out =
      (sc_chunk){.gen = gen,
                 .src_ts_ns = s->src_ts_ns,
                 .gen_bytes = s->gen_bytes,
                 .epoch = r->epoch,
                 .index = (uint8_t)index,
                 .data = base != NULL ? base + (size_t)index * r->cfg.chunk_bytes : NULL,
                 .datalen = base != NULL ? r->cfg.chunk_bytes : 0};
  return SC_OK;
}

void sc_stream_receiver_expect(sc_stream_receiver *r, uint64_t gen, uint32_t epoch) {
  if (gen > SC_STREAM_GEN_MAX) return;
  if (!r->started || (int32_t)(epoch - r->epoch) > 0) {
    /* Before the start, or of a newer epoch (for the restart it brings). */
    if (!r->expect_set || (int32_t)(epoch - r->expect_epoch) > 0 ||
        (epoch == r->expect_epoch && gen < r->expect_gen)) {
      r->expect_set = true;
      r->expect_epoch = epoch;
      r->expect_gen = gen;
    }
    return;
  }
  /* As an earlier chunk racing the first ones would (recv). */
  if (!r->resolved_any && epoch == r->epoch && gen < r->tail &&
      r->top - gen <= r->cfg.window_gens) {
    r->next = gen;
    set_tail(r, gen);
  }
}

bool sc_stream_receiver_playing(const sc_stream_receiver *r) {
  return r->stats.playing;
}

uint64_t sc_stream_receiver_next_gen(const sc_stream_receiver *r) {
  return r->started ? r->next : 0;
}

void sc_stream_receiver_get_stats(const sc_stream_receiver *r, sc_stream_stats *out) {
  *out = r->stats;
}

size_t sc_stream_receiver_mem_bytes(const sc_stream_receiver *r) {
  size_t bytes = sizeof(*r) + (size_t)r->cfg.window_gens * sizeof(stream_slot);
  if (r->payload != NULL) {
    bytes += (size_t)r->cfg.window_gens * r->n * r->cfg.chunk_bytes;
    bytes += sc_fec_mem_bytes(r->fec);
  }
  return bytes;
}
