/*
 * directory_fuzz.c — libFuzzer target for the station directory's record
 * parser (core/directory_record.c) and table (core/directory.c): the input
 * is a list of records, each a length (u16, big-endian) and that many bytes,
 * offered to a directory as ANNOUNCEs with signatures checked, then to one
 * that trusts them (the simulator's setting), so that the table behind the
 * signature is reached too.
 *
 * Checked: a record parses only within its bounds, with every string
 * terminated and free of control bytes; the directory never lists more than
 * its bound, and every station it lists parses back.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "core/directory.h"
#include "core/err.h"

#define TABLE_MAX 8

static void no_send(void *user, sc_addr to, const sc_msg *m) {
  (void)user;
  (void)to;
  (void)m;
}

static void check_string(const char *s, size_t max) {
  size_t n = strnlen(s, max + 1);
  assert(n <= max);
  for (size_t i = 0; i < n; i++)
    assert((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_record(const sc_directory_record *r) {
  check_string(r->info.name, SC_DIRECTORY_NAME_MAX);
  check_string(r->info.mount, SC_DIRECTORY_MOUNT_MAX);
  check_string(r->info.description, SC_DIRECTORY_DESCRIPTION_MAX);
  check_string(r->info.genre, SC_DIRECTORY_GENRE_MAX);
  check_string(r->info.codec, SC_DIRECTORY_CODEC_MAX);
}

static void run(const uint8_t *data, size_t size, bool verify) {
  sc_directory_config c;
  sc_directory_config_default(&c);
  c.verify = verify;
  c.stations_max = TABLE_MAX;
  sc_directory_host h = {.pastry = NULL, .self = {{1, 1}, 1}, .send = no_send};
  sc_directory *d;
  if (sc_directory_new(&d, &c, &h, NULL, 0) != SC_OK) return;
  uint64_t now = 1000000000ull;
  while (size >= 2) {
    size_t len = (size_t)data[0] << 8 | data[1];
    data += 2;
    size -= 2;
    if (len > size) len = size;
    sc_directory_record r;
    if (sc_directory_record_parse(data, len, false, &r) == SC_OK) {
      assert(len <= SC_DIRECTORY_RECORD_MAX);
      check_record(&r);
    }
    sc_msg m;
    memset(&m, 0, sizeof m);
    m.type = SC_MSG_ANNOUNCE;
    m.sender = (sc_ref){{2, 2}, 2};
    m.u.announce.level = SC_ANNOUNCE_ANSWER;
    m.u.announce.len =
        (uint16_t)(len > SC_ANNOUNCE_BYTES_MAX ? SC_ANNOUNCE_BYTES_MAX : len);
    m.u.announce.data = data;
    int rv = sc_directory_recv(d, &m, now);
    assert(rv == SC_OK || rv == SC_ERR_INVALID || rv == SC_ERR_FULL);
    now += 60000000000ull;
    data += len;
    size -= len;
  }
  sc_directory_entry e[TABLE_MAX + 1];
  unsigned n = sc_directory_list(d, e, TABLE_MAX + 1, now);
  assert(n <= TABLE_MAX);
  for (unsigned i = 0; i < n; i++)
    check_record(&e[i].rec);
  sc_directory_del(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) ready = sodium_init() >= 0 ? 1 : -1;
  if (ready < 0) return 0;
  run(data, size, true);
  run(data, size, false);
  return 0;
}
