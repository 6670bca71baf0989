/*
 * station_page.c — the station's page as a bundle of files (station.h,
 * "The station's page"): a pure encoder, a checker for bundles from the
 * network and a lookup, sans I/O.
 */
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "station.h"

#define FILE_HEAD_BYTES 6 /* name length, type, data length (after the name) */

bool sc_station_page_name_ok(const char *name, size_t len) {
  if (!name || len == 0 || len > SC_STATION_PAGE_NAME_MAX || name[0] == '.') return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

static const struct {
  const char *ext;
  sc_station_page_type type;
} page_exts[] = {
    {".html", SC_STATION_PAGE_HTML}, {".htm", SC_STATION_PAGE_HTML},
    {".css", SC_STATION_PAGE_CSS},   {".png", SC_STATION_PAGE_PNG},
    {".jpg", SC_STATION_PAGE_JPEG},  {".jpeg", SC_STATION_PAGE_JPEG},
    {".gif", SC_STATION_PAGE_GIF},   {".svg", SC_STATION_PAGE_SVG},
    {".webp", SC_STATION_PAGE_WEBP}, {".ico", SC_STATION_PAGE_ICO},
    {".txt", SC_STATION_PAGE_TEXT},
};

static bool ends_nocase(const char *s, size_t n, const char *ext) {
  size_t e = strlen(ext);
  if (n < e) return false;
  for (size_t i = 0; i < e; i++) {
    char c = s[n - e + i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != ext[i]) return false;
  }
  return true;
}

sc_station_page_type sc_station_page_type_of(const char *name) {
  size_t n = name ? strlen(name) : 0;
  for (size_t i = 0; i < sizeof page_exts / sizeof page_exts[0]; i++)
    if (ends_nocase(name, n, page_exts[i].ext)) return page_exts[i].type;
  return 0;
}

const char *sc_station_page_mime(sc_station_page_type type) {
  switch (type) {
  case SC_STATION_PAGE_HTML:
    return "text/html; charset=utf-8";
  case SC_STATION_PAGE_CSS:
    return "text/css; charset=utf-8";
  case SC_STATION_PAGE_PNG:
    return "image/png";
  case SC_STATION_PAGE_JPEG:
    return "image/jpeg";
  case SC_STATION_PAGE_GIF:
    return "image/gif";
  case SC_STATION_PAGE_SVG:
    return "image/svg+xml";
  case SC_STATION_PAGE_WEBP:
    return "image/webp";
  case SC_STATION_PAGE_ICO:
    return "image/x-icon";
  case SC_STATION_PAGE_TEXT:
    return "text/plain; charset=utf-8";
  }
  return NULL;
}

/* Whether files[i]'s name is one of files[0, i). */
static bool name_repeated(const sc_station_page_file *files, size_t i) {
  for (size_t k = 0; k < i; k++)
    if (strcmp(files[k].name, files[i].name) == 0) return true;
  return false;
}

/* The encoder's checks: the rules sc_station_page_check applies. */
static int encode_check(const sc_station_page_file *files, size_t n, size_t *total) {
  if (!files || n == 0 || n > SC_STATION_PAGE_FILES_MAX) return SC_ERR_INVALID;
  bool index = false;
  size_t sum = 2;
  for (size_t i = 0; i < n; i++) {
    const sc_station_page_file *f = &files[i];
    size_t nlen = strnlen(f->name, sizeof f->name);
    if (!sc_station_page_name_ok(f->name, nlen) || nlen == sizeof f->name ||
        !sc_station_page_mime(f->type) || (f->len && !f->data) || name_repeated(files, i))
      return SC_ERR_INVALID;
    if (f->len > SC_STATION_PAGE_MAX) return SC_ERR_TOO_LARGE;
    index = index || strcmp(f->name, SC_STATION_PAGE_INDEX) == 0;
    sum += FILE_HEAD_BYTES + nlen + f->len;
    if (sum > SC_STATION_PAGE_MAX) return SC_ERR_TOO_LARGE;
  }
  if (!index) return SC_ERR_INVALID;
  *total = sum;
  return SC_OK;
}

int sc_station_page_encode(const sc_station_page_file *files, size_t n, uint8_t *buf,
                           size_t cap) {
  size_t total;
  int rc = encode_check(files, n, &total);
  if (rc != SC_OK) return rc;
  if (!buf || total > cap) return SC_ERR_TOO_LARGE;
  size_t at = 0;
  buf[at++] = SC_STATION_PAGE_VERSION;
  buf[at++] = (uint8_t)n;
  for (size_t i = 0; i < n; i++) {
    const sc_station_page_file *f = &files[i];
    size_t nlen = strlen(f->name);
    buf[at++] = (uint8_t)nlen;
    memcpy(buf + at, f->name, nlen);
    at += nlen;
    buf[at++] = (uint8_t)f->type;
    sc_put_be32(buf + at, (uint32_t)f->len);
    at += 4;
    if (f->len) memcpy(buf + at, f->data, f->len);
    at += f->len;
  }
  return (int)at;
}

/* The file at p[*at, n), advancing *at past it. False if it is cut or
 * breaks a rule of its own (name, type). */
static bool next_file(const uint8_t *p, size_t n, size_t *at, sc_station_page_file *f) {
  size_t i = *at;
  if (i >= n) return false;
  size_t nlen = p[i++];
  if (nlen > n - i || !sc_station_page_name_ok((const char *)p + i, nlen)) return false;
  memcpy(f->name, p + i, nlen);
  f->name[nlen] = '\0';
  i += nlen;
  if (n - i < 5) return false;
  f->type = (sc_station_page_type)p[i++];
  if (!sc_station_page_mime(f->type)) return false;
  uint32_t len = sc_get_be32(p + i);
  i += 4;
  if (len > n - i) return false;
  f->data = len ? p + i : NULL;
  f->len = len;
  *at = i + len;
  return true;
}

int sc_station_page_check(const uint8_t *p, size_t n, size_t *nfiles) {
  if (!p || n < 2 || n > SC_STATION_PAGE_MAX || p[0] != SC_STATION_PAGE_VERSION)
    return SC_ERR_INVALID;
  size_t count = p[1];
  if (count == 0 || count > SC_STATION_PAGE_FILES_MAX) return SC_ERR_INVALID;
  sc_station_page_file files[SC_STATION_PAGE_FILES_MAX];
  size_t at = 2;
  bool index = false;
  for (size_t k = 0; k < count; k++) {
    if (!next_file(p, n, &at, &files[k]) || name_repeated(files, k))
      return SC_ERR_INVALID;
    index = index || strcmp(files[k].name, SC_STATION_PAGE_INDEX) == 0;
  }
  if (at != n || !index) return SC_ERR_INVALID;
  if (nfiles) *nfiles = count;
  return SC_OK;
}

int sc_station_page_find(const uint8_t *p, size_t n, const char *name,
                         sc_station_page_file *out) {
  size_t count;
  if (!name || !out || sc_station_page_check(p, n, &count) != SC_OK)
    return SC_ERR_NOT_FOUND;
  size_t at = 2;
  for (size_t k = 0; k < count; k++) {
    if (!next_file(p, n, &at, out)) return SC_ERR_NOT_FOUND;
    if (strcmp(out->name, name) == 0) return SC_OK;
  }
  return SC_ERR_NOT_FOUND;
}
