/*
 * failalloc.h — an sc_alloc for tests that fails on demand (nghttp2's
 * failmalloc): run a scenario once to count its allocations, then
 * rerun it failing each one in turn. It also counts live blocks, so a test
 * can assert that every failure path freed what it took.
 */
#ifndef SC_TEST_FAILALLOC_H
#define SC_TEST_FAILALLOC_H

#include <stddef.h>

#include "core/alloc.h"

typedef struct failalloc {
  sc_alloc alloc; /* hand &fa->alloc to the code under test */
  long fail_at;   /* the allocation (counting from 0) that fails; -1: none */
  long calls;     /* allocations attempted so far */
  long live;      /* blocks allocated and not yet freed */
  int budget;     /* non-zero: every allocation from fail_at on fails */
} failalloc;

/* Resets counters; fail_at -1 never fails. Only allocation fail_at fails. */
void failalloc_init(failalloc *fa, long fail_at);

/* Resets counters; the first `budget` allocations succeed, every later one
 * fails (an allocator running out for good). Raise or lower the budget any
 * time by setting fail_at (counted from the first allocation). */
void failalloc_init_budget(failalloc *fa, long budget);

#endif
