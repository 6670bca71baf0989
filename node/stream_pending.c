/* Placeholder until core/channel.c lands: the stream's node API refuses. */
#include <string.h>

#include "core/err.h"
#include "core/node.h"

int sc_node_source_write(sc_node *n, const uint8_t *data, size_t datalen, uint64_t now) {
  (void)n, (void)data, (void)datalen, (void)now;
  return SC_ERR_INVALID;
}
int sc_node_source_flush(sc_node *n, uint64_t now) {
  (void)n, (void)now;
  return SC_ERR_INVALID;
}
void sc_node_stream_stats(const sc_node *n, sc_channel_stats *out) {
  (void)n;
  memset(out, 0, sizeof *out);
}
