/* MNIST / Fashion-MNIST (input_data.read_data_sets): reads the four IDX
 * files, keeps the images' bytes (a data set of them gives float32
 * [N, 784] in [0, 1]) and turns labels into int32, and wraps each part in a
 * tfc_dataset. */
#include "train/dataset_internal.h"

#include "core/status.h"
#include "core/tensor.h"
#include "tfc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MNIST_SIDE = 28, MNIST_CLASSES = 10 };

/* Reads <dir>/<name>.gz, or <dir>/<name> when only the plain file exists;
 * a missing file gets a hint about where the data come from. */
static tfc_tensor *read_part(const char *dir, const char *name, tfc_status *st) {
    size_t n = strlen(dir) + strlen(name) + 8;
    char *path = malloc(n);
    if (!path) {
        tfc_status_set(st, TFC_INTERNAL, "tfc_mnist_load: out of memory");
        return NULL;
    }
    snprintf(path, n, "%s/%s", dir, name);
    int plain = access(path, F_OK) == 0;
    snprintf(path, n, "%s/%s.gz", dir, name);
    if (access(path, F_OK) != 0 && plain) snprintf(path, n, "%s/%s", dir, name);
    else if (access(path, F_OK) != 0) {
        tfc_status_set(st, TFC_NOT_FOUND,
                       "%s: no such file (nor without .gz); install Debian's "
                       "dataset-fashion-mnist or point TFC_MNIST_DIR at the IDX files",
                       path);
        free(path);
        return NULL;
    }
    tfc_tensor *t = tfc_idx_read(path, st);
    free(path);
    return t;
}

/* Builds one part from its two files; checks their shapes agree. */
static tfc_dataset *load_part(const char *dir, const char *prefix, int shuffle,
                              tfc_status *st) {
    char iname[64], lname[64];
    snprintf(iname, sizeof iname, "%s-images-idx3-ubyte", prefix);
    snprintf(lname, sizeof lname, "%s-labels-idx1-ubyte", prefix);
    tfc_tensor *raw_images = read_part(dir, iname, st);
    if (!raw_images) return NULL;
    tfc_tensor *raw_labels = read_part(dir, lname, st);
    if (!raw_labels) {
        tfc_tensor_free(raw_images);
        return NULL;
    }
    tfc_dataset *d = NULL;
    tfc_tensor *images = NULL, *labels = NULL;
    if (raw_images->rank != 3 || raw_images->dims[1] != MNIST_SIDE ||
        raw_images->dims[2] != MNIST_SIDE) {
        char buf[96];
        tfc_status_set(st, TFC_DATA_LOSS, "%s/%s: images of shape %s, expected [N,28,28]",
                       dir, iname, tfc_dims_str(raw_images->rank, raw_images->dims, buf,
                                                sizeof buf));
        goto done;
    }
    if (raw_labels->rank != 1 || raw_labels->dims[0] != raw_images->dims[0]) {
        char buf[96];
        tfc_status_set(st, TFC_DATA_LOSS, "%s/%s: labels of shape %s, expected [%lld]", dir,
                       lname, tfc_dims_str(raw_labels->rank, raw_labels->dims, buf, sizeof buf),
                       (long long)raw_images->dims[0]);
        goto done;
    }
    int64_t n = raw_images->dims[0];
    int64_t idims[2] = {n, MNIST_SIDE * MNIST_SIDE};
    images = tfc_tensor_alias(raw_images, 2, idims);
    labels = tfc_tensor_alloc(TFC_INT32, 1, &n);
    if (!images || !labels) {
        tfc_status_set(st, TFC_INTERNAL, "tfc_mnist_load: out of memory");
        goto done;
    }
    const uint8_t *lsrc = raw_labels->data;
    int32_t *ldst = labels->data;
    for (int64_t i = 0; i < n; i++) {
        if (lsrc[i] >= MNIST_CLASSES) {
            tfc_status_set(st, TFC_DATA_LOSS, "%s/%s: label %d at index %lld is not in 0..9",
                           dir, lname, lsrc[i], (long long)i);
            goto done;
        }
        ldst[i] = lsrc[i];
    }
    /* the bytes, drawn as (float)byte * (1 / 255) (see train/dataset.c) */
    d = tfc_dataset_new_scaled_bytes(images, labels, 1.0f / 255.0f, shuffle, 1, st);
done:
    tfc_tensor_free(images);
    tfc_tensor_free(labels);
    tfc_tensor_free(raw_images);
    tfc_tensor_free(raw_labels);
    return d;
}

tfc_mnist *tfc_mnist_load(const char *dir, tfc_status *st) {
    if (!dir || !*dir) dir = getenv("TFC_MNIST_DIR");
    if (!dir || !*dir) dir = TFC_MNIST_DEFAULT_DIR;
    tfc_mnist *m = calloc(1, sizeof *m);
    if (!m) {
        tfc_status_set(st, TFC_INTERNAL, "tfc_mnist_load: out of memory");
        return NULL;
    }
    m->train = load_part(dir, "train", 1, st);
    if (m->train) m->test = load_part(dir, "t10k", 0, st);
    if (!m->test) {
        tfc_mnist_free(m);
        return NULL;
    }
    return m;
}

void tfc_mnist_free(tfc_mnist *m) {
    if (!m) return;
    tfc_dataset_free(m->train);
    tfc_dataset_free(m->test);
    free(m);
}
