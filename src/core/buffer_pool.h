/* A cache of freed memory blocks by size class, so steady-state runs reuse
 * the buffers of earlier runs instead of asking malloc (and the kernel, for
 * big blocks, which glibc maps fresh and faults in page by page). */
#ifndef TFC_CORE_BUFFER_POOL_H
#define TFC_CORE_BUFFER_POOL_H

#include <stddef.h>

/* A 64-byte aligned block of at least `size` bytes, or NULL. */
void *tfc_block_alloc(size_t size);
/* Returns a block from tfc_block_alloc of the same `size` to the cache. */
void tfc_block_free(void *p, size_t size);
/* Hands every cached block back to the system (tests, shutdown). */
void tfc_block_cache_trim(void);
/* Blocks of `size`'s class the shared cache holds now, not counting the
 * calling thread's own few (tests). */
size_t tfc_block_cache_count(size_t size);
/* Blocks of `size`'s class the calling thread's own cache holds (tests). */
size_t tfc_block_cache_local_count(size_t size);

#endif
