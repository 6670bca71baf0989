/*
 * packet.h — messages in flight in the simulator.
 *
 * A packet holds only the sc_msg_struct_size() bytes its message type uses,
 * from free lists in 32-byte size classes carved out of 1 MiB slabs: at a
 * million peers the in-flight messages are the simulator's largest churning
 * allocation, and most are a few dozen bytes. 32, not 64: a chunk (MULTICAST)
 * packet is 96 bytes, which a 64-byte class rounds up to 128; at 32-byte
 * alignment it still spans only two cache lines.
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

#define SIM_PACKET_CLASS_BYTES 32
#define SIM_PACKET_CLASSES                                                               \
  ((sizeof(sim_packet) + SC_CHUNK_BYTES_MAX + SIM_PACKET_CLASS_BYTES - 1) /              \
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

/* Prefetch the cache lines of pk after the one holding its start (which
 * the caller fetches with the packet's header). Packets are 32-byte aligned,
 * so the lines are those of pk + 64 k and of the packet's last byte. */
static inline void sim_packet_prefetch_rest(const sim_packet *pk) {
  uint32_t size = pk->size_class * SIM_PACKET_CLASS_BYTES;
  for (uint32_t off = 64; off < size; off += 64)
    __builtin_prefetch((const char *)pk + off);
  __builtin_prefetch((const char *)pk + size - 1);
}

#endif
