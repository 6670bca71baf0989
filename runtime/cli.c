/* cli.c — see cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "core/err.h"
#include "core/stream.h"

void rt_cli_usage(FILE *f) {
  fputs(
      "usage: stripecast --listen ADDR:PORT [options]\n"
      "\n"
      "Runs stripecast peers: Pastry + Scribe + the SplitStream forest, streaming\n"
      "an erasure-coded byte stream over UDP (one libev loop, one socket a peer).\n"
      "\n"
      "Overlay:\n"
      "  --listen ADDR:PORT     the (first) peer's IPv4 address and UDP port; required\n"
      "  --join ADDR:PORT       a peer already in the overlay; without it the first\n"
      "                         peer starts a new overlay\n"
      "  --peers N              host N peers in this process on ports PORT..PORT+N-1\n"
      "                         (1..1024; default 1); peer 0 joins --join, the others\n"
      "                         join peer 0\n"
      "  --join-spread-ms MS    pause between the joins of hosted peers (default 20)\n"
      "  --capacity N           children a peer forwards to over all stripes\n"
      "                         (default: the number of stripes, 16)\n"
      "  --channel NAME         the channel (default \"stripecast\")\n"
      "  --heartbeat-ms MS      Scribe heartbeat period; Pastry's leaf-set heartbeat\n"
      "                         is 2x, its lease 3x, its probe and per-hop ack\n"
      "                         timeouts 1/2 (at most 1 s) (default: the core's\n"
      "                         10 s, 20 s, 30 s, 1 s; a tree notices a crashed\n"
      "                         parent after 2.5 periods)\n"
      "  --seed N               seed of ids and randomness (default: from the OS)\n"
      "\n"
      "Stream:\n"
      "  --source FILE|-        be the source: stream FILE (or stdin) to the channel\n"
      "  --rate-kbps R          the source's rate in kbit/s (default 1000)\n"
      "  --start-delay-ms MS    the source starts this long after its join (default 0)\n"
      "  --flush-ms MS          cut a partial generation once bytes waited this long\n"
      "                         (default 500; 0: only at EOF)\n"
      "  --eof-exit-ms MS       the source leaves MS after EOF (default: stays until\n"
      "                         signalled, serving repairs)\n"
      "  --output FILE|-        write the received stream (in order, exactly the\n"
      "                         source's bytes) to FILE or stdout; with --peers > 1\n"
      "                         FILE must contain %i (peer index) or %p (port)\n"
      "  --buffer-ms MS         playout buffer: how long a generation may take\n"
      "                         (default: the core's 5000)\n"
      "  --window-gens N        generations a receiver holds (1..4096; default: the\n"
      "                         core's 128); should cover --buffer-ms of stream at\n"
      "                         the source's rate (12 KB a generation by default),\n"
      "                         or the window bounds the buffer\n"
      "  --root-refresh-ms MS   the source re-locates each stripe's root this often\n"
      "                         (default: the core's 1000)\n"
      "  --repair-asks N        repair requests a receiver sends for one generation\n"
      "                         (1..1000; default: the core's 32)\n"
      "  --no-stream            build the forest only (no data plane)\n"
      "\n",
      f);
  fputs(
      "Impairment of every hosted peer's sends (for experiments):\n"
      "  --loss P               drop each datagram with probability P (0..1)\n"
      "  --delay-ms D           add D ms to every datagram\n"
      "  --jitter-ms J          plus uniform 0..J ms (may reorder)\n"
      "  --upload-kbps R        upload limit in kbit/s (28 bytes of IP+UDP counted per\n"
      "                         datagram), FIFO queue\n"
      "  --queue-ms Q           longest wait in that queue before tail drop\n"
      "                         (default 200; at most 4096 datagrams held)\n"
      "\n"
      "Counters and departure:\n"
      "  --stats FILE|-         JSON counters of every hosted peer (peers known,\n"
      "                         stripes attached, stream continuity and latency,\n"
      "                         datagrams and bytes in/out, drops by reason), written\n"
      "                         on SIGUSR1, every --stats-interval-ms, and at exit\n"
      "  --stats-interval-ms MS also write them this often (default 0: never)\n"
      "  --grace-ms MS          on SIGINT/SIGTERM: leave politely (children are told\n"
      "                         and re-parent), keep forwarding MS (default 3000),\n"
      "                         then leave the parents and exit; a second signal\n"
      "                         exits at once\n"
      "  --verbose              log joins, attachments and departures to stderr\n"
      "  --help                 this text\n"
      "\n"
      "Exit status: 0 after a clean exit, 1 on a runtime error (e.g. a port in use),\n"
      "2 on a usage error.\n"
      "\n"
      "Example (one source, 30 receivers in one process, loopback):\n"
      "  stripecast --listen 127.0.0.1:9000 --source movie.ts --rate-kbps 2000 \\\n"
      "      --start-delay-ms 5000 &\n"
      "  stripecast --listen 127.0.0.1:9100 --peers 30 --join 127.0.0.1:9000 \\\n"
      "      --output out-%i.ts --stats stats.json\n",
      f);
}

static int cli_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return RT_CLI_ERROR;
}

/* A whole decimal number in [lo, hi]. */
static bool cli_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static bool cli_prob(const char *s, double *out) {
  if (!s || *s == '\0') return false;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 1.0)) return false;
  *out = v;
  return true;
}

enum {
  OPT_LISTEN = 256,
  OPT_JOIN,
  OPT_PEERS,
  OPT_CAPACITY,
  OPT_CHANNEL,
  OPT_SOURCE,
  OPT_RATE,
  OPT_FLUSH,
  OPT_START_DELAY,
  OPT_EOF_EXIT,
  OPT_OUTPUT,
  OPT_STATS,
  OPT_STATS_INTERVAL,
  OPT_LOSS,
  OPT_DELAY,
  OPT_JITTER,
  OPT_UPLOAD,
  OPT_QUEUE,
  OPT_HEARTBEAT,
  OPT_BUFFER,
  OPT_GRACE,
  OPT_JOIN_SPREAD,
  OPT_SEED,
  OPT_NO_STREAM,
  OPT_VERBOSE,
  OPT_HELP,
  OPT_WINDOW,
  OPT_ROOT_REFRESH,
  OPT_REPAIR_ASKS
};

#define MS_MAX 86400000ull /* one day: a bound on every duration flag */

int rt_cli_parse(rt_options *o, int argc, char **argv, char *err, size_t errlen) {
  static const struct option longopts[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"join", required_argument, NULL, OPT_JOIN},
      {"peers", required_argument, NULL, OPT_PEERS},
      {"capacity", required_argument, NULL, OPT_CAPACITY},
      {"channel", required_argument, NULL, OPT_CHANNEL},
      {"source", required_argument, NULL, OPT_SOURCE},
      {"rate-kbps", required_argument, NULL, OPT_RATE},
      {"flush-ms", required_argument, NULL, OPT_FLUSH},
      {"start-delay-ms", required_argument, NULL, OPT_START_DELAY},
      {"eof-exit-ms", required_argument, NULL, OPT_EOF_EXIT},
      {"output", required_argument, NULL, OPT_OUTPUT},
      {"stats", required_argument, NULL, OPT_STATS},
      {"stats-interval-ms", required_argument, NULL, OPT_STATS_INTERVAL},
      {"loss", required_argument, NULL, OPT_LOSS},
      {"delay-ms", required_argument, NULL, OPT_DELAY},
      {"jitter-ms", required_argument, NULL, OPT_JITTER},
      {"upload-kbps", required_argument, NULL, OPT_UPLOAD},
      {"queue-ms", required_argument, NULL, OPT_QUEUE},
      {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT},
      {"buffer-ms", required_argument, NULL, OPT_BUFFER},
      {"grace-ms", required_argument, NULL, OPT_GRACE},
      {"join-spread-ms", required_argument, NULL, OPT_JOIN_SPREAD},
      {"seed", required_argument, NULL, OPT_SEED},
      {"window-gens", required_argument, NULL, OPT_WINDOW},
      {"root-refresh-ms", required_argument, NULL, OPT_ROOT_REFRESH},
      {"repair-asks", required_argument, NULL, OPT_REPAIR_ASKS},
      {"no-stream", no_argument, NULL, OPT_NO_STREAM},
      {"verbose", no_argument, NULL, OPT_VERBOSE},
      {"help", no_argument, NULL, OPT_HELP},
      {NULL, 0, NULL, 0}};

  memset(o, 0, sizeof *o);
  o->peers = 1;
  o->channel = "stripecast";
  o->stream = true;
  o->rate_kbps = 1000;
  o->flush_ms = 500;
  o->eof_exit_ms = -1;
  o->grace_ms = 3000;
  o->join_spread_ms = 20;
  rt_impair_config_default(&o->impair);
  bool listen = false;
  uint64_t v;

  opterr = 0; /* our own messages */
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    const char *a = optarg;
    switch (c) {
    case OPT_LISTEN:
      if (rt_addr_parse(a, &o->ip, &o->port) != 0)
        return cli_err(err, errlen, "--listen: expected IPv4:PORT, got '%s'", a);
      listen = true;
      break;
    case OPT_JOIN:
      if (rt_addr_parse(a, &o->join_ip, &o->join_port) != 0)
        return cli_err(err, errlen, "--join: expected IPv4:PORT, got '%s'", a);
      o->join = true;
      break;
    case OPT_PEERS:
      if (!cli_u64(a, 1, RT_PEERS_MAX, &v))
        return cli_err(err, errlen, "--peers: expected 1..%u, got '%s'", RT_PEERS_MAX, a);
      o->peers = (uint32_t)v;
      break;
    case OPT_CAPACITY:
      if (!cli_u64(a, 0, 4096, &v))
        return cli_err(err, errlen, "--capacity: expected 0..4096, got '%s'", a);
      o->capacity = (uint32_t)v;
      o->capacity_set = true;
      break;
    case OPT_CHANNEL:
      if (*a == '\0') return cli_err(err, errlen, "--channel: empty name");
      o->channel = a;
      break;
    case OPT_SOURCE:
      o->source = a;
      break;
    case OPT_RATE:
      if (!cli_u64(a, 1, 10000000, &v))
        return cli_err(err, errlen, "--rate-kbps: expected 1..10000000, got '%s'", a);
      o->rate_kbps = v;
      break;
    case OPT_FLUSH:
      if (!cli_u64(a, 0, MS_MAX, &v))
        return cli_err(err, errlen, "--flush-ms: expected milliseconds, got '%s'", a);
      o->flush_ms = v;
      break;
    case OPT_START_DELAY:
      if (!cli_u64(a, 0, MS_MAX, &v))
        return cli_err(err, errlen, "--start-delay-ms: expected milliseconds, got '%s'",
                       a);
      o->start_delay_ms = v;
      break;
    case OPT_EOF_EXIT:
      if (!cli_u64(a, 0, MS_MAX, &v))
        return cli_err(err, errlen, "--eof-exit-ms: expected milliseconds, got '%s'", a);
      o->eof_exit_ms = (int64_t)v;
      break;
    case OPT_OUTPUT:
      o->output = a;
      break;
    case OPT_STATS:
      o->stats = a;
      break;
    case OPT_STATS_INTERVAL:
      if (!cli_u64(a, 0, MS_MAX, &v))
        return cli_err(err, errlen,
                       "--stats-interval-ms: expected milliseconds, got '%s'", a);
      o->stats_interval_ms = v;
      break;
    case OPT_LOSS:
      if (!cli_prob(a, &o->impair.loss))
        return cli_err(err, errlen, "--loss: expected a probability 0..1, got '%s'", a);
      break;
    case OPT_DELAY:
      if (!cli_u64(a, 0, 60000, &v))
        return cli_err(err, errlen, "--delay-ms: expected 0..60000, got '%s'", a);
      o->impair.delay_ns = v * 1000000ull;
      break;
    case OPT_JITTER:
      if (!cli_u64(a, 0, 60000, &v))
        return cli_err(err, errlen, "--jitter-ms: expected 0..60000, got '%s'", a);
      o->impair.jitter_ns = v * 1000000ull;
      break;
    case OPT_UPLOAD:
      if (!cli_u64(a, 1, 100000000, &v))
        return cli_err(err, errlen, "--upload-kbps: expected 1..100000000, got '%s'", a);
      o->impair.rate_bps = v * 1000ull;
      break;
    case OPT_QUEUE:
      if (!cli_u64(a, 1, 60000, &v))
        return cli_err(err, errlen, "--queue-ms: expected 1..60000, got '%s'", a);
      o->impair.queue_ns_max = v * 1000000ull;
      break;
    case OPT_HEARTBEAT:
      if (!cli_u64(a, 10, 3600000, &v))
        return cli_err(err, errlen, "--heartbeat-ms: expected 10..3600000, got '%s'", a);
      o->heartbeat_ms = v;
      break;
    case OPT_BUFFER:
      if (!cli_u64(a, 1, 600000, &v))
        return cli_err(err, errlen, "--buffer-ms: expected 1..600000, got '%s'", a);
      o->buffer_ms = v;
      break;
    case OPT_WINDOW:
      if (!cli_u64(a, 1, SC_STREAM_WINDOW_MAX, &v))
        return cli_err(err, errlen, "--window-gens: expected 1..%u, got '%s'",
                       SC_STREAM_WINDOW_MAX, a);
      o->window_gens = (uint32_t)v;
      break;
    case OPT_ROOT_REFRESH:
      if (!cli_u64(a, 10, 3600000, &v))
        return cli_err(err, errlen, "--root-refresh-ms: expected 10..3600000, got '%s'",
                       a);
      o->root_refresh_ms = v;
      break;
    case OPT_REPAIR_ASKS:
      if (!cli_u64(a, 1, 1000, &v))
        return cli_err(err, errlen, "--repair-asks: expected 1..1000, got '%s'", a);
      o->repair_asks = (uint32_t)v;
      break;
    case OPT_GRACE:
      if (!cli_u64(a, 0, MS_MAX, &v))
        return cli_err(err, errlen, "--grace-ms: expected milliseconds, got '%s'", a);
      o->grace_ms = v;
      break;
    case OPT_JOIN_SPREAD:
      if (!cli_u64(a, 0, 60000, &v))
        return cli_err(err, errlen, "--join-spread-ms: expected 0..60000, got '%s'", a);
      o->join_spread_ms = v;
      break;
    case OPT_SEED:
      if (!cli_u64(a, 0, UINT64_MAX, &v))
        return cli_err(err, errlen, "--seed: expected an unsigned integer, got '%s'", a);
      o->seed = v;
      o->seed_set = true;
      break;
    case OPT_NO_STREAM:
      o->stream = false;
      break;
    case OPT_VERBOSE:
      o->verbose = true;
      break;
    case 'h':
    case OPT_HELP:
      return RT_CLI_HELP;
    case ':':
      return cli_err(err, errlen, "%s needs a value", argv[optind - 1]);
    default:
      return cli_err(err, errlen, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc)
    return cli_err(err, errlen, "unexpected argument '%s'", argv[optind]);
  if (!listen) return cli_err(err, errlen, "--listen ADDR:PORT is required");
  if (o->ip == 0)
    return cli_err(err, errlen,
                   "--listen: give the address peers reach this one at, "
                   "not 0.0.0.0");
  if ((uint32_t)o->port + o->peers - 1 > 65535)
    return cli_err(err, errlen, "--peers %u from port %u runs past port 65535", o->peers,
                   o->port);
  if (o->join && o->join_ip == o->ip && o->join_port >= o->port &&
      o->join_port < o->port + o->peers)
    return cli_err(err, errlen, "--join names one of this process's own peers");
  if (o->source && o->peers != 1)
    return cli_err(err, errlen, "--source hosts exactly one peer (drop --peers)");
  if (o->source && !o->stream)
    return cli_err(err, errlen, "--source needs the stream (drop --no-stream)");
  if (o->source && o->output)
    return cli_err(err, errlen, "--source and --output: the source receives nothing");
  if (o->output && !o->stream)
    return cli_err(err, errlen, "--output needs the stream (drop --no-stream)");
  if (o->output && o->peers > 1 &&
      (strcmp(o->output, "-") == 0 ||
       (!strstr(o->output, "%i") && !strstr(o->output, "%p"))))
    return cli_err(err, errlen, "--output with --peers %u must contain %%i or %%p",
                   o->peers);
  if (o->stats && o->stats_interval_ms > 0 && strcmp(o->stats, "-") == 0)
    return cli_err(err, errlen, "--stats-interval-ms needs --stats FILE, not '-'");
  return RT_CLI_RUN;
}

int rt_cli_output_path(const char *pattern, unsigned index, unsigned port, char *out,
                       size_t outlen) {
  size_t n = 0;
  for (const char *s = pattern; *s; s++) {
    char tmp[16];
    const char *piece = tmp;
    size_t len;
    if (s[0] == '%' && s[1] == 'i') {
      len = (size_t)snprintf(tmp, sizeof tmp, "%u", index);
      s++;
    } else if (s[0] == '%' && s[1] == 'p') {
      len = (size_t)snprintf(tmp, sizeof tmp, "%u", port);
      s++;
    } else if (s[0] == '%' && s[1] == '%') {
      piece = "%";
      len = 1;
      s++;
    } else {
      piece = s;
      len = 1;
    }
    if (n + len + 1 > outlen) return SC_ERR_NOBUF;
    memcpy(out + n, piece, len);
    n += len;
  }
  if (n + 1 > outlen) return SC_ERR_NOBUF;
  out[n] = '\0';
  return 0;
}
