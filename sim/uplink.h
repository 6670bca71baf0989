/*
 * uplink.h — a peer's upstream link in the simulator (docs/ARCHITECTURE.md §4, "per-peer
 * upstream bandwidth with queueing; random loss").
 *
 * The link is a FIFO that serialises packets at rate_bps. Its whole state
 * is one uint64_t per peer, the time the link becomes free (free_at_ns, 0
 * for an idle new link): a packet handed over at `now` starts at
 * max(now, free_at), leaves when its last bit is out, and moves free_at
 * there. Propagation delay is the network model's business and is added by
 * the caller. A queue limit, in bytes or in waiting time, turns the FIFO
 * into a tail-drop queue. Nothing allocates; all arithmetic is integer, so
 * a seed replays bit for bit.
 *
 *   sim_uplink_cfg up;
 *   sim_uplink_cfg_init(&up, 1000000, 64 * 1024, 0);  // 1 Mbit/s, 64 KB
 *   uint64_t t = sim_uplink_send(&up, &peer->free_at_ns, now, bytes);
 *   if (t == SIM_UPLINK_DROP) count_drop(); else deliver_at(t + propagation);
 */
#ifndef SIM_UPLINK_H
#define SIM_UPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rng.h"

#define SIM_UPLINK_DROP            UINT64_MAX
#define SIM_UPLINK_PACKET_MAX      (1u << 20)       /* bytes in one packet */
#define SIM_UPLINK_RATE_MAX        1000000000000ULL /* 1 Tbit/s */
#define SIM_UPLINK_QUEUE_BYTES_MAX (1ULL << 30)     /* keeps bytes · 8e9 below 2^63 */

/* A link's parameters: shared by every peer of a class, or one per peer. */
typedef struct sim_uplink_cfg {
  uint64_t rate_bps;           /* 0: unlimited, packets leave at once */
  uint64_t queue_bytes_max;    /* 0: no byte limit */
  uint64_t queue_delay_max_ns; /* 0: no delay limit */
  uint64_t queue_drain_ns;     /* derived: time to send queue_bytes_max */
} sim_uplink_cfg;

/* Fills cfg. rate_bps in [0, SIM_UPLINK_RATE_MAX]; queue_bytes_max in
 * [0, SIM_UPLINK_QUEUE_BYTES_MAX] and meaningful only with a rate; 0 turns
 * a limit off. Errors: SC_ERR_INVALID (cfg NULL or a value out of range;
 * *cfg untouched). */
int sim_uplink_cfg_init(sim_uplink_cfg *cfg, uint64_t rate_bps, uint64_t queue_bytes_max,
                        uint64_t queue_delay_max_ns);

/* Time to serialise `bytes` at rate_bps, rounded up to a whole ns (0 for an
 * unlimited link). Asserts bytes <= SIM_UPLINK_PACKET_MAX. */
uint64_t sim_uplink_tx_ns(uint64_t rate_bps, uint32_t bytes);

/* Hands a packet of `bytes` (1..SIM_UPLINK_PACKET_MAX) to the link whose
 * state is *free_at_ns at now_ns. Returns the time its last bit leaves and
 * sets *free_at_ns to it; or, leaving *free_at_ns alone, SIM_UPLINK_DROP
 * when the packet does not fit: the bytes queued ahead of it plus its own
 * exceed queue_bytes_max, or it would wait more than queue_delay_max_ns
 * before its first bit goes out (tail drop). The byte check compares drain
 * times, each packet's rounded up to a ns, so at rates that do not divide
 * 8e9 a buffer can come up to 1 ns per queued packet short of exact. */
uint64_t sim_uplink_send(const sim_uplink_cfg *cfg, uint64_t *free_at_ns, uint64_t now_ns,
                         uint32_t bytes);

/* How long the link stays busy with what it already holds, at now_ns. */
static inline uint64_t sim_uplink_backlog_ns(uint64_t free_at_ns, uint64_t now_ns) {
  return free_at_ns > now_ns ? free_at_ns - now_ns : 0;
}

/* Random loss: true with probability p (0 <= p <= 1) from r's stream. Use
 * the sending peer's own rng so that a peer's losses do not depend on the
 * traffic of others. */
static inline bool sim_uplink_lost(sc_rng *r, double p) {
  return p > 0 && sc_rng_unit(r) < p;
}

#endif
