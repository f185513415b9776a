/* Tensors: creation, reference counting and element access; the storage
 * of string tensors' bytes and of resource handles. */
#include "core/tensor.h"

#include "core/buffer_pool.h"
#include "core/dtype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t tfc_dims_num_elements(int rank, const int64_t *dims) {
    int64_t n = 1; /* (an overflow check without a division: one per dim of every tensor made) */
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || __builtin_mul_overflow(n, dims[i], &n)) return -1;
    return n;
}

const char *tfc_dims_str(int rank, const int64_t *dims, char *buf, size_t n) {
    size_t k = 0;
    if (rank < 0) {
        snprintf(buf, n, "<unknown>");
        return buf;
    }
    k += snprintf(buf + k, n - k, "[");
    for (int i = 0; i < rank && k < n; i++) {
        if (dims[i] < 0)
            k += snprintf(buf + k, n - k, "%s?", i ? "," : "");
        else
            k += snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    }
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

/* Header bytes before the data, keeping the data 64-byte aligned. */
#define TENSOR_HEADER (((sizeof(tfc_tensor) + 63) / 64) * 64)
/* the header takes two cache lines on 64-bit targets, string fields included */
_Static_assert(sizeof(void *) != 8 || TENSOR_HEADER == 128, "tensor header grew");

static tfc_tensor *header_init(tfc_tensor *t, size_t block, tfc_dtype dtype, int rank,
                               const int64_t *dims, int64_t n) {
    atomic_init(&t->refcount, 1);
    t->dtype = dtype;
    t->rank = rank;
    t->flags = 0;
    memset(t->dims, 0, sizeof t->dims);
    if (rank) memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    t->nelem = n;
    t->nbytes = (size_t)n * tfc_dtype_bytes(dtype);
    t->block_size = block;
    t->base = NULL;
    t->strings = NULL;
    t->data = (char *)t + TENSOR_HEADER;
    return t;
}

/* String and resource tensors hold pointers: they start zeroed (empty
 * strings, no resources), so freeing a half-filled one is safe. */
static int holds_pointers(tfc_dtype dt) { return dt == TFC_STRING || dt == TFC_RESOURCE; }

tfc_tensor *tfc_tensor_alloc(tfc_dtype dtype, int rank, const int64_t *dims) {
    size_t esize = tfc_dtype_bytes(dtype);
    if (!esize || rank < 0 || rank > TFC_MAX_RANK || (rank && !dims)) return NULL;
    int64_t n = tfc_dims_num_elements(rank, dims);
    size_t twice; /* n * esize may take at most half the address space */
    if (n < 0 || __builtin_mul_overflow((size_t)n, 2 * esize, &twice)) return NULL;
    size_t block = TENSOR_HEADER + (((size_t)n * esize + 63) & ~(size_t)63);
    tfc_tensor *t = tfc_block_alloc(block);
    if (!t) return NULL;
    header_init(t, block, dtype, rank, dims, n);
    if (holds_pointers(dtype)) {
        if (t->nbytes == sizeof(tfc_string))
            memset(t->data, 0, sizeof(tfc_string)); /* a string scalar: two stores, no call */
        else
            memset(t->data, 0, t->nbytes);
    }
    return t;
}

tfc_tensor *tfc_tensor_alias(tfc_tensor *t, int rank, const int64_t *dims) {
    if (!t || rank < 0 || rank > TFC_MAX_RANK) return NULL;
    int64_t n = tfc_dims_num_elements(rank, dims);
    if (n != t->nelem) return NULL;
    tfc_tensor *a = tfc_block_alloc(TENSOR_HEADER);
    if (!a) return NULL;
    header_init(a, TENSOR_HEADER, t->dtype, rank, dims, n);
    a->flags = t->flags;
    a->data = t->data;
    a->base = tfc_tensor_ref(t->base ? t->base : t);
    return a;
}

tfc_tensor *tfc_tensor_new(tfc_dtype dtype, int rank, const int64_t *dims) {
    tfc_tensor *t = tfc_tensor_alloc(dtype, rank, dims);
    if (t) memset(t->data, 0, t->nbytes);
    return t;
}

static tfc_tensor *strings_from_views(int rank, const int64_t *dims, const tfc_string *v);

tfc_tensor *tfc_tensor_from_data(tfc_dtype dtype, int rank, const int64_t *dims,
                                 const void *data) {
    if (dtype == TFC_STRING && data) return strings_from_views(rank, dims, data);
    if (dtype == TFC_RESOURCE && data) return NULL; /* handles come from their ops */
    tfc_tensor *t = tfc_tensor_alloc(dtype, rank, dims);
    if (t && t->nbytes) {
        if (data)
            memcpy(t->data, data, t->nbytes);
        else
            memset(t->data, 0, t->nbytes);
    }
    return t;
}

tfc_tensor *tfc_tensor_scalar_float(float v) { return tfc_tensor_from_data(TFC_FLOAT, 0, NULL, &v); }
tfc_tensor *tfc_tensor_scalar_double(double v) { return tfc_tensor_from_data(TFC_DOUBLE, 0, NULL, &v); }
tfc_tensor *tfc_tensor_scalar_int32(int32_t v) { return tfc_tensor_from_data(TFC_INT32, 0, NULL, &v); }
tfc_tensor *tfc_tensor_scalar_int64(int64_t v) { return tfc_tensor_from_data(TFC_INT64, 0, NULL, &v); }
tfc_tensor *tfc_tensor_scalar_bool(int v) {
    uint8_t b = v != 0;
    return tfc_tensor_from_data(TFC_BOOL, 0, NULL, &b);
}

tfc_tensor *tfc_tensor_ref(tfc_tensor *t) {
    if (t) atomic_fetch_add_explicit(&t->refcount, 1, memory_order_relaxed);
    return t;
}

static void release_pointers(tfc_tensor *t);

/* The last reference to t went: its storage goes back to the pool. Out of
 * line, so that dropping one of several references (most calls, a run
 * hands tensors from node to node) is a test and an atomic. */
__attribute__((noinline)) static void tensor_release_all(tfc_tensor *t) {
    tfc_tensor *base = t->base;
    if (!base && (holds_pointers(t->dtype) || t->flags)) release_pointers(t);
    tfc_block_free(t, t->block_size);
    tfc_tensor_free(base);
}

/* (a plain numeric tensor, the usual one, is a tail call: no registers to
 * save for the rest) */
__attribute__((noinline)) static void tensor_release(tfc_tensor *t) {
    if (__builtin_expect(t->base || holds_pointers(t->dtype) || t->flags, 0)) {
        tensor_release_all(t);
        return;
    }
    tfc_block_free(t, t->block_size);
}

void tfc_tensor_free(tfc_tensor *t) {
    if (t && atomic_fetch_sub_explicit(&t->refcount, 1, memory_order_acq_rel) == 1)
        tensor_release(t);
}

tfc_dtype tfc_tensor_dtype(const tfc_tensor *t) { return t ? t->dtype : TFC_INVALID_DTYPE; }
int tfc_tensor_rank(const tfc_tensor *t) { return t ? t->rank : -1; }
int64_t tfc_tensor_dim(const tfc_tensor *t, int i) {
    return (t && i >= 0 && i < t->rank) ? t->dims[i] : -1;
}
int64_t tfc_tensor_num_elements(const tfc_tensor *t) { return t ? t->nelem : 0; }
size_t tfc_tensor_nbytes(const tfc_tensor *t) { return t ? t->nbytes : 0; }
void *tfc_tensor_data(const tfc_tensor *t) { return t ? t->data : NULL; }

tfc_tensor *tfc_tensor_copy(const tfc_tensor *t) {
    if (!t) return NULL;
    if (t->dtype == TFC_RESOURCE) {
        tfc_tensor *c = tfc_tensor_alloc(TFC_RESOURCE, t->rank, t->dims);
        if (!c) return NULL;
        tfc_resource **dst = c->data, *const *src = t->data;
        for (int64_t i = 0; i < t->nelem; i++) dst[i] = tfc_resource_ref(src[i]);
        return c;
    }
    return tfc_tensor_from_data(t->dtype, t->rank, t->dims, t->data);
}

int tfc_tensor_same_shape(const tfc_tensor *a, const tfc_tensor *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

double tfc_tensor_get_double(const tfc_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TFC_FLOAT: return ((const float *)t->data)[i];
    case TFC_DOUBLE: return ((const double *)t->data)[i];
    case TFC_INT32: return ((const int32_t *)t->data)[i];
    case TFC_INT64: return (double)((const int64_t *)t->data)[i];
    case TFC_UINT8:
    case TFC_BOOL: return ((const uint8_t *)t->data)[i];
    default: return 0;
    }
}

int64_t tfc_tensor_get_int(const tfc_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TFC_INT32: return ((const int32_t *)t->data)[i];
    case TFC_INT64: return ((const int64_t *)t->data)[i];
    default: return (int64_t)tfc_tensor_get_double(t, i);
    }
}

void tfc_tensor_set_double(tfc_tensor *t, int64_t i, double v) {
    switch (t->dtype) {
    case TFC_FLOAT: ((float *)t->data)[i] = (float)v; break;
    case TFC_DOUBLE: ((double *)t->data)[i] = v; break;
    case TFC_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    case TFC_INT64: ((int64_t *)t->data)[i] = (int64_t)v; break;
    case TFC_UINT8:
    case TFC_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    default: break;
    }
}

/* ------------------------------------------------------------------------ */
/* String storage                                                           */
/* ------------------------------------------------------------------------ */

/* A block of string bytes; a tensor's blocks form a chain, newest first.
 * Bytes are handed out from the newest block until it is full. Blocks come
 * from the block cache: a pipeline frees a batch's records (hundreds of
 * KB) every step, which glibc gave back to the system and then faulted in
 * again, page by page (a third of a batched pipeline's CPU time). */
typedef struct tfc_str_block {
    struct tfc_str_block *next;
    size_t cap, used;
    char bytes[];
} tfc_str_block;

enum { STR_BLOCK_MIN = 256 };

char *tfc_string_alloc(tfc_tensor *t, size_t len) {
    tfc_tensor *owner = t->base ? t->base : t;
    tfc_str_block *b = owner->strings;
    if (!len) return NULL;
    if (b && b->cap - b->used >= len) {
        char *p = b->bytes + b->used;
        b->used += len;
        return p;
    }
    /* grow geometrically so n small sets cost O(log n) mallocs */
    size_t cap = b ? b->cap * 2 : STR_BLOCK_MIN;
    if (cap < len) cap = len;
    if (cap > SIZE_MAX - sizeof *b) return NULL;
    tfc_str_block *nb = tfc_block_alloc(sizeof *nb + cap);
    if (!nb) return NULL;
    nb->next = b;
    nb->cap = cap;
    nb->used = len;
    owner->strings = nb;
    return nb->bytes;
}

/* One block of exactly `len` bytes, ahead of the chain (bulk copies). */
static char *string_alloc_exact(tfc_tensor *owner, size_t len) {
    if (!len) return NULL;
    if (len > SIZE_MAX - sizeof(tfc_str_block)) return NULL;
    tfc_str_block *nb = tfc_block_alloc(sizeof *nb + len);
    if (!nb) return NULL;
    nb->next = owner->strings;
    nb->cap = nb->used = len;
    owner->strings = nb;
    return nb->bytes;
}

int tfc_string_set(tfc_tensor *t, int64_t i, const void *p, size_t len) {
    tfc_string *e = (tfc_string *)t->data + i;
    if (!len) {
        e->data = NULL;
        e->len = 0;
        return 0;
    }
    char *dst = tfc_string_alloc(t, len);
    if (!dst) return -1;
    memcpy(dst, p, len);
    e->data = dst;
    e->len = len;
    return 0;
}

size_t tfc_string_tensor_bytes(const tfc_tensor *t) {
    const tfc_string *e = t->data;
    size_t total = 0;
    for (int64_t i = 0; i < t->nelem; i++) total += e[i].len;
    return total;
}

/* Points the views e[0, n) at copies of their bytes in one new block of
 * `owner`. 0 or -1. */
static int own_views(tfc_tensor *owner, tfc_string *e, int64_t n, size_t total) {
    if (!total) {
        for (int64_t i = 0; i < n; i++) e[i].data = NULL;
        return 0;
    }
    char *dst = string_alloc_exact(owner, total);
    if (!dst) return -1;
    for (int64_t i = 0; i < n; i++) {
        if (!e[i].len) {
            e[i].data = NULL;
            continue;
        }
        memcpy(dst, e[i].data, e[i].len);
        e[i].data = dst;
        dst += e[i].len;
    }
    return 0;
}

int tfc_tensor_own_strings(tfc_tensor *t) {
    if (!t || t->dtype != TFC_STRING || t->base || t->strings) return 0;
    return own_views(t, t->data, t->nelem, tfc_string_tensor_bytes(t));
}

static tfc_tensor *strings_from_views(int rank, const int64_t *dims, const tfc_string *v) {
    tfc_tensor *t = tfc_tensor_alloc(TFC_STRING, rank, dims);
    if (!t) return NULL;
    size_t total = 0;
    for (int64_t i = 0; i < t->nelem; i++) {
        if (v[i].len && !v[i].data) {
            tfc_tensor_free(t);
            return NULL;
        }
        total += v[i].len;
    }
    if (t->nelem) memcpy(t->data, v, (size_t)t->nelem * sizeof *v);
    if (own_views(t, t->data, t->nelem, total)) {
        memset(t->data, 0, t->nbytes);
        tfc_tensor_free(t);
        return NULL;
    }
    return t;
}

static void release_borrowed(tfc_tensor *keeper);

static void release_pointers(tfc_tensor *t) {
    if (t->flags & TFC_TENSOR_BORROWED) {
        release_borrowed(t);
        return;
    }
    if (!holds_pointers(t->dtype)) return; /* a variable's buffer */
    if (t->dtype == TFC_RESOURCE) {
        tfc_resource **r = t->data;
        for (int64_t i = 0; i < t->nelem; i++) tfc_resource_unref(r[i]);
        return;
    }
    for (tfc_str_block *b = t->strings, *next; b; b = next) {
        next = b->next;
        tfc_block_free(b, sizeof *b + b->cap);
    }
    t->strings = NULL;
}

tfc_tensor *tfc_tensor_from_strings(int rank, const int64_t *dims, const char *const *strs,
                                    const size_t *lens) {
    if (rank < 0 || rank > TFC_MAX_RANK || (rank && !dims)) return NULL;
    int64_t n = tfc_dims_num_elements(rank, dims);
    if (n < 0 || (n && !strs)) return NULL;
    /* views on the caller's arrays, then one copy of the bytes */
    tfc_string small[16] = {{0}}, *v = n <= 16 ? small : malloc((size_t)n * sizeof *v);
    if (!v) return NULL;
    for (int64_t i = 0; i < n; i++) {
        if (!strs[i]) {
            if (v != small) free(v);
            return NULL;
        }
        v[i].data = strs[i];
        v[i].len = lens ? lens[i] : strlen(strs[i]);
    }
    tfc_tensor *t = strings_from_views(rank, dims, v);
    if (v != small) free(v);
    return t;
}

tfc_tensor *tfc_tensor_scalar_string(const char *s, size_t len) {
    if (!s) return NULL;
    size_t l = len == (size_t)-1 ? strlen(s) : len;
    return tfc_tensor_from_strings(0, NULL, &s, &l);
}

int tfc_string_tensor_set(tfc_tensor *t, int64_t i, const void *bytes, size_t len) {
    if (!t || t->dtype != TFC_STRING || i < 0 || i >= t->nelem || (len && !bytes)) return -1;
    return tfc_string_set(t, i, bytes, len);
}

const char *tfc_string_tensor_get(const tfc_tensor *t, int64_t i, size_t *len) {
    if (!t || t->dtype != TFC_STRING || i < 0 || i >= t->nelem) {
        if (len) *len = 0;
        return NULL;
    }
    tfc_string s = tfc_string_at(t, i);
    if (len) *len = s.len;
    return s.data;
}

/* ------------------------------------------------------------------------ */
/* Borrowed memory (zero-copy feeds)                                        */
/* ------------------------------------------------------------------------ */

/* The keeper is a header-only block plus this record; the tensor handed out
 * is an alias of it, so kernels never write over the caller's bytes (see
 * TFC_TENSOR_BORROWED) and every alias keeps them alive. */
typedef struct borrowed_release {
    tfc_release_fn fn;
    void *arg;
} borrowed_release;

static void release_borrowed(tfc_tensor *keeper) {
    const borrowed_release *r =
        (const borrowed_release *)((const char *)keeper + TENSOR_HEADER);
    if (r->fn) r->fn(r->arg);
}

tfc_tensor *tfc_tensor_from_borrowed(tfc_dtype dtype, int rank, const int64_t *dims,
                                     void *data, size_t nbytes, tfc_release_fn release,
                                     void *release_arg) {
    size_t esize = tfc_dtype_bytes(dtype);
    if (!esize || holds_pointers(dtype) || rank < 0 || rank > TFC_MAX_RANK || (rank && !dims))
        return NULL;
    int64_t n = tfc_dims_num_elements(rank, dims);
    if (n < 0 || (uint64_t)n > SIZE_MAX / esize || (size_t)n * esize != nbytes ||
        (nbytes && !data))
        return NULL;
    if ((uintptr_t)data % esize) {
        /* kernels read elements at their natural alignment: copy */
        tfc_tensor *t = tfc_tensor_from_data(dtype, rank, dims, data);
        if (t && release) release(release_arg);
        return t;
    }
    size_t block = TENSOR_HEADER + ((sizeof(borrowed_release) + 63) & ~(size_t)63);
    tfc_tensor *keeper = tfc_block_alloc(block);
    if (!keeper) return NULL;
    header_init(keeper, block, dtype, rank, dims, n);
    keeper->flags = TFC_TENSOR_BORROWED;
    keeper->data = data;
    borrowed_release *r = (borrowed_release *)((char *)keeper + TENSOR_HEADER);
    r->fn = NULL; /* set once the alias exists: a failure below must not release */
    r->arg = release_arg;
    tfc_tensor *t = tfc_tensor_alias(keeper, rank, dims);
    tfc_tensor_free(keeper); /* the alias holds it now (or, on failure, it goes) */
    if (t) r->fn = release;
    return t;
}

int tfc_tensor_is_borrowed(const tfc_tensor *t) {
    return t && (t->flags & TFC_TENSOR_BORROWED) ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Resources                                                                */
/* ------------------------------------------------------------------------ */

void tfc_resource_init(tfc_resource *r, const tfc_resource_ops *ops) {
    atomic_init(&r->refcount, 1);
    r->ops = ops;
}

tfc_resource *tfc_resource_ref(tfc_resource *r) {
    if (r) atomic_fetch_add_explicit(&r->refcount, 1, memory_order_relaxed);
    return r;
}

void tfc_resource_unref(tfc_resource *r) {
    if (r && atomic_fetch_sub_explicit(&r->refcount, 1, memory_order_acq_rel) == 1)
        r->ops->free(r);
}

tfc_tensor *tfc_resource_tensor(tfc_resource *r) {
    tfc_tensor *t = tfc_tensor_alloc(TFC_RESOURCE, 0, NULL);
    if (t) *(tfc_resource **)t->data = tfc_resource_ref(r);
    return t;
}

tfc_resource *tfc_tensor_resource(const tfc_tensor *t, int64_t i) {
    if (!t || t->dtype != TFC_RESOURCE || i < 0 || i >= t->nelem) return NULL;
    return ((tfc_resource *const *)t->data)[i];
}
