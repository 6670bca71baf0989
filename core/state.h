/*
 * state.h — a stream's application state, fetched by a peer that attaches
 * mid-stream, sans I/O.
 *
 * A station's listener needs the station's state (INFO, the codec headers,
 * the title: core/station.h) before it can write a byte; the source repeats
 * that state in the stream every few seconds, and a listener that attached
 * just after a repeat would wait for the next one. Instead it asks a peer
 * that already receives the stream — its parents first, which are upstream
 * of it and so hold state at least as new as what it receives, then its leaf
 * set — with SC_MSG_STATE_REQ. The peer answers with the state its
 * application holds, as SC_MSG_STATE fragments of at most
 * SC_STATE_FRAGMENT_BYTES, or with one empty fragment when it holds none.
 * The asker collects the fragments of one ask and hands the whole to its
 * application; an empty answer or silence past SC_STATE_ASK_WAIT_NS moves
 * on to the next peer, up to SC_STATE_ASKS_MAX asks.
 *
 * The core carries the bytes and never reads them: the application says
 * what its state is (get) and what to do with an answer (got). A peer
 * answers at most SC_STATE_ANSWERS_PER_S asks a second (a small ask must not
 * buy a large answer without bound); the asker then hears nothing and asks
 * another.
 */
#ifndef SC_STATE_H
#define SC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "msg.h"
#include "pastry.h"
#include "scribe.h"
#include "splitstream.h"

#define SC_STATE_ASK_WAIT_NS   (250ull * 1000000ull) /* before the next peer is asked */
#define SC_STATE_ASKS_MAX      8
#define SC_STATE_ANSWERS_PER_S 32

typedef struct sc_state_host {
  sc_pastry *pastry;
  sc_scribe *scribe;
  sc_splitstream *forest;
  void (*send)(void *user, sc_addr to, const sc_msg *msg);
  /* The application's state as bytes into buf[0, cap) (cap is
   * SC_STATE_BYTES_MAX); returns its length, 0 when it holds none (or more
   * than cap). NULL: this peer never answers with a state. */
  size_t (*get)(void *user, uint8_t *buf, size_t cap);
  /* A fetch's whole answer; data valid during the call only. Returns
   * false to refuse it (a state whose signature does not hold): the fetch
   * goes on with the next peer. */
  bool (*got)(void *user, const uint8_t *data, size_t len, uint64_t now);
  void *user;
} sc_state_host;

typedef struct sc_state_stats {
  /* Asking side. */
  uint64_t fetches;         /* sc_state_fetch calls that started a fetch */
  uint64_t asks;            /* STATE_REQ sent */
  uint64_t answers;         /* whole answers handed to the application */
  uint64_t empty_answers;   /* peers that held no state */
  uint64_t answers_refused; /* whole answers the application refused */
  uint64_t fragments_stale; /* fragments of an ask no longer current */
  uint64_t gave_up;         /* fetches that ran out of asks */
  /* Answering side. */
  uint64_t reqs_served;
  uint64_t reqs_shed; /* over SC_STATE_ANSWERS_PER_S: not answered */
  uint64_t fragments_sent;
  uint64_t msgs_invalid; /* malformed or foreign STATE / STATE_REQ */
} sc_state_stats;

typedef struct sc_state sc_state;

/* alloc NULL is libc. Returns 0, SC_ERR_INVALID or SC_ERR_NOMEM. */
int sc_state_new(sc_state **out, const sc_id *channel, const sc_state_host *host,
                 const sc_alloc *alloc);
void sc_state_del(sc_state *s);

/* Starts fetching the state (a fetch already running goes on). The first
 * ask goes out at once if this peer has a parent or a leaf set, else at the
 * expiry. Returns 0 or SC_ERR_NOMEM. */
int sc_state_fetch(sc_state *s, uint64_t now);
/* The application has its state otherwise (the stream brought it): a
 * running fetch stops and a late answer is ignored. */
void sc_state_cancel(sc_state *s);
bool sc_state_fetching(const sc_state *s);

/* True for STATE_REQ and STATE. */
bool sc_state_handles(const sc_msg *msg);
/* Handles one of those. Returns 0 or SC_ERR_INVALID (counted, dropped). */
int sc_state_recv(sc_state *s, const sc_msg *msg, uint64_t now);

uint64_t sc_state_get_expiry(const sc_state *s);
void sc_state_handle_expiry(sc_state *s, uint64_t now);

void sc_state_get_stats(const sc_state *s, sc_state_stats *out);
size_t sc_state_mem_bytes(const sc_state *s);

#endif
