/* The MLP of mlp.c trained by one parameter server and two workers,
 * asynchronously (between-graph replication, the talks' recipe):
 *
 *     mpirun -np 3 build/examples/mlp_ps_async [epochs [data_dir]]   (3 epochs)
 *
 * Rank 0 is /job:ps/task:0 and holds the variables; ranks 1 and 2 are
 * /job:worker/task:0 (the chief) and task:1. Each worker builds its own
 * copy of the graph under a replica device setter (variables on the ps,
 * everything else on itself), trains on its half of the batches with
 * Adam and sends its updates to the ps, which applies them as they
 * arrive. The chief initializes the variables; the other worker waits
 * until they are (TensorFlow's wait_for_session). Each worker counts
 * itself finished in a variable on the ps; once all have, the chief prints
 * the test accuracy and fails below 0.85. More ranks make more
 * workers. To spread the ranks over hosts: mpirun -np 3 --hostfile hosts
 * (see README.md, "Distributed training").
 */
#include "mlp_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 100 };
#define TARGET_ACCURACY 0.85

/* The chief initializes; the others poll until a variable reads. */
static int wait_for_init(tfc_cluster_session *s, tfc_output var, tfc_status *st) {
    for (int i = 0; i < 600; i++) {
        tfc_tensor *v = tfc_cluster_session_run1(s, NULL, NULL, 0, var, st);
        if (v) {
            tfc_tensor_free(v);
            return 0;
        }
        if (tfc_status_code(st) != TFC_FAILED_PRECONDITION) return -1;
        if (i == 0) printf("waiting for the chief to initialize the variables\n");
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int train_worker(tfc_server *srv, tfc_cluster *cluster, int epochs, const char *dir,
                        tfc_status *st) {
    int task = tfc_server_task(srv), nworkers = tfc_cluster_num_tasks(cluster, "worker");
    tfc_mnist *data = tfc_mnist_load(dir, st);
    if (!data) return 1;
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    char wdev[64];
    snprintf(wdev, sizeof wdev, "/job:worker/task:%d", task);
    tfc_replica_device_setter_options ro = {0};
    ro.worker_device = wdev;
    tfc_replica_device_setter *rs = tfc_replica_device_setter_begin(g, cluster, &ro);
    /* mlp.c's model (mlp_model.h), without summaries */
    mlp_model m = mlp_model_build(g, 0);
    tfc_output x = m.x, labels = m.labels, logits = m.logits, loss = m.loss;
    tfc_output global_step = tfc_train_get_or_create_global_step(g);
    tfc_optimizer *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, global_step);
    tfc_output accuracy = tfc_accuracy(g, labels, logits);
    /* how many workers finished: the chief evaluates once all have */
    tfc_output finished = tfc_variable_ex(g, "workers_finished", tfc_const_int32(g, 0), 0);
    tfc_output finish = tfc_assign_add(g, finished, tfc_const_int32(g, 1));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_replica_device_setter_end(rs);
    int rc = 1;
    tfc_cluster_session *s = NULL;
    if (tfc_graph_error(g)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "building failed: %s", tfc_graph_error(g));
        goto out;
    }
    s = tfc_session_new_on_server(srv, g, NULL, st);
    if (!s) goto out;
    if (task == 0)
        tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    else
        wait_for_init(s, global_step, st);
    if (tfc_status_code(st) != TFC_OK) goto out;

    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    int64_t batches = tfc_dataset_size(data->train) / BATCH;
    tfc_output feeds[] = {x, labels};
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double loss_sum = 0;
        int n = 0;
        for (int64_t b = 0; b < batches; b++) {
            tfc_tensor *batch[2];
            if (tfc_dataset_next_batch(data->train, BATCH, &batch[0], &batch[1], st)) goto out;
            if (b % nworkers == task) { /* this worker's half of the data */
                tfc_tensor *lv = NULL;
                tfc_cluster_session_run(s, feeds, batch, 2, &loss, 1, &lv, &train, 1, st);
                if (lv) {
                    loss_sum += *(const float *)tfc_tensor_data(lv);
                    n++;
                }
                tfc_tensor_free(lv);
            }
            tfc_tensor_free(batch[0]);
            tfc_tensor_free(batch[1]);
            if (tfc_status_code(st) != TFC_OK) goto out;
        }
        tfc_tensor *gs = tfc_cluster_session_run1(s, NULL, NULL, 0, global_step, st);
        printf("worker %d epoch %d  loss %.4f  global step %lld  (%.1fs)\n", task, epoch,
               loss_sum / (n ? n : 1), gs ? (long long)*(const int64_t *)tfc_tensor_data(gs) : -1LL,
               mlp_seconds_since(&t0));
        fflush(stdout);
        tfc_tensor_free(gs);
    }
    tfc_tensor *count = tfc_cluster_session_run1(s, NULL, NULL, 0, finish, st);
    tfc_tensor_free(count);
    rc = 0;
    if (task == 0) {
        /* asynchronous training ends when every worker has */
        for (int done = 0; done < nworkers && tfc_status_code(st) == TFC_OK;) {
            tfc_tensor *v = tfc_cluster_session_run1(s, NULL, NULL, 0, finished, st);
            done = v ? *(const int32_t *)tfc_tensor_data(v) : nworkers;
            tfc_tensor_free(v);
            struct timespec ts = {0, 50 * 1000 * 1000};
            if (done < nworkers) nanosleep(&ts, NULL);
        }
        tfc_tensor *test[] = {tfc_dataset_images(data->test), tfc_dataset_labels(data->test)};
        tfc_tensor *acc = tfc_cluster_session_run1(s, feeds, test, 2, accuracy, st);
        if (acc) {
            double a = *(const float *)tfc_tensor_data(acc);
            printf("test accuracy %.4f (target %.2f)\n", a, TARGET_ACCURACY);
            rc = a >= TARGET_ACCURACY ? 0 : 1;
        } else {
            rc = 1;
        }
        tfc_tensor_free(acc);
    }
out:
    tfc_cluster_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    return tfc_status_code(st) == TFC_OK ? rc : 1;
}

int main(int argc, char **argv) {
    tfc_status *st = tfc_status_new();
    if (!tfc_mpi_init(&argc, &argv, st)) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    int epochs = argc > 1 ? atoi(argv[1]) : 3;
    const char *dir = argc > 2 ? argv[2] : NULL;
    int rc = 1;
    tfc_cluster *cluster = NULL;
    tfc_server *srv = NULL;
    if (tfc_mpi_size() < 2) {
        fprintf(stderr, "mlp_ps_async: start it with mpirun -np 3 (one ps and two workers)\n");
        goto out;
    }
    cluster = tfc_cluster_from_layout("ps:1,worker", 0, st);
    srv = cluster ? tfc_server_new(cluster, NULL, -1, NULL, st) : NULL;
    if (!srv || tfc_server_start(srv, st)) goto out;
    if (!strcmp(tfc_server_job(srv), "ps")) {
        printf("%s: serving the variables\n", tfc_server_target(srv));
        fflush(stdout);
        rc = tfc_server_join(srv, st) ? 1 : 0;
    } else {
        rc = train_worker(srv, cluster, epochs > 0 ? epochs : 3, dir, st);
        tfc_server_stop(srv);
    }
out:
    if (tfc_status_code(st) != TFC_OK)
        fprintf(stderr, "mlp_ps_async (rank %d): %s\n", tfc_mpi_rank(), tfc_status_message(st));
    if (tfc_status_code(st) == TFC_UNAVAILABLE) {
        /* a task is lost: MPI_Finalize would wait for it; exiting with an
         * error makes mpirun end the job */
        return 1;
    }
    tfc_server_free(srv);
    tfc_cluster_free(cluster);
    tfc_status_free(st);
    tfc_mpi_finalize();
    return rc;
}
