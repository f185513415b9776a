/* The conditional accumulator resource (data/accumulator.h): the waiting
 * gradients, the global step, and the takes waiting for enough gradients
 * (in arrival order; the first that can be served is, after each change,
 * as TensorFlow's ConditionalAccumulatorBase::FlushUnlocked does). */
#include "data/accumulator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct take {
    struct take *next;
    int want;
    tfc_async_done *token; /* NULL while its kernel still runs */
    tfc_status status;
    tfc_tensor *out;
} take;

struct tfc_accumulator {
    tfc_resource res;
    pthread_mutex_t lock;
    char *name;
    tfc_dtype dtype;
    tfc_shape shape; /* the attr's, partial */
    int sum;
    int64_t global_step;
    int count, cap;
    tfc_tensor **grads; /* copies of the gradients applied since the last take */
    take *takes;        /* waiting, oldest first */
    int cancelled;
};

static void acc_free(tfc_resource *r) {
    tfc_accumulator *a = (tfc_accumulator *)r;
    for (int i = 0; i < a->count; i++) tfc_tensor_free(a->grads[i]);
    free(a->grads);
    free(a->name);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void acc_cancel(tfc_resource *r) { tfc_accumulator_cancel_all((tfc_accumulator *)r); }

static const tfc_resource_ops acc_ops = {"ConditionalAccumulator", acc_free, acc_cancel};

tfc_accumulator *tfc_accumulator_new(const char *name, tfc_dtype dtype, const tfc_shape *shape,
                                     int sum, char *why, size_t cap) {
    if (dtype != TFC_FLOAT && dtype != TFC_DOUBLE && dtype != TFC_INT32 && dtype != TFC_INT64) {
        snprintf(why, cap, "a ConditionalAccumulator holds float, double, int32 or int64, not %s",
                 tfc_dtype_name(dtype));
        return NULL;
    }
    tfc_accumulator *a = calloc(1, sizeof *a);
    char *n = strdup(name ? name : "");
    if (!a || !n) {
        free(a);
        free(n);
        snprintf(why, cap, "out of memory making an accumulator");
        return NULL;
    }
    tfc_resource_init(&a->res, &acc_ops);
    pthread_mutex_init(&a->lock, NULL);
    a->name = n;
    a->dtype = dtype;
    a->shape = shape ? *shape : tfc_shape_unknown();
    a->sum = sum;
    return a;
}

tfc_accumulator *tfc_accumulator_from_handle(const tfc_tensor *handle) {
    tfc_resource *r = tfc_tensor_resource(handle, 0);
    return r && r->ops == &acc_ops ? (tfc_accumulator *)r : NULL;
}

const char *tfc_accumulator_name(const tfc_accumulator *a) { return a->name; }

/* ---- the reduction ---- */

static int cmp_bytes(const void *x, const void *y) {
    const tfc_tensor *a = *(tfc_tensor *const *)x, *b = *(tfc_tensor *const *)y;
    return memcmp(a->data, b->data, a->nbytes);
}

#define SUM_LOOP(T)                                                                  \
    do {                                                                             \
        T *o = out->data;                                                            \
        memcpy(o, g[0]->data, out->nbytes);                                          \
        for (int k = 1; k < n; k++) {                                                \
            const T *x = g[k]->data;                                                 \
            for (int64_t i = 0; i < m; i++) o[i] += x[i];                            \
        }                                                                            \
        if (!a->sum)                                                                 \
            for (int64_t i = 0; i < m; i++) o[i] /= (T)n;                            \
    } while (0)

/* The sum (or mean) of the waiting gradients, in the order of their bytes;
 * NULL when memory runs out. */
static tfc_tensor *reduce(tfc_accumulator *a) {
    tfc_tensor **g = a->grads;
    int n = a->count;
    qsort(g, (size_t)n, sizeof *g, cmp_bytes);
    tfc_tensor *out = tfc_tensor_alloc(a->dtype, g[0]->rank, g[0]->dims);
    if (!out) return NULL;
    int64_t m = out->nelem;
    switch (a->dtype) {
    case TFC_FLOAT: SUM_LOOP(float); break;
    case TFC_DOUBLE: SUM_LOOP(double); break;
    case TFC_INT32: SUM_LOOP(int32_t); break;
    default: SUM_LOOP(int64_t); break;
    }
    return out;
}

/* Serves the waiting takes that can be served, in order; those served
 * (or failed) are moved to *done. Holds a->lock. */
static void flush_locked(tfc_accumulator *a, take **done) {
    while (a->takes && a->count >= a->takes->want && a->count > 0) {
        take *t = a->takes;
        a->takes = t->next;
        t->out = reduce(a);
        if (!t->out) {
            tfc_status_set(&t->status, TFC_RESOURCE_EXHAUSTED,
                           "out of memory taking the gradient of accumulator '%s'", a->name);
        } else {
            for (int i = 0; i < a->count; i++) tfc_tensor_free(a->grads[i]);
            a->count = 0;
            a->global_step++;
        }
        t->next = *done;
        *done = t;
    }
}

/* Replies for a take served later, through its token; frees it. */
static void finish_deferred(take *t) {
    if (t->status.code != TFC_OK)
        tfc_async_done_error(t->token, t->status.code, "%s", t->status.msg);
    else
        tfc_async_done_set_output(t->token, 0, t->out);
    tfc_async_done_finish(t->token);
    free(t);
}

static void finish_list(take *list, take *self) {
    while (list) {
        take *t = list;
        list = t->next;
        if (t != self) finish_deferred(t);
    }
}

void tfc_accumulator_cancel_all(tfc_accumulator *a) {
    take *done = NULL;
    pthread_mutex_lock(&a->lock);
    a->cancelled = 1;
    while (a->takes) {
        take *t = a->takes;
        a->takes = t->next;
        tfc_status_set(&t->status, TFC_CANCELLED, "TakeGrad operation was cancelled");
        t->next = done;
        done = t;
    }
    pthread_mutex_unlock(&a->lock);
    finish_list(done, NULL);
}

static void cancel_take(void *arg, tfc_async_done *token, const tfc_status *why) {
    tfc_accumulator *a = arg;
    (void)why;
    take *found = NULL;
    pthread_mutex_lock(&a->lock);
    for (take **p = &a->takes; *p; p = &(*p)->next)
        if ((*p)->token == token) {
            found = *p;
            *p = found->next;
            break;
        }
    pthread_mutex_unlock(&a->lock);
    if (found) {
        tfc_status_set(&found->status, TFC_CANCELLED, "TakeGrad operation was cancelled");
        finish_deferred(found);
    }
}

/* ---- the operations ---- */

static const char *dims_str(int rank, const int64_t *dims, char *buf, size_t n) {
    return tfc_dims_str(rank, dims, buf, n);
}

void tfc_accumulator_apply(tfc_accumulator *a, tfc_kernel_ctx *c, int64_t local_step,
                           const tfc_tensor *grad) {
    char x[96], y[96];
    if (grad->dtype != a->dtype) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "accumulator '%s' holds %s gradients, this one is %s", a->name,
                         tfc_dtype_name(a->dtype), tfc_dtype_name(grad->dtype));
        return;
    }
    tfc_shape gs = tfc_shape_make(grad->rank, grad->dims);
    if (!tfc_shape_compatible(&gs, &a->shape)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Shape mismatch: accumulator '%s' has shape %s, the gradient %s",
                         a->name, tfc_shape_str(&a->shape, x, sizeof x),
                         dims_str(grad->rank, grad->dims, y, sizeof y));
        return;
    }
    tfc_tensor *copy = NULL;
    take *done = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->cancelled) {
        pthread_mutex_unlock(&a->lock);
        tfc_kernel_error(c, TFC_CANCELLED, "accumulator '%s' was cancelled: its session is closing",
                         a->name);
        return;
    }
    if (local_step < a->global_step) { /* stale: dropped without a word, as in TensorFlow */
        pthread_mutex_unlock(&a->lock);
        return;
    }
    if (a->count > 0 && !tfc_tensor_same_shape(a->grads[0], grad)) {
        pthread_mutex_unlock(&a->lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Shape mismatch: accumulator '%s' holds gradients of shape %s, this one "
                         "has shape %s",
                         a->name, dims_str(a->grads[0]->rank, a->grads[0]->dims, x, sizeof x),
                         dims_str(grad->rank, grad->dims, y, sizeof y));
        return;
    }
    if (a->count == a->cap) {
        int nc = a->cap ? 2 * a->cap : 4;
        tfc_tensor **p = realloc(a->grads, sizeof *p * (size_t)nc);
        if (!p) goto oom;
        a->grads = p;
        a->cap = nc;
    }
    copy = tfc_tensor_copy(grad);
    if (!copy) goto oom;
    a->grads[a->count++] = copy;
    flush_locked(a, &done);
    pthread_mutex_unlock(&a->lock);
    finish_list(done, NULL);
    return;
oom:
    pthread_mutex_unlock(&a->lock);
    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory keeping a gradient in '%s'",
                     a->name);
}

void tfc_accumulator_start_take(tfc_accumulator *a, tfc_kernel_ctx *c, int num_required) {
    if (num_required <= 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Argument num_required must be positive, but was %d", num_required);
        return;
    }
    take *t = calloc(1, sizeof *t);
    if (!t) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    t->want = num_required;
    take *done = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->cancelled) {
        pthread_mutex_unlock(&a->lock);
        free(t);
        tfc_kernel_error(c, TFC_CANCELLED, "accumulator '%s' was cancelled: its session is closing",
                         a->name);
        return;
    }
    take **end = &a->takes;
    while (*end) end = &(*end)->next;
    *end = t;
    flush_locked(a, &done);
    int served = 0, waiting = 0;
    for (take *x = done; x; x = x->next) served |= x == t;
    if (!served) {
        /* wait without a thread; whoever serves it replies through the
         * token, which needs the lock first */
        t->token = tfc_kernel_defer(c, cancel_take, a);
        waiting = t->token != NULL;
        if (!waiting) { /* the run cannot wait */
            for (take **p = &a->takes; *p; p = &(*p)->next)
                if (*p == t) {
                    *p = t->next;
                    break;
                }
        }
    }
    pthread_mutex_unlock(&a->lock);
    /* a waiting t is not ours to touch any more: it may be served already */
    finish_list(done, t);
    if (served) {
        if (t->status.code != TFC_OK)
            tfc_kernel_error(c, t->status.code, "%s", t->status.msg);
        else
            tfc_kernel_set_output(c, 0, t->out);
        free(t);
    } else if (!waiting) {
        free(t);
        tfc_kernel_error(c, TFC_CANCELLED, "TakeGrad operation was cancelled");
    }
}

int32_t tfc_acc_num_accumulated(tfc_accumulator *a) {
    pthread_mutex_lock(&a->lock);
    int32_t n = a->count;
    pthread_mutex_unlock(&a->lock);
    return n;
}

void tfc_acc_set_global_step(tfc_accumulator *a, int64_t step) {
    pthread_mutex_lock(&a->lock);
    /* TensorFlow only warns about a step going back; so does tfc (not at
     * all: a chief restarting from an older checkpoint does this) */
    a->global_step = step;
    pthread_mutex_unlock(&a->lock);
}

int64_t tfc_acc_global_step(tfc_accumulator *a) {
    pthread_mutex_lock(&a->lock);
    int64_t s = a->global_step;
    pthread_mutex_unlock(&a->lock);
    return s;
}
