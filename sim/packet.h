/*
 * packet.h — messages in flight in the simulator, and the peer-id formula
 * every experiment shares.
 *
 * A packet holds only the sc_msg_struct_size() bytes its message type uses,
 * from free lists in 64-byte size classes carved out of 1 MiB slabs: at a
 * million peers the in-flight messages are the simulator's largest churning
 * allocation, and most are a few dozen bytes.
 */
#ifndef SIM_PACKET_H
#define SIM_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

typedef struct sim_packet {
  uint32_t to;
  uint32_t size_class;
  struct sim_packet *next_free;
  sc_msg msg; /* only the part its type uses is allocated */
} sim_packet;

#define SIM_PACKET_CLASS_BYTES 64
#define SIM_PACKET_CLASSES                                                               \
  ((sizeof(sim_packet) + SC_CHUNK_BYTES_MAX + SIM_PACKET_CLASS_BYTES - 1) /             \
       SIM_PACKET_CLASS_BYTES +                                                          \
   1)

typedef struct sim_packet_pool {
  sim_packet *free_list[SIM_PACKET_CLASSES];
  void **slabs;
  size_t nslabs, slabs_cap;
  uint8_t *cur;
  size_t cur_left;
} sim_packet_pool; /* zero-initialised is empty */

/* A packet for m addressed to `to`, with m's used bytes copied in; NULL when
 * out of memory. */
sim_packet *sim_packet_new(sim_packet_pool *pl, uint32_t to, const sc_msg *m);
void sim_packet_put(sim_packet_pool *pl, sim_packet *pk);
void sim_packet_pool_free(sim_packet_pool *pl);

/* Peer i's overlay id in a run with this seed: a pure function of both, the
 * same in every experiment. */
sc_id sim_peer_id(uint64_t seed, uint32_t i);

#endif
