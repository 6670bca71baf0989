/*
 * leafset.h — Pastry's leaf set: the l/2 peers with the next smaller ids
 * ("left", counter-clockwise) and the l/2 with the next larger ids ("right",
 * clockwise), each side sorted nearest first (Pastry §2.1).
 *
 * The leaf set decides final delivery: a key inside its range belongs to the
 * numerically closest of its members and the owner (Pastry §2.2). In an
 * overlay of l or fewer peers one peer may sit on both sides.
 */
#ifndef SC_LEAFSET_H
#define SC_LEAFSET_H

#include <stdbool.h>

#include "msg.h"

#define SC_LEAFSET_HALF_MAX (SC_LEAFSET_MAX / 2)

typedef struct sc_leafset {
  sc_id self;
  uint8_t half; /* l/2: capacity of each side */
  uint8_t nleft;
  uint8_t nright;
  uint16_t gen; /* bumped by every change: lets owners skip re-reading members */
  /* The farthest member's distance on each side (counter-clockwise for
   * left, clockwise for right), kept with the members: most peers a peer
   * hears of lie beyond both, and these two words say so without reading
   * the sixteen members (one cache line instead of seven). Zero when the
   * side is empty. */
  sc_id far_ccw;
  sc_id far_cw;
  sc_ref left[SC_LEAFSET_HALF_MAX];  /* left[0] is the predecessor */
  sc_ref right[SC_LEAFSET_HALF_MAX]; /* right[0] is the successor */
} sc_leafset;

/* Empties ls for owner self with l/2 = half (1..SC_LEAFSET_HALF_MAX). */
void sc_leafset_init(sc_leafset *ls, const sc_id *self, unsigned half);

/* Inserts r on each side where it is among the half nearest. Returns true if
 * r was added to either side (false: already there, the owner, or too far). */
bool sc_leafset_insert(sc_leafset *ls, const sc_ref *r);

/* True if sc_leafset_insert(ls, id) would add it somewhere. */
bool sc_leafset_would_insert(const sc_leafset *ls, const sc_id *id);

/* Removes id from both sides. Returns true if it was present. */
bool sc_leafset_remove(sc_leafset *ls, const sc_id *id);

/* The member with this id, or NULL. */
const sc_ref *sc_leafset_find(const sc_leafset *ls, const sc_id *id);

/*
 * True if key falls within the range the leaf set spans, so that its owner is
 * the owner of ls or a member. A side with fewer than l/2 members means the
 * whole ring is known, and then every key is covered.
 */
bool sc_leafset_covers(const sc_leafset *ls, const sc_id *key);

/* Members, left side first; i < sc_leafset_count(ls). */
static inline unsigned sc_leafset_count(const sc_leafset *ls) {
  return (unsigned)ls->nleft + ls->nright;
}
static inline const sc_ref *sc_leafset_at(const sc_leafset *ls, unsigned i) {
  return i < ls->nleft ? &ls->left[i] : &ls->right[i - ls->nleft];
}

#endif
