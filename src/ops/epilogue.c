/* Bias and relu on a block of a product's output (see epilogue.h). */
#include "ops/epilogue.h"

#include "core/vector_clones.h"

#define EPILOGUE_ROWS(NAME, T)                                                                     \
    TFC_VECTOR_CLONES static void NAME(const tfc_epilogue *e, T *c, int64_t ldc, int64_t rows,     \
                                       int64_t c0, int64_t cols) {                                 \
        const T *restrict bias = e->bias ? (const T *)e->bias + c0 : NULL;                         \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            T *restrict row = c + r * ldc + c0;                                                    \
            if (bias)                                                                              \
                for (int64_t j = 0; j < cols; j++) row[j] = row[j] + bias[j];                      \
            if (e->relu)                                                                           \
                for (int64_t j = 0; j < cols; j++) row[j] = row[j] > 0 ? row[j] : (T)0;            \
        }                                                                                          \
    }
EPILOGUE_ROWS(rows_f, float)
EPILOGUE_ROWS(rows_d, double)

void tfc_epilogue_apply(const tfc_epilogue *e, tfc_dtype dt, void *c, int64_t ldc, int64_t rows,
                        int64_t c0, int64_t cols) {
    if (!e || (!e->bias && !e->relu) || rows <= 0 || cols <= 0) return;
    if (dt == TFC_FLOAT)
        rows_f(e, c, ldc, rows, c0, cols);
    else
        rows_d(e, c, ldc, rows, c0, cols);
}

typedef struct epilogue_job {
    const tfc_epilogue *e;
    tfc_dtype dt;
    char *c;
    int64_t n;
} epilogue_job;

static void epilogue_range(void *arg, int64_t begin, int64_t end) {
    const epilogue_job *j = arg;
    size_t row = (size_t)j->n * (j->dt == TFC_FLOAT ? sizeof(float) : sizeof(double));
    tfc_epilogue_apply(j->e, j->dt, j->c + (size_t)begin * row, j->n, end - begin, 0, j->n);
}

void tfc_epilogue_run(tfc_threadpool *pool, const tfc_epilogue *e, tfc_dtype dt, void *c, int64_t m,
                      int64_t n) {
    if (!e || (!e->bias && !e->relu) || m <= 0 || n <= 0) return;
    epilogue_job j = {e, dt, c, n};
    tfc_parallel_for(pool, m, 1 + 16384 / n, epilogue_range, &j);
}
