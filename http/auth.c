/*
 * auth.c — strict Base64 (RFC 4648 §4), Basic credentials (RFC 7617) and a
 * constant-time comparison for passwords.
 */
#include "http/http.h"

#include <string.h>

#include "core/err.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int sc_http_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t cap) {
  if (inlen % 4 != 0) return SC_ERR_INVALID;
  size_t o = 0;
  for (size_t i = 0; i < inlen; i += 4) {
    bool last = i + 4 == inlen;
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      unsigned char c = (unsigned char)in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        pad++;
        continue;
      }
      if (pad > 0) /* data after padding */
        return SC_ERR_INVALID;
      v[k] = b64_value(c);
      if (v[k] < 0) return SC_ERR_INVALID;
    }
    uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                    (uint32_t)v[3];
    /* Unused bits must be zero (RFC 4648 §3.5): one canonical encoding. */
    if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
      return SC_ERR_INVALID;
    size_t n = 3 - (size_t)pad;
    if (o + n > cap) return SC_ERR_NOBUF;
    out[o++] = (uint8_t)(bits >> 16);
    if (n > 1) out[o++] = (uint8_t)(bits >> 8);
    if (n > 2) out[o++] = (uint8_t)bits;
  }
  return (int)o;
}

int sc_http_base64_encode(const uint8_t *in, size_t inlen, char *out, size_t cap) {
  size_t need = (inlen + 2) / 3 * 4;
  if (need + 1 > cap || need > (size_t)0x7fffffff) return SC_ERR_NOBUF;
  size_t o = 0;
  for (size_t i = 0; i < inlen; i += 3) {
    size_t n = inlen - i < 3 ? inlen - i : 3;
    uint32_t bits = (uint32_t)in[i] << 16;
    if (n > 1) bits |= (uint32_t)in[i + 1] << 8;
    if (n > 2) bits |= in[i + 2];
    out[o++] = b64_alphabet[(bits >> 18) & 63];
    out[o++] = b64_alphabet[(bits >> 12) & 63];
    out[o++] = n > 1 ? b64_alphabet[(bits >> 6) & 63] : '=';
    out[o++] = n > 2 ? b64_alphabet[bits & 63] : '=';
  }
  out[o] = '\0';
  return (int)o;
}

int sc_http_basic_auth_parse(sc_http_slice value, sc_http_basic_auth *out) {
  /* credentials = auth-scheme 1*SP token68 (RFC 9110 §11.4) */
  static const char scheme[] = "Basic";
  const size_t sl = sizeof scheme - 1;
  if (value.len < sl ||
      !sc_http_slice_eq_nocase((sc_http_slice){value.ptr, sl}, scheme) ||
      (value.len > sl && value.ptr[sl] != ' '))
    return SC_ERR_NOT_FOUND;
  size_t i = sl;
  while (i < value.len && value.ptr[i] == ' ')
    i++;
  if (i == sl || i == value.len) return SC_ERR_INVALID;
  uint8_t raw[((SC_HTTP_USER_MAX_BYTES + 1 + SC_HTTP_PASSWORD_MAX_BYTES) + 2) / 3 * 3];
  int n = sc_http_base64_decode(value.ptr + i, value.len - i, raw, sizeof raw);
  if (n == SC_ERR_NOBUF) return SC_ERR_TOO_LARGE;
  if (n < 0) return n;
  size_t colon = 0;
  while (colon < (size_t)n && raw[colon] != ':')
    colon++;
  if (colon == (size_t)n) return SC_ERR_INVALID;
  for (int k = 0; k < n; k++)
    if (raw[k] == 0) return SC_ERR_INVALID;
  size_t plen = (size_t)n - colon - 1;
  if (colon > SC_HTTP_USER_MAX_BYTES || plen > SC_HTTP_PASSWORD_MAX_BYTES)
    return SC_ERR_TOO_LARGE;
  memcpy(out->user, raw, colon);
  out->user[colon] = '\0';
  memcpy(out->password, raw + colon + 1, plen);
  out->password[plen] = '\0';
  return SC_OK;
}

bool sc_http_secret_eq(const void *a, size_t alen, const void *b, size_t blen) {
  /* Touch every byte of the longer string whatever the contents; the loop
   * count depends only on the lengths. volatile keeps the compiler from
   * turning the accumulation into an early exit. */
  const unsigned char *pa = a, *pb = b;
  size_t n = alen > blen ? alen : blen;
  volatile unsigned char diff = (unsigned char)(alen != blen);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < alen ? pa[i] : 0;
    unsigned char y = i < blen ? pb[i] : 0;
    diff |= (unsigned char)(x ^ y);
  }
  return diff == 0;
}
