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

#include "cli/flags.h"
#include "core/err.h"
#include "core/rng.h"
#include "key.h"

#include <sodium.h>
#include "status.h"

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

/* Realtime in tenths of a second of a CLOCK_MONOTONIC instant. */
static uint64_t host_realtime_ds(uint64_t mono_ns) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t rt = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  uint64_t now = rt_now_ns();
  uint64_t back = now > mono_ns ? now - mono_ns : 0;
  return (rt > back ? rt - back : 0) / 100000000ull;
}

static void host_output_present(rt_host *h, rt_peer *p) {
  rt_output *o = &h->out[p->index];
  if (o->present_rt_ds == 0 && p->forest_ns)
    rt_output_present(o, host_realtime_ds(p->forest_ns));
}

/* Every hosted peer's output ended (the broadcast is over): leave, from a
 * timer, since this runs inside the core's callbacks. */
static void host_check_ended(rt_host *h) {
  if (h->opt.cmd != RT_CMD_LISTEN || h->state != RT_RUNNING) return;
  for (uint32_t i = 0; i < h->npeers; i++)
    if (!h->out[i].ended) return;
  if (!ev_is_active(&h->end_timer)) {
    ev_timer_set(&h->end_timer, 0.0, 0.0);
    ev_timer_start(h->loop, &h->end_timer);
  }
}

static void hook_deliver(rt_peer *p, uint64_t gen, const uint8_t *data, size_t datalen,
                         uint64_t src_ts_ns, uint64_t now) {
  rt_host *h = p->user;
  if (h->serve && p->index == 0) rt_serve_deliver(h->serve, gen, data, datalen);
  if (!h->out) return;
  host_output_present(h, p);
  rt_output *o = &h->out[p->index];
  rt_output_deliver(o, gen, data, datalen, src_ts_ns, now);
  /* Attached mid-stream: the station's state is asked of a parent now
   * rather than waited for in the source's next repeat. */
  if (rt_output_wants_state(o)) {
    o->state_asked = true;
    /* INFO came with the stream: the page alone is asked for, and the
     * stream's next INFO does not cancel that. */
    o->page_asked = o->info_seen;
    (void)sc_node_state_fetch(p->node, now);
  } else if (o->state_asked && o->stream_info && !o->page_asked) {
    sc_node_state_cancel(p->node); /* the stream brought it first */
    o->state_asked = false;
  }
  host_check_ended(h);
}

static size_t hook_state_get(rt_peer *p, uint8_t *buf, size_t cap) {
  rt_host *h = p->user;
  size_t n;
  if (h->src.station && p == &h->peers[0]) /* the station source's peer */
    n = rt_station_source_state(h->src.station, buf, cap);
  else
    n = h->out ? rt_output_state(&h->out[p->index], buf, cap) : 0;
  if (h->opt.forge_state && n > 0) buf[n / 3] ^= 0x01; /* --forge-state */
  return n;
}

/* A fetched state; a signed station's must carry the station's signature of
 * it (core/station.h, SC_STATION_STATE_SIG), else it is refused and the
 * fetch asks another peer: a relay cannot forge codec headers or a title. */
static bool hook_state_got(rt_peer *p, const uint8_t *data, size_t len, uint64_t now) {
  rt_host *h = p->user;
  const uint8_t *sig = NULL;
  if (h->cfg.stream_cfg.auth) {
    size_t state_len;
    if (!sc_station_state_split(data, len, &state_len, &sig) ||
        !sc_station_state_verify(h->cfg.stream_cfg.auth_pk, &h->cfg.channel, data,
                                 state_len, sig)) {
      return false; /* counted: state_fetch.answers_refused */
    }
    len = state_len;
  }
  if (h->serve && p->index == 0) rt_serve_state(h->serve, data, len);
  if (h->out) rt_output_state_got(&h->out[p->index], data, len, sig, now);
  return true;
}

static void hook_lost(rt_peer *p, uint64_t gen, uint64_t now) {
  (void)now;
  rt_host *h = p->user;
  if (h->serve && p->index == 0) rt_serve_lost(h->serve, gen);
  if (!h->out) return;
  host_output_present(h, p);
  rt_output_lost(&h->out[p->index], gen);
}

static void hook_restarted(rt_peer *p, bool new_epoch, uint64_t now) {
  (void)now;
  rt_host *h = p->user;
  if (h->serve && p->index == 0) rt_serve_restarted(h->serve, new_epoch);
  if (!h->out) return;
  rt_output_restarted(&h->out[p->index], new_epoch);
}

static int host_open_outputs(rt_host *h) {
  bool station = h->opt.cmd == RT_CMD_LISTEN;
  /* A listener reads the station's records even without --output: its
   * counters, and the END that ends the process. */
  if (!h->opt.output && !station) return 0;
  h->out = calloc(h->npeers, sizeof *h->out);
  if (!h->out) return SC_ERR_NOMEM;
  for (uint32_t i = 0; i < h->npeers; i++)
    h->out[i].fd = -1;
  for (uint32_t i = 0; i < h->npeers; i++) {
    char path[4096];
    const char *where = NULL;
    if (h->opt.output && strcmp(h->opt.output, "-") == 0) {
      where = "-";
    } else if (h->opt.output) {
      if (rt_cli_output_path(h->opt.output, i, h->opt.port + i, path, sizeof path) != 0) {
        fprintf(stderr, "stripecast: --output: path too long\n");
        return SC_ERR_INVALID;
      }
      where = path;
    }
    int rv = rt_output_open(&h->out[i], h->loop, where, station);
    if (rv != 0) {
      fprintf(stderr, "stripecast: --output %s: %s\n", where ? where : "", strerror(-rv));
      return SC_ERR_INVALID;
    }
    h->out[i].signed_state = h->cfg.stream_cfg.auth;
  }
  return 0;
}

static void host_close_outputs(rt_host *h) {
  if (!h->out) return;
  for (uint32_t i = 0; i < h->npeers; i++)
    rt_output_free(&h->out[i]);
  free(h->out);
  h->out = NULL;
}

/* ------------------------------------------------------------- source */

static rt_peer *host_source_peer(rt_host *h) {
  return h->opt.source || h->opt.ingest ? &h->peers[0] : NULL;
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

static void source_eof(rt_host *h, uint64_t now) {
  rt_source *s = &h->src;
  s->eof = true;
  s->eof_ns = now;
  host_log(h, "source: end of input after %llu bytes", (unsigned long long)s->bytes_read);
  if (h->opt.eof_exit_ms >= 0) {
    ev_timer_set(&h->eof_timer, (double)h->opt.eof_exit_ms / 1e3, 0.0);
    ev_timer_start(h->loop, &h->eof_timer);
  }
  ev_timer_stop(h->loop, &h->source_timer);
}

/* A broadcast: FILE read ahead of its container's timestamps by
 * RT_SOURCE_LOOKAHEAD_US (by --rate-kbps while it has given none), a pipe
 * as its bytes arrive; everything through the station source. */
static void station_tick(rt_host *h, rt_peer *p, uint64_t now) {
  rt_source *s = &h->src;
  uint64_t elapsed_ns = now - s->start_ns;
  uint8_t buf[RT_SOURCE_READ_MAX];
  for (;;) {
    size_t want = sizeof buf;
    if (s->is_file) {
      int64_t media_us = rt_station_source_media_us(s->station);
      if (media_us >= 0) {
        if ((uint64_t)media_us >= elapsed_ns / 1000 + RT_SOURCE_LOOKAHEAD_US) break;
        want = RT_SOURCE_READ_STEP;
      } else {
        uint64_t allowed = (uint64_t)((double)h->opt.rate_kbps * 1000.0 / 8.0 *
                                      (double)elapsed_ns / 1e9);
        if (allowed <= s->bytes_read) break;
        if (allowed - s->bytes_read < want) want = (size_t)(allowed - s->bytes_read);
      }
    }
    ssize_t n = read(s->fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fprintf(stderr, "stripecast: --source: %s (treated as the end)\n", strerror(errno));
      n = 0;
    }
    if (n == 0) {
      /* The end of the input is the end of the broadcast. */
      rt_station_source_end(s->station, true, now);
      rt_peer_after_core(p, now);
      source_eof(h, now);
      return;
    }
    s->bytes_read += (uint64_t)n;
    if (rt_station_source_feed(s->station, buf, (size_t)n, now) != 0) s->write_errors++;
    rt_peer_after_core(p, now);
    if (!s->is_file) break; /* a live input: take what came, once a tick */
  }
  if (now >= rt_station_source_get_expiry(s->station)) {
    rt_station_source_handle_expiry(s->station, now);
    rt_peer_after_core(p, now);
  }
}

static void station_expiry(rt_host *h, rt_peer *p, uint64_t now) {
  rt_source *s = &h->src;
  if (now >= rt_station_source_get_expiry(s->station)) {
    rt_station_source_handle_expiry(s->station, now);
    rt_peer_after_core(p, now);
  }
}

/* --input: the encoder reads by the audio clock (a file) or by arrival. */
static void encoder_tick(rt_host *h, rt_peer *p, uint64_t now) {
  rt_source *s = &h->src;
  int rv = rt_encoder_tick(s->enc, now);
  rt_encoder_stats es;
  rt_encoder_get_stats(s->enc, &es);
  s->bytes_read = es.pcm_bytes;
  rt_peer_after_core(p, now);
  if (rv != 0) {
    rt_station_source_end(s->station, true, now);
    rt_peer_after_core(p, now);
    source_eof(h, now);
    return;
  }
  station_expiry(h, p, now);
}

static void relay_after_feed(void *user, uint64_t now) {
  rt_host *h = user;
  rt_peer_after_core(host_source_peer(h), now);
}

/* --name, --description, --genre as INFO lines after the n bytes of info
 * (control bytes, which would end a line, become spaces). */
static void host_info_about(const rt_options *o, char *info, size_t cap, int n) {
  const struct {
    const char *key, *value;
  } about[] = {
      {"name", o->station_name}, {"description", o->description}, {"genre", o->genre}};
  for (size_t i = 0; i < sizeof about / sizeof about[0]; i++) {
    if (!about[i].value || n < 0 || (size_t)n >= cap) continue;
    int k = snprintf(info + n, cap - (size_t)n, "%s=%s\n", about[i].key, about[i].value);
    if (k < 0 || (size_t)k >= cap - (size_t)n) break;
    for (int j = n + (int)strlen(about[i].key) + 1; j < n + k - 1; j++)
      if ((unsigned char)info[j] < 0x20) info[j] = ' ';
    n += k;
  }
}

/* The broadcast's first session: begin the station source's session with
 * info (a --source), or start the encoder or the relay, which begin their
 * own. False when that failed (the process is leaving). */
static bool host_start_station(rt_host *h, const char *info, uint64_t now) {
  rt_source *s = &h->src;
  char err[FLAGS_ERR_BYTES] = "";
  int rv = 0;
  if (s->enc) {
    rv = rt_encoder_start(s->enc, s->station, info, now, err, sizeof err);
  } else if (h->opt.source_kind == RT_SOURCE_RELAY) {
    rt_relay_config rc = {.url = h->opt.relay,
                          .info = info,
                          .seed = now ^ ((uint64_t)getpid() << 32),
                          .after_feed = relay_after_feed,
                          .user = h};
    rv = rt_relay_new(&s->relay, h->loop, s->station, &rc, err, sizeof err);
    if (rv == 0) rt_relay_start(s->relay);
  } else {
    rt_station_source_begin(s->station, SC_MEDIA_UNKNOWN, info, now);
  }
  if (rv == 0) return true;
  fprintf(stderr, "stripecast: %s\n", err[0] ? err : sc_strerror(rv));
  h->exit_code = 1;
  host_begin_exit(h);
  return false;
}

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
    if (s->ingest) {
      host_log(h, "source: waiting for encoders on %s", h->opt.http);
    } else if (s->station) {
      /* started=: the broadcast's start on the realtime clock, in tenths of
       * a second, so a listener that subscribed before it can count the
       * generations it missed at the start (output.h). */
      char info[1024];
      int n = snprintf(info, sizeof info, "station=%s\nstarted=%llu\n", h->opt.station,
                       (unsigned long long)host_realtime_ds(now));
      host_info_about(&h->opt, info, sizeof info, n);
      if (!host_start_station(h, info, now)) return;
      rt_peer_after_core(p, now);
      host_log(h, "source: broadcasting");
    } else {
      host_log(h, "source: streaming at %llu kbit/s",
               (unsigned long long)h->opt.rate_kbps);
    }
  }
  if (s->ingest) {
    /* The encoders feed through the ingest server's callbacks; here only
     * the station source's timers. */
    if (now >= rt_station_source_get_expiry(s->station)) {
      rt_station_source_handle_expiry(s->station, now);
      rt_peer_after_core(p, now);
    }
    return;
  }
  if (s->enc) {
    encoder_tick(h, p, now);
    return;
  }
  if (s->relay) {
    station_expiry(h, p, now);
    return;
  }
  if (s->station) {
    station_tick(h, p, now);
    return;
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
      source_flush(h, now);
      source_eof(h, now);
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

static void end_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  host_log(h, "the broadcast ended");
  host_begin_exit(h);
}

static void eof_exit_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  host_begin_exit(w->data);
}

/* ---------------------------------------------- encoders (--http) */

/* The ingest server's sink: each encoder's session into the station
 * source, which ends a session without ending the broadcast. */
static int ingest_begin(void *user, sc_media_kind kind, const char *info, uint64_t now) {
  rt_host *h = user;
  rt_source *s = &h->src;
  if (!s->ingest_began) {
    s->ingest_began = true;
    s->ingest_started_ds = host_realtime_ds(now);
  }
  char all[SC_STATION_INFO_MAX];
  snprintf(all, sizeof all, "station=%s\nstarted=%llu\n%s", h->opt.station,
           (unsigned long long)s->ingest_started_ds, info);
  int rv = rt_station_source_begin(s->station, kind, all, now);
  rt_peer_after_core(host_source_peer(h), now);
  return rv;
}

static int ingest_feed(void *user, const uint8_t *data, size_t len, uint64_t now) {
  rt_host *h = user;
  h->src.bytes_read += len;
  int rv = rt_station_source_feed(h->src.station, data, len, now);
  if (rv != 0) h->src.write_errors++;
  rt_peer_after_core(host_source_peer(h), now);
  return rv;
}

static int ingest_title(void *user, const char *title, uint64_t now) {
  rt_host *h = user;
  int rv = rt_station_source_title(h->src.station, title, now);
  rt_peer_after_core(host_source_peer(h), now);
  return rv;
}

static void ingest_end(void *user, uint64_t now) {
  rt_host *h = user;
  rt_station_source_end(h->src.station, false, now);
  rt_peer_after_core(host_source_peer(h), now);
}

/* The station's mount, as players and encoders name it: the station's name
 * ("/live.opus"; a listener's NAME@KEY gives its NAME), or, for a listener
 * that named the station by its key alone, "/" and the key's first 16 hex
 * digits. */
static void host_mount(const rt_options *o, char *out, size_t cap) {
  const char *name = o->station;
  char keyname[17];
  if (o->cmd == RT_CMD_LISTEN && o->spec.is_signed) {
    if (o->spec.name[0] != '\0') {
      name = o->spec.name;
    } else {
      static const char hex[] = "0123456789abcdef";
      for (int i = 0; i < 8; i++) {
        keyname[2 * i] = hex[o->spec.pk[i] >> 4];
        keyname[2 * i + 1] = hex[o->spec.pk[i] & 15];
      }
      keyname[16] = '\0';
      name = keyname;
    }
  }
  size_t n = 0;
  if (name[0] != '/' && n + 1 < cap) out[n++] = '/';
  for (size_t i = 0; name[i] != '\0' && n + 1 < cap; i++)
    out[n++] = name[i];
  out[n] = '\0'; /* names are bounded below the mount's bound (cli.c) */
}

static int host_open_ingest(rt_host *h) {
  rt_source *s = &h->src;
  const rt_options *o = &h->opt;
  const char *pw = o->source_password;
  if (o->source_password_file) {
    int n = rt_ingest_read_password_file(o->source_password_file, s->password,
                                         sizeof s->password);
    if (n < 0) {
      fprintf(stderr, "stripecast: --source-password-file %s: %s\n",
              o->source_password_file,
              n == RT_INGEST_ERR_SYS  ? strerror(errno)
              : n == SC_ERR_TOO_LARGE ? "longer than a password may be"
                                      : "not one non-empty line");
      return SC_ERR_INVALID;
    }
    pw = s->password;
  }
  host_mount(o, s->mount, sizeof s->mount);
  rt_ingest_config icfg = {.ip = o->http_ip,
                           .port = o->http_port,
                           .mount = s->mount,
                           .source_password = pw,
                           .admin_password = rt_status_admin_password(h->status),
                           .verbose = o->verbose,
                           .http_adopted = h->serve != NULL};
  if (h->serve) icfg.port = rt_serve_port(h->serve);
  rt_ingest_sink sink = {.begin = ingest_begin,
                         .feed = ingest_feed,
                         .title = ingest_title,
                         .end = ingest_end,
                         .user = h};
  int rv = rt_ingest_new(&s->ingest, h->loop, &icfg, &sink);
  if (rv != 0) {
    fprintf(stderr, "stripecast: --http %s: %s\n", o->http,
            rv == RT_INGEST_ERR_SYS ? strerror(errno) : sc_strerror(rv));
    return rv;
  }
  if (h->serve) rt_serve_set_ingest(h->serve, s->ingest);
  return 0;
}

/* --http: the players' server, bound now so a port in use fails the start. */
static int host_open_serve(rt_host *h) {
  const rt_options *o = &h->opt;
  if (!o->http) return 0;
  host_mount(o, h->serve_mount, sizeof h->serve_mount);
  rt_serve_config cfg = {.ip = o->http_ip,
                         .port = o->http_port,
                         .mount = h->serve_mount,
                         .max_listeners = o->max_listeners,
                         .queue_bytes = (size_t)o->queue_kb << 10,
                         .burst_ns = (uint64_t)(o->burst_s * 1e9),
                         .burst_set = true,
                         .verbose = o->verbose};
  int rv = rt_serve_new(&h->serve, h->loop, &cfg);
  if (rv != 0) {
    fprintf(stderr, "stripecast: --http %s: %s\n", o->http,
            rv == RT_SERVE_ERR_SYS ? strerror(errno) : sc_strerror(rv));
    return rv;
  }
  host_log(h, "serving players on port %u%s", rt_serve_port(h->serve), h->serve_mount);
  /* Its page at / (runtime/web.h). */
  rt_web_start(&h->web, h);
  rv = rt_web_add_routes(&h->web, h->serve);
  return rv == 0 ? rt_stations_add_routes(&h->stations, h->serve) : rv;
}

static int host_open_source(rt_host *h) {
  rt_source *s = &h->src;
  s->fd = -1;
  if (!h->opt.source && !h->opt.ingest) return 0;
  if (h->opt.ingest || h->opt.source_kind != RT_SOURCE_BYTES) {
    /* The encoders connect to the ingest server; the built-in encoder opened
     * its input at start-up; the relay connects when the broadcast starts. */
  } else if (strcmp(h->opt.source, "-") == 0) {
    s->fd = STDIN_FILENO;
  } else {
    s->fd = open(h->opt.source, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
      fprintf(stderr, "stripecast: --source %s: %s\n", h->opt.source, strerror(errno));
      return SC_ERR_INVALID;
    }
  }
  struct stat st;
  s->is_file = s->fd >= 0 && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!s->is_file && s->fd >= 0) {
    /* A pipe or terminal: never block the loop waiting for input. */
    int fl = fcntl(s->fd, F_GETFL);
    if (fl >= 0) (void)fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
  }
  const sc_stream_config *sc = &h->cfg.stream_cfg.stream;
  s->gen_size = (uint64_t)sc->data_chunks * sc->chunk_bytes;
  if (h->opt.cmd == RT_CMD_BROADCAST) {
    rt_station_source_config scfg = {
        .flush_ns = h->opt.flush_ms * 1000000ull,
        .state_every_ns = h->opt.state_every_ms * 1000000ull,
        .gen_bytes = (uint32_t)s->gen_size,
        .epoch = sc->epoch,
        .sign_sk = h->cfg.stream_cfg.auth ? h->cfg.stream_cfg.auth_sk : NULL,
        .channel = h->cfg.channel};
    int rv;
    if (h->serve) {
      /* The broadcaster serves players too: its own generations are read
       * as a listener's are. */
      sc_station_sink tee;
      rt_serve_tee_sink(h->serve, host_source_peer(h)->node, (uint32_t)s->gen_size, &tee);
      rv = rt_station_source_new_sink(&s->station, &tee, &scfg);
    } else {
      rv = rt_station_source_new(&s->station, host_source_peer(h)->node, &scfg);
    }
    if (rv == 0 && h->opt.page) /* the station's page (--page) */
      rv = rt_station_source_page(s->station, h->opt.page, h->opt.page_len);
    if (rv != 0) {
      fprintf(stderr, "stripecast: station source: %s\n", sc_strerror(rv));
      return rv;
    }
    /* Bound now, so a port in use fails the start; encoders that come
     * before the overlay is joined feed a station nobody hears yet. */
    if (h->opt.ingest && host_open_ingest(h) != 0) return SC_ERR_INVALID;
  }
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
  if (i == 0 && ip != 0) {
    /* Poll quickly, report after RT_JOIN_WARN_S. */
    ev_timer_set(&h->join_watch, RT_JOIN_WARN_S, RT_JOIN_WARN_S);
    ev_timer_start(h->loop, &h->join_watch);
  }
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
  /* The directory shows the station off the air at once. */
  rt_stations_stop(&h->stations);
  if (h->src.ingest) {
    /* The peer leaving is the end of the broadcast: the encoder's session
     * ends, then the END record lets listeners close. */
    uint64_t now = rt_now_ns();
    rt_ingest_stop(h->src.ingest);
    rt_station_source_end(h->src.station, true, now);
    rt_peer_after_core(host_source_peer(h), now);
  }
  host_log(h, "leaving politely (grace %llu ms)", (unsigned long long)h->opt.grace_ms);
  ev_timer_stop(h->loop, &h->join_timer);
  ev_timer_stop(h->loop, &h->source_timer);
  ev_timer_stop(h->loop, &h->eof_timer);
  if (h->src.relay) {
    /* The relay's broadcast ends with the peer: its END record goes out
     * before the departure. */
    uint64_t now = rt_now_ns();
    rt_relay_stop(h->src.relay);
    rt_station_source_end(h->src.station, true, now);
    rt_peer_after_core(host_source_peer(h), now);
  }
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

static int host_write_stats(rt_host *h) {
  if (!h->opt.stats) return 0;
  int rv = rt_stats_write(h, h->opt.stats);
  if (rv != 0)
    fprintf(stderr, "stripecast: --stats %s: %s\n", h->opt.stats, strerror(-rv));
  return rv;
}

/* Until peer 0 has joined through --join: say so when it does not answer
 * (a wrong address, nobody there, a firewall), and keep trying. */
static void join_watch_cb(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)revents;
  rt_host *h = w->data;
  rt_peer *p = &h->peers[0];
  double waited = (double)(rt_now_ns() - p->join_ns) / 1e9;
  char a[RT_ADDR_STR_MAX];
  rt_addr_format(h->opt.join_ip, h->opt.join_port, a);
  if (!p->node || h->state != RT_RUNNING) {
    ev_timer_stop(h->loop, w);
    return;
  }
  if (sc_pastry_is_joined(sc_node_pastry(p->node))) {
    if (h->join_warned)
      fprintf(stderr, "stripecast: joined through --join %s after %.1f s\n",
              h->opt.join_name ? h->opt.join_name : a, waited);
    ev_timer_stop(h->loop, w);
    return;
  }
  fprintf(stderr,
          "stripecast: no answer from --join %s (%s) after %.1f s; still trying\n",
          h->opt.join_name ? h->opt.join_name : a, a, waited);
  h->join_warned++;
  w->repeat = RT_JOIN_WARN_EVERY_S;
  ev_timer_again(h->loop, w);
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

/* The runtime's chunks: the largest whole multiple of 64 bytes that, with
 * the signed stream's 17-byte piece and a chunk's 38-byte header, stays
 * under a MULTICAST's 1,232 bytes (core/msg.h). Per chunk, headers and
 * signature then cost 4.8 % of its bytes, against 5.4 % at the core's
 * default of 1,024 (bench/RESULTS.md, "On the air"). Every peer of a
 * channel must cut the same chunks. */
#define RT_CHUNK_BYTES 1152

/* A source's epoch (sc_stream_config.epoch): its start time in tenths of a
 * second on the realtime clock, so a restarted source, or a second one
 * started later, has the later epoch, which receivers follow at once. It
 * wraps every 13.6 years; epochs compare in serial-number arithmetic. */
static uint32_t host_epoch(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 10u + (uint64_t)ts.tv_nsec / 100000000u);
}

/* The signed stream's key: a broadcaster's --key, or the one kept for its
 * station (made the first time), or a low-level source's --key. Sets the
 * station's id from the public key. Returns 0, or an exit status. */
static int host_keys(rt_host *h, rt_key *key) {
  rt_options *o = &h->opt;
  if (!o->auth || (o->cmd != RT_CMD_BROADCAST && !(o->cmd == RT_CMD_PEER && o->key)))
    return 0;
  char err[512], def[RT_KEY_PATH_MAX];
  const char *path = o->key;
  bool made = false;
  int rv = 0;
  if (path == NULL) {
    rv = rt_key_default_path(o->station, def, sizeof def, err, sizeof err);
    path = def;
    if (rv == 0 && access(path, F_OK) != 0) {
      rv = rt_key_generate(path, key, err, sizeof err);
      made = true;
    } else if (rv == 0) {
      rv = rt_key_load(path, key, err, sizeof err);
    }
  } else {
    rv = rt_key_load(path, key, err, sizeof err);
  }
  if (rv != 0) {
    fprintf(stderr, "stripecast: --key: %s\n", err);
    return RT_EXIT_USAGE;
  }
  memcpy(o->auth_pk, key->pk, sizeof o->auth_pk);
  sc_station_key_id(key->pk, &o->station_id);
  char hex[2 * SC_AUTH_PK_BYTES + 1];
  rt_key_hex(key->pk, hex);
  if (o->cmd == RT_CMD_BROADCAST)
    fprintf(stderr, "stripecast broadcast: station %s@%s (key %s%s)\n", o->station, hex,
            path, made ? ", made now" : "");
  else
    fprintf(stderr, "stripecast: signing with key %s: --verify-key %s\n", path, hex);
  return 0;
}

static void host_config(rt_host *h, const rt_key *key) {
  const rt_options *o = &h->opt;
  sc_node_config *c = &h->cfg;
  memset(c, 0, sizeof *c);
  sc_node_config_default(c);
  if (o->cmd != RT_CMD_PEER || o->auth)
    c->channel = o->station_id;
  else
    c->channel = sc_id_hash(o->channel, strlen(o->channel));
  if (o->auth) {
    c->stream_cfg.auth = true;
    memcpy(c->stream_cfg.auth_pk, o->auth_pk, sizeof c->stream_cfg.auth_pk);
    if (o->source || o->http) memcpy(c->stream_cfg.auth_sk, key->sk, sizeof key->sk);
  }
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
  c->stream_source = o->source != NULL || o->ingest;
  /* A station counts its listeners up the stripe trees (core/tally.h). */
  c->tally = o->cmd != RT_CMD_PEER;
  /* Stations' peers keep the station directory (core/directory.h). */
  c->directory = o->cmd != RT_CMD_PEER;
  c->stream_cfg.stream.epoch = host_epoch();
  c->stream_cfg.stream.chunk_bytes = RT_CHUNK_BYTES;
  if (o->buffer_ms > 0) c->stream_cfg.stream.buffer_ns = o->buffer_ms * 1000000ull;
  if (o->window_gens > 0) c->stream_cfg.stream.window_gens = o->window_gens;
  /* Press play to first byte (docs/ARCHITECTURE.md §3): a station's
   * listener hears the first generation it can decode. The low-level form
   * writes the stream whole from its first generation (a file moved through
   * the forest, checked byte for byte): a first generation a forging parent
   * left short is repaired, not skipped. */
  c->stream_cfg.stream.start_skips_partial = o->cmd != RT_CMD_PEER;
  /* A station's bytes enter the source as the feed sends them: a listener's
   * latency counts from there, the wait for a generation to fill included. */
  c->stream_cfg.stream.stamp_first_byte = o->station != NULL;
  /* A join's hop towards a peer never measured waits a few measured round
   * trips, not a second. */
  c->pastry.ack_timeout_learned = true;
  c->stream_cfg.repair_wait_start_ns = 50000000ull;
  /* A station's late listener starts from generations its parents already
   * hold (core/channel.h, backfill_gens): three cover an Ogg page of one
   * second at 128 kbit/s and its neighbours' skew. */
  if (o->cmd != RT_CMD_PEER) c->stream_cfg.backfill_gens = 3;
  if (o->repair_asks > 0) c->stream_cfg.repair_ask_max = o->repair_asks;
  if (o->root_refresh_ms > 0)
    c->stream_cfg.root_refresh_ns = o->root_refresh_ms * 1000000ull;
}

/* The run's timers and signal watchers (the join spread, departure, counters,
 * SIGINT/SIGTERM/SIGUSR1). */
static void host_start_timers(rt_host *h) {
  const rt_options *opt = &h->opt;
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
  ev_timer_init(&h->end_timer, end_cb, 0.0, 0.0);
  h->end_timer.data = h;
  ev_timer_init(&h->join_watch, join_watch_cb, RT_JOIN_WARN_S, RT_JOIN_WARN_S);
  h->join_watch.data = h;
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
  rt_key key;
  memset(&key, 0, sizeof key);
  int krv = host_keys(h, &key);
  if (krv != 0) {
    free(h);
    return krv;
  }
  host_config(h, &key);
  sodium_memzero(&key, sizeof key);
  signal(SIGPIPE, SIG_IGN); /* a closed output pipe is an error on write */
  if (opt->stats) {
    /* A --stats that cannot be written fails now, not after the run. */
    int rv = rt_stats_check(opt->stats);
    if (rv != 0) {
      fprintf(stderr, "stripecast: --stats %s: %s\n", opt->stats, strerror(-rv));
      free(h);
      return RT_EXIT_USAGE;
    }
  }
  if (opt->source_kind == RT_SOURCE_ENCODE) {
    /* The input is opened and its WAV header read before anything else, so
     * a missing or unusable input is a usage error at once. */
    rt_encoder_config ec = {.input = opt->input,
                            .spec = opt->encode,
                            .raw = opt->input_raw,
                            .raw_fmt = opt->input_format,
                            .title = opt->title};
    char err[FLAGS_ERR_BYTES];
    int erv = rt_encoder_open(&h->src.enc, &ec, err, sizeof err);
    if (erv != 0) {
      fprintf(stderr, "stripecast: %s\n", erv == SC_ERR_NOMEM ? sc_strerror(erv) : err);
      free(h);
      return RT_EXIT_USAGE;
    }
  }
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
  h->hooks.lost = hook_lost;
  h->hooks.restarted = hook_restarted;
  if (opt->cmd == RT_CMD_LISTEN || opt->cmd == RT_CMD_BROADCAST) {
    h->hooks.state_get = hook_state_get;
    h->hooks.state_got = hook_state_got;
  }
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
    h->peers[i].forge = opt->forge_chunks;
    h->peers[i].port_map = !opt->no_port_map;
    h->npeers++;
  }
  rt_stations_start(&h->stations, h);
  if (host_open_outputs(h) != 0 || host_open_serve(h) != 0 ||
      rt_status_new(&h->status, h) != 0 || host_open_source(h) != 0)
    goto out;

  host_start_timers(h);
  {
    char a[RT_ADDR_STR_MAX];
    rt_addr_format(opt->ip, opt->port, a);
    host_log(h, "%u peer(s) from %s%s", h->npeers, a, opt->source ? " (source)" : "");
  }

  ev_run(h->loop, 0);
  /* What the outputs still hold is written first (a paused reader reads
   * on), so the counters at exit say what reached them. */
  for (uint32_t i = 0; h->out && i < h->npeers; i++)
    rt_output_close(&h->out[i]);
  /* Counters that could not be written are a failed run. */
  h->exit_code = host_write_stats(h) == 0 ? 0 : 1;

out:
  ev_timer_stop(h->loop, &h->join_timer);
  ev_timer_stop(h->loop, &h->grace_timer);
  ev_timer_stop(h->loop, &h->drain_timer);
  ev_timer_stop(h->loop, &h->eof_timer);
  ev_timer_stop(h->loop, &h->end_timer);
  ev_timer_stop(h->loop, &h->join_watch);
  ev_timer_stop(h->loop, &h->stats_timer);
  ev_timer_stop(h->loop, &h->source_timer);
  ev_signal_stop(h->loop, &h->sig_int);
  ev_signal_stop(h->loop, &h->sig_term);
  ev_signal_stop(h->loop, &h->sig_usr1);
  /* A source still connected ends its session into a node still open. */
  rt_ingest_del(h->src.ingest);
  rt_web_stop(&h->web);
  rt_stations_stop(&h->stations);
  rt_status_del(h->status);
  rt_serve_del(h->serve);
  for (uint32_t i = 0; i < h->npeers; i++)
    rt_peer_close(&h->peers[i]);
  host_close_outputs(h);
  if (h->src.fd > STDERR_FILENO) close(h->src.fd);
  rt_relay_del(h->src.relay);
  rt_encoder_del(h->src.enc);
  rt_station_source_del(h->src.station);
  free(h->peers);
  rt_addr_free(&h->addrs);
  int code = h->exit_code;
  free(h);
  return code;
}
