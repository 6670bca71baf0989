/* directory_record.c — a station's signed announcement (see directory_record.h). */
#include "directory_record.h"

#include <sodium.h>
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "station.h"

static const uint8_t record_magic[4] = {'S', 'C', 'D', '1'};

_Static_assert(SC_AUTH_PK_BYTES == SC_STATION_KEY_BYTES,
               "a station key is an Ed25519 key");

typedef struct rec_writer {
  uint8_t *p;
  size_t len, cap;
} rec_writer;

static bool put(rec_writer *w, const void *data, size_t datalen) {
  if (w->cap - w->len < datalen) return false;
  memcpy(w->p + w->len, data, datalen);
  w->len += datalen;
  return true;
}

/* The low `bytes` (1 to 8) bytes of v, big-endian: the record's integers. */
static bool put_be(rec_writer *w, uint64_t v, unsigned bytes) {
  uint8_t b[8];
  sc_put_be64(b, v);
  return put(w, b + sizeof b - bytes, bytes);
}

static bool put_str(rec_writer *w, const char *s, size_t max) {
  size_t n = strnlen(s, max + 1);
  if (n > max) return false;
  uint8_t len = (uint8_t)n;
  return put(w, &len, 1) && put(w, s, n);
}

int sc_directory_record_sign(const sc_directory_info *info, uint64_t seq,
                             const uint8_t sk[SC_AUTH_SK_BYTES], uint8_t *out,
                             size_t cap) {
  if (info == NULL || sk == NULL || out == NULL) return SC_ERR_INVALID;
  const struct {
    const char *s;
    size_t max;
  } strs[] = {{info->name, SC_DIRECTORY_NAME_MAX},
              {info->mount, SC_DIRECTORY_MOUNT_MAX},
              {info->description, SC_DIRECTORY_DESCRIPTION_MAX},
              {info->genre, SC_DIRECTORY_GENRE_MAX},
              {info->codec, SC_DIRECTORY_CODEC_MAX}};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    if (strnlen(strs[i].s, strs[i].max + 1) > strs[i].max) return SC_ERR_TOO_LARGE;
  rec_writer w = {.p = out, .len = 0, .cap = cap};
  bool ok = put(&w, record_magic, sizeof record_magic) &&
            put(&w, sk + SC_AUTH_SK_BYTES - SC_AUTH_PK_BYTES, SC_AUTH_PK_BYTES) &&
            put_be(&w, seq, 8) && put_be(&w, info->started_unix_s, 8) &&
            put_be(&w, info->bitrate_kbps, 4) && put_be(&w, info->listeners, 4) &&
            put_be(&w, info->on_air ? SC_DIRECTORY_ON_AIR : 0, 1);
  for (size_t i = 0; ok && i < sizeof strs / sizeof strs[0]; i++)
    ok = put_str(&w, strs[i].s, strs[i].max);
  if (!ok || w.cap - w.len < SC_AUTH_SIG_BYTES) return SC_ERR_NOBUF;
  crypto_sign_detached(out + w.len, NULL, out, w.len, sk);
  return (int)(w.len + SC_AUTH_SIG_BYTES);
}

typedef struct rec_reader {
  const uint8_t *p;
  size_t off, len;
} rec_reader;

static bool get(rec_reader *r, void *out, size_t n) {
  if (r->len - r->off < n) return false;
  memcpy(out, r->p + r->off, n);
  r->off += n;
  return true;
}

static bool get_be(rec_reader *r, uint64_t *v, unsigned bytes) {
  uint8_t b[8] = {0};
  if (!get(r, b + sizeof b - bytes, bytes)) return false;
  *v = sc_get_be64(b);
  return true;
}

/* A string for people: UTF-8 is passed through, control bytes (which
 * could rewrite a terminal or break a JSON line) are refused. */
static bool get_str(rec_reader *r, char *out, size_t max) {
  uint8_t n;
  if (!get(r, &n, 1) || n > max || !get(r, out, n)) return false;
  out[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) return false;
  return true;
}

int sc_directory_record_parse(const uint8_t *data, size_t datalen, bool check_sig,
                              sc_directory_record *out) {
  if (data == NULL || out == NULL || datalen > SC_DIRECTORY_RECORD_MAX ||
      datalen < SC_DIRECTORY_RECORD_FIXED + SC_AUTH_SIG_BYTES)
    return SC_ERR_INVALID;
  sc_directory_record rec;
  memset(&rec, 0, sizeof rec);
  rec_reader r = {.p = data, .off = 0, .len = datalen - SC_AUTH_SIG_BYTES};
  uint8_t magic[sizeof record_magic];
  uint64_t started, bitrate, listeners, flags;
  if (!get(&r, magic, sizeof magic) || memcmp(magic, record_magic, sizeof magic) != 0 ||
      !get(&r, rec.pk, SC_AUTH_PK_BYTES) || !get_be(&r, &rec.seq, 8) ||
      !get_be(&r, &started, 8) || !get_be(&r, &bitrate, 4) ||
      !get_be(&r, &listeners, 4) || !get_be(&r, &flags, 1))
    return SC_ERR_INVALID;
  sc_directory_info *in = &rec.info;
  if (!get_str(&r, in->name, SC_DIRECTORY_NAME_MAX) ||
      !get_str(&r, in->mount, SC_DIRECTORY_MOUNT_MAX) ||
      !get_str(&r, in->description, SC_DIRECTORY_DESCRIPTION_MAX) ||
      !get_str(&r, in->genre, SC_DIRECTORY_GENRE_MAX) ||
      !get_str(&r, in->codec, SC_DIRECTORY_CODEC_MAX) || r.off != r.len)
    return SC_ERR_INVALID;
  if ((flags & ~(uint64_t)SC_DIRECTORY_ON_AIR) != 0) return SC_ERR_INVALID;
  if (check_sig && crypto_sign_verify_detached(data + r.len, data, r.len, rec.pk) != 0)
    return SC_ERR_INVALID;
  in->started_unix_s = started;
  in->bitrate_kbps = (uint32_t)bitrate;
  in->listeners = (uint32_t)listeners;
  in->on_air = flags & SC_DIRECTORY_ON_AIR;
  sc_station_key_id(rec.pk, &rec.id);
  *out = rec;
  return SC_OK;
}
