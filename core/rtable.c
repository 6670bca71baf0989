/* rtable.c — Pastry routing table (see rtable.h). */
#include "rtable.h"

#include "err.h"

#define RT_ROW_BYTES (SC_ID_BASE * sizeof(sc_rt_entry))

void sc_rtable_init(sc_rtable *rt, const sc_id *self) {
  rt->self = *self;
  rt->count = 0;
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++) rt->rows[i] = NULL;
}

void sc_rtable_free(sc_rtable *rt, const sc_alloc *alloc) {
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++) {
    if (rt->rows[i]) alloc->free(rt->rows[i], alloc->user);
    rt->rows[i] = NULL;
  }
  rt->count = 0;
}

const sc_rt_entry *sc_rtable_find(const sc_rtable *rt, const sc_id *id) {
  unsigned row, col;
  if (!sc_rtable_slot(rt, id, &row, &col)) return NULL;
  const sc_rt_entry *e = sc_rtable_get(rt, row, col);
  return e && sc_id_eq(&e->id, id) ? e : NULL;
}

int sc_rtable_consider(sc_rtable *rt, const sc_ref *r, uint32_t rtt_us, bool pns,
                       const sc_alloc *alloc) {
  unsigned row, col;
  if (r->addr == SC_ADDR_NONE || !sc_rtable_slot(rt, &r->id, &row, &col))
    return SC_RTABLE_UNCHANGED;
  if (rt->rows[row] == NULL) {
    sc_rt_entry *fresh = alloc->malloc(RT_ROW_BYTES, alloc->user);
    if (fresh == NULL) return SC_ERR_NOMEM;
    for (unsigned i = 0; i < SC_ID_BASE; i++) {
      fresh[i].id = (sc_id){0, 0};
      fresh[i].addr = SC_ADDR_NONE;
      fresh[i].rtt_us = SC_RTT_UNKNOWN;
    }
    rt->rows[row] = fresh;
  }
  sc_rt_entry *e = &rt->rows[row][col];
  if (e->addr == SC_ADDR_NONE) {
    e->id = r->id;
    e->addr = r->addr;
    e->rtt_us = rtt_us;
    rt->count++;
    return SC_RTABLE_INSERTED;
  }
  if (sc_id_eq(&e->id, &r->id)) {
    if (rtt_us == SC_RTT_UNKNOWN && e->addr == r->addr) return SC_RTABLE_UNCHANGED;
    if (rtt_us != SC_RTT_UNKNOWN) e->rtt_us = rtt_us;
    e->addr = r->addr;
    return SC_RTABLE_UPDATED;
  }
  /* Pastry §2.5: keep the nearest eligible peer. */
  if (pns && rtt_us != SC_RTT_UNKNOWN && rtt_us < e->rtt_us) {
    e->id = r->id;
    e->addr = r->addr;
    e->rtt_us = rtt_us;
    return SC_RTABLE_REPLACED;
  }
  return SC_RTABLE_UNCHANGED;
}

int sc_rtable_remove(sc_rtable *rt, const sc_id *id) {
  unsigned row, col;
  if (!sc_rtable_slot(rt, id, &row, &col) || rt->rows[row] == NULL) return -1;
  sc_rt_entry *e = &rt->rows[row][col];
  if (e->addr == SC_ADDR_NONE || !sc_id_eq(&e->id, id)) return -1;
  e->addr = SC_ADDR_NONE;
  e->rtt_us = SC_RTT_UNKNOWN;
  rt->count--;
  return (int)row;
}

size_t sc_rtable_mem_bytes(const sc_rtable *rt) {
  size_t n = 0;
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++)
    if (rt->rows[i]) n += RT_ROW_BYTES;
  return n;
}
