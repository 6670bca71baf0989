/* cli.c — the stripecast program's flags as one table (cli/flags.h) and
 * the checks between flags that the table cannot say (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli/flags.h"
#include "core/err.h"
#include "core/station.h"
#include "core/stream.h"
#include "relay.h"
#include "serve.h"
#include "station_source.h"

#define MS_MAX 86400000u /* one day: a bound on every duration flag */
/* Arguments of a listen command given a station's link (a bound for the
 * rewritten argv; a command line is far shorter). */
#define RT_CLI_ARGS_MAX 256
#define MS_TO_NS        1000000u

static int parse_listen(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  /* A bare PORT: the address is found later, toward --join. */
  if (*v && strspn(v, "0123456789") == strlen(v) && strlen(v) < 6) {
    unsigned long port = strtoul(v, NULL, 10);
    if (port == 0 || port > 65535) {
      snprintf(why, whylen, "expected [ADDR:]PORT with PORT 1..65535, got '%s'", v);
      return -1;
    }
    o->port = (uint16_t)port;
    o->ip = 0;
    o->listen_auto = true;
    return 0;
  }
  /* A name of this machine (its host name, a name in /etc/hosts) as well as
   * an address, as for --join. */
  o->listen_auto = false;
  return rt_addr_resolve(v, &o->ip, &o->port, why, whylen) == 0 ? 0 : -1;
}

static int parse_http(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  o->http = v;
  /* A bare PORT serves on the loopback address only. */
  char buf[32];
  if (strspn(v, "0123456789") == strlen(v) && strlen(v) < 6) {
    snprintf(buf, sizeof buf, "127.0.0.1:%s", v);
    v = buf;
  }
  if (rt_addr_parse(v, &o->http_ip, &o->http_port) == 0 && o->http_port < 65535) return 0;
  snprintf(why, whylen,
           "expected [IPv4:]PORT with PORT below 65535 (SHOUTcast sources on PORT+1), "
           "got '%s'",
           o->http);
  return -1;
}

static int parse_join(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  o->join_name = v;
  return rt_addr_resolve(v, &o->join_ip, &o->join_port, why, whylen) == 0 ? 0 : -1;
}

#define MS_FLAG(name_, field_, lo, hi, dflt_, help_)                                     \
  {                                                                                      \
    .kind = FLAGS_U64, .name = name_, .meta = "MS", FLAGS_AT(rt_options, field_),        \
    .min = lo, .max = hi, .dflt = dflt_, .help = help_                                   \
  }
#define INCLUDE(t)                                                                       \
  { .kind = FLAGS_INCLUDE, .sub = t }

/* The flags come in groups that the three commands (the low-level form,
 * listen, broadcast) combine; each command's table says which it takes. */

static const flags_opt f_listen[] = {
    {.kind = FLAGS_CUSTOM,
     .name = "listen",
     .meta = "[ADDR:]PORT",
     .parse = parse_listen,
     .attrs = FLAGS_REQUIRED,
     .help = "the (first) peer's IPv4 address (or a host name, resolved once) and UDP "
             "port; a bare PORT takes the address this machine reaches --join from "
             "(behind a home router, its address on the home network)"},
    {.kind = FLAGS_END},
};

static const flags_opt f_join[] = {
    {.kind = FLAGS_CUSTOM,
     .name = "join",
     .meta = "HOST:PORT",
     .parse = parse_join,
     .attrs = FLAGS_GIVEN,
     .given = offsetof(rt_options, join),
     .help = "a peer already in the overlay, by IPv4 address or host name (resolved "
             "once, to IPv4); without it the first peer starts a new overlay"},
    {.kind = FLAGS_END},
};

static const flags_opt f_peers[] = {
    {FLAGS_OPT_U64(rt_options, peers, "peers", "N", 1, RT_PEERS_MAX,
                   "host N peers in this process on ports PORT..PORT+N-1; peer 0 joins "
                   "--join, the others join peer 0")},
    MS_FLAG("join-spread-ms", join_spread_ms, 0, 60000, NULL,
            "pause between the joins of hosted peers"),
    {.kind = FLAGS_END},
};

static const flags_opt f_capacity[] = {
    {FLAGS_OPT_U64(rt_options, capacity, "capacity", "N", 0, 4096,
                   "children a peer forwards to over all stripes"),
     .attrs = FLAGS_GIVEN, .given = offsetof(rt_options, capacity_set),
     .dflt = "16, the number of stripes"},
    {.kind = FLAGS_END},
};

/* A broadcaster's upload carries each chunk once, to its stripe's root; it
 * forwards to no one but the one child of a stripe it is the root of
 * (RT_BROADCAST_CAPACITY). */
/* A listener forwards a little more than it receives: the forest's slack
 * (RT_LISTEN_CAPACITY). */
static const flags_opt f_capacity_listen[] = {
    {FLAGS_OPT_U64(rt_options, capacity, "capacity", "N", 0, 4096,
                   "children a peer forwards to over all stripes"),
     .attrs = FLAGS_GIVEN, .given = offsetof(rt_options, capacity_set),
     .dflt = "18, the stripes and an eighth as slack"},
    {.kind = FLAGS_END},
};

static const flags_opt f_capacity_broadcast[] = {
    {FLAGS_OPT_U64(rt_options, capacity, "capacity", "N", 0, 4096,
                   "children the broadcaster forwards to over all stripes, beyond the "
                   "one child of each stripe it is the root of"),
     .attrs = FLAGS_GIVEN, .given = offsetof(rt_options, capacity_set), .dflt = "0"},
    {.kind = FLAGS_END},
};

static const flags_opt f_overlay[] = {
    MS_FLAG(
        "heartbeat-ms", heartbeat_ms, 10, 3600000, "the core's 10000",
        "Scribe heartbeat period; Pastry's leaf-set heartbeat is 2x, its lease 3x, its "
        "probe and per-hop ack timeouts 1/2 (at most 1 s); a tree notices a crashed "
        "parent after 2.5 periods"),
    {.kind = FLAGS_U64,
     .name = "seed",
     .meta = "N",
     FLAGS_AT(rt_options, seed),
     .max = UINT64_MAX,
     .attrs = FLAGS_GIVEN,
     .given = offsetof(rt_options, seed_set),
     .dflt = "from the OS",
     .help = "seed of ids and randomness"},
    {FLAGS_OPT_SET(rt_options, no_port_map, "no-port-map",
                   "behind a home router, do not ask it (NAT-PMP, UPnP-IGD) to forward "
                   "the peer's UDP port; peers then reach it by hole punching only")},
    {.kind = FLAGS_END},
};

static const flags_opt f_channel[] = {
    {FLAGS_OPT_STR(rt_options, channel, "channel", "NAME",
                   "the channel; its id is a hash of the name")},
    {.kind = FLAGS_END},
};

static const flags_opt f_station[] = {
    {FLAGS_OPT_STR(
         rt_options, station, "station", "NAME@KEY|KEY|NAME",
         "the station: its public key (64 hex digits, as stripecast keygen and a "
         "broadcaster print it), optionally after its name (an Icecast-like mount "
         "such as /live.opus); its stripes derive from the key and every chunk is "
         "verified against it. A NAME alone is an unsigned station (broadcast "
         "--unsigned), whose stripes derive from the name"),
     .attrs = FLAGS_REQUIRED},
    {.kind = FLAGS_END},
};

static const flags_opt f_broadcast_station[] = {
    {FLAGS_OPT_STR(rt_options, station, "station", "NAME",
                   "the station's name (an Icecast-like mount such as /live.opus; the "
                   "leading slash is optional): the mount encoders use, and its label"),
     .attrs = FLAGS_REQUIRED},
    {FLAGS_OPT_STR(
         rt_options, key, "key", "FILE",
         "the station's Ed25519 key (stripecast keygen; owner-only): the station's id "
         "derives from its public key and every generation is signed with it"),
     .dflt = "made once and kept in $XDG_STATE_HOME/stripecast/NAME.key (else "
             "~/.local/state/stripecast/NAME.key)"},
    {FLAGS_OPT_SET(rt_options, unsigned_station, "unsigned",
                   "broadcast unsigned, under the name's hash (the old form: any peer "
                   "on the way can alter the stream)")},
    {.kind = FLAGS_END},
};

static const flags_opt f_peer_keys[] = {
    {FLAGS_OPT_STR(rt_options, key, "key", "FILE",
                   "with --source: sign the stream with this station key (stripecast "
                   "keygen); the channel is the key's")},
    {FLAGS_OPT_STR(
        rt_options, verify_key, "verify-key", "HEX",
        "receive the stream signed by this public key (64 hex digits): every "
        "chunk is verified before it plays or is forwarded; the channel is the "
        "key's")},
    {.kind = FLAGS_SECTION, .name = "Test aids"},
    {FLAGS_OPT_SET(
        rt_options, forge_chunks, "forge-chunks",
        "a test aid: alter the payload of every chunk this peer forwards or "
        "sends as a repair (a forging relay), to test that listeners drop them")},
    {.kind = FLAGS_END},
};

static const flags_opt f_keygen[] = {
    {FLAGS_OPT_STR(rt_options, key, "out", "FILE",
                   "write the new key here (owner-only, mode 0600); an existing file is "
                   "never overwritten"),
     .attrs = FLAGS_REQUIRED},
    {.kind = FLAGS_END},
};

static const flags_opt f_stations[] = {
    {.kind = FLAGS_CUSTOM,
     .name = "join",
     .meta = "HOST:PORT",
     .parse = parse_join,
     .attrs = FLAGS_REQUIRED | FLAGS_GIVEN,
     .given = offsetof(rt_options, join),
     .help = "a peer of the overlay (a listener or a broadcaster), by IPv4 address or "
             "host name: it is asked for the stations it lists"},
    {FLAGS_OPT_SET(rt_options, json, "json",
                   "print JSON (an array of stations, as /stations.json serves it) "
                   "instead of a table")},
    MS_FLAG("wait-ms", wait_ms, 100, 60000, "3000",
            "how long to wait for the peer's answer"),
    {.kind = FLAGS_END},
};

static const flags_opt f_station_about[] = {
    {FLAGS_OPT_STR(rt_options, station_name, "name", "TEXT",
                   "the station's name for listeners and the station directory (at "
                   "most 64 bytes)"),
     .dflt = "the station name without its leading slash"},
    {FLAGS_OPT_STR(rt_options, description, "description", "TEXT",
                   "a line about the station (at most 160 bytes)")},
    {FLAGS_OPT_STR(rt_options, genre, "genre", "TEXT", "its genre (at most 48 bytes)")},
    {FLAGS_OPT_STR(rt_options, page_dir, "page", "DIR",
                   "the station's own web page: DIR's files (index.html and a few "
                   "images or styles, one level, 48 KiB in all), sent with the stream "
                   "and served by every listener's --http at /page/")},
    {.kind = FLAGS_END},
};

static const flags_opt f_source[] = {
    {FLAGS_OPT_STR(rt_options, source, "source", "FILE|-",
                   "be the source: stream FILE (or stdin) to the channel")},
    {FLAGS_OPT_U64(rt_options, rate_kbps, "rate-kbps", "R", 1, 10000000,
                   "the source's rate in kbit/s")},
    MS_FLAG("start-delay-ms", start_delay_ms, 0, MS_MAX, NULL,
            "the source starts this long after its join"),
    MS_FLAG("flush-ms", flush_ms, 0, MS_MAX, NULL,
            "cut a partial generation once bytes waited this long; 0: only at EOF"),
    MS_FLAG("eof-exit-ms", eof_exit_ms, 0, MS_MAX,
            "never: it stays until signalled, serving repairs",
            "the source leaves MS after EOF"),
    {.kind = FLAGS_END},
};

static const flags_opt f_station_source[] = {
    {FLAGS_OPT_STR(
        rt_options, source, "source", "FILE|-",
        "feed the station from FILE (paced by the container's timestamps, or by "
        "--rate-kbps where it has none) or stdin (paced by arrival); its end ends "
        "the broadcast")},
    {FLAGS_OPT_U64(rt_options, rate_kbps, "rate-kbps", "R", 1, 10000000,
                   "a FILE source's rate in kbit/s where its container carries no "
                   "timestamps")},
    MS_FLAG("start-delay-ms", start_delay_ms, 0, MS_MAX, NULL,
            "the source starts this long after its join"),
    MS_FLAG("flush-ms", flush_ms, 0, MS_MAX, NULL,
            "cut a partial generation once its first byte waited this long (arrival "
            "paced: no padding while bytes keep coming); 0: only when full"),
    MS_FLAG("state-every-ms", state_every_ms, 0, MS_MAX, NULL,
            "repeat the station's state (INFO, codec headers, title) in the stream "
            "this often; listeners that attach ask a peer for it at once; 0: never"),
    MS_FLAG("eof-exit-ms", eof_exit_ms, 0, MS_MAX, NULL,
            "the peer leaves MS after the broadcast ended, having served repairs"),
    {.kind = FLAGS_END},
};

/* The players' server (runtime/serve.h), with --http. */
static const flags_opt f_serve_limits[] = {
    {FLAGS_OPT_U64(rt_options, max_listeners, "max-listeners", "N", 1,
                   RT_SERVE_LISTENERS_MAX,
                   "players served at once; beyond it a player gets Icecast's 403 "
                   "\"max listeners reached\""),
     .attrs = FLAGS_GIVEN, .given = offsetof(rt_options, max_listeners_set)},
    {FLAGS_OPT_U64(rt_options, queue_kb, "queue-kb", "KB", 16, 65536,
                   "a player's queue (Icecast's queue-size): a player that falls this "
                   "far behind is dropped, the others go on; a burst takes at most "
                   "half of it")},
    {FLAGS_OPT_F64(rt_options, burst_s, "burst-s", "S", 0, 60,
                   "a player that connects gets the codec headers, then the last S "
                   "seconds of the station from a point a decoder can start at, then "
                   "the live stream"),
     .attrs = FLAGS_GIVEN, .given = offsetof(rt_options, burst_set)},
    {FLAGS_OPT_STR(rt_options, admin_password, "admin-password", "PW",
                   "the password of user 'admin' for /admin/ (listclients, killclient, "
                   "listmounts, stats, metadata; visible to local users in the process "
                   "list: prefer --admin-password-file); none: /admin/ answers 401")},
    {FLAGS_OPT_STR(rt_options, admin_password_file, "admin-password-file", "FILE",
                   "read the admin password from FILE once at start (one line; its line "
                   "end is removed)")},
    {.kind = FLAGS_END},
};

static const flags_opt f_serve[] = {
    {.kind = FLAGS_CUSTOM,
     .name = "http",
     .meta = "[ADDR:]PORT",
     .parse = parse_http,
     .help = "serve the station to players as Icecast 2.4 does: GET /station (ICY "
             "metadata for MP3 and AAC), /station.m3u, .pls, .xspf; a bare PORT is on "
             "127.0.0.1 (docs/runtime.md)"},
    INCLUDE(f_serve_limits),
    {.kind = FLAGS_END},
};

/* The broadcaster's --http: players, and the encoders' ingest server
 * (runtime/ingest.h) when a source password is given. */
static const flags_opt f_ingest[] = {
    {.kind = FLAGS_CUSTOM,
     .name = "http",
     .meta = "[ADDR:]PORT",
     .parse = parse_http,
     .help = "serve the station to players as Icecast 2.4 does (GET /station, "
             "playlists); with a source password, also feed it from an encoder "
             "(ffmpeg, butt, DarkIce, liquidsoap, OBS, ezstream) that connects here as "
             "to Icecast 2.4: a PUT or SOURCE on the station's mount with user "
             "'source', or SHOUTcast v1 on PORT+1; one source at a time, and sources "
             "may come and go (docs/broadcast.md)"},
    INCLUDE(f_serve_limits),
    {FLAGS_OPT_STR(rt_options, source_password, "source-password", "PW",
                   "the sources' password (visible to local users in the process list: "
                   "prefer --source-password-file)")},
    {FLAGS_OPT_STR(
        rt_options, source_password_file, "source-password-file", "FILE",
        "read the sources' password from FILE once at start (one line; its line "
        "end is removed)")},
    {.kind = FLAGS_END},
};

static int parse_encode(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  return rt_enc_parse_spec(v, &o->encode, why, whylen) == 0 ? 0 : -1;
}

static int parse_input_format(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  if (rt_pcm_parse_format(v, &o->input_format, why, whylen) != 0) return -1;
  o->input_raw = true;
  return 0;
}

static int parse_relay(void *opts, const char *v, char *why, size_t whylen) {
  rt_options *o = opts;
  if (rt_relay_check_url(v, why, whylen) != 0) return -1;
  o->relay = v;
  return 0;
}

/* The broadcast's other sources: the built-in encoder and the relay. */
static const flags_opt f_station_inputs[] = {
    {FLAGS_OPT_STR(
        rt_options, input, "input", "FILE|-",
        "instead of --source: PCM to encode (a 16-bit PCM WAV file, or raw with "
        "--input-format), read at real time from FILE or as it arrives on stdin; "
        "its end ends the broadcast")},
    {.kind = FLAGS_CUSTOM,
     .name = "encode",
     .meta = "opus[:KBPS]|flac",
     .parse = parse_encode,
     .help = "with --input: encode to Ogg Opus (default 128 kbit/s, 20 ms frames, a "
             "page at least every 100 ms) or to Ogg FLAC (lossless, 1024-sample "
             "blocks)"},
    {.kind = FLAGS_CUSTOM,
     .name = "input-format",
     .meta = "s16le:RATE:CHANNELS",
     .parse = parse_input_format,
     .dflt = "a WAV header",
     .help = "--input is raw signed 16-bit little-endian PCM at RATE Hz with CHANNELS "
             "interleaved channels"},
    {FLAGS_OPT_STR(rt_options, title, "title", "TEXT",
                   "with --input: the title in the stream's comment header and the "
                   "station's now playing")},
    {.kind = FLAGS_CUSTOM,
     .name = "relay",
     .meta = "URL",
     .parse = parse_relay,
     .help = "instead of --source: relay an Icecast/SHOUTcast stream (http or https), "
             "ICY metadata taken out of the audio into titles; reconnects after 1 s, "
             "doubling to 30 s, each connection a new session of the station"},
    {.kind = FLAGS_END},
};

static const flags_opt f_output[] = {
    {FLAGS_OPT_STR(
        rt_options, output, "output", "FILE|-",
        "write the received stream (in order, exactly the source's bytes) to FILE "
        "or stdout; with --peers > 1 FILE must contain %i (peer index) or %p "
        "(port)")},
    {.kind = FLAGS_END},
};

static const flags_opt f_station_output[] = {
    {FLAGS_OPT_STR(
        rt_options, output, "output", "FILE|-",
        "write the station to FILE or stdout: its codec headers, then whole media "
        "units from the first point a decoder can start at; closed (EOF) when the "
        "broadcast ends, which ends the process; with --peers > 1 FILE must "
        "contain %i (peer index) or %p (port); without it the peer only relays")},
    {.kind = FLAGS_END},
};

static const flags_opt f_receive[] = {
    MS_FLAG("buffer-ms", buffer_ms, 1, 600000, "the core's 5000",
            "playout buffer: how long a generation may take"),
    {FLAGS_OPT_U64(
         rt_options, window_gens, "window-gens", "N", 1, SC_STREAM_WINDOW_MAX,
         "generations a receiver holds; should cover --buffer-ms of stream at the "
         "source's rate (12 KB a generation by default), or the window bounds the "
         "buffer"),
     .dflt = "the core's 128"},
    {FLAGS_OPT_U64(rt_options, repair_asks, "repair-asks", "N", 1, 1000,
                   "repair requests a receiver sends for one generation"),
     .dflt = "the core's 32"},
    {.kind = FLAGS_END},
};

static const flags_opt f_root_refresh[] = {
    MS_FLAG("root-refresh-ms", root_refresh_ms, 10, 3600000, "30000",
            "the source re-locates each stripe's root this often (besides when a "
            "root answers that it is no longer the root, or stops acknowledging)"),
    {.kind = FLAGS_END},
};

/* The low-level form keeps the core's 1 s: its crash tests (scripts/cluster)
 * lose chunks sent to a dead root for longer at 30 s. */
static const flags_opt f_root_refresh_peer[] = {
    MS_FLAG("root-refresh-ms", root_refresh_ms, 10, 3600000, "1000",
            "the source re-locates each stripe's root this often (besides when a "
            "root answers that it is no longer the root, or stops acknowledging)"),
    {.kind = FLAGS_END},
};

static const flags_opt f_no_stream[] = {
    {FLAGS_OPT_CLEAR(rt_options, stream, "no-stream",
                     "build the forest only (no data plane)")},
    {.kind = FLAGS_END},
};

static const flags_opt f_impair[] = {
    {.kind = FLAGS_SECTION,
     .name = "Impairment of every hosted peer's sends (for "
             "experiments)"},
    {FLAGS_OPT_F64(rt_options, impair.loss, "loss", "P", 0, 1,
                   "drop each datagram with probability P")},
    {.kind = FLAGS_U64,
     .name = "delay-ms",
     .meta = "D",
     FLAGS_AT(rt_options, impair.delay_ns),
     .max = 60000,
     .scale = MS_TO_NS,
     .help = "add D ms to every datagram"},
    {.kind = FLAGS_U64,
     .name = "jitter-ms",
     .meta = "J",
     FLAGS_AT(rt_options, impair.jitter_ns),
     .max = 60000,
     .scale = MS_TO_NS,
     .help = "plus uniform 0..J ms, which may reorder"},
    {FLAGS_OPT_U64(
         rt_options, impair.rate_bps, "upload-kbps", "R", 1, 100000000,
         "upload limit in kbit/s (28 bytes of IP+UDP counted per datagram), FIFO "
         "queue"),
     .scale = 1000, .dflt = "unlimited"},
    {FLAGS_OPT_U64(rt_options, impair.queue_ns_max, "queue-ms", "Q", 1, 60000,
                   "longest wait in that queue before tail drop; it holds at most 4096 "
                   "datagrams"),
     .scale = MS_TO_NS},
    {FLAGS_OPT_SET(rt_options, forge_state, "forge-state",
                   "a test aid: alter one byte of the station's state this peer gives a "
                   "peer that asks (a forging relay), to test that a signed station's "
                   "listeners refuse it")},
    {.kind = FLAGS_END},
};

static const flags_opt f_counters[] = {
    {.kind = FLAGS_SECTION, .name = "Counters and departure"},
    {FLAGS_OPT_STR(
        rt_options, stats, "stats", "FILE|-",
        "JSON counters of every hosted peer (peers known, stripes attached, stream "
        "continuity and latency, datagrams and bytes in/out, drops by reason), "
        "written on SIGUSR1, every --stats-interval-ms, and at exit")},
    MS_FLAG("stats-interval-ms", stats_interval_ms, 0, MS_MAX, "0, never",
            "also write them this often"),
    MS_FLAG(
        "grace-ms", grace_ms, 0, MS_MAX, NULL,
        "on SIGINT/SIGTERM: leave politely (children are told and re-parent), keep "
        "forwarding MS, then leave the parents and exit; a second signal exits at once"),
    {FLAGS_OPT_SET(rt_options, verbose, "verbose",
                   "log joins, attachments and departures to stderr")},
    {.kind = FLAGS_END},
};

static const flags_opt rt_flags[] = {
    {.kind = FLAGS_SECTION, .name = "Overlay"},
    INCLUDE(f_listen),
    INCLUDE(f_join),
    INCLUDE(f_peers),
    INCLUDE(f_capacity),
    INCLUDE(f_overlay),
    INCLUDE(f_channel),
    {.kind = FLAGS_SECTION, .name = "Stream"},
    INCLUDE(f_source),
    INCLUDE(f_output),
    INCLUDE(f_receive),
    INCLUDE(f_root_refresh_peer),
    INCLUDE(f_no_stream),
    {.kind = FLAGS_SECTION, .name = "Signed stream"},
    INCLUDE(f_peer_keys),
    INCLUDE(f_impair),
    INCLUDE(f_counters),
    {.kind = FLAGS_END},
};

static const flags_opt listen_flags[] = {
    {.kind = FLAGS_SECTION, .name = "Station"},
    INCLUDE(f_station),
    INCLUDE(f_station_output),
    {.kind = FLAGS_SECTION, .name = "Players (an Icecast 2.4 server's listeners' face)"},
    INCLUDE(f_serve),
    {.kind = FLAGS_SECTION, .name = "Overlay"},
    INCLUDE(f_listen),
    INCLUDE(f_join),
    INCLUDE(f_peers),
    INCLUDE(f_capacity_listen),
    INCLUDE(f_overlay),
    {.kind = FLAGS_SECTION, .name = "Receiving"},
    INCLUDE(f_receive),
    INCLUDE(f_impair),
    INCLUDE(f_counters),
    {.kind = FLAGS_END},
};

static const flags_opt broadcast_flags[] = {
    {.kind = FLAGS_SECTION, .name = "Station"},
    INCLUDE(f_broadcast_station),
    INCLUDE(f_station_about),
    INCLUDE(f_station_source),
    INCLUDE(f_station_inputs),
    INCLUDE(f_root_refresh),
    {.kind = FLAGS_SECTION,
     .name = "Players and encoders (an Icecast 2.4 server: listeners, and sources on "
             "the same port)"},
    INCLUDE(f_ingest),
    {.kind = FLAGS_SECTION, .name = "Overlay"},
    INCLUDE(f_listen),
    INCLUDE(f_join),
    INCLUDE(f_capacity_broadcast),
    INCLUDE(f_overlay),
    INCLUDE(f_impair),
    INCLUDE(f_counters),
    {.kind = FLAGS_END},
};

static const flags_cmd rt_cmd = {
    .prog = "stripecast",
    .synopsis = "listen|broadcast [options], or the low-level form: stripecast "
                "--listen ADDR:PORT [options]",
    .about = "Runs stripecast peers: Pastry + Scribe + the SplitStream forest, "
             "streaming an erasure-coded byte stream over UDP (one libev loop, one "
             "socket a peer).\n\n"
             "A radio: 'stripecast broadcast' feeds a station, 'stripecast listen' "
             "plays it (each has its own --help). The form without a command, whose "
             "options follow, is the low-level one: a channel of opaque bytes, for "
             "experiments.",
    .opts = rt_flags,
    .epilog =
        "Exit status: 0 after a clean exit, 1 on a runtime error (e.g. a port in use),\n"
        "2 on a usage error.\n"
        "\n"
        "Example (one source, 30 receivers in one process, loopback):\n"
        "  stripecast --listen 127.0.0.1:9000 --source movie.ts --rate-kbps 2000 \\\n"
        "      --start-delay-ms 5000 &\n"
        "  stripecast --listen 127.0.0.1:9100 --peers 30 --join 127.0.0.1:9000 \\\n"
        "      --output out-%i.ts --stats stats.json\n",
};

static const flags_cmd listen_cmd = {
    .prog = "stripecast listen",
    .synopsis =
        "--station NAME --listen [ADDR:]PORT [--join HOST:PORT] [--output FILE|-] "
        "[--http [ADDR:]PORT] [options]",
    .about = "Listens to a station: joins the overlay, receives the station's stream "
             "and relays it to the peers below in its trees. With --output it writes "
             "what a player can decode from the first byte: the codec headers, then "
             "whole media units from a point a decoder can start at; with --http it "
             "serves the station to players as an Icecast 2.4 server does. When the "
             "broadcast ends the output is closed and the process exits; when the "
             "source restarts (a later source epoch) the output carries on at once.",
    .opts = listen_flags,
    .epilog =
        "Exit status: 0 after a clean exit (the broadcast ended, or a signal), 1 on a\n"
        "runtime error, 2 on a usage error.\n"
        "\n"
        "Example:\n"
        "  stripecast listen --station /live.opus --listen 127.0.0.1:9100 \\\n"
        "      --join 127.0.0.1:9000 --output - | mpv -\n"
        "\n"
        "  stripecast listen --station /live.opus --listen 127.0.0.1:9101 \\\n"
        "      --join 127.0.0.1:9000 --http 8000 &\n"
        "  mpv http://127.0.0.1:8000/live.opus\n",
};

static const flags_cmd broadcast_cmd = {
    .prog = "stripecast broadcast",
    .synopsis = "--station NAME --listen [ADDR:]PORT [--join HOST:PORT] "
                "(--source FILE|- | --input FILE|- | --relay URL | --http ADDR:PORT "
                "--source-password-file FILE) [--http ADDR:PORT] [options]",
    .about = "Broadcasts a station: its peer is the station's source. The bytes fed "
             "(an Ogg, MP3, AAC, WebM or MPEG-TS stream, or opaque bytes) are cut into "
             "whole media units and sent as the station's records, with the codec "
             "headers and the station's description repeated for listeners who join "
             "late. The source's epoch is its start time, so a restarted broadcaster "
             "replaces the one before at once.",
    .opts = broadcast_flags,
    .epilog =
        "Exit status: 0 after a clean exit, 1 on a runtime error, 2 on a usage error.\n"
        "\n"
        "Examples:\n"
        "  ffmpeg -re -i music.flac -c:a libopus -b:a 128k -f ogg - | \\\n"
        "    stripecast broadcast --station /live.opus --listen 127.0.0.1:9000 "
        "--source -\n"
        "\n"
        "  stripecast broadcast --station /live.opus --listen 127.0.0.1:9000 \\\n"
        "      --http 127.0.0.1:8000 --source-password-file pw.txt &\n"
        "  ffmpeg -re -i music.flac -c:a libopus -b:a 128k -content_type audio/ogg \\\n"
        "      -f ogg icecast://source:PW@127.0.0.1:8000/live.opus\n"
        "  mpv http://127.0.0.1:8000/live.opus   # players share the port\n",
};

static const flags_opt keygen_flags[] = {
    INCLUDE(f_keygen),
    {.kind = FLAGS_END},
};

static const flags_cmd keygen_cmd = {
    .prog = "stripecast keygen",
    .synopsis = "--out FILE",
    .about = "Makes a station's Ed25519 key pair (RFC 8032) and writes it to FILE, "
             "readable by its owner alone. Prints the public key, 64 hex digits: the "
             "station's id, which listeners give as --station NAME@KEY or --station KEY. "
             "Only the holder of FILE can broadcast that station (stripecast broadcast "
             "--key FILE).",
    .opts = keygen_flags,
    .epilog = "Exit status: 0 when the key was written, 1 on an error (the file exists,\n"
              "cannot be written), 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  stripecast keygen --out live.key\n"
              "  stripecast broadcast --station /live.opus --key live.key ...\n",
};

static const flags_opt stations_flags[] = {
    INCLUDE(f_stations),
    {.kind = FLAGS_END},
};

static const flags_cmd stations_cmd = {
    .prog = "stripecast stations",
    .synopsis = "--join HOST:PORT [--json]",
    .about = "Lists the stations on the overlay: asks the peer at --join for its "
             "station directory, which every listener and broadcaster keeps "
             "(docs/directory.md). Stations with listeners come first, most listened "
             "first; then the offline ones (nobody tuned in, or not heard from), last "
             "heard first. Every entry is signed by its station's key and checked "
             "here.",
    .opts = stations_flags,
    .epilog = "Exit status: 0 when the list was printed (even empty), 1 when the peer "
              "did not\nanswer, 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  stripecast stations --join 127.0.0.1:9000\n"
              "  stripecast stations --join 127.0.0.1:9000 --json | jq '.[0].station'\n",
};

static const flags_cmd *cmd_of(int cmd) {
  switch (cmd) {
  case RT_CMD_STATIONS:
    return &stations_cmd;
  case RT_CMD_KEYGEN:
    return &keygen_cmd;
  case RT_CMD_LISTEN:
    return &listen_cmd;
  case RT_CMD_BROADCAST:
    return &broadcast_cmd;
  default:
    return &rt_cmd;
  }
}

void rt_options_default(rt_options *o) {
  memset(o, 0, sizeof *o);
  o->cmd = RT_CMD_PEER;
  o->peers = 1;
  o->channel = "stripecast";
  o->stream = true;
  o->rate_kbps = 1000;
  o->flush_ms = 500;
  o->state_every_ms = RT_STATION_STATE_EVERY_NS / 1000000ull;
  o->eof_exit_ms = -1;
  o->grace_ms = 3000;
  o->join_spread_ms = 20;
  o->max_listeners = RT_SERVE_LISTENERS_DEFAULT;
  o->burst_s = 2.0;
  o->queue_kb = RT_SERVE_QUEUE_MAX_BYTES >> 10;
  o->root_refresh_ms = 0; /* per command: rt_cli_parse */
  o->wait_ms = 3000;
  rt_impair_config_default(&o->impair);
}

/* The defaults of a command: a broadcaster leaves a while after its
 * broadcast ended (listeners have closed; repairs were served). */
static void cmd_default(rt_options *o, int cmd) {
  rt_options_default(o);
  o->cmd = cmd;
  if (cmd == RT_CMD_BROADCAST) {
    o->eof_exit_ms = RT_BROADCAST_EOF_EXIT_MS;
    o->capacity = RT_BROADCAST_CAPACITY;
    o->capacity_set = true;
  } else if (cmd == RT_CMD_LISTEN) {
    o->capacity = RT_LISTEN_CAPACITY;
    o->capacity_set = true;
  }
}

int rt_cli_command(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "listen") == 0) return RT_CMD_LISTEN;
  if (argc > 1 && strcmp(argv[1], "broadcast") == 0) return RT_CMD_BROADCAST;
  if (argc > 1 && strcmp(argv[1], "keygen") == 0) return RT_CMD_KEYGEN;
  if (argc > 1 && strcmp(argv[1], "stations") == 0) return RT_CMD_STATIONS;
  return RT_CMD_PEER;
}

void rt_cli_usage(int cmd, FILE *f) {
  rt_options d;
  cmd_default(&d, cmd);
  flags_help(cmd_of(cmd), &d, f);
}

void rt_cli_report(int cmd, const char *err, FILE *f) {
  flags_report(cmd_of(cmd), err, f);
}

static int cli_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return RT_CLI_ERROR;
}

int rt_cli_link_parse(const char *link, char *join, size_t joinlen, char *station,
                      size_t stationlen, char *why, size_t whylen) {
  size_t n = strlen(RT_LINK_SCHEME);
  if (strncmp(link, RT_LINK_SCHEME, n) != 0) {
    snprintf(why, whylen, "a link starts with %s", RT_LINK_SCHEME);
    return -1;
  }
  const char *host = link + n, *slash = strchr(host, '/');
  if (!slash || slash == host || slash[1] == '\0') {
    snprintf(why, whylen, "expected %sHOST:PORT/STATION, got '%s'", RT_LINK_SCHEME, link);
    return -1;
  }
  if ((size_t)(slash - host) >= joinlen || strlen(slash) >= stationlen) {
    snprintf(why, whylen, "the link '%s' is too long", link);
    return -1;
  }
  memcpy(join, host, (size_t)(slash - host));
  join[slash - host] = '\0';
  /* The path is the station as a mount names it (/live.opus@KEY); a bare
   * key has no slash. */
  const char *st = slash + 1;
  bool bare_key = strlen(st) == 2 * SC_AUTH_PK_BYTES &&
                  strspn(st, "0123456789abcdefABCDEF") == 2 * SC_AUTH_PK_BYTES;
  snprintf(station, stationlen, "%s", bare_key ? st : slash);
  return 0;
}

/* listen LINK ...: the link becomes --join and --station, in o's buffers;
 * args gets the argv to parse (argc + 3 entries with its NULL); returns its
 * argc. */
static int cli_link_args(rt_options *o, int argc, char **argv, char **args, char *err,
                         size_t errlen) {
  if (rt_cli_link_parse(argv[2], o->link_join, sizeof o->link_join, o->link_station,
                        sizeof o->link_station, err, errlen) != 0)
    return -1;
  int n = 0;
  args[n++] = argv[0];
  args[n++] = argv[1];
  static char join_flag[] = "--join", station_flag[] = "--station";
  args[n++] = join_flag;
  args[n++] = o->link_join;
  args[n++] = station_flag;
  args[n++] = o->link_station;
  for (int i = 3; i < argc; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  return n;
}

int rt_cli_parse(rt_options *o, int argc, char **argv, char *err, size_t errlen) {
  int cmd = rt_cli_command(argc, argv);
  cmd_default(o, cmd);
  /* listen stripecast://HOST:PORT/STATION [options]: a station's link, as a
   * web page (through the desktop's scheme handler) gives it. */
  char *linked[RT_CLI_ARGS_MAX + 3];
  if (cmd == RT_CMD_LISTEN && argc > 2 &&
      strncmp(argv[2], RT_LINK_SCHEME, strlen(RT_LINK_SCHEME)) == 0) {
    if (argc > RT_CLI_ARGS_MAX) return cli_err(err, errlen, "too many arguments");
    argc = cli_link_args(o, argc, argv, linked, err, errlen);
    if (argc < 0) return RT_CLI_ERROR;
    argv = linked;
  }
  /* A command's flags follow its name: parse them as its own argv. */
  int shift = cmd == RT_CMD_PEER ? 0 : 1;
  int rv = flags_parse(cmd_of(cmd), o, argc - shift, argv + shift, err, errlen);
  if (rv == FLAGS_HELP) return RT_CLI_HELP;
  if (rv != FLAGS_RUN) return RT_CLI_ERROR;
  if (cmd == RT_CMD_KEYGEN || cmd == RT_CMD_STATIONS) return RT_CLI_RUN;
  if (cmd == RT_CMD_LISTEN) {
    if (sc_station_spec_parse(o->station, &o->spec) != 0)
      return cli_err(err, errlen,
                     "--station: '%s' is neither a station's key (64 hex digits, "
                     "optionally after NAME@) nor a station name (1..%d bytes, no spaces "
                     "or control characters)",
                     o->station, SC_STATION_NAME_MAX);
    o->station_id = o->spec.id;
    o->auth = o->spec.is_signed;
    memcpy(o->auth_pk, o->spec.pk, sizeof o->auth_pk);
    o->channel = NULL; /* the channel is the station's id */
  }
  /* A broadcaster re-locates its stripes' roots every 30 s (a station's upload
   * is its cost: bench/RESULTS.md, "Broadcaster overhead"); the low-level
   * form keeps the core's 1 s. */
  if (o->root_refresh_ms == 0)
    o->root_refresh_ms = cmd == RT_CMD_BROADCAST ? RT_ROOT_REFRESH_MS : 1000;
  if (cmd == RT_CMD_BROADCAST) {
    if (strchr(o->station, '@') || sc_station_id(o->station, &o->station_id) != 0)
      return cli_err(err, errlen,
                     "--station: '%s' is not a station name (1..%d bytes, no spaces, "
                     "'@' or control characters; the key comes from --key)",
                     o->station, SC_STATION_NAME_MAX);
    if (o->unsigned_station && o->key)
      return cli_err(err, errlen, "--unsigned and --key: give one");
    o->auth = !o->unsigned_station; /* the key is read at start (host.c) */
    o->channel = NULL;
  }
  if (cmd == RT_CMD_PEER) {
    if (o->key && !o->source)
      return cli_err(err, errlen, "--key signs a stream: it goes with --source");
    if (o->verify_key && o->source)
      return cli_err(err, errlen, "--verify-key is a receiver's: a source has --key");
    if (o->verify_key) {
      sc_station_spec sp;
      if (sc_station_spec_parse(o->verify_key, &sp) != 0 || !sp.is_signed ||
          sp.name[0] != '\0')
        return cli_err(err, errlen, "--verify-key: expected 64 hex digits");
      o->auth = true;
      memcpy(o->auth_pk, sp.pk, sizeof o->auth_pk);
      o->station_id = sp.id;
    }
    if (o->key) o->auth = true;
  }
  if (cmd == RT_CMD_BROADCAST) {
    bool pw = o->source_password || o->source_password_file;
    o->ingest = o->http && pw;
    int nsrc = (o->source != NULL) + (o->input != NULL) + (o->relay != NULL) + o->ingest;
    if (nsrc != 1)
      return cli_err(err, errlen,
                     nsrc
                         ? "--source, --input, --relay and --http with a source "
                           "password: the station has one feed; give one"
                         : "broadcast needs --source FILE|-, --input FILE|-, --relay URL "
                           "or --http ADDR:PORT with --source-password-file FILE");
    if (o->input && o->encode.codec == RT_ENC_NONE)
      return cli_err(err, errlen, "--input needs --encode opus[:KBPS]|flac");
    if (!o->input && (o->encode.codec != RT_ENC_NONE || o->input_raw || o->title))
      return cli_err(err, errlen, "--encode, --input-format and --title go with --input");
    if (o->input) {
      o->source_kind = RT_SOURCE_ENCODE;
      o->source = o->input;
    } else if (o->relay) {
      o->source_kind = RT_SOURCE_RELAY;
      o->source = o->relay;
    }
  }
  if (o->source_password && o->source_password_file)
    return cli_err(err, errlen,
                   "--source-password and --source-password-file: give one of them");
  if (!o->http && (o->source_password || o->source_password_file))
    return cli_err(err, errlen, "--source-password%s is for --http",
                   o->source_password ? "" : "-file");
  if (o->admin_password && o->admin_password_file)
    return cli_err(err, errlen,
                   "--admin-password and --admin-password-file: give one of them");
  if (!o->http && (o->admin_password || o->admin_password_file))
    return cli_err(err, errlen, "--admin-password%s is for --http",
                   o->admin_password ? "" : "-file");
  if (!o->http && (o->max_listeners_set || o->burst_set))
    return cli_err(err, errlen, "--%s is for --http",
                   o->max_listeners_set ? "max-listeners" : "burst-s");
  if (o->http && o->peers > 1)
    return cli_err(err, errlen, "--http serves one peer's station (drop --peers)");
  if (o->listen_auto) {
    if (!o->join)
      return cli_err(err, errlen,
                     "--listen %u: a bare PORT takes its address from the way to --join; "
                     "give --join HOST:PORT, or --listen ADDR:PORT",
                     (unsigned)o->port);
    if (rt_addr_local_toward(o->join_ip, o->join_port, &o->ip) != 0)
      return cli_err(err, errlen,
                     "--listen %u: no route from this machine to --join %s; give "
                     "--listen ADDR:PORT",
                     (unsigned)o->port, o->join_name);
  }
  if (o->ip == 0)
    return cli_err(err, errlen,
                   "--listen: give the address peers reach this one at, not 0.0.0.0");
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
  if (o->stats && o->output && strcmp(o->stats, "-") == 0 && strcmp(o->output, "-") == 0)
    return cli_err(err, errlen,
                   "--output - and --stats -: both on stdout would mix the counters "
                   "into the stream; give --stats a FILE");
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
