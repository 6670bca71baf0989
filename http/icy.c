/*
 * icy.c — ICY in-stream metadata blocks (the SHOUTcast convention Icecast
 * follows for MP3 and AAC listeners that send "Icy-MetaData: 1").
 */
#include "http/http.h"

#include <string.h>

#include "core/err.h"

int sc_http_icy_meta_build(const char *title, size_t title_len, const char *url,
                           size_t url_len, uint8_t *out, size_t cap) {
  static const char t0[] = "StreamTitle='", u0[] = "StreamUrl='", end[] = "';";
  /* Text plus the NUL Icecast's mp3_set_title counts in its length. */
  size_t text = (sizeof t0 - 1) + title_len + (sizeof end - 1);
  if (url != NULL) text += (sizeof u0 - 1) + url_len + (sizeof end - 1);
  size_t need = text + 1;
  if (need > SC_HTTP_ICY_META_MAX_BYTES) return SC_ERR_TOO_LARGE;
  size_t units = (need + SC_HTTP_ICY_META_UNIT_BYTES - 1) / SC_HTTP_ICY_META_UNIT_BYTES;
  size_t size = 1 + units * SC_HTTP_ICY_META_UNIT_BYTES;
  if (size > cap) return SC_ERR_NOBUF;
  memset(out, 0, size);
  out[0] = (uint8_t)units;
  uint8_t *p = out + 1;
  memcpy(p, t0, sizeof t0 - 1);
  p += sizeof t0 - 1;
  if (title_len > 0) memcpy(p, title, title_len);
  p += title_len;
  memcpy(p, end, sizeof end - 1);
  p += sizeof end - 1;
  if (url != NULL) {
    memcpy(p, u0, sizeof u0 - 1);
    p += sizeof u0 - 1;
    if (url_len > 0) memcpy(p, url, url_len);
    p += url_len;
    memcpy(p, end, sizeof end - 1);
  }
  return (int)size;
}

static bool key_is(const uint8_t *k, size_t n, const char *name) {
  return n == strlen(name) && memcmp(k, name, n) == 0;
}

int sc_http_icy_meta_parse(const uint8_t *buf, size_t len, sc_http_icy_meta *out) {
  if (len < 1) return SC_HTTP_INCOMPLETE;
  size_t size = 1 + (size_t)buf[0] * SC_HTTP_ICY_META_UNIT_BYTES;
  if (len < size) return SC_HTTP_INCOMPLETE;
  sc_http_icy_meta m = {{NULL, 0}, {NULL, 0}, false};
  const uint8_t *p = buf + 1;
  size_t n = size - 1;
  /* The text ends at the first NUL (the padding). */
  size_t textlen = 0;
  while (textlen < n && p[textlen] != 0)
    textlen++;
  for (size_t i = textlen; i < n; i++)
    if (p[i] != 0) return SC_ERR_INVALID; /* text after the padding */
  size_t i = 0;
  while (i < textlen) {
    /* key='value'; where the value ends at the first "';" */
    size_t k = i;
    while (i < textlen && p[i] != '=')
      i++;
    if (i == k || i + 1 >= textlen || p[i + 1] != '\'') return SC_ERR_INVALID;
    size_t klen = i - k;
    size_t v = i + 2, e = v;
    while (e + 1 < textlen && !(p[e] == '\'' && p[e + 1] == ';'))
      e++;
    if (e + 1 >= textlen) return SC_ERR_INVALID;
    sc_http_slice val = {(const char *)p + v, e - v};
    if (key_is(p + k, klen, "StreamTitle")) {
      m.title = val;
      m.has_title = true;
    } else if (key_is(p + k, klen, "StreamUrl")) {
      m.url = val;
    }
    i = e + 2;
  }
  *out = m;
  return (int)size;
}
