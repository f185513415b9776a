/* Building tf.train.Example records from C (tools and tests write the
 * TFRecord files pipelines read): features added by name, serialized with
 * protobuf-c (protos/example.proto), packed as TensorFlow writes them. */
#include "tfc.h"

#include "example.pb-c.h"

#include <stdlib.h>
#include <string.h>

struct tfc_example {
    int n, cap;
    Tensorflow__Features__FeatureEntry **entries;
};

tfc_example *tfc_example_new(void) { return calloc(1, sizeof(tfc_example)); }

static void entry_free(Tensorflow__Features__FeatureEntry *e) {
    if (!e) return;
    Tensorflow__Feature *f = e->value;
    if (f) {
        switch (f->kind_case) {
        case TENSORFLOW__FEATURE__KIND_FLOAT_LIST:
            if (f->float_list) free(f->float_list->value);
            free(f->float_list);
            break;
        case TENSORFLOW__FEATURE__KIND_INT64_LIST:
            if (f->int64_list) free(f->int64_list->value);
            free(f->int64_list);
            break;
        case TENSORFLOW__FEATURE__KIND_BYTES_LIST:
            if (f->bytes_list) {
                for (size_t i = 0; i < f->bytes_list->n_value; i++)
                    free(f->bytes_list->value[i].data);
                free(f->bytes_list->value);
            }
            free(f->bytes_list);
            break;
        default: break;
        }
        free(f);
    }
    free(e->key);
    free(e);
}

void tfc_example_free(tfc_example *ex) {
    if (!ex) return;
    for (int i = 0; i < ex->n; i++) entry_free(ex->entries[i]);
    free(ex->entries);
    free(ex);
}

/* A new entry named key with an empty feature; NULL when memory runs out. */
static Tensorflow__Feature *add_entry(tfc_example *ex, const char *key) {
    if (!ex || !key) return NULL;
    if (ex->n == ex->cap) {
        int cap = ex->cap ? 2 * ex->cap : 4;
        Tensorflow__Features__FeatureEntry **v = realloc(ex->entries, sizeof *v * (size_t)cap);
        if (!v) return NULL;
        ex->entries = v;
        ex->cap = cap;
    }
    Tensorflow__Features__FeatureEntry *e = malloc(sizeof *e);
    Tensorflow__Feature *f = malloc(sizeof *f);
    char *k = strdup(key);
    if (!e || !f || !k) {
        free(e);
        free(f);
        free(k);
        return NULL;
    }
    tensorflow__features__feature_entry__init(e);
    tensorflow__feature__init(f);
    e->key = k;
    e->value = f;
    ex->entries[ex->n++] = e;
    return f;
}

int tfc_example_add_floats(tfc_example *ex, const char *key, const float *v, size_t n) {
    Tensorflow__Feature *f = add_entry(ex, key);
    if (!f) return -1;
    Tensorflow__FloatList *l = malloc(sizeof *l);
    float *copy = malloc(sizeof *copy * (n ? n : 1));
    if (!l || !copy) {
        free(l);
        free(copy);
        return -1;
    }
    tensorflow__float_list__init(l);
    if (n) memcpy(copy, v, sizeof *copy * n);
    l->value = copy;
    l->n_value = n;
    f->kind_case = TENSORFLOW__FEATURE__KIND_FLOAT_LIST;
    f->float_list = l;
    return 0;
}

int tfc_example_add_int64s(tfc_example *ex, const char *key, const int64_t *v, size_t n) {
    Tensorflow__Feature *f = add_entry(ex, key);
    if (!f) return -1;
    Tensorflow__Int64List *l = malloc(sizeof *l);
    int64_t *copy = malloc(sizeof *copy * (n ? n : 1));
    if (!l || !copy) {
        free(l);
        free(copy);
        return -1;
    }
    tensorflow__int64_list__init(l);
    if (n) memcpy(copy, v, sizeof *copy * n);
    l->value = copy;
    l->n_value = n;
    f->kind_case = TENSORFLOW__FEATURE__KIND_INT64_LIST;
    f->int64_list = l;
    return 0;
}

int tfc_example_add_bytes(tfc_example *ex, const char *key, const void *const *v,
                          const size_t *lens, size_t n) {
    Tensorflow__Feature *f = add_entry(ex, key);
    if (!f) return -1;
    Tensorflow__BytesList *l = malloc(sizeof *l);
    ProtobufCBinaryData *items = calloc(n ? n : 1, sizeof *items);
    if (!l || !items) {
        free(l);
        free(items);
        return -1;
    }
    tensorflow__bytes_list__init(l);
    l->value = items;
    f->kind_case = TENSORFLOW__FEATURE__KIND_BYTES_LIST;
    f->bytes_list = l;
    for (size_t i = 0; i < n; i++) {
        items[i].data = malloc(lens[i] ? lens[i] : 1);
        if (!items[i].data) return -1; /* freed with the example */
        if (lens[i]) memcpy(items[i].data, v[i], lens[i]);
        items[i].len = lens[i];
        l->n_value = i + 1;
    }
    return 0;
}

uint8_t *tfc_example_serialize(const tfc_example *ex, size_t *len) {
    if (!ex || !len) return NULL;
    Tensorflow__Features fs;
    tensorflow__features__init(&fs);
    fs.n_feature = (size_t)ex->n;
    fs.feature = ex->entries;
    Tensorflow__Example e;
    tensorflow__example__init(&e);
    e.features = &fs;
    size_t n = tensorflow__example__get_packed_size(&e);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return NULL;
    *len = tensorflow__example__pack(&e, buf);
    return buf;
}
