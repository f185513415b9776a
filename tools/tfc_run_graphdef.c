/* tfc_run_graphdef: the smallest useful inference program, what
 * bench/inference_size.sh measures (docs/MOBILE.md). Loads a frozen
 * GraphDef, feeds a float batch to a placeholder, runs one output and
 * prints its shape, its first values and each row's argmax.
 *
 *   tfc_run_graphdef model.pb [input [output [batch]]]
 *
 * input defaults to "x", output to "y", batch to 1. The input's unknown
 * dimensions (a -1 batch) become `batch`; its values are a fixed formula,
 * so two builds can be compared by their printed numbers. */
#include "tfc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s model.pb [input [output [batch]]]\n", argv[0]);
        return 2;
    }
    const char *in_name = argc > 2 ? argv[2] : "x", *out_name = argc > 3 ? argv[3] : "y";
    long batch = argc > 4 ? atol(argv[4]) : 1;
    if (batch < 1) batch = 1;
    int rc = 1;
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    tfc_session *s = NULL;
    tfc_tensor *x = NULL, *y = NULL;
    if (tfc_graph_import_graphdef_file(g, argv[1], NULL, st) != 0) goto done;
    tfc_node *in = tfc_graph_node_by_name(g, in_name), *out = tfc_graph_node_by_name(g, out_name);
    if (!in || !out) {
        fprintf(stderr, "%s: %s has no node '%s'\n", argv[0], argv[1], in ? out_name : in_name);
        goto done;
    }
    tfc_shape shape = tfc_output_shape(tfc_out(in, 0));
    if (shape.rank < 0 || tfc_output_dtype(tfc_out(in, 0)) != TFC_FLOAT) {
        fprintf(stderr, "%s: input '%s' must be float32 with a known rank\n", argv[0], in_name);
        goto done;
    }
    for (int i = 0; i < shape.rank; i++)
        if (shape.dims[i] < 0) shape.dims[i] = batch;
    x = tfc_tensor_new(TFC_FLOAT, shape.rank, shape.dims);
    if (!x) goto done;
    float *xv = tfc_tensor_data(x);
    for (int64_t i = 0; i < tfc_tensor_num_elements(x); i++)
        xv[i] = (float)(0.5 + 0.5 * sin(0.1 * (double)i));
    s = tfc_session_new(g, NULL, st);
    if (!s) goto done;
    tfc_output feed = tfc_out(in, 0), fetch = tfc_out(out, 0);
    tfc_session_run(s, &feed, &x, 1, &fetch, 1, &y, NULL, 0, st);
    if (tfc_status_code(st) != TFC_OK || tfc_tensor_dtype(y) != TFC_FLOAT) goto done;
    printf("%s: [", out_name);
    for (int i = 0; i < tfc_tensor_rank(y); i++)
        printf(i ? ", %lld" : "%lld", (long long)tfc_tensor_dim(y, i));
    printf("]\n");
    const float *yv = tfc_tensor_data(y);
    int64_t n = tfc_tensor_num_elements(y),
            row = tfc_tensor_rank(y) ? tfc_tensor_dim(y, tfc_tensor_rank(y) - 1) : 1;
    for (int64_t i = 0; i < n && i < 10; i++)
        printf("%.6g%s", yv[i], i + 1 < n && i < 9 ? " " : "\n");
    for (int64_t r = 0; row > 0 && r < n / row; r++) {
        int64_t best = 0;
        for (int64_t j = 1; j < row; j++)
            if (yv[r * row + j] > yv[r * row + best]) best = j;
        printf("row %lld: argmax %lld\n", (long long)r, (long long)best);
    }
    rc = 0;
done:
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "%s: %s\n", argv[0], tfc_status_message(st));
    tfc_tensor_free(x);
    tfc_tensor_free(y);
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
    return rc;
}
