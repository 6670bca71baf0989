/* rtable.c — Pastry routing table (see rtable.h). */
#include "rtable.h"

#include <string.h>

#include "err.h"

#define RT_ROW_BYTES (SC_ID_BASE * sizeof(sc_rt_entry))

_Static_assert(SC_RT_TAIL_MAX <= UINT8_MAX, "ntail and tail_cap are bytes");
_Static_assert(SC_RT_ROWS_MAX *SC_ID_BASE <= UINT16_MAX, "count is 16 bits");

static sc_rt_entry *rtable_slot_mut(sc_rtable *rt, unsigned row, unsigned col) {
  return &rt->block[(size_t)(rt->row_at[row] - 1) * SC_ID_BASE + col];
}

void sc_rtable_init(sc_rtable *rt, const sc_id *self) {
  rt->self = *self;
  rt->count = 0;
  rt->nrows = 0;
  rt->ntail = rt->tail_cap = 0;
  rt->block = NULL;
  rt->tail = NULL;
  for (unsigned i = 0; i < SC_RT_ROWS_MAX; i++)
    rt->row_at[i] = 0;
}

void sc_rtable_free(sc_rtable *rt, const sc_alloc *alloc) {
  if (rt->block) alloc->free(rt->block, alloc->user);
  if (rt->tail) alloc->free(rt->tail, alloc->user);
  sc_rtable_init(rt, &rt->self);
}

/* True if tail entry e is the one of (row, col). */
static inline bool tail_is(const sc_rtable *rt, const sc_rt_entry *e, unsigned row,
                           unsigned col) {
  return sc_id_shl(&rt->self, &e->id) == row && sc_id_digit(&e->id, row) == col;
}

static int tail_index(const sc_rtable *rt, unsigned row, unsigned col) {
  for (unsigned i = 0; i < rt->ntail; i++)
    if (tail_is(rt, &rt->tail[i], row, col)) return (int)i;
  return -1;
}

const sc_rt_entry *sc_rtable_tail_get(const sc_rtable *rt, unsigned row, unsigned col) {
  int i = tail_index(rt, row, col);
  return i < 0 ? NULL : &rt->tail[i];
}

/* Gives the tail room for cap (>= ntail) entries. Returns SC_OK or
 * SC_ERR_NOMEM (the table unchanged). malloc + free rather than realloc,
 * as for the block. */
static int tail_resize(sc_rtable *rt, unsigned cap, const sc_alloc *alloc) {
  if (cap == rt->tail_cap) return SC_OK;
  sc_rt_entry *nt = NULL;
  if (cap > 0) {
    nt = alloc->malloc(cap * sizeof(sc_rt_entry), alloc->user);
    if (nt == NULL) return SC_ERR_NOMEM;
    if (rt->ntail) memcpy(nt, rt->tail, rt->ntail * sizeof(sc_rt_entry));
  }
  if (rt->tail) alloc->free(rt->tail, alloc->user);
  rt->tail = nt;
  rt->tail_cap = (uint8_t)cap;
  return SC_OK;
}

/* Makes sparse row `row` a dense row of the block, its tail entries moved
 * into their slots and the tail shrunk to what is left. Returns SC_OK or
 * SC_ERR_NOMEM (the table unchanged). A table grows about log16(N) times in
 * its life, so the copies are cheap. */
static int rtable_promote(sc_rtable *rt, unsigned row, const sc_alloc *alloc) {
  unsigned left = 0;
  for (unsigned i = 0; i < rt->ntail; i++)
    left += sc_id_shl(&rt->self, &rt->tail[i].id) != row;
  unsigned cap = (left + SC_RT_TAIL_STEP - 1) / SC_RT_TAIL_STEP * SC_RT_TAIL_STEP;
  sc_rt_entry *nb = alloc->malloc((rt->nrows + 1u) * RT_ROW_BYTES, alloc->user);
  if (nb == NULL) return SC_ERR_NOMEM;
  sc_rt_entry *nt = rt->tail;
  if (cap != rt->tail_cap) {
    nt = cap ? alloc->malloc(cap * sizeof(sc_rt_entry), alloc->user) : NULL;
    if (cap && nt == NULL) {
      alloc->free(nb, alloc->user);
      return SC_ERR_NOMEM;
    }
  }
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
  rt->row_at[row] = rt->nrows;
  unsigned k = 0;
  for (unsigned i = 0; i < rt->ntail; i++) {
    const sc_rt_entry *e = &rt->tail[i];
    if (sc_id_shl(&rt->self, &e->id) == row)
      fresh[sc_id_digit(&e->id, row)] = *e;
    else
      nt[k++] = *e; /* nt may be the tail itself: k <= i */
  }
  if (nt != rt->tail && rt->tail) alloc->free(rt->tail, alloc->user);
  rt->tail = nt;
  rt->tail_cap = (uint8_t)cap;
  rt->ntail = (uint8_t)k;
  return SC_OK;
}

const sc_rt_entry *sc_rtable_find(const sc_rtable *rt, const sc_id *id) {
  unsigned row, col;
  if (!sc_rtable_slot(rt, id, &row, &col)) return NULL;
  const sc_rt_entry *e = sc_rtable_get(rt, row, col);
  return e && sc_id_eq(&e->id, id) ? e : NULL;
}

static void entry_set(sc_rt_entry *e, const sc_ref *r, uint32_t rtt_us) {
  e->id = r->id;
  e->addr = r->addr;
  e->rtt_us = rtt_us;
}

/* r offered for the occupied slot e. */
static int entry_offer(sc_rt_entry *e, const sc_ref *r, uint32_t rtt_us, bool pns) {
  if (sc_id_eq(&e->id, &r->id)) {
    if (rtt_us == SC_RTT_UNKNOWN && e->addr == r->addr) return SC_RTABLE_UNCHANGED;
    if (rtt_us != SC_RTT_UNKNOWN) e->rtt_us = rtt_us;
    e->addr = r->addr;
    return SC_RTABLE_UPDATED;
  }
  /* Pastry §2.5: keep the nearest eligible peer. */
  if (pns && rtt_us != SC_RTT_UNKNOWN && rtt_us < e->rtt_us) {
    entry_set(e, r, rtt_us);
    return SC_RTABLE_REPLACED;
  }
  return SC_RTABLE_UNCHANGED;
}

/* The number of tail entries in row. */
static unsigned tail_row_count(const sc_rtable *rt, unsigned row) {
  unsigned n = 0;
  for (unsigned i = 0; i < rt->ntail; i++)
    n += sc_id_shl(&rt->self, &rt->tail[i].id) == row;
  return n;
}

int sc_rtable_consider(sc_rtable *rt, const sc_ref *r, uint32_t rtt_us, bool pns,
                       const sc_alloc *alloc) {
  unsigned row, col;
  if (r->addr == SC_ADDR_NONE || !sc_rtable_slot(rt, &r->id, &row, &col))
    return SC_RTABLE_UNCHANGED;
  if (rt->row_at[row] == 0 || rt->row_at[row] == SC_RT_ROW_SPARSE) {
    int i = rt->row_at[row] ? tail_index(rt, row, col) : -1;
    if (i >= 0) return entry_offer(&rt->tail[i], r, rtt_us, pns);
    if (rt->row_at[row] == 0 || tail_row_count(rt, row) < SC_RT_SPARSE_MAX) {
      if (rt->ntail == rt->tail_cap) {
        int rv = tail_resize(rt, rt->tail_cap + SC_RT_TAIL_STEP, alloc);
        if (rv < 0) return rv;
      }
      rt->row_at[row] = SC_RT_ROW_SPARSE;
      entry_set(&rt->tail[rt->ntail++], r, rtt_us);
      rt->count++;
      return SC_RTABLE_INSERTED;
    }
    int rv = rtable_promote(rt, row, alloc);
    if (rv < 0) return rv;
  }
  sc_rt_entry *e = rtable_slot_mut(rt, row, col);
  if (e->addr == SC_ADDR_NONE) {
    entry_set(e, r, rtt_us);
    rt->count++;
    return SC_RTABLE_INSERTED;
  }
  return entry_offer(e, r, rtt_us, pns);
}

int sc_rtable_remove(sc_rtable *rt, const sc_id *id) {
  unsigned row, col;
  if (!sc_rtable_slot(rt, id, &row, &col) || rt->row_at[row] == 0) return -1;
  if (rt->row_at[row] == SC_RT_ROW_SPARSE) {
    int i = tail_index(rt, row, col);
    if (i < 0 || !sc_id_eq(&rt->tail[i].id, id)) return -1;
    rt->tail[i] = rt->tail[--rt->ntail];
    rt->count--;
    return (int)row;
  }
  sc_rt_entry *e = rtable_slot_mut(rt, row, col);
  if (e->addr == SC_ADDR_NONE || !sc_id_eq(&e->id, id)) return -1;
  e->addr = SC_ADDR_NONE;
  e->rtt_us = SC_RTT_UNKNOWN;
  rt->count--;
  return (int)row;
}

size_t sc_rtable_mem_bytes(const sc_rtable *rt) {
  return rt->nrows * RT_ROW_BYTES + rt->tail_cap * sizeof(sc_rt_entry);
}
