/*
 * cli.h — the stripecast program's command line: one flag table
 * (cli/flags.h) parses into rt_options and generates the usage text
 * (rt_cli_usage); rt_cli_parse adds the checks between flags.
 */
#ifndef SC_RUNTIME_CLI_H
#define SC_RUNTIME_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/auth.h"
#include "core/id.h"
#include "core/station.h"
#include "addr.h"
#include "encoder.h"
#include "impair.h"

#define RT_PEERS_MAX 1024 /* peers one process may host (--peers) */
/* A broadcaster's default --eof-exit-ms: it serves repairs this long after
 * the broadcast ended, then leaves. */
#define RT_BROADCAST_EOF_EXIT_MS 10000
/* A broadcaster's forest capacity: it sends each chunk once, to its stripe's
 * root, and forwards only as the root of a stripe (the core's root allowance,
 * one child). At 16, the default of listeners, it also forwarded in others'
 * trees, its own chunks back from the roots: 2.96 times the stream's bytes
 * while streaming to 10 listeners, 1.46 at 0 (bench/RESULTS.md, "Broadcaster
 * overhead"). */
#define RT_BROADCAST_CAPACITY 0
/* A listener's forest capacity: the stripes (16) and one eighth more, the
 * forest's slack (SplitStream's 16x18 configuration, docs/capacity.md). With
 * every peer at C = I and the broadcaster at 0, total capacity only just
 * meets demand, and the last orphans waited for the search schedule's
 * doubling retries: 200 listeners joining at once took 292 s to attach in
 * every stripe instead of 43 s (bench/RESULTS.md, "Broadcaster overhead").
 * On average a listener still forwards what it receives. */
#define RT_LISTEN_CAPACITY 18
/* A source re-locates each stripe's root this often. The core's 1 s made 16
 * routed locates a second; a root that is no longer one answers so at the
 * next chunk, and one that stops acknowledging is probed and replaced
 * (core/channel.h), so the periodic locate is only a backstop. */
#define RT_ROOT_REFRESH_MS 30000

/* The program's commands: the low-level form (no command word: a channel
 * of opaque bytes), and the radio's two sides. */
enum { RT_CMD_PEER = 0, RT_CMD_LISTEN, RT_CMD_BROADCAST, RT_CMD_KEYGEN, RT_CMD_STATIONS };

/* What feeds a broadcast: a container's bytes (--source), PCM through the
 * built-in encoder (--input, runtime/encoder.h), or a relayed stream
 * (--relay, runtime/relay.h). */
enum { RT_SOURCE_BYTES = 0, RT_SOURCE_ENCODE, RT_SOURCE_RELAY };

typedef struct rt_options {
  int cmd;             /* RT_CMD_*: from the first word of the command line */
  const char *station; /* --station (listen, broadcast) */
  /* listen stripecast://HOST:PORT/STATION: the link's parts, as --join and
   * --station (rt_cli_link_parse). */
  char link_join[RT_ADDR_HOST_MAX + 8];
  char link_station[SC_STATION_NAME_MAX + 66];
  sc_id station_id; /* its id: the channel of those commands */
  uint32_t ip;      /* --listen: the first peer's address (host order) */
  uint16_t port;
  uint32_t peers;   /* --peers: hosted peers on ports port, port+1, ... */
  bool join;        /* --join given */
  bool listen_auto; /* --listen PORT: the address toward --join (rt_addr_local_toward) */
  const char *join_name; /* as given (a host name is resolved at parse) */
  uint32_t join_ip;
  uint16_t join_port;
  uint32_t capacity; /* --capacity: forest children over all stripes */
  bool capacity_set;
  const char *channel;        /* --channel: its name (id = hash(name)); NULL with
                               * a station */
  bool stream;                /* off with --no-stream: the forest only */
  const char *source;         /* --source FILE|-; with --input or --relay, that
                               * input's name (the peer is the source) */
  int source_kind;            /* RT_SOURCE_*: what feeds a broadcast */
  const char *input;          /* --input FILE|-: PCM for the built-in encoder */
  rt_enc_spec encode;         /* --encode opus[:KBPS]|flac */
  bool input_raw;             /* --input-format given: raw PCM, no WAV header */
  rt_pcm_format input_format; /* --input-format s16le:RATE:CHANNELS */
  const char *title;          /* --title: the encoder's comment header and title */
  const char *relay;          /* --relay URL: an Icecast/SHOUTcast stream */
  uint64_t rate_kbps;         /* --rate-kbps: the source's stream rate */
  uint64_t flush_ms;          /* --flush-ms: latency bound on a partial generation */
  uint64_t state_every_ms;    /* --state-every-ms: the station's state repeats */
  uint64_t start_delay_ms;    /* --start-delay-ms: the source waits after joining */
  int64_t eof_exit_ms;        /* --eof-exit-ms: leave this long after EOF; -1 never */
  const char *output;         /* --output FILE|- (with %i / %p for many peers) */
  const char *stats;          /* --stats FILE|- */
  uint64_t stats_interval_ms; /* 0: only on SIGUSR1 and at exit */
  rt_impair_config impair;    /* --loss --delay-ms --jitter-ms --upload-kbps --queue-ms */
  uint64_t heartbeat_ms;      /* 0: the core's defaults */
  uint64_t buffer_ms;         /* 0: the core's default playout buffer */
  uint32_t window_gens;       /* 0: the core's default receive window */
  uint64_t root_refresh_ms;   /* source; default RT_ROOT_REFRESH_MS */
  uint32_t repair_asks;       /* 0: the core's default repair asks a generation */
  uint64_t grace_ms;          /* --grace-ms: polite departure */
  uint64_t join_spread_ms;    /* between joins of hosted peers */
  uint64_t seed;
  bool seed_set;
  bool verbose;

  /* --http: the players' server (runtime/serve.h); on a broadcaster with a
   * source password also the ingest server, where encoders connect. */
  const char *http; /* as given; NULL: none */
  uint32_t http_ip;
  uint16_t http_port;
  bool ingest;                      /* broadcast: --http with a password is the feed */
  const char *source_password;      /* --source-password */
  const char *source_password_file; /* --source-password-file */

  /* The signed stream (core/auth.h, docs/broadcast.md "Signed stations"). */
  sc_station_spec spec;   /* --station as parsed (listen) */
  const char *key;        /* --key FILE: broadcast, a low-level source; keygen --out */
  bool unsigned_station;  /* broadcast --unsigned: the old name-only station */
  const char *verify_key; /* low-level --verify-key HEX: receivers verify */
  bool auth;              /* the stream is signed: auth_pk (and a source's key) */
  uint8_t auth_pk[SC_AUTH_PK_BYTES];
  bool forge_chunks;      /* low-level test aid: alter every chunk this peer sends */
  bool forge_state;       /* test aid: alter the state this peer gives when asked */
  bool no_port_map;       /* never ask the home router for a port mapping */
  uint32_t max_listeners; /* --max-listeners */
  uint64_t queue_kb;      /* --queue-kb */
  bool max_listeners_set;
  double burst_s; /* --burst-s */
  bool burst_set;
  const char *admin_password;      /* --admin-password: /admin/ (runtime/status.h) */
  const char *admin_password_file; /* --admin-password-file */

  /* stations: the directory of the peer at --join (runtime/stations.h). */
  bool json; /* --json: for scripts */
  /* broadcast: what the directory and INFO say of a station fed by
   * --source, --input or --relay (encoders say it in their ice- headers). */
  const char *station_name, *description, *genre;
  /* broadcast --page DIR: the station's page, read at start (main.c,
   * runtime/page.h) into a bundle (core/station.h) */
  const char *page_dir;
  uint8_t *page;
  size_t page_len;
  uint64_t wait_ms; /* --wait-ms: how long to wait for its answer */
} rt_options;

enum { RT_CLI_RUN = 0, RT_CLI_HELP = 1, RT_CLI_ERROR = -1 };

/* The defaults of every flag. */
void rt_options_default(rt_options *o);
/* The command argv names (its first word: listen, broadcast; else RT_CMD_PEER). */
int rt_cli_command(int argc, char **argv);
/* Parses argv (the command word first, when there is one). Returns RT_CLI_RUN,
 * RT_CLI_HELP (--help), or RT_CLI_ERROR with a one-line reason in err. */
/* The scheme of a station's link: stripecast://HOST:PORT/STATION, STATION
 * as --station takes it (NAME@KEY, KEY, or an unsigned NAME), a peer to
 * join at HOST:PORT. */
#define RT_LINK_SCHEME "stripecast://"
/* Splits link into join ("HOST:PORT") and station. Returns 0, or -1 with why
 * filled. */
int rt_cli_link_parse(const char *link, char *join, size_t joinlen, char *station,
                      size_t stationlen, char *why, size_t whylen);

int rt_cli_parse(rt_options *o, int argc, char **argv, char *err, size_t errlen);
/* A command's --help, generated from its flag table with its defaults. */
void rt_cli_usage(int cmd, FILE *f);
/* Writes a usage error from rt_cli_parse as one line: "stripecast CMD: ERR; see
 * --help". */
void rt_cli_report(int cmd, const char *err, FILE *f);

/* The output path of peer index at port: pattern with %i (index), %p
 * (port) and %% replaced. Returns 0, or SC_ERR_NOBUF if out is too small. */
int rt_cli_output_path(const char *pattern, unsigned index, unsigned port, char *out,
                       size_t outlen);

#endif
