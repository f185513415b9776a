/* The MLP of mlp.c trained by synchronous replicas with allreduce (as
 * Horovod does): every rank holds the whole model, trains on its own slice
 * of Fashion-MNIST, and the gradients are averaged over the ranks (one
 * fused MPI allreduce per step) before Adam applies them, so the replicas
 * stay equal. No parameter server.
 *
 *     mpirun -np 2 build/examples/mlp_allreduce [--fresh] [--epochs N] [data_dir [log_dir]]
 *     mpirun -np 8 --hostfile hosts build/examples/mlp_allreduce   (several hosts)
 *
 * Compared with mlp.c the training code changes in two places: the
 * optimizer is wrapped (tfc_distributed_optimizer) and the variables are
 * broadcast from rank 0 once at the start (tfc_broadcast_global_variables,
 * run by tfc_allreduce_restore_or_init). Rank 0, the chief, alone writes
 * TensorBoard summaries and checkpoints into log_dir (default
 * /tmp/tfc-mlp-allreduce); a rerun resumes from the chief's latest
 * checkpoint on every rank. The global batch is 100 as in mlp.c, split
 * over the ranks; the run fails below 0.87 test accuracy. */
#include "mlp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { GLOBAL_BATCH = 100 };
#define TARGET_ACCURACY 0.87

/* Rows [from, to) of `t` as a new tensor. */
static tfc_tensor *rows(tfc_tensor *t, int64_t from, int64_t to) {
    int64_t dims[4];
    int rank = tfc_tensor_rank(t);
    for (int i = 0; i < rank; i++) dims[i] = tfc_tensor_dim(t, i);
    size_t row = tfc_tensor_num_elements(t) / (size_t)dims[0] * tfc_dtype_size(tfc_tensor_dtype(t));
    dims[0] = to - from;
    return tfc_tensor_from_data(tfc_tensor_dtype(t), rank, dims,
                                (const char *)tfc_tensor_data(t) + (size_t)from * row);
}

int main(int argc, char **argv) {
    tfc_status *st = tfc_status_new();
    if (!tfc_mpi_init(&argc, &argv, st)) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    int rank = tfc_mpi_rank(), size = tfc_mpi_size(), chief = rank == 0;
    int fresh = 0, epochs = 10, nargs = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fresh") == 0) fresh = 1;
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) epochs = atoi(argv[++i]);
        else argv[nargs++] = argv[i];
    }
    argc = nargs;
    tfc_mnist *data = tfc_mnist_load(argc > 1 ? argv[1] : NULL, st);
    if (!data) {
        /* every rank reads the same files, so every rank fails alike */
        fprintf(stderr, "rank %d: %s\n", rank, tfc_status_message(st));
        tfc_status_free(st);
        tfc_mpi_finalize();
        return 1;
    }
    /* this rank's slice of the training set, shuffled with its own seed */
    int64_t n = tfc_dataset_size(data->train), lo = n * rank / size, hi = n * (rank + 1) / size;
    tfc_tensor *my_x = rows(tfc_dataset_images(data->train), lo, hi);
    tfc_tensor *my_y = rows(tfc_dataset_labels(data->train), lo, hi);
    tfc_dataset *train_set = tfc_dataset_new(my_x, my_y, 1, 1 + (uint64_t)rank, st);
    tfc_tensor_free(my_x);
    tfc_tensor_free(my_y);
    int batch = GLOBAL_BATCH / size > 0 ? GLOBAL_BATCH / size : 1;

    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    mlp_model m = mlp_model_build(g, 1); /* mlp.c's model (mlp_model.h) */
    tfc_output x = m.x, labels = m.labels, logits = m.logits, loss = m.loss;

    tfc_output global_step = tfc_train_get_or_create_global_step(g);
    /* change 1 of 2: the optimizer averages its gradients over the ranks */
    tfc_optimizer *opt = tfc_distributed_optimizer(tfc_adam_optimizer(TFC_ADAM_DEFAULTS), NULL);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, global_step);
    tfc_output accuracy = tfc_accuracy(g, labels, logits);
    /* change 2 of 2: rank 0's variables (Adam's slots included) everywhere */
    tfc_node *bcast = tfc_broadcast_global_variables(g, 0);

    tfc_scalar_summary(g, "loss", loss);
    tfc_scalar_summary(g, "accuracy", accuracy);
    tfc_output summaries = tfc_merge_all_summaries(g);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_saver *saver = tfc_saver_new(g, NULL, 0, 0);
    if (tfc_graph_error(g) || !train_set) {
        fprintf(stderr, "building failed: %s\n",
                tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
        tfc_mpi_finalize();
        return 1;
    }

    const char *log_dir = argc > 2 ? argv[2] : "/tmp/tfc-mlp-allreduce";
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", log_dir);
    tfc_session *s = tfc_session_new(g, NULL, st);
    /* summaries: the chief only */
    tfc_summary_writer *writer = s && chief ? tfc_summary_writer_new(log_dir, g, 0, 0, st) : NULL;
    int restored = s ? tfc_allreduce_restore_or_init(saver, s, fresh ? NULL : log_dir, init,
                                                    bcast, st)
                     : -1;
    int64_t start_step = 0;
    if (restored == 1) {
        tfc_tensor *gs = tfc_session_run1(s, NULL, NULL, 0, global_step, st);
        if (gs) start_step = *(const int64_t *)tfc_tensor_data(gs);
        tfc_tensor_free(gs);
        if (chief) printf("resumed from the chief's checkpoint at step %lld\n", (long long)start_step);
    }
    if (chief)
        printf("%d synchronous replicas, %d examples per rank and step\n", size, batch);
    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    int64_t steps_per_epoch = (hi - lo) / batch;
    tfc_output feeds[] = {x, labels};
    for (int epoch = (int)(start_step / steps_per_epoch) + 1;
         epoch <= epochs && tfc_status_code(st) == TFC_OK; epoch++) {
        double loss_sum = 0;
        for (int64_t step = 0; step < steps_per_epoch; step++) {
            tfc_tensor *b[2];
            if (tfc_dataset_next_batch(train_set, batch, &b[0], &b[1], st) != 0) break;
            int with_summary = chief && step % 100 == 0;
            tfc_output fetches[] = {loss, summaries};
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(s, feeds, b, 2, fetches, with_summary ? 2 : 1, out, &train, 1, st);
            if (out[0]) loss_sum += *(const float *)tfc_tensor_data(out[0]);
            if (out[1])
                tfc_summary_writer_add_summary(writer, out[1],
                                               (epoch - 1) * steps_per_epoch + step, st);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(b[0]);
            tfc_tensor_free(b[1]);
            if (tfc_status_code(st) != TFC_OK) break;
        }
        if (tfc_status_code(st) != TFC_OK) break;
        if (chief)
            printf("epoch %2d  loss %.4f (rank 0's shard)  (%.1fs)\n", epoch,
                   loss_sum / (double)steps_per_epoch, mlp_seconds_since(&t0));
        fflush(stdout);
        tfc_allreduce_save(saver, s, prefix, epoch * steps_per_epoch, st);
    }

    int rc = 1;
    if (tfc_status_code(st) == TFC_OK) {
        tfc_tensor *test[] = {tfc_dataset_images(data->test), tfc_dataset_labels(data->test)};
        tfc_tensor *acc = tfc_session_run1(s, feeds, test, 2, accuracy, st);
        if (acc) {
            double a = *(const float *)tfc_tensor_data(acc);
            if (chief) printf("test accuracy %.4f (target %.2f)\n", a, TARGET_ACCURACY);
            rc = a >= TARGET_ACCURACY ? 0 : 1;
            if (rc && chief)
                fprintf(stderr, "mlp_allreduce: test accuracy %.4f is below the target %.2f\n", a,
                        TARGET_ACCURACY);
        }
        tfc_tensor_free(acc);
    }
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "rank %d: %s\n", rank, tfc_status_message(st));
    if (writer && tfc_status_code(st) == TFC_OK)
        printf("TensorBoard logs and checkpoints in %s\n", log_dir);
    tfc_summary_writer_close(writer, NULL);
    tfc_session_free(s);
    tfc_saver_free(saver);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_dataset_free(train_set);
    tfc_mnist_free(data);
    tfc_status_free(st);
    tfc_mpi_finalize();
    return rc;
}
