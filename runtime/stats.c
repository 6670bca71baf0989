/*
 * stats.c — the JSON counters of a stripecast process (rt_stats_write in
 * host.h): one object with the process (pid, uptime, CPU, peak RSS), one
 * entry per hosted peer and totals. docs/runtime.md lists every field.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static double stats_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long stats_maxrss_kb(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return ru.ru_maxrss;
}

#define U64(f, name, v) fprintf(f, "\"%s\":%" PRIu64, name, (uint64_t)(v))

static void stats_counters(FILE *f, const rt_counters *c) {
  U64(f, "dgrams_in", c->dgrams_in);
  fputc(',', f);
  U64(f, "bytes_in", c->bytes_in);
  fputc(',', f);
  U64(f, "dgrams_out", c->dgrams_out);
  fputc(',', f);
  U64(f, "bytes_out", c->bytes_out);
  fputs(",\"drops\":{", f);
  const struct {
    const char *name;
    uint64_t v;
  } d[] = {{"rx_too_large", c->rx_too_large},
           {"rx_truncated", c->rx_truncated},
           {"rx_version", c->rx_version},
           {"rx_malformed", c->rx_malformed},
           {"rx_addr_full", c->rx_addr_full},
           {"rx_spoofed", c->rx_spoofed},
           {"rx_rejected", c->rx_rejected},
           {"rx_not_ipv4", c->rx_not_ipv4},
           {"rx_limited", c->rx_limited},
           {"rx_ignored", c->rx_ignored},
           {"rx_errors", c->rx_errors},
           {"tx_encode_err", c->tx_encode_err},
           {"tx_no_addr", c->tx_no_addr},
           {"tx_sock_err", c->tx_sock_err},
           {"tx_impair_lost", c->tx_impair_lost},
           {"tx_impair_queue", c->tx_impair_queue},
           {"tx_repair_shed", c->tx_repair_shed},
           {"core_nomem", c->core_nomem},
           {"tx_forged", c->tx_forged}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    if (i) fputc(',', f);
    U64(f, d[i].name, d[i].v);
  }
  /* What the datagrams sent carried: [datagrams, bytes] by class, the
   * classes never sent left out. */
  fputs("},\"tx_by_class\":{", f);
  bool first = true;
  for (unsigned k = 0; k < RT_TX_CLASSES; k++) {
    const char *name = rt_peer_tx_class_name(k);
    if (!name || !c->tx_dgrams[k]) continue;
    fprintf(f, "%s\"%s\":[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", name,
            c->tx_dgrams[k], c->tx_bytes[k]);
    first = false;
  }
  fputc('}', f);
}

static void counters_add(rt_counters *t, const rt_counters *c) {
  const uint64_t *s = (const uint64_t *)c;
  uint64_t *d = (uint64_t *)t;
  for (size_t i = 0; i < sizeof *c / sizeof(uint64_t); i++)
    d[i] += s[i];
}

_Static_assert(RT_OUTPUT_LAT_BINS_MS == RT_LAT_BINS_MS, "one percentile function");

/* name_ms_p50 ... name_ms_max and name_hist_ms. */
static void stats_latency(FILE *f, const char *name, const uint32_t *bins) {
  fprintf(f,
          "\"%s_ms_p50\":%d,\"%s_ms_p95\":%d,\"%s_ms_p99\":%d,"
          "\"%s_ms_max\":%d,\"%s_hist_ms\":[",
          name, rt_peer_latency_pct_ms(bins, 50), name, rt_peer_latency_pct_ms(bins, 95),
          name, rt_peer_latency_pct_ms(bins, 99), name, rt_peer_latency_pct_ms(bins, 100),
          name);
  /* Sparse [ms, count] pairs (the last bin means "RT_LAT_BINS_MS or more"), so
   * that scripts/cluster can merge peers of many processes exactly. */
  bool first = true;
  for (unsigned i = 0; i <= RT_LAT_BINS_MS; i++) {
    if (!bins[i]) continue;
    fprintf(f, "%s[%u,%u]", first ? "" : ",", i, bins[i]);
    first = false;
  }
  fputc(']', f);
}

/* s as a JSON string (quotes, backslashes and control characters escaped). */
static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/* The signed stream (core/auth.h): what the verifier judged. */
static void stats_auth(FILE *f, const sc_channel_stats *cs) {
  const sc_auth_stats *a = &cs->auth;
  fprintf(f,
          ",\"auth\":{\"chunks_good\":%" PRIu64 ",\"chunks_forged\":%" PRIu64
          ",\"chunks_replayed\":%" PRIu64 ",\"chunks_stale\":%" PRIu64
          ",\"chunks_dup\":%" PRIu64 ",\"gens_verified\":%" PRIu64
          ",\"gens_evicted\":%" PRIu64 ",\"sig_checks\":%" PRIu64
          ",\"sig_failures\":%" PRIu64 ",\"parent_switches\":%" PRIu64
          ",\"unsigned_not_served\":%" PRIu64 ",\"staged_asks\":%" PRIu64 "}",
          a->chunks_good, a->chunks_forged, a->chunks_replayed, a->chunks_stale,
          a->chunks_dup, a->gens_verified, a->gens_evicted, a->sig_checks,
          a->sig_failures, cs->auth_parent_switches, cs->auth_unsigned_served,
          cs->auth_staged_asks);
}

/* What the peer's output got and what it should have had (output.h). */
static void stats_output(FILE *f, const rt_output *o) {
  const rt_output_stats *s = &o->st;
  fprintf(f,
          ",\"output\":{\"bytes_written\":%" PRIu64 ",\"bytes_queued\":%zu"
          ",\"records_written\":%" PRIu64 ",\"headers_written\":%" PRIu64
          ",\"records_dropped\":%" PRIu64 ",\"bytes_dropped\":%" PRIu64
          ",\"queue_max\":%" PRIu64 ",\"gens\":%" PRIu64 ",\"gens_lost\":%" PRIu64
          ",\"gens_missed_at_start\":%" PRIu64 ",\"records_cut\":%" PRIu64
          ",\"bytes_cut\":%" PRIu64 ",\"bytes_missed_est\":%" PRIu64
          ",\"epochs\":%" PRIu64 ",\"sessions\":%" PRIu64 ",\"state_fetched\":%" PRIu64
          ",\"state_ignored\":%" PRIu64 ",\"started_on_fetched_state\":%s"
          ",\"playing\":%s,\"ended\":%s,\"failed\":%s,\"continuity\":%.6f",
          s->bytes_written, o->qlen, s->records_written, s->headers_written,
          s->records_dropped, s->bytes_dropped, s->queue_max, s->gens, s->gens_lost,
          s->gens_missed_at_start, s->records_cut, s->bytes_cut,
          rt_output_missed_bytes_est(o), s->epochs, s->sessions, s->state_fetched,
          s->state_ignored, s->started_on_fetched_state ? "true" : "false",
          o->playing ? "true" : "false", o->ended ? "true" : "false",
          o->failed ? "true" : "false", rt_output_continuity(o));
  /* The station's page taken alone from a late answer (output.h). */
  fprintf(f, ",\"page_fetched\":%" PRIu64, s->page_fetched);
  if (o->reader) {
    /* The station's now playing, as last received. */
    fputs(",\"title\":", f);
    json_str(f, sc_station_reader_title(o->reader));
  }
  fputc(',', f);
  stats_latency(f, "write_latency", o->lat_ms);
  fputc('}', f);
}

static void stats_encoder(FILE *f, const rt_encoder *e) {
  rt_encoder_stats es;
  rt_encoder_get_stats(e, &es);
  rt_pcm_format pf = rt_encoder_format(e);
  fprintf(f,
          "\"encoder\":{\"rate_hz\":%" PRIu32 ",\"channels\":%" PRIu32
          ",\"pcm_bytes\":%" PRIu64 ",\"samples\":%" PRIu64 ",\"out_bytes\":%" PRIu64
          ",\"pages\":%" PRIu64 ",\"feed_errors\":%" PRIu64 ",\"read_errors\":%" PRIu64
          ",\"odd_bytes\":%" PRIu64 "},",
          pf.rate_hz, pf.channels, es.pcm_bytes, es.samples, es.out_bytes, es.pages,
          es.feed_errors, es.read_errors, es.odd_bytes);
}

static void stats_relay(FILE *f, const rt_relay *r) {
  rt_relay_stats rs;
  rt_relay_get_stats(r, &rs);
  fprintf(f,
          "\"relay\":{\"attempts\":%" PRIu64 ",\"connects\":%" PRIu64
          ",\"reconnects\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"audio_bytes\":%" PRIu64
          ",\"meta_blocks\":%" PRIu64 ",\"meta_bad\":%" PRIu64 ",\"titles\":%" PRIu64
          ",\"feed_errors\":%" PRIu64 ",\"metaint\":%" PRIu32 ",\"backoff_ms\":%" PRIu64
          ",\"last_status\":%ld,\"last_error\":",
          rs.attempts, rs.connects, rs.reconnects, rs.bytes_in, rs.audio_bytes,
          rs.meta_blocks, rs.meta_bad, rs.titles, rs.feed_errors, rs.metaint,
          rs.backoff_ms, rs.last_status);
  json_str(f, rs.last_error);
  fputs(",\"title\":", f);
  json_str(f, rs.title);
  fputs("},", f);
}

/* ms from the peer's join to t; -1 when t has not happened. */
static double stats_since_join_ms(const rt_peer *p, uint64_t t) {
  return t && t >= p->join_ns ? (double)(t - p->join_ns) / 1e6 : -1.0;
}

/* Press play to first byte, step by step, each since the join. */
static void stats_startup(FILE *f, const rt_peer *p, uint64_t first_chunk_ns,
                          uint64_t first_write_ns) {
  fprintf(
      f,
      ",\"startup\":{\"joined_ms\":%.3f,\"first_stripe_ms\":%.3f,"
      "\"all_stripes_ms\":%.3f,\"first_chunk_ms\":%.3f,\"first_byte_ms\":%.3f,"
      "\"first_write_ms\":%.3f}",
      stats_since_join_ms(p, p->joined_ns), stats_since_join_ms(p, p->first_stripe_ns),
      stats_since_join_ms(p, p->all_stripes_ns), stats_since_join_ms(p, first_chunk_ns),
      stats_since_join_ms(p, p->first_byte_ns), stats_since_join_ms(p, first_write_ns));
}

/* NAT traversal (traverse.h): how the peer is seen, and what it took. */
static void stats_traversal(FILE *f, const rt_peer *p) {
  const rt_trav *t = &p->trav;
  char pub[RT_ADDR_STR_MAX];
  rt_addr_format(t->public_ip, t->public_port, pub);
  const rt_trav_counters *c = &t->c;
  fprintf(
      f,
      ",\"traversal\":{\"nat\":\"%s\",\"public_addr\":\"%s\",\"address_changes\":%" PRIu64
      ",\"bindings_sent\":%" PRIu64 ",\"bindings_got\":%" PRIu64
      ",\"bindings_answered\":%" PRIu64 ",\"punch_requests_sent\":%" PRIu64
      ",\"punches_forwarded\":%" PRIu64 ",\"punches_unreachable\":%" PRIu64
      ",\"hellos_sent\":%" PRIu64 ",\"hellos_got\":%" PRIu64 ",\"held_resent\":%" PRIu64
      ",\"keepalives_sent\":%" PRIu64 ",\"rx_malformed\":%" PRIu64
      ",\"rx_unknown\":%" PRIu64,
      rt_trav_nat_name(t->nat), pub, c->address_changes, c->bindings_sent,
      c->bindings_got, c->bindings_answered, c->punch_requests_sent, c->punches_forwarded,
      c->punches_unreachable, c->hellos_sent, c->hellos_got, c->held_resent,
      c->keepalives_sent, c->rx_malformed, c->rx_unknown);
  /* Relays: this peer's own (behind a symmetric NAT), and those it runs. */
  unsigned relays_open = 0;
  for (unsigned i = 0; i < RT_TRAV_RELAYS; i++)
    relays_open += t->relay[i].open;
  fprintf(f,
          ",\"relayed\":%s,\"relayed_dgrams_sent\":%" PRIu64
          ",\"relayed_dgrams_got\":%" PRIu64
          ",\"relays_open\":%u,\"relays_opened\":%" PRIu64 ",\"relays_refused\":%" PRIu64
          ",\"relay_dgrams_in\":%" PRIu64 ",\"relay_dgrams_out\":%" PRIu64,
          t->relayed ? "true" : "false", c->relayed_dgrams_sent, c->relayed_dgrams_got,
          relays_open, c->relays_opened, c->relays_refused, c->relay_dgrams_in,
          c->relay_dgrams_out);
  /* The router's port mapping (portmap.h), when one was asked for. */
  const rt_portmap_result *r = &p->portmap_result;
  if (p->portmap || r->why[0]) {
    char ext[RT_ADDR_STR_MAX];
    rt_addr_format(r->ext_ip, r->ext_port, ext);
    fprintf(f,
            ",\"port_map\":{\"method\":\"%s\",\"external\":\"%s\",\"lease_s\":%u,"
            "\"forwarded\":%s,\"why\":",
            rt_portmap_method_name(r->method), ext, (unsigned)r->lease_s,
            t->forwarded ? "true" : "false");
    json_str(f, r->why);
    fputc('}', f);
  }
  fputc('}', f);
}

static void stats_peer(FILE *f, rt_host *h, rt_peer *p) {
  char addr[RT_ADDR_STR_MAX], id[33];
  rt_addr_format(p->ip, p->port, addr);
  sc_id_to_hex(&p->self.id, id);
  id[32] = '\0';
  fprintf(f, "{\"index\":%u,\"addr\":\"%s\",\"id\":\"%s\"", p->index, addr, id);
  if (!p->node) {
    fputs(",\"closed\":true}", f);
    return;
  }
  const sc_pastry *pa = sc_node_pastry_c(p->node);
  const sc_splitstream *ss = sc_node_forest_c(p->node);
  sc_ref ls[SC_LEAFSET_MAX];
  unsigned left;
  unsigned nls = sc_pastry_leafset(pa, ls, SC_LEAFSET_MAX, &left);
  sc_pastry_stats ps;
  sc_pastry_get_stats(pa, &ps);
  unsigned k = sc_splitstream_stripes(ss), wanted = 0;
  for (unsigned s = 0; s < k; s++)
    wanted += sc_splitstream_wants(ss, s);
  fprintf(f,
          ",\"joined\":%s,\"forest_started\":%s,\"departing\":%s,\"leafset\":%u,"
          "\"rt_entries\":%u,\"peers_known\":%u,\"stripes\":%u,\"stripes_wanted\":%u,"
          "\"stripes_attached\":%u,\"attach_changes\":%" PRIu64 ",\"children\":%u,",
          sc_pastry_is_joined(pa) ? "true" : "false",
          p->forest_started ? "true" : "false", p->departing ? "true" : "false", nls,
          ps.rt_entries, nls + ps.rt_entries, k, wanted, rt_peer_stripes_attached(p),
          p->attach_changes, sc_splitstream_load(ss));
  stats_counters(f, &p->c);
  fprintf(f,
          ",\"pastry\":{\"msgs_sent\":%" PRIu64 ",\"msgs_recv\":%" PRIu64
          ",\"dropped_invalid\":%" PRIu64 ",\"routes_dropped\":%" PRIu64
          ",\"peers_declared_dead\":%" PRIu64 "}",
          ps.msgs_sent, ps.msgs_recv, ps.msgs_dropped_invalid, ps.routes_dropped,
          ps.peers_declared_dead);
  stats_traversal(f, p);
  if (p->impaired)
    fprintf(f,
            ",\"impair\":{\"lost\":%" PRIu64 ",\"overflow\":%" PRIu64
            ",\"queued\":%" PRIu64 ",\"held\":%u,\"held_max\":%u}",
            p->imp.lost, p->imp.overflow, p->imp.queued, p->imp.n, p->imp.held_max);
  if (h->cfg.stream) {
    sc_channel_stats cs;
    sc_node_stream_stats(p->node, &cs);
    /* Skipped generations count as missed: a restart after a gap beyond
     * the window reports none of them lost. */
    uint64_t resolved = p->gens_delivered + p->gens_lost + p->gens_skipped;
    fprintf(f, ",\"stream\":{\"playing\":%s,", p->got_first ? "true" : "false");
    if (p->got_first)
      fprintf(f, "\"first_gen\":%" PRIu64 ",\"last_gen\":%" PRIu64 ",", p->first_gen,
              p->last_gen);
    fprintf(f,
            "\"gens_delivered\":%" PRIu64 ",\"gens_lost\":%" PRIu64
            ",\"gens_skipped\":%" PRIu64 ",\"epoch_changes\":%" PRIu64
            ",\"continuity\":%.6f,\"bytes_delivered\":%" PRIu64
            ",\"bytes_written\":%" PRIu64 ",",
            p->gens_delivered, p->gens_lost, p->gens_skipped, cs.stream.epoch_changes,
            resolved ? (double)p->gens_delivered / (double)resolved : 0.0,
            p->bytes_delivered, h->out ? h->out[p->index].st.bytes_written : 0);
    stats_latency(f, "latency", p->lat_ms);
    fprintf(f,
            ",\"gens_decoded\":%" PRIu64 ",\"chunks_stored\":%" PRIu64
            ",\"chunks_dup\":%" PRIu64 ",\"chunks_late\":%" PRIu64
            ",\"chunks_invalid\":%" PRIu64 ",\"chunks_ahead\":%" PRIu64
            ",\"gens_early\":%" PRIu64 ",\"gens_skipped\":%" PRIu64
            ",\"startup_ms\":%.3f,\"chunks_published\":%" PRIu64
            ",\"publishes_routed\":%" PRIu64 ",\"root_changes\":%" PRIu64
            ",\"roots_suspected\":%" PRIu64 ",\"chunks_resent\":%" PRIu64
            ",\"chunks_unacked_dropped\":%" PRIu64 ",\"repair_asks\":%" PRIu64
            ",\"repair_chunks_asked\":%" PRIu64 ",\"repair_chunks_got\":%" PRIu64
            ",\"repair_reqs_served\":%" PRIu64 ",\"repair_chunks_sent\":%" PRIu64
            ",\"backfill_asks\":%" PRIu64 ",\"backfilled_gens\":%" PRIu64
            ",\"stripe_chunks\":%" PRIu64 "}",
            cs.stream.gens_decoded, cs.stream.chunks_stored, cs.stream.chunks_dup,
            cs.stream.chunks_late, cs.stream.chunks_invalid, cs.stream.chunks_ahead,
            cs.stream.gens_early, cs.stream.gens_skipped,
            (double)cs.stream.startup_ns / 1e6, cs.chunks_published, cs.publishes_routed,
            cs.root_changes, cs.roots_suspected, cs.chunks_resent,
            cs.chunks_unacked_dropped, cs.repair_asks, cs.repair_chunks_asked,
            cs.repair_chunks_got, cs.repair_reqs_served, cs.repair_chunks_sent,
            cs.backfill_asks, cs.backfilled_gens, cs.stripe_chunks);
    if (h->opt.auth) stats_auth(f, &cs);
    stats_startup(f, p, cs.stream.first_chunk_ns,
                  h->out ? h->out[p->index].first_write_ns : 0);
  }
  if (h->hooks.state_get) {
    /* The station's state asked of and given to peers (core/state.h). */
    sc_state_stats sf;
    sc_node_state_stats(p->node, &sf);
    fprintf(f,
            ",\"state_fetch\":{\"fetches\":%" PRIu64 ",\"asks\":%" PRIu64
            ",\"answers\":%" PRIu64 ",\"empty_answers\":%" PRIu64
            ",\"answers_refused\":%" PRIu64 ",\"gave_up\":%" PRIu64
            ",\"reqs_served\":%" PRIu64 ",\"reqs_shed\":%" PRIu64
            ",\"fragments_sent\":%" PRIu64 ",\"msgs_invalid\":%" PRIu64 "}",
            sf.fetches, sf.asks, sf.answers, sf.empty_answers, sf.answers_refused,
            sf.gave_up, sf.reqs_served, sf.reqs_shed, sf.fragments_sent, sf.msgs_invalid);
  }
  if (h->out) stats_output(f, &h->out[p->index]);
  fputc('}', f);
}

static void stats_doc(FILE *f, rt_host *h) {
  uint64_t now = rt_now_ns();
  fprintf(f,
          "{\"program\":\"stripecast\",\"pid\":%d,\"time_ns\":%" PRIu64
          ",\"uptime_s\":%.3f,\"cpu_s\":%.3f,\"max_rss_kb\":%ld,\"state\":\"%s\","
          "\"role\":\"%s\",\"hosted\":%u,\"addresses_known\":%u,",
          (int)getpid(), now, (double)(now - h->start_ns) / 1e9, stats_cpu_s(),
          stats_maxrss_kb(),
          h->state == RT_RUNNING     ? "running"
          : h->state == RT_DEPARTING ? "departing"
                                     : "exiting",
          h->opt.source || h->opt.ingest ? "source" : "peer", h->npeers, h->addrs.n);
  if (h->opt.station) fprintf(f, "\"station\":\"%s\",", h->opt.station);
  if (h->opt.source || h->opt.ingest) {
    const rt_source *s = &h->src;
    fprintf(f,
            "\"source\":{\"started\":%s,\"eof\":%s,\"bytes_read\":%" PRIu64
            ",\"rate_kbps\":%" PRIu64 ",\"flushes\":%" PRIu64 ",\"write_errors\":%" PRIu64
            ",\"start_ns\":%" PRIu64 ",\"eof_ns\":%" PRIu64 "},",
            s->started ? "true" : "false", s->eof ? "true" : "false", s->bytes_read,
            h->opt.rate_kbps, s->flushes, s->write_errors, s->start_ns, s->eof_ns);
    if (s->station) {
      rt_station_source_stats ss;
      rt_station_source_get_stats(s->station, &ss);
      fprintf(f,
              "\"station_source\":{\"sessions\":%" PRIu64 ",\"bytes_in\":%" PRIu64
              ",\"units\":%" PRIu64 ",\"sync_units\":%" PRIu64
              ",\"garbage_bytes\":%" PRIu64 ",\"tail_dropped_bytes\":%" PRIu64
              ",\"lead_dropped_bytes\":%" PRIu64 ",\"header_sets\":%" PRIu64
              ",\"titles\":%" PRIu64 ",\"state_repeats\":%" PRIu64 ",\"pages\":%" PRIu64
              ",\"page_bytes\":%" PRIu64 ",\"flushes\":%" PRIu64
              ",\"write_errors\":%" PRIu64 ",\"media_us\":%" PRId64 "},",
              ss.sessions, ss.bytes_in, ss.units, ss.sync_units, ss.garbage_bytes,
              ss.tail_dropped_bytes, ss.lead_dropped_bytes, ss.header_sets, ss.titles,
              ss.state_repeats, ss.pages, ss.page_bytes, ss.flushes, ss.write_errors,
              rt_station_source_media_us(s->station));
    }
    if (s->ingest) {
      fputs("\"ingest\":", f);
      rt_ingest_stats_json(s->ingest, f);
      fputc(',', f);
    }
    if (s->enc) stats_encoder(f, s->enc);
    if (s->relay) stats_relay(f, s->relay);
  }
  if (h->serve) {
    fputs("\"serve\":", f);
    rt_serve_stats_json(h->serve, f);
    fputc(',', f);
  }
  fputs("\"peers\":[", f);
  rt_counters tot;
  memset(&tot, 0, sizeof tot);
  uint64_t joined = 0, attached_all = 0, delivered = 0, lost = 0;
  /* single-threaded; reused per call */
  static uint32_t lat[RT_LAT_BINS_MS + 1], wlat[RT_LAT_BINS_MS + 1];
  memset(lat, 0, sizeof lat);
  memset(wlat, 0, sizeof wlat);
  for (uint32_t i = 0; i < h->npeers; i++) {
    rt_peer *p = &h->peers[i];
    if (i) fputc(',', f);
    stats_peer(f, h, p);
    counters_add(&tot, &p->c);
    if (p->node) {
      const sc_splitstream *ss = sc_node_forest_c(p->node);
      unsigned k = sc_splitstream_stripes(ss), wanted = 0;
      for (unsigned s = 0; s < k; s++)
        wanted += sc_splitstream_wants(ss, s);
      joined += sc_pastry_is_joined(sc_node_pastry_c(p->node));
      attached_all += p->forest_started && rt_peer_stripes_attached(p) >= wanted;
    }
    delivered += p->gens_delivered;
    lost += p->gens_lost;
    for (unsigned b = 0; b <= RT_LAT_BINS_MS; b++)
      lat[b] += p->lat_ms[b];
    if (h->out)
      for (unsigned b = 0; b <= RT_LAT_BINS_MS; b++)
        wlat[b] += h->out[i].lat_ms[b];
  }
  fprintf(f,
          "],\"totals\":{\"joined\":%" PRIu64 ",\"attached_all\":%" PRIu64
          ",\"gens_delivered\":%" PRIu64 ",\"gens_lost\":%" PRIu64 ",",
          joined, attached_all, delivered, lost);
  stats_counters(f, &tot);
  fputc(',', f);
  stats_latency(f, "latency", lat);
  if (h->out) {
    fputc(',', f);
    stats_latency(f, "write_latency", wlat);
  }
  fputs("}}\n", f);
}

int rt_stats_check(const char *path) {
  if (strcmp(path, "-") == 0) return 0;
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return -EISDIR;
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp)
    return -ENAMETOOLONG;
  FILE *f = fopen(tmp, "w");
  if (!f) return -errno;
  fclose(f);
  unlink(tmp);
  return 0;
}

int rt_stats_write(rt_host *h, const char *path) {
  h->stats_writes++;
  if (strcmp(path, "-") == 0) {
    stats_doc(stdout, h);
    fflush(stdout);
    return 0;
  }
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= sizeof tmp)
    return -ENAMETOOLONG;
  FILE *f = fopen(tmp, "w");
  if (!f) return -errno;
  stats_doc(f, h);
  if (fclose(f) != 0) {
    int e = errno;
    unlink(tmp);
    return -e;
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return -e;
  }
  return 0;
}
