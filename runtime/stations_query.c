/*
 * stations_query.c — `stripecast stations`: asks one peer for its station
 * directory (a DIRECTORY_REQ, answered page by page with signed ANNOUNCEs),
 * checks every record as a peer would (core/directory.c) and prints the
 * list. It does not join the overlay: one UDP socket, one peer asked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/wire.h"
#include "runtime/addr.h"
#include "runtime/peer.h"
#include "runtime/stations.h"
#include "runtime/traverse.h"

typedef struct query {
  int fd;
  rt_addr_table addrs;
  sc_addr peer; /* the one asked */
  uint64_t sent, send_errors;
} query;

static void query_send(void *user, sc_addr to, const sc_msg *m) {
  query *q = user;
  if (to != q->peer) return; /* only the peer asked is ever answered */
  uint8_t buf[SC_WIRE_DATAGRAM_MAX];
  int len = sc_wire_encode(m, rt_addr_map(&q->addrs), buf, sizeof buf);
  if (len < 0 || send(q->fd, buf, (size_t)len, 0) != len)
    q->send_errors++;
  else
    q->sent++;
}

/* How the peer sees this socket (a traversal BINDING, runtime/traverse.h):
 * ip and port are replaced by its answer; left as they are without one
 * within RT_STATIONS_BINDING_MS (an older peer, or a lost datagram). */
static void query_binding(query *q, uint32_t *ip, uint16_t *port) {
  rt_trav_msg req = {.type = RT_TRAV_BINDING_REQ};
  randombytes_buf(&req.txid, sizeof req.txid);
  uint8_t buf[RT_TRAV_RELAY_MAX + 1];
  rt_trav_encode(&req, buf);
  if (send(q->fd, buf, RT_TRAV_LEN, 0) != RT_TRAV_LEN) return;
  uint64_t deadline = rt_now_ns() + RT_STATIONS_BINDING_MS * 1000000ull;
  for (;;) {
    uint64_t now = rt_now_ns();
    if (now >= deadline) return;
    struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
    if (poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0) continue;
    ssize_t n = recv(q->fd, buf, sizeof buf, 0);
    rt_trav_msg m;
    if (n <= 0 || rt_trav_decode(buf, (size_t)n, &m) != 0) continue;
    if (m.type == RT_TRAV_BINDING && m.txid == req.txid && m.ip && m.port) {
      *ip = m.ip;
      *port = m.port;
      return;
    }
  }
}

/* A connected UDP socket toward the peer, and this side's own address as
 * the peer will see it (the sender every message must name). */
static int query_open(query *q, const rt_options *o, sc_ref *self) {
  q->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (q->fd < 0) return -errno;
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons(o->join_port),
                           .sin_addr.s_addr = htonl(o->join_ip)};
  if (connect(q->fd, (struct sockaddr *)&to, sizeof to) != 0) return -errno;
  struct sockaddr_in me;
  socklen_t melen = sizeof me;
  if (getsockname(q->fd, (struct sockaddr *)&me, &melen) != 0) return -errno;
  uint32_t ip = ntohl(me.sin_addr.s_addr);
  uint16_t port = ntohs(me.sin_port);
  /* Behind a home router the peer sees another address: ask it which, and
   * name that one (docs/nat.md), or the request is dropped as spoofed. */
  query_binding(q, &ip, &port);
  if (rt_addr_intern(&q->addrs, o->join_ip, o->join_port, &q->peer) != 0 ||
      rt_addr_intern(&q->addrs, ip, port, &self->addr) != 0)
    return -EINVAL;
  uint8_t id[16];
  randombytes_buf(id, sizeof id);
  self->id = sc_id_from_bytes(id);
  return 0;
}

/* Reads answers until RT_STATIONS_QUIET_MS pass without one after the
 * first, or wait_ms in all. Returns the answers taken. */
static uint64_t query_collect(query *q, sc_directory *d, uint64_t wait_ms) {
  uint64_t start = rt_now_ns(), last = 0, answers = 0;
  uint64_t deadline = start + wait_ms * 1000000ull;
  for (;;) {
    uint64_t now = rt_now_ns();
    uint64_t until = deadline;
    if (answers && last + RT_STATIONS_QUIET_MS * 1000000ull < until)
      until = last + RT_STATIONS_QUIET_MS * 1000000ull;
    if (now >= until) break;
    struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int)((until - now) / 1000000ull) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    uint8_t buf[SC_WIRE_DATAGRAM_MAX + 1];
    ssize_t n = recv(q->fd, buf, sizeof buf, 0);
    if (n <= 0 || (size_t)n > SC_WIRE_DATAGRAM_MAX) continue;
    sc_msg m;
    if (sc_wire_decode(buf, (size_t)n, rt_addr_map(&q->addrs), &m) != 0) continue;
    if (m.type != SC_MSG_ANNOUNCE || m.sender.addr != q->peer) continue;
    now = rt_now_ns();
    (void)sc_directory_recv(d, &m, now);
    answers++;
    last = now;
  }
  return answers;
}

int rt_stations_query(const rt_options *o) {
  query q = {.fd = -1};
  char where[RT_ADDR_STR_MAX];
  rt_addr_format(o->join_ip, o->join_port, where);
  sc_directory *d = NULL;
  sc_ref self;
  int code = 1;
  if (rt_addr_init(&q.addrs, 16) != 0) {
    fputs("stripecast stations: out of memory\n", stderr);
    return 1;
  }
  int rv = query_open(&q, o, &self);
  if (rv != 0) {
    fprintf(stderr, "stripecast stations: %s: %s\n", where, strerror(-rv));
    goto out;
  }
  sc_directory_host host = {.pastry = NULL, .self = self, .send = query_send, .user = &q};
  if (sc_directory_new(&d, NULL, &host, NULL, rt_now_ns()) != 0) {
    fputs("stripecast stations: out of memory\n", stderr);
    goto out;
  }
  sc_directory_fetch(d, q.peer, rt_now_ns());
  uint64_t answers = query_collect(&q, d, o->wait_ms);
  if (answers == 0) {
    fprintf(stderr,
            "stripecast stations: no answer from %s within %llu ms (no peer there, "
            "or one that keeps no directory: a low-level peer)\n",
            o->join_name ? o->join_name : where, (unsigned long long)o->wait_ms);
    goto out;
  }
  uint64_t now = rt_now_ns();
  if (o->json) {
    rt_serve_buf b = {0};
    bool ok = rt_stations_json(d, now, &b);
    if (ok) fwrite(b.data, 1, b.len, stdout);
    free(b.data);
    if (!ok) {
      fputs("stripecast stations: the list is too long to print\n", stderr);
      goto out;
    }
  } else {
    rt_stations_table(d, now, stdout);
  }
  sc_directory_stats st;
  sc_directory_get_stats(d, &st);
  if (st.forged)
    fprintf(stderr, "stripecast stations: %llu forged record(s) dropped\n",
            (unsigned long long)st.forged);
  code = fflush(stdout) == 0 ? 0 : 1;
out:
  sc_directory_del(d);
  if (q.fd >= 0) close(q.fd);
  rt_addr_free(&q.addrs);
  return code;
}
