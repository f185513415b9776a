/* TensorFlow's "Deep MNIST for experts" convolutional network, trained on
 * Fashion-MNIST.
 *
 * 28x28 image -> conv 5x5x32 + ReLU -> max-pool 2x2 -> conv 5x5x64 + ReLU
 * -> max-pool 2x2 -> fully connected 1024 + ReLU -> dropout 0.5 -> 10
 * logits, with the tutorial's initial values (weights from a truncated
 * normal of stddev 0.1, biases 0.1) and mini-batches of 50. The tutorial's
 * constant Adam rate of 1e-4 needs 20,000 steps; starting at 1e-3 and
 * decaying by DECAY each epoch (tfc_exponential_decay) gets there in fewer
 * epochs, which matters on a small machine. It prints the loss and time of
 * each epoch and of every few hundred steps, then the accuracy on the
 * 10,000 test images, and fails below 0.91.
 *
 * It writes TensorBoard summaries (loss, batch accuracy, weight histograms,
 * input images, the graph) and a checkpoint after each epoch into log_dir;
 * run again, it resumes from the latest checkpoint.
 *
 *     ./cnn_mnist [data_dir [epochs [log_dir]]]
 * data_dir defaults to $TFC_MNIST_DIR, else /usr/share/datasets/fashion-mnist;
 * log_dir defaults to /tmp/tfc-cnn.
 */
#include <tfc.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { DEFAULT_EPOCHS = 8, BATCH = 50, PRINT_EVERY = 200, EVAL_BATCH = 1000 };
#define LEARNING_RATE 1e-3
#define DECAY 0.7
#define TARGET_ACCURACY 0.91

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static tfc_output weight_variable(tfc_graph *g, const char *name, int rank, const int64_t *dims) {
    return tfc_variable(g, name, tfc_truncated_normal(g, TFC_FLOAT, rank, dims, 0.0, 0.1, 0));
}

static tfc_output bias_variable(tfc_graph *g, const char *name, int64_t n) {
    tfc_output ones = tfc_ones(g, TFC_FLOAT, 1, &n);
    return tfc_variable(g, name, tfc_mul(g, ones, tfc_const_float(g, 0.1f)));
}

/* relu(conv(x, W) + b) then a 2x2 max-pool halving height and width. */
static tfc_output conv_pool(tfc_graph *g, const char *scope, tfc_output x, int64_t in_c,
                            int64_t out_c) {
    static const int one[] = {1, 1, 1, 1}, two[] = {1, 2, 2, 1};
    int64_t wdims[] = {5, 5, in_c, out_c};
    tfc_name_scope_push(g, scope);
    tfc_output w = weight_variable(g, "weights", 4, wdims);
    tfc_output b = bias_variable(g, "biases", out_c);
    tfc_histogram_summary(g, "weights", w);
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_conv2d(g, x, w, one, "SAME"), b));
    tfc_output p = tfc_max_pool(g, h, two, two, "SAME");
    tfc_name_scope_pop(g);
    return p;
}

static tfc_output dense(tfc_graph *g, const char *scope, tfc_output x, int64_t in, int64_t out) {
    int64_t wdims[] = {in, out};
    tfc_name_scope_push(g, scope);
    tfc_output w = weight_variable(g, "weights", 2, wdims);
    tfc_output b = bias_variable(g, "biases", out);
    tfc_histogram_summary(g, "weights", w);
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    tfc_name_scope_pop(g);
    return y;
}

/* Accuracy over the whole test set, in slices so memory stays small. */
static double test_accuracy(tfc_session *s, const tfc_output *feeds, tfc_output keep_prob,
                            tfc_output correct, tfc_dataset *test, tfc_status *st) {
    tfc_tensor *images = tfc_dataset_images(test), *labels = tfc_dataset_labels(test);
    int64_t n = tfc_dataset_size(test);
    const float *px = tfc_tensor_data(images);
    const int32_t *py = tfc_tensor_data(labels);
    tfc_tensor *one = tfc_tensor_scalar_float(1.0f);
    double right = 0;
    for (int64_t at = 0; at < n && tfc_status_code(st) == TFC_OK; at += EVAL_BATCH) {
        int64_t m = n - at < EVAL_BATCH ? n - at : EVAL_BATCH;
        int64_t xd[] = {m, 784};
        tfc_tensor *vals[] = {tfc_tensor_from_data(TFC_FLOAT, 2, xd, px + at * 784),
                              tfc_tensor_from_data(TFC_INT32, 1, &m, py + at), one};
        tfc_output f[] = {feeds[0], feeds[1], keep_prob};
        tfc_tensor *c = tfc_session_run1(s, f, vals, 3, correct, st);
        if (c) right += *(const float *)tfc_tensor_data(c) * (double)m;
        tfc_tensor_free(c);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    tfc_tensor_free(one);
    return right / (double)n;
}

int main(int argc, char **argv) {
    int epochs = argc > 2 ? atoi(argv[2]) : DEFAULT_EPOCHS;
    if (epochs < 1) epochs = DEFAULT_EPOCHS;
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(argc > 1 ? argv[1] : NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }

    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t xdims[] = {-1, 784}, ydims[] = {-1}, image[] = {-1, 28, 28, 1}, flat[] = {-1, 3136};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xdims);
    tfc_output labels = tfc_placeholder(g, "labels", TFC_INT32, 1, ydims);
    tfc_output keep_prob = tfc_placeholder(g, "keep_prob", TFC_FLOAT, 0, NULL);

    tfc_output h1 = conv_pool(g, "conv1", tfc_reshape(g, x, 4, image), 1, 32);
    tfc_output h2 = conv_pool(g, "conv2", h1, 32, 64);
    tfc_output fc1 = tfc_relu(g, dense(g, "fc1", tfc_reshape(g, h2, 2, flat), 3136, 1024));
    tfc_output drop = tfc_dropout(g, fc1, keep_prob, 0);
    tfc_output logits = dense(g, "fc2", drop, 1024, 10);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, labels, logits), NULL, 0, 0);

    int64_t steps_per_epoch = tfc_dataset_size(data->train) / BATCH;
    tfc_output global_step = tfc_train_get_or_create_global_step(g);
    tfc_output lr = tfc_exponential_decay(g, LEARNING_RATE, global_step,
                                          (double)steps_per_epoch, DECAY, 1);
    tfc_optimizer *opt = tfc_adam_optimizer(LEARNING_RATE, 0.9, 0.999, 1e-8);
    tfc_optimizer_set_learning_rate(opt, lr);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, global_step);
    tfc_output accuracy = tfc_accuracy(g, labels, logits);
    tfc_scalar_summary(g, "loss", loss);
    tfc_scalar_summary(g, "batch_accuracy", accuracy);
    tfc_image_summary(g, "input", tfc_reshape(g, x, 4, image), 3);
    tfc_output summaries = tfc_merge_all_summaries(g);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_saver *saver = tfc_saver_new(g, NULL, 0, 0);
    if (tfc_graph_error(g)) {
        fprintf(stderr, "building failed: %s\n", tfc_graph_error(g));
        tfc_saver_free(saver);
        tfc_optimizer_free(opt);
        tfc_graph_free(g);
        tfc_mnist_free(data);
        tfc_status_free(st);
        return 1;
    }

    const char *log_dir = argc > 3 ? argv[3] : "/tmp/tfc-cnn";
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", log_dir);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_summary_writer *writer = s ? tfc_summary_writer_new(log_dir, g, 0, 0, st) : NULL;
    int64_t start_step = 0;
    char *latest = writer ? tfc_latest_checkpoint(log_dir) : NULL;
    if (latest) {
        /* resume: restoring replaces initialization */
        if (tfc_saver_restore(saver, s, latest, st) == 0) {
            tfc_tensor *gs = tfc_session_run1(s, NULL, NULL, 0, global_step, st);
            if (gs) start_step = *(const int64_t *)tfc_tensor_data(gs);
            tfc_tensor_free(gs);
            printf("resumed from %s (step %lld); delete %s to start over\n", latest,
                   (long long)start_step, log_dir);
        }
        free(latest);
    } else if (writer) {
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    }
    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    tfc_output feeds[] = {x, labels, keep_prob};
    tfc_tensor *half = tfc_tensor_scalar_float(0.5f);
    for (int epoch = (int)(start_step / steps_per_epoch) + 1;
         epoch <= epochs && tfc_status_code(st) == TFC_OK; epoch++) {
        struct timespec te;
        timespec_get(&te, TIME_UTC);
        double loss_sum = 0, recent = 0;
        for (int64_t step = 1; step <= steps_per_epoch; step++) {
            tfc_tensor *batch[3] = {NULL, NULL, half};
            if (tfc_dataset_next_batch(data->train, BATCH, &batch[0], &batch[1], st) != 0) break;
            /* every 100 steps also fetch the merged summaries */
            tfc_output fetches[] = {loss, summaries};
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(s, feeds, batch, 3, fetches, step % 100 == 0 ? 2 : 1, out, &train, 1,
                            st);
            if (out[0]) {
                double l = *(const float *)tfc_tensor_data(out[0]);
                loss_sum += l;
                recent += l;
            }
            if (out[1])
                tfc_summary_writer_add_summary(writer, out[1],
                                               (epoch - 1) * steps_per_epoch + step, st);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(batch[0]);
            tfc_tensor_free(batch[1]);
            if (tfc_status_code(st) != TFC_OK) break;
            if (step % PRINT_EVERY == 0) {
                printf("epoch %d step %5lld  loss %.4f  (%.0fs)\n", epoch, (long long)step,
                       recent / PRINT_EVERY, seconds_since(&t0));
                fflush(stdout);
                recent = 0;
            }
        }
        if (tfc_status_code(st) != TFC_OK) break;
        double acc = test_accuracy(s, feeds, keep_prob, accuracy, data->test, st);
        printf("epoch %d  loss %.4f  test accuracy %.4f  epoch time %.1fs  (total %.1fs)\n",
               epoch, loss_sum / (double)steps_per_epoch, acc, seconds_since(&te),
               seconds_since(&t0));
        fflush(stdout);
        tfc_summary_writer_add_scalar(writer, "test_accuracy", acc, epoch * steps_per_epoch, st);
        tfc_saver_save(saver, s, prefix, epoch * steps_per_epoch, st);
    }
    tfc_tensor_free(half);

    int rc = 1;
    if (tfc_status_code(st) == TFC_OK) {
        double a = test_accuracy(s, feeds, keep_prob, accuracy, data->test, st);
        if (tfc_status_code(st) == TFC_OK) {
            printf("test accuracy %.4f (target %.2f)\n", a, TARGET_ACCURACY);
            rc = a >= TARGET_ACCURACY ? 0 : 1;
            if (rc)
                fprintf(stderr,
                        "cnn_mnist: test accuracy %.4f is below the target %.2f after %d "
                        "epochs: train longer (the second argument), or start over by "
                        "deleting %s\n",
                        a, TARGET_ACCURACY, epochs, log_dir);
        }
    }
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "%s\n", tfc_status_message(st));

    if (writer && tfc_status_code(st) == TFC_OK)
        printf("TensorBoard logs and checkpoints in %s\n", log_dir);
    tfc_summary_writer_close(writer, NULL);
    tfc_session_free(s);
    tfc_saver_free(saver);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return rc;
}
