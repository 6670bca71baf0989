/*
 * station.c — records inside generations (station.h).
 */
#include "station.h"

#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "err.h"

#define RECORD_HEADER_MAX 5 /* type + LEB128 length of at most 4 bytes */
#define LENGTH_BYTES_MAX  4 /* 28 bits cover SC_STATION_RECORD_MAX */

static bool type_known(unsigned type) {
  return (type >= SC_STATION_MEDIA && type <= SC_STATION_PAGE) ||
         type == SC_STATION_STATE_SIG;
}

int sc_station_id(const char *name, sc_id *out) {
  static const char tag[] = "stripecast station ";
  uint8_t buf[sizeof tag + 1 + SC_STATION_NAME_MAX];
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len > SC_STATION_NAME_MAX || (len == 1 && name[0] == '/'))
    return SC_ERR_INVALID;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] < 0x21 || name[i] == 0x7f) return SC_ERR_INVALID;
  size_t n = sizeof tag - 1;
  memcpy(buf, tag, n);
  if (name[0] != '/') buf[n++] = '/';
  memcpy(buf + n, name, len);
  *out = sc_id_hash(buf, n + len);
  return SC_OK;
}

void sc_station_key_id(const uint8_t pk[SC_STATION_KEY_BYTES], sc_id *out) {
  static const char tag[] = "stripecast station key ";
  uint8_t buf[sizeof tag - 1 + SC_STATION_KEY_BYTES];
  memcpy(buf, tag, sizeof tag - 1);
  memcpy(buf + sizeof tag - 1, pk, SC_STATION_KEY_BYTES);
  *out = sc_id_hash(buf, sizeof buf);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool parse_key(const char *hex, uint8_t pk[SC_STATION_KEY_BYTES]) {
  if (strlen(hex) != SC_STATION_KEY_HEX_BYTES) return false;
  for (size_t i = 0; i < SC_STATION_KEY_BYTES; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    pk[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

int sc_station_spec_parse(const char *spec, sc_station_spec *out) {
  if (spec == NULL || out == NULL) return SC_ERR_INVALID;
  memset(out, 0, sizeof *out);
  const char *at = strrchr(spec, '@');
  const char *key = at ? at + 1 : spec;
  if (parse_key(key, out->pk)) {
    size_t nlen = at ? (size_t)(at - spec) : 0;
    if (nlen > SC_STATION_NAME_MAX) return SC_ERR_INVALID;
    memcpy(out->name, spec, nlen);
    sc_id unused;
    if (nlen && sc_station_id(out->name, &unused) != SC_OK) return SC_ERR_INVALID;
    out->is_signed = true;
    sc_station_key_id(out->pk, &out->id);
    return SC_OK;
  }
  if (at) return SC_ERR_INVALID; /* NAME@ with a key that is not one */
  if (sc_station_id(spec, &out->id) != SC_OK) return SC_ERR_INVALID;
  memcpy(out->name, spec, strlen(spec));
  return SC_OK;
}

/* ------------------------------------------------------------ writer */

int sc_station_writer_init(sc_station_writer *w, size_t gen_bytes,
                           const sc_station_sink *sink) {
  if (!w || !sink || !sink->write || !sink->flush ||
      gen_bytes <= SC_STATION_PREFIX_BYTES + RECORD_HEADER_MAX ||
      gen_bytes >= SC_STATION_NO_RECORD)
    return SC_ERR_INVALID;
  memset(w, 0, sizeof *w);
  w->sink = *sink;
  w->gen_bytes = gen_bytes;
  return SC_OK;
}

/* Opens a generation: its prefix says where the first record starts, given
 * that `rest` bytes of the current record (0: a record starts here) still
 * come first. */
static int writer_open_gen(sc_station_writer *w, size_t rest) {
  uint8_t prefix[SC_STATION_PREFIX_BYTES];
  size_t first = SC_STATION_PREFIX_BYTES + rest;
  sc_put_be32(prefix, first < w->gen_bytes ? (uint32_t)first : SC_STATION_NO_RECORD);
  w->fill = SC_STATION_PREFIX_BYTES;
  return w->sink.write(w->sink.user, prefix, sizeof prefix);
}

/* Writes n bytes of a record of `total` bytes of which `rest` (these
 * included) remain. */
static int writer_bytes(sc_station_writer *w, const uint8_t *p, size_t n, size_t rest,
                        size_t total) {
  while (n > 0) {
    if (w->fill == 0) {
      int rc = writer_open_gen(w, rest == total ? 0 : rest);
      if (rc != SC_OK) return rc;
    }
    size_t room = w->gen_bytes - w->fill;
    size_t take = n < room ? n : room;
    int rc = w->sink.write(w->sink.user, p, take);
    if (rc != SC_OK) return rc;
    p += take;
    n -= take;
    rest -= take;
    w->fill += take;
    if (w->fill == w->gen_bytes) w->fill = 0; /* the stream cut the generation */
  }
  return SC_OK;
}

int sc_station_writer_put(sc_station_writer *w, sc_station_record_type type,
                          const uint8_t *data, size_t datalen) {
  if (!type_known(type) || (datalen > 0 && !data)) return SC_ERR_INVALID;
  if (datalen > SC_STATION_RECORD_MAX) return SC_ERR_TOO_LARGE;
  uint8_t hdr[RECORD_HEADER_MAX];
  size_t hdrlen = 0;
  hdr[hdrlen++] = (uint8_t)type;
  size_t v = datalen;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    hdr[hdrlen++] = v ? (uint8_t)(b | 0x80) : b;
  } while (v);
  size_t total = hdrlen + datalen;
  int rc = writer_bytes(w, hdr, hdrlen, total, total);
  if (rc == SC_OK && datalen > 0) rc = writer_bytes(w, data, datalen, datalen, total);
  if (rc != SC_OK) return rc;
  w->records++;
  w->bytes += total;
  return SC_OK;
}

int sc_station_writer_flush(sc_station_writer *w) {
  if (w->fill == 0) return SC_OK;
  w->fill = 0;
  return w->sink.flush(w->sink.user);
}

/* ------------------------------------------------------------ reader */

typedef enum { PARSE_TYPE, PARSE_LENGTH, PARSE_PAYLOAD } parse_state;

struct sc_station_reader {
  const sc_alloc *alloc;
  sc_station_record_fn fn;
  void *user;
  bool have_next; /* next_gen is known */
  uint64_t next_gen;
  bool resync; /* skip to the next generation's first record */
  /* The record being assembled. */
  parse_state state;
  uint8_t type;
  size_t length;
  unsigned length_bytes;
  uint8_t *buf;
  size_t buflen, bufcap;
  /* Station state. */
  uint8_t *headers;
  size_t headerslen;
  char title[SC_STATION_TITLE_MAX + 1];
  char info[SC_STATION_INFO_MAX + 1];
  bool ended;
  bool has_listeners;
  uint32_t listeners, listener_peak;
  uint8_t *page; /* a checked bundle (station.h, "The station's page") */
  size_t pagelen;
  sc_station_reader_stats stats;
};

int sc_station_reader_new(sc_station_reader **out, sc_station_record_fn fn, void *user,
                          const sc_alloc *alloc) {
  if (!out || !fn) return SC_ERR_INVALID;
  if (!alloc) alloc = sc_alloc_default();
  sc_station_reader *r = alloc->calloc(1, sizeof *r, alloc->user);
  if (!r) return SC_ERR_NOMEM;
  r->alloc = alloc;
  r->fn = fn;
  r->user = user;
  r->resync = true; /* a late joiner's first generation may start mid-record */
  *out = r;
  return SC_OK;
}

void sc_station_reader_del(sc_station_reader *r) {
  if (!r) return;
  r->alloc->free(r->buf, r->alloc->user);
  r->alloc->free(r->headers, r->alloc->user);
  r->alloc->free(r->page, r->alloc->user);
  r->alloc->free(r, r->alloc->user);
}

static bool reader_mid_record(const sc_station_reader *r) {
  return r->state != PARSE_TYPE;
}

/* Bytes of the current record still to come (when mid-record). */
static size_t reader_record_rest(const sc_station_reader *r) {
  if (r->state == PARSE_PAYLOAD) return r->length - r->buflen;
  return SIZE_MAX; /* inside the length field: unknown */
}

static void reader_drop_record(sc_station_reader *r) {
  if (reader_mid_record(r)) {
    r->stats.records_cut++;
    r->stats.bytes_dropped += r->buflen;
  }
  r->state = PARSE_TYPE;
  r->buflen = 0;
}

static void copy_text(char *dst, size_t max, const uint8_t *src, size_t len) {
  if (len > max) len = max;
  if (len > 0) memcpy(dst, src, len); /* src is NULL for an empty record */
  dst[len] = '\0';
}

void sc_station_listeners_encode(uint32_t listeners, uint32_t peak,
                                 uint8_t out[SC_STATION_LISTENERS_BYTES]) {
  sc_put_be32(out, listeners);
  sc_put_be32(out + 4, peak);
}

bool sc_station_reader_listeners(const sc_station_reader *r, uint32_t *listeners,
                                 uint32_t *peak) {
  if (!r->has_listeners) return false;
  *listeners = r->listeners;
  *peak = r->listener_peak;
  return true;
}

void sc_station_reader_page(const sc_station_reader *r, const uint8_t **data,
                            size_t *datalen) {
  *data = r->pagelen ? r->page : NULL;
  *datalen = r->pagelen;
}

/* A PAGE record's bundle replaces the page kept. False (nothing kept or
 * handed on) when it does not check: a listener's peer serves only pages
 * that parse. */
static bool keep_page(sc_station_reader *r, const uint8_t *p, size_t n) {
  if (sc_station_page_check(p, n, NULL) != SC_OK) {
    r->stats.records_invalid++;
    return false;
  }
  uint8_t *k = r->alloc->realloc(r->page, n, r->alloc->user);
  if (!k) return true; /* the old page stays: still the station's */
  memcpy(k, p, n);
  r->page = k;
  r->pagelen = n;
  return true;
}

/* Keeps what a whole record says about the station, then hands it on. */
static void emit_record(sc_station_reader *r, uint8_t type, const uint8_t *p, size_t n) {
  switch ((sc_station_record_type)type) {
  case SC_STATION_HEADERS:
    if (n <= SC_STATION_HEADERS_MAX) {
      uint8_t *h = r->alloc->realloc(r->headers, n ? n : 1, r->alloc->user);
      if (h) {
        if (n > 0) memcpy(h, p, n);
        r->headers = h;
        r->headerslen = n;
      }
    }
    break;
  case SC_STATION_TITLE:
    copy_text(r->title, SC_STATION_TITLE_MAX, p, n);
    break;
  case SC_STATION_INFO:
    copy_text(r->info, SC_STATION_INFO_MAX, p, n);
    break;
  case SC_STATION_END:
    r->ended = true;
    break;
  case SC_STATION_LISTENERS:
    if (n != SC_STATION_LISTENERS_BYTES) {
      r->stats.records_invalid++;
      return; /* not handed on: a reader of the record may trust its length */
    }
    r->listeners = sc_get_be32(p);
    r->listener_peak = sc_get_be32(p + 4);
    r->has_listeners = true;
    break;
  case SC_STATION_PAGE:
    if (!keep_page(r, p, n)) return;
    break;
  case SC_STATION_MEDIA:
  case SC_STATION_MEDIA_SYNC:
    r->ended = false;
    r->stats.media_bytes += n;
    break;
  case SC_STATION_STATE_SIG:
    if (n != SC_STATION_SIG_BYTES) {
      r->stats.records_invalid++;
      return;
    }
    break;
  }
  r->stats.records++;
  r->fn(r->user, (sc_station_record_type)type, p, n);
}

static void reader_emit(sc_station_reader *r) {
  emit_record(r, r->type, r->buf, r->buflen);
}

/* Parses bytes of records; returns SC_ERR_NOMEM if a payload could not be
 * held (the record is dropped). */
static int reader_parse(sc_station_reader *r, const uint8_t *p, size_t n) {
  while (n > 0) {
    switch (r->state) {
    case PARSE_TYPE:
      r->type = *p++;
      n--;
      r->length = 0;
      r->length_bytes = 0;
      r->buflen = 0;
      r->state = PARSE_LENGTH;
      break;
    case PARSE_LENGTH: {
      uint8_t b = *p++;
      n--;
      r->length |= (size_t)(b & 0x7f) << (7 * r->length_bytes);
      r->length_bytes++;
      if (b & 0x80) {
        if (r->length_bytes == LENGTH_BYTES_MAX) {
          r->stats.records_invalid++;
          r->state = PARSE_TYPE;
          r->resync = true; /* the rest of this generation is not trusted */
          r->stats.bytes_dropped += n;
          return SC_OK;
        }
        break;
      }
      if (!type_known(r->type) || r->length > SC_STATION_RECORD_MAX) {
        r->stats.records_invalid++;
        r->state = PARSE_TYPE;
        r->resync = true;
        r->stats.bytes_dropped += n;
        return SC_OK;
      }
      r->state = PARSE_PAYLOAD;
      if (r->length > r->bufcap) {
        uint8_t *b2 = r->alloc->realloc(r->buf, r->length, r->alloc->user);
        if (!b2) {
          r->state = PARSE_TYPE;
          r->resync = true;
          r->stats.records_cut++;
          return SC_ERR_NOMEM;
        }
        r->buf = b2;
        r->bufcap = r->length;
      }
      if (r->length == 0) {
        reader_emit(r);
        r->state = PARSE_TYPE;
      }
      break;
    }
    case PARSE_PAYLOAD: {
      size_t take = r->length - r->buflen;
      if (take > n) take = n;
      memcpy(r->buf + r->buflen, p, take);
      r->buflen += take;
      p += take;
      n -= take;
      if (r->buflen == r->length) {
        reader_emit(r);
        r->state = PARSE_TYPE;
        r->buflen = 0;
      }
      break;
    }
    }
  }
  return SC_OK;
}

int sc_station_reader_gen(sc_station_reader *r, uint64_t gen, const uint8_t *data,
                          size_t datalen) {
  if (r->have_next && gen < r->next_gen) return SC_OK; /* old or repeated: already read */
  r->stats.gens++;
  if (r->have_next && gen > r->next_gen) {
    r->stats.gens_lost += gen - r->next_gen;
    reader_drop_record(r);
    r->resync = true;
  }
  r->have_next = true;
  r->next_gen = gen + 1;
  if (datalen < SC_STATION_PREFIX_BYTES) {
    reader_drop_record(r);
    r->resync = true;
    r->stats.bytes_dropped += datalen;
    return SC_OK;
  }
  uint32_t first = sc_get_be32(data);
  size_t start = SC_STATION_PREFIX_BYTES;
  if (!r->resync) {
    /* The prefix must agree with where the record being read ends; if it
     * does not, the stream is corrupt here and the prefix wins. */
    bool agrees;
    if (!reader_mid_record(r))
      agrees = first == SC_STATION_PREFIX_BYTES;
    else if (reader_record_rest(r) == SIZE_MAX)
      agrees = true; /* inside a length field: cannot tell */
    else {
      size_t end = SC_STATION_PREFIX_BYTES + reader_record_rest(r);
      agrees = end >= datalen ? (first == SC_STATION_NO_RECORD || first >= datalen)
                              : first == end;
    }
    if (!agrees) {
      reader_drop_record(r);
      r->resync = true;
    }
  }
  if (r->resync) {
    if (first == SC_STATION_NO_RECORD || first >= datalen || first < start) {
      r->stats.bytes_dropped += datalen - start;
      return SC_OK;
    }
    r->stats.bytes_dropped += first - start;
    start = first;
    r->resync = false;
    r->state = PARSE_TYPE;
    r->buflen = 0;
  }
  return reader_parse(r, data + start, datalen - start);
}

void sc_station_reader_lost(sc_station_reader *r, uint64_t gen) {
  if (r->have_next && gen < r->next_gen) return;
  r->stats.gens_lost += r->have_next ? gen - r->next_gen + 1 : 1;
  r->have_next = true;
  r->next_gen = gen + 1;
  reader_drop_record(r);
  r->resync = true;
}

void sc_station_reader_restart(sc_station_reader *r) {
  reader_drop_record(r);
  r->have_next = false;
  r->resync = true;
  r->alloc->free(r->page, r->alloc->user);
  r->page = NULL;
  r->pagelen = 0;
}

/* One record of a state at p[0, n): its type, payload and whole length.
 * Returns false if it is cut or not a state record within its bound. */
static bool state_record(const uint8_t *p, size_t n, uint8_t *type,
                         const uint8_t **payload, size_t *len, size_t *total) {
  if (n < 2) return false;
  *type = p[0];
  size_t v = 0, i = 1;
  for (unsigned k = 0;; k++) {
    if (k == LENGTH_BYTES_MAX || i >= n) return false;
    v |= (size_t)(p[i] & 0x7f) << (7 * k);
    if (!(p[i++] & 0x80)) break;
  }
  size_t max = *type == SC_STATION_INFO      ? SC_STATION_INFO_MAX
               : *type == SC_STATION_TITLE   ? SC_STATION_TITLE_MAX
               : *type == SC_STATION_HEADERS ? SC_STATION_HEADERS_MAX
               : *type == SC_STATION_PAGE    ? SC_STATION_PAGE_MAX
                                             : 0;
  if (max == 0 || v > max || v > n - i) return false;
  if (*type == SC_STATION_PAGE && sc_station_page_check(p + i, v, NULL) != SC_OK)
    return false;
  *payload = p + i;
  *len = v;
  *total = i + v;
  return true;
}

/* Emits a state's records (only its PAGE when page_only). Returns 0,
 * SC_ERR_NOT_FOUND (page_only: none there) or SC_ERR_INVALID. */
static int state_emit(sc_station_reader *r, const uint8_t *data, size_t datalen,
                      bool page_only) {
  if (!r || (datalen > 0 && !data)) return SC_ERR_INVALID;
  uint8_t type;
  const uint8_t *payload;
  size_t len, total;
  /* All or nothing: check every record before keeping any. */
  for (size_t off = 0; off < datalen; off += total)
    if (!state_record(data + off, datalen - off, &type, &payload, &len, &total))
      return SC_ERR_INVALID;
  bool page = false;
  for (size_t off = 0; off < datalen; off += total) {
    state_record(data + off, datalen - off, &type, &payload, &len, &total);
    if (page_only && type != SC_STATION_PAGE) continue;
    page = page || type == SC_STATION_PAGE;
    emit_record(r, type, len ? payload : NULL, len);
  }
  return page || !page_only ? SC_OK : SC_ERR_NOT_FOUND;
}

int sc_station_reader_state(sc_station_reader *r, const uint8_t *data, size_t datalen) {
  return state_emit(r, data, datalen, false);
}

int sc_station_reader_state_page(sc_station_reader *r, const uint8_t *data,
                                 size_t datalen) {
  return state_emit(r, data, datalen, true);
}

static int state_put(uint8_t *buf, size_t cap, size_t *at, uint8_t type, const void *p,
                     size_t len) {
  uint8_t hdr[RECORD_HEADER_MAX];
  size_t h = 0;
  hdr[h++] = type;
  size_t v = len;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    hdr[h++] = v ? (uint8_t)(b | 0x80) : b;
  } while (v);
  if (h + len > cap - *at) return SC_ERR_TOO_LARGE;
  memcpy(buf + *at, hdr, h);
  if (len) memcpy(buf + *at + h, p, len);
  *at += h + len;
  return SC_OK;
}

int sc_station_state_encode(uint8_t *buf, size_t cap, const char *info,
                            const uint8_t *headers, size_t hlen, const char *title) {
  size_t at = 0, ilen = info ? strlen(info) : 0, tlen = title ? strlen(title) : 0;
  if (ilen == 0) return 0;
  if (ilen > SC_STATION_INFO_MAX || tlen > SC_STATION_TITLE_MAX ||
      hlen > SC_STATION_HEADERS_MAX)
    return SC_ERR_TOO_LARGE;
  int rc = state_put(buf, cap, &at, SC_STATION_INFO, info, ilen);
  if (rc == SC_OK && hlen)
    rc = state_put(buf, cap, &at, SC_STATION_HEADERS, headers, hlen);
  if (rc == SC_OK && tlen) rc = state_put(buf, cap, &at, SC_STATION_TITLE, title, tlen);
  if (rc != SC_OK) return rc;
  return at > (size_t)INT32_MAX ? SC_ERR_TOO_LARGE : (int)at;
}

size_t sc_station_state_add_page(uint8_t *buf, size_t cap, size_t len,
                                 const uint8_t *page, size_t plen) {
  if (len == 0 || len > cap || plen == 0 || !page || plen > SC_STATION_PAGE_MAX)
    return len;
  size_t at = len;
  return state_put(buf, cap, &at, SC_STATION_PAGE, page, plen) == SC_OK ? at : len;
}

int sc_station_state_encode_signable(uint8_t *buf, size_t cap, const char *info,
                                     const uint8_t *headers, size_t hlen,
                                     const char *title, const uint8_t *page,
                                     size_t plen) {
  int n = sc_station_state_encode(buf, cap, info, headers, hlen, title);
  if (n <= 0) return n;
  /* A cap too small for the record leaves no room for the page either. */
  size_t room = cap > SC_STATION_SIG_RECORD_BYTES ? cap - SC_STATION_SIG_RECORD_BYTES : 0;
  size_t len = sc_station_state_add_page(buf, room, (size_t)n, page, plen);
  return (int)len;
}

size_t sc_station_state_append_sig(uint8_t *buf, size_t cap, size_t len,
                                   const uint8_t sig[SC_STATION_SIG_BYTES]) {
  if (len > cap || cap - len < SC_STATION_SIG_RECORD_BYTES) return 0;
  sc_station_sig_record(sig, buf + len);
  return len + SC_STATION_SIG_RECORD_BYTES;
}

void sc_station_reader_headers(const sc_station_reader *r, const uint8_t **data,
                               size_t *datalen) {
  *data = r->headerslen ? r->headers : NULL;
  *datalen = r->headerslen;
}

const char *sc_station_reader_title(const sc_station_reader *r) {
  return r->title;
}
const char *sc_station_reader_info(const sc_station_reader *r) {
  return r->info;
}
bool sc_station_reader_ended(const sc_station_reader *r) {
  return r->ended;
}

void sc_station_reader_get_stats(const sc_station_reader *r,
                                 sc_station_reader_stats *out) {
  *out = r->stats;
}

bool sc_station_info_get(const char *info, const char *key, char *out, size_t outlen) {
  size_t keylen = strlen(key);
  const char *line = info;
  while (line && *line) {
    const char *nl = strchr(line, '\n');
    size_t linelen = nl ? (size_t)(nl - line) : strlen(line);
    if (linelen > keylen && line[keylen] == '=' && memcmp(line, key, keylen) == 0) {
      size_t vlen = linelen - keylen - 1;
      if (outlen == 0) return true;
      if (vlen > outlen - 1) vlen = outlen - 1;
      memcpy(out, line + keylen + 1, vlen);
      out[vlen] = '\0';
      return true;
    }
    line = nl ? nl + 1 : NULL;
  }
  return false;
}

/* ------------------------------------------------------ signed state */

/* What the station key signs for a state: a tag, the channel, the state's
 * hash (a fixed size, so nothing is allocated for a state of 64 KiB). */
#define STATE_TAG       "stripecast state 1"
#define STATE_TAG_BYTES (sizeof STATE_TAG - 1)
#define STATE_MSG_BYTES (STATE_TAG_BYTES + 16 + crypto_generichash_BYTES)

static void state_msg(const sc_id *channel, const uint8_t *state, size_t len,
                      uint8_t msg[STATE_MSG_BYTES]) {
  memcpy(msg, STATE_TAG, STATE_TAG_BYTES);
  sc_id_to_bytes(channel, msg + STATE_TAG_BYTES);
  crypto_generichash(msg + STATE_TAG_BYTES + 16, crypto_generichash_BYTES, state, len,
                     NULL, 0);
}

void sc_station_state_sign(const uint8_t sk[64], const sc_id *channel,
                           const uint8_t *state, size_t len,
                           uint8_t sig[SC_STATION_SIG_BYTES]) {
  uint8_t msg[STATE_MSG_BYTES];
  state_msg(channel, state, len, msg);
  crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
}

bool sc_station_state_verify(const uint8_t pk[32], const sc_id *channel,
                             const uint8_t *state, size_t len,
                             const uint8_t sig[SC_STATION_SIG_BYTES]) {
  uint8_t msg[STATE_MSG_BYTES];
  state_msg(channel, state, len, msg);
  return crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
}

void sc_station_sig_record(const uint8_t sig[SC_STATION_SIG_BYTES],
                           uint8_t out[SC_STATION_SIG_RECORD_BYTES]) {
  out[0] = SC_STATION_STATE_SIG;
  out[1] = SC_STATION_SIG_BYTES; /* < 128: one LEB128 byte */
  memcpy(out + 2, sig, SC_STATION_SIG_BYTES);
}

bool sc_station_state_split(const uint8_t *data, size_t len, size_t *state_len,
                            const uint8_t **sig) {
  if (data == NULL || len < SC_STATION_SIG_RECORD_BYTES) return false;
  const uint8_t *rec = data + len - SC_STATION_SIG_RECORD_BYTES;
  if (rec[0] != SC_STATION_STATE_SIG || rec[1] != SC_STATION_SIG_BYTES) return false;
  *state_len = len - SC_STATION_SIG_RECORD_BYTES;
  *sig = rec + 2;
  return true;
}
