/* host.c — see host.h. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/rng.h"

static void host_log(const rt_host *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void host_log(const rt_host *h, const char *fmt, ...) {
  if (!h->opt.verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "stripecast[%d] %.3f ", (int)getpid(),
          (double)(rt_now_ns() - h->start_ns) / 1e9);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static uint64_t host_seed(const rt_options *o) {
  if (o->seed_set) return o->seed;
  uint64_t s = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
    close(fd);
  }
  return s ^ rt_now_ns() ^ ((uint64_t)getpid() << 32);
}

/* ------------------------------------------------------------- output */

static bool write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= (size_t)n;
  }
  return true;
}

static void hook_deliver(rt_peer *p, uint64_t gen, const uint8_t *data, size_t datalen,
                         uint64_t src_ts_ns, uint64_t now) {
  (void)gen;
  (void)src_ts_ns;
  (void)now;
  rt_host *h = p->user;
  if (!h->out || !data) return;
  rt_output *o = &h->out[p->index];
  if (o->fd < 0 || o->failed) return;
  /* Blocking write: a file or a pipe the user reads; a reader that stalls
   * stalls the peer, which is the honest thing for a player at the end of
   * the pipe. A closed pipe (EPIPE) ends the output, not the peer. */
  if (!write_all(o->fd, data, datalen)) {
    o->failed = true;
    fprintf(stderr, "stripecast: peer %u: output: %s (output stopped)\n", p->index,
            strerror(errno));
    return;
  }
  o->bytes += datalen;
}

static int host_open_outputs(rt_host *h) {
  if (!h->opt.output) return 0;
  h->out = calloc(h->npeers, sizeof *h->out);
  if (!h->out) return SC_ERR_NOMEM;
  for (uint32_t i = 0; i < h->npeers; i++)
    h->out[i].fd = -1;
  for (uint32_t i = 0; i < h->npeers; i++) {
    if (strcmp(h->opt.output, "-") == 0) {
      h->out[i].fd = STDOUT_FILENO;
      continue;
    }
    char path[4096];
    if (rt_cli_output_path(h->opt.output, i, h->opt.port + i, path, sizeof path) != 0) {
      fprintf(stderr, "stripecast: --output: path too long\n");
      return SC_ERR_INVALID;
    }
    h->out[i].fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (h->out[i].fd < 0) {
      fprintf(stderr, "stripecast: --output %s: %s\n", path, strerror(errno));
      return SC_ERR_INVALID;
    }
  }
  return 0;
}

static void host_close_outputs(rt_host *h) {
  if (!h->out) return;
  for (uint32_t i = 0; i < h->npeers; i++)
    if (h->out[i].fd > STDERR_FILENO) close(h->out[i].fd);
  free(h->out);
  h->out = NULL;
}

/* ------------------------------------------------------------- source */

static rt_peer *host_source_peer(rt_host *h) {
  return h->opt.source ? &h->peers[0] : NULL;
}

static void source_flush(rt_host *h, uint64_t now) {
  rt_peer *p = host_source_peer(h);
  if (h->src.pending == 0) return;
  if (sc_node_source_flush(p->node, now) != 0) h->src.write_errors++;
  h->src.pending = 0;
  h->src.flushes++;
  rt_peer_after_core(p, now);
}

static void source_feed(rt_host *h, const uint8_t *buf, size_t n, uint64_t now) {
  rt_peer *p = host_source_peer(h);
  if (sc_node_source_write(p->node, buf, n, now) != 0) h->src.write_errors++;
  /* Mirror the source's cutting (every gen_size bytes make a generation) to
   * know how long the bytes of the unfinished generation have waited. */
  uint64_t before = h->src.pending;
  h->src.pending = (before + n) % h->src.gen_size;
  if (before == 0 || (before + n >= h->src.gen_size && h->src.pending > 0))
    h->src.pending_since_ns = now;
}

static void host_begin_exit(rt_host *h);

static void source_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  rt_peer *p = host_source_peer(h);
  rt_source *s = &h->src;
  uint64_t now = rt_now_ns();
  if (h->state != RT_RUNNING || s->eof) return;
  if (!s->joined_seen) {
    if (!sc_pastry_is_joined(sc_node_pastry(p->node))) return;
    s->joined_seen = true;
    s->joined_ns = now;
  }
  if (!s->started) {
    if (now < s->joined_ns + h->opt.start_delay_ms * 1000000ull) return;
    s->started = true;
    s->start_ns = now;
    host_log(h, "source: streaming at %llu kbit/s", (unsigned long long)h->opt.rate_kbps);
  }
  /* Pacing by totals since the start, so rounding never drifts: the bytes
   * the rate allows by now, less those already read. */
  uint64_t elapsed_ns = now - s->start_ns;
  uint64_t allowed =
      (uint64_t)((double)h->opt.rate_kbps * 1000.0 / 8.0 * (double)elapsed_ns / 1e9);
  uint8_t buf[RT_SOURCE_READ_MAX];
  while (allowed > s->bytes_read) {
    uint64_t want = allowed - s->bytes_read;
    if (want > sizeof buf) want = sizeof buf;
    ssize_t n = read(s->fd, buf, (size_t)want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break; /* a live input, dry */
      fprintf(stderr, "stripecast: --source: %s (treated as the end)\n", strerror(errno));
      n = 0;
    }
    if (n == 0) {
      s->eof = true;
      s->eof_ns = now;
      source_flush(h, now);
      host_log(h, "source: end of input after %llu bytes",
               (unsigned long long)s->bytes_read);
      if (h->opt.eof_exit_ms >= 0) {
        ev_timer_set(&h->eof_timer, (double)h->opt.eof_exit_ms / 1e3, 0.0);
        ev_timer_start(h->loop, &h->eof_timer);
      }
      ev_timer_stop(h->loop, &h->source_timer);
      return;
    }
    s->bytes_read += (uint64_t)n;
    source_feed(h, buf, (size_t)n, now);
    rt_peer_after_core(p, now);
    if (!s->is_file) break; /* a live input: take what came, once a tick */
  }
  /* A live input that trickles: --flush-ms bounds how long bytes wait for
   * the rest of their generation. */
  if (h->opt.flush_ms > 0 && s->pending > 0 &&
      now - s->pending_since_ns >= h->opt.flush_ms * 1000000ull)
    source_flush(h, now);
}

static void eof_exit_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  host_begin_exit(w->data);
}

static int host_open_source(rt_host *h) {
  rt_source *s = &h->src;
  s->fd = -1;
  if (!h->opt.source) return 0;
  if (strcmp(h->opt.source, "-") == 0) {
    s->fd = STDIN_FILENO;
  } else {
    s->fd = open(h->opt.source, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
      fprintf(stderr, "stripecast: --source %s: %s\n", h->opt.source, strerror(errno));
      return SC_ERR_INVALID;
    }
  }
  struct stat st;
  s->is_file = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!s->is_file) {
    /* A pipe or terminal: never block the loop waiting for input. */
    int fl = fcntl(s->fd, F_GETFL);
    if (fl >= 0) (void)fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
  }
  const sc_stream_config *sc = &h->cfg.stream_cfg.stream;
  s->gen_size = (uint64_t)sc->data_chunks * sc->chunk_bytes;
  ev_timer_init(&h->source_timer, source_tick, RT_SOURCE_TICK_S, RT_SOURCE_TICK_S);
  h->source_timer.data = h;
  ev_timer_start(h->loop, &h->source_timer);
  return 0;
}

/* ------------------------------------------------------- joins, exit */

static void join_next_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  if (h->state != RT_RUNNING) return;
  uint32_t i = h->njoin_next;
  if (i >= h->npeers) {
    ev_timer_stop(h->loop, &h->join_timer);
    return;
  }
  uint32_t ip = 0;
  uint16_t port = 0;
  if (i == 0 && h->opt.join) {
    ip = h->opt.join_ip;
    port = h->opt.join_port;
  } else if (i > 0) {
    /* Later peers join through peer 0, which is already in the overlay. */
    ip = h->peers[0].ip;
    port = h->peers[0].port;
  }
  int rv = rt_peer_join(&h->peers[i], ip, port);
  if (rv != 0) fprintf(stderr, "stripecast: peer %u: join: %s\n", i, sc_strerror(rv));
  h->njoin_next++;
  if (h->njoin_next >= h->npeers) ev_timer_stop(h->loop, &h->join_timer);
}

static void host_finish(rt_host *h) {
  h->state = RT_DONE;
  ev_break(h->loop, EVBREAK_ALL);
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  uint64_t held = 0;
  for (uint32_t i = 0; i < h->npeers; i++)
    held += rt_peer_queued(&h->peers[i]);
  if (held > 0 && rt_now_ns() < h->drain_deadline_ns) return; /* tick again */
  host_finish(h);
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  host_log(h, "grace period over: leaving the parents");
  for (uint32_t i = 0; i < h->npeers; i++)
    rt_peer_depart_finish(&h->peers[i]);
  h->state = RT_DRAINING;
  h->drain_deadline_ns = rt_now_ns() + (uint64_t)(RT_DRAIN_MAX_S * 1e9);
  ev_timer_set(&h->drain_timer, 0.0, 0.01);
  ev_timer_start(h->loop, &h->drain_timer);
}

/* SIGINT/SIGTERM or the source's end: a polite departure (sc_node_depart),
 * forwarding on for --grace-ms while the children re-parent. */
static void host_begin_exit(rt_host *h) {
  if (h->state != RT_RUNNING) return;
  h->state = RT_DEPARTING;
  host_log(h, "leaving politely (grace %llu ms)", (unsigned long long)h->opt.grace_ms);
  ev_timer_stop(h->loop, &h->join_timer);
  ev_timer_stop(h->loop, &h->source_timer);
  ev_timer_stop(h->loop, &h->eof_timer);
  for (uint32_t i = 0; i < h->npeers; i++)
    rt_peer_depart(&h->peers[i]);
  ev_timer_set(&h->grace_timer, (double)h->opt.grace_ms / 1e3, 0.0);
  ev_timer_start(h->loop, &h->grace_timer);
}

static void sig_exit_cb(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  if (h->state == RT_RUNNING) {
    host_begin_exit(h);
  } else {
    host_log(h, "second signal: exiting now");
    host_finish(h);
  }
}

static void host_write_stats(rt_host *h) {
  if (!h->opt.stats) return;
  int rv = rt_stats_write(h, h->opt.stats);
  if (rv != 0)
    fprintf(stderr, "stripecast: --stats %s: %s\n", h->opt.stats, strerror(-rv));
}

static void sig_usr1_cb(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)loop;
  (void)revents;
  host_write_stats(w->data);
}

static void stats_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  host_write_stats(w->data);
}

/* ------------------------------------------------------------ the run */

static void host_config(rt_host *h) {
  const rt_options *o = &h->opt;
  sc_node_config *c = &h->cfg;
  memset(c, 0, sizeof *c);
  sc_node_config_default(c);
  c->channel = sc_id_hash(o->channel, strlen(o->channel));
  if (o->capacity_set) c->forest.capacity = o->capacity;
  if (o->heartbeat_ms > 0) {
    uint64_t hb = o->heartbeat_ms * 1000000ull;
    c->scribe.heartbeat_ns = hb;
    c->pastry.heartbeat_ns = 2 * hb;
    c->pastry.lease_ns = 3 * hb;
    /* Probes and per-hop acks: a crashed peer is declared dead after
     * probe_tries timeouts, so they scale with the period too. */
    uint64_t probe = hb / 2 < 1000000000ull ? hb / 2 : 1000000000ull;
    c->pastry.probe_timeout_ns = probe;
    c->pastry.ack_timeout_ns = probe;
  }
  c->stream = o->stream;
  c->stream_source = o->source != NULL;
  if (o->buffer_ms > 0) c->stream_cfg.stream.buffer_ns = o->buffer_ms * 1000000ull;
  if (o->window_gens > 0) c->stream_cfg.stream.window_gens = o->window_gens;
  /* Press play to first byte (docs/ARCHITECTURE.md §3): a listener hears
   * the first generation it can decode; a join's hop towards a peer never
   * measured waits a few measured round trips, not a second. */
  c->stream_cfg.stream.start_skips_partial = true;
  c->pastry.ack_timeout_learned = true;
  c->stream_cfg.repair_wait_start_ns = 50000000ull;
  if (o->repair_asks > 0) c->stream_cfg.repair_ask_max = o->repair_asks;
  if (o->root_refresh_ms > 0)
    c->stream_cfg.root_refresh_ns = o->root_refresh_ms * 1000000ull;
}

int rt_host_run(const rt_options *opt) {
  rt_host *h = calloc(1, sizeof *h);
  if (!h) {
    fprintf(stderr, "stripecast: out of memory\n");
    return 1;
  }
  h->opt = *opt;
  h->start_ns = rt_now_ns();
  h->loop = EV_DEFAULT;
  h->exit_code = 1;
  h->src.fd = -1;
  host_config(h);
  signal(SIGPIPE, SIG_IGN); /* a closed output pipe is an error on write */
  uint64_t seed = host_seed(opt);
  int rv = rt_addr_init(&h->addrs, RT_ADDR_MAX);
  if (rv == 0) {
    h->peers = calloc(opt->peers, sizeof *h->peers);
    if (!h->peers) rv = SC_ERR_NOMEM;
  }
  if (rv != 0) {
    fprintf(stderr, "stripecast: %s\n", sc_strerror(rv));
    goto out;
  }
  h->hooks.deliver = hook_deliver;
  for (uint32_t i = 0; i < opt->peers; i++) {
    uint16_t port = (uint16_t)(opt->port + i);
    uint64_t pseed = sc_mix64(seed ^ (((uint64_t)opt->ip << 16) | port));
    rv = rt_peer_open(&h->peers[i], h->loop, &h->addrs, i, opt->ip, port, &h->cfg,
                      &opt->impair, pseed, &h->hooks, h);
    if (rv != 0) {
      char a[RT_ADDR_STR_MAX];
      rt_addr_format(opt->ip, port, a);
      fprintf(stderr, "stripecast: peer %u at %s: %s\n", i, a,
              rv == RT_ERR_SYS ? strerror(h->peers[i].sys_errno) : sc_strerror(rv));
      goto out;
    }
    h->npeers++;
  }
  if (host_open_outputs(h) != 0 || host_open_source(h) != 0) goto out;

  ev_timer_init(&h->join_timer, join_next_cb, 0.0, (double)opt->join_spread_ms / 1e3);
  h->join_timer.data = h;
  if (opt->join_spread_ms == 0) h->join_timer.repeat = 1e-6;
  ev_timer_start(h->loop, &h->join_timer);
  ev_timer_init(&h->grace_timer, grace_cb, 0.0, 0.0);
  h->grace_timer.data = h;
  ev_timer_init(&h->drain_timer, drain_cb, 0.0, 0.01);
  h->drain_timer.data = h;
  ev_timer_init(&h->eof_timer, eof_exit_cb, 0.0, 0.0);
  h->eof_timer.data = h;
  if (opt->stats_interval_ms > 0) {
    double iv = (double)opt->stats_interval_ms / 1e3;
    ev_timer_init(&h->stats_timer, stats_tick, iv, iv);
    h->stats_timer.data = h;
    ev_timer_start(h->loop, &h->stats_timer);
  }
  ev_signal_init(&h->sig_int, sig_exit_cb, SIGINT);
  ev_signal_init(&h->sig_term, sig_exit_cb, SIGTERM);
  ev_signal_init(&h->sig_usr1, sig_usr1_cb, SIGUSR1);
  h->sig_int.data = h->sig_term.data = h->sig_usr1.data = h;
  ev_signal_start(h->loop, &h->sig_int);
  ev_signal_start(h->loop, &h->sig_term);
  ev_signal_start(h->loop, &h->sig_usr1);
  {
    char a[RT_ADDR_STR_MAX];
    rt_addr_format(opt->ip, opt->port, a);
    host_log(h, "%u peer(s) from %s%s", h->npeers, a, opt->source ? " (source)" : "");
  }

  ev_run(h->loop, 0);
  host_write_stats(h);
  h->exit_code = 0;

out:
  ev_timer_stop(h->loop, &h->join_timer);
  ev_timer_stop(h->loop, &h->grace_timer);
  ev_timer_stop(h->loop, &h->drain_timer);
  ev_timer_stop(h->loop, &h->eof_timer);
  ev_timer_stop(h->loop, &h->stats_timer);
  ev_timer_stop(h->loop, &h->source_timer);
  ev_signal_stop(h->loop, &h->sig_int);
  ev_signal_stop(h->loop, &h->sig_term);
  ev_signal_stop(h->loop, &h->sig_usr1);
  for (uint32_t i = 0; i < h->npeers; i++)
    rt_peer_close(&h->peers[i]);
  host_close_outputs(h);
  if (h->src.fd > STDERR_FILENO) close(h->src.fd);
  free(h->peers);
  rt_addr_free(&h->addrs);
  int code = h->exit_code;
  free(h);
  return code;
}
