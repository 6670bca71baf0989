/* msg.c — message sizes and names (see msg.h). */
#include "msg.h"

size_t sc_msg_struct_size(const sc_msg *msg) {
  size_t head = offsetof(sc_msg, u);
  switch (msg->type) {
  case SC_MSG_PING:
    return head + sizeof(sc_msg_ping);
  case SC_MSG_PONG:
    return head + sizeof(sc_msg_pong);
  case SC_MSG_HEARTBEAT:
    return head;
  case SC_MSG_ROUTE:
    return head + sizeof(sc_msg_route);
  case SC_MSG_ROUTE_ACK:
    return head + sizeof(sc_msg_route_ack);
  case SC_MSG_LEAFSET:
    return head + sizeof(sc_msg_leafset);
  case SC_MSG_ROW_REQUEST:
    return head + sizeof(sc_msg_row_request);
  case SC_MSG_ROW:
    return head + sizeof(sc_msg_row);
  case SC_MSG_MULTICAST:
    return head + sizeof(sc_msg_multicast);
  case SC_MSG_SCRIBE_HEARTBEAT:
    return head + sizeof(sc_msg_scribe_heartbeat);
  case SC_MSG_SCRIBE_PATH:
    return head + sizeof(sc_msg_scribe_path);
  case SC_MSG_SCRIBE_JOIN:
  case SC_MSG_SCRIBE_LEAVE:
    return head + sizeof(sc_msg_scribe_group);
  case SC_MSG_SCRIBE_DROP:
    return head + sizeof(sc_msg_scribe_drop);
  case SC_MSG_ANYCAST:
    return head + sizeof(sc_msg_anycast);
  case SC_MSG_ANYCAST_FAIL:
    return head + sizeof(sc_msg_anycast_fail);
  case SC_MSG_REPAIR_REQ:
    return head + sizeof(sc_msg_repair_req);
  case SC_MSG_SCRIBE_ROOT:
    return head + sizeof(sc_msg_scribe_root);
  case SC_MSG_STATE_REQ:
    return head + sizeof(sc_msg_state_req);
  case SC_MSG_STATE:
    return head + sizeof(sc_msg_state);
  case SC_MSG_TALLY:
    return head + sizeof(sc_msg_tally);
  case SC_MSG_ANNOUNCE:
    return head + sizeof(sc_msg_announce);
  case SC_MSG_DIRECTORY_REQ:
    return head + sizeof(sc_msg_directory_req);
  default:
    return 0;
  }
}

const char *sc_msg_type_name(unsigned type) {
  switch (type) {
  case SC_MSG_PING:
    return "ping";
  case SC_MSG_PONG:
    return "pong";
  case SC_MSG_HEARTBEAT:
    return "heartbeat";
  case SC_MSG_ROUTE:
    return "route";
  case SC_MSG_ROUTE_ACK:
    return "route_ack";
  case SC_MSG_LEAFSET:
    return "leafset";
  case SC_MSG_ROW_REQUEST:
    return "row_request";
  case SC_MSG_ROW:
    return "row";
  case SC_MSG_MULTICAST:
    return "multicast";
  case SC_MSG_SCRIBE_HEARTBEAT:
    return "scribe_heartbeat";
  case SC_MSG_SCRIBE_PATH:
    return "scribe_path";
  case SC_MSG_SCRIBE_JOIN:
    return "scribe_join";
  case SC_MSG_SCRIBE_LEAVE:
    return "scribe_leave";
  case SC_MSG_SCRIBE_DROP:
    return "scribe_drop";
  case SC_MSG_ANYCAST:
    return "anycast";
  case SC_MSG_ANYCAST_FAIL:
    return "anycast_fail";
  case SC_MSG_REPAIR_REQ:
    return "repair_req";
  case SC_MSG_SCRIBE_ROOT:
    return "scribe_root";
  case SC_MSG_STATE_REQ:
    return "state_req";
  case SC_MSG_STATE:
    return "state";
  case SC_MSG_TALLY:
    return "tally";
  case SC_MSG_ANNOUNCE:
    return "announce";
  case SC_MSG_DIRECTORY_REQ:
    return "directory_req";
  default:
    return "?";
  }
}
