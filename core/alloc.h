/*
 * alloc.h — the one allocator interface the core uses (docs/ARCHITECTURE.md §6).
 *
 * Tests inject failures through it (nghttp2's failmalloc); the simulator
 * counts bytes per peer through it. Every call passes the user pointer back.
 */
#ifndef SC_ALLOC_H
#define SC_ALLOC_H

#include <stddef.h>

typedef struct sc_alloc {
  void *user;
  void *(*malloc)(size_t size, void *user);
  void (*free)(void *ptr, void *user);
  void *(*calloc)(size_t nmemb, size_t size, void *user);
  void *(*realloc)(void *ptr, size_t size, void *user);
} sc_alloc;

/* The libc allocator. */
const sc_alloc *sc_alloc_default(void);

#endif
