/* TFC_VECTOR_CLONES before a hot loop's function makes the compiler build
 * it three times, for AVX-512 (x86-64-v4), AVX2 (x86-64-v3) and the
 * baseline, and pick one at load time by the CPU: the portable build runs
 * everywhere and still uses the wider vectors where they exist (AVX-512
 * made the LSTM model 5% faster than AVX2 here). C11 without GNU
 * extensions compiles with -ffp-contract=off, so all clones give
 * bit-identical results. */
#ifndef TFC_CORE_VECTOR_CLONES_H
#define TFC_CORE_VECTOR_CLONES_H

/* Not under ThreadSanitizer: the clones' resolvers run while the program
 * is loaded, before TSan's runtime, and crash in its instrumentation. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 &&           \
    defined(__gnu_linux__) && !defined(__SANITIZE_THREAD__)
#define TFC_VECTOR_CLONES                                                                          \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TFC_VECTOR_CLONES
#endif

#endif
