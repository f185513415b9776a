/* String tensors (TFC_STRING) through the core paths: the C API (build,
 * read, copy, free), feeds and fetches, constants, variables and Assign,
 * the array ops that move elements (against reference index loops, with
 * the inputs freed before the outputs are read, so a shared byte would be
 * a use after free under ASan), plan-time folding, and the build-time
 * refusal of ops that do not take strings. */
#include "core/tensor.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* A random string tensor: lengths 0..max_len, any byte values (NULs too). */
static tfc_tensor *random_strings(int rank, const int64_t *dims, int max_len) {
    tfc_tensor *t = tfc_tensor_new(TFC_STRING, rank, dims);
    int64_t n = tfc_tensor_num_elements(t);
    char buf[64];
    for (int64_t i = 0; i < n; i++) {
        int len = (int)tfc_test_uniform(0, max_len + 1);
        for (int k = 0; k < len; k++) buf[k] = (char)(int)tfc_test_uniform(0, 256);
        tfc_string_tensor_set(t, i, buf, (size_t)len);
    }
    return t;
}

/* Element i of a equals element j of b. */
static int same_elem(const tfc_tensor *a, int64_t i, const tfc_tensor *b, int64_t j) {
    size_t la, lb;
    const char *pa = tfc_string_tensor_get(a, i, &la), *pb = tfc_string_tensor_get(b, j, &lb);
    return pa && pb && la == lb && !memcmp(pa, pb, la);
}

static int same_strings(const tfc_tensor *a, const tfc_tensor *b) {
    if (tfc_tensor_dtype(a) != TFC_STRING || tfc_tensor_dtype(b) != TFC_STRING) return 0;
    if (tfc_tensor_rank(a) != tfc_tensor_rank(b)) return 0;
    for (int d = 0; d < tfc_tensor_rank(a); d++)
        if (tfc_tensor_dim(a, d) != tfc_tensor_dim(b, d)) return 0;
    for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++)
        if (!same_elem(a, i, b, i)) return 0;
    return 1;
}

static void test_c_api(void) {
    const char *strs[] = {"alpha", "", "x\0y", "a much longer string than the others"};
    size_t lens[] = {5, 0, 3, 36};
    int64_t dims[] = {2, 2};
    tfc_tensor *t = tfc_tensor_from_strings(2, dims, strs, lens);
    CHECK(t && tfc_tensor_dtype(t) == TFC_STRING && tfc_tensor_num_elements(t) == 4);
    for (int i = 0; i < 4; i++) {
        size_t len;
        const char *p = tfc_string_tensor_get(t, i, &len);
        CHECK(p && len == lens[i] && !memcmp(p, strs[i], len));
    }
    size_t len = 7;
    CHECK(tfc_string_tensor_get(t, 4, &len) == NULL && len == 0);
    CHECK(tfc_string_tensor_get(t, 1, &len) && len == 0);
    /* the views: read straight from tfc_tensor_data */
    const tfc_string *v = tfc_tensor_data(t);
    CHECK(v[3].len == 36 && !memcmp(v[3].data, strs[3], 36));
    CHECK(tfc_dtype_size(TFC_STRING) == sizeof(tfc_string));
    CHECK(!strcmp(tfc_dtype_name(TFC_STRING), "string"));

    /* a deep copy owns its bytes */
    tfc_tensor *c = tfc_tensor_copy(t);
    CHECK(same_strings(c, t));
    CHECK(((const tfc_string *)tfc_tensor_data(c))[0].data != v[0].data);
    tfc_tensor_free(t);
    size_t l3;
    CHECK(!memcmp(tfc_string_tensor_get(c, 3, &l3), strs[3], 36) && l3 == 36);

    /* set: overwrite, grow past one block, empty */
    int64_t n = 1000;
    tfc_tensor *big = tfc_tensor_new(TFC_STRING, 1, &n);
    CHECK(big && tfc_string_tensor_get(big, 999, &len) && len == 0);
    char buf[100];
    for (int64_t i = 0; i < n; i++) {
        int l = snprintf(buf, sizeof buf, "element-%lld", (long long)i);
        CHECK(tfc_string_tensor_set(big, i, buf, (size_t)l) == 0);
    }
    CHECK(tfc_string_tensor_set(big, 5, "again", 5) == 0);
    CHECK(tfc_string_tensor_set(big, 6, NULL, 0) == 0);
    CHECK(tfc_string_tensor_set(big, n, "x", 1) == -1);
    CHECK(tfc_string_tensor_set(c, -1, "x", 1) == -1);
    const char *p = tfc_string_tensor_get(big, 777, &len);
    CHECK(len == 11 && !memcmp(p, "element-777", 11));
    p = tfc_string_tensor_get(big, 5, &len);
    CHECK(len == 5 && !memcmp(p, "again", 5));
    tfc_string_tensor_get(big, 6, &len);
    CHECK(len == 0);

    /* from_data takes views; a NULL string is refused */
    tfc_string views[2] = {{"ab", 2}, {NULL, 0}};
    int64_t two = 2;
    tfc_tensor *fv = tfc_tensor_from_data(TFC_STRING, 1, &two, views);
    CHECK(fv && tfc_string_tensor_get(fv, 0, &len) && len == 2);
    tfc_string bad[1] = {{NULL, 3}};
    int64_t one = 1;
    CHECK(tfc_tensor_from_data(TFC_STRING, 1, &one, bad) == NULL);
    const char *nulls[] = {"a", NULL};
    CHECK(tfc_tensor_from_strings(1, &two, nulls, NULL) == NULL);
    tfc_tensor *sc = tfc_tensor_scalar_string("hello", (size_t)-1);
    CHECK(sc && tfc_tensor_rank(sc) == 0 && tfc_string_tensor_get(sc, 0, &len) && len == 5);
    /* numbers are not strings */
    tfc_tensor *f = tfc_tensor_scalar_float(1);
    CHECK(tfc_string_tensor_get(f, 0, &len) == NULL && tfc_string_tensor_set(f, 0, "a", 1) == -1);
    tfc_tensor_free(f);
    tfc_tensor_free(sc);
    tfc_tensor_free(fv);
    tfc_tensor_free(big);
    tfc_tensor_free(c);
}

/* Feeds and fetches: a placeholder fed strings comes back through Identity
 * with the same bytes, owned by the fetched tensor. */
static void test_feed_fetch_const(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {3, 5};
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 2, dims);
    tfc_output y = tfc_identity(g, x);
    const char *cs[] = {"one", "two"};
    int64_t two = 2;
    tfc_output k = tfc_const_strings(g, 1, &two, cs, NULL);
    tfc_output ks = tfc_const_string(g, "scalar");
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_dtype(y) == TFC_STRING);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *in = random_strings(2, dims, 40);
    tfc_tensor *keep = tfc_tensor_copy(in);
    tfc_output fetches[3] = {y, k, ks};
    tfc_tensor *out[3] = {NULL, NULL, NULL};
    tfc_session_run(s, &x, &in, 1, fetches, 3, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(in);
    CHECK(same_strings(out[0], keep));
    size_t len;
    CHECK(!memcmp(tfc_string_tensor_get(out[1], 1, &len), "two", 3) && len == 3);
    CHECK(!memcmp(tfc_string_tensor_get(out[2], 0, &len), "scalar", 6) && len == 6);
    for (int i = 0; i < 3; i++) tfc_tensor_free(out[i]);
    /* a float fed for a string placeholder names the dtypes */
    tfc_tensor *fl = tfc_tensor_new(TFC_FLOAT, 2, dims);
    tfc_session_run(s, &x, &fl, 1, &y, 1, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "dtype float32");
    CHECK_CONTAINS(tfc_status_message(st), "dtype string");
    tfc_tensor_free(fl);
    tfc_tensor_free(keep);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Runs `y` with x fed, frees the feed, returns the fetched tensor. */
static tfc_tensor *run_fed(tfc_graph *g, tfc_output x, tfc_tensor *in, tfc_output y) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *out = NULL;
    tfc_session_run(s, &x, &in, 1, &y, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(in);
    tfc_session_free(s);
    tfc_status_free(st);
    return out;
}

static void test_array_ops(void) {
    tfc_test_seed(7);
    int64_t dims[] = {4, 3, 5};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 3, dims);
    int64_t rdims[] = {12, 5};
    int32_t perm[] = {2, 0, 1};
    int64_t begin[] = {1, 0, 2}, size[] = {2, 3, 3};
    int64_t ids[] = {3, 0, 3, 1};
    int64_t nids = 4;
    tfc_output idx = tfc_const_data(g, TFC_INT64, 1, &nids, ids);
    tfc_output both[2] = {x, x};
    int32_t mult[] = {1, 2, 1};
    tfc_output outs[] = {
        tfc_reshape(g, x, 2, rdims),                /* 0 */
        tfc_expand_dims(g, x, 1),                   /* 1 */
        tfc_transpose(g, x, perm, 3),               /* 2 */
        tfc_slice(g, x, begin, size, 3),            /* 3 */
        tfc_gather(g, x, idx),                      /* 4 */
        tfc_concat(g, both, 2, 1),                  /* 5 */
        tfc_stack(g, both, 2, 0),                   /* 6 */
        tfc_tile(g, x, tfc_const_ints(g, mult, 3)), /* 7 */
        tfc_gather_v2(g, x, idx, 2),                /* 8 */
        tfc_size(g, x),                             /* 9 */
    };
    int nouts = (int)(sizeof outs / sizeof *outs);
    tfc_output un[4], sp[3];
    tfc_unstack(g, x, 4, 0, un);
    tfc_split(g, x, 1, 2, sp); /* one piece: the whole */
    CHECK_GRAPH_OK(g);
    tfc_tensor *ref = random_strings(3, dims, 20);
    for (int o = 0; o < nouts + 2; o++) {
        tfc_output y = o < nouts ? outs[o] : o == nouts ? un[2] : sp[0];
        tfc_tensor *out = run_fed(g, x, tfc_tensor_copy(ref), y);
        if (!out) continue;
        int ok = 1;
        int64_t n = tfc_tensor_num_elements(out);
        for (int64_t e = 0; e < n && ok; e++) {
            int64_t src = e; /* the element of ref that out[e] must be */
            int64_t i, j, k;
            switch (o) {
            case 2: /* out [5,4,3]: out[k][i][j] = x[i][j][k] */
                k = e / 12, i = e / 3 % 4, j = e % 3;
                src = (i * 3 + j) * 5 + k;
                break;
            case 3: /* out [2,3,3] */
                i = e / 9 + 1, j = e / 3 % 3, k = e % 3 + 2;
                src = (i * 3 + j) * 5 + k;
                break;
            case 4: src = ids[e / 15] * 15 + e % 15; break;
            case 5: /* [4,6,5] */
                i = e / 30, j = e / 5 % 6 % 3, k = e % 5;
                src = (i * 3 + j) * 5 + k;
                break;
            case 6: src = e % 60; break;
            case 7: /* [4,6,5] tiled along 1 */
                i = e / 30, j = e / 5 % 6 % 3, k = e % 5;
                src = (i * 3 + j) * 5 + k;
                break;
            case 8: /* [4,3,4]: x[i][j][ids[m]] */
                i = e / 12, j = e / 4 % 3;
                src = (i * 3 + j) * 5 + ids[e % 4];
                break;
            case 9: ok = *(int32_t *)tfc_tensor_data(out) == 60; continue;
            default: break;
            }
            if (o == nouts) src = 2 * 15 + e;
            ok = same_elem(out, e, ref, src);
        }
        CHECK_MSG(ok, "array op %d moved a string wrongly", o);
        tfc_tensor_free(out);
    }
    tfc_tensor_free(ref);
    tfc_graph_free(g);

    /* Fill and Squeeze */
    g = tfc_graph_new();
    int32_t fd[] = {2, 3};
    tfc_output f = tfc_fill(g, tfc_const_ints(g, fd, 2), tfc_const_string(g, "filled!"));
    int64_t d1[] = {1, 3, 1};
    tfc_output p = tfc_placeholder(g, "p", TFC_STRING, 3, d1);
    tfc_output q = tfc_squeeze(g, p, NULL, 0);
    CHECK_GRAPH_OK(g);
    tfc_tensor *ft = tfc_test_eval(g, f, NULL, NULL, 0);
    size_t len;
    CHECK(ft && tfc_tensor_num_elements(ft) == 6);
    for (int i = 0; ft && i < 6; i++)
        CHECK(!memcmp(tfc_string_tensor_get(ft, i, &len), "filled!", 7) && len == 7);
    tfc_tensor *pin = random_strings(3, d1, 9), *pkeep = tfc_tensor_copy(pin);
    tfc_tensor *qt = run_fed(g, p, pin, q);
    CHECK(qt && tfc_tensor_rank(qt) == 1);
    for (int i = 0; qt && i < 3; i++) CHECK(same_elem(qt, i, pkeep, i));
    tfc_tensor_free(qt);
    tfc_tensor_free(pkeep);
    tfc_tensor_free(ft);
    tfc_graph_free(g);
}

/* A string variable: initialized, fetched (a snapshot), reassigned. */
static void test_variable(void) {
    tfc_graph *g = tfc_graph_new();
    const char *a[] = {"red", "green"}, *b[] = {"blue", "a rather long yellow"};
    int64_t two = 2;
    tfc_output v = tfc_variable(g, "v", tfc_const_strings(g, 1, &two, a, NULL));
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 1, &two);
    tfc_output asg = tfc_assign(g, v, x);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *snap = NULL;
    tfc_session_run(s, NULL, NULL, 0, &v, 1, &snap, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *bt = tfc_tensor_from_strings(1, &two, b, NULL);
    tfc_tensor *after = NULL;
    tfc_session_run(s, &x, &bt, 1, &asg, 1, &after, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(bt);
    tfc_tensor *now = NULL;
    tfc_session_run(s, NULL, NULL, 0, &v, 1, &now, NULL, 0, st);
    size_t len;
    CHECK(snap && !memcmp(tfc_string_tensor_get(snap, 1, &len), "green", 5) && len == 5);
    CHECK(now && !memcmp(tfc_string_tensor_get(now, 1, &len), b[1], strlen(b[1])));
    CHECK(after && same_strings(after, now));
    /* a checkpoint holds the strings (TensorFlow's layout; more in
     * test_string_checkpoint.c): restoring brings the saved value back */
    char dir[] = "/tmp/tfc_strsave_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    tfc_saver *sv = tfc_saver_new(g, &v, 1, 0);
    const char *saved = tfc_saver_save(sv, s, prefix, 1, st);
    CHECK_STATUS_OK(st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK(saved && tfc_saver_restore(sv, s, saved, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_tensor *restored = NULL;
    tfc_session_run(s, NULL, NULL, 0, &v, 1, &restored, NULL, 0, st);
    CHECK(restored && same_strings(restored, now));
    tfc_tensor_free(restored);
    tfc_saver_free(sv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    tfc_status_free(st);
    st = tfc_status_new();
    tfc_tensor_free(snap);
    tfc_tensor_free(after);
    tfc_tensor_free(now);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Ops that do not take strings refuse them when the node is built. */
static void test_rejected_at_build(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    tfc_output x = tfc_placeholder(g, "words", TFC_STRING, 1, d);
    tfc_with_name(g, "negate");
    tfc_output y = tfc_neg(g, x);
    CHECK(y.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'negate' (Neg)");
    CHECK_CONTAINS(tfc_graph_error(g), "input 0 ('words:0') is a string tensor");
    tfc_graph_free(g);

    g = tfc_graph_new();
    x = tfc_placeholder(g, "words", TFC_STRING, 1, d);
    tfc_output z = tfc_zeros_like(g, x);
    CHECK(z.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "ZerosLike does not take string tensors");
    tfc_graph_free(g);

    /* a Cast to string (TensorFlow has AsString for that) */
    g = tfc_graph_new();
    tfc_output c = tfc_cast(g, tfc_const_float(g, 1), TFC_STRING);
    CHECK(c.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'Cast' (Cast)");
    tfc_graph_free(g);
}

/* A string Const through a folded chain gives what the unfolded plan
 * gives. */
static void test_folding(void) {
    tfc_graph *g = tfc_graph_new();
    const char *w[] = {"x", "yy", "zzz", "wwww"};
    int64_t four = 4;
    tfc_output k = tfc_const_strings(g, 1, &four, w, NULL);
    int64_t rd[] = {2, 2};
    tfc_output r = tfc_transpose(g, tfc_reshape(g, k, 2, rd), NULL, 0);
    CHECK_GRAPH_OK(g);
    for (int level = 0; level < 2; level++) {
        tfc_session_options o = {0};
        o.opt_level = level ? TFC_OPT_L1 : TFC_OPT_L0;
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, &o, st);
        tfc_tensor *out = NULL;
        tfc_session_run(s, NULL, NULL, 0, &r, 1, &out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        size_t len;
        CHECK(out && !memcmp(tfc_string_tensor_get(out, 1, &len), "zzz", 3) && len == 3);
        CHECK(out && !memcmp(tfc_string_tensor_get(out, 2, &len), "yy", 2) && len == 2);
        tfc_tensor_free(out);
        tfc_session_free(s);
        tfc_status_free(st);
    }
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_c_api), T(test_feed_fetch_const), T(test_array_ops), T(test_variable),
              T(test_rejected_at_build), T(test_folding))
