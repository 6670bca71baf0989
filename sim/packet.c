/* packet.c — the in-flight message pool and peer ids (see packet.h). */
#include "sim/packet.h"

#include <stdlib.h>
#include <string.h>

#include "sim/arena.h"
#include "sim/stats.h"

#define SLAB_BYTES SIM_HUGE_PAGE

static sim_packet *pool_get(sim_packet_pool *pl, size_t bytes) {
  size_t cls = (bytes + SIM_PACKET_CLASS_BYTES - 1) / SIM_PACKET_CLASS_BYTES;
  sim_packet *pk = pl->free_list[cls];
  if (pk) {
    pl->free_list[cls] = pk->next_free;
    /* A burst of sends (a ROW answered with pings) digs into packets freed
     * long ago: start fetching the next one now. */
    if (pk->next_free) __builtin_prefetch(pk->next_free, 1);
    return pk;
  }
  size_t size = cls * SIM_PACKET_CLASS_BYTES;
  if (pl->cur_left < size) {
    void *slabs = pl->slabs;
    if (sim_array_grow(&slabs, &pl->slabs_cap, pl->nslabs, sizeof(void *), 64) != 0)
      return NULL;
    pl->slabs = slabs;
    pl->cur = sim_huge_calloc(1, SLAB_BYTES);
    if (!pl->cur) return NULL;
    pl->slabs[pl->nslabs++] = pl->cur;
    pl->cur_left = SLAB_BYTES;
  }
  pk = (sim_packet *)(void *)pl->cur;
  pl->cur += size;
  pl->cur_left -= size;
  pk->size_class = (uint32_t)cls;
  return pk;
}

/* The bytes a message carries behind its struct: a chunk's payload or a
 * station record (NULL: none, or a symbolic chunk). */
static const uint8_t *packet_payload(const sc_msg *m, size_t *len) {
  if (m->type == SC_MSG_MULTICAST && m->u.multicast.data) {
    *len = m->u.multicast.len;
    return m->u.multicast.data;
  }
  if (m->type == SC_MSG_ANNOUNCE && m->u.announce.data) {
    *len = m->u.announce.len;
    return m->u.announce.data;
  }
  *len = 0;
  return NULL;
}

sim_packet *sim_packet_new(sim_packet_pool *pl, uint32_t to, const sc_msg *m) {
  size_t len = sc_msg_struct_size(m);
  /* Real bytes travel with a copy behind the message (the sender's buffer
   * lives only for the send call); a symbolic chunk (data NULL) carries
   * none. */
  size_t payload;
  const uint8_t *data = packet_payload(m, &payload);
  sim_packet *pk = pool_get(pl, offsetof(sim_packet, msg) + len + payload);
  if (!pk) return NULL;
  pk->to = to;
  memcpy(&pk->msg, m, len);
  if (payload) {
    uint8_t *bytes = (uint8_t *)&pk->msg + len;
    memcpy(bytes, data, payload);
    if (m->type == SC_MSG_MULTICAST)
      pk->msg.u.multicast.data = bytes;
    else
      pk->msg.u.announce.data = bytes;
  }
  return pk;
}

void sim_packet_put(sim_packet_pool *pl, sim_packet *pk) {
  pk->next_free = pl->free_list[pk->size_class];
  pl->free_list[pk->size_class] = pk;
}

void sim_packet_pool_free(sim_packet_pool *pl) {
  for (size_t i = 0; i < pl->nslabs; i++)
    free(pl->slabs[i]);
  free(pl->slabs);
  memset(pl, 0, sizeof(*pl));
}
