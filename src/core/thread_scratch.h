/* Scratch memory of each thread that runs kernels: for a leaf kernel's
 * working copies (the register tiles' packed panels, ops/gemm_tiles.c)
 * that must not be taken and given back on every call, since which pool
 * thread runs which block of a kernel is up to timing, and a block cache
 * would now and then lack one block at a steady step. A pool's threads
 * take theirs as they start (on x86-64, where the tiles run); any other
 * thread at its first use. Freed when the thread exits. One user at a
 * time: a kernel must not call another that uses it while it holds it. */
#ifndef TFC_CORE_THREAD_SCRATCH_H
#define TFC_CORE_THREAD_SCRATCH_H

#define TFC_THREAD_SCRATCH_BYTES ((size_t)512 * 1024)

/* The calling thread's TFC_THREAD_SCRATCH_BYTES, 64-byte aligned; NULL
 * only when memory ran out. */
void *tfc_thread_scratch(void);

#endif
