/*
 * arena.h — the simulator's allocator for peer state, on huge pages.
 *
 * A million peers hold ~3.5 GB of state in a few million small objects, and
 * every message touches one peer's at random. With 4 KiB pages each such
 * touch also misses the TLB (a page walk before the cache miss even starts,
 * which stalls software prefetches too); with 2 MiB pages the TLB covers
 * 4,000 times more. The arena reserves one range of address space, advises
 * the kernel to back it with transparent huge pages (MADV_HUGEPAGE), and
 * hands out objects from per-size-class slabs: sizes rounded up to 64 bytes,
 * so every object starts on a cache line (the core lays out its hot fields
 * by line). A request whose class has nothing free takes a free object of a
 * class at most a quarter larger, if there is one, before new memory is
 * carved. Larger objects go to libc. Not thread-safe; one per run.
 */
#ifndef SIM_ARENA_H
#define SIM_ARENA_H

#include <stddef.h>

#include "core/alloc.h"

#define SIM_ARENA_GRAIN        64          /* object sizes round up to this */
#define SIM_ARENA_GRAIN_PACKED 16          /* ... in a packed arena */
#define SIM_ARENA_OBJECT_MAX   (32u << 10) /* larger objects come from libc */
#define SIM_HUGE_PAGE          (2u << 20)

typedef struct sim_arena sim_arena;

/* Reserves reserve_bytes of address space (not memory). Returns 0, or -1
 * when the range cannot be reserved (the caller then uses libc). */
int sim_arena_new(sim_arena **out, size_t reserve_bytes);
void sim_arena_del(sim_arena *a);

/* The same with sizes rounded up to SIM_ARENA_GRAIN_PACKED (16) bytes: for
 * memory rather than speed. Each slab still holds one size class and starts
 * on a huge page, so an object whose size is a multiple of 64 (sc_pastry,
 * routing-table rows) still starts on a cache line; others may not. At a
 * million peers of the forest experiment the 64-byte rounding of Scribe's,
 * SplitStream's and the node's odd-sized objects cost ~0.2 GB. */
int sim_arena_new_packed(sim_arena **out, size_t reserve_bytes);

/* The sc_alloc that allocates from a (valid while a lives). Returns NULL when
 * the reservation is used up, like any allocator out of memory. */
const sc_alloc *sim_arena_alloc(sim_arena *a);

/* Bytes of the reservation handed out to slabs so far. */
size_t sim_arena_used_bytes(const sim_arena *a);

/* A zeroed, huge-page-advised block for a large array; release with free(). */
void *sim_huge_calloc(size_t nmemb, size_t size);

#endif
