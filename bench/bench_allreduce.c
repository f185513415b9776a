/* Allreduce benchmarks, run under mpirun:
 *
 *   mpirun -np N bench_allreduce busbw
 *       bus bandwidth vs message size (4 KiB .. 64 MiB of float32) of tfc's
 *       HorovodAllreduce op run by a session, of its deterministic
 *       TfcOrderedAllreduce, and of a bare MPI_Allreduce in the same
 *       process. Bus bandwidth is NCCL-tests' convention: bytes * 2 (N - 1)
 *       / N / time, what each rank's link carries in a ring allreduce.
 *   mpirun -np N bench_allreduce train mlp|cnn THREADS
 *       data-parallel training: the workloads of bench_train (global batch
 *       100 for mlp, 50 for cnn, split over the ranks), each rank with
 *       THREADS threads, the distributed optimizer when N > 1 (N = 1 is the
 *       plain single-process program). Also measures the step's compute
 *       alone and the gradient allreduce alone, for docs/SCALING.md.
 *
 * Prints rank 0's rows "name<TAB>threads<TAB>value<TAB>peer<TAB>unit" for
 * bench/run.sh. */
#include "bench_clock.h"
#include "bench_models.h"
#include "tfc.h"

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *size_name(size_t bytes, char *buf, size_t n) {
    if (bytes >= (1u << 20)) snprintf(buf, n, "%zuMiB", bytes >> 20);
    else snprintf(buf, n, "%zuKiB", bytes >> 10);
    return buf;
}

/* Seconds per run of `fetch`, over `iters` runs after 2 warm-up runs;
 * all ranks start together. */
static double time_op(tfc_session *s, tfc_output fetch, int iters, tfc_status *st) {
    for (int i = 0; i < iters + 2; i++) {
        if (i == 2) MPI_Barrier(MPI_COMM_WORLD);
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, fetch, st);
        tfc_tensor_free(t);
        if (tfc_status_code(st) != TFC_OK) return -1;
    }
    return 0;
}

static int busbw(void) {
    int rank = tfc_mpi_rank(), size = tfc_mpi_size();
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    tfc_status *st = tfc_status_new();
    double factor = size > 1 ? 2.0 * (size - 1) / size : 1.0;
    for (size_t bytes = 4096; bytes <= ((size_t)64 << 20); bytes *= 4) {
        int64_t n = (int64_t)(bytes / sizeof(float));
        int iters = (int)(((size_t)256 << 20) / bytes);
        if (iters > 2000) iters = 2000;
        if (iters < 5) iters = 5;
        float *in = malloc(bytes), *out = malloc(bytes);
        for (int64_t i = 0; i < n; i++) in[i] = (float)(i % 13);
        /* bare MPI */
        MPI_Allreduce(in, out, (int)n, MPI_FLOAT, MPI_SUM, comm);
        MPI_Barrier(comm);
        double t0 = now_s();
        for (int i = 0; i < iters; i++) MPI_Allreduce(in, out, (int)n, MPI_FLOAT, MPI_SUM, comm);
        double mpi = (now_s() - t0) / iters;
        /* tfc's ops in a session */
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *x = tfc_tensor_from_data(TFC_FLOAT, 1, &n, in);
        tfc_output c = tfc_const(g, x);
        tfc_output ar = tfc_allreduce(g, c, TFC_REDUCE_SUM), ord;
        tfc_ordered_allreduce(g, &c, 1, 1, TFC_REDUCE_SUM, &ord);
        tfc_session_options o = {.intra_op_threads = 1, .inter_op_threads = 1};
        tfc_session *s = tfc_session_new(g, &o, st);
        double ts[2];
        tfc_output which[2] = {ar, ord};
        for (int k = 0; k < 2; k++) {
            time_op(s, which[k], 0, st);
            t0 = now_s();
            time_op(s, which[k], iters, st);
            ts[k] = (now_s() - t0) / iters;
        }
        if (tfc_status_code(st) != TFC_OK) {
            fprintf(stderr, "rank %d: %s\n", rank, tfc_status_message(st));
            return 1;
        }
        char nm[32];
        size_name(bytes, nm, sizeof nm);
        if (rank == 0) {
            double gb = (double)bytes * factor / 1e9;
            printf("allreduce_busbw_%s\t%dranks\t%.3f\tMPI_Allreduce:%.3f\tGB/s\n", nm, size,
                   gb / ts[0], gb / mpi);
            printf("allreduce_ordered_busbw_%s\t%dranks\t%.3f\tMPI_Allreduce:%.3f\tGB/s\n", nm, size,
                   gb / ts[1], gb / mpi);
            printf("allreduce_latency_%s\t%dranks\t%.1f\tMPI_Allreduce:%.1f\tus\n", nm, size,
                   ts[0] * 1e6, mpi * 1e6);
            fflush(stdout);
        }
        tfc_session_free(s);
        tfc_tensor_free(x);
        tfc_graph_free(g);
        free(in);
        free(out);
    }
    tfc_status_free(st);
    MPI_Comm_free(&comm);
    return 0;
}

/* ---- training ---- */

static int train(const char *work, int threads) {
    int rank = tfc_mpi_rank(), size = tfc_mpi_size();
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t xd[] = {-1, 784}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    /* bench_train's workloads (bench_models.h); global batch and steps here */
    int mlp = strcmp(work, "mlp") == 0, cnn = strcmp(work, "cnn") == 0;
    int global = cnn ? 50 : 100, steps = cnn ? 20 : 300;
    tfc_optimizer *opt;
    tfc_output logits = mlp || cnn ? bench_mnist_model(g, work, x, &opt) : (tfc_output){NULL, 0};
    if (!logits.node) {
        fprintf(stderr, "unknown workload %s\n", work);
        return 2;
    }
    int batch = global / size;
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    /* the compute alone: the local gradients, summed into one scalar so
     * that fetching it runs the whole backward pass */
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    tfc_output *vars = malloc(sizeof *vars * (size_t)nv), *grads = malloc(sizeof *grads * (size_t)nv);
    for (int i = 0; i < nv; i++)
        vars[i] = tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
    tfc_gradients(g, &loss, 1, vars, nv, NULL, grads);
    tfc_output *sums = malloc(sizeof *sums * (size_t)nv);
    for (int i = 0; i < nv; i++) sums[i] = tfc_reduce_sum(g, grads[i], NULL, 0, 0);
    tfc_output compute_only = tfc_add_n(g, sums, nv);
    /* the allreduce alone: the same bytes as the gradients, from constants */
    tfc_output *zeros = malloc(sizeof *zeros * (size_t)nv), *reduced = malloc(sizeof *reduced * (size_t)nv);
    int64_t grad_bytes = 0;
    for (int i = 0; i < nv; i++) {
        zeros[i] = tfc_zeros_like(g, vars[i]);
        tfc_shape sh = tfc_output_shape(vars[i]);
        int64_t e = 1;
        for (int d = 0; d < sh.rank; d++) e *= sh.dims[d];
        grad_bytes += e * 4;
    }
    tfc_output allreduce_only = {NULL, 0};
    if (size > 1 && tfc_grouped_allreduce(g, zeros, nv, TFC_REDUCE_AVERAGE, reduced) == 0) {
        for (int i = 0; i < nv; i++) reduced[i] = tfc_reduce_sum(g, reduced[i], NULL, 0, 0);
        allreduce_only = tfc_add_n(g, reduced, nv);
    }
    if (size > 1 && !getenv("BENCH_PLAIN")) opt = tfc_distributed_optimizer(opt, NULL);
    tfc_node *trainop = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *bcast = size > 1 ? tfc_broadcast_global_variables(g, 0) : NULL;
    if (tfc_graph_error(g)) {
        fprintf(stderr, "%s\n", tfc_graph_error(g));
        return 1;
    }
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    if (bcast) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &bcast, 1, st);
    /* each rank its own order over the whole training set */
    tfc_dataset *ds = tfc_dataset_new(tfc_dataset_images(data->train),
                                      tfc_dataset_labels(data->train), 1, 1 + (uint64_t)rank, st);
    tfc_output feeds[] = {x, y};
    double t_train = 0, t_compute = 0, t_allreduce = 0;
    for (int phase = 0; phase < 3 && tfc_status_code(st) == TFC_OK; phase++) {
        int n = phase == 0 ? steps : steps / 2 + 1, warm = n / 10 + 1;
        if (phase == 2 && !allreduce_only.node) break;
        double t0 = 0;
        for (int i = 0; i < warm + n; i++) {
            if (i == warm) {
                MPI_Barrier(MPI_COMM_WORLD);
                t0 = now_s();
            }
            tfc_tensor *b[2];
            tfc_dataset_next_batch(ds, batch, &b[0], &b[1], st);
            if (phase == 0) {
                tfc_session_run(s, feeds, b, 2, NULL, 0, NULL, &trainop, 1, st);
            } else {
                tfc_tensor *r = tfc_session_run1(s, feeds, b, 2,
                                                 phase == 1 ? compute_only : allreduce_only, st);
                tfc_tensor_free(r);
            }
            tfc_tensor_free(b[0]);
            tfc_tensor_free(b[1]);
            if (tfc_status_code(st) != TFC_OK) break;
        }
        double per = (now_s() - t0) / n;
        if (phase == 0) t_train = per;
        else if (phase == 1) t_compute = per;
        else t_allreduce = per;
    }
    if (tfc_status_code(st) != TFC_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, tfc_status_message(st));
        return 1;
    }
    if (rank == 0) {
        printf("allreduce_train_%s_%dx%d\t%d\t%.1f\t-\texamples/s\n", work, size, threads, size,
               global / t_train);
        printf("allreduce_step_%s_%dx%d\t%d\t%.3f\t-\tms/step\n", work, size, threads, size,
               t_train * 1e3);
        printf("allreduce_compute_%s_%dx%d\t%d\t%.3f\t-\tms/step (local gradients, %d examples)\n",
               work, size, threads, size, t_compute * 1e3, batch);
        if (t_allreduce > 0)
            printf("allreduce_comm_%s_%dx%d\t%d\t%.3f\t-\tms/step (%.2f MB of gradients)\n", work,
                   size, threads, size, t_allreduce * 1e3, grad_bytes / 1e6);
    }
    free(vars);
    free(grads);
    free(sums);
    free(zeros);
    free(reduced);
    tfc_dataset_free(ds);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return 0;
}

int main(int argc, char **argv) {
    tfc_status *st = tfc_status_new();
    if (!tfc_mpi_init(&argc, &argv, st)) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    tfc_status_free(st);
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "busbw") == 0)
        rc = busbw();
    else if (argc >= 4 && strcmp(argv[1], "train") == 0)
        rc = train(argv[2], atoi(argv[3]));
    else
        fprintf(stderr, "usage: mpirun -np N bench_allreduce busbw | train mlp|cnn THREADS\n");
    tfc_mpi_finalize();
    return rc;
}
