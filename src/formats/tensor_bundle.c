/* Writing and reading V2 checkpoints. The writer lays tensors out in the
 * order given and indexes them in key order; the reader validates the
 * whole index up front and each tensor's size and CRC when it is read. */
#include "formats/tensor_bundle.h"
#include "core/status.h"
#include "core/tensor.h"
#include "formats/crc32c.h"
#include "formats/pb.h"
#include "formats/proto.h"
#include "formats/sstable.h"
#include "formats/tensor_proto.h"
#include "tensor_bundle.pb-c.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bundle_entry {
    char *name;
    int raw_dtype;
    tfc_shape shape;
    int64_t shard;
    uint64_t offset, size;
    uint32_t masked_crc;
    int sliced;
} bundle_entry;

struct tfc_checkpoint_reader {
    char *index_path;
    char *data_path;
    int n;
    bundle_entry *entries;
};

static int is_tfc_dtype(int dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_UINT8 ||
           dt == TFC_INT64 || dt == TFC_BOOL || dt == TFC_STRING || dt == TFC_UINT16 ||
           dt == TFC_QINT8 || dt == TFC_QUINT8 || dt == TFC_QINT32 || /* as their bytes */
           dt == TFC_HALF || dt == TFC_BFLOAT16; /* their uint16 bits, little-endian */
}

/* "<a><b>", malloc'd; NULL when out of memory. */
static char *cat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

static char *data_path_of(const char *prefix) { return cat(prefix, ".data-00000-of-00001"); }

static const char *const *sort_names;
static int cmp_by_name(const void *a, const void *b) {
    return strcmp(sort_names[*(const int *)a], sort_names[*(const int *)b]);
}

static int write_file(const char *path, const void *p, size_t n, tfc_status *st) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    int bad = (n && fwrite(p, 1, n, f) != n);
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0 && errno != EINVAL;
    bad |= fclose(f) != 0;
    if (bad) {
        tfc_status_set(st, TFC_DATA_LOSS, "error writing '%s': %s", path, strerror(errno));
        remove(path);
        return -1;
    }
    return 0;
}

/* The lengths' CRC over one string length: as a little-endian uint32, or
 * a uint64 for one of 4 GiB or more (see append_string_tensor). */
static uint32_t extend_crc_by_length(uint32_t crc, uint64_t len) {
    uint8_t le[8];
    if (len <= UINT32_MAX) {
        tfc_put_u32le(le, (uint32_t)len);
        return tfc_crc32c_extend(crc, le, 4);
    }
    tfc_put_u64le(le, len);
    return tfc_crc32c_extend(crc, le, 8);
}

/* A string tensor as TensorFlow's BundleWriter lays it out:
 *   [varint64 length of each element][masked CRC-32C of the lengths][bytes]
 * The lengths' CRC runs over each length as a little-endian uint32 (uint64
 * for one of 4 GiB or more: older checkpoints had only 32-bit lengths), not
 * over the varints. The entry's CRC continues that one over the 4 stored
 * bytes of the masked lengths' CRC, then over every element's bytes.
 * Appends to `b`; returns the entry's CRC (unmasked). */
static uint32_t append_string_tensor(tfc_buf *b, const tfc_tensor *t) {
    uint32_t crc = 0;
    uint8_t le[8];
    for (int64_t i = 0; i < t->nelem; i++) {
        uint64_t len = tfc_string_at(t, i).len;
        pb_put_varint(b, len);
        crc = extend_crc_by_length(crc, len);
    }
    tfc_put_u32le(le, tfc_crc32c_mask(crc));
    tfc_buf_append(b, le, 4);
    crc = tfc_crc32c_extend(crc, le, 4);
    for (int64_t i = 0; i < t->nelem; i++) {
        tfc_string s = tfc_string_at(t, i);
        tfc_buf_append(b, s.data, s.len);
        crc = tfc_crc32c_extend(crc, s.data, s.len);
    }
    return crc;
}

int tfc_bundle_write(const char *prefix, const char *const *names, tfc_tensor *const *tensors,
                     int n, tfc_status *st) {
    return tfc_bundle_write_compressed(prefix, names, tensors, n, TFC_SSTABLE_UNCOMPRESSED, st);
}

int tfc_bundle_write_compressed(const char *prefix, const char *const *names,
                                tfc_tensor *const *tensors, int n,
                                tfc_sstable_compression compression, tfc_status *st) {
    static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;
    int rc = -1;
    int *order = malloc(sizeof(int) * (size_t)(n ? n : 1));
    tfc_sstable_entry *ents = calloc((size_t)n + 1, sizeof *ents);
    tfc_buf *vals = calloc((size_t)n + 1, sizeof *vals);
    tfc_buf data = {0}, index = {0};
    char *data_path = data_path_of(prefix);
    char *index_path = cat(prefix, ".index");
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".tempstate%ld", (long)getpid());
    char *data_tmp = cat(data_path ? data_path : "", suffix);
    char *index_tmp = cat(index_path ? index_path : "", suffix);
    if (!order || !ents || !vals || !data_path || !index_path || !data_tmp || !index_tmp) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory saving '%s'", prefix);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        order[i] = i;
        if (tensors[i] && tensors[i]->dtype == TFC_RESOURCE) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "cannot save '%s' to checkpoint '%s': a resource handle has no value "
                           "to save",
                           names[i], prefix);
            goto done;
        }
    }
    pthread_mutex_lock(&sort_lock);
    sort_names = names;
    qsort(order, (size_t)n, sizeof *order, cmp_by_name);
    pthread_mutex_unlock(&sort_lock);
    for (int i = 1; i < n; i++)
        if (!strcmp(names[order[i - 1]], names[order[i]])) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT, "two tensors named '%s' in checkpoint '%s'",
                           names[order[i]], prefix);
            goto done;
        }
    /* header: num_shards 1, little-endian, version {producer 1} */
    Tensorflow__VersionDef ver;
    tensorflow__version_def__init(&ver);
    ver.producer = 1;
    Tensorflow__BundleHeaderProto header;
    tensorflow__bundle_header_proto__init(&header);
    header.num_shards = 1;
    header.version = &ver;
    tfc_buf_pack(&vals[0], &header.base);
    ents[0].key = "";
    ents[0].value = vals[0].p;
    ents[0].vlen = vals[0].n;
    /* data in the given order, entries in key order */
    uint64_t *off = calloc((size_t)n + 1, sizeof *off);
    uint64_t *size = calloc((size_t)n + 1, sizeof *size);
    uint32_t *crc = calloc((size_t)n + 1, sizeof *crc);
    if (!off || !size || !crc) {
        free(off);
        free(size);
        free(crc);
        tfc_status_set(st, TFC_INTERNAL, "out of memory saving '%s'", prefix);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        off[i] = data.n;
        if (tensors[i]->dtype == TFC_STRING) {
            crc[i] = append_string_tensor(&data, tensors[i]);
        } else {
            tfc_buf_append(&data, tensors[i]->data, tensors[i]->nbytes);
            crc[i] = tfc_crc32c(tensors[i]->data, tensors[i]->nbytes);
        }
        size[i] = data.n - off[i];
    }
    for (int k = 0; k < n; k++) {
        int i = order[k];
        const tfc_tensor *t = tensors[i];
        tfc_buf *v = &vals[k + 1];
        tfc_shape_proto_buf shape;
        Tensorflow__BundleEntryProto e;
        tensorflow__bundle_entry_proto__init(&e);
        e.dtype = (Tensorflow__DataType)t->dtype;
        e.shape = tfc_shape_proto_of(&shape, t);
        e.offset = (int64_t)off[i];
        e.size = (int64_t)size[i];
        e.crc32c = tfc_crc32c_mask(crc[i]);
        tfc_buf_pack(v, &e.base);
        ents[k + 1].key = (char *)names[i];
        ents[k + 1].klen = strlen(names[i]);
        ents[k + 1].value = v->p;
        ents[k + 1].vlen = v->n;
        if (v->oom) data.oom = 1;
    }
    free(off);
    free(size);
    free(crc);
    if (data.oom || vals[0].oom || tfc_sstable_build_compressed(&index, ents, n + 1, compression)) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory saving '%s'", prefix);
        goto done;
    }
    if (write_file(data_tmp, data.p, data.n, st)) goto done;
    if (write_file(index_tmp, index.p, index.n, st)) {
        remove(data_tmp);
        goto done;
    }
    if (rename(data_tmp, data_path) || rename(index_tmp, index_path)) {
        tfc_status_set(st, TFC_DATA_LOSS, "cannot rename checkpoint files into '%s': %s",
                       prefix, strerror(errno));
        remove(data_tmp);
        remove(index_tmp);
        goto done;
    }
    rc = 0;
done:
    if (vals)
        for (int i = 0; i <= n; i++) tfc_buf_free(&vals[i]);
    free(vals);
    free(ents);
    free(order);
    tfc_buf_free(&data);
    tfc_buf_free(&index);
    free(data_path);
    free(index_path);
    free(data_tmp);
    free(index_tmp);
    return rc;
}

/* ---- reading ---- */

static int read_whole(const char *path, uint8_t **out, size_t *n, tfc_status *st) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot open checkpoint file '%s': %s", path,
                       strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        len += fread(p + len, 1, cap - len, f);
        if (len < cap) break;
        uint8_t *q = realloc(p, cap * 2);
        if (!q) {
            free(p);
            p = NULL;
            break;
        }
        p = q;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!p || err) {
        free(p);
        tfc_status_set(st, TFC_INTERNAL, "cannot read '%s'", path);
        return -1;
    }
    *out = p;
    *n = len;
    return 0;
}

/* Fills `e` from a serialized BundleEntryProto; -1 when malformed. */
static int parse_entry(const tfc_sstable_entry *se, bundle_entry *e) {
    Tensorflow__BundleEntryProto *p = tensorflow__bundle_entry_proto__unpack(NULL, se->vlen,
                                                                            se->value);
    if (!p) return -1;
    int rc = 0;
    e->raw_dtype = (int)p->dtype;
    e->shape.rank = 0;
    if (p->shape && p->shape->unknown_rank) e->shape.rank = -1;
    else if (p->shape && p->shape->n_dim > TFC_MAX_RANK) rc = -1;
    else if (p->shape) {
        e->shape.rank = (int)p->shape->n_dim;
        for (size_t d = 0; d < p->shape->n_dim; d++) e->shape.dims[d] = p->shape->dim[d]->size;
    }
    e->shard = p->shard_id;
    e->offset = (uint64_t)p->offset;
    e->size = (uint64_t)p->size;
    e->masked_crc = p->crc32c;
    e->sliced = p->n_slices > 0;
    tensorflow__bundle_entry_proto__free_unpacked(p, NULL);
    return rc;
}

static int check_header(const tfc_sstable_entry *se, char *why, size_t n) {
    Tensorflow__BundleHeaderProto *h = tensorflow__bundle_header_proto__unpack(NULL, se->vlen,
                                                                              se->value);
    if (!h) {
        snprintf(why, n, "malformed bundle header");
        return -1;
    }
    int rc = -1;
    if (h->endianness != TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE)
        snprintf(why, n, "big-endian checkpoints are not supported");
    else if (h->num_shards != 1)
        snprintf(why, n, "%d data shards (only 1 is supported)", (int)h->num_shards);
    else if (h->version && h->version->min_consumer > 1)
        snprintf(why, n, "needs a reader of version %d", (int)h->version->min_consumer);
    else
        rc = 0;
    tensorflow__bundle_header_proto__free_unpacked(h, NULL);
    return rc;
}

void tfc_checkpoint_reader_free(tfc_checkpoint_reader *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) free(r->entries[i].name);
    free(r->entries);
    free(r->index_path);
    free(r->data_path);
    free(r);
}

tfc_checkpoint_reader *tfc_checkpoint_reader_open(const char *prefix, tfc_status *st) {
    tfc_checkpoint_reader *r = calloc(1, sizeof *r);
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    tfc_sstable_entry *se = NULL;
    int nse = 0;
    char why[160];
    if (!r || !(r->index_path = cat(prefix, ".index")) ||
        !(r->data_path = data_path_of(prefix))) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        goto fail;
    }
    if (read_whole(r->index_path, &bytes, &nbytes, st)) goto fail;
    if (tfc_sstable_parse(bytes, nbytes, &se, &nse, why, sizeof why)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupt checkpoint index '%s': %s", r->index_path,
                       why);
        goto fail;
    }
    if (nse == 0 || se[0].klen != 0) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupt checkpoint index '%s': no bundle header",
                       r->index_path);
        goto fail;
    }
    if (check_header(&se[0], why, sizeof why)) {
        tfc_status_set(st, TFC_UNIMPLEMENTED, "checkpoint '%s': %s", r->index_path, why);
        goto fail;
    }
    r->entries = calloc((size_t)nse, sizeof *r->entries);
    if (!r->entries) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        goto fail;
    }
    for (int i = 1; i < nse; i++) {
        bundle_entry *e = &r->entries[r->n];
        if (parse_entry(&se[i], e)) {
            tfc_status_set(st, TFC_DATA_LOSS,
                           "corrupt checkpoint index '%s': malformed entry for '%s'",
                           r->index_path, se[i].key);
            goto fail;
        }
        e->name = se[i].key;
        se[i].key = NULL;
        r->n++;
    }
    tfc_sstable_entries_free(se, nse);
    free(bytes);
    return r;
fail:
    tfc_sstable_entries_free(se, nse);
    free(bytes);
    tfc_checkpoint_reader_free(r);
    return NULL;
}

int tfc_checkpoint_reader_num(const tfc_checkpoint_reader *r) { return r ? r->n : 0; }

const char *tfc_checkpoint_reader_name(const tfc_checkpoint_reader *r, int i) {
    return r && i >= 0 && i < r->n ? r->entries[i].name : NULL;
}

int tfc_checkpoint_reader_raw_dtype(const tfc_checkpoint_reader *r, int i) {
    return r && i >= 0 && i < r->n ? r->entries[i].raw_dtype : 0;
}

tfc_dtype tfc_checkpoint_reader_dtype(const tfc_checkpoint_reader *r, int i) {
    int dt = tfc_checkpoint_reader_raw_dtype(r, i);
    return is_tfc_dtype(dt) ? (tfc_dtype)dt : TFC_INVALID_DTYPE;
}

tfc_shape tfc_checkpoint_reader_shape(const tfc_checkpoint_reader *r, int i) {
    tfc_shape s = {-1, {0}};
    return r && i >= 0 && i < r->n ? r->entries[i].shape : s;
}

int tfc_checkpoint_reader_find(const tfc_checkpoint_reader *r, const char *name) {
    int lo = 0, hi = r ? r->n - 1 : -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(r->entries[mid].name, name);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Reads the string tensor of entry `e` (layout: append_string_tensor),
 * whose `size` payload bytes the caller checked the file holds. The whole
 * payload goes into one block of the tensor's string storage and the
 * views point into it past the lengths, so each byte is read once and
 * never copied. */
static tfc_tensor *read_string_tensor(FILE *f, const bundle_entry *e,
                                      const tfc_checkpoint_reader *r, uint64_t size,
                                      tfc_status *st) {
    const char *name = e->name;
    if (size > SIZE_MAX) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "tensor '%s' in '%s' is too large", name,
                       r->data_path);
        return NULL;
    }
    tfc_tensor *t = tfc_tensor_alloc(TFC_STRING, e->shape.rank, e->shape.dims);
    uint8_t *p = t ? (uint8_t *)tfc_string_alloc(t, (size_t)size) : NULL;
    if (!p) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED,
                       "out of memory reading tensor '%s' (%llu bytes) from '%s'", name,
                       (unsigned long long)size, r->data_path);
        tfc_tensor_free(t);
        return NULL;
    }
    if (fseeko(f, (off_t)e->offset, SEEK_SET) != 0 || fread(p, 1, (size_t)size, f) != size) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "checkpoint data '%s' is truncated: cannot read tensor '%s'",
                       r->data_path, name);
        tfc_tensor_free(t);
        return NULL;
    }
    const uint8_t *q = p, *end = p + size;
    tfc_string *v = t->data;
    uint32_t crc = 0;
    uint64_t total = 0;
    const char *why = NULL;
    for (int64_t i = 0; i < t->nelem && !why; i++) {
        uint64_t len;
        if (pb_get_varint(&q, end, &len)) {
            why = "a malformed string length";
            break;
        }
        if (len > size) {
            why = "string lengths longer than the entry";
            break;
        }
        v[i].len = (size_t)len;
        total += len;
        if (total > size) why = "string lengths longer than the entry";
        crc = extend_crc_by_length(crc, len);
    }
    if (!why && (size_t)(end - q) < 4) why = "string lengths longer than the entry";
    if (!why && tfc_crc32c_unmask(tfc_get_u32le(q)) != crc)
        why = "the string lengths' checksum does not match";
    if (!why) {
        crc = tfc_crc32c_extend(crc, q, 4);
        q += 4;
        if (total != (uint64_t)(end - q)) why = "string lengths do not add up to the entry's size";
    }
    if (why) {
        memset(t->data, 0, t->nbytes);
        tfc_tensor_free(t);
        tfc_status_set(st, TFC_DATA_LOSS, "tensor '%s' in checkpoint data '%s': %s", name,
                       r->data_path, why);
        return NULL;
    }
    for (int64_t i = 0; i < t->nelem; i++) {
        v[i].data = v[i].len ? (const char *)q : NULL;
        q += v[i].len;
    }
    if (tfc_crc32c_mask(tfc_crc32c_extend(crc, q - total, (size_t)total)) != e->masked_crc) {
        memset(t->data, 0, t->nbytes);
        tfc_tensor_free(t);
        tfc_status_set(st, TFC_DATA_LOSS,
                       "checksum does not match for tensor '%s' in checkpoint data '%s'", name,
                       r->data_path);
        return NULL;
    }
    return t;
}

tfc_tensor *tfc_checkpoint_reader_get(tfc_checkpoint_reader *r, const char *name,
                                      tfc_status *st) {
    int i = tfc_checkpoint_reader_find(r, name);
    if (i < 0) {
        tfc_status_set(st, TFC_NOT_FOUND, "tensor '%s' not found in checkpoint '%s'", name,
                       r ? r->index_path : "");
        return NULL;
    }
    const bundle_entry *e = &r->entries[i];
    if (e->sliced || e->shard != 0) {
        tfc_status_set(st, TFC_UNIMPLEMENTED, "tensor '%s' in '%s' is partitioned", name,
                       r->index_path);
        return NULL;
    }
    if (!is_tfc_dtype(e->raw_dtype) || e->shape.rank < 0) {
        tfc_status_set(st, TFC_UNIMPLEMENTED, "tensor '%s' in '%s' has dtype %d, unsupported",
                       name, r->index_path, e->raw_dtype);
        return NULL;
    }
    /* Everything the index claims is checked against the data file before
     * anything is allocated: a corrupt index cannot make the reader ask for
     * more memory than the file holds. */
    int64_t count = tfc_dims_num_elements(e->shape.rank, e->shape.dims);
    size_t esize = tfc_dtype_size((tfc_dtype)e->raw_dtype);
    if (count < 0 || (uint64_t)count > UINT64_MAX / esize) {
        tfc_status_set(st, TFC_DATA_LOSS, "tensor '%s' in '%s' has an invalid shape", name,
                       r->index_path);
        return NULL;
    }
    int is_string = e->raw_dtype == TFC_STRING;
    /* a string tensor's size is its payload's: at least a byte per length
     * and the lengths' 4-byte CRC */
    uint64_t nbytes = is_string ? e->size : (uint64_t)count * esize;
    if (is_string && e->size < (uint64_t)count + 4) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "tensor '%s' in '%s': entry size %llu is too small for %lld strings", name,
                       r->index_path, (unsigned long long)e->size, (long long)count);
        return NULL;
    }
    if (!is_string && e->size != nbytes) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "tensor '%s' in '%s': entry size %llu does not match its shape (%llu bytes)",
                       name, r->index_path, (unsigned long long)e->size,
                       (unsigned long long)nbytes);
        return NULL;
    }
    FILE *f = fopen(r->data_path, "rb");
    if (!f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot open checkpoint data '%s' (for '%s'): %s",
                       r->data_path, name, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
        (e->offset > (uint64_t)sb.st_size || nbytes > (uint64_t)sb.st_size - e->offset)) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "checkpoint data '%s' is truncated: tensor '%s' needs %llu bytes at "
                       "offset %llu of a %lld-byte file",
                       r->data_path, name, (unsigned long long)nbytes,
                       (unsigned long long)e->offset, (long long)sb.st_size);
        fclose(f);
        return NULL;
    }
    if (is_string) {
        tfc_tensor *t = read_string_tensor(f, e, r, nbytes, st);
        fclose(f);
        return t;
    }
    tfc_tensor *t = tfc_tensor_alloc((tfc_dtype)e->raw_dtype, e->shape.rank, e->shape.dims);
    if (!t) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED,
                       "out of memory reading tensor '%s' (%llu bytes) from '%s'", name,
                       (unsigned long long)nbytes, r->data_path);
        fclose(f);
        return NULL;
    }
    int ok = fseeko(f, (off_t)e->offset, SEEK_SET) == 0 &&
             fread(t->data, 1, t->nbytes, f) == t->nbytes;
    fclose(f);
    if (!ok) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "checkpoint data '%s' is truncated: cannot read tensor '%s'",
                       r->data_path, name);
        tfc_tensor_free(t);
        return NULL;
    }
    if (tfc_crc32c_mask(tfc_crc32c(t->data, t->nbytes)) != e->masked_crc) {
        tfc_status_set(st, TFC_DATA_LOSS,
                       "checksum does not match for tensor '%s' in checkpoint data '%s'", name,
                       r->data_path);
        tfc_tensor_free(t);
        return NULL;
    }
    return t;
}
