/* ParseExample: serialized tf.train.Example protos (protos/example.proto)
 * into dense tensors (tf.FixedLenFeature, with defaults) and sparse
 * triples (tf.VarLenFeature), with TensorFlow's op signature:
 *   inputs  serialized [B], names [B] or [0], sparse_keys (Nsparse string
 *           scalars), dense_keys (Ndense), dense_defaults (Ndense)
 *   attrs   Nsparse, Ndense, sparse_types, Tdense, dense_shapes
 *   outputs sparse_indices (Nsparse int64 [n, 2]), sparse_values,
 *           sparse_shapes (int64 [2]), dense_values ([B] + dense_shape)
 * ParseSingleExample (TensorFlow 1.7 on): one record (a scalar), its keys
 * in list(string) attrs, outputs without the batch dim (sparse indices
 * [n, 1], sparse shapes [1]):
 *   inputs  serialized (scalar), dense_defaults (Ndense)
 *   attrs   num_sparse, sparse_keys, dense_keys, sparse_types, Tdense,
 *           dense_shapes
 * tfc_parse_single_example builds it. Errors name the record (its index,
 * and its name when given) and the feature. */
#include "data/attr_lists.h"
#include "graph/op_registry.h"

#include "core/dtype.h"
#include "data/example_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PMAX = 128 }; /* keys of each kind */

static int type_ok(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_INT64 || dt == TFC_STRING; }

/* A node's attrs, parsed when it is built (its op_data, one block) */
typedef struct parse_def {
    int ns, nd;
    int single;         /* ParseSingleExample: one record, no batch dim */
    tfc_dtype *stypes;  /* [ns] */
    tfc_shape *dshapes; /* [nd] */
    int64_t *per;       /* [nd]: elements of each dense feature */
    const char **keys;  /* [ns + nd], sparse first (ParseSingleExample's, copied here) */
    size_t *keylens;
} parse_def;

/* The outputs, Tdense and the node's parse_def, shared by both ops once
 * their own inputs and attrs are checked: dense defaults are inputs
 * [first_default, first_default + nd); keys (single only) the attrs'. */
static int infer_outputs(tfc_infer_ctx *c, int ns, int nd, const tfc_dtype *stypes,
                         const tfc_shape *dshapes, int first_default, int single,
                         const char *const *keys) {
    int64_t batch = -1;
    if (!single) {
        tfc_shape ser = tfc_infer_input_shape(c, 0);
        if (ser.rank > 1)
            return tfc_infer_error(c, "serialized must be a vector, got rank %d", ser.rank);
        batch = ser.rank == 1 ? ser.dims[0] : -1;
    }
    int64_t tdense[PMAX];
    if (tfc_infer_set_num_outputs(c, 3 * ns + nd)) return -1;
    for (int i = 0; i < ns; i++) {
        if (!type_ok(stypes[i]))
            return tfc_infer_error(c, "sparse_types[%d] is %s; float32, int64 or string expected",
                                   i, tfc_dtype_name(stypes[i]));
        int64_t id[2] = {-1, single ? 1 : 2};
        tfc_infer_set_output(c, i, TFC_INT64, tfc_shape_make(2, id));
        tfc_infer_set_output(c, ns + i, stypes[i], tfc_shape_vector(-1));
        tfc_infer_set_output(c, 2 * ns + i, TFC_INT64, tfc_shape_vector(single ? 1 : 2));
    }
    size_t keybytes = 0;
    for (int k = 0; single && k < ns + nd; k++) keybytes += strlen(keys[k]) + 1;
    for (int j = 0; j < nd; j++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, first_default + j);
        if (!type_ok(dt))
            return tfc_infer_error(c, "dense_defaults[%d] is %s; float32, int64 or string expected",
                                   j, tfc_dtype_name(dt));
        if (!tfc_shape_is_fully_defined(&dshapes[j]) || dshapes[j].rank >= TFC_MAX_RANK)
            return tfc_infer_error(c, "dense_shapes[%d] must be fully defined and of rank below %d",
                                   j, TFC_MAX_RANK);
        tdense[j] = dt;
        tfc_shape out = {.rank = dshapes[j].rank + !single};
        out.dims[0] = batch;
        memcpy(out.dims + !single, dshapes[j].dims, sizeof *out.dims * (size_t)dshapes[j].rank);
        tfc_infer_set_output(c, 3 * ns + j, dt, out);
    }
    if (tfc_attrs_set_int_list(c->attrs, "Tdense", tdense, nd))
        return tfc_infer_error(c, "out of memory");
    /* the attrs as the kernel wants them, parsed once */
    size_t nk = single ? (size_t)(ns + nd) : 0;
    parse_def *d = malloc(sizeof *d + sizeof(tfc_shape) * (size_t)nd +
                          sizeof(int64_t) * (size_t)nd + sizeof(size_t) * nk + sizeof(char *) * nk +
                          sizeof(tfc_dtype) * (size_t)ns + keybytes);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->ns = ns;
    d->nd = nd;
    d->single = single;
    d->dshapes = (tfc_shape *)(d + 1);
    d->per = (int64_t *)(d->dshapes + nd);
    d->keylens = (size_t *)(d->per + nd);
    d->keys = (const char **)(d->keylens + nk);
    d->stypes = (tfc_dtype *)(d->keys + nk);
    char *bytes = (char *)(d->stypes + ns);
    memcpy(d->stypes, stypes, sizeof *stypes * (size_t)ns);
    memcpy(d->dshapes, dshapes, sizeof *dshapes * (size_t)nd);
    for (int j = 0; j < nd; j++)
        d->per[j] = tfc_dims_num_elements(dshapes[j].rank, dshapes[j].dims);
    for (size_t k = 0; k < nk; k++) {
        d->keylens[k] = strlen(keys[k]);
        d->keys[k] = memcpy(bytes, keys[k], d->keylens[k] + 1);
        bytes += d->keylens[k] + 1;
    }
    free(c->op_data);
    c->op_data = d;
    return 0;
}

static int parse_infer(tfc_infer_ctx *c) {
    int64_t ns = tfc_attrs_int(c->attrs, "Nsparse", -1), nd = tfc_attrs_int(c->attrs, "Ndense", -1);
    if (ns < 0 || nd < 0 || ns > PMAX || nd > PMAX)
        return tfc_infer_error(c, "attrs Nsparse and Ndense must be 0 to %d", PMAX);
    if (c->ninputs != 2 + ns + 2 * nd)
        return tfc_infer_error(c,
                               "expected %lld inputs (serialized, names, %lld sparse keys, "
                               "%lld dense keys, %lld dense defaults), got %d",
                               (long long)(2 + ns + 2 * nd), (long long)ns, (long long)nd,
                               (long long)nd, c->ninputs);
    tfc_dtype stypes[PMAX];
    tfc_shape dshapes[PMAX];
    if (tfc_attr_type_list(c->attrs, "sparse_types", stypes, PMAX) != ns)
        return tfc_infer_error(c, "attr 'sparse_types' must list %lld dtypes", (long long)ns);
    if (tfc_attr_shape_list(c->attrs, "dense_shapes", dshapes, PMAX) != nd)
        return tfc_infer_error(c, "attr 'dense_shapes' must list %lld shapes", (long long)nd);
    for (int i = 0; i < c->ninputs - (int)nd; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i);
        if (dt != TFC_STRING)
            return tfc_infer_error(c, "input %d (%s) must be a string tensor, got %s", i,
                                   i == 0   ? "serialized"
                                   : i == 1 ? "names"
                                            : "a key",
                                   tfc_dtype_name(dt));
    }
    return infer_outputs(c, (int)ns, (int)nd, stypes, dshapes, 2 + (int)ns + (int)nd, 0, NULL);
}

/* The strings of list(string) attr `name`: their count (0 when absent),
 * -1 when it has more than PMAX or is another kind. */
static int key_list(tfc_infer_ctx *c, const char *name, const char *const **keys) {
    int n = tfc_attrs_string_list(c->attrs, name, keys);
    if (n < 0 && !tfc_attrs_find(c->attrs, name)) n = 0;
    return n > PMAX ? -1 : n;
}

static int single_infer(tfc_infer_ctx *c) {
    int64_t ns = tfc_attrs_int(c->attrs, "num_sparse", 0);
    const char *const *skeys, *const *dkeys;
    int nsk = key_list(c, "sparse_keys", &skeys), nd = key_list(c, "dense_keys", &dkeys);
    if (ns < 0 || ns > PMAX || nsk != ns)
        return tfc_infer_error(c,
                               "attr 'sparse_keys' must list num_sparse (%lld, at most %d) "
                               "strings",
                               (long long)ns, PMAX);
    if (nd < 0) return tfc_infer_error(c, "attr 'dense_keys' must list at most %d strings", PMAX);
    if (c->ninputs != 1 + nd)
        return tfc_infer_error(c, "expected %d inputs (serialized, %d dense defaults), got %d",
                               1 + nd, nd, c->ninputs);
    tfc_dtype stypes[PMAX];
    tfc_shape dshapes[PMAX];
    if (tfc_attr_type_list(c->attrs, "sparse_types", stypes, PMAX) != ns)
        return tfc_infer_error(c, "attr 'sparse_types' must list %lld dtypes", (long long)ns);
    if (tfc_attr_shape_list(c->attrs, "dense_shapes", dshapes, PMAX) != nd)
        return tfc_infer_error(c, "attr 'dense_shapes' must list %d shapes", nd);
    tfc_shape ser = tfc_infer_input_shape(c, 0);
    if (tfc_infer_input_dtype(c, 0) != TFC_STRING || ser.rank > 0)
        return tfc_infer_error(c, "serialized must be a string scalar, got %s of rank %d",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)), ser.rank);
    const char *keys[2 * PMAX];
    for (int k = 0; k < ns; k++) keys[k] = skeys[k];
    for (int k = 0; k < nd; k++) keys[ns + k] = dkeys[k];
    return infer_outputs(c, (int)ns, nd, stypes, dshapes, 1, 1, keys);
}

static const char *kind_name(int k) {
    return k == EXW_FLOAT ? "float" : k == EXW_INT64 ? "int64" : k == EXW_BYTES ? "string" : "none";
}

static int kind_of(tfc_dtype dt) {
    return dt == TFC_FLOAT ? EXW_FLOAT : dt == TFC_INT64 ? EXW_INT64 : EXW_BYTES;
}

/* Copies f's values into t from element `at`; string values become views
 * into the record, copied into the output's own storage at the end (one
 * block for all: tfc_tensor_own_strings). The views cannot stay: an alias
 * of the output (parse_single_example's Squeeze) keeps only the tensor
 * that owns its elements' array, so the output has to own its bytes. */
static void put_values(tfc_tensor *t, int64_t at, const exw_feature *f) {
    if (!f->count) return; /* t may be NULL then (an empty sparse list) */
    switch (f->kind) {
    case EXW_FLOAT: exw_floats(f, (float *)t->data + at); return;
    case EXW_INT64: exw_int64s(f, (int64_t *)t->data + at); return;
    case EXW_BYTES: exw_bytes(f, (tfc_string *)t->data + at); return;
    default: return;
    }
}

/* A sparse key's values so far. */
typedef struct sparse_acc {
    int64_t n, cap, widest;
    int64_t *rows;
    tfc_tensor *values; /* grows by doubling */
} sparse_acc;

static int sparse_add(sparse_acc *s, tfc_dtype dt, int64_t row, const exw_feature *f) {
    size_t count = f->count;
    if (s->n + (int64_t)count > s->cap) {
        int64_t cap = s->cap ? s->cap : 64;
        while (cap < s->n + (int64_t)count) cap *= 2;
        tfc_tensor *v = tfc_tensor_new(dt, 1, &cap);
        int64_t *rows = realloc(s->rows, sizeof *rows * (size_t)cap);
        if (!v || !rows) {
            tfc_tensor_free(v);
            if (rows) s->rows = rows;
            return -1;
        }
        s->rows = rows;
        /* (string values are views into the records until the output) */
        if (s->values) memcpy(v->data, s->values->data, (size_t)s->n * tfc_dtype_bytes(dt));
        tfc_tensor_free(s->values);
        s->values = v;
        s->cap = cap;
    }
    put_values(s->values, s->n, f);
    for (size_t k = 0; k < count; k++) s->rows[s->n + (int64_t)k] = row;
    s->n += (int64_t)count;
    if ((int64_t)count > s->widest) s->widest = (int64_t)count;
    return 0;
}

/* "Name: <name> (record i)" for errors (made only when one happens) */
static const char *record_where(char *buf, size_t n, const tfc_tensor *names, int64_t i) {
    tfc_string nm = names && names->nelem ? tfc_string_at(names, i) : (tfc_string){"<unknown>", 9};
    snprintf(buf, n, "Name: %.*s (record %lld)", (int)(nm.len > 100 ? 100 : nm.len), nm.data,
             (long long)i);
    return buf;
}

/* Both ops: ParseExample (keys and names in its inputs, a batch dim on
 * its outputs) and ParseSingleExample (keys in its parse_def, one record,
 * no batch dim). */
static void parse_kernel(tfc_kernel_ctx *c) {
    const parse_def *pd = c->node->op_data;
    int ns = pd->ns, nd = pd->nd, single = pd->single;
    const tfc_dtype *stypes = pd->stypes;
    const tfc_shape *dshapes = pd->dshapes;
    const int64_t *per = pd->per;
    const tfc_tensor *ser = c->inputs[0], *names = single ? NULL : c->inputs[1];
    int first_default = single ? 1 : 2 + ns + nd, lead = !single; /* the batch dim */
    int64_t batch = ser->rank == 1 ? ser->dims[0] : 1;
    if (names && names->nelem != 0 && names->nelem != batch) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "names has %lld elements, serialized %lld",
                         (long long)names->nelem, (long long)batch);
        return;
    }
    tfc_tensor *dense[PMAX];
    for (int j = 0; j < nd; j++) {
        int64_t dims[TFC_MAX_RANK];
        dims[0] = batch;
        if (dshapes[j].rank)
            memcpy(dims + lead, dshapes[j].dims, sizeof *dims * (size_t)dshapes[j].rank);
        const tfc_tensor *dflt = c->inputs[first_default + j];
        if (dflt->nelem != 0 && dflt->nelem != 1 && dflt->nelem != per[j]) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "dense_defaults[%d] has %lld values; the feature %lld (or 1, or 0: "
                             "required)",
                             j, (long long)dflt->nelem, (long long)per[j]);
            return;
        }
        dense[j] = tfc_kernel_output(c, 3 * ns + j, c->node->out_dtypes[3 * ns + j],
                                     dshapes[j].rank + lead, dims);
        if (!dense[j]) return;
    }
    sparse_acc acc[PMAX];
    if (ns) memset(acc, 0, sizeof *acc * (size_t)ns);
    int ok = 0;
    /* the keys, sparse ones first, looked up in one pass over each record */
    const char *keys[2 * PMAX];
    size_t keylens[2 * PMAX];
    exw_feature feats[2 * PMAX];
    int found[2 * PMAX];
    for (int k = 0; k < ns + nd; k++) {
        tfc_string key =
            single ? (tfc_string){pd->keys[k], pd->keylens[k]} : tfc_string_at(c->inputs[2 + k], 0);
        keys[k] = key.data;
        keylens[k] = key.len;
    }
    char where[300], b[96];
    for (int64_t i = 0; i < batch; i++) {
        tfc_string rec = tfc_string_at(ser, ser->rank ? i : 0);
        const uint8_t *rp = (const uint8_t *)rec.data;
        if (exw_scan(rp, rec.len, keys, keylens, ns + nd, feats, found)) {
            tfc_kernel_error(
                c, TFC_INVALID_ARGUMENT,
                "%s: Could not parse example input (%zu bytes): not a tf.train.Example",
                record_where(where, sizeof where, names, i), rec.len);
            goto done;
        }
        for (int j = 0; j < nd; j++) {
            tfc_string key = {keys[ns + j], keylens[ns + j]};
            tfc_dtype dt = dense[j]->dtype;
            const exw_feature f = feats[ns + j];
            size_t count = found[ns + j] ? f.count : 0;
            int64_t at = i * per[j];
            int bad = 0;
            if (!found[ns + j] || f.kind == EXW_NONE) {
                const tfc_tensor *dflt = c->inputs[first_default + j];
                if (!dflt->nelem) {
                    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                     "%s, Feature: %.*s (data type: %s) is required but could not "
                                     "be found.",
                                     record_where(where, sizeof where, names, i), (int)key.len,
                                     key.data, tfc_dtype_name(dt));
                    bad = 1;
                }
                for (int64_t k = 0; !bad && k < per[j]; k++) {
                    int64_t from = dflt->nelem == 1 ? 0 : k;
                    if (dt == TFC_STRING) { /* a view, copied at the end */
                        ((tfc_string *)dense[j]->data)[at + k] = tfc_string_at(dflt, from);
                    } else {
                        size_t esz = tfc_dtype_bytes(dt);
                        memcpy((char *)dense[j]->data + (size_t)(at + k) * esz,
                               (const char *)dflt->data + (size_t)from * esz, esz);
                    }
                }
            } else if (f.kind != kind_of(dt)) {
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "%s, Feature: %.*s.  Data types don't match. Data type: %s but "
                                 "expected type: %s",
                                 record_where(where, sizeof where, names, i), (int)key.len,
                                 key.data, kind_name(f.kind), kind_name(kind_of(dt)));
                bad = 1;
            } else if ((int64_t)count != per[j]) {
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "%s, Key: %.*s, Index: %lld.  Number of %s values != expected.  "
                                 "Values size: %zu but output shape: %s",
                                 record_where(where, sizeof where, names, i), (int)key.len,
                                 key.data, (long long)i, kind_name(f.kind), count,
                                 tfc_shape_str(&dshapes[j], b, sizeof b));
                bad = 1;
            } else {
                put_values(dense[j], at, &f);
            }
            if (bad) goto done;
        }
        for (int s = 0; s < ns; s++) {
            tfc_string key = {keys[s], keylens[s]};
            const exw_feature f = feats[s];
            if (!found[s] || f.kind == EXW_NONE) continue;
            if (f.kind != kind_of(stypes[s])) {
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "%s, Feature: %.*s.  Data types don't match. Data type: %s but "
                                 "expected type: %s",
                                 record_where(where, sizeof where, names, i), (int)key.len,
                                 key.data, kind_name(f.kind), kind_name(kind_of(stypes[s])));
                goto done;
            }
            if (sparse_add(&acc[s], stypes[s], i, &f)) {
                tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory parsing");
                goto done;
            }
        }
    }
    for (int s = 0; s < ns; s++) {
        int64_t width = 1 + lead, id[2] = {acc[s].n, width};
        tfc_tensor *ix = tfc_kernel_output(c, s, TFC_INT64, 2, id);
        tfc_tensor *vals = tfc_kernel_output(c, ns + s, stypes[s], 1, &acc[s].n);
        tfc_tensor *shape = tfc_kernel_output(c, 2 * ns + s, TFC_INT64, 1, &width);
        if (!ix || !vals || !shape) goto done;
        int64_t *ip = ix->data;
        for (int64_t k = 0, col = 0; k < acc[s].n; k++) {
            col = k && acc[s].rows[k] == acc[s].rows[k - 1] ? col + 1 : 0;
            if (lead) ip[2 * k] = acc[s].rows[k];
            ip[width * k + lead] = col;
        }
        if (acc[s].n) {
            memcpy(vals->data, acc[s].values->data, (size_t)acc[s].n * tfc_dtype_bytes(stypes[s]));
            if (tfc_tensor_own_strings(vals)) goto oom;
        }
        if (lead) ((int64_t *)shape->data)[0] = batch;
        ((int64_t *)shape->data)[lead] = acc[s].widest;
    }
    for (int j = 0; j < nd; j++)
        if (tfc_tensor_own_strings(dense[j])) goto oom;
    ok = 1;
    goto done;
oom:
    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory parsing");
done:
    /* after an error, no output keeps views into its inputs */
    for (int k = 0; !ok && k < c->noutputs; k++) {
        tfc_tensor *t = c->outputs[k];
        if (t && t->dtype == TFC_STRING && !t->base && !t->strings) memset(t->data, 0, t->nbytes);
    }
    for (int s = 0; s < ns; s++) {
        free(acc[s].rows);
        tfc_tensor_free(acc[s].values);
    }
}

const tfc_op_def tfc_ops_parse[] = {
    {"ParseExample", 2, -1, 0, TFC_OP_STRINGS | TFC_OP_NO_GRADIENT, 0, parse_infer, parse_kernel,
     NULL},
    {"ParseSingleExample", 1, -1, 0, TFC_OP_STRINGS | TFC_OP_NO_GRADIENT, 0, single_infer,
     parse_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

/* ParseExample (single 0) or ParseSingleExample (1) of the features. */
static int build_parse(tfc_graph *g, int single, tfc_output serialized,
                       const tfc_parse_feature *features, int n, tfc_output *out) {
    if (!g || tfc_graph_error(g)) return -1;
    int ns = 0, nd = 0;
    int64_t stypes[PMAX];
    tfc_shape dshapes[PMAX];
    const char *skeys[PMAX], *dkeys[PMAX];
    for (int i = 0; i < n && ns <= PMAX && nd <= PMAX; i++) {
        const char *key = features[i].key ? features[i].key : "";
        if (features[i].var_len) {
            if (ns < PMAX) skeys[ns] = key, stypes[ns] = features[i].dtype;
            ns++;
        } else {
            if (nd < PMAX)
                dkeys[nd] = key, dshapes[nd] = tfc_shape_make(features[i].rank, features[i].dims);
            nd++;
        }
    }
    if (ns > PMAX || nd > PMAX) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: more than %d features",
                       single ? "tfc_parse_single_example" : "tfc_parse_example", PMAX);
        return -1;
    }
    tfc_op_desc *d = tfc_op_new(g, single ? "ParseSingleExample" : "ParseExample", NULL);
    tfc_op_add_input(d, serialized);
    if (!single) {
        tfc_op_add_input(d, tfc_const_strings(g, 1, (int64_t[]){0}, NULL, NULL));
        for (int i = 0; i < ns; i++) tfc_op_add_input(d, tfc_const_string(g, skeys[i]));
        for (int i = 0; i < nd; i++) tfc_op_add_input(d, tfc_const_string(g, dkeys[i]));
    }
    for (int i = 0; i < n; i++) {
        if (features[i].var_len) continue;
        tfc_output dflt = features[i].default_value;
        if (!dflt.node) dflt = tfc_const_data(g, features[i].dtype, 1, (int64_t[]){0}, NULL);
        tfc_op_add_input(d, dflt);
    }
    if (single) {
        tfc_op_set_attr_int(d, "num_sparse", ns);
        tfc_op_set_attr_string_list(d, "sparse_keys", skeys, ns);
        tfc_op_set_attr_string_list(d, "dense_keys", dkeys, nd);
    } else {
        tfc_op_set_attr_int(d, "Nsparse", ns);
        tfc_op_set_attr_int(d, "Ndense", nd);
    }
    tfc_op_set_attr_int_list(d, "sparse_types", stypes, ns);
    /* list(shape) in its int-list form (data/attr_lists.h) */
    int64_t v[PMAX * (TFC_MAX_RANK + 1) + 1];
    int k = 0;
    for (int j = 0; j < nd; j++) {
        v[k++] = dshapes[j].rank;
        for (int r = 0; r < dshapes[j].rank; r++) v[k++] = dshapes[j].dims[r];
    }
    tfc_op_set_attr_int_list(d, "dense_shapes", v, k);
    tfc_node *node = tfc_op_finish(d);
    if (!node) return -1;
    /* out[i] (features' order): dense ones 1 output, sparse ones 3 */
    int si = 0, di = 0, o = 0;
    for (int i = 0; i < n; i++) {
        if (features[i].var_len) {
            out[o++] = tfc_out(node, si);
            out[o++] = tfc_out(node, ns + si);
            out[o++] = tfc_out(node, 2 * ns + si);
            si++;
        } else {
            out[o++] = tfc_out(node, 3 * ns + di++);
        }
    }
    return 0;
}

int tfc_parse_example(tfc_graph *g, tfc_output serialized, const tfc_parse_feature *features, int n,
                      tfc_output *out) {
    return build_parse(g, 0, serialized, features, n, out);
}

int tfc_parse_single_example(tfc_graph *g, tfc_output serialized, const tfc_parse_feature *features,
                             int n, tfc_output *out) {
    return build_parse(g, 1, serialized, features, n, out);
}
