/*
 * channel.h — the stream on one peer: the glue between the SplitStream forest
 * (one chunk per stripe per generation) and core/stream (source, receiver),
 * plus the two mechanisms that live between them, sans I/O (DESIGN.md §2):
 *
 *  - publishing: the source sends chunk i of every generation to the root of
 *    stripe i. Like Scribe §2.2's sources it locates the root by routing to
 *    the stripe id (a ROUTE of kind SC_ROUTE_PUBLISH that carries the chunk),
 *    caches the address the root answers with (SC_MSG_ROOT) and sends later
 *    chunks straight to it as MULTICAST of depth 0. It routes again every
 *    root_refresh_ns, or at once when the cached peer answers that it is not
 *    the root, so a crashed or replaced root costs at most one refresh period
 *    of one stripe (which the erasure code covers).
 *  - repair beyond the trees (the seeds' "missing data is fetched from other
 *    sources"): a generation that cannot be decoded repair_wait_ns after its
 *    chunks were due is asked for, chunk by chunk, from other peers that
 *    receive the stream — this peer's parents in the other stripes first,
 *    then its leaf set — with SC_MSG_REPAIR_REQ; they answer with the chunks
 *    they hold as MULTICAST with repair set. Asks repeat every
 *    repair_retry_ns to the next candidate until the deadline.
 *
 * The owner (core/node.c) hands it stripe data, repair traffic and the
 * expiry; it sends through the node's send callback.
 */
#ifndef SC_CHANNEL_H
#define SC_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "msg.h"
#include "stream.h"

typedef struct sc_channel_config {
  sc_stream_config stream; /* d + p must equal the forest's stripes */
  bool repair;             /* pull missing chunks (default true) */
  /* A generation's chunks are due when its first chunk's delay says so
   * (deadline - buffer); ask once they are this late. Default 400 ms. */
  uint64_t repair_wait_ns;
  uint64_t repair_retry_ns;  /* between two asks for one generation; default 300 ms */
  uint32_t repair_ask_max;   /* asks for one generation; default 8 */
  uint64_t root_refresh_ns;  /* source: re-locate stripe roots; default 2 s */
} sc_channel_config;

void sc_channel_config_default(sc_channel_config *c);

typedef struct sc_channel_stats {
  sc_stream_stats stream; /* the receiver's (zero for a source) */
  /* Source. */
  uint64_t chunks_published;
  uint64_t publishes_routed; /* chunks sent by routing (root unknown or refresh) */
  uint64_t root_changes;     /* a stripe's cached root replaced */
  /* Repair, asking side. */
  uint64_t repair_asks;      /* REPAIR_REQ sent */
  uint64_t repair_chunks_asked;
  uint64_t repair_chunks_got; /* repair answers that were new chunks */
  /* Repair, answering side. */
  uint64_t repair_reqs_served;
  uint64_t repair_chunks_sent;
  uint64_t repair_reqs_unknown; /* for a generation this peer does not hold */
  /* Chunks on stripes (not repairs) handed to the receiver. */
  uint64_t stripe_chunks;
} sc_channel_stats;

#endif
