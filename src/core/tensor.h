/* The tensor object: a reference-counted, 64-byte aligned, row-major buffer
 * with a dtype and a shape. */
#ifndef TFC_CORE_TENSOR_H
#define TFC_CORE_TENSOR_H

#include "tfc.h"
#include <stdatomic.h>

enum {
    /* The buffer is a variable's storage: readers must copy before handing it
     * to the user, and no kernel may reuse it for an output. */
    TFC_TENSOR_VARIABLE = 1,
    /* The elements are the caller's memory (tfc_tensor_from_borrowed). The
     * outer tensor is a header whose `base` is a keeper tensor holding the
     * release callback: a tensor with a base is never written over by a
     * kernel (input_overwritable), and the keeper, freed with the last
     * alias, calls release. Both carry this flag. */
    TFC_TENSOR_BORROWED = 2
};

struct tfc_tensor {
    atomic_int refcount;
    tfc_dtype dtype;
    int rank;
    unsigned flags;
    int64_t dims[TFC_MAX_RANK];
    int64_t nelem;
    size_t nbytes;
    void *data;
    /* The tensor lives in one pooled block: this header, then its data (or
     * only the header for an alias, whose data belongs to `base`). */
    size_t block_size;
    tfc_tensor *base;
    /* TFC_STRING: the blocks holding the elements' bytes (NULL while every
     * element is empty or, in an alias, always: the base owns them). */
    struct tfc_str_block *strings;
};

/* A resource a TFC_RESOURCE tensor's elements point to (a queue, ...):
 * reference counted, so a handle fetched or fed keeps it alive. The
 * session that made it cancels it when closing (ops->cancel may be NULL). */
typedef struct tfc_resource tfc_resource;
typedef struct tfc_resource_ops {
    const char *type_name; /* TensorFlow's, for messages: "FIFOQueue" */
    void (*free)(tfc_resource *r);
    void (*cancel)(tfc_resource *r); /* fail every waiter; further use fails */
} tfc_resource_ops;
struct tfc_resource {
    atomic_int refcount;
    const tfc_resource_ops *ops;
};
/* Sets the count to 1. */
void tfc_resource_init(tfc_resource *r, const tfc_resource_ops *ops);
tfc_resource *tfc_resource_ref(tfc_resource *r);
void tfc_resource_unref(tfc_resource *r);
/* A scalar TFC_RESOURCE tensor holding a new reference to r; NULL when
 * memory runs out. */
tfc_tensor *tfc_resource_tensor(tfc_resource *r);
/* Element i of a TFC_RESOURCE tensor (borrowed), or NULL. */
tfc_resource *tfc_tensor_resource(const tfc_tensor *t, int64_t i);

/* A tensor whose contents are uninitialized (kernels overwrite them).
 * Returns NULL when the shape is invalid or memory runs out. */
tfc_tensor *tfc_tensor_alloc(tfc_dtype dtype, int rank, const int64_t *dims);
/* A tensor sharing `t`'s data under another shape of the same element
 * count (zero-copy Reshape); keeps a reference to t. NULL on error. */
tfc_tensor *tfc_tensor_alias(tfc_tensor *t, int rank, const int64_t *dims);
/* Number of elements of a shape; -1 when a dim is negative or it overflows. */
int64_t tfc_dims_num_elements(int rank, const int64_t *dims);
/* "[2,3]" into buf. */
const char *tfc_dims_str(int rank, const int64_t *dims, char *buf, size_t n);
int tfc_tensor_same_shape(const tfc_tensor *a, const tfc_tensor *b);
/* Element i of a numeric tensor as double / int64 (for small index tensors). */
double tfc_tensor_get_double(const tfc_tensor *t, int64_t i);
int64_t tfc_tensor_get_int(const tfc_tensor *t, int64_t i);
void tfc_tensor_set_double(tfc_tensor *t, int64_t i, double v);

/* ---- string tensors ----
 * Element storage: t->data holds nelem tfc_string views {data, len}; the
 * bytes sit in blocks chained from the owner's `strings` (the base's for
 * an alias), freed with it. Blocks never move, so views stay valid. */

/* Room for `len` bytes in t's storage (its base's for an alias), or NULL
 * when memory runs out. Not thread-safe on one tensor. */
char *tfc_string_alloc(tfc_tensor *t, size_t len);
/* Element i of string tensor t becomes a copy of len bytes at p. 0 or -1. */
int tfc_string_set(tfc_tensor *t, int64_t i, const void *p, size_t len);
/* Element i of string tensor t, never NULL ("" when empty). */
static inline tfc_string tfc_string_at(const tfc_tensor *t, int64_t i) {
    tfc_string s = ((const tfc_string *)t->data)[i];
    if (!s.len) s.data = "";
    return s;
}
/* After a kernel filled t's elements with views into other tensors (an
 * array op moving elements of a string input): copies their bytes into t's
 * own storage, one block for all. Does nothing for a tensor that owns its
 * bytes already or is an alias. 0, or -1 when memory runs out. */
int tfc_tensor_own_strings(tfc_tensor *t);
/* Total bytes of t's elements. */
size_t tfc_string_tensor_bytes(const tfc_tensor *t);

#endif
