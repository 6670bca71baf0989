/* state.c — a stream's state asked of a peer that holds it (state.h). */
#include "state.h"

#include <string.h>

#include "err.h"

#define NEVER        UINT64_MAX
#define SECOND_NS    1000000000ull
#define ALL_FRAGS(n) ((n) >= 64 ? UINT64_MAX : ((uint64_t)1 << (n)) - 1)
/* Peers a fetch may ask: the parents of every stripe, then the leaf set. */
#define CANDIDATES_MAX (SC_STRIPES_MAX + SC_LEAFSET_MAX)

struct sc_state {
  sc_id channel;
  sc_state_host host;
  const sc_alloc *alloc;
  /* Asking. */
  bool fetching;
  uint32_t asks;      /* of this fetch */
  uint32_t nonce;     /* of the current ask */
  sc_addr asked;      /* whom */
  uint64_t next_ns;   /* the next ask, NEVER when none is due */
  uint32_t total;     /* the current answer's length; 0 until a fragment came */
  uint64_t have;      /* fragments of it received, one bit each */
  uint8_t *buf;       /* SC_STATE_BYTES_MAX while asking or answering */
  unsigned answer_rr; /* the next candidate */
  /* Answering: a token bucket of SC_STATE_ANSWERS_PER_S. */
  uint64_t tokens_ns; /* when the bucket was last filled */
  uint32_t tokens;
  sc_state_stats st;
};

int sc_state_new(sc_state **out, const sc_id *channel, const sc_state_host *host,
                 const sc_alloc *alloc) {
  if (!out || !channel || !host || !host->send || !host->pastry || !host->scribe ||
      !host->forest)
    return SC_ERR_INVALID;
  if (!alloc) alloc = sc_alloc_default();
  sc_state *s = alloc->calloc(1, sizeof *s, alloc->user);
  if (!s) return SC_ERR_NOMEM;
  s->channel = *channel;
  s->host = *host;
  s->alloc = alloc;
  s->next_ns = NEVER;
  s->tokens = SC_STATE_ANSWERS_PER_S;
  /* The nonce starts from the peer's id, so two peers' asks differ. */
  s->nonce = (uint32_t)sc_id_prefix64(&sc_pastry_self(host->pastry)->id);
  *out = s;
  return SC_OK;
}

void sc_state_del(sc_state *s) {
  if (!s) return;
  s->alloc->free(s->buf, s->alloc->user);
  s->alloc->free(s, s->alloc->user);
}

static bool ensure_buf(sc_state *s) {
  if (!s->buf) s->buf = s->alloc->malloc(SC_STATE_BYTES_MAX, s->alloc->user);
  return s->buf != NULL;
}

static void add_candidate(sc_ref *out, unsigned *n, const sc_ref *r) {
  for (unsigned k = 0; k < *n; k++)
    if (out[k].addr == r->addr) return;
  out[(*n)++] = *r;
}

static unsigned candidates(const sc_state *s, sc_ref *out) {
  unsigned n = 0, k = sc_splitstream_stripes(s->host.forest);
  for (unsigned i = 0; i < k && i < SC_STRIPES_MAX; i++) {
    sc_ref p;
    if (sc_scribe_parent(s->host.scribe, sc_splitstream_group(s->host.forest, i), &p))
      add_candidate(out, &n, &p);
  }
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned nl = sc_pastry_leafset(s->host.pastry, ls, SC_LEAFSET_MAX, NULL);
  if (nl > SC_LEAFSET_MAX) nl = SC_LEAFSET_MAX;
  for (unsigned i = 0; i < nl; i++)
    add_candidate(out, &n, &ls[i]);
  return n;
}

/* Asks the next candidate, or gives up after SC_STATE_ASKS_MAX asks. */
static void ask_next(sc_state *s, uint64_t now) {
  if (s->asks >= SC_STATE_ASKS_MAX) {
    s->fetching = false;
    s->next_ns = NEVER;
    s->st.gave_up++;
    return;
  }
  sc_ref cand[CANDIDATES_MAX];
  unsigned n = candidates(s, cand);
  s->next_ns = now + SC_STATE_ASK_WAIT_NS;
  if (n == 0) return; /* not in any tree yet: try again then */
  const sc_ref *to = &cand[s->answer_rr++ % n];
  s->asks++;
  s->nonce++;
  s->asked = to->addr;
  s->total = 0;
  s->have = 0;
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_STATE_REQ;
  m.sender = *sc_pastry_self(s->host.pastry);
  m.u.state_req.channel = s->channel;
  m.u.state_req.nonce = s->nonce;
  s->st.asks++;
  s->host.send(s->host.user, to->addr, &m);
}

int sc_state_fetch(sc_state *s, uint64_t now) {
  if (s->fetching) return SC_OK;
  if (!ensure_buf(s)) return SC_ERR_NOMEM;
  s->fetching = true;
  s->asks = 0;
  s->st.fetches++;
  ask_next(s, now);
  return SC_OK;
}

void sc_state_cancel(sc_state *s) {
  s->fetching = false;
  s->next_ns = NEVER;
  s->nonce++; /* an answer on its way is stale */
}

bool sc_state_fetching(const sc_state *s) {
  return s->fetching;
}

bool sc_state_handles(const sc_msg *m) {
  return m->type == SC_MSG_STATE_REQ || m->type == SC_MSG_STATE;
}

static void send_fragment(sc_state *s, sc_addr to, uint32_t nonce, uint32_t total,
                          uint32_t offset, uint16_t len) {
  sc_msg m;
  memset(&m, 0, sizeof m);
  m.type = SC_MSG_STATE;
  m.sender = *sc_pastry_self(s->host.pastry);
  m.u.state.channel = s->channel;
  m.u.state.nonce = nonce;
  m.u.state.total = total;
  m.u.state.offset = offset;
  m.u.state.len = len;
  m.u.state.data = len ? s->buf + offset : NULL;
  s->st.fragments_sent++;
  s->host.send(s->host.user, to, &m);
}

static bool take_token(sc_state *s, uint64_t now) {
  if (now >= s->tokens_ns + SECOND_NS) {
    s->tokens = SC_STATE_ANSWERS_PER_S;
    s->tokens_ns = now;
  }
  if (s->tokens == 0) return false;
  s->tokens--;
  return true;
}

/* Answers an ask with what the application holds. While this peer is
 * fetching, its buffer holds the answer being collected: it has no state to
 * give and says so. */
static void serve(sc_state *s, const sc_msg *m, uint64_t now) {
  if (!take_token(s, now)) {
    s->st.reqs_shed++;
    return;
  }
  s->st.reqs_served++;
  size_t len = 0;
  if (s->host.get && !s->fetching && ensure_buf(s)) {
    len = s->host.get(s->host.user, s->buf, SC_STATE_BYTES_MAX);
    if (len > SC_STATE_BYTES_MAX) len = 0;
  }
  if (len == 0) {
    send_fragment(s, m->sender.addr, m->u.state_req.nonce, 0, 0, 0);
    return;
  }
  for (size_t off = 0; off < len; off += SC_STATE_FRAGMENT_BYTES) {
    size_t n = len - off < SC_STATE_FRAGMENT_BYTES ? len - off : SC_STATE_FRAGMENT_BYTES;
    send_fragment(s, m->sender.addr, m->u.state_req.nonce, (uint32_t)len, (uint32_t)off,
                  (uint16_t)n);
  }
}

/* A fragment of an answer: checked against the current ask, kept, and the
 * whole handed on once every fragment came. */
static int take(sc_state *s, const sc_msg_state *f, sc_addr from, uint64_t now) {
  if (!s->fetching || f->nonce != s->nonce || from != s->asked) {
    s->st.fragments_stale++;
    return SC_OK;
  }
  if (f->total == 0) {
    if (f->offset != 0 || f->len != 0) goto invalid;
    s->st.empty_answers++;
    ask_next(s, now);
    return SC_OK;
  }
  if (f->total > SC_STATE_BYTES_MAX || f->offset % SC_STATE_FRAGMENT_BYTES != 0 ||
      f->offset >= f->total)
    goto invalid;
  uint32_t want = f->total - f->offset < SC_STATE_FRAGMENT_BYTES
                      ? f->total - f->offset
                      : SC_STATE_FRAGMENT_BYTES;
  if (f->len != want || !f->data) goto invalid;
  if (s->total != 0 && s->total != f->total) goto invalid; /* one ask, one answer */
  s->total = f->total;
  memcpy(s->buf + f->offset, f->data, f->len);
  s->have |= (uint64_t)1 << (f->offset / SC_STATE_FRAGMENT_BYTES);
  unsigned frags = (s->total + SC_STATE_FRAGMENT_BYTES - 1) / SC_STATE_FRAGMENT_BYTES;
  if (s->have != ALL_FRAGS(frags)) return SC_OK;
  s->nonce++; /* repeats of this answer are stale */
  uint32_t total = s->total;
  s->total = 0;
  s->have = 0;
  if (s->host.got && !s->host.got(s->host.user, s->buf, total, now)) {
    /* A forged answer costs the asker one ask, not the fetch. */
    s->st.answers_refused++;
    ask_next(s, now);
    return SC_OK;
  }
  s->fetching = false;
  s->next_ns = NEVER;
  s->st.answers++;
  return SC_OK;
invalid:
  s->st.msgs_invalid++;
  return SC_ERR_INVALID;
}

int sc_state_recv(sc_state *s, const sc_msg *m, uint64_t now) {
  const sc_id *ch =
      m->type == SC_MSG_STATE_REQ ? &m->u.state_req.channel : &m->u.state.channel;
  if (!sc_state_handles(m) || sc_id_cmp(ch, &s->channel) != 0) {
    s->st.msgs_invalid++;
    return SC_ERR_INVALID;
  }
  if (m->type == SC_MSG_STATE_REQ) {
    serve(s, m, now);
    return SC_OK;
  }
  return take(s, &m->u.state, m->sender.addr, now);
}

uint64_t sc_state_get_expiry(const sc_state *s) {
  return s->fetching ? s->next_ns : NEVER;
}

void sc_state_handle_expiry(sc_state *s, uint64_t now) {
  if (s->fetching && now >= s->next_ns) ask_next(s, now);
}

void sc_state_get_stats(const sc_state *s, sc_state_stats *out) {
  *out = s->st;
}

size_t sc_state_mem_bytes(const sc_state *s) {
  return sizeof *s + (s->buf ? SC_STATE_BYTES_MAX : 0);
}
