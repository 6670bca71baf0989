/*
 * json.h — a tiny streaming JSON writer for the simulator's summaries.
 * Keys come in order; numbers print with enough digits to round-trip.
 */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/stats.h"

typedef struct sim_json {
  FILE *f;
  int depth;
  bool first[16]; /* per nesting level: no comma needed yet */
  bool pretty;
} sim_json;

void sim_json_begin(sim_json *j, FILE *f, bool pretty);
void sim_json_end(sim_json *j); /* closes the top object, prints a newline */
void sim_json_object(sim_json *j, const char *key); /* key NULL inside arrays */
void sim_json_object_end(sim_json *j);
void sim_json_array(sim_json *j, const char *key);
void sim_json_array_end(sim_json *j);
void sim_json_str(sim_json *j, const char *key, const char *v);
void sim_json_u64(sim_json *j, const char *key, uint64_t v);
void sim_json_i64(sim_json *j, const char *key, int64_t v);
void sim_json_f64(sim_json *j, const char *key, double v); /* NaN/inf -> null */
void sim_json_bool(sim_json *j, const char *key, bool v);
/* A 64-bit hash as 16 hex digits, a string (JSON numbers lose its low bits). */
void sim_json_hex64(sim_json *j, const char *key, uint64_t v);

/*
 * Table-driven fields: a summary is mostly "key": struct member, so a
 * command lists its members once, in output order, and sim_json_fields
 * writes them. A field reads member `off` of source `src` (an index into
 * the caller's array of structs: parameters, results, ...); its kind
 * follows from the member's type (SIM_JSON_FIELD), or is a digest.
 */
typedef enum sim_json_kind {
  SIM_JSON_U32,
  SIM_JSON_U64,
  SIM_JSON_F64,
  SIM_JSON_BOOL,
  SIM_JSON_HEX64,
} sim_json_kind;

typedef struct sim_json_field {
  const char *key;
  uint8_t kind; /* sim_json_kind */
  uint8_t src;
  uint32_t off;
} sim_json_field;

#define SIM_JSON_KIND_OF(x)                                                              \
  _Generic((x), uint32_t                                                                 \
           : SIM_JSON_U32, uint64_t                                                      \
           : SIM_JSON_U64, double                                                        \
           : SIM_JSON_F64, bool                                                          \
           : SIM_JSON_BOOL)
/* Member m of struct T (source src) under key. */
#define SIM_JSON_FIELD_AS(T, src, m, key)                                                \
  { key, SIM_JSON_KIND_OF(((T *)0)->m), src, (uint32_t)offsetof(T, m) }
/* The same under the member's own name. */
#define SIM_JSON_FIELD(T, src, m) SIM_JSON_FIELD_AS(T, src, m, #m)
/* Member m of T's sim_run_stats `run`, under m's name; its digest in hex. */
#define SIM_JSON_RUN(T, src, m) SIM_JSON_FIELD_AS(T, src, run.m, #m)
#define SIM_JSON_RUN_DIGEST(T, src)                                                      \
  { "trace_digest", SIM_JSON_HEX64, src, (uint32_t)offsetof(T, run.trace_digest) }

/* wall_s, events_per_s and peak_rss_mb, the last fields of every summary. */
void sim_json_machine(sim_json *j, const sim_machine_stats *m);

/* Writes fields f[0 .. n-1], each from srcs[f->src]. */
void sim_json_fields(sim_json *j, const sim_json_field *f, size_t n,
                     const void *const *srcs);
#define SIM_JSON_FIELDS(j, table, srcs)                                                  \
  sim_json_fields(j, table, sizeof(table) / sizeof(*(table)), srcs)

#endif
