/* output.c — see output.h. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

/* ------------------------------------------------------------ queue */

static void out_fail(rt_output *o, int err) {
  if (o->failed) return;
  o->failed = true;
  fprintf(stderr, "stripecast: output: %s (output stopped)\n", strerror(err));
  /* What stays queued is never written. */
  o->st.bytes_dropped += o->qlen;
  o->qlen = 0;
}

/* Writes from the queue until it is empty or the output would block. */
static void out_drain(rt_output *o) {
  while (o->qlen > 0 && !o->failed) {
    size_t cap = RT_OUTPUT_QUEUE_BYTES;
    size_t run = cap - o->qhead < o->qlen ? cap - o->qhead : o->qlen;
    ssize_t n = write(o->fd, o->q + o->qhead, run);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      out_fail(o, errno);
      break;
    }
    o->qhead = (o->qhead + (size_t)n) % cap;
    o->qlen -= (size_t)n;
    o->st.bytes_written += (uint64_t)n;
  }
  if (o->qlen > 0 && !o->failed) {
    if (!ev_is_active(&o->wio)) ev_io_start(o->loop, &o->wio);
  } else if (ev_is_active(&o->wio)) {
    ev_io_stop(o->loop, &o->wio);
  }
  if (o->ended && (o->qlen == 0 || o->failed) && !o->closed) rt_output_close(o);
}

static void out_wio_cb(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)revents;
  out_drain(w->data);
}

/* Queues one whole record's bytes, or drops all of them. Returns true when
 * queued. */
static bool out_put(rt_output *o, const uint8_t *data, size_t len) {
  if (o->fd < 0) {
    /* A relaying peer: nothing to write, nothing missed. */
    o->st.bytes_written += len;
    o->st.records_written++;
    return true;
  }
  if (o->failed || o->closed || o->qlen + len > RT_OUTPUT_QUEUE_BYTES) {
    o->st.records_dropped++;
    o->st.bytes_dropped += len;
    return false;
  }
  size_t cap = RT_OUTPUT_QUEUE_BYTES;
  size_t tail = (o->qhead + o->qlen) % cap;
  size_t first = cap - tail < len ? cap - tail : len;
  memcpy(o->q + tail, data, first);
  memcpy(o->q, data + first, len - first);
  o->qlen += len;
  if (o->qlen > o->st.queue_max) o->st.queue_max = o->qlen;
  o->st.records_written++;
  out_drain(o);
  return true;
}

/* ------------------------------------------------------------ station */

static bool container_has_headers(const char *c) {
  return strcmp(c, "ogg") == 0 || strcmp(c, "webm") == 0 || strcmp(c, "mpegts") == 0;
}

/* The epoch's first generation and INFO's epoch= are both known: if the
 * listener had subscribed before the source began, the generations before
 * its first are missed, as is the media skipped while waiting. */
static void out_resolve_epoch(rt_output *o, const char *info) {
  if (o->epoch_resolved || !o->epoch_first_seen) return;
  char v[24];
  /* started= (the broadcast's start) where the source says it, else the
   * epoch (its peer's start), both in tenths of a second. */
  if (!sc_station_info_get(info, "started", v, sizeof v) &&
      !sc_station_info_get(info, "epoch", v, sizeof v))
    return;
  o->epoch_resolved = true;
  uint64_t epoch_ds = strtoull(v, NULL, 10);
  if (o->present_rt_ds == 0 || epoch_ds < o->present_rt_ds) {
    o->pre_bytes = o->pre_records = 0; /* a late listener: not missed */
    return;
  }
  o->st.gens_missed_at_start += o->epoch_first_gen;
  o->st.records_dropped += o->pre_records;
  o->st.bytes_dropped += o->pre_bytes;
  o->pre_bytes = o->pre_records = 0;
}

static void out_write_headers(rt_output *o) {
  const uint8_t *h;
  size_t hlen;
  sc_station_reader_headers(o->reader, &h, &hlen);
  if (hlen == 0) return;
  if (out_put(o, h, hlen)) {
    o->st.headers_written++;
    uint8_t *w = realloc(o->written, hlen);
    if (w) {
      memcpy(w, h, hlen);
      o->written = w;
      o->writtenlen = hlen;
    }
  } else {
    o->gap = true;
  }
  o->new_link = false;
}

/* END: the output closes once what is queued is written (a player at the
 * end of a pipe then sees EOF); the process's exit writes the rest. */
static void out_end(rt_output *o) {
  o->ended = true;
  o->pre_records += o->held_records; /* never played: skipped */
  o->pre_bytes += o->heldlen;
  o->heldlen = 0;
  o->held_records = 0;
  if (o->qlen == 0) rt_output_close(o);
}

/* Media before the station's state is known: held from a sync point on
 * (rt_output.held), counted as skipped when they cannot be. */
static void out_hold(rt_output *o, sc_station_record_type type, const uint8_t *data,
                     size_t len) {
  bool fits = o->heldlen + len <= RT_OUTPUT_HOLD_BYTES;
  if (type == SC_STATION_MEDIA_SYNC && (!fits || o->heldlen == 0)) {
    o->pre_records += o->held_records; /* start afresh at this sync point */
    o->pre_bytes += o->heldlen;
    o->heldlen = 0;
    o->held_records = 0;
    fits = len <= RT_OUTPUT_HOLD_BYTES;
  }
  if (!fits || (o->heldlen == 0 && type != SC_STATION_MEDIA_SYNC)) {
    o->pre_records++;
    o->pre_bytes += len;
    return;
  }
  if (o->held == NULL && (o->held = malloc(RT_OUTPUT_HOLD_BYTES)) == NULL) {
    o->pre_records++;
    o->pre_bytes += len;
    return;
  }
  if (o->heldlen == 0) o->held_src_ts_ns = o->cur_src_ts_ns;
  memcpy(o->held + o->heldlen, data, len);
  o->heldlen += len;
  o->held_records++;
}

static void out_hold_drop(rt_output *o) {
  o->heldlen = 0;
  o->held_records = 0;
}

/* Media may play: INFO (and the headers its container needs) are known. */
static bool out_ready(const rt_output *o) {
  return o->info_seen && (!o->need_headers || o->headers_seen);
}

/* Begins playing: the headers, then what was held for them. */
static void out_start(rt_output *o) {
  o->playing = true;
  o->gap = false;
  if (!o->stream_info) o->st.started_on_fetched_state = true;
  /* A container without codec headers (MP3, AAC) starts with its media:
   * the reader may still hold an earlier session's headers. */
  if (o->need_headers)
    out_write_headers(o);
  else
    o->new_link = false;
  if (o->heldlen == 0) return;
  if (out_put(o, o->held, o->heldlen)) o->st.records_written += o->held_records - 1;
  out_hold_drop(o);
}

static void on_record(void *user, sc_station_record_type type, const uint8_t *data,
                      size_t len) {
  rt_output *o = user;
  /* Only the stream's own records: bytes a generation starts with that
   * belong to a record begun before the listener's first are a late start,
   * also when a fetched state was read in between. */
  if (!o->in_state) o->epoch_record = true;
  switch (type) {
  case SC_STATION_INFO: {
    const char *info = sc_station_reader_info(o->reader);
    char v[24];
    o->info_seen = true;
    if (!o->in_state) o->stream_info = true;
    o->need_headers =
        sc_station_info_get(info, "container", v, sizeof v) && container_has_headers(v);
    if (sc_station_info_get(info, "session", v, sizeof v) && strcmp(v, o->session) != 0) {
      /* A new session: its headers begin a new link, and its media wait
       * for them. */
      if (o->session[0]) {
        o->st.sessions++;
        o->new_link = true;
        o->headers_seen = false;
        o->playing = false;
        out_hold_drop(o);
      }
      snprintf(o->session, sizeof o->session, "%s", v);
    }
    out_resolve_epoch(o, info);
    break;
  }
  case SC_STATION_HEADERS:
    o->headers_seen = true;
    /* Playing, new bytes (a chained link): write them where they are. A
     * repeat of what was written is not. */
    if (o->playing && o->need_headers &&
        (o->new_link || len != o->writtenlen ||
         (len && memcmp(data, o->written, len) != 0)))
      out_write_headers(o);
    break;
  case SC_STATION_MEDIA_SYNC:
  case SC_STATION_MEDIA:
    if (!o->playing) {
      if (!out_ready(o)) {
        out_hold(o, type, data, len);
        break;
      }
      if (type != SC_STATION_MEDIA_SYNC) {
        o->pre_records++;
        o->pre_bytes += len;
        break;
      }
      out_start(o);
    }
    if (o->gap) {
      if (type != SC_STATION_MEDIA_SYNC) {
        o->st.records_dropped++;
        o->st.bytes_dropped += len;
        break;
      }
      o->gap = false;
    }
    if (!out_put(o, data, len)) o->gap = true;
    break;
  case SC_STATION_END:
    out_end(o);
    break;
  case SC_STATION_TITLE:
  case SC_STATION_LISTENERS: /* for the status pages (runtime/status.h) */
  case SC_STATION_PAGE:      /* kept by the reader for the state it answers with */
    break;
  case SC_STATION_STATE_SIG:
    if (len == SC_STATION_SIG_BYTES && !o->in_state) {
      memcpy(o->state_sig, data, len);
      o->state_sig_ok = true;
    }
    break;
  }
  /* A state record from the stream: unsigned until its STATE_SIG follows. */
  if (!o->in_state &&
      (type == SC_STATION_INFO || type == SC_STATION_HEADERS || type == SC_STATION_TITLE))
    o->state_sig_ok = false;
  if (!o->playing && o->heldlen > 0 && out_ready(o)) out_start(o);
}

/* What the reader counted since the last look: a loss means a gap. */
static void out_reader_delta(rt_output *o, bool had_record) {
  sc_station_reader_stats now;
  sc_station_reader_get_stats(o->reader, &now);
  uint64_t lost = now.gens_lost - o->rs.gens_lost;
  uint64_t cut = now.records_cut - o->rs.records_cut;
  uint64_t bytes = now.bytes_dropped - o->rs.bytes_dropped;
  o->st.gens_lost += lost;
  o->st.records_cut += cut;
  /* Bytes before the epoch's first record are a late start, not a loss. */
  if (had_record || lost || cut) o->st.bytes_cut += bytes;
  if (lost || cut) o->gap = true;
  o->rs = now;
}

/* ------------------------------------------------------------ API */

int rt_output_open(rt_output *o, struct ev_loop *loop, const char *path, bool station) {
  memset(o, 0, sizeof *o);
  o->loop = loop;
  o->fd = -1;
  o->station = station;
  if (station && sc_station_reader_new(&o->reader, on_record, o, NULL) != SC_OK)
    return -ENOMEM;
  if (!path) return 0;
  o->q = malloc(RT_OUTPUT_QUEUE_BYTES);
  if (!o->q) {
    sc_station_reader_del(o->reader);
    return -ENOMEM;
  }
  if (strcmp(path, "-") == 0) {
    o->fd = STDOUT_FILENO;
  } else {
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
      int e = errno;
      free(o->q);
      sc_station_reader_del(o->reader);
      return -e;
    }
    o->owns_fd = true;
  }
  /* A pipe or socket (a player) may not keep up: never block the peer on
   * it; the queue holds what it cannot take yet. */
  struct stat st;
  if (fstat(o->fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    int fl = fcntl(o->fd, F_GETFL);
    if (fl >= 0) (void)fcntl(o->fd, F_SETFL, fl | O_NONBLOCK);
  }
  ev_io_init(&o->wio, out_wio_cb, o->fd, EV_WRITE);
  o->wio.data = o;
  return 0;
}

void rt_output_close(rt_output *o) {
  if (o->closed) return;
  o->closed = true;
  if (o->fd >= 0) {
    if (o->qlen > 0 && !o->failed) {
      /* The last of it: wait for the reader (a player at the end of a pipe
       * reads on), at most until it fails. */
      int fl = fcntl(o->fd, F_GETFL);
      if (fl >= 0) (void)fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK);
      out_drain(o);
    }
    if (ev_is_active(&o->wio)) ev_io_stop(o->loop, &o->wio);
    /* stdout too: a player reading the pipe sees EOF now. */
    close(o->fd);
    o->fd = -1;
  }
  free(o->q);
  o->q = NULL;
  o->qlen = 0;
}

void rt_output_free(rt_output *o) {
  rt_output_close(o);
  sc_station_reader_del(o->reader);
  o->reader = NULL;
  free(o->written);
  o->written = NULL;
  free(o->held);
  o->held = NULL;
}

void rt_output_present(rt_output *o, uint64_t realtime_ds) {
  if (o->present_rt_ds == 0) o->present_rt_ds = realtime_ds;
}

static void out_epoch_gen(rt_output *o, uint64_t gen) {
  if (o->epoch_first_seen) return;
  o->epoch_first_seen = true;
  o->epoch_first_gen = gen;
  /* INFO may have come already (a repeat read before the first delivery is
   * impossible; this is for a restart within an epoch). */
  if (o->reader) out_resolve_epoch(o, sc_station_reader_info(o->reader));
}

/* The delivery of a generation stamped src_ts_ns wrote records: its
 * latency, and the first write. */
static void out_note_write(rt_output *o, uint64_t records_before, uint64_t src_ts_ns,
                           uint64_t now) {
  if (o->st.records_written == records_before) return;
  if (!o->wrote_any) {
    o->wrote_any = true;
    o->first_write_ns = now;
  }
  uint64_t ms = now > src_ts_ns ? (now - src_ts_ns) / 1000000 : 0;
  o->lat_ms[ms < RT_OUTPUT_LAT_BINS_MS ? ms : RT_OUTPUT_LAT_BINS_MS]++;
}

void rt_output_deliver(rt_output *o, uint64_t gen, const uint8_t *data, size_t datalen,
                       uint64_t src_ts_ns, uint64_t now) {
  if (o->ended) return;
  o->st.gens++;
  o->st.gen_bytes += datalen;
  out_epoch_gen(o, gen);
  uint64_t before = o->st.records_written;
  if (!o->station) {
    if (data) out_put(o, data, datalen);
    out_note_write(o, before, src_ts_ns, now);
    return;
  }
  if (!data) return;
  bool had = o->epoch_record;
  /* Held media written now are older than this generation. */
  uint64_t stamp = o->heldlen ? o->held_src_ts_ns : src_ts_ns;
  o->cur_src_ts_ns = src_ts_ns;
  sc_station_reader_gen(o->reader, gen, data, datalen);
  out_reader_delta(o, had);
  out_note_write(o, before, stamp, now);
}

void rt_output_lost(rt_output *o, uint64_t gen) {
  if (o->ended) return;
  out_epoch_gen(o, gen);
  if (!o->station) {
    o->st.gens_lost++;
    return;
  }
  sc_station_reader_lost(o->reader, gen);
  out_reader_delta(o, o->epoch_record);
}

void rt_output_restarted(rt_output *o, bool new_epoch) {
  if (o->ended || !new_epoch) return; /* same epoch: numbering goes on */
  o->st.epochs++;
  o->epoch_first_seen = false;
  o->epoch_resolved = false;
  o->epoch_record = false;
  o->pre_bytes = o->pre_records = 0;
  out_hold_drop(o);
  if (!o->station) return;
  sc_station_reader_restart(o->reader);
  out_reader_delta(o, true);
  o->gap = false;
  /* The new source's INFO and headers come first; its media wait for them
   * and its headers are written even if they repeat the last bytes. */
  o->info_seen = false;
  o->headers_seen = false;
  o->playing = false;
  o->new_link = o->writtenlen > 0;
  o->session[0] = '\0';
  o->state_asked = false;
  o->page_asked = false;
  o->stream_info = false;
}

/* INFO says the station has a page (page=) that the reader does not hold. */
static bool out_page_missing(const rt_output *o) {
  const uint8_t *page;
  size_t plen;
  char v[16];
  sc_station_reader_page(o->reader, &page, &plen);
  return plen == 0 &&
         sc_station_info_get(sc_station_reader_info(o->reader), "page", v, sizeof v);
}

bool rt_output_wants_state(const rt_output *o) {
  if (!o->station || o->ended || o->state_asked || o->st.gens == 0) return false;
  /* The page follows INFO in the stream, before the media: one that plays
   * without it missed it (joined after it went by, or lost it). */
  return !o->info_seen || (o->playing && !o->page_asked && out_page_missing(o));
}

size_t rt_output_state(const rt_output *o, uint8_t *buf, size_t cap) {
  if (!o->station || !o->reader || !o->info_seen) return 0;
  if (o->signed_state && !o->state_sig_ok) return 0; /* nothing it can prove */
  const uint8_t *h, *page;
  size_t hlen, plen;
  sc_station_reader_headers(o->reader, &h, &hlen);
  sc_station_reader_page(o->reader, &page, &plen);
  const char *info = sc_station_reader_info(o->reader);
  const char *title = sc_station_reader_title(o->reader);
  /* The station's page too, when it fits (beside the signature of a signed
   * station's state, as its broadcaster decides): a late listener serves it
   * at once. */
  if (!o->signed_state) {
    int n = sc_station_state_encode(buf, cap, info, h, hlen, title);
    return n > 0 ? sc_station_state_add_page(buf, cap, (size_t)n, page, plen) : 0;
  }
  /* Signed: rebuilt as the broadcaster built the state it signed, with the
   * signature the stream brought. */
  int n = sc_station_state_encode_signable(buf, cap, info, h, hlen, title, page, plen);
  return n > 0 ? sc_station_state_append_sig(buf, cap, (size_t)n, o->state_sig) : 0;
}

void rt_output_state_got(rt_output *o, const uint8_t *data, size_t len,
                         const uint8_t *sig, uint64_t now) {
  /* The stream brought INFO first: the answer may still bring the page. */
  if (o->station && !o->ended && o->info_seen && out_page_missing(o) &&
      sc_station_reader_state_page(o->reader, data, len) == SC_OK) {
    o->st.page_fetched++;
    return;
  }
  if (!o->station || o->ended || o->info_seen) {
    o->st.state_ignored++;
    return;
  }
  o->in_state = true;
  bool held = o->heldlen > 0;
  uint64_t before = o->st.records_written;
  int rc = sc_station_reader_state(o->reader, data, len);
  o->in_state = false;
  if (held && o->heldlen == 0) out_note_write(o, before, o->held_src_ts_ns, now);
  if (rc == SC_OK && sig) {
    memcpy(o->state_sig, sig, SC_STATION_SIG_BYTES);
    o->state_sig_ok = true;
  }
  if (rc == SC_OK && o->info_seen)
    o->st.state_fetched++;
  else
    o->st.state_ignored++;
}

uint64_t rt_output_missed_bytes_est(const rt_output *o) {
  uint64_t n = o->st.gens_lost + o->st.gens_missed_at_start;
  if (n == 0) return 0;
  uint64_t mean = o->st.gens ? o->st.gen_bytes / o->st.gens : 0;
  return n * mean;
}

double rt_output_continuity(const rt_output *o) {
  uint64_t missed = o->st.bytes_dropped + o->st.bytes_cut + rt_output_missed_bytes_est(o);
  uint64_t want = o->st.bytes_written + o->qlen + missed;
  if (want == 0) return 1.0;
  return (double)(o->st.bytes_written + o->qlen) / (double)want;
}
