/* A multi-layer perceptron on Fashion-MNIST, trained with Adam.
 *
 * 784 pixels -> 256 ReLU units -> 256 ReLU units -> 10 logits, trained on
 * mini-batches of 100 for 10 epochs to lower the mean cross-entropy. It
 * prints the loss of each epoch, then the accuracy on the 10,000 test
 * images, and fails below 0.87.
 *
 * Along the way it writes what TensorBoard shows (loss and accuracy curves,
 * weight histograms, a few input images, the graph) and a checkpoint after
 * each epoch into log_dir. Run it again and it resumes from the latest
 * checkpoint instead of starting over; --fresh starts afresh (`make demo
 * ARGS=--fresh`), ignoring the checkpoints already there.
 *
 *     ./mlp [--fresh] [data_dir [log_dir]]
 * data_dir defaults to $TFC_MNIST_DIR, else /usr/share/datasets/fashion-mnist;
 * log_dir defaults to /tmp/tfc-mlp.
 */
#include "mlp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EPOCHS = 10, BATCH = 100 };
#define TARGET_ACCURACY 0.87

int main(int argc, char **argv) {
    /* --fresh anywhere; the other arguments are positional */
    int fresh = 0, nargs = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fresh") == 0) fresh = 1;
        else argv[nargs++] = argv[i];
    }
    argc = nargs;
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(argc > 1 ? argv[1] : NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }

    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    /* the model (mlp_model.h), with weight histograms for TensorBoard */
    mlp_model m = mlp_model_build(g, 1);
    tfc_output x = m.x, labels = m.labels, logits = m.logits, loss = m.loss;

    /* Adam with TensorFlow's defaults: learning rate 0.001. */
    tfc_output global_step = tfc_train_get_or_create_global_step(g);
    tfc_optimizer *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, global_step);
    tfc_output accuracy = tfc_accuracy(g, labels, logits);

    /* what TensorBoard shows: curves, histograms (added by mlp_dense) and images */
    int64_t image_dims[] = {-1, 28, 28, 1};
    tfc_scalar_summary(g, "loss", loss);
    tfc_scalar_summary(g, "accuracy", accuracy);
    tfc_image_summary(g, "input", tfc_reshape(g, x, 4, image_dims), 3);
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

    const char *log_dir = argc > 2 ? argv[2] : "/tmp/tfc-mlp";
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", log_dir);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_summary_writer *writer = s ? tfc_summary_writer_new(log_dir, g, 0, 0, st) : NULL;
    int64_t start_step = 0;
    char *latest = writer && !fresh ? tfc_latest_checkpoint(log_dir) : NULL;
    if (latest) {
        /* resume: restoring replaces initialization */
        if (tfc_saver_restore(saver, s, latest, st) == 0) {
            tfc_tensor *gs = tfc_session_run1(s, NULL, NULL, 0, global_step, st);
            if (gs) start_step = *(const int64_t *)tfc_tensor_data(gs);
            tfc_tensor_free(gs);
            printf("resumed from %s (step %lld); run with --fresh (make demo ARGS=--fresh) "
                   "to start over\n",
                   latest, (long long)start_step);
            if (start_step / (tfc_dataset_size(data->train) / BATCH) >= EPOCHS)
                printf("all %d epochs were trained already: nothing to train\n", EPOCHS);
        }
        free(latest);
    } else if (writer) {
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    }
    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    int64_t steps_per_epoch = tfc_dataset_size(data->train) / BATCH;
    tfc_output feeds[] = {x, labels};
    for (int epoch = (int)(start_step / steps_per_epoch) + 1;
         epoch <= EPOCHS && tfc_status_code(st) == TFC_OK; epoch++) {
        double loss_sum = 0;
        for (int64_t step = 0; step < steps_per_epoch; step++) {
            tfc_tensor *batch[2];
            if (tfc_dataset_next_batch(data->train, BATCH, &batch[0], &batch[1], st) != 0) break;
            /* every 100 steps also fetch the merged summaries */
            int with_summary = step % 100 == 0;
            tfc_output fetches[] = {loss, summaries};
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(s, feeds, batch, 2, fetches, with_summary ? 2 : 1, out, &train, 1, st);
            if (out[0]) loss_sum += *(const float *)tfc_tensor_data(out[0]);
            if (out[1])
                tfc_summary_writer_add_summary(writer, out[1],
                                               (epoch - 1) * steps_per_epoch + step, st);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(batch[0]);
            tfc_tensor_free(batch[1]);
            if (tfc_status_code(st) != TFC_OK) break;
        }
        if (tfc_status_code(st) != TFC_OK) break;
        printf("epoch %2d  loss %.4f  (%.1fs)\n", epoch, loss_sum / (double)steps_per_epoch,
               mlp_seconds_since(&t0));
        fflush(stdout);
        tfc_saver_save(saver, s, prefix, epoch * steps_per_epoch, st);
    }

    int rc = 1;
    if (tfc_status_code(st) == TFC_OK) {
        tfc_tensor *test[] = {tfc_dataset_images(data->test), tfc_dataset_labels(data->test)};
        tfc_tensor *acc = tfc_session_run1(s, feeds, test, 2, accuracy, st);
        if (acc) {
            double a = *(const float *)tfc_tensor_data(acc);
            printf("test accuracy %.4f (target %.2f)\n", a, TARGET_ACCURACY);
            rc = a >= TARGET_ACCURACY ? 0 : 1;
            if (rc)
                fprintf(stderr, "mlp: test accuracy %.4f is below the target %.2f\n", a,
                        TARGET_ACCURACY);
        }
        tfc_tensor_free(acc);
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
