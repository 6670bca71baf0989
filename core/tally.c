/* tally.c — a station's listener count summed up one stripe tree (tally.h). */
#include "tally.h"

#include <string.h>

#include "err.h"

void sc_tally_init(sc_tally *t, uint64_t now) {
  memset(t, 0, sizeof *t);
  t->next_ns = now + SC_TALLY_PERIOD_NS;
}

void sc_tally_set_local(sc_tally *t, uint32_t listeners) {
  t->local = listeners;
}

static bool fresh(const sc_tally_entry *r, uint64_t now) {
  return now < r->at_ns || now - r->at_ns <= SC_TALLY_TTL_NS;
}

int sc_tally_report(sc_tally *t, sc_addr from, uint32_t count, uint64_t now) {
  unsigned free_at = SC_TALLY_REPORTS_MAX;
  for (unsigned i = 0; i < t->n; i++) {
    if (t->r[i].from == from) {
      t->r[i].count = count;
      t->r[i].at_ns = now;
      return SC_OK;
    }
    if (free_at == SC_TALLY_REPORTS_MAX && !fresh(&t->r[i], now)) free_at = i;
  }
  if (free_at == SC_TALLY_REPORTS_MAX) {
    if (t->n == SC_TALLY_REPORTS_MAX) {
      t->refused++;
      return SC_ERR_FULL;
    }
    free_at = t->n++;
  }
  t->r[free_at] = (sc_tally_entry){.from = from, .count = count, .at_ns = now};
  return SC_OK;
}

void sc_tally_prune(sc_tally *t, bool (*keep)(void *user, sc_addr from), void *user,
                    uint64_t now) {
  unsigned j = 0;
  for (unsigned i = 0; i < t->n; i++)
    if (fresh(&t->r[i], now) && (keep == NULL || keep(user, t->r[i].from)))
      t->r[j++] = t->r[i];
  t->n = j;
}

void sc_tally_clear(sc_tally *t) {
  t->n = 0;
}

uint32_t sc_tally_total(const sc_tally *t, uint64_t now) {
  uint64_t sum = t->local;
  for (unsigned i = 0; i < t->n; i++)
    if (fresh(&t->r[i], now)) sum += t->r[i].count;
  return sum > SC_TALLY_COUNT_MAX ? SC_TALLY_COUNT_MAX : (uint32_t)sum;
}

uint64_t sc_tally_get_expiry(const sc_tally *t) {
  return t->next_ns;
}

bool sc_tally_due(sc_tally *t, uint64_t now) {
  if (now < t->next_ns) return false;
  /* A late host does not make a burst: the next report is a period on. */
  t->next_ns = now + SC_TALLY_PERIOD_NS;
  return true;
}
