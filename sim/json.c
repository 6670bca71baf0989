/* json.c — streaming JSON writer (see json.h). */
#include "json.h"

#include <math.h>
#include <string.h>

static void json_sep(sim_json *j, const char *key) {
  if (!j->first[j->depth]) fputc(',', j->f);
  j->first[j->depth] = false;
  if (j->pretty) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
      fputs("  ", j->f);
  }
  if (key) {
    fputc('"', j->f);
    for (const char *c = key; *c; c++) {
      if (*c == '"' || *c == '\\') fputc('\\', j->f);
      fputc(*c, j->f);
    }
    fputs(j->pretty ? "\": " : "\":", j->f);
  }
}

static void json_open(sim_json *j, const char *key, char c) {
  json_sep(j, key);
  fputc(c, j->f);
  if (j->depth < 15) j->depth++;
  j->first[j->depth] = true;
}

static void json_close(sim_json *j, char c) {
  bool empty = j->first[j->depth];
  if (j->depth > 0) j->depth--;
  if (j->pretty && !empty) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
      fputs("  ", j->f);
  }
  fputc(c, j->f);
}

void sim_json_begin(sim_json *j, FILE *f, bool pretty) {
  j->f = f;
  j->depth = 0;
  j->pretty = pretty;
  fputc('{', f);
  j->depth = 1;
  j->first[1] = true;
}

void sim_json_end(sim_json *j) {
  json_close(j, '}');
  fputc('\n', j->f);
  fflush(j->f);
}

void sim_json_object(sim_json *j, const char *key) {
  json_open(j, key, '{');
}
void sim_json_object_end(sim_json *j) {
  json_close(j, '}');
}
void sim_json_array(sim_json *j, const char *key) {
  json_open(j, key, '[');
}
void sim_json_array_end(sim_json *j) {
  json_close(j, ']');
}

void sim_json_str(sim_json *j, const char *key, const char *v) {
  json_sep(j, key);
  fputc('"', j->f);
  for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(j->f, "\\%c", *c);
    else if (*c < 0x20)
      fprintf(j->f, "\\u%04x", *c);
    else
      fputc(*c, j->f);
  }
  fputc('"', j->f);
}

void sim_json_u64(sim_json *j, const char *key, uint64_t v) {
  json_sep(j, key);
  fprintf(j->f, "%llu", (unsigned long long)v);
}

void sim_json_i64(sim_json *j, const char *key, int64_t v) {
  json_sep(j, key);
  fprintf(j->f, "%lld", (long long)v);
}

void sim_json_f64(sim_json *j, const char *key, double v) {
  json_sep(j, key);
  if (isfinite(v))
    fprintf(j->f, "%.6g", v);
  else
    fputs("null", j->f);
}

void sim_json_bool(sim_json *j, const char *key, bool v) {
  json_sep(j, key);
  fputs(v ? "true" : "false", j->f);
}

void sim_json_hex64(sim_json *j, const char *key, uint64_t v) {
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)v);
  sim_json_str(j, key, hex);
}

/* A member's value, read by memcpy (a table's offsets carry no type) and
 * widened to 64 bits; a double's bits as they are. */
static uint64_t load_bits(const char *at, sim_json_kind kind) {
  uint32_t u32;
  bool b;
  uint64_t u64;
  switch (kind) {
  case SIM_JSON_U32:
    return *(uint32_t *)memcpy(&u32, at, sizeof(u32));
  case SIM_JSON_BOOL:
    return *(bool *)memcpy(&b, at, sizeof(b));
  default:
    return *(uint64_t *)memcpy(&u64, at, sizeof(u64));
  }
}

void sim_json_fields(sim_json *j, const sim_json_field *f, size_t n,
                     const void *const *srcs) {
  for (size_t i = 0; i < n; i++) {
    sim_json_kind kind = (sim_json_kind)f[i].kind;
    uint64_t v = load_bits((const char *)srcs[f[i].src] + f[i].off, kind);
    double d;
    if (kind == SIM_JSON_F64)
      sim_json_f64(j, f[i].key, *(double *)memcpy(&d, &v, sizeof(d)));
    else if (kind == SIM_JSON_BOOL)
      sim_json_bool(j, f[i].key, v != 0);
    else if (kind == SIM_JSON_HEX64)
      sim_json_hex64(j, f[i].key, v);
    else
      sim_json_u64(j, f[i].key, v);
  }
}

void sim_json_machine(sim_json *j, const sim_machine_stats *m) {
  sim_json_f64(j, "wall_s", m->wall_s);
  sim_json_f64(j, "events_per_s", m->events_per_s);
  sim_json_f64(j, "peak_rss_mb", m->peak_rss_mb);
}
