/*
 * station_page_fuzz.c — libFuzzer target for the station's page
 * (core/station.h, "The station's page"): the input is a bundle as a PAGE
 * record brings it, then the same bytes as a fetched state. A bundle that
 * checks has an index.html and every lookup stays inside it; one that does
 * not is never kept by a reader.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/station.h"

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t len) {
  (void)user;
  if (type == SC_STATION_PAGE) assert(sc_station_page_check(data, len, NULL) == SC_OK);
}

/* Every byte of a found file is read (ASan sees one out of bounds). */
static void touch(const sc_station_page_file *f) {
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < f->len; i++)
    sink ^= f->data[i];
  (void)sink;
  assert(sc_station_page_mime(f->type) != NULL);
  assert(sc_station_page_name_ok(f->name, strlen(f->name)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n = 0;
  sc_station_page_file f;
  if (sc_station_page_check(data, size, &n) == SC_OK) {
    assert(n >= 1 && n <= SC_STATION_PAGE_FILES_MAX);
    assert(sc_station_page_find(data, size, SC_STATION_PAGE_INDEX, &f) == SC_OK);
    touch(&f);
  } else {
    assert(sc_station_page_find(data, size, SC_STATION_PAGE_INDEX, &f) ==
           SC_ERR_NOT_FOUND);
  }
  /* A name from the input's last bytes. */
  char name[SC_STATION_PAGE_NAME_MAX + 1];
  size_t k = size < 12 ? size : 12;
  memcpy(name, data + size - k, k);
  name[k] = '\0';
  if (sc_station_page_find(data, size, name, &f) == SC_OK) touch(&f);

  /* The same bytes as a state (a peer's answer), and as its page alone. */
  sc_station_reader *r;
  if (sc_station_reader_new(&r, on_record, NULL, NULL) != SC_OK) return 0;
  int rc = sc_station_reader_state(r, data, size);
  assert(rc == SC_OK || rc == SC_ERR_INVALID);
  rc = sc_station_reader_state_page(r, data, size);
  assert(rc == SC_OK || rc == SC_ERR_INVALID || rc == SC_ERR_NOT_FOUND);
  const uint8_t *p;
  size_t plen;
  sc_station_reader_page(r, &p, &plen);
  assert(plen == 0 || sc_station_page_check(p, plen, NULL) == SC_OK);
  sc_station_reader_del(r);
  return 0;
}
