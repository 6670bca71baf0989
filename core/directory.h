/*
 * directory.h — the station directory: every peer's list of the stations on
 * the overlay, sans I/O (docs/directory.md).
 *
 * A broadcasting peer announces its station (core/directory_record.h: a
 * record signed with the station key) at once when it starts, again when
 * what it says changes (at most once a SC_DIRECTORY_ANNOUNCE_MIN_NS, once a
 * SC_DIRECTORY_SETTLE_MIN_NS in its first two minutes), and every
 * SC_DIRECTORY_REFRESH_NS otherwise. An announcement is broadcast over
 * Pastry's routing tables (El-Ansary, Alima, Brand & Haridi, "Efficient
 * broadcast in structured P2P networks", IPTPS 2003): the announcer sends it
 * to every entry of every row, and a peer reached through row r passes it on
 * to its own rows below r. Each row's entries partition the peers sharing
 * the row's prefix, so with full tables every peer gets it once, after about
 * log16(N) hops; a leaf-set member standing in a routing slot left empty is
 * sent it too. No tree is kept, so a quiet directory costs nothing.
 *
 * A peer that joins asks a leaf-set neighbour for its directory, a page of
 * SC_DIRECTORY_PAGE records at a time, instead of waiting a refresh period.
 *
 * Every record is checked before it is listed or passed on: a bad signature
 * or layout is dropped and counted (stats.forged); one not newer than the
 * one held (its seq) is dropped and not passed on (a replay, or a second
 * copy of the broadcast), and so is one that follows the station's last by
 * less than SC_DIRECTORY_RECV_MIN_NS (stats.too_soon).
 *
 * The table holds at most SC_DIRECTORY_STATIONS_MAX stations. Ranking, as
 * the Streamer system's: stations online (on the air, heard from within
 * SC_DIRECTORY_STALE_NS, with at least one listener) first, by listeners;
 * then the others, "offline", last heard first. A station not heard from for
 * SC_DIRECTORY_KEEP_NS (2 hours) is removed. When the table is full, a new
 * station takes the place of the last in that ranking if it ranks above it,
 * and is refused (stats.refused) otherwise.
 */
#ifndef SC_DIRECTORY_H
#define SC_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "directory_record.h"
#include "msg.h"
#include "pastry.h"

#define SC_DIRECTORY_STATIONS_MAX 2048u /* twice the 1,000 stations planned for */
#define SC_DIRECTORY_PAGE         16u   /* records answered to one ask */
#define SC_DIRECTORY_S_NS         1000000000ull
/* 1,000 stations of ~240-byte announcements every 40 min cost a peer
 * 0.8 kbit/s in and 0.8 kbit/s out on average (docs/directory.md). */
#define SC_DIRECTORY_REFRESH_NS      (2400 * SC_DIRECTORY_S_NS)
#define SC_DIRECTORY_ANNOUNCE_MIN_NS (600 * SC_DIRECTORY_S_NS)
/* In its first SC_DIRECTORY_SETTLE_NS a station settles (its first
 * listeners, its measured bitrate): changes go out every
 * SC_DIRECTORY_SETTLE_MIN_NS instead, at most 8 more announcements. */
#define SC_DIRECTORY_SETTLE_NS     (120 * SC_DIRECTORY_S_NS)
#define SC_DIRECTORY_SETTLE_MIN_NS (15 * SC_DIRECTORY_S_NS)
/* A peer takes (and passes on) at most one record of a station in this
 * long, below the announcers' own SC_DIRECTORY_SETTLE_MIN_NS: a key holder
 * that announces faster cannot make the whole overlay carry it. A record
 * taking the station off the air is let through. */
#define SC_DIRECTORY_RECV_MIN_NS (10 * SC_DIRECTORY_S_NS)
/* Two refreshes missed and a margin: the broadcaster is gone. */
#define SC_DIRECTORY_STALE_NS (5400 * SC_DIRECTORY_S_NS)
#define SC_DIRECTORY_KEEP_NS  (7200 * SC_DIRECTORY_S_NS)
/* A joined peer that found nobody to ask tries again after this. */
#define SC_DIRECTORY_FETCH_RETRY_NS (2 * SC_DIRECTORY_S_NS)

typedef struct sc_directory sc_directory;

typedef struct sc_directory_host {
  /* Whose routing table and leaf set carry the broadcast; NULL: a
   * directory that only asks and listens (the `stations` command). */
  const sc_pastry *pastry;
  sc_ref self;
  void (*send)(void *user, sc_addr to, const sc_msg *msg); /* required */
  void *user;
} sc_directory_host;

typedef struct sc_directory_config {
  /* Check signatures (on). The simulator may turn it off: it charges the
   * records' real sizes, and 10^5 peers verifying every record would be
   * its whole run. */
  bool verify;
  /* Ask a neighbour for the directory once joined (on). */
  bool fetch_on_join;
  uint64_t refresh_ns;      /* SC_DIRECTORY_REFRESH_NS */
  uint64_t announce_min_ns; /* SC_DIRECTORY_ANNOUNCE_MIN_NS */
  uint64_t stale_ns;        /* SC_DIRECTORY_STALE_NS */
  uint64_t keep_ns;         /* SC_DIRECTORY_KEEP_NS */
  uint32_t stations_max;    /* 1 .. SC_DIRECTORY_STATIONS_MAX */
} sc_directory_config;

void sc_directory_config_default(sc_directory_config *c);

/* Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM. cfg NULL: defaults. */
int sc_directory_new(sc_directory **out, const sc_directory_config *cfg,
                     const sc_directory_host *host, const sc_alloc *alloc, uint64_t now);
void sc_directory_del(sc_directory *d);

/*
 * The broadcaster's side: announces info, signed with sk (libsodium's
 * Ed25519 secret key), at once and then as above. A later call replaces
 * info; the announcement follows when announce_min_ns allows. Returns 0,
 * SC_ERR_TOO_LARGE (a string over its bound) or SC_ERR_INVALID.
 */
int sc_directory_announce(sc_directory *d, const uint8_t sk[SC_AUTH_SK_BYTES],
                          const sc_directory_info *info, uint64_t now);
/* The station's listeners: ride the next announcement, or make one
 * (rate-limited) when the station goes from none to some or back. */
void sc_directory_set_listeners(sc_directory *d, uint32_t listeners, uint64_t now);
/* The broadcast ended: one last announcement, off the air, at once. */
void sc_directory_withdraw(sc_directory *d, uint64_t now);

/* Handles ANNOUNCE and DIRECTORY_REQ. Returns 0, SC_ERR_INVALID (a forged
 * or malformed record: counted and dropped) or SC_ERR_FULL (refused). */
int sc_directory_recv(sc_directory *d, const sc_msg *msg, uint64_t now);
/* Whether msg is one of the directory's. */
bool sc_directory_handles(const sc_msg *msg);

/* Asks peer to for its directory (page by page). */
void sc_directory_fetch(sc_directory *d, sc_addr to, uint64_t now);

uint64_t sc_directory_get_expiry(const sc_directory *d);
void sc_directory_handle_expiry(sc_directory *d, uint64_t now);

/* One station as listed. */
typedef struct sc_directory_entry {
  sc_directory_record rec;
  bool online;
  uint64_t heard_ns; /* the host's clock when its latest record came */
} sc_directory_entry;

/* Copies up to max stations, ranked (above), into out; returns how many
 * are listed in all. Expired stations are not listed. */
unsigned sc_directory_list(const sc_directory *d, sc_directory_entry *out, unsigned max,
                           uint64_t now);

typedef struct sc_directory_stats {
  uint64_t accepted;  /* records listed (new stations or newer records) */
  uint64_t old;       /* not newer than the one held: dropped */
  uint64_t too_soon;  /* newer, but within SC_DIRECTORY_RECV_MIN_NS: dropped */
  uint64_t forged;    /* bad signature or layout: dropped */
  uint64_t refused;   /* table full and ranked below its last */
  uint64_t evicted;   /* pushed out by a better-ranked newcomer */
  uint64_t expired;   /* not heard from for keep_ns */
  uint64_t announced; /* own announcements broadcast */
  uint64_t sent;      /* ANNOUNCEs sent (broadcast, forwarded, answers) */
  uint64_t asks;      /* DIRECTORY_REQs sent */
  uint64_t answered;  /* DIRECTORY_REQs answered */
} sc_directory_stats;
void sc_directory_get_stats(const sc_directory *d, sc_directory_stats *out);
size_t sc_directory_mem_bytes(const sc_directory *d);

#endif
