/*
 * json.h — a tiny streaming JSON writer for the simulator's summaries.
 * Keys come in order; numbers print with enough digits to round-trip.
 */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
