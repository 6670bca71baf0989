/*
 * tally.h — a station's listener count summed up one stripe tree, sans I/O.
 *
 * Every peer counts its own listeners (its HTTP players, plus one when it
 * writes the stream to --output). Once a period it sends its parent in the
 * tally tree (the Scribe tree of stripe 0) one TALLY message: its own count
 * plus the latest count each of its current children reported. The tree's
 * root sends its sum to the publisher (the peer whose depth-0 MULTICASTs it
 * takes), which adds its own listeners, keeps the peak, and writes both
 * into the stream as a station record (core/station.h, SC_STATION_LISTENERS)
 * so that every peer reports the same station-wide count.
 *
 * Cost: one small message per peer per period (SC_TALLY_PERIOD_NS), whatever
 * the audience; memory: SC_TALLY_REPORTS_MAX reports per peer. A report
 * older than SC_TALLY_TTL_NS, or from a peer that is no longer a child,
 * counts no more, so a count follows churn within a few periods
 * (docs/ARCHITECTURE.md §3, "Listener tally").
 */
#ifndef SC_TALLY_H
#define SC_TALLY_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

#define SC_TALLY_PERIOD_NS   5000000000ull  /* one report a period */
#define SC_TALLY_TTL_NS      16000000000ull /* three missed reports and a bit */
#define SC_TALLY_REPORTS_MAX 64             /* children's reports kept */
#define SC_TALLY_COUNT_MAX   UINT32_MAX     /* counts saturate here */

typedef struct sc_tally_entry {
  sc_addr from;
  uint32_t count;
  uint64_t at_ns;
} sc_tally_entry;

typedef struct sc_tally {
  uint64_t next_ns; /* the next report is due then */
  uint32_t local;   /* this peer's own listeners */
  unsigned n;
  sc_tally_entry r[SC_TALLY_REPORTS_MAX];
  uint64_t refused; /* reports dropped because the table was full */
} sc_tally;

/* Starts the period at now (the first report is due one period later). */
void sc_tally_init(sc_tally *t, uint64_t now);
void sc_tally_set_local(sc_tally *t, uint32_t listeners);
/* A child's (or, at the publisher, the root's) count: replaces the
 * sender's earlier report. Returns 0 or SC_ERR_FULL (the table holds
 * SC_TALLY_REPORTS_MAX fresh reports; nothing changes). */
int sc_tally_report(sc_tally *t, sc_addr from, uint32_t count, uint64_t now);
/* Forgets the reports of every sender keep() refuses (a peer that left the
 * children) and those older than SC_TALLY_TTL_NS. keep NULL: all senders. */
void sc_tally_prune(sc_tally *t, bool (*keep)(void *user, sc_addr from), void *user,
                    uint64_t now);
/* Forgets every report (the publisher keeps only its current root's). */
void sc_tally_clear(sc_tally *t);
/* Own listeners plus the fresh reports, saturated at SC_TALLY_COUNT_MAX. */
uint32_t sc_tally_total(const sc_tally *t, uint64_t now);
/* When the next report is due. */
uint64_t sc_tally_get_expiry(const sc_tally *t);
/* True when a report is due at now; the period then restarts. */
bool sc_tally_due(sc_tally *t, uint64_t now);

#endif
