/* failalloc.c — a failing allocator for tests (see failalloc.h). */
#include "failalloc.h"

#include <stdlib.h>

static int fa_take(failalloc *fa) {
  long i = fa->calls++;
  if (fa->fail_at < 0) return 1;
  return fa->budget ? i < fa->fail_at : i != fa->fail_at;
}

static void *fa_malloc(size_t size, void *user) {
  failalloc *fa = user;
  if (!fa_take(fa)) return NULL;
  void *p = malloc(size ? size : 1);
  if (p) fa->live++;
  return p;
}

static void fa_free(void *ptr, void *user) {
  failalloc *fa = user;
  if (ptr) fa->live--;
  free(ptr);
}

static void *fa_calloc(size_t nmemb, size_t size, void *user) {
  failalloc *fa = user;
  if (!fa_take(fa)) return NULL;
  void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
  if (p) fa->live++;
  return p;
}

static void *fa_realloc(void *ptr, size_t size, void *user) {
  failalloc *fa = user;
  if (!fa_take(fa)) return NULL;
  void *p = realloc(ptr, size ? size : 1);
  if (p && !ptr) fa->live++;
  return p;
}

void failalloc_init(failalloc *fa, long fail_at) {
  fa->alloc = (sc_alloc){fa, fa_malloc, fa_free, fa_calloc, fa_realloc};
  fa->fail_at = fail_at;
  fa->calls = 0;
  fa->live = 0;
  fa->budget = 0;
}

void failalloc_init_budget(failalloc *fa, long budget) {
  failalloc_init(fa, budget);
  fa->budget = 1;
}
