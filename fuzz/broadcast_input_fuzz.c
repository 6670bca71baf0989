/*
 * broadcast_input_fuzz.c — libFuzzer target for what a broadcast's other
 * sources read from outside: a WAV header (runtime/wav.c) and a relayed
 * stream's interleaved ICY metadata (runtime/icy_reader.c, then
 * sc_http_icy_meta_parse on each block). The first two bytes pick the
 * metaint and the sizes of the pieces the stream arrives in. Whatever
 * arrives: the WAV parse answers within its bounds, the audio and the
 * blocks together are exactly the input, each block is a whole one.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/http.h"
#include "runtime/encoder.h"
#include "runtime/relay.h"

typedef struct {
  size_t audio, meta;
} totals;

static void on_audio(void *user, const uint8_t *data, size_t datalen) {
  totals *t = user;
  assert(datalen > 0);
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < datalen; i++)
    sink ^= data[i];
  (void)sink;
  t->audio += datalen;
}

static void on_meta(void *user, const uint8_t *block, size_t blocklen) {
  totals *t = user;
  assert(blocklen == 1 + (size_t)block[0] * SC_HTTP_ICY_META_UNIT_BYTES);
  sc_http_icy_meta m;
  int rv = sc_http_icy_meta_parse(block, blocklen, &m);
  assert(rv == (int)blocklen || rv < 0);
  t->meta += blocklen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rt_pcm_format f;
  size_t off;
  uint64_t n;
  char why[200];
  int rv = rt_wav_parse(data, size, &f, &off, &n, why, sizeof why);
  if (rv == 0) {
    assert(off <= size && off <= RT_WAV_HEADER_MAX);
    assert(f.channels >= 1 && f.channels <= RT_ENC_CHANNELS_MAX);
    assert(f.rate_hz >= RT_ENC_RATE_MIN && f.rate_hz <= RT_ENC_RATE_MAX);
  } else {
    assert(rv == SC_ERR_TRUNCATED || rv == SC_ERR_INVALID);
  }
  if (size < 2) return 0;
  uint32_t metaint = data[0] % 64; /* 0: no metadata */
  size_t piece = 1 + data[1] % 97;
  data += 2;
  size -= 2;
  rt_icy_reader r;
  rt_icy_reader_init(&r, metaint);
  totals t = {0, 0};
  rt_icy_sink sink = {on_audio, on_meta, &t};
  size_t fed = 0;
  while (fed < size) {
    size_t k = size - fed < piece ? size - fed : piece;
    rt_icy_reader_feed(&r, data + fed, k, &sink);
    fed += k;
  }
  /* What is not out yet is the block being read. */
  size_t held = r.in_meta ? r.meta_have : 0;
  assert(t.audio + t.meta + held == size);
  return 0;
}
