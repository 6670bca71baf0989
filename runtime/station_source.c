/*
 * station_source.c — a station's broadcasting side (station_source.h): the
 * framer's units become station records, the station's state (INFO,
 * HEADERS, TITLE) is written at a session's start and again for listeners
 * who join later, and partial generations are cut by arrival.
 *
 * Header units are not sent as media: they travel only as the HEADERS
 * record, written once the set is complete (the first non-header unit
 * follows it), so that a listener present from the start writes the headers
 * then the media, exactly the source's bytes, and a late listener gets the
 * same headers from a repeat.
 */
#include "station_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct rt_station_source {
  sc_node *node;       /* NULL: out goes to sink */
  sc_station_sink out; /* where generation bytes go */
  rt_station_source_config cfg;
  sc_station_writer w;
  size_t gen_bytes;
  uint64_t now; /* of the call in progress: the sink's clock */
  /* The generation being filled (mirrors core/stream's cutting). */
  size_t gen_fill;
  uint64_t gen_first_ns; /* its first byte */
  uint64_t last_feed_ns; /* bytes last arrived */
  uint64_t burst_gap_ns; /* the feed's recent longest pause (decaying) */
  bool media_since_cut;  /* a media record was written since the last flush */
  /* Session. */
  bool in_session;
  bool synced;        /* a unit a decoder can use came in this session */
  bool ending;        /* the framer gives up what it still holds */
  sc_media_kind kind; /* as begun; UNKNOWN: probe */
  sc_media_framer *framer;
  uint8_t probe[RT_STATION_PROBE_BYTES];
  size_t probelen;
  int64_t media_us;
  /* Station state. */
  char info[SC_STATION_INFO_MAX + 1];
  size_t infolen;
  char title[SC_STATION_TITLE_MAX + 1];
  uint8_t *headers; /* the last complete header set */
  size_t headerslen;
  uint8_t *hbuf; /* the set being collected */
  size_t hbuflen;
  bool collecting;
  bool hbuf_overflow;
  bool state_due;
  uint64_t next_state_ns;
  uint8_t *page; /* the station's page (a bundle); NULL: none */
  size_t pagelen;
  uint64_t next_page_ns; /* 0: with the next state written */
  bool ended;
  uint8_t *sign_buf; /* [SC_STATE_BYTES_MAX], a signed station's state */
  rt_station_source_stats stats;
};

/* ------------------------------------------------------------ sink */

static int sink_write(void *user, const uint8_t *data, size_t datalen) {
  rt_station_source *s = user;
  if (s->gen_fill == 0) s->gen_first_ns = s->now;
  s->gen_fill += datalen;
  if (s->gen_fill >= s->gen_bytes) s->gen_fill = 0; /* the stream cut it */
  int rc = s->node ? sc_node_source_write(s->node, data, datalen, s->now)
                   : s->out.write(s->out.user, data, datalen);
  if (rc != SC_OK) s->stats.write_errors++;
  return rc;
}

static int sink_flush(void *user) {
  rt_station_source *s = user;
  s->gen_fill = 0;
  s->media_since_cut = false;
  int rc = s->node ? sc_node_source_flush(s->node, s->now) : s->out.flush(s->out.user);
  if (rc != SC_OK) s->stats.write_errors++;
  return rc;
}

static int put(rt_station_source *s, sc_station_record_type type, const void *data,
               size_t len) {
  return sc_station_writer_put(&s->w, type, data, len);
}

/* ------------------------------------------------------------ state */

/* The page, after the state it goes with. A reader older than PAGE drops
 * the rest of the generation the record starts in: a page that ends inside
 * that generation is followed by a cut, so that such a reader loses the
 * page alone (a page longer than what is left of the generation needs
 * none: the next generation's offset points past it). */
static void write_page(rt_station_source *s) {
  size_t fill = s->gen_fill ? s->gen_fill : SC_STATION_PREFIX_BYTES;
  size_t lenbytes = s->pagelen < 128 ? 1 : s->pagelen < 16384 ? 2 : 3; /* LEB128 */
  size_t total = 1 + lenbytes + s->pagelen;
  put(s, SC_STATION_PAGE, s->page, s->pagelen);
  if (fill + total < s->gen_bytes) sc_station_writer_flush(&s->w);
  s->stats.pages++;
  s->stats.page_bytes += s->pagelen;
  s->next_page_ns = s->now + RT_STATION_PAGE_EVERY_NS;
}

/* The state as a peer gives it (sc_station_state_encode_signable: the page
 * too when it fits beside the signature) into sign_buf and its signature;
 * false when unsigned or empty. */
static bool state_signed(const rt_station_source *s, size_t *len,
                         uint8_t sig[SC_STATION_SIG_BYTES]) {
  if (s->cfg.sign_sk == NULL || s->sign_buf == NULL || s->infolen == 0) return false;
  int n = sc_station_state_encode_signable(s->sign_buf, SC_STATE_BYTES_MAX, s->info,
                                           s->headers, s->headerslen, s->title, s->page,
                                           s->pagelen);
  if (n <= 0) return false;
  *len = (size_t)n;
  sc_station_state_sign(s->cfg.sign_sk, &s->cfg.channel, s->sign_buf, *len, sig);
  return true;
}

/* The state just written, signed: what a listener checks a fetched state
 * against (SC_STATION_STATE_SIG). */
static void write_state_sig(rt_station_source *s) {
  size_t len;
  uint8_t sig[SC_STATION_SIG_BYTES];
  if (state_signed(s, &len, sig)) put(s, SC_STATION_STATE_SIG, sig, sizeof sig);
}

static void write_state(rt_station_source *s) {
  if (s->infolen) put(s, SC_STATION_INFO, s->info, s->infolen);
  if (s->headerslen) put(s, SC_STATION_HEADERS, s->headers, s->headerslen);
  if (s->title[0]) put(s, SC_STATION_TITLE, s->title, strlen(s->title));
  if (s->page && s->infolen && s->now >= s->next_page_ns) write_page(s);
  write_state_sig(s);
  s->state_due = false;
  if (s->cfg.state_every_ns) s->next_state_ns = s->now + s->cfg.state_every_ns;
}

/* The header set collected is complete: it replaces the station's. */
static void headers_done(rt_station_source *s) {
  s->collecting = false;
  if (s->hbuf_overflow) {
    /* Late listeners then start without headers (as media.h's bound). */
    s->hbuf_overflow = false;
    s->hbuflen = 0;
    return;
  }
  uint8_t *h = realloc(s->headers, s->hbuflen ? s->hbuflen : 1);
  if (!h) return;
  memcpy(h, s->hbuf, s->hbuflen);
  s->headers = h;
  s->headerslen = s->hbuflen;
  s->hbuflen = 0;
  s->stats.header_sets++;
  put(s, SC_STATION_HEADERS, s->headers, s->headerslen);
  /* An Ogg stream names what plays in its comment header (ARTIST - TITLE):
   * the station's title unless a source's own title call says otherwise
   * later. */
  char np[SC_MEDIA_NOW_PLAYING_MAX];
  if (s->kind == SC_MEDIA_OGG &&
      sc_media_now_playing(s->headers, s->headerslen, np, sizeof np) > 0 &&
      strcmp(np, s->title) != 0) {
    snprintf(s->title, sizeof s->title, "%s", np);
    s->stats.titles++;
    put(s, SC_STATION_TITLE, s->title, strlen(s->title));
  }
  write_state_sig(s);
}

static void on_unit(void *user, const sc_media_unit *u) {
  rt_station_source *s = user;
  if (u->flags & SC_MEDIA_UNIT_HEADER) {
    s->synced = true;
    if (!s->collecting || (u->flags & SC_MEDIA_UNIT_NEW_HEADERS)) {
      s->collecting = true;
      s->hbuflen = 0;
      s->hbuf_overflow = false;
    }
    if (s->hbuflen + u->datalen > SC_STATION_HEADERS_MAX) {
      s->hbuf_overflow = true;
      return;
    }
    memcpy(s->hbuf + s->hbuflen, u->data, u->datalen);
    s->hbuflen += u->datalen;
    return;
  }
  if (s->collecting) headers_done(s);
  /* Opaque bytes have no structure: any unit is a place to start. */
  bool sync = (u->flags & SC_MEDIA_UNIT_SYNC) || s->kind == SC_MEDIA_UNKNOWN;
  if ((u->flags & SC_MEDIA_UNIT_GARBAGE) && s->ending && s->kind != SC_MEDIA_UNKNOWN) {
    /* The source left in the middle of a page or frame: no decoder can use
     * its start, and a listener's decoder would report it as an error. It
     * is counted, not relayed. */
    s->stats.tail_dropped_bytes += u->datalen;
    return;
  }
  if ((u->flags & SC_MEDIA_UNIT_GARBAGE) && !s->synced && s->kind != SC_MEDIA_UNKNOWN) {
    /* A session that begins mid-page or mid-frame (a relay's server that
     * starts its burst anywhere, an encoder restarted mid-write): the
     * listeners' output of this session starts at its first sync point, so
     * these bytes are counted, not relayed. */
    s->stats.lead_dropped_bytes += u->datalen;
    return;
  }
  s->synced = true;
  if (u->flags & SC_MEDIA_UNIT_GARBAGE) {
    s->stats.garbage_bytes += u->datalen;
    sync = s->kind == SC_MEDIA_UNKNOWN;
  }
  /* A state repeat goes right before a sync unit, where a late listener
   * that just read it can start. */
  if (sync && s->state_due) {
    write_state(s);
    s->stats.state_repeats++;
  }
  put(s, sync ? SC_STATION_MEDIA_SYNC : SC_STATION_MEDIA, u->data, u->datalen);
  s->media_since_cut = true;
  s->stats.units++;
  if (sync) s->stats.sync_units++;
  if (u->end_us >= 0 && u->end_us > s->media_us) s->media_us = u->end_us;
}

/* ------------------------------------------------------------ API */

static int station_new(rt_station_source **out, sc_node *node,
                       const sc_station_sink *sink, const rt_station_source_config *cfg) {
  rt_station_source *s = calloc(1, sizeof *s);
  if (!s) return SC_ERR_NOMEM;
  s->hbuf = malloc(SC_STATION_HEADERS_MAX);
  if (cfg->sign_sk) s->sign_buf = malloc(SC_STATE_BYTES_MAX);
  if (!s->hbuf || (cfg->sign_sk && !s->sign_buf)) {
    free(s->hbuf);
    free(s->sign_buf);
    free(s);
    return SC_ERR_NOMEM;
  }
  s->node = node;
  if (sink) s->out = *sink;
  s->cfg = *cfg;
  s->media_us = -1;
  s->gen_bytes = cfg->gen_bytes;
  if (s->gen_bytes == 0) {
    sc_stream_config sc;
    sc_stream_config_default(&sc);
    s->gen_bytes = (size_t)sc.data_chunks * sc.chunk_bytes;
  }
  sc_station_sink mine = {sink_write, sink_flush, s};
  int rc = sc_station_writer_init(&s->w, s->gen_bytes, &mine);
  if (rc != SC_OK) {
    free(s->hbuf);
    free(s->sign_buf);
    free(s);
    return rc;
  }
  *out = s;
  return SC_OK;
}

int rt_station_source_new(rt_station_source **out, sc_node *node,
                          const rt_station_source_config *cfg) {
  if (!out || !node || !cfg) return SC_ERR_INVALID;
  return station_new(out, node, NULL, cfg);
}

int rt_station_source_new_sink(rt_station_source **out, const sc_station_sink *sink,
                               const rt_station_source_config *cfg) {
  if (!out || !sink || !sink->write || !sink->flush || !cfg) return SC_ERR_INVALID;
  return station_new(out, NULL, sink, cfg);
}

void rt_station_source_del(rt_station_source *s) {
  if (!s) return;
  sc_media_framer_del(s->framer);
  free(s->headers);
  free(s->hbuf);
  free(s->sign_buf);
  free(s->page);
  free(s);
}

int rt_station_source_page(rt_station_source *s, const uint8_t *page, size_t len) {
  if (!s || sc_station_page_check(page, len, NULL) != SC_OK) return SC_ERR_INVALID;
  uint8_t *p = malloc(len);
  if (!p) return SC_ERR_NOMEM;
  memcpy(p, page, len);
  free(s->page);
  s->page = p;
  s->pagelen = len;
  s->next_page_ns = 0;
  return SC_OK;
}

/* The session's kind is known: its framer, and INFO saying the container. */
static int session_start(rt_station_source *s, sc_media_kind kind) {
  s->kind = kind;
  int rc = sc_media_framer_new(&s->framer, kind, NULL);
  if (rc != SC_OK) return rc;
  const char *name = sc_media_kind_name(kind);
  size_t n = strlen(s->info);
  /* Listeners read the container from INFO: whether to wait for headers. */
  int k = snprintf(s->info + n, sizeof s->info - n, "container=%s\n", name);
  if (k > 0 && (size_t)k < sizeof s->info - n) n += (size_t)k;
  if (s->cfg.epoch) {
    k = snprintf(s->info + n, sizeof s->info - n, "epoch=%u\n", s->cfg.epoch);
    if (k > 0 && (size_t)k < sizeof s->info - n) n += (size_t)k;
  }
  /* A new session number tells a listener that the next HEADERS record
   * starts a new link (write it even if it repeats the last bytes). */
  k = snprintf(s->info + n, sizeof s->info - n, "session=%llu\n",
               (unsigned long long)s->stats.sessions);
  if (k > 0 && (size_t)k < sizeof s->info - n) n += (size_t)k;
  /* A listener whose stream brought INFO but not yet the page asks a peer
   * for it (runtime/output.c). */
  if (s->page) snprintf(s->info + n, sizeof s->info - n, "page=%zu\n", s->pagelen);
  s->infolen = strlen(s->info);
  s->next_page_ns = 0; /* every session starts with the page */
  write_state(s);
  return SC_OK;
}

/* The container of a session's first bytes, and where its first unit
 * starts: a session may begin with bytes that are not a page or a frame (a
 * relayed server's burst begins anywhere), and the framer's own probe looks
 * at the first byte only. Unknown (opaque bytes, relayed from the start)
 * unless a container starts within the probe's first half, so that what is
 * found has bytes after it to confirm it. */
static sc_media_kind probe_from(const uint8_t *p, size_t n, size_t *at) {
  *at = 0;
  sc_media_kind k = sc_media_probe(p, n);
  if (k != SC_MEDIA_UNKNOWN || n < RT_STATION_PROBE_BYTES) return k;
  for (size_t i = 1; i < n / 2; i++) {
    if (p[i] != 'O' && p[i] != 0xff) continue; /* Ogg's capture pattern, a sync word */
    k = sc_media_probe(p + i, n - i);
    if (k == SC_MEDIA_OGG || k == SC_MEDIA_MP3 || k == SC_MEDIA_AAC) {
      *at = i;
      return k;
    }
  }
  return SC_MEDIA_UNKNOWN;
}

static int session_feed(rt_station_source *s, const uint8_t *data, size_t len) {
  return sc_media_framer_feed(s->framer, data, len, on_unit, s);
}

int rt_station_source_begin(rt_station_source *s, sc_media_kind kind, const char *info,
                            uint64_t now) {
  if (!s || (info && strlen(info) > SC_STATION_INFO_MAX - RT_STATION_INFO_OWN))
    return SC_ERR_INVALID;
  if (s->in_session) rt_station_source_end(s, false, now);
  s->now = now;
  s->in_session = true;
  s->synced = false;
  s->ended = false;
  s->stats.sessions++;
  s->media_us = -1;
  s->probelen = 0;
  s->collecting = false;
  s->hbuflen = 0;
  size_t n = info ? strlen(info) : 0;
  memcpy(s->info, info ? info : "", n);
  if (n && s->info[n - 1] != '\n') s->info[n++] = '\n';
  s->info[n] = '\0';
  s->infolen = 0;
  /* The last session's headers are not this one's. */
  s->headerslen = 0;
  s->kind = kind;
  if (kind != SC_MEDIA_UNKNOWN) return session_start(s, kind);
  return SC_OK;
}

int rt_station_source_feed(rt_station_source *s, const uint8_t *data, size_t datalen,
                           uint64_t now) {
  if (!s->in_session) return SC_ERR_INVALID;
  s->now = now;
  /* A feed that comes in bursts (an encoder's Ogg pages, a file read
   * ahead page by page) pauses between them by design: remember the
   * pause so that it is not taken for the end of the bytes. */
  uint64_t gap = s->last_feed_ns && now > s->last_feed_ns ? now - s->last_feed_ns : 0;
  if (gap > 0) s->burst_gap_ns -= s->burst_gap_ns / 32; /* forgets in ~32 pauses */
  if (gap > s->burst_gap_ns) s->burst_gap_ns = gap;
  s->last_feed_ns = now;
  s->stats.bytes_in += datalen;
  if (s->framer) return session_feed(s, data, datalen);
  /* Probing: the first bytes say the container. */
  size_t take = sizeof s->probe - s->probelen;
  if (take > datalen) take = datalen;
  memcpy(s->probe + s->probelen, data, take);
  s->probelen += take;
  size_t at = 0;
  sc_media_kind k = probe_from(s->probe, s->probelen, &at);
  if (k == SC_MEDIA_UNKNOWN && s->probelen < sizeof s->probe) return SC_OK;
  int rc = session_start(s, k);
  if (rc == SC_OK && at > 0) s->stats.lead_dropped_bytes += at;
  if (rc == SC_OK) rc = session_feed(s, s->probe + at, s->probelen - at);
  if (rc == SC_OK && datalen > take) rc = session_feed(s, data + take, datalen - take);
  s->probelen = 0;
  return rc;
}

int rt_station_source_title(rt_station_source *s, const char *title, uint64_t now) {
  if (!s || !title) return SC_ERR_INVALID;
  s->now = now;
  snprintf(s->title, sizeof s->title, "%s", title);
  s->stats.titles++;
  int rc = put(s, SC_STATION_TITLE, s->title, strlen(s->title));
  if (rc == SC_OK) write_state_sig(s);
  return rc;
}

int rt_station_source_listeners(rt_station_source *s, uint32_t listeners, uint32_t peak,
                                uint64_t now) {
  if (!s) return SC_ERR_INVALID;
  s->now = now;
  uint8_t rec[SC_STATION_LISTENERS_BYTES];
  sc_station_listeners_encode(listeners, peak, rec);
  return put(s, SC_STATION_LISTENERS, rec, sizeof rec);
}

void rt_station_source_end(rt_station_source *s, bool station_over, uint64_t now) {
  s->now = now;
  if (s->in_session) {
    if (!s->framer && s->probelen > 0) {
      /* Ended while probing: what came is all there is. */
      if (session_start(s, sc_media_probe(s->probe, s->probelen)) == SC_OK)
        session_feed(s, s->probe, s->probelen);
      s->probelen = 0;
    }
    if (s->framer) {
      s->ending = true;
      sc_media_framer_flush(s->framer, on_unit, s);
      s->ending = false;
      sc_media_framer_del(s->framer);
      s->framer = NULL;
    }
    if (s->collecting) headers_done(s);
    s->in_session = false;
  }
  if (station_over && !s->ended) {
    put(s, SC_STATION_END, NULL, 0);
    s->ended = true;
    s->state_due = false;
  }
  /* What the session sent reaches listeners now, not after flush_ns. */
  sc_station_writer_flush(&s->w);
}

/* A partial generation is cut once bytes stopped arriving for flush_ns (or
 * for 1.5 times the feed's usual pause between bursts, if longer), or once
 * its first byte waited RT_STATION_WAIT_MAX_FLUSHES times flush_ns: while
 * bytes keep flowing, generations fill and carry no padding. During a
 * session, state alone (INFO, HEADERS, TITLE before the first media unit)
 * is not cut: a listener can play nothing from it, and a generation cut
 * costs all its chunks whatever it holds (an Ogg encoder's first audio page
 * comes a second after its headers: one padded generation per session). */
static uint64_t flush_at(const rt_station_source *s) {
  if (s->gen_fill == 0 || s->cfg.flush_ns == 0) return UINT64_MAX;
  if (s->in_session && !s->media_since_cut) return UINT64_MAX;
  uint64_t pause = s->burst_gap_ns + s->burst_gap_ns / 2;
  uint64_t idle = s->last_feed_ns + (pause > s->cfg.flush_ns ? pause : s->cfg.flush_ns);
  uint64_t wait = s->gen_first_ns + RT_STATION_WAIT_MAX_FLUSHES * s->cfg.flush_ns;
  uint64_t t = idle < wait ? idle : wait;
  return t > s->gen_first_ns + s->cfg.flush_ns ? t : s->gen_first_ns + s->cfg.flush_ns;
}

uint64_t rt_station_source_get_expiry(const rt_station_source *s) {
  uint64_t t = flush_at(s);
  if (!s->ended && !s->state_due && s->cfg.state_every_ns && s->next_state_ns &&
      s->next_state_ns < t)
    t = s->next_state_ns;
  return t;
}

void rt_station_source_handle_expiry(rt_station_source *s, uint64_t now) {
  s->now = now;
  if (!s->ended && s->cfg.state_every_ns && s->next_state_ns && now >= s->next_state_ns &&
      !s->state_due) {
    s->state_due = true;
    /* Nothing flowing (no unit to put it before): write it now. */
    if (!s->in_session || now - s->last_feed_ns >= s->cfg.state_every_ns) {
      write_state(s);
      s->stats.state_repeats++;
    }
  }
  if (now >= flush_at(s)) {
    sc_station_writer_flush(&s->w);
    s->stats.flushes++;
  }
}

size_t rt_station_source_state(const rt_station_source *s, uint8_t *buf, size_t cap) {
  if (s->infolen == 0 || s->ended) return 0;
  if (s->cfg.sign_sk == NULL) {
    int n =
        sc_station_state_encode(buf, cap, s->info, s->headers, s->headerslen, s->title);
    return n > 0 ? sc_station_state_add_page(buf, cap, (size_t)n, s->page, s->pagelen)
                 : 0;
  }
  /* Signed: the bytes signed for the stream, whatever cap is, or nothing. */
  size_t len;
  uint8_t sig[SC_STATION_SIG_BYTES];
  if (!state_signed(s, &len, sig) || len + SC_STATION_SIG_RECORD_BYTES > cap) return 0;
  memcpy(buf, s->sign_buf, len);
  return sc_station_state_append_sig(buf, cap, len, sig);
}

int64_t rt_station_source_media_us(const rt_station_source *s) {
  return s->media_us;
}

bool rt_station_source_in_session(const rt_station_source *s) {
  return s->in_session;
}

void rt_station_source_get_stats(const rt_station_source *s,
                                 rt_station_source_stats *out) {
  *out = s->stats;
}

const char *rt_station_source_info(const rt_station_source *s) {
  return s->info;
}
