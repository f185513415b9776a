/* The mlp example's network trained from TFRecord files through an input
 * pipeline, as TensorFlow 1.x programs did: string_input_producer (the file
 * names, shuffled each epoch, for 10 epochs) -> TFRecordReader ->
 * parse_single_example -> decode_raw -> shuffle_batch (2 reader threads),
 * with a Coordinator and queue runners. Training ends when the input does
 * (OUT_OF_RANGE); the test accuracy, fed from memory into the batch's
 * tensors, must reach the fed mlp's target.
 *
 *     ./mnist_to_tfrecord              # writes /tmp/tfc-mnist-tfrecord first
 *     ./mlp_tfrecord [tfrecord_dir [data_dir]]
 */
#include <tfc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { EPOCHS = 10, BATCH = 100, HIDDEN = 256, READ_THREADS = 2 };
#define TARGET_ACCURACY 0.87

static tfc_output dense(tfc_graph *g, const char *name, tfc_output x, int64_t in, int64_t out,
                        int relu) {
    int64_t wdims[] = {in, out};
    tfc_name_scope_push(g, name);
    tfc_output w = tfc_variable(
        g, "weights", tfc_truncated_normal(g, TFC_FLOAT, 2, wdims, 0.0, sqrt(2.0 / (double)in), 0));
    tfc_output b = tfc_variable(g, "biases", tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    if (relu) y = tfc_relu(g, y);
    tfc_name_scope_pop(g);
    return y;
}

/* image [784] float32 in [0, 1] and label int32 of one record */
static void decode(tfc_graph *g, tfc_output record, tfc_output *image, tfc_output *label) {
    tfc_parse_feature f[2] = {
        {"image_raw", TFC_STRING, 0, 0, NULL, {NULL, 0}},
        {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}},
    };
    tfc_output parsed[2];
    if (tfc_parse_single_example(g, record, f, 2, parsed)) return;
    tfc_output pixels = tfc_decode_raw(g, parsed[0], TFC_UINT8, 1);
    int64_t d784 = 784;
    tfc_output_set_shape(g, pixels, 1, &d784); /* image.set_shape([784]) */
    *image = tfc_mul(g, tfc_cast(g, pixels, TFC_FLOAT), tfc_const_float(g, 1.0f / 255.0f));
    *label = tfc_cast(g, parsed[1], TFC_INT32);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp/tfc-mnist-tfrecord";
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(argc > 2 ? argv[2] : NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/train-*.tfrecord", dir);
    tfc_output files = tfc_matching_files(g, tfc_const_string(g, pattern));
    tfc_output names = tfc_string_input_producer(g, files, EPOCHS, 1, 0, 0);
    tfc_output reader = tfc_tf_record_reader(g, ""), kv[2], image, label;
    tfc_reader_read(g, reader, names, kv);
    decode(g, kv[1], &image, &label);
    tfc_output example[2] = {image, label}, batch[2];
    tfc_shuffle_batch(g, example, 2, BATCH, 1000 + 3 * BATCH, 1000, READ_THREADS, 0, 0, 0, batch);

    tfc_output h1 = dense(g, "hidden1", batch[0], 784, HIDDEN, 1);
    tfc_output h2 = dense(g, "hidden2", h1, HIDDEN, HIDDEN, 1);
    tfc_output logits = dense(g, "output", h2, HIDDEN, 10, 0);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, batch[1], logits), NULL, 0, 0);
    tfc_optimizer *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){NULL, 0});
    tfc_output accuracy = tfc_accuracy(g, batch[1], logits);
    tfc_node *init[2] = {tfc_global_variables_initializer(g), tfc_local_variables_initializer(g)};
    if (tfc_graph_error(g)) {
        fprintf(stderr, "building failed: %s\n", tfc_graph_error(g));
        return 1;
    }

    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, init, 2, st);
    tfc_coordinator *coord = tfc_coordinator_new();
    if (tfc_status_code(st) == TFC_OK) tfc_start_queue_runners(s, coord, st);
    struct timespec t0, t1;
    timespec_get(&t0, TIME_UTC);
    int64_t step = 0;
    double loss_sum = 0;
    while (tfc_status_code(st) == TFC_OK && !tfc_coordinator_should_stop(coord)) {
        tfc_tensor *l = NULL;
        tfc_session_run(s, NULL, NULL, 0, &loss, 1, &l, &train, 1, st);
        if (!l) break;
        loss_sum += *(const float *)tfc_tensor_data(l);
        tfc_tensor_free(l);
        if (++step % 600 == 0) {
            timespec_get(&t1, TIME_UTC);
            double secs =
                (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
            printf("step %5lld  loss %.4f  (%.0f examples/s)\n", (long long)step, loss_sum / 600,
                   (double)step * BATCH / secs);
            fflush(stdout);
            loss_sum = 0;
        }
    }
    /* the input ends with OUT_OF_RANGE: every epoch was read */
    int rc = 1;
    if (tfc_status_code(st) == TFC_OUT_OF_RANGE) {
        printf("done: %lld steps (%d epochs of the files)\n", (long long)step, EPOCHS);
        tfc_status_set(st, TFC_OK, NULL);
    }
    tfc_coordinator_request_stop(coord, NULL);
    tfc_status *join = tfc_status_new();
    if (tfc_coordinator_join(coord, 10000, join)) {
        fprintf(stderr, "input threads: %s\n", tfc_status_message(join));
        if (tfc_status_code(st) == TFC_OK)
            tfc_status_set(st, tfc_status_code(join), "%s", tfc_status_message(join));
    }
    tfc_status_free(join);
    if (tfc_status_code(st) == TFC_OK) {
        /* the test set, fed in place of the batch, BATCH images at a time
         * (the batch's shape is static) */
        const float *images = tfc_tensor_data(tfc_dataset_images(data->test));
        const int32_t *labels = tfc_tensor_data(tfc_dataset_labels(data->test));
        int64_t n = tfc_dataset_size(data->test) / BATCH * BATCH, idims[2] = {BATCH, 784},
                ldims[1] = {BATCH};
        double correct = 0;
        for (int64_t i = 0; i < n && tfc_status_code(st) == TFC_OK; i += BATCH) {
            tfc_tensor *test[2] = {tfc_tensor_from_data(TFC_FLOAT, 2, idims, images + i * 784),
                                   tfc_tensor_from_data(TFC_INT32, 1, ldims, labels + i)};
            tfc_tensor *acc = tfc_session_run1(s, batch, test, 2, accuracy, st);
            if (acc) correct += *(const float *)tfc_tensor_data(acc) * BATCH;
            tfc_tensor_free(acc);
            tfc_tensor_free(test[0]);
            tfc_tensor_free(test[1]);
        }
        if (tfc_status_code(st) == TFC_OK) {
            double a = correct / (double)n;
            printf("test accuracy %.4f (target %.2f)\n", a, TARGET_ACCURACY);
            rc = a >= TARGET_ACCURACY ? 0 : 1;
        }
    }
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "%s\n", tfc_status_message(st));
    tfc_session_close(s);
    tfc_coordinator_free(coord);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return rc;
}
