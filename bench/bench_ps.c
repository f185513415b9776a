/* The parameter server's round trip, under mpirun:
 *
 *   mpirun -np 2 bench_ps [iterations]
 *
 * Rank 0 is /job:ps/task:0 holding float variables of 1 and 1024
 * elements; rank 1, a worker, reads each with tfc_cluster_session_run1
 * (MSG_RUN to the ps, the ps's part runs and sends the value, MSG_DONE
 * back: three messages per read). The peer in the same run is a bare MPI
 * ping-pong of the value's bytes on a duplicated communicator (two
 * messages per round trip), so the difference is what tfc's runtime
 * adds. Prints rank 1's rows "name<TAB>threads<TAB>us<TAB>peer<TAB>unit"
 * for bench/run.sh, and the CPU model on stderr. */
#include "tfc.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median microseconds of a ping-pong of `bytes` between ranks 0 and 1. */
static double pingpong_us(MPI_Comm comm, int rank, size_t bytes, int iters) {
    char *buf = calloc(bytes ? bytes : 1, 1);
    double *t = malloc((size_t)iters * sizeof *t);
    for (int i = -10; i < iters; i++) {
        double t0 = now_s();
        if (rank == 1) {
            MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 1, comm);
            MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 1, comm, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 1, comm, MPI_STATUS_IGNORE);
            MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 1, comm);
        }
        if (i >= 0) t[i] = (now_s() - t0) * 1e6;
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_double);
    double m = t[iters / 2];
    free(t);
    free(buf);
    return m;
}

static void print_cpu(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            fprintf(stderr, "bench_ps: CPU%s", strchr(line, ':') + 1);
            break;
        }
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    tfc_status *st = tfc_status_new();
    if (!tfc_mpi_init(&argc, &argv, st)) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    if (iters < 10) iters = 10;
    int rank = tfc_mpi_rank();
    if (tfc_mpi_size() != 2) {
        if (rank == 0) fprintf(stderr, "bench_ps: run it with mpirun -np 2\n");
        tfc_mpi_finalize();
        return 1;
    }
    static const int64_t sizes[] = {1, 1024};
    enum { NSIZES = 2 };
    /* the bare ping-pongs first, on a communicator of their own */
    MPI_Comm comm;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    double bare[NSIZES];
    for (int k = 0; k < NSIZES; k++)
        bare[k] = pingpong_us(comm, rank, (size_t)sizes[k] * sizeof(float), iters);
    MPI_Comm_free(&comm);

    tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker:1", 0, st);
    tfc_server *srv = c ? tfc_server_new(c, NULL, -1, NULL, st) : NULL;
    int rc = 1;
    if (!srv || tfc_server_start(srv, st)) goto out;
    if (rank == 0) {
        rc = tfc_server_join(srv, st) ? 1 : 0;
        goto out;
    }
    tfc_graph *g = tfc_graph_new();
    tfc_output vars[NSIZES];
    tfc_device_push(g, "/job:ps/task:0");
    for (int k = 0; k < NSIZES; k++) {
        char name[32];
        snprintf(name, sizeof name, "v%lld", (long long)sizes[k]);
        vars[k] = tfc_variable(g, name, tfc_ones(g, TFC_FLOAT, 1, &sizes[k]));
    }
    tfc_device_pop(g);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_cluster_session *s = tfc_session_new_on_server(srv, g, NULL, st);
    if (s) tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    double *t = malloc((size_t)iters * sizeof *t);
    for (int k = 0; s && k < NSIZES && tfc_status_code(st) == TFC_OK; k++) {
        for (int i = -10; i < iters; i++) {
            double t0 = now_s();
            tfc_tensor *v = tfc_cluster_session_run1(s, NULL, NULL, 0, vars[k], st);
            if (i >= 0) t[i] = (now_s() - t0) * 1e6;
            tfc_tensor_free(v);
            if (!v) break;
        }
        if (tfc_status_code(st) != TFC_OK) break;
        qsort(t, (size_t)iters, sizeof *t, cmp_double);
        printf("ps_read_%lldB\t1\t%.2f\tmpi_pingpong:%.2f\tus round trip (median)\n",
               (long long)(sizes[k] * 4), t[iters / 2], bare[k]);
    }
    fflush(stdout);
    free(t);
    if (tfc_status_code(st) == TFC_OK) rc = 0;
    tfc_cluster_session_free(s);
    tfc_server_stop(srv);
    tfc_graph_free(g);
    print_cpu();
out:
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "bench_ps: %s\n", tfc_status_message(st));
    tfc_server_free(srv);
    tfc_cluster_free(c);
    tfc_status_free(st);
    tfc_mpi_finalize();
    return rc;
}
