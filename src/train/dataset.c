/* An in-memory data set of (image, label) examples with the tutorials'
 * next_batch: examples are visited in a permutation drawn from a seeded
 * generator, a fresh one each epoch, so training runs are reproducible.
 * A data set of byte images (dataset_internal.h) keeps the bytes and
 * scales each batch's rows to float as it draws them: a batch is 100 rows
 * from all over the data set, so it is memory traffic, and bytes are a
 * quarter of it. */
#include "train/dataset_internal.h"

#include "core/status.h"
#include "core/tensor.h"
#include "core/vector_clones.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A batch is written on the caller's core and read by every core of the
 * step: writing it into the block the last batch used means taking each
 * cache line back from the other cores (on a 2-core VM the draw took 38
 * us rather than 15). A batch goes into the block of the batch from this
 * many draws ago, long gone from the other cores' caches, when the caller
 * has freed that one; batches of more than RECENT_MAX_BYTES are not kept. */
enum { RECENT_BATCHES = 8 };
#define RECENT_MAX_BYTES ((size_t)512 << 10)

struct tfc_dataset {
    tfc_tensor *stored; /* what batches are drawn from: the images, or their bytes */
    tfc_tensor *images; /* as float when `scale`: made on the first tfc_dataset_images */
    tfc_tensor *labels;
    float scale; /* byte images: drawn as (float)byte * scale; 0 otherwise */
    pthread_mutex_t images_lock;
    int64_t n;
    size_t image_bytes, label_bytes; /* stored bytes of one example */
    int shuffle;
    uint64_t rng;
    int64_t *order; /* the current epoch's permutation */
    int64_t pos;    /* next position in `order` */
    int64_t epochs;
    /* image batches handed out, reused once the caller has let them go */
    tfc_tensor *recent[RECENT_BATCHES];
    int next_recent;
};

/* splitmix64: tiny, good enough for shuffling, and the same everywhere. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound), without the bias of a plain modulo. */
static uint64_t next_below(uint64_t *s, uint64_t bound) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = next_u64(s);
    while (r >= limit);
    return r % bound;
}

static void new_epoch_order(tfc_dataset *d) {
    for (int64_t i = 0; i < d->n; i++) d->order[i] = i;
    if (!d->shuffle) return;
    for (int64_t i = d->n - 1; i > 0; i--) {
        int64_t j = (int64_t)next_below(&d->rng, (uint64_t)i + 1);
        int64_t t = d->order[i];
        d->order[i] = d->order[j];
        d->order[j] = t;
    }
}

static tfc_dataset *dataset_new(tfc_tensor *images, tfc_tensor *labels, float scale, int shuffle,
                                uint64_t seed, tfc_status *st) {
    if (!images || !labels) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_dataset_new: images or labels is NULL");
        return NULL;
    }
    if (images->rank < 1 || labels->rank < 1 || images->dims[0] != labels->dims[0]) {
        char a[96], b[96];
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_dataset_new: images %s and labels %s need the same dim 0",
                       tfc_dims_str(images->rank, images->dims, a, sizeof a),
                       tfc_dims_str(labels->rank, labels->dims, b, sizeof b));
        return NULL;
    }
    tfc_dataset *d = calloc(1, sizeof *d);
    int64_t n = images->dims[0];
    if (d) d->order = malloc(sizeof *d->order * (size_t)(n ? n : 1));
    if (!d || !d->order) {
        free(d);
        tfc_status_set(st, TFC_INTERNAL, "tfc_dataset_new: out of memory");
        return NULL;
    }
    d->stored = tfc_tensor_ref(images);
    d->images = scale ? NULL : tfc_tensor_ref(images);
    d->labels = tfc_tensor_ref(labels);
    d->scale = scale;
    pthread_mutex_init(&d->images_lock, NULL);
    d->n = n;
    d->image_bytes = n ? images->nbytes / (size_t)n : 0;
    d->label_bytes = n ? labels->nbytes / (size_t)n : 0;
    d->shuffle = shuffle;
    tfc_dataset_reset(d, seed);
    tfc_status_set(st, TFC_OK, "%s", "");
    return d;
}

tfc_dataset *tfc_dataset_new(tfc_tensor *images, tfc_tensor *labels, int shuffle, uint64_t seed,
                             tfc_status *st) {
    return dataset_new(images, labels, 0.0f, shuffle, seed, st);
}

tfc_dataset *tfc_dataset_new_scaled_bytes(tfc_tensor *bytes, tfc_tensor *labels, float scale,
                                          int shuffle, uint64_t seed, tfc_status *st) {
    if (bytes && (bytes->dtype != TFC_UINT8 || scale == 0.0f)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_dataset_new_scaled_bytes: images of %s with scale %g, expected "
                       "uint8 and a nonzero scale",
                       tfc_dtype_name(bytes->dtype), (double)scale);
        return NULL;
    }
    return dataset_new(bytes, labels, scale, shuffle, seed, st);
}

void tfc_dataset_free(tfc_dataset *d) {
    if (!d) return;
    pthread_mutex_destroy(&d->images_lock);
    for (int i = 0; i < RECENT_BATCHES; i++) tfc_tensor_free(d->recent[i]);
    tfc_tensor_free(d->stored);
    tfc_tensor_free(d->images);
    tfc_tensor_free(d->labels);
    free(d->order);
    free(d);
}

int64_t tfc_dataset_size(const tfc_dataset *d) { return d ? d->n : 0; }
/* dst[i] = (float)src[i] * scale: the float data set's own values, bit for bit */
TFC_VECTOR_CLONES static void scale_bytes(float *dst, const uint8_t *src, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] * scale;
}

/* A tensor of `dt` in the source's shape with dim 0 replaced by `rows`. */
static tfc_tensor *rows_like(const tfc_tensor *src, tfc_dtype dt, int64_t rows) {
    int64_t dims[TFC_MAX_RANK];
    memcpy(dims, src->dims, sizeof dims);
    dims[0] = rows;
    return tfc_tensor_alloc(dt, src->rank, dims);
}

/* Byte images become float here, once, on the first call (under a lock:
 * two threads may ask at once); NULL when memory runs out. */
tfc_tensor *tfc_dataset_images(const tfc_dataset *d) {
    if (!d) return NULL;
    tfc_dataset *m = (tfc_dataset *)d; /* the cache is not part of the value */
    pthread_mutex_lock(&m->images_lock);
    if (!m->images) {
        m->images = rows_like(d->stored, TFC_FLOAT, d->n);
        if (m->images) scale_bytes(m->images->data, d->stored->data, d->stored->nbytes, d->scale);
    }
    pthread_mutex_unlock(&m->images_lock);
    return m->images;
}
tfc_tensor *tfc_dataset_labels(const tfc_dataset *d) { return d ? d->labels : NULL; }
int64_t tfc_dataset_epochs_completed(const tfc_dataset *d) { return d ? d->epochs : 0; }

void tfc_dataset_reset(tfc_dataset *d, uint64_t seed) {
    if (!d) return;
    d->rng = seed;
    d->pos = 0;
    d->epochs = 0;
    new_epoch_order(d);
}

/* A tensor for a batch of images: the oldest recent one when only the
 * data set still holds it and it has the size, else a new one, kept in its
 * place when small enough. */
static tfc_tensor *image_batch(tfc_dataset *d, int64_t rows) {
    tfc_tensor **slot = &d->recent[d->next_recent];
    d->next_recent = (d->next_recent + 1) % RECENT_BATCHES;
    tfc_tensor *old = *slot;
    if (old && old->dims[0] == rows &&
        atomic_load_explicit(&old->refcount, memory_order_acquire) == 1)
        return tfc_tensor_ref(old);
    tfc_tensor *x = rows_like(d->stored, d->scale ? TFC_FLOAT : d->stored->dtype, rows);
    if (!x) return NULL;
    tfc_tensor_free(old);
    *slot = x->nbytes <= RECENT_MAX_BYTES ? tfc_tensor_ref(x) : NULL;
    return x;
}

/* Rows are asked for this many rows ahead: each lies anywhere in the data
 * set, so its cache lines come from memory, and the ones asked for together
 * come in parallel. */
enum { AHEAD = 8 };

static inline void prefetch_row(const tfc_dataset *d, size_t k) {
    const char *row = (const char *)d->stored->data + k * d->image_bytes;
    for (size_t b = 0; b < d->image_bytes; b += 64) __builtin_prefetch(row + b);
    if (d->image_bytes) __builtin_prefetch(row + d->image_bytes - 1);
}

int tfc_dataset_next_batch(tfc_dataset *d, int64_t batch_size, tfc_tensor **images,
                           tfc_tensor **labels, tfc_status *st) {
    if (images) *images = NULL;
    if (labels) *labels = NULL;
    if (!d || !images || !labels) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_dataset_next_batch: NULL argument");
        return -1;
    }
    if (batch_size < 1 || batch_size > d->n) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_dataset_next_batch: batch size %lld is not in [1, %lld], the "
                       "number of examples",
                       (long long)batch_size, (long long)d->n);
        return -1;
    }
    tfc_tensor *x = image_batch(d, batch_size);
    tfc_tensor *y = rows_like(d->labels, d->labels->dtype, batch_size);
    if (!x || !y) {
        tfc_tensor_free(x);
        tfc_tensor_free(y);
        tfc_status_set(st, TFC_INTERNAL, "tfc_dataset_next_batch: out of memory");
        return -1;
    }
    const char *xs = d->stored->data, *ys = d->labels->data;
    char *xd = x->data, *yd = y->data;
    size_t out_bytes = d->scale ? d->image_bytes * sizeof(float) : d->image_bytes;
    for (int64_t q = d->pos; q < d->pos + AHEAD && q < d->n; q++)
        prefetch_row(d, (size_t)d->order[q]);
    for (int64_t i = 0; i < batch_size; i++) {
        if (d->pos == d->n) {
            d->epochs++;
            d->pos = 0;
            new_epoch_order(d);
        }
        size_t k = (size_t)d->order[d->pos++];
        if (d->pos + AHEAD - 1 < d->n) prefetch_row(d, (size_t)d->order[d->pos + AHEAD - 1]);
        if (d->scale)
            scale_bytes((float *)(xd + (size_t)i * out_bytes),
                        (const uint8_t *)xs + k * d->image_bytes, d->image_bytes, d->scale);
        else
            memcpy(xd + (size_t)i * out_bytes, xs + k * d->image_bytes, d->image_bytes);
        memcpy(yd + (size_t)i * d->label_bytes, ys + k * d->label_bytes, d->label_bytes);
    }
    /* An epoch that ends exactly with this batch counts now, as in TensorFlow. */
    if (d->pos == d->n) {
        d->epochs++;
        d->pos = 0;
        new_epoch_order(d);
    }
    *images = x;
    *labels = y;
    tfc_status_set(st, TFC_OK, "%s", "");
    return 0;
}

tfc_tensor *tfc_dense_to_one_hot(const tfc_tensor *labels, int depth, tfc_status *st) {
    if (!labels || depth < 1) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_dense_to_one_hot: NULL labels or depth %d < 1", depth);
        return NULL;
    }
    tfc_dtype dt = labels->dtype;
    if ((dt != TFC_INT32 && dt != TFC_INT64 && dt != TFC_UINT8) || labels->rank != 1) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_dense_to_one_hot: labels must be a 1-D integer tensor, got %s "
                       "of rank %d",
                       tfc_dtype_name(dt), labels->rank);
        return NULL;
    }
    int64_t n = labels->dims[0], dims[2] = {n, depth};
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 2, dims);
    if (!t) {
        tfc_status_set(st, TFC_INTERNAL, "tfc_dense_to_one_hot: out of memory");
        return NULL;
    }
    float *p = t->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = tfc_tensor_get_int(labels, i);
        if (c < 0 || c >= depth) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "tfc_dense_to_one_hot: label %lld at %lld is outside [0, %d)",
                           (long long)c, (long long)i, depth);
            tfc_tensor_free(t);
            return NULL;
        }
        p[i * depth + c] = 1.0f;
    }
    tfc_status_set(st, TFC_OK, "%s", "");
    return t;
}
