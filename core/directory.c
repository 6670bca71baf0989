/* directory.c — the station directory (see directory.h, docs/directory.md). */
#include "directory.h"

#include <sodium.h>
#include <string.h>

#include "err.h"
#include "rng.h"
#include "rtable.h"

_Static_assert(SC_DIRECTORY_RECORD_MAX <= SC_ANNOUNCE_BYTES_MAX,
               "a station record fits one ANNOUNCE");
_Static_assert(SC_DIRECTORY_STATIONS_MAX <= UINT16_MAX, "a page start is a u16");

/* Removals are swept for this often, while the table holds stations. */
#define DIRECTORY_SWEEP_NS (60 * SC_DIRECTORY_S_NS)
/* The low bits of an own record's seq count its announcements; the high
 * bits are the start time, so a restarted broadcast outranks the last. */
#define DIRECTORY_SEQ_COUNTER_BITS 20

/* A station as kept: its record as it came (to pass on and answer with)
 * and what ranking reads without parsing it again. */
typedef struct dir_entry {
  sc_id id;
  uint64_t seq;
  uint64_t heard_ns;
  uint32_t listeners;
  bool on_air;
  uint16_t len;
  /* The record, allocated at its length (~200 bytes, not the 498 bound):
   * the simulator holds 10^5 directories. */
  uint8_t *rec;
} dir_entry;

/* This peer's own station, when it broadcasts one. */
typedef struct dir_own {
  bool active;
  bool dirty; /* info changed since the last announcement */
  uint8_t sk[SC_AUTH_SK_BYTES];
  sc_directory_info info;
  uint32_t counter;
  uint64_t first_ns; /* the first announcement */
  uint64_t last_ns;  /* the last announcement */
  uint64_t refresh_at_ns;
} dir_own;

struct sc_directory {
  sc_directory_config cfg;
  sc_directory_host host;
  const sc_alloc *alloc;
  dir_entry *e; /* n of cap used, cap <= cfg.stations_max */
  unsigned n, cap;
  dir_own own;
  bool fetched;       /* asked a neighbour once joined */
  sc_addr fetch_from; /* whose pages this peer follows */
  uint64_t fetch_at_ns;
  uint64_t sweep_at_ns;
  sc_directory_stats st;
};

void sc_directory_config_default(sc_directory_config *c) {
  c->verify = true;
  c->fetch_on_join = true;
  c->refresh_ns = SC_DIRECTORY_REFRESH_NS;
  c->announce_min_ns = SC_DIRECTORY_ANNOUNCE_MIN_NS;
  c->stale_ns = SC_DIRECTORY_STALE_NS;
  c->keep_ns = SC_DIRECTORY_KEEP_NS;
  c->stations_max = SC_DIRECTORY_STATIONS_MAX;
}

int sc_directory_new(sc_directory **out, const sc_directory_config *cfg,
                     const sc_directory_host *host, const sc_alloc *alloc, uint64_t now) {
  if (out == NULL || host == NULL || host->send == NULL) return SC_ERR_INVALID;
  sc_directory_config c;
  if (cfg)
    c = *cfg;
  else
    sc_directory_config_default(&c);
  if (c.stations_max == 0 || c.stations_max > SC_DIRECTORY_STATIONS_MAX ||
      c.refresh_ns == 0 || c.keep_ns == 0)
    return SC_ERR_INVALID;
  if (alloc == NULL) alloc = sc_alloc_default();
  sc_directory *d = alloc->calloc(1, sizeof *d, alloc->user);
  if (d == NULL) return SC_ERR_NOMEM;
  d->cfg = c;
  d->host = *host;
  d->alloc = alloc;
  d->fetched = !c.fetch_on_join || host->pastry == NULL;
  d->fetch_from = SC_ADDR_NONE;
  d->fetch_at_ns = now;
  d->sweep_at_ns = UINT64_MAX;
  *out = d;
  return SC_OK;
}

void sc_directory_del(sc_directory *d) {
  if (d == NULL) return;
  sodium_memzero(d->own.sk, sizeof d->own.sk);
  for (unsigned i = 0; i < d->n; i++)
    d->alloc->free(d->e[i].rec, d->alloc->user);
  d->alloc->free(d->e, d->alloc->user);
  d->alloc->free(d, d->alloc->user);
}

bool sc_directory_handles(const sc_msg *m) {
  return m->type == SC_MSG_ANNOUNCE || m->type == SC_MSG_DIRECTORY_REQ;
}

/* --- ranking --- */

/* How long ago e was heard; 0 for a time before it (a host that calls with
 * an earlier time gets no removals out of it). */
static uint64_t entry_age(const dir_entry *e, uint64_t now) {
  return now > e->heard_ns ? now - e->heard_ns : 0;
}

static bool entry_expired(const sc_directory *d, const dir_entry *e, uint64_t now) {
  return entry_age(e, now) >= d->cfg.keep_ns;
}

static bool entry_online(const sc_directory *d, const dir_entry *e, uint64_t now) {
  return e->on_air && e->listeners > 0 && entry_age(e, now) < d->cfg.stale_ns;
}

/* True when a ranks before b: online stations by listeners, then offline
 * ones last heard first (Streamer's list); ids break ties, so every peer
 * with the same records lists them in the same order. */
static bool ranks_before(const sc_directory *d, const dir_entry *a, const dir_entry *b,
                         uint64_t now) {
  bool oa = entry_online(d, a, now), ob = entry_online(d, b, now);
  if (oa != ob) return oa;
  if (oa && a->listeners != b->listeners) return a->listeners > b->listeners;
  if (!oa && a->heard_ns != b->heard_ns) return a->heard_ns > b->heard_ns;
  return sc_id_cmp(&a->id, &b->id) < 0;
}

static dir_entry *entry_find(sc_directory *d, const sc_id *id) {
  for (unsigned i = 0; i < d->n; i++)
    if (sc_id_eq(&d->e[i].id, id)) return &d->e[i];
  return NULL;
}

static void entry_remove(sc_directory *d, unsigned i) {
  d->alloc->free(d->e[i].rec, d->alloc->user);
  d->n--;
  if (i != d->n) d->e[i] = d->e[d->n];
}

/* A slot for a new station: a free one (growing the table up to its bound),
 * or the last-ranked station's when the newcomer ranks above it. NULL:
 * refused (counted), or no memory (*nomem). */
static dir_entry *entry_slot(sc_directory *d, const dir_entry *nc, uint64_t now,
                             bool *nomem) {
  if (d->n < d->cap) {
    d->e[d->n] = (dir_entry){.rec = NULL};
    return &d->e[d->n++];
  }
  if (d->cap < d->cfg.stations_max) {
    unsigned cap = d->cap ? d->cap * 2 : 8;
    if (cap > d->cfg.stations_max) cap = d->cfg.stations_max;
    dir_entry *e = d->alloc->realloc(d->e, (size_t)cap * sizeof *e, d->alloc->user);
    if (e == NULL) {
      *nomem = true;
      return NULL;
    }
    d->e = e;
    d->cap = cap;
    d->e[d->n] = (dir_entry){.rec = NULL};
    return &d->e[d->n++];
  }
  unsigned last = 0;
  for (unsigned i = 1; i < d->n; i++)
    if (ranks_before(d, &d->e[last], &d->e[i], now)) last = i;
  if (!ranks_before(d, nc, &d->e[last], now)) {
    d->st.refused++;
    return NULL;
  }
  d->st.evicted++;
  d->alloc->free(d->e[last].rec, d->alloc->user);
  d->e[last].rec = NULL;
  d->e[last].len = 0;
  return &d->e[last];
}

/* Lists a checked record. Returns 0, 1 (not newer: dropped), SC_ERR_FULL
 * or SC_ERR_NOMEM. */
static int table_put(sc_directory *d, const sc_directory_record *r, const uint8_t *rec,
                     size_t len, uint64_t now) {
  dir_entry nc = {.id = r->id,
                  .seq = r->seq,
                  .heard_ns = now,
                  .listeners = r->info.listeners,
                  .on_air = r->info.on_air,
                  .len = (uint16_t)len};
  dir_entry *e = entry_find(d, &r->id);
  if (e != NULL && e->seq >= r->seq) {
    d->st.old++;
    return 1;
  }
  if (e != NULL && r->info.on_air && now - e->heard_ns < SC_DIRECTORY_RECV_MIN_NS &&
      now >= e->heard_ns) {
    d->st.too_soon++;
    return 1;
  }
  bool added = e == NULL;
  if (added) {
    bool nomem = false;
    e = entry_slot(d, &nc, now, &nomem);
    if (e == NULL) return nomem ? SC_ERR_NOMEM : SC_ERR_FULL;
  }
  uint8_t *buf = e->rec;
  if (e->len != len) {
    buf = d->alloc->realloc(e->rec, len, d->alloc->user);
    if (buf == NULL) {
      if (added) entry_remove(d, (unsigned)(e - d->e));
      return SC_ERR_NOMEM;
    }
  }
  nc.rec = buf;
  *e = nc;
  memcpy(e->rec, rec, len);
  d->st.accepted++;
  if (d->sweep_at_ns == UINT64_MAX) d->sweep_at_ns = now + DIRECTORY_SWEEP_NS;
  return 0;
}

static void sweep(sc_directory *d, uint64_t now) {
  for (unsigned i = d->n; i-- > 0;)
    if (entry_expired(d, &d->e[i], now)) {
      entry_remove(d, i);
      d->st.expired++;
    }
  d->sweep_at_ns = d->n ? now + DIRECTORY_SWEEP_NS : UINT64_MAX;
}

/* --- dissemination --- */

static void send_announce(sc_directory *d, sc_addr to, const uint8_t *rec, size_t len,
                          uint8_t level, uint16_t next) {
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_ANNOUNCE;
  m.sender = d->host.self;
  m.u.announce.level = level;
  m.u.announce.next = next;
  m.u.announce.len = (uint16_t)len;
  m.u.announce.data = rec;
  d->host.send(d->host.user, to, &m);
  d->st.sent++;
}

/*
 * Passes a record on to this peer's share of the overlay below level
 * (El-Ansary et al. 2003, §3, for prefix routing): entry (r, c) of the
 * routing table stands for every peer sharing r digits with this one and
 * having digit c next, and gets the record with level r + 1, so that it
 * covers them in turn through its own rows from r + 1 on. The levels only
 * grow along a path, so the broadcast ends. A slot left empty while a
 * leaf-set member would fill it (routing tables are filled lazily) is
 * given to that member, so that its part of the ring is not skipped.
 */
static void spread(sc_directory *d, const uint8_t *rec, size_t len, unsigned level) {
  const sc_pastry *p = d->host.pastry;
  if (p == NULL) return;
  const sc_id *self = &d->host.self.id;
  uint16_t filled[SC_RT_ROWS_MAX] = {0}; /* columns served, a bit each */
  for (unsigned r = level; r < SC_RT_ROWS_MAX; r++) {
    filled[r] = (uint16_t)(1u << sc_id_digit(self, r));
    for (unsigned c = 0; c < SC_ID_BASE; c++) {
      sc_ref to;
      if (filled[r] >> c & 1 || !sc_pastry_rt_entry(p, r, c, &to, NULL)) continue;
      filled[r] |= (uint16_t)(1u << c);
      send_announce(d, to.addr, rec, len, (uint8_t)(r + 1), 0);
    }
  }
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned k = sc_pastry_leafset(p, ls, SC_LEAFSET_MAX, NULL);
  if (k > SC_LEAFSET_MAX) k = SC_LEAFSET_MAX;
  for (unsigned i = 0; i < k; i++) {
    unsigned r = sc_id_shl(self, &ls[i].id);
    if (r < level || r >= SC_RT_ROWS_MAX) continue;
    unsigned c = sc_id_digit(&ls[i].id, r);
    if (filled[r] >> c & 1) continue;
    filled[r] |= (uint16_t)(1u << c);
    send_announce(d, ls[i].addr, rec, len, (uint8_t)(r + 1), 0);
  }
}

/*
 * Starts the broadcast of this peer's own record at one leaf-set member,
 * which spreads it from level 0 as if it were its own: a broadcaster's
 * upload is the stream's scarcest resource, and one copy an announcement
 * costs it less than the copy to every routing-table entry that spreading
 * it itself would (about log16 N × 15). The member is taken in turn
 * (turn: the announcement's count), so one that drops it costs one
 * announcement, and the station announces again. Alone, it spreads what
 * it can itself.
 */
static void hand_over(sc_directory *d, const uint8_t *rec, size_t len, uint64_t turn) {
  const sc_pastry *p = d->host.pastry;
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned k = p ? sc_pastry_leafset(p, ls, SC_LEAFSET_MAX, NULL) : 0;
  if (k > SC_LEAFSET_MAX) k = SC_LEAFSET_MAX;
  if (k == 0) {
    spread(d, rec, len, 0);
    return;
  }
  send_announce(d, ls[turn % k].addr, rec, len, 0, 0);
}

static uint64_t refresh_delay(const sc_directory *d) {
  /* ±10 % so that stations started together do not refresh together;
   * derived from the station and the count, to stay reproducible. */
  uint64_t span = d->cfg.refresh_ns / 5;
  uint64_t h = sc_mix64(d->own.counter ^ ((uint64_t)d->own.sk[0] << 32 | d->own.sk[1]));
  return d->cfg.refresh_ns - span / 2 + (span ? h % span : 0);
}

static void own_announce(sc_directory *d, uint64_t now) {
  dir_own *o = &d->own;
  uint8_t rec[SC_DIRECTORY_RECORD_MAX];
  uint64_t seq = o->info.started_unix_s << DIRECTORY_SEQ_COUNTER_BITS |
                 (o->counter & ((1u << DIRECTORY_SEQ_COUNTER_BITS) - 1));
  o->counter++;
  int len = sc_directory_record_sign(&o->info, seq, o->sk, rec, sizeof rec);
  o->dirty = false;
  o->last_ns = now;
  o->refresh_at_ns = now + refresh_delay(d);
  if (len < 0) return; /* checked when the info was set */
  sc_directory_record r;
  if (sc_directory_record_parse(rec, (size_t)len, false, &r) == SC_OK)
    (void)table_put(d, &r, rec, (size_t)len, now);
  d->st.announced++;
  hand_over(d, rec, (size_t)len, o->counter);
}

static uint64_t own_due(const sc_directory *d) {
  const dir_own *o = &d->own;
  if (!o->active) return UINT64_MAX;
  if (!o->dirty) return o->refresh_at_ns;
  bool settling = o->last_ns - o->first_ns < SC_DIRECTORY_SETTLE_NS;
  uint64_t allowed =
      o->last_ns + (settling ? SC_DIRECTORY_SETTLE_MIN_NS : d->cfg.announce_min_ns);
  return allowed < o->refresh_at_ns ? allowed : o->refresh_at_ns;
}

static bool info_same(const sc_directory_info *a, const sc_directory_info *b) {
  return strcmp(a->name, b->name) == 0 && strcmp(a->mount, b->mount) == 0 &&
         strcmp(a->description, b->description) == 0 && strcmp(a->genre, b->genre) == 0 &&
         strcmp(a->codec, b->codec) == 0 && a->bitrate_kbps == b->bitrate_kbps &&
         a->started_unix_s == b->started_unix_s && a->on_air == b->on_air &&
         (a->listeners > 0) == (b->listeners > 0);
}

int sc_directory_announce(sc_directory *d, const uint8_t sk[SC_AUTH_SK_BYTES],
                          const sc_directory_info *info, uint64_t now) {
  if (d == NULL || sk == NULL || info == NULL) return SC_ERR_INVALID;
  uint8_t probe[SC_DIRECTORY_RECORD_MAX];
  int len = sc_directory_record_sign(info, 0, sk, probe, sizeof probe);
  if (len < 0) return len;
  dir_own *o = &d->own;
  bool first = !o->active || memcmp(o->sk, sk, SC_AUTH_SK_BYTES) != 0;
  bool changed = first || !info_same(&o->info, info);
  memcpy(o->sk, sk, SC_AUTH_SK_BYTES);
  o->info = *info;
  if (first) {
    o->active = true;
    o->counter = 0;
    o->first_ns = now;
    own_announce(d, now);
  } else if (changed) {
    o->dirty = true;
  }
  return SC_OK;
}

void sc_directory_set_listeners(sc_directory *d, uint32_t listeners, uint64_t now) {
  (void)now;
  dir_own *o = &d->own;
  if (!o->active) return;
  if ((o->info.listeners > 0) != (listeners > 0)) o->dirty = true;
  o->info.listeners = listeners;
}

void sc_directory_withdraw(sc_directory *d, uint64_t now) {
  dir_own *o = &d->own;
  if (!o->active) return;
  o->info.on_air = false;
  o->info.listeners = 0;
  own_announce(d, now);
  o->active = false;
}

/* --- asking and answering --- */

void sc_directory_fetch(sc_directory *d, sc_addr to, uint64_t now) {
  (void)now;
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_DIRECTORY_REQ;
  m.sender = d->host.self;
  m.u.directory_req.start = 0;
  d->fetch_from = to;
  d->fetched = true;
  d->host.send(d->host.user, to, &m);
  d->st.asks++;
}

static void answer(sc_directory *d, const sc_msg *req, uint64_t now) {
  unsigned start = req->u.directory_req.start;
  unsigned end = start + SC_DIRECTORY_PAGE;
  if (end > d->n) end = d->n;
  d->st.answered++;
  if (start >= end) {
    /* An empty answer says that this peer keeps a directory, with nothing
     * (more) in it: an asker need not wait out its timeout to know. */
    send_announce(d, req->sender.addr, NULL, 0, SC_ANNOUNCE_ANSWER, 0);
    return;
  }
  for (unsigned i = start; i < end; i++) {
    const dir_entry *e = &d->e[i];
    if (entry_expired(d, e, now)) continue;
    bool more = i + 1 == end && end < d->n;
    send_announce(d, req->sender.addr, e->rec, e->len, SC_ANNOUNCE_ANSWER,
                  more ? (uint16_t)end : 0);
  }
}

static int on_announce(sc_directory *d, const sc_msg *m, uint64_t now) {
  const sc_msg_announce *a = &m->u.announce;
  if (a->len == 0 && a->level == SC_ANNOUNCE_ANSWER) return SC_OK; /* nothing held */
  sc_directory_record r;
  if (a->len > SC_DIRECTORY_RECORD_MAX || a->data == NULL ||
      sc_directory_record_parse(a->data, a->len, d->cfg.verify, &r) != SC_OK) {
    d->st.forged++;
    return SC_ERR_INVALID;
  }
  int rv = table_put(d, &r, a->data, a->len, now);
  if (a->level == SC_ANNOUNCE_ANSWER) {
    /* Pages are followed only from the peer this one asked. */
    if (a->next != 0 && m->sender.addr == d->fetch_from) {
      sc_msg q;
      memset(&q, 0, sizeof q);
      q.type = SC_MSG_DIRECTORY_REQ;
      q.sender = d->host.self;
      q.u.directory_req.start = a->next;
      d->host.send(d->host.user, m->sender.addr, &q);
      d->st.asks++;
    }
  } else if (rv != 1) {
    /* New to this peer: its share of the broadcast. A copy it had already
     * stops here. */
    spread(d, a->data, a->len, a->level);
  }
  return rv < 0 ? rv : SC_OK;
}

int sc_directory_recv(sc_directory *d, const sc_msg *m, uint64_t now) {
  if (m->type == SC_MSG_ANNOUNCE) return on_announce(d, m, now);
  if (m->type == SC_MSG_DIRECTORY_REQ) {
    answer(d, m, now);
    return SC_OK;
  }
  return SC_ERR_INVALID;
}

/* --- time --- */

uint64_t sc_directory_get_expiry(const sc_directory *d) {
  uint64_t t = own_due(d);
  if (d->sweep_at_ns < t) t = d->sweep_at_ns;
  if (!d->fetched && d->fetch_at_ns < t) t = d->fetch_at_ns;
  return t;
}

/* Once joined, ask the nearest leaf-set member (it has heard what this
 * peer missed); nobody there yet: look again later. */
static void fetch_on_join(sc_directory *d, uint64_t now) {
  d->fetch_at_ns = now + SC_DIRECTORY_FETCH_RETRY_NS;
  if (!sc_pastry_is_joined(d->host.pastry)) return;
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned k = sc_pastry_leafset(d->host.pastry, ls, SC_LEAFSET_MAX, NULL);
  if (k == 0) return;
  sc_directory_fetch(d, ls[0].addr, now);
}

void sc_directory_handle_expiry(sc_directory *d, uint64_t now) {
  if (!d->fetched && d->fetch_at_ns <= now) fetch_on_join(d, now);
  if (d->sweep_at_ns <= now) sweep(d, now);
  if (own_due(d) <= now) own_announce(d, now);
}

/* --- listing --- */

unsigned sc_directory_list(const sc_directory *d, sc_directory_entry *out, unsigned max,
                           uint64_t now) {
  /* Insertion into a ranked prefix of out: max is a page for people, and
   * the table at most SC_DIRECTORY_STATIONS_MAX. */
  unsigned listed = 0, kept = 0;
  const dir_entry *order[SC_DIRECTORY_STATIONS_MAX];
  for (unsigned i = 0; i < d->n; i++) {
    const dir_entry *e = &d->e[i];
    if (entry_expired(d, e, now)) continue;
    listed++;
    unsigned j = kept;
    while (j > 0 && ranks_before(d, e, order[j - 1], now)) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = e;
    kept++;
  }
  for (unsigned i = 0; i < kept && i < max; i++) {
    const dir_entry *e = order[i];
    sc_directory_entry *o = &out[i];
    if (sc_directory_record_parse(e->rec, e->len, false, &o->rec) != SC_OK) continue;
    o->online = entry_online(d, e, now);
    o->heard_ns = e->heard_ns;
  }
  return listed;
}

void sc_directory_get_stats(const sc_directory *d, sc_directory_stats *out) {
  *out = d->st;
}

size_t sc_directory_mem_bytes(const sc_directory *d) {
  size_t bytes = sizeof *d + (size_t)d->cap * sizeof(dir_entry);
  for (unsigned i = 0; i < d->n; i++)
    bytes += d->e[i].len;
  return bytes;
}
