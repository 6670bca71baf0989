/* uplink.c — per-peer FIFO serialisation with tail drop (see uplink.h). */
#include "sim/uplink.h"

#include <assert.h>
#include <stddef.h>

#include "core/err.h"
#include "sim/engine.h"

/* ceil(bytes · 8 · 10^9 / rate): with bytes <= SIM_UPLINK_QUEUE_BYTES_MAX
 * the product stays below 2^63, so plain 64-bit arithmetic is exact. */
static uint64_t uplink_bytes_ns(uint64_t rate_bps, uint64_t bytes) {
  if (rate_bps == 0) return 0;
  uint64_t bits_ns = bytes * 8 * SIM_NS_PER_S;
  return bits_ns / rate_bps + (bits_ns % rate_bps != 0);
}

int sim_uplink_cfg_init(sim_uplink_cfg *cfg, uint64_t rate_bps, uint64_t queue_bytes_max,
                        uint64_t queue_delay_max_ns) {
  if (!cfg || rate_bps > SIM_UPLINK_RATE_MAX ||
      queue_bytes_max > SIM_UPLINK_QUEUE_BYTES_MAX)
    return SC_ERR_INVALID;
  cfg->rate_bps = rate_bps;
  cfg->queue_bytes_max = queue_bytes_max;
  cfg->queue_delay_max_ns = queue_delay_max_ns;
  cfg->queue_drain_ns = uplink_bytes_ns(rate_bps, queue_bytes_max);
  return SC_OK;
}

uint64_t sim_uplink_tx_ns(uint64_t rate_bps, uint32_t bytes) {
  assert(bytes <= SIM_UPLINK_PACKET_MAX);
  return uplink_bytes_ns(rate_bps, bytes);
}

uint64_t sim_uplink_send(const sim_uplink_cfg *cfg, uint64_t *free_at_ns, uint64_t now_ns,
                         uint32_t bytes) {
  assert(cfg && free_at_ns && bytes > 0 && bytes <= SIM_UPLINK_PACKET_MAX);
  if (cfg->rate_bps == 0) return now_ns; /* nothing ever queues */
  uint64_t wait_ns = sim_uplink_backlog_ns(*free_at_ns, now_ns);
  uint64_t tx_ns = uplink_bytes_ns(cfg->rate_bps, bytes);
  if (cfg->queue_delay_max_ns != 0 && wait_ns > cfg->queue_delay_max_ns)
    return SIM_UPLINK_DROP;
  /* The bytes ahead of this packet are the backlog's worth at the link rate
   * (partly sent packets count by what is left of them), so "backlog plus
   * this packet fit in the buffer" compares drain times, with no division
   * and no rounding beyond tx_ns's own. */
  if (cfg->queue_bytes_max != 0 && wait_ns + tx_ns > cfg->queue_drain_ns)
    return SIM_UPLINK_DROP;
  uint64_t start = now_ns > *free_at_ns ? now_ns : *free_at_ns;
  assert(start <= UINT64_MAX - 1 - tx_ns); /* SIM_UPLINK_DROP stays unambiguous */
  *free_at_ns = start + tx_ns;
  return *free_at_ns;
}
