/*
 * rtable.h — Pastry's routing table (Pastry §2.1).
 *
 * Row r holds peers that share the owner's first r digits and differ in digit
 * r; column c of row r holds one whose digit r is c. With proximity neighbour
 * selection (PNS, Pastry §2.5) a slot keeps, of the peers eligible for it, the
 * one with the smallest measured round-trip time.
 *
 * Rows are allocated on first use: an overlay of N peers fills about
 * log16(N) rows, so a million peers cost five rows each, not 32. The rows
 * live in one block, grown a row at a time: one allocation per peer, not one
 * per row, and no pointer chase to a row scattered elsewhere in the heap.
 *
 * The deepest row is nearly empty (at 10^6 peers the sixth holds about one
 * peer, at 10^5 the fifth one or two): a row starts *sparse*, its entries in
 * a small second array (the tail, shared by all sparse rows, in no order),
 * and becomes a dense row of the block when it would hold more than
 * SC_RT_SPARSE_MAX. Both arrays grow in coarse steps, so that a million
 * tables growing together leave few freed sizes behind. Lookups are the same
 * either way.
 */
#ifndef SC_RTABLE_H
#define SC_RTABLE_H

#include <stdbool.h>

#include "alloc.h"
#include "msg.h"

/* Rows kept. Peers sharing more digits than this are leaf-set material in any
 * overlay below 16^16 peers. */
#define SC_RT_ROWS_MAX 16
#define SC_RTT_UNKNOWN UINT32_MAX
/* Entries a sparse row holds; one more makes it dense (16 slots). */
#define SC_RT_SPARSE_MAX 4
#define SC_RT_TAIL_STEP  2                                   /* tail growth, entries */
#define SC_RT_TAIL_MAX   (SC_RT_ROWS_MAX * SC_RT_SPARSE_MAX) /* tail bound */
#define SC_RT_ROW_SPARSE 0xFF                                /* row_at: in the tail */

typedef struct sc_rt_entry {
  sc_id id;
  sc_addr addr;    /* SC_ADDR_NONE: empty slot */
  uint32_t rtt_us; /* SC_RTT_UNKNOWN until measured */
} sc_rt_entry;

typedef struct sc_rtable {
  sc_id self;
  sc_rt_entry *block;      /* nrows rows of SC_ID_BASE entries, in allocation order */
  sc_rt_entry *tail;       /* ntail entries of the sparse rows, any order */
  uint16_t count;          /* occupied slots */
  uint8_t nrows;           /* rows in block */
  uint8_t ntail, tail_cap; /* tail entries used, allocated */
  /* Row r is block row row_at[r] - 1; SC_RT_ROW_SPARSE: in the tail; 0: never
   * used. Bytes, not pointers, so the whole header stays within one cache
   * line. */
  uint8_t row_at[SC_RT_ROWS_MAX];
} sc_rtable;

void sc_rtable_init(sc_rtable *rt, const sc_id *self);
void sc_rtable_free(sc_rtable *rt, const sc_alloc *alloc);

/* The slot id belongs in. False for the owner or a row beyond the table. */
static inline bool sc_rtable_slot(const sc_rtable *rt, const sc_id *id, unsigned *row,
                                  unsigned *col) {
  unsigned r = sc_id_shl(&rt->self, id);
  if (r >= SC_RT_ROWS_MAX) return false;
  *row = r;
  *col = sc_id_digit(id, r);
  return true;
}

/* True if row has ever held an entry (it may be empty again). */
static inline bool sc_rtable_has_row(const sc_rtable *rt, unsigned row) {
  return row < SC_RT_ROWS_MAX && rt->row_at[row] != 0;
}

/* True if row is dense (a row of the block; it may be empty). */
static inline bool sc_rtable_row_dense(const sc_rtable *rt, unsigned row) {
  return row < SC_RT_ROWS_MAX && rt->row_at[row] != 0 &&
         rt->row_at[row] != SC_RT_ROW_SPARSE;
}

/* Where to prefetch for the entry at (row, col), row used (has_row): its
 * slot in a dense row, occupied or not, else the tail (NULL if empty). */
static inline const sc_rt_entry *sc_rtable_slot_at(const sc_rtable *rt, unsigned row,
                                                   unsigned col) {
  if (rt->row_at[row] == SC_RT_ROW_SPARSE) return rt->tail;
  return &rt->block[(size_t)(rt->row_at[row] - 1) * SC_ID_BASE + (col & 15)];
}

/* The entry at (row, col) of a sparse row, or NULL. */
const sc_rt_entry *sc_rtable_tail_get(const sc_rtable *rt, unsigned row, unsigned col);

/* The entry at (row, col), or NULL if empty. */
static inline const sc_rt_entry *sc_rtable_get(const sc_rtable *rt, unsigned row,
                                               unsigned col) {
  if (!sc_rtable_has_row(rt, row)) return NULL;
  if (rt->row_at[row] == SC_RT_ROW_SPARSE) return sc_rtable_tail_get(rt, row, col);
  const sc_rt_entry *e = sc_rtable_slot_at(rt, row, col);
  return e->addr == SC_ADDR_NONE ? NULL : e;
}

/* The entry holding id, or NULL. */
const sc_rt_entry *sc_rtable_find(const sc_rtable *rt, const sc_id *id);

enum {
  SC_RTABLE_UNCHANGED = 0,
  SC_RTABLE_INSERTED = 1, /* filled an empty slot */
  SC_RTABLE_REPLACED = 2, /* displaced a farther peer (PNS) */
  SC_RTABLE_UPDATED = 3,  /* same peer, new RTT or address */
};

/*
 * Offers r with round-trip time rtt_us (SC_RTT_UNKNOWN if not measured) for
 * its slot. An empty slot takes it; with pns an occupied slot takes it if its
 * RTT is known and smaller than the occupant's (an occupant of unknown RTT
 * yields to any measured peer). Returns an SC_RTABLE_* code or SC_ERR_NOMEM.
 */
int sc_rtable_consider(sc_rtable *rt, const sc_ref *r, uint32_t rtt_us, bool pns,
                       const sc_alloc *alloc);

/* Empties the slot holding id. Returns its row, or -1 if id was absent. */
int sc_rtable_remove(sc_rtable *rt, const sc_id *id);

/* Bytes of rows and tail allocated. */
size_t sc_rtable_mem_bytes(const sc_rtable *rt);

#endif
