/*
 * peerjson.c — /peer.json from a snapshot (peerjson.h). A bounded writer
 * that remembers overflow: every append after the first that does not fit
 * is a no-op, and the render reports SC_ERR_NOBUF once at the end.
 */
#include "http/peerjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

typedef struct pj_out {
  char *p;
  size_t cap, n;
  bool full;
} pj_out;

static void pj_raw(pj_out *o, const char *s, size_t len) {
  if (o->full) return;
  if (len >= o->cap - o->n) {
    o->full = true;
    return;
  }
  memcpy(o->p + o->n, s, len);
  o->n += len;
  o->p[o->n] = '\0';
}

static void pj_s(pj_out *o, const char *s) {
  pj_raw(o, s, strlen(s));
}

static void pj_f(pj_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pj_f(pj_out *o, const char *fmt, ...) {
  if (o->full) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= o->cap - o->n) {
    o->p[o->n] = '\0';
    o->full = true;
    return;
  }
  o->n += (size_t)k;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t left) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else
    return 0;
  if (left < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

/* s as a JSON string: quotes, backslashes and control characters escaped
 * (RFC 8259 §7), each byte that starts no valid UTF-8 sequence as U+FFFD.
 * At most max bytes of s are read (a field may lack its NUL). */
static void pj_str(pj_out *o, const char *str, size_t max) {
  /* A full writer appends nothing more: walking the bytes would only cost
   * time (a render into a short buffer took as long as a whole one). */
  if (o->full) return;
  const unsigned char *s = (const unsigned char *)str;
  size_t len = strnlen(str, max);
  pj_raw(o, "\"", 1);
  for (size_t i = 0; i < len && !o->full;) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      pj_raw(o, e, 2);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      pj_f(o, "\\u%04x", c);
      i++;
    } else {
      size_t k = utf8_seq(s + i, len - i);
      if (k == 0) {
        pj_s(o, "\\ufffd");
        i++;
      } else {
        pj_raw(o, str + i, k);
        i += k;
      }
    }
  }
  pj_raw(o, "\"", 1);
}

static void pj_bool(pj_out *o, const char *name, bool v) {
  pj_f(o, "\"%s\":%s", name, v ? "true" : "false");
}

static void pj_id(pj_out *o, const sc_id *id) {
  if (o->full) return; /* nothing more is appended (pj_str) */
  char hex[SC_ID_HEX_LEN + 1];
  sc_id_to_hex(id, hex);
  hex[SC_ID_HEX_LEN] = '\0';
  pj_f(o, "\"%s\"", hex);
}

static void pj_ref(pj_out *o, const sc_peerjson_ref *r) {
  pj_s(o, "{\"id\":");
  pj_id(o, &r->id);
  pj_s(o, ",\"addr\":");
  pj_str(o, r->addr, sizeof r->addr);
  pj_s(o, "}");
}

/* A rate or a share: finite and never negative, with three decimals. */
static void pj_num(pj_out *o, const char *name, double v) {
  if (!(v >= 0) || v > 1e15) v = 0; /* NaN, negative or absurd: 0 */
  pj_f(o, "\"%s\":%.3f", name, v);
}

/* delivered / (delivered + bad), or null with nothing resolved. */
static void pj_share(pj_out *o, const char *name, uint64_t good, uint64_t bad) {
  if (good + bad == 0)
    pj_f(o, "\"%s\":null", name);
  else
    pj_f(o, "\"%s\":%.6f", name, (double)good / (double)(good + bad));
}

static void pj_station(pj_out *o, const sc_peerjson_station *st) {
  pj_s(o, "{\"mount\":");
  pj_str(o, st->mount, sizeof st->mount);
  pj_s(o, ",\"content_type\":");
  pj_str(o, st->content_type, sizeof st->content_type);
  pj_s(o, ",\"name\":");
  pj_str(o, st->name, sizeof st->name);
  pj_s(o, ",\"title\":");
  pj_str(o, st->title, sizeof st->title);
  pj_f(o, ",\"listeners\":%u,\"page_bytes\":%u}", st->listeners, st->page_bytes);
}

static void pj_stripe(pj_out *o, unsigned i, const sc_peerjson_stripe *t) {
  pj_f(o, "{\"stripe\":%u,", i);
  pj_bool(o, "wanted", t->wanted);
  pj_raw(o, ",", 1);
  pj_bool(o, "attached", t->attached);
  pj_raw(o, ",", 1);
  pj_bool(o, "root", t->root);
  pj_s(o, ",\"parent\":");
  if (t->has_parent)
    pj_ref(o, &t->parent);
  else
    pj_s(o, "null");
  pj_f(o, ",\"children\":%u,\"child_list\":[", t->nchildren);
  unsigned listed =
      t->nchildren < SC_PEERJSON_CHILDREN_MAX ? t->nchildren : SC_PEERJSON_CHILDREN_MAX;
  for (unsigned c = 0; c < listed; c++) {
    if (c) pj_raw(o, ",", 1);
    pj_ref(o, &t->children[c]);
  }
  pj_f(o, "],\"chunks_in\":%llu,\"chunks_out\":%llu,\"chunks_missed\":%llu,",
       (unsigned long long)t->chunks_in, (unsigned long long)t->chunks_out,
       (unsigned long long)t->chunks_missed);
  pj_num(o, "in_per_s", t->in_per_s);
  pj_raw(o, ",", 1);
  pj_num(o, "out_per_s", t->out_per_s);
  pj_raw(o, "}", 1);
}

int sc_peerjson_render(const sc_peerjson_snapshot *s, char *out, size_t cap) {
  if (s == NULL || out == NULL || cap == 0) return SC_ERR_INVALID;
  if (s->nstations > SC_PEERJSON_STATIONS_MAX || s->nstripes > SC_PEERJSON_STRIPES_MAX ||
      s->nsamples > SC_PEERJSON_SAMPLES_MAX)
    return SC_ERR_INVALID;
  pj_out o = {.p = out, .cap = cap, .n = 0, .full = false};
  out[0] = '\0';
  pj_s(&o, "{\"node\":{\"id\":");
  pj_id(&o, &s->id);
  pj_s(&o, ",\"addr\":");
  pj_str(&o, s->addr, sizeof s->addr);
  pj_f(&o, ",\"role\":\"%s\",", s->source ? "broadcaster" : "listener");
  pj_num(&o, "uptime_s", s->uptime_s);
  pj_s(&o, "},\"stations\":[");
  for (uint32_t i = 0; i < s->nstations; i++) {
    if (i) pj_raw(&o, ",", 1);
    pj_station(&o, &s->stations[i]);
  }
  pj_s(&o, "],\"stream\":{");
  pj_bool(&o, "playing", s->playing);
  pj_f(&o, ",\"gens_delivered\":%llu,\"gens_bad\":%llu,",
       (unsigned long long)s->gens_delivered, (unsigned long long)s->gens_bad);
  pj_share(&o, "continuity", s->gens_delivered, s->gens_bad);
  unsigned attached = 0;
  for (uint32_t i = 0; i < s->nstripes; i++)
    attached += s->stripes[i].attached;
  pj_f(&o, "},\"stripes_attached\":%u,\"stripes\":[", attached);
  for (uint32_t i = 0; i < s->nstripes; i++) {
    if (i) pj_raw(&o, ",", 1);
    pj_stripe(&o, i, &s->stripes[i]);
  }
  pj_s(&o, "],\"continuity\":{");
  pj_num(&o, "period_s", s->sample_period_s);
  pj_s(&o, ",\"samples\":[");
  for (uint32_t i = 0; i < s->nsamples; i++) {
    const sc_peerjson_sample *m = &s->samples[i];
    if (i) pj_raw(&o, ",", 1);
    pj_raw(&o, "{", 1);
    pj_num(&o, "age_s", m->age_s);
    pj_f(&o, ",\"gens\":%llu,\"gens_bad\":%llu,", (unsigned long long)m->gens,
         (unsigned long long)m->gens_bad);
    pj_share(&o, "continuity", m->gens, m->gens_bad);
    pj_raw(&o, "}", 1);
  }
  pj_s(&o, "]}}");
  if (o.full) return SC_ERR_NOBUF;
  return (int)o.n;
}
