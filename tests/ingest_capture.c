/*
 * ingest_capture — runs the ingest server (runtime/ingest.h) with a sink that
 * records what reaches the station, for the tests that drive it with real
 * encoders (tests/ingest_encoders.sh, tests/ingest_oracle.sh):
 *
 *   DIR/port           the HTTP port, once listening (SHOUTcast: port + 1)
 *   DIR/session-N.bin  the bytes of the N-th source session, exactly as fed
 *   DIR/events.log     "begin N KIND", its info lines indented, "title T",
 *                      "end N", one line each, flushed as they happen
 *   DIR/stats.json     the counters (rt_ingest_stats_json), on SIGUSR1 and
 *                      at exit (SIGTERM or SIGINT)
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/flags.h"
#include "core/err.h"
#include "runtime/ingest.h"

typedef struct opts {
  const char *dir;
  const char *mount;
  const char *password;
  const char *password_file;
  uint64_t port;
  uint64_t source_timeout_ms;
  uint64_t header_timeout_ms;
} opts;

static const flags_opt cap_flags[] = {
    {.kind = FLAGS_STR,
     .name = "dir",
     .meta = "DIR",
     FLAGS_AT(opts, dir),
     .attrs = FLAGS_REQUIRED,
     .help = "where the port, sessions, events and counters go"},
    {.kind = FLAGS_STR,
     .name = "mount",
     .meta = "MOUNT",
     FLAGS_AT(opts, mount),
     .help = "the station's mount"},
    {.kind = FLAGS_STR,
     .name = "source-password",
     .meta = "PW",
     FLAGS_AT(opts, password),
     .help = "the source password"},
    {.kind = FLAGS_STR,
     .name = "source-password-file",
     .meta = "FILE",
     FLAGS_AT(opts, password_file),
     .help = "read the source password from FILE"},
    {.kind = FLAGS_U64,
     .name = "port",
     .meta = "PORT",
     FLAGS_AT(opts, port),
     .max = 65534,
     .help = "HTTP port; 0: any free pair"},
    {.kind = FLAGS_U64,
     .name = "source-timeout-ms",
     .meta = "MS",
     FLAGS_AT(opts, source_timeout_ms),
     .max = 3600000,
     .help = "drop a silent source after MS; 0: the default"},
    {.kind = FLAGS_U64,
     .name = "header-timeout-ms",
     .meta = "MS",
     FLAGS_AT(opts, header_timeout_ms),
     .max = 3600000,
     .help = "close a connection whose head is not complete after MS; 0: the default"},
    {.kind = FLAGS_END},
};

static const flags_cmd cap_cmd = {
    .prog = "ingest_capture",
    .synopsis = "--dir DIR [options]",
    .about = "Runs the ingest server and records what reaches the station.",
    .opts = cap_flags,
};

typedef struct capture {
  const char *dir;
  rt_ingest *in;
  FILE *events;
  int session_fd;
  unsigned sessions;
} capture;

static const char *kind_name(sc_media_kind k) {
  return sc_media_kind_name(k);
}

static int cap_begin(void *user, sc_media_kind kind, const char *info, uint64_t now) {
  (void)now;
  capture *c = user;
  char path[4096];
  c->sessions++;
  snprintf(path, sizeof path, "%s/session-%u.bin", c->dir, c->sessions);
  c->session_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  fprintf(c->events, "begin %u %s\n", c->sessions, kind_name(kind));
  for (const char *s = info; *s;) {
    const char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    fprintf(c->events, "  %.*s\n", (int)n, s);
    s += n + (e ? 1 : 0);
  }
  fflush(c->events);
  return c->session_fd < 0 ? SC_ERR_INVALID : 0;
}

static int cap_feed(void *user, const uint8_t *data, size_t len, uint64_t now) {
  (void)now;
  capture *c = user;
  while (len > 0) {
    ssize_t n = write(c->session_fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SC_ERR_INVALID;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int cap_title(void *user, const char *title, uint64_t now) {
  (void)now;
  capture *c = user;
  fprintf(c->events, "title %s\n", title);
  fflush(c->events);
  return 0;
}

static void cap_end(void *user, uint64_t now) {
  (void)now;
  capture *c = user;
  if (c->session_fd >= 0) close(c->session_fd);
  c->session_fd = -1;
  fprintf(c->events, "end %u\n", c->sessions);
  fflush(c->events);
}

static void write_stats(capture *c) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/stats.json", c->dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  rt_ingest_stats_json(c->in, f);
  fputc('\n', f);
  if (fclose(f) == 0) rename(tmp, path);
}

static void on_usr1(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)loop;
  (void)revents;
  write_stats(w->data);
}

static void on_term(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)revents;
  (void)w;
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  opts o = {.mount = "/live.opus"};
  int rv = flags_main(&cap_cmd, &o, argc, argv, stdout, stderr);
  if (rv >= 0) return rv;
  char pw[SC_HTTP_PASSWORD_MAX_BYTES + 1];
  if (o.password_file) {
    int n = rt_ingest_read_password_file(o.password_file, pw, sizeof pw);
    if (n < 0) {
      fprintf(stderr, "ingest_capture: --source-password-file: %s\n",
              n == RT_INGEST_ERR_SYS ? strerror(errno)
                                     : "empty, too long or not one line");
      return 1;
    }
    o.password = pw;
  }
  if (!o.password) return flags_fail(&cap_cmd, stderr, "give --source-password");
  capture c = {.dir = o.dir, .session_fd = -1};
  char path[4096];
  snprintf(path, sizeof path, "%s/events.log", o.dir);
  c.events = fopen(path, "w");
  if (!c.events) {
    perror("ingest_capture: events.log");
    return 1;
  }
  struct ev_loop *loop = ev_default_loop(0);
  rt_ingest_config cfg = {.ip = 0x7f000001u,
                          .port = (uint16_t)o.port,
                          .mount = o.mount,
                          .source_password = o.password,
                          .source_timeout_ns = o.source_timeout_ms * 1000000ull,
                          .header_timeout_ns = o.header_timeout_ms * 1000000ull,
                          .verbose = true};
  rt_ingest_sink sink = {.begin = cap_begin,
                         .feed = cap_feed,
                         .title = cap_title,
                         .end = cap_end,
                         .user = &c};
  /* With port 0 the kernel picks the HTTP port; the one above may be taken. */
  for (int attempt = 0; attempt < 50; attempt++) {
    rv = rt_ingest_new(&c.in, loop, &cfg, &sink);
    if (rv != RT_INGEST_ERR_SYS || errno != EADDRINUSE || o.port != 0) break;
  }
  if (rv != 0) {
    fprintf(stderr, "ingest_capture: cannot listen: %s\n",
            rv == RT_INGEST_ERR_SYS ? strerror(errno) : "invalid configuration");
    return 1;
  }
  char tmp[4200];
  snprintf(path, sizeof path, "%s/port", o.dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *pf = fopen(tmp, "w");
  if (!pf) return 1;
  fprintf(pf, "%u\n", rt_ingest_port(c.in));
  fclose(pf);
  rename(tmp, path);

  ev_signal s_usr1, s_term, s_int;
  ev_signal_init(&s_usr1, on_usr1, SIGUSR1);
  s_usr1.data = &c;
  ev_signal_start(loop, &s_usr1);
  ev_signal_init(&s_term, on_term, SIGTERM);
  ev_signal_start(loop, &s_term);
  ev_signal_init(&s_int, on_term, SIGINT);
  ev_signal_start(loop, &s_int);
  ev_run(loop, 0);
  write_stats(&c);
  rt_ingest_del(c.in);
  fclose(c.events);
  return 0;
}
