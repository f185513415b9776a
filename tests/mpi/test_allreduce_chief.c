/* ranks: 2 3 */
/* Chief-only checkpoints in allreduce training: tfc_allreduce_save writes
 * on rank 0 only (the directory holds one checkpoint's files, the other
 * ranks wrote nothing), tfc_allreduce_restore_or_init initializes when
 * there is no checkpoint and restores the chief's checkpoint into every
 * rank (each rank's own values are replaced), and a chief that cannot save
 * fails the call on every rank. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_harness.h"
#include "tfc.h"

static char dir[256];

static int count_files(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void remove_dir(const char *path) {
    DIR *d = opendir(path);
    char p[600];
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            unlink(p);
        }
    if (d) closedir(d);
    rmdir(path);
}

static void read_w(tfc_session *s, tfc_output w, float *out, tfc_status *st) {
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, w, st);
    if (t) memcpy(out, tfc_tensor_data(t), 3 * sizeof(float));
    tfc_tensor_free(t);
}

static void test_chief_only_checkpoint(void) {
    int me = tfc_test_rank();
    /* the chief's directory, known to all (one host here) */
    if (me == 0) {
        snprintf(dir, sizeof dir, "/tmp/tfc_chief_XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);

    tfc_graph *g = tfc_graph_new();
    int64_t d3[] = {3};
    float start[3] = {1, 2, 3};
    tfc_tensor *st0 = tfc_tensor_from_data(TFC_FLOAT, 1, d3, start);
    tfc_output w = tfc_variable(g, "w", tfc_const(g, st0));
    tfc_output step = tfc_train_get_or_create_global_step(g);
    tfc_output feed = tfc_placeholder(g, "v", TFC_FLOAT, 1, d3);
    tfc_output set = tfc_assign(g, w, feed);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *bcast = tfc_broadcast_global_variables(g, 0);
    tfc_saver *saver = tfc_saver_new(g, NULL, 0, 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);

    /* nothing to restore: every rank initializes */
    CHECK(tfc_allreduce_restore_or_init(saver, s, dir, init, bcast, st) == 0);
    CHECK_STATUS_OK(st);
    float got[3];
    read_w(s, w, got, st);
    CHECK(memcmp(got, start, sizeof got) == 0);

    /* each rank's own values, then the chief's everywhere */
    float mine[3] = {10.0f * me + 5, 10.0f * me + 6, 10.0f * me + 7}, chief[3] = {5, 6, 7};
    tfc_tensor *mt = tfc_tensor_from_data(TFC_FLOAT, 1, d3, mine);
    tfc_tensor *r = tfc_session_run1(s, &feed, &mt, 1, set, st);
    tfc_tensor_free(r);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &bcast, 1, st);
    read_w(s, w, got, st);
    /* rank 0's `mine`, not the initial value */
    CHECK(memcmp(got, chief, sizeof got) == 0);

    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", dir);
    CHECK(tfc_allreduce_save(saver, s, prefix, 7, st) == 0);
    CHECK_STATUS_OK(st);
    MPI_Barrier(MPI_COMM_WORLD);
    /* checkpoint, model.ckpt-7.index, .data-00000-of-00001, .meta: one
     * checkpoint's files, and nothing from the other ranks */
    if (me == 0) {
        CHECK(count_files(dir) == 4);
        char p[400];
        snprintf(p, sizeof p, "%s-7.index", prefix);
        CHECK(access(p, F_OK) == 0);
    }
    (void)step;

    /* scribble, then restore: the chief's checkpoint reaches every rank */
    float junk[3] = {-1.0f * me, -2, -3};
    tfc_tensor *jt = tfc_tensor_from_data(TFC_FLOAT, 1, d3, junk);
    r = tfc_session_run1(s, &feed, &jt, 1, set, st);
    tfc_tensor_free(r);
    CHECK(tfc_allreduce_restore_or_init(saver, s, dir, init, bcast, st) == 1);
    CHECK_STATUS_OK(st);
    read_w(s, w, got, st);
    CHECK(memcmp(got, chief, sizeof got) == 0);

    /* a chief that cannot write fails the save everywhere */
    CHECK(tfc_allreduce_save(saver, s, "/proc/no/such/dir/model.ckpt", 8, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "the chief (rank 0) could not save");

    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0) remove_dir(dir);
    tfc_tensor_free(mt);
    tfc_tensor_free(jt);
    tfc_tensor_free(st0);
    tfc_session_free(s);
    tfc_saver_free(saver);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_MPI_TEST_MAIN(T(test_chief_only_checkpoint))
