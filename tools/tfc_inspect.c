/* tfc_inspect: prints what an event file or a checkpoint holds, as
 * TensorFlow's inspect_checkpoint and `tensorboard --inspect` do.
 *   tfc_inspect model.ckpt-100            variable names, dtypes, shapes
 *   tfc_inspect --values model.ckpt-100   ... and their values
 *   tfc_inspect logs/events.out.tfevents.*  tags, steps and values
 *   tfc_inspect DIR                       the latest checkpoint in DIR
 *   tfc_inspect saved_model DIR           a SavedModel's tag sets and signatures
 *                                         (saved_model_cli show --all; also for a
 *                                         DIR holding saved_model.pb) */
#include <tfc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void print_values(const tfc_tensor *t, int64_t max) {
    int64_t n = tfc_tensor_num_elements(t);
    const void *p = tfc_tensor_data(t);
    printf("    [");
    for (int64_t i = 0; i < n && i < max; i++) {
        if (i) printf(", ");
        switch (tfc_tensor_dtype(t)) {
        case TFC_FLOAT: printf("%g", ((const float *)p)[i]); break;
        case TFC_DOUBLE: printf("%g", ((const double *)p)[i]); break;
        case TFC_INT32: printf("%d", ((const int32_t *)p)[i]); break;
        case TFC_INT64: printf("%lld", (long long)((const int64_t *)p)[i]); break;
        case TFC_UINT8:
        case TFC_BOOL: printf("%u", ((const uint8_t *)p)[i]); break;
        default: printf("?");
        }
    }
    printf("%s]\n", n > max ? ", ..." : "");
}

static int inspect_checkpoint(const char *prefix, int values) {
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    if (!r) {
        fprintf(stderr, "tfc_inspect: %s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    int rc = 0;
    printf("checkpoint %s: %d tensors\n", prefix, tfc_checkpoint_reader_num(r));
    for (int i = 0; i < tfc_checkpoint_reader_num(r); i++) {
        const char *name = tfc_checkpoint_reader_name(r, i);
        tfc_dtype dt = tfc_checkpoint_reader_dtype(r, i);
        tfc_shape s = tfc_checkpoint_reader_shape(r, i);
        printf("%s (%s) [", name, dt ? tfc_dtype_name(dt) : "unsupported dtype");
        for (int d = 0; d < s.rank; d++) printf("%s%lld", d ? "," : "", (long long)s.dims[d]);
        printf("]\n");
        if (values && dt) {
            tfc_tensor *t = tfc_checkpoint_reader_get(r, name, st);
            if (t) print_values(t, 20);
            else {
                fprintf(stderr, "tfc_inspect: %s\n", tfc_status_message(st));
                rc = 1;
            }
            tfc_tensor_free(t);
        }
    }
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
    return rc;
}

static const char *kind_name(tfc_summary_kind k) {
    switch (k) {
    case TFC_SUMMARY_SCALAR: return "scalar";
    case TFC_SUMMARY_HISTOGRAM: return "histogram";
    case TFC_SUMMARY_IMAGE: return "image";
    case TFC_SUMMARY_TENSOR: return "tensor";
    default: return "other";
    }
}

static int inspect_events(const char *path) {
    tfc_status *st = tfc_status_new();
    tfc_event_reader *r = tfc_event_reader_open(path, st);
    if (!r) {
        fprintf(stderr, "tfc_inspect: %s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    tfc_event ev;
    int rc, n = 0;
    while ((rc = tfc_event_reader_next(r, &ev, st)) == 1) {
        n++;
        if (*ev.file_version)
            printf("wall_time %.3f  file_version %s\n", ev.wall_time, ev.file_version);
        if (ev.graph_def)
            printf("wall_time %.3f  graph (%zu bytes)\n", ev.wall_time, ev.graph_def_size);
        for (int i = 0; i < ev.nvalues; i++) {
            const tfc_summary_value *v = &ev.values[i];
            printf("step %lld  %s  %s", (long long)ev.step, kind_name(v->kind), v->tag);
            if (v->kind == TFC_SUMMARY_SCALAR) printf("  %g", v->scalar);
            if (v->kind == TFC_SUMMARY_HISTOGRAM)
                printf("  n=%g min=%g max=%g mean=%g", v->hnum, v->hmin, v->hmax,
                       v->hnum > 0 ? v->hsum / v->hnum : 0.0);
            if (v->kind == TFC_SUMMARY_IMAGE)
                printf("  %dx%d, colorspace %d, %zu bytes", v->width, v->height, v->colorspace,
                       v->size);
            if (v->kind == TFC_SUMMARY_TENSOR && !strcmp(v->plugin, "text"))
                printf("  \"%.*s\"", (int)(v->size > 60 ? 60 : v->size), (const char *)v->data);
            printf("\n");
        }
    }
    if (rc < 0) fprintf(stderr, "tfc_inspect: %s\n", tfc_status_message(st));
    printf("%d events\n", n);
    tfc_event_reader_close(r);
    tfc_status_free(st);
    return rc < 0;
}

/* ---- SavedModel: tag sets and signatures, as `saved_model_cli show --all` ---- */

static const char *dt_name(int dt) {
    static const char *const names[] = {
        "DT_INVALID", "DT_FLOAT", "DT_DOUBLE", "DT_INT32",     "DT_UINT8",  "DT_INT16",
        "DT_INT8",    "DT_STRING", "DT_COMPLEX64", "DT_INT64", "DT_BOOL",   "DT_QINT8",
        "DT_QUINT8",  "DT_QINT32", "DT_BFLOAT16", "DT_QINT16", "DT_QUINT16", "DT_UINT16",
        "DT_COMPLEX128", "DT_HALF", "DT_RESOURCE", "DT_VARIANT", "DT_UINT32", "DT_UINT64"};
    return dt >= 0 && dt < (int)(sizeof names / sizeof *names) ? names[dt] : "DT_UNKNOWN";
}

static void print_tensor_info(const char *io, tfc_tensor_info t) {
    printf("    %s['%s'] tensor_info:\n", io, t.key);
    printf("        dtype: %s\n", dt_name((int)t.dtype));
    if (t.shape.rank < 0) {
        printf("        shape: unknown_rank\n");
    } else {
        printf("        shape: (");
        for (int i = 0; i < t.shape.rank; i++)
            printf("%s%lld", i ? ", " : "", (long long)t.shape.dims[i]);
        printf("%s)\n", t.shape.rank == 1 ? "," : "");
    }
    printf("        name: %s\n", t.name);
}

static int inspect_saved_model(const char *dir) {
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = tfc_saved_model_read(dir, st);
    if (!m) {
        fprintf(stderr, "tfc_inspect: %s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    for (int mg = 0; mg < tfc_saved_model_num_meta_graphs(m); mg++) {
        tfc_saved_model_select(m, mg);
        if (mg) printf("\n");
        printf("MetaGraphDef with tag-set: '");
        for (int i = 0; i < tfc_saved_model_num_tags(m, mg); i++)
            printf("%s%s", i ? ", " : "", tfc_saved_model_tag(m, mg, i));
        printf("' contains the following SignatureDefs:\n");
        /* in key order, as saved_model_cli prints them */
        int ns = tfc_saved_model_num_signatures(m), *order = malloc(sizeof *order * (ns + 1));
        for (int i = 0; order && i < ns; i++) {
            int k = i;
            while (k > 0 && strcmp(tfc_saved_model_signature_name(m, order[k - 1]),
                                   tfc_saved_model_signature_name(m, i)) > 0) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = i;
        }
        for (int j = 0; order && j < ns; j++) {
            int s = order[j];
            printf("\nsignature_def['%s']:\n", tfc_saved_model_signature_name(m, s));
            printf("  The given SavedModel SignatureDef contains the following input(s):\n");
            for (int i = 0; i < tfc_saved_model_signature_num_inputs(m, s); i++)
                print_tensor_info("inputs", tfc_saved_model_signature_input(m, s, i));
            printf("  The given SavedModel SignatureDef contains the following output(s):\n");
            for (int i = 0; i < tfc_saved_model_signature_num_outputs(m, s); i++)
                print_tensor_info("outputs", tfc_saved_model_signature_output(m, s, i));
            printf("  Method name is: %s\n", tfc_saved_model_signature_method(m, s));
        }
        free(order);
    }
    tfc_saved_model_free(m);
    tfc_status_free(st);
    return 0;
}

static int has_saved_model(const char *dir) {
    size_t n = strlen(dir) + 20;
    char *p = malloc(n);
    if (!p) return 0;
    snprintf(p, n, "%s/saved_model.pb", dir);
    int yes = is_file(p);
    free(p);
    return yes;
}

int main(int argc, char **argv) {
    int values = 0, a = 1;
    if (argc == 3 && !strcmp(argv[1], "saved_model")) return inspect_saved_model(argv[2]);
    if (a < argc && !strcmp(argv[a], "--values")) {
        values = 1;
        a++;
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: tfc_inspect [--values] CHECKPOINT_PREFIX | EVENT_FILE | DIR\n"
                        "       tfc_inspect saved_model SAVED_MODEL_DIR\n");
        return 2;
    }
    const char *arg = argv[a];
    size_t len = strlen(arg);
    char *prefix = malloc(len + 8);
    if (!prefix) return 1;
    strcpy(prefix, arg);
    if (len > 6 && !strcmp(prefix + len - 6, ".index")) prefix[len - 6] = 0;
    char *index = malloc(strlen(prefix) + 8);
    if (!index) return 1;
    sprintf(index, "%s.index", prefix);
    int rc;
    char *latest = NULL;
    if (has_saved_model(arg)) rc = inspect_saved_model(arg);
    else if (is_file(index)) rc = inspect_checkpoint(prefix, values);
    else if (is_file(arg)) rc = inspect_events(arg);
    else if ((latest = tfc_latest_checkpoint(arg))) rc = inspect_checkpoint(latest, values);
    else {
        fprintf(stderr, "tfc_inspect: '%s' is not a checkpoint, an event file or a directory "
                        "with a checkpoint\n", arg);
        rc = 1;
    }
    free(latest);
    free(prefix);
    free(index);
    return rc;
}
