/*
 * station_fuzz.c — libFuzzer target for the station reader (core/station):
 * the input is cut into generations (a length byte, then that many bytes),
 * some reported lost, some handed over as a fetched state (0xfd, a length
 * byte, the bytes). Whatever arrives, every record emitted is of a known
 * type and within the bound, and nothing reads out of bounds.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/station.h"

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t datalen) {
  (void)user;
  assert(type >= SC_STATION_MEDIA && type <= SC_STATION_PAGE);
  assert(datalen <= SC_STATION_RECORD_MAX);
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < datalen; i++)
    sink ^= data[i];
  (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_station_reader *r;
  if (sc_station_reader_new(&r, on_record, NULL, NULL) != 0) return 0;
  uint64_t gen = 0;
  while (size > 0) {
    uint8_t ctl = data[0];
    data++;
    size--;
    if (ctl == 0xff) {
      sc_station_reader_lost(r, gen++);
      continue;
    }
    if (ctl == 0xfe) {
      sc_station_reader_restart(r);
      continue;
    }
    if (ctl == 0xfd && size > 0) {
      /* A fetched state (core/state.h's answer, from the network). */
      size_t n = data[0] < size - 1 ? data[0] : size - 1;
      int rc = sc_station_reader_state(r, data + 1, n);
      assert(rc == 0 || rc == SC_ERR_INVALID);
      data += 1 + n;
      size -= 1 + n;
      continue;
    }
    size_t n = ctl < size ? ctl : size;
    sc_station_reader_gen(r, gen++, data, n);
    data += n;
    size -= n;
  }
  const uint8_t *h;
  size_t hlen;
  sc_station_reader_headers(r, &h, &hlen);
  assert(hlen <= SC_STATION_HEADERS_MAX);
  sc_station_reader_del(r);
  return 0;
}
