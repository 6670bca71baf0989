/* rtable.c — Pastry routing table (see rtable.h). */
#include "rtable.h"

#include <string.h>

#include "err.h"

#define RT_ROW_BYTES (SC_ID_BASE * sizeof(sc_rt_entry))

static sc_rt_entry *rtable_slot_mut(sc_rtable *rt, unsigned row, unsigned col) {
  return &rt->block[(size_t)(rt->row_at[row] - 1) * SC_ID_BASE + col];
}

void sc_rtable_init(sc_rtable *rt, const sc_id *self) {
  rt->self = *self;
  rt->count = 0;
  rt->nrows = 0;
  rt->block = NULL;
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++) rt->row_at[i] = 0;
}

void sc_rtable_free(sc_rtable *rt, const sc_alloc *alloc) {
  if (rt->block) alloc->free(rt->block, alloc->user);
  rt->block = NULL;
  rt->nrows = 0;
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++) rt->row_at[i] = 0;
  rt->count = 0;
}

/* Appends an empty row to the block for row. Returns SC_OK or SC_ERR_NOMEM
 * (the table unchanged). A table grows about log16(N) times in its life, so
 * the copy is cheap; malloc + free rather than realloc keeps the old block
 * valid until the new one exists. */
static int rtable_add_row(sc_rtable *rt, unsigned row, const sc_alloc *alloc) {
  sc_rt_entry *nb = alloc->malloc((rt->nrows + 1) * RT_ROW_BYTES, alloc->user);
  if (nb == NULL) return SC_ERR_NOMEM;
  if (rt->block) {
    memcpy(nb, rt->block, rt->nrows * RT_ROW_BYTES);
    alloc->free(rt->block, alloc->user);
  }
  rt->block = nb;
  sc_rt_entry *fresh = nb + (size_t)rt->nrows * SC_ID_BASE;
  for (unsigned i = 0; i < SC_ID_BASE; i++) {
    fresh[i].id = (sc_id){0, 0};
    fresh[i].addr = SC_ADDR_NONE;
    fresh[i].rtt_us = SC_RTT_UNKNOWN;
  }
  rt->nrows++;
  rt->row_at[row] = (uint8_t)rt->nrows;
  return SC_OK;
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
  if (rt->row_at[row] == 0) {
    int rv = rtable_add_row(rt, row, alloc);
    if (rv < 0) return rv;
  }
  sc_rt_entry *e = rtable_slot_mut(rt, row, col);
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
  if (!sc_rtable_slot(rt, id, &row, &col) || rt->row_at[row] == 0) return -1;
  sc_rt_entry *e = rtable_slot_mut(rt, row, col);
  if (e->addr == SC_ADDR_NONE || !sc_id_eq(&e->id, id)) return -1;
  e->addr = SC_ADDR_NONE;
  e->rtt_us = SC_RTT_UNKNOWN;
  rt->count--;
  return (int)row;
}

size_t sc_rtable_mem_bytes(const sc_rtable *rt) { return rt->nrows * RT_ROW_BYTES; }
