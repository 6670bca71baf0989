/*
 * relay_head_fuzz.c — libFuzzer target for what a relay keeps of its
 * upstream server's answer head (runtime/icy_reader.c: rt_relay_head_line,
 * the header lines libcurl hands over). The first byte is the length of a
 * configured info prefix taken from the input; the rest is cut into lines
 * after each '\n' (kept, as libcurl keeps it). Whatever arrives: a status
 * line only asks for a reset; the info stays NUL-terminated within its
 * bound, is the prefix, then relay=URL and "key=value\n" lines of known keys
 * without control bytes; the Content-Type stays within its bound and the
 * metaint within (0, RT_RELAY_METAINT_MAX].
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/relay.h"

#define URL "http://upstream.example:8000/live"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {"relay",       "content-type", "name",
                                   "description", "genre",        "url",
                                   "bitrate",     "public",       "audio-info"};

/* The info after the prefix: key=value lines of known keys, no control bytes.
 * The checking functions are not coverage-instrumented (ASan still checks
 * them): run after each line of the head, their comparisons traced per byte
 * were most of the time and tell the fuzzer nothing about the parser. */
__attribute__((no_sanitize("coverage"))) static void check_lines(const char *s,
                                                                 size_t len) {
  size_t i = 0;
  while (i < len) {
    const char *eq = memchr(s + i, '=', len - i);
    assert(eq != NULL);
    size_t klen = (size_t)(eq - (s + i));
    int known = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      known |= klen == strlen(keys[k]) && memcmp(s + i, keys[k], klen) == 0;
    assert(known);
    const char *nl = memchr(eq, '\n', len - (size_t)(eq - s));
    assert(nl != NULL);
    for (const char *p = eq + 1; p < nl; p++)
      assert((unsigned char)*p >= 0x20);
    i = (size_t)(nl - s) + 1;
  }
}

__attribute__((no_sanitize("coverage"))) static void check(const rt_relay_head *h,
                                                           const char *prefix) {
  assert(h->infolen < sizeof h->info);
  assert(h->info[h->infolen] == '\0' && strlen(h->info) == h->infolen);
  assert(memchr(h->content_type, '\0', sizeof h->content_type) != NULL);
  assert(h->metaint <= RT_RELAY_METAINT_MAX);
  size_t plen = strlen(prefix);
  assert(h->infolen >= plen && memcmp(h->info, prefix, plen) == 0);
  check_lines(h->info + plen, h->infolen - plen);
}

/* check(h) for the h a line left, before (checked) the one it found. When the
 * line only added lines to the info, the part checked before is compared and
 * only the added lines are checked: the same verdict as check(h), in time for
 * the added bytes rather than the whole info (a head of many header lines
 * was quadratic). */
__attribute__((no_sanitize("coverage"))) static void
check_after(const rt_relay_head *before, const rt_relay_head *h, const char *prefix) {
  size_t old = before->infolen;
  if (h->infolen < old || h->infolen >= sizeof h->info ||
      memcmp(h->info, before->info, old) != 0) {
    check(h, prefix);
    return;
  }
  assert(h->info[h->infolen] == '\0' &&
         memchr(h->info + old, '\0', h->infolen - old) == NULL);
  assert(memchr(h->content_type, '\0', sizeof h->content_type) != NULL);
  assert(h->metaint <= RT_RELAY_METAINT_MAX);
  check_lines(h->info + old, h->infolen - old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  char prefix[64];
  size_t plen = data[0] % sizeof prefix;
  data++;
  size--;
  if (plen > size) plen = size;
  memcpy(prefix, data, plen);
  prefix[plen] = '\0';
  data += plen;
  size -= plen;
  static rt_relay_head h;
  rt_relay_head_reset(&h, prefix, URL);
  check(&h, prefix);
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    rt_relay_head before = h;
    if (rt_relay_head_line(&h, p, len)) {
      assert(memcmp(&before, &h, sizeof h) == 0); /* a status line changes nothing */
      rt_relay_head_reset(&h, prefix, URL);
    }
    /* The check depends on h alone: an h unchanged by the line was checked. */
    if (memcmp(&before, &h, sizeof h) != 0) check_after(&before, &h, prefix);
    p += len;
  }
  return 0;
}
