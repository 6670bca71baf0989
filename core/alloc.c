/* alloc.c — the default (libc) allocator (see alloc.h). */
#include "alloc.h"

#include <stdlib.h>

static void *libc_malloc(size_t size, void *user) {
  (void)user;
  return malloc(size);
}
static void libc_free(void *ptr, void *user) {
  (void)user;
  free(ptr);
}
static void *libc_calloc(size_t nmemb, size_t size, void *user) {
  (void)user;
  return calloc(nmemb, size);
}
static void *libc_realloc(void *ptr, size_t size, void *user) {
  (void)user;
  return realloc(ptr, size);
}

static const sc_alloc libc_alloc = {NULL, libc_malloc, libc_free, libc_calloc,
                                    libc_realloc};

const sc_alloc *sc_alloc_default(void) {
  return &libc_alloc;
}
