/* msg.c — message sizes and names (see msg.h). */
#include "msg.h"

size_t sc_msg_struct_size(const sc_msg *msg) {
  size_t head = offsetof(sc_msg, u);
  switch (msg->type) {
  case SC_MSG_PING: return head + sizeof(sc_msg_ping);
  case SC_MSG_PONG: return head + sizeof(sc_msg_pong);
  case SC_MSG_HEARTBEAT: return head;
  case SC_MSG_ROUTE: return head + sizeof(sc_msg_route);
  case SC_MSG_ROUTE_ACK: return head + sizeof(sc_msg_route_ack);
  case SC_MSG_LEAFSET: return head + sizeof(sc_msg_leafset);
  case SC_MSG_ROW_REQUEST: return head + sizeof(sc_msg_row_request);
  case SC_MSG_ROW: return head + sizeof(sc_msg_row);
  default: return 0;
  }
}

const char *sc_msg_type_name(unsigned type) {
  switch (type) {
  case SC_MSG_PING: return "ping";
  case SC_MSG_PONG: return "pong";
  case SC_MSG_HEARTBEAT: return "heartbeat";
  case SC_MSG_ROUTE: return "route";
  case SC_MSG_ROUTE_ACK: return "route_ack";
  case SC_MSG_LEAFSET: return "leafset";
  case SC_MSG_ROW_REQUEST: return "row_request";
  case SC_MSG_ROW: return "row";
  default: return "?";
  }
}
