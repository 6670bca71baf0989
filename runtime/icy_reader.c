/* icy_reader.c — what a relay reads from its upstream server (see relay.h):
 * the answer's header lines and the ICY metadata blocks taken out of the
 * stream. Pure code over the bytes, so that it can be fuzzed alone. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay.h"

void rt_icy_reader_init(rt_icy_reader *r, uint32_t metaint) {
  memset(r, 0, sizeof *r);
  r->metaint = metaint;
  r->audio_left = metaint;
}

void rt_icy_reader_feed(rt_icy_reader *r, const uint8_t *data, size_t datalen,
                        const rt_icy_sink *sink) {
  if (r->metaint == 0) {
    if (datalen > 0) sink->audio(sink->user, data, datalen);
    return;
  }
  while (datalen > 0) {
    if (!r->in_meta) {
      size_t n = datalen < r->audio_left ? datalen : r->audio_left;
      if (n > 0) sink->audio(sink->user, data, n);
      data += n;
      datalen -= n;
      r->audio_left -= (uint32_t)n;
      if (r->audio_left == 0) {
        r->in_meta = true;
        r->meta_have = 0;
        r->meta_need = 0;
      }
      continue;
    }
    if (r->meta_have == 0) {
      /* The length byte: 16-byte units that follow. */
      r->meta[0] = *data++;
      datalen--;
      r->meta_have = 1;
      r->meta_need = 1 + (uint32_t)r->meta[0] * SC_HTTP_ICY_META_UNIT_BYTES;
    }
    size_t n = r->meta_need - r->meta_have;
    if (n > datalen) n = datalen;
    memcpy(r->meta + r->meta_have, data, n);
    r->meta_have += (uint32_t)n;
    data += n;
    datalen -= n;
    if (r->meta_have == r->meta_need) {
      sink->meta(sink->user, r->meta, r->meta_need);
      r->in_meta = false;
      r->audio_left = r->metaint;
    }
  }
}

/* ------------------------------------------------------ the answer's head */

/* ice-/icy- response headers and the listener info key they become. */
static const struct {
  const char *header, *key;
} info_headers[] = {
    {"icy-name", "name"},
    {"ice-name", "name"},
    {"icy-description", "description"},
    {"ice-description", "description"},
    {"icy-genre", "genre"},
    {"ice-genre", "genre"},
    {"icy-url", "url"},
    {"ice-url", "url"},
    {"icy-br", "bitrate"},
    {"ice-bitrate", "bitrate"},
    {"icy-pub", "public"},
    {"ice-public", "public"},
    {"ice-audio-info", "audio-info"},
};

/* Adds "key=value\n" to the info if it fits (the value has no line end). */
static void info_add(rt_relay_head *h, const char *key, const char *val, size_t vlen) {
  size_t klen = strlen(key);
  if (h->infolen + klen + vlen + 2 >= sizeof h->info) return;
  memcpy(h->info + h->infolen, key, klen);
  h->info[h->infolen + klen] = '=';
  memcpy(h->info + h->infolen + klen + 1, val, vlen);
  h->infolen += klen + vlen + 1;
  h->info[h->infolen++] = '\n';
  h->info[h->infolen] = '\0';
}

void rt_relay_head_reset(rt_relay_head *h, const char *prefix, const char *url) {
  h->content_type[0] = '\0';
  h->metaint = 0;
  size_t n = prefix ? strnlen(prefix, sizeof h->info / 2 - 1) : 0;
  memcpy(h->info, prefix ? prefix : "", n);
  h->info[n] = '\0';
  h->infolen = n;
  info_add(h, "relay", url, strlen(url));
}

bool rt_relay_head_line(rt_relay_head *h, const char *buf, size_t len) {
  size_t n = len;
  while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n'))
    n--;
  if ((n >= 5 && strncmp(buf, "HTTP/", 5) == 0) ||
      (n >= 4 && strncmp(buf, "ICY ", 4) == 0))
    return true;
  const char *colon = memchr(buf, ':', n);
  if (!colon) return false;
  size_t nlen = (size_t)(colon - buf);
  const char *v = colon + 1;
  while (v < buf + n && (*v == ' ' || *v == '\t'))
    v++;
  size_t vlen = (size_t)(buf + n - v);
  for (size_t i = 0; i < vlen; i++)
    if ((unsigned char)v[i] < 0x20) return false; /* no control bytes in the info */
  if (nlen == 12 && strncasecmp(buf, "content-type", 12) == 0) {
    size_t clen = vlen < sizeof h->content_type ? vlen : sizeof h->content_type - 1;
    memcpy(h->content_type, v, clen);
    h->content_type[clen] = '\0';
    info_add(h, "content-type", v, clen);
    return false;
  }
  if (nlen == 11 && strncasecmp(buf, "icy-metaint", 11) == 0) {
    char tmp[16];
    if (vlen == 0 || vlen >= sizeof tmp) return false;
    memcpy(tmp, v, vlen);
    tmp[vlen] = '\0';
    char *end;
    unsigned long m = strtoul(tmp, &end, 10);
    if (*end == '\0' && m > 0 && m <= RT_RELAY_METAINT_MAX) h->metaint = (uint32_t)m;
    return false;
  }
  for (size_t i = 0; i < sizeof info_headers / sizeof info_headers[0]; i++) {
    const char *hd = info_headers[i].header;
    if (nlen == strlen(hd) && strncasecmp(buf, hd, nlen) == 0) {
      info_add(h, info_headers[i].key, v, vlen);
      break;
    }
  }
  return false;
}
