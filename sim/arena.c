/* arena.c — huge-page slab allocator for peer state (see arena.h). */
#define _GNU_SOURCE
#include "sim/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_CLASSES (SIM_ARENA_OBJECT_MAX / SIM_ARENA_GRAIN_PACKED)

struct sim_arena {
  sc_alloc iface;
  size_t grain;    /* SIM_ARENA_GRAIN or SIM_ARENA_GRAIN_PACKED */
  size_t classes;  /* SIM_ARENA_OBJECT_MAX / grain */
  uint8_t *base;   /* SIM_HUGE_PAGE aligned */
  size_t reserved; /* bytes of address space from base */
  size_t used;     /* bytes handed to slabs, from base */
  void *map;       /* the mapping (base rounded up within it) */
  size_t map_bytes;
  uint16_t *page_class; /* size class of each huge page in use */
  void *free_list[ARENA_CLASSES + 1];
  uint8_t *slab_cur[ARENA_CLASSES + 1], *slab_end[ARENA_CLASSES + 1];
};

static inline size_t arena_class(const sim_arena *a, size_t size) {
  return size == 0 ? 1 : (size + a->grain - 1) / a->grain;
}

static inline int arena_owns(const sim_arena *a, const void *p) {
  return (const uint8_t *)p >= a->base && (const uint8_t *)p < a->base + a->reserved;
}

static void *arena_malloc(size_t size, void *user) {
  sim_arena *a = user;
  size_t cls = arena_class(a, size);
  if (cls > a->classes) return malloc(size);
  void *p = a->free_list[cls];
  if (p == NULL) {
    /* Lend a free object of a slightly larger class (at most a quarter
     * larger) rather than carve new memory: it stays in its own class (its
     * page says which) and goes back there when freed. A million peers
     * growing their arrays together leave whole classes free behind them
     * (at 10^6 peers 0.25 GB of 4-row routing tables once every table has
     * five), which the next growing arrays can use this way. */
    size_t last = cls + cls / 4 < a->classes ? cls + cls / 4 : a->classes;
    for (size_t c = cls + 1; c <= last && p == NULL; c++)
      if (a->free_list[c]) p = a->free_list[cls = c];
  }
  if (p) {
    a->free_list[cls] = *(void **)p;
    return p;
  }
  size_t bytes = cls * a->grain;
  if ((size_t)(a->slab_end[cls] - a->slab_cur[cls]) < bytes) {
    if (a->used + SIM_HUGE_PAGE > a->reserved) return NULL;
    uint8_t *page = a->base + a->used;
    a->page_class[a->used / SIM_HUGE_PAGE] = (uint16_t)cls;
    a->used += SIM_HUGE_PAGE;
    a->slab_cur[cls] = page;
    a->slab_end[cls] = page + SIM_HUGE_PAGE;
  }
  p = a->slab_cur[cls];
  a->slab_cur[cls] += bytes;
  return p;
}

static void arena_free(void *ptr, void *user) {
  sim_arena *a = user;
  if (ptr == NULL) return;
  if (!arena_owns(a, ptr)) {
    free(ptr);
    return;
  }
  size_t cls = a->page_class[((uint8_t *)ptr - a->base) / SIM_HUGE_PAGE];
  *(void **)ptr = a->free_list[cls];
  a->free_list[cls] = ptr;
}

static void *arena_calloc(size_t nmemb, size_t size, void *user) {
  if (size && nmemb > SIZE_MAX / size) return NULL;
  void *p = arena_malloc(nmemb * size, user);
  if (p) memset(p, 0, nmemb * size);
  return p;
}

static void *arena_realloc(void *ptr, size_t size, void *user) {
  sim_arena *a = user;
  if (ptr == NULL) return arena_malloc(size, user);
  if (!arena_owns(a, ptr)) {
    if (arena_class(a, size) > a->classes) return realloc(ptr, size);
    /* From libc to the arena: the old size is unknown, but it was larger
     * than any class, hence larger than size. */
    void *n = arena_malloc(size, user);
    if (n == NULL) return NULL;
    memcpy(n, ptr, size);
    free(ptr);
    return n;
  }
  size_t cls = a->page_class[((uint8_t *)ptr - a->base) / SIM_HUGE_PAGE];
  if (arena_class(a, size) == cls) return ptr;
  void *n = arena_malloc(size, user);
  if (n == NULL) return NULL;
  size_t old = cls * a->grain;
  memcpy(n, ptr, old < size ? old : size);
  arena_free(ptr, user);
  return n;
}

static int arena_new(sim_arena **out, size_t reserve_bytes, size_t grain) {
  *out = NULL;
  sim_arena *a = calloc(1, sizeof(*a));
  if (a == NULL) return -1;
  a->grain = grain;
  a->classes = SIM_ARENA_OBJECT_MAX / grain;
  size_t pages = (reserve_bytes + SIM_HUGE_PAGE - 1) / SIM_HUGE_PAGE;
  a->reserved = pages * SIM_HUGE_PAGE;
  a->map_bytes = a->reserved + SIM_HUGE_PAGE; /* room to align */
  a->map = mmap(NULL, a->map_bytes, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  a->page_class = calloc(pages ? pages : 1, sizeof(uint16_t));
  if (a->map == MAP_FAILED || a->page_class == NULL) {
    if (a->map != MAP_FAILED) munmap(a->map, a->map_bytes);
    free(a->page_class);
    free(a);
    return -1;
  }
  uintptr_t b = ((uintptr_t)a->map + SIM_HUGE_PAGE - 1) & ~(uintptr_t)(SIM_HUGE_PAGE - 1);
  a->base = (uint8_t *)b;
  (void)madvise(a->base, a->reserved, MADV_HUGEPAGE); /* a hint: fine if refused */
  a->iface.user = a;
  a->iface.malloc = arena_malloc;
  a->iface.free = arena_free;
  a->iface.calloc = arena_calloc;
  a->iface.realloc = arena_realloc;
  *out = a;
  return 0;
}

int sim_arena_new(sim_arena **out, size_t reserve_bytes) {
  return arena_new(out, reserve_bytes, SIM_ARENA_GRAIN);
}

int sim_arena_new_packed(sim_arena **out, size_t reserve_bytes) {
  return arena_new(out, reserve_bytes, SIM_ARENA_GRAIN_PACKED);
}

void sim_arena_del(sim_arena *a) {
  if (a == NULL) return;
  munmap(a->map, a->map_bytes);
  free(a->page_class);
  free(a);
}

const sc_alloc *sim_arena_alloc(sim_arena *a) {
  return &a->iface;
}

size_t sim_arena_used_bytes(const sim_arena *a) {
  return a->used;
}

void *sim_huge_calloc(size_t nmemb, size_t size) {
  if (size && nmemb > SIZE_MAX / size) return NULL;
  size_t bytes = nmemb * size;
  if (bytes < SIM_HUGE_PAGE) return calloc(nmemb ? nmemb : 1, size ? size : 1);
  size_t rounded = (bytes + SIM_HUGE_PAGE - 1) / SIM_HUGE_PAGE * SIM_HUGE_PAGE;
  void *p = NULL;
  if (posix_memalign(&p, SIM_HUGE_PAGE, rounded) != 0) return NULL;
  (void)madvise(p, rounded, MADV_HUGEPAGE);
  memset(p, 0, rounded);
  return p;
}
