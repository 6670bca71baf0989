/*
 * wire_seeds.c — writes the wire fuzzer's seed corpus: for every message
 * type, a few random valid messages (tests/wire_testutil.c's rand_msg)
 * encoded with the runtime's address map, one file each, into the folder
 * given. A fuzzer that starts from real datagrams reaches deep into the
 * decoder within seconds instead of minutes.
 *
 * usage: wire_seeds DIR (the committed corpus is fuzz/corpus/wire/)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "runtime/addr.h"
#include "tests/wire_testutil.h"

#define SEEDS_PER_TYPE 4
#define SEED_ADDRS     64

/* rand_msg draws any 32-bit handle; make each one a handle of the table. */
static void fix(sc_ref *r) {
  r->addr %= SEED_ADDRS;
}

static void fix_addrs(sc_msg *m) {
  fix(&m->sender);
  switch (m->type) {
  case SC_MSG_ROUTE:
    fix(&m->u.route.origin);
    break;
  case SC_MSG_LEAFSET:
    for (unsigned i = 0; i < m->u.leafset.n; i++)
      fix(&m->u.leafset.e[i]);
    break;
  case SC_MSG_ROW:
    for (unsigned i = 0; i < m->u.row.n; i++)
      fix(&m->u.row.e[i]);
    break;
  case SC_MSG_SCRIBE_DROP:
    for (unsigned i = 0; i < m->u.scribe_drop.n; i++)
      fix(&m->u.scribe_drop.e[i]);
    break;
  case SC_MSG_ANYCAST:
    fix(&m->u.anycast.requester);
    for (unsigned i = 0; i < m->u.anycast.nvisit; i++)
      fix(&m->u.anycast.visit[i]);
    break;
  default:
    break;
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: wire_seeds DIR\n");
    return 2;
  }
  rt_addr_table t;
  if (rt_addr_init(&t, SEED_ADDRS) != 0) return 1;
  for (unsigned i = 0; i < SEED_ADDRS; i++) {
    sc_addr a;
    if (rt_addr_intern(&t, 0x7f000001u, (uint16_t)(10000 + i), &a) != 0) return 1;
  }
  const sc_wire_addr_map *map = rt_addr_map(&t);
  sc_rng r;
  sc_rng_seed(&r, 20261121);
  static uint8_t payload[SC_CHUNK_BYTES_MAX];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)(i * 7);
  unsigned written = 0;
  for (unsigned type = 1; type < SC_MSG_TYPE_END; type++) {
    for (unsigned k = 0; k < SEEDS_PER_TYPE; k++) {
      sc_msg m;
      rand_msg(&r, type, &m);
      fix_addrs(&m);
      if (type == SC_MSG_MULTICAST && m.u.multicast.len > 0 && !m.u.multicast.data)
        m.u.multicast.data = payload;
      uint8_t buf[SC_WIRE_DATAGRAM_MAX];
      int n = sc_wire_encode(&m, map, buf, sizeof buf);
      if (n <= 0) continue; /* e.g. a kind the encoder refuses: not a seed */
      char path[4096];
      snprintf(path, sizeof path, "%s/%s-%u", argv[1], sc_msg_type_name(type), k);
      FILE *f = fopen(path, "wb");
      if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
        perror(path);
        return 1;
      }
      written++;
    }
  }
  printf("wire_seeds: %u seeds in %s\n", written, argv[1]);
  rt_addr_free(&t);
  return written > 0 ? 0 : 1;
}
