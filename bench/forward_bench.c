/*
 * forward_bench.c — one real peer's forwarding rate over loopback UDP
 * (chunks per second, CPU seconds per GB relayed).
 *
 *   build/bench/forward_bench [--children N] [--seconds S] [--rates LIST]
 *                             [--modes LIST] [--chunk-bytes B]
 *
 * Three processes, so that the relay's CPU time is its own:
 *
 *   feeder --UDP--> relay --UDP--> sink (N sockets, one per child)
 *
 * The feeder plays the source: every generation it sends 16 chunks (12 data
 * + 4 Reed–Solomon parity, coded by core/fec), one per stripe, as depth-0
 * MULTICAST datagrams encoded by core/wire, in one burst as the real source
 * does, paced to the stream rate. The relay is the runtime's rt_peer
 * (runtime/peer.c: recvmsg, length check, decode, sender check, sc_node_recv,
 * and per copy encode + sendto) alone in its overlay, so it is the root of
 * every stripe; it has N children in stripe 0 (sc_scribe_adopt, the sink's
 * sockets): the SplitStream picture of a peer that receives all 16 stripes
 * and forwards one of them to its 16 children. Stripe 0's chunk comes as a
 * publish to the root, which acknowledges it (SC_MSG_SCRIBE_ROOT: one send
 * a generation an interior peer would not make, so the figures are a little
 * conservative) and multicasts it down; the other 15 come as repair answers,
 * which the relay receives, decodes and stores as it would its parents'
 * chunks, but neither acknowledges nor forwards (it has no children there).
 *
 * Modes, side by side in one run:
 *   raw     the floor: a loop of recvmsg and, for every 16th datagram, N
 *           sendto of the same bytes (the relay's syscalls, no protocol)
 *   forest  rt_peer with the stream off (what a forest-only relay does)
 *   stream  rt_peer with the stream on: it is also a listener, so every
 *           generation is reassembled and delivered (the real thing)
 *   signed  stream, signed (core/auth.h): the feeder signs every generation,
 *           the relay verifies every chunk before it plays it (only with
 *           --modes signed or a list naming it)
 *
 * Rates: stream rates in Mbit/s of data (the 12 data chunks; the wire
 * carries 16/12 of it plus headers); 0 = as fast as the feeder can send,
 * which on a 2-core machine shares the cores among three processes.
 *
 * For each (mode, rate) it prints offered and forwarded chunks/s, the
 * relay's CPU seconds (CLOCK_PROCESS_CPUTIME_ID over the feed), CPU
 * seconds per GB relayed (bytes the relay handed to its socket), CPU use,
 * what the sink received and, for stream, generations delivered. Benchmarks
 * measure, tests assert (docs/ARCHITECTURE.md §6). Results go to bench/RESULTS.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <sodium.h>

#include "core/auth.h"
#include "core/fec.h"
#include "core/id.h"
#include "core/rng.h"
#include "core/scribe.h"
#include "core/splitstream.h"
#include "core/wire.h"
#include "runtime/addr.h"
#include "runtime/peer.h"

#define STRIPES      16
#define DATA_CHUNKS  12
#define LOOPBACK     0x7f000001u
#define CHILDREN_MAX 64
#define RATES_MAX    16

enum mode { MODE_RAW, MODE_FOREST, MODE_STREAM, MODE_SIGNED, MODE_END };
static const char *const mode_name[MODE_END] = {"raw", "forest", "stream", "signed"};

/* The signed mode's key (core/auth.h): the feeder signs with it, the relay
 * verifies; made from a fixed seed in both processes. */
static void bench_key(uint8_t pk[SC_AUTH_PK_BYTES], uint8_t sk[SC_AUTH_SK_BYTES]) {
  uint8_t seed[32];
  memset(seed, 0x42, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
}

typedef struct opts {
  unsigned children;
  double seconds;
  unsigned chunk_bytes;
  double rates[RATES_MAX];
  unsigned nrates;
  bool modes[MODE_END];
} opts;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A UDP socket on 127.0.0.1, an ephemeral port; its port in *port. */
static int udp_socket(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int buf = 4 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

static struct sockaddr_in loop_addr(uint16_t port) {
  struct sockaddr_in sa = {
      .sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK), .sin_port = htons(port)};
  return sa;
}

/* ------------------------------------------------------------ sink */

/* Counts what arrives on the children's sockets until SIGTERM, then writes
 * datagrams and bytes to the pipe. */
static volatile sig_atomic_t sink_stop;
static void on_term(int sig) {
  (void)sig;
  sink_stop = 1;
}

static void sink_run(const int *fds, unsigned n, int out) {
  signal(SIGTERM, on_term);
  struct pollfd pfd[CHILDREN_MAX];
  for (unsigned i = 0; i < n; i++)
    pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
  uint64_t counts[2] = {0, 0};
  uint8_t buf[2048];
  while (!sink_stop) {
    if (poll(pfd, n, 100) <= 0) continue;
    for (unsigned i = 0; i < n; i++) {
      if (!(pfd[i].revents & POLLIN)) continue;
      for (;;) {
        ssize_t r = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0) break;
        counts[0]++;
        counts[1] += (uint64_t)r;
      }
    }
  }
  if (write(out, counts, sizeof counts) != (ssize_t)sizeof counts) _exit(1);
  _exit(0);
}

/* ------------------------------------------------------------ feeder */

/* Sends generations for `seconds` at `mbps` (0: flat out) to the relay and
 * writes the chunks sent to the pipe. Drains the relay's acknowledgements. */
static void feeder_run(int fd, uint16_t relay_port, double mbps, double seconds,
                       unsigned chunk_bytes, bool sign, int out) {
  rt_addr_table addrs;
  if (rt_addr_init(&addrs, 16) != 0) _exit(1);
  struct sockaddr_in self;
  socklen_t slen = sizeof self;
  getsockname(fd, (struct sockaddr *)&self, &slen);
  sc_ref me;
  if (rt_addr_intern(&addrs, LOOPBACK, ntohs(self.sin_port), &me.addr) != 0) _exit(1);
  me.id = sc_id_hash("forward_bench feeder", 20);

  sc_fec *fec;
  if (sc_fec_new(&fec, DATA_CHUNKS, STRIPES - DATA_CHUNKS, chunk_bytes, NULL) != 0)
    _exit(1);
  uint8_t *chunk = calloc(STRIPES, chunk_bytes);
  const uint8_t *data[DATA_CHUNKS];
  uint8_t *parity[STRIPES - DATA_CHUNKS];
  sc_rng rng;
  sc_rng_seed(&rng, 42);
  for (unsigned i = 0; i < STRIPES * chunk_bytes; i++)
    chunk[i] = (uint8_t)sc_rng_next(&rng);
  for (unsigned i = 0; i < STRIPES; i++) {
    if (i < DATA_CHUNKS)
      data[i] = chunk + i * chunk_bytes;
    else
      parity[i - DATA_CHUNKS] = chunk + i * chunk_bytes;
  }
  sc_fec_encode(fec, data, parity);

  sc_node_config dflt;
  sc_node_config_default(&dflt); /* the relay's channel */
  sc_id channel = dflt.channel;
  sc_id stripe_id[STRIPES];
  for (unsigned i = 0; i < STRIPES; i++)
    stripe_id[i] = sc_splitstream_stripe_id(&channel, STRIPES, i);

  /* Signed: every generation signed (the feeder's CPU, not the relay's),
   * each chunk's piece and flag behind its payload, as channel.c sends. */
  sc_auth_signer *signer = NULL;
  const size_t pb = sc_auth_piece_bytes(DATA_CHUNKS, STRIPES - DATA_CHUNKS);
  uint8_t pieces[STRIPES * SC_AUTH_PIECE_BYTES_MAX];
  uint8_t *signed_chunk = calloc(STRIPES, chunk_bytes + pb + 1);
  if (sign) {
    uint8_t pk[SC_AUTH_PK_BYTES], sk[SC_AUTH_SK_BYTES];
    bench_key(pk, sk);
    if (!signed_chunk || sc_auth_signer_new(&signer, sk, &channel, DATA_CHUNKS,
                                            STRIPES - DATA_CHUNKS, chunk_bytes, NULL))
      _exit(1);
  }
  struct sockaddr_in to = loop_addr(relay_port);
  double gen_s = mbps > 0 ? DATA_CHUNKS * chunk_bytes * 8.0 / (mbps * 1e6) : 0.0;
  uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
  uint64_t sent = 0;
  uint8_t buf[SC_WIRE_DATAGRAM_MAX], ack[2048];
  for (uint32_t gen = 1;; gen++) {
    uint64_t t = now_ns();
    if (t >= end) break;
    if (gen_s > 0) {
      uint64_t due = start + (uint64_t)((gen - 1) * gen_s * 1e9);
      if (due > t + 200000) {
        struct timespec ts = {0, (long)(due - t)};
        nanosleep(&ts, NULL);
      }
    }
    uint64_t gen_ts = now_ns(); /* one per generation, as the source stamps it */
    if (signer) {
      sc_chunk ch[STRIPES];
      for (unsigned i = 0; i < STRIPES; i++)
        ch[i] = (sc_chunk){.gen = gen,
                           .src_ts_ns = gen_ts,
                           .gen_bytes = DATA_CHUNKS * chunk_bytes,
                           .index = (uint8_t)i,
                           .data = chunk + i * chunk_bytes,
                           .datalen = chunk_bytes};
      if (sc_auth_sign(signer, ch, pieces) != 0) _exit(1);
      for (unsigned i = 0; i < STRIPES; i++) {
        uint8_t *c = signed_chunk + i * (chunk_bytes + pb + 1);
        memcpy(c, chunk + i * chunk_bytes, chunk_bytes);
        memcpy(c + chunk_bytes, pieces + i * pb, pb);
        c[chunk_bytes + pb] = 1; /* verified by its sender */
      }
    }
    for (unsigned i = 0; i < STRIPES; i++) {
      sc_msg m = {.type = SC_MSG_MULTICAST, .sender = me};
      m.u.multicast = (sc_msg_multicast){.group = stripe_id[i],
                                         .seq = gen,
                                         .depth = 0,
                                         .repair = i != 0,
                                         .len = (uint16_t)chunk_bytes,
                                         .gen_bytes = DATA_CHUNKS * chunk_bytes,
                                         .sent_ns = gen_ts,
                                         .data = chunk + i * chunk_bytes};
      if (signer) {
        m.u.multicast.len = (uint16_t)(chunk_bytes + pb + 1);
        m.u.multicast.data = signed_chunk + i * (chunk_bytes + pb + 1);
      }
      int len = sc_wire_encode(&m, rt_addr_map(&addrs), buf, sizeof buf);
      if (len < 0) _exit(1);
      if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) == len)
        sent++;
    }
    while (recv(fd, ack, sizeof ack, MSG_DONTWAIT) > 0) {
    }
  }
  if (write(out, &sent, sizeof sent) != (ssize_t)sizeof sent) _exit(1);
  _exit(0);
}

/* ------------------------------------------------------------ relays */

typedef struct relay_result {
  uint64_t dgrams_in, dgrams_out, bytes_out;
  uint64_t gens_delivered, gens_lost;
  double cpu_s, wall_s;
} relay_result;

/* raw: recvmsg everything; every 16th datagram goes to every child. */
static void relay_raw(int fd, const uint16_t *child_port, unsigned n, pid_t feeder,
                      relay_result *r) {
  struct sockaddr_in to[CHILDREN_MAX];
  for (unsigned i = 0; i < n; i++)
    to[i] = loop_addr(child_port[i]);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  uint8_t buf[SC_WIRE_DATAGRAM_MAX + 1];
  bool fed = false;
  uint64_t quiet_since = 0;
  for (;;) {
    int pr = poll(&pfd, 1, 20);
    if (pr > 0) {
      for (int k = 0; k < 64; k++) {
        ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (len < 0) break;
        if (r->dgrams_in++ % STRIPES != 0) continue;
        for (unsigned i = 0; i < n; i++) {
          if (sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&to[i], sizeof to[i]) ==
              len) {
            r->dgrams_out++;
            r->bytes_out += (uint64_t)len;
          }
        }
      }
      quiet_since = 0;
    } else if (fed) {
      if (quiet_since == 0) quiet_since = now_ns();
      if (now_ns() - quiet_since > 200000000ull) return;
    }
    if (!fed && waitpid(feeder, NULL, WNOHANG) == feeder) fed = true;
  }
}

typedef struct rt_relay {
  struct ev_loop *loop;
  rt_addr_table addrs;
  rt_peer peer;
  pid_t feeder;
  bool fed;
  uint64_t last_in, quiet_since;
} rt_relay;

/* Polls for the feeder's end; then stops the loop once the input is quiet
 * for 400 ms (the relay's queue has drained, the last generations played). */
static void relay_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)revents;
  rt_relay *r = w->data;
  if (!r->fed && waitpid(r->feeder, NULL, WNOHANG) == r->feeder) r->fed = true;
  if (!r->fed) return;
  uint64_t t = now_ns();
  if (r->peer.c.dgrams_in != r->last_in || r->quiet_since == 0) {
    r->last_in = r->peer.c.dgrams_in;
    r->quiet_since = t;
  } else if (t - r->quiet_since > 400000000ull) {
    ev_break(loop, EVBREAK_ALL);
  }
}

/* The node runtime's peer on port, alone in its overlay (so joined at once
 * and the root of every stripe), with n children in stripe 0. Returns 0 or
 * -1 (reported). */
static int rt_relay_open(rt_relay *r, uint16_t port, bool stream, bool sign,
                         const uint16_t *child_port, unsigned n, unsigned chunk_bytes) {
  memset(r, 0, sizeof *r);
  r->loop = ev_loop_new(EVFLAG_AUTO);
  if (r->loop == NULL || rt_addr_init(&r->addrs, 256) != 0) return -1;
  sc_node_config cfg;
  sc_node_config_default(&cfg);
  cfg.forest.capacity = n > STRIPES ? n : STRIPES;
  cfg.stream = stream;
  cfg.stream_cfg.stream.chunk_bytes = chunk_bytes;
  cfg.stream_cfg.stream.window_gens = 1024;
  /* A short playout delay, so the generations are played (and counted)
   * within the case, not after it. */
  cfg.stream_cfg.stream.buffer_ns = 100000000ull;
  if (sign) {
    uint8_t sk[SC_AUTH_SK_BYTES];
    cfg.stream_cfg.auth = true;
    bench_key(cfg.stream_cfg.auth_pk, sk);
  }
  rt_impair_config imp;
  memset(&imp, 0, sizeof imp);
  static const rt_peer_hooks hooks = {0};
  int rv = rt_peer_open(&r->peer, r->loop, &r->addrs, 0, LOOPBACK, port, &cfg, &imp, 7,
                        &hooks, NULL);
  if (rv != 0) {
    fprintf(stderr, "forward_bench: rt_peer_open failed (%d, errno %d)\n", rv,
            r->peer.sys_errno);
    return -1;
  }
  rt_peer_join(&r->peer, 0, 0);
  for (int i = 0; i < 50 && !r->peer.forest_started; i++)
    ev_run(r->loop, EVRUN_NOWAIT);
  if (!r->peer.forest_started) {
    fprintf(stderr, "forward_bench: the relay did not start its forest\n");
    return -1;
  }
  sc_scribe *scribe = sc_node_scribe(r->peer.node);
  unsigned g0 = sc_splitstream_group(sc_node_forest(r->peer.node), 0);
  for (unsigned i = 0; i < n; i++) {
    char name[32];
    snprintf(name, sizeof name, "child %u", i);
    sc_ref child = {.id = sc_id_hash(name, strlen(name))};
    if (rt_addr_intern(&r->addrs, LOOPBACK, child_port[i], &child.addr) != 0 ||
        sc_scribe_adopt(scribe, g0, &child, rt_now_ns()) != 0) {
      fprintf(stderr, "forward_bench: adopting child %u failed\n", i);
      return -1;
    }
  }
  rt_peer_after_core(&r->peer, rt_now_ns());
  ev_run(r->loop, EVRUN_NOWAIT);
  return 0;
}

static void rt_relay_run(rt_relay *r, pid_t feeder, relay_result *res) {
  rt_counters before = r->peer.c;
  r->feeder = feeder;
  ev_timer tick;
  ev_timer_init(&tick, relay_tick, 0.02, 0.02);
  tick.data = r;
  ev_timer_start(r->loop, &tick);
  ev_run(r->loop, 0);
  ev_timer_stop(r->loop, &tick);
  res->dgrams_in = r->peer.c.dgrams_in - before.dgrams_in;
  res->dgrams_out = r->peer.c.dgrams_out - before.dgrams_out;
  res->bytes_out = r->peer.c.bytes_out - before.bytes_out;
  res->gens_delivered = r->peer.gens_delivered;
  res->gens_lost = r->peer.gens_lost;
}

static void rt_relay_close(rt_relay *r) {
  rt_peer_close(&r->peer);
  rt_addr_free(&r->addrs);
  if (r->loop) ev_loop_destroy(r->loop);
}

/* ------------------------------------------------------------ one case */

typedef struct case_result {
  relay_result relay;
  uint64_t fed, sunk, sunk_bytes;
} case_result;

static int run_case(const opts *o, enum mode mode, double mbps, case_result *cr) {
  memset(cr, 0, sizeof *cr);
  int child_fd[CHILDREN_MAX];
  uint16_t child_port[CHILDREN_MAX];
  for (unsigned i = 0; i < o->children; i++)
    if ((child_fd[i] = udp_socket(&child_port[i])) < 0) return -1;
  int sink_pipe[2], feed_pipe[2];
  if (pipe(sink_pipe) != 0 || pipe(feed_pipe) != 0) return -1;
  pid_t sink = fork();
  if (sink == 0) sink_run(child_fd, o->children, sink_pipe[1]);
  for (unsigned i = 0; i < o->children; i++)
    close(child_fd[i]);

  uint16_t feed_port, relay_port;
  int feed_fd = udp_socket(&feed_port);
  int relay_fd = udp_socket(&relay_port);
  if (feed_fd < 0 || relay_fd < 0 || sink < 0) return -1;
  rt_relay rr;
  bool rt = mode != MODE_RAW;
  if (rt) {
    close(relay_fd); /* the peer binds the port itself */
    relay_fd = -1;
    if (rt_relay_open(&rr, relay_port, mode >= MODE_STREAM, mode == MODE_SIGNED,
                      child_port, o->children, o->chunk_bytes) != 0)
      return -1;
  }
  double c0 = cpu_s();
  uint64_t w0 = now_ns();
  pid_t feeder = fork();
  if (feeder == 0)
    feeder_run(feed_fd, relay_port, mbps, o->seconds, o->chunk_bytes, mode == MODE_SIGNED,
               feed_pipe[1]);
  close(feed_fd);
  if (rt)
    rt_relay_run(&rr, feeder, &cr->relay);
  else
    relay_raw(relay_fd, child_port, o->children, feeder, &cr->relay);
  cr->relay.cpu_s = cpu_s() - c0;
  cr->relay.wall_s = (double)(now_ns() - w0) / 1e9;
  if (rt)
    rt_relay_close(&rr);
  else
    close(relay_fd);
  kill(sink, SIGTERM);
  uint64_t counts[2] = {0, 0};
  if (read(sink_pipe[0], counts, sizeof counts) != (ssize_t)sizeof counts) return -1;
  if (read(feed_pipe[0], &cr->fed, sizeof cr->fed) != (ssize_t)sizeof cr->fed) return -1;
  waitpid(sink, NULL, 0);
  waitpid(feeder, NULL, 0); /* already reaped by the relay; harmless */
  cr->sunk = counts[0];
  cr->sunk_bytes = counts[1];
  close(sink_pipe[0]);
  close(sink_pipe[1]);
  close(feed_pipe[0]);
  close(feed_pipe[1]);
  return 0;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
  fprintf(f,
          "usage: forward_bench [--children N] [--seconds S] [--rates LIST]\n"
          "                     [--modes LIST] [--chunk-bytes B] [--help]\n"
          "\n"
          "One real peer's forwarding rate over loopback UDP: a feeder sends the\n"
          "16-stripe stream (12+4) to a relay (runtime/peer.c, alone in its overlay,\n"
          "so the root of every stripe) that forwards stripe 0 to N children.\n"
          "\n"
          "  --children N     children in stripe 0 (default 16, at most %d)\n"
          "  --seconds S      feed time per case (default 3)\n"
          "  --rates LIST     stream data rates in Mbit/s, comma-separated;\n"
          "                   0 = as fast as the feeder sends (default 8,64,0)\n"
          "  --modes LIST     raw,forest,stream,signed (default the first three)\n"
          "  --chunk-bytes B  chunk payload (default 1024)\n"
          "\n"
          "Prints one CSV row per (mode, rate): chunks fed, chunks forwarded per\n"
          "second, the relay's CPU seconds and CPU seconds per GB relayed, and the\n"
          "ratio of its CPU per chunk to the raw floor's at the same rate.\n",
          CHILDREN_MAX);
}

static int parse_list(const char *s, double *out, unsigned max) {
  unsigned n = 0;
  char *copy = strdup(s), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char *end;
    double v = strtod(t, &end);
    if (*end != '\0' || v < 0 || n == max) {
      free(copy);
      return -1;
    }
    out[n++] = v;
  }
  free(copy);
  return (int)n;
}

int main(int argc, char **argv) {
  opts o = {.children = 16,
            .seconds = 3,
            .chunk_bytes = 1024,
            .rates = {8, 64, 0},
            .nrates = 3,
            .modes = {true, true, true}};
  static const struct option longs[] = {{"children", required_argument, 0, 'n'},
                                        {"seconds", required_argument, 0, 's'},
                                        {"rates", required_argument, 0, 'r'},
                                        {"modes", required_argument, 0, 'm'},
                                        {"chunk-bytes", required_argument, 0, 'b'},
                                        {"help", no_argument, 0, 'h'},
                                        {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
    case 'n':
      o.children = (unsigned)strtoul(optarg, &end, 10);
      if (*end || o.children < 1 || o.children > CHILDREN_MAX) goto bad;
      break;
    case 's':
      o.seconds = strtod(optarg, &end);
      if (*end || o.seconds <= 0) goto bad;
      break;
    case 'r': {
      int n = parse_list(optarg, o.rates, RATES_MAX);
      if (n <= 0) goto bad;
      o.nrates = (unsigned)n;
      break;
    }
    case 'm': {
      memset(o.modes, 0, sizeof o.modes);
      char *copy = strdup(optarg), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        unsigned m = 0;
        while (m < MODE_END && strcmp(t, mode_name[m]) != 0)
          m++;
        if (m == MODE_END) {
          free(copy);
          goto bad;
        }
        o.modes[m] = true;
      }
      free(copy);
      break;
    }
    case 'b':
      o.chunk_bytes = (unsigned)strtoul(optarg, &end, 10);
      if (*end || o.chunk_bytes < 64 || o.chunk_bytes > SC_CHUNK_BYTES_MAX) goto bad;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "forward_bench: bad option (see --help)\n");
    return 2;
  }
  if (optind != argc) {
    fprintf(stderr, "forward_bench: unexpected operand '%s' (see --help)\n",
            argv[optind]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (sodium_init() < 0) return 1;
  printf("mode,rate_mbps,children,chunks_fed,relay_in,relay_out,forwarded,"
         "fed_per_s,forwarded_per_s,relay_cpu_s,cpu_use,cpu_s_per_gb,cpu_us_per_forward,"
         "vs_raw,gens_delivered,gens_lost\n");
  for (unsigned ri = 0; ri < o.nrates; ri++) {
    double raw_us = 0;
    for (unsigned m = 0; m < MODE_END; m++) {
      if (!o.modes[m]) continue;
      case_result cr;
      if (run_case(&o, (enum mode)m, o.rates[ri], &cr) != 0) {
        fprintf(stderr, "forward_bench: case %s at %g Mbit/s failed: %s\n", mode_name[m],
                o.rates[ri], strerror(errno));
        return 1;
      }
      /* Relayed = what reached the children (the sink); relay_out also
       * counts the root's acknowledgements to the feeder. */
      const relay_result *r = &cr.relay;
      double us = cr.sunk ? r->cpu_s * 1e6 / (double)cr.sunk : 0;
      if (m == MODE_RAW) raw_us = us;
      printf(
          "%s,%g,%u,%llu,%llu,%llu,%llu,%.0f,%.0f,%.3f,%.3f,%.2f,%.3f,%.2f,%llu,%llu\n",
          mode_name[m], o.rates[ri], o.children, (unsigned long long)cr.fed,
          (unsigned long long)r->dgrams_in, (unsigned long long)r->dgrams_out,
          (unsigned long long)cr.sunk, (double)cr.fed / o.seconds,
          (double)cr.sunk / o.seconds, r->cpu_s, r->cpu_s / r->wall_s,
          cr.sunk_bytes ? r->cpu_s / ((double)cr.sunk_bytes / 1e9) : 0, us,
          raw_us > 0 ? us / raw_us : 0, (unsigned long long)r->gens_delivered,
          (unsigned long long)r->gens_lost);
      fflush(stdout);
    }
  }
  return 0;
}
