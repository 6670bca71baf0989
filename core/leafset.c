/* leafset.c — Pastry leaf set (see leafset.h). */
#include "leafset.h"

#include <assert.h>
#include <string.h>

void sc_leafset_init(sc_leafset *ls, const sc_id *self, unsigned half) {
  assert(half >= 1 && half <= SC_LEAFSET_HALF_MAX);
  memset(ls, 0, sizeof(*ls));
  ls->self = *self;
  ls->half = (uint8_t)half;
}

/* Clockwise distance from the owner to id (right side order). */
static sc_id leafset_cw(const sc_leafset *ls, const sc_id *id) {
  return sc_id_sub(id, &ls->self);
}

/* Counter-clockwise distance from the owner to id (left side order). */
static sc_id leafset_ccw(const sc_leafset *ls, const sc_id *id) {
  return sc_id_sub(&ls->self, id);
}

/* Position at which id would go on one side, or -1 if present or too far.
 * far is the distance of the side's last member. */
static int leafset_side_pos(const sc_ref *side, unsigned n, unsigned half,
                            const sc_id *dist, const sc_id *far,
                            sc_id (*distf)(const sc_leafset *, const sc_id *),
                            const sc_leafset *ls, const sc_id *id) {
  /* A full side takes nothing beyond its farthest member, and a member sits
   * at its own distance, so beyond means absent too. */
  if (n == half && sc_id_cmp(dist, far) > 0) return -1;
  unsigned i = 0;
  for (; i < n; i++) {
    if (sc_id_eq(&side[i].id, id)) return -1;
    sc_id d = distf(ls, &side[i].id);
    if (sc_id_cmp(dist, &d) < 0) break;
  }
  for (unsigned j = i; j < n; j++)
    if (sc_id_eq(&side[j].id, id)) return -1;
  return i < half ? (int)i : -1;
}

/* Recomputes the cached far distances after a change. */
static void leafset_update_far(sc_leafset *ls) {
  ls->gen++;
  ls->far_ccw = ls->nleft ? leafset_ccw(ls, &ls->left[ls->nleft - 1].id) : (sc_id){0, 0};
  ls->far_cw = ls->nright ? leafset_cw(ls, &ls->right[ls->nright - 1].id) : (sc_id){0, 0};
}

static bool leafset_side_insert(sc_ref *side, uint8_t *n, unsigned half, int pos,
                                const sc_ref *r) {
  if (pos < 0) return false;
  unsigned count = *n < half ? *n + 1u : half;
  memmove(&side[pos + 1], &side[pos], (count - 1 - (unsigned)pos) * sizeof(sc_ref));
  side[pos] = *r;
  *n = (uint8_t)count;
  return true;
}

bool sc_leafset_insert(sc_leafset *ls, const sc_ref *r) {
  if (sc_id_eq(&r->id, &ls->self)) return false;
  sc_id cw = leafset_cw(ls, &r->id), ccw = leafset_ccw(ls, &r->id);
  int pr = leafset_side_pos(ls->right, ls->nright, ls->half, &cw, &ls->far_cw, leafset_cw,
                            ls, &r->id);
  int pl = leafset_side_pos(ls->left, ls->nleft, ls->half, &ccw, &ls->far_ccw,
                            leafset_ccw, ls, &r->id);
  if (pr < 0 && pl < 0) return false;
  bool added = leafset_side_insert(ls->right, &ls->nright, ls->half, pr, r);
  added |= leafset_side_insert(ls->left, &ls->nleft, ls->half, pl, r);
  leafset_update_far(ls);
  return added;
}

bool sc_leafset_would_insert(const sc_leafset *ls, const sc_id *id) {
  if (sc_id_eq(id, &ls->self)) return false;
  sc_id cw = leafset_cw(ls, id), ccw = leafset_ccw(ls, id);
  return leafset_side_pos(ls->right, ls->nright, ls->half, &cw, &ls->far_cw, leafset_cw,
                          ls, id) >= 0 ||
         leafset_side_pos(ls->left, ls->nleft, ls->half, &ccw, &ls->far_ccw, leafset_ccw,
                          ls, id) >= 0;
}

static bool leafset_side_remove(sc_ref *side, uint8_t *n, const sc_id *id) {
  for (unsigned i = 0; i < *n; i++) {
    if (sc_id_eq(&side[i].id, id)) {
      memmove(&side[i], &side[i + 1], (*n - 1 - i) * sizeof(sc_ref));
      (*n)--;
      return true;
    }
  }
  return false;
}

bool sc_leafset_remove(sc_leafset *ls, const sc_id *id) {
  bool r = leafset_side_remove(ls->right, &ls->nright, id);
  r |= leafset_side_remove(ls->left, &ls->nleft, id);
  if (r) leafset_update_far(ls);
  return r;
}

const sc_ref *sc_leafset_find(const sc_leafset *ls, const sc_id *id) {
  /* Beyond the farthest member on both sides: not a member. */
  sc_id cw = leafset_cw(ls, id), ccw = leafset_ccw(ls, id);
  if (sc_id_cmp(&cw, &ls->far_cw) > 0 && sc_id_cmp(&ccw, &ls->far_ccw) > 0) return NULL;
  for (unsigned i = 0; i < ls->nleft; i++)
    if (sc_id_eq(&ls->left[i].id, id)) return &ls->left[i];
  for (unsigned i = 0; i < ls->nright; i++)
    if (sc_id_eq(&ls->right[i].id, id)) return &ls->right[i];
  return NULL;
}

bool sc_leafset_covers(const sc_leafset *ls, const sc_id *key) {
  if (ls->nleft < ls->half || ls->nright < ls->half) return true;
  sc_id ccw = leafset_ccw(ls, key);
  if (sc_id_cmp(&ccw, &ls->far_ccw) <= 0) return true;
  sc_id cw = leafset_cw(ls, key);
  return sc_id_cmp(&cw, &ls->far_cw) <= 0;
}
