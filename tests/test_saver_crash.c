/* Crash safety of saves. A child process saves in a loop (max_to_keep 2)
 * and is killed with SIGKILL at seeded random moments. After each kill the
 * `checkpoint` state file must parse and list only checkpoints whose files
 * exist and restore to the values saved at their step, and the latest must
 * restore; one more save by the parent, with a fresh saver as a restarted
 * run would make, must leave no temporary of the dead child and go on
 * counting max_to_keep from the state file's list. A second test checks
 * that the sweep of temporaries spares live writers and unrelated files. */
#include "harness.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { NW = 16384, TRIALS = 30, KEEP = 2 };

static int exists(const char *name) {
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return stat(p, &sb) == 0;
}

static void touch(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

/* Names in tmpdir that look like a writer's temporary; the first is copied
 * to `first` for the failure message. */
static int count_temporaries(char *first, size_t cap) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    if (first) first[0] = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tempstate") || strstr(e->d_name, ".tmp")) {
            if (!n && first) snprintf(first, cap, "%s", e->d_name);
            n++;
        }
    if (d) closedir(d);
    return n;
}

/* ---- the model: w[i] = step / 2 + i and global_step = step ---- */

typedef struct model {
    tfc_graph *g;
    tfc_output w, step, w_in, step_in;
    tfc_node *assign[2], *init;
} model;

static void build_model(model *m) {
    int64_t dims[1] = {NW};
    m->g = tfc_graph_new();
    tfc_tensor *z = tfc_tensor_new(TFC_DOUBLE, 1, dims);
    memset(tfc_tensor_data(z), 0, sizeof(double) * NW);
    m->w = tfc_variable(m->g, "w", tfc_const(m->g, z));
    tfc_tensor_free(z);
    int64_t zero = 0;
    m->step = tfc_variable(m->g, "global_step", tfc_const_data(m->g, TFC_INT64, 0, NULL, &zero));
    m->w_in = tfc_placeholder(m->g, "w_in", TFC_DOUBLE, 1, dims);
    m->step_in = tfc_placeholder(m->g, "step_in", TFC_INT64, 0, NULL);
    m->assign[0] = tfc_assign(m->g, m->w, m->w_in).node;
    m->assign[1] = tfc_assign(m->g, m->step, m->step_in).node;
    m->init = tfc_global_variables_initializer(m->g);
}

/* One thread: no pool workers, so the parent stays safe to fork. */
static tfc_session *new_session(model *m, tfc_status *st) {
    tfc_session_options o = {.intra_op_threads = 1, .inter_op_threads = 1};
    tfc_session *s = tfc_session_new(m->g, &o, st);
    if (s) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &m->init, 1, st);
    return s;
}

static double w_value(int64_t step, int i) { return (double)step / 2 + i; }

static int set_values(model *m, tfc_session *s, int64_t step, tfc_status *st) {
    int64_t dims[1] = {NW};
    tfc_tensor *w = tfc_tensor_new(TFC_DOUBLE, 1, dims);
    tfc_tensor *k = tfc_tensor_from_data(TFC_INT64, 0, NULL, &step);
    double *p = tfc_tensor_data(w);
    for (int i = 0; i < NW; i++) p[i] = w_value(step, i);
    tfc_output feeds[2] = {m->w_in, m->step_in};
    tfc_tensor *vals[2] = {w, k};
    tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, m->assign, 2, st);
    tfc_tensor_free(w);
    tfc_tensor_free(k);
    return tfc_status_code(st) == TFC_OK ? 0 : -1;
}

/* The session holds the values saved at `step`. */
static int values_are(model *m, tfc_session *s, int64_t step, tfc_status *st) {
    tfc_tensor *w = tfc_session_run1(s, NULL, NULL, 0, m->w, st);
    tfc_tensor *k = tfc_session_run1(s, NULL, NULL, 0, m->step, st);
    int ok = w && k && *(int64_t *)tfc_tensor_data(k) == step;
    for (int i = 0; ok && i < NW; i++) ok = ((double *)tfc_tensor_data(w))[i] == w_value(step, i);
    tfc_tensor_free(w);
    tfc_tensor_free(k);
    return ok;
}

/* ---- the child: saves forever, from `step` on ---- */

static void child_main(const char *prefix, int64_t step, int ready_fd) {
    tfc_status *st = tfc_status_new();
    model m;
    build_model(&m);
    tfc_session *s = new_session(&m, st);
    tfc_saver *sv = tfc_saver_new(m.g, NULL, 0, KEEP);
    if (!s || !sv || tfc_status_code(st) != TFC_OK) _exit(2);
    if (write(ready_fd, "r", 1) != 1) _exit(2);
    for (;; step++)
        if (set_values(&m, s, step, st) || !tfc_saver_save(sv, s, prefix, step, st)) {
            fprintf(stderr, "child: step %lld: %s\n", (long long)step, tfc_status_message(st));
            _exit(3);
        }
}

/* ---- the state file, parsed strictly and independently of the library ---- */

enum { MAX_LISTED = 16 };
typedef struct state {
    char latest[256];
    char all[MAX_LISTED][256];
    int nall;
} state;

/* 0 when every line is one of the two fields with a plain quoted value. */
static int parse_state(state *out) {
    char path[512], line[600];
    snprintf(path, sizeof path, "%s/checkpoint", tmpdir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(out, 0, sizeof *out);
    int bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        char *q1 = strchr(line, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        if (!q2 || strcmp(q2, "\"\n") || q2 - q1 - 1 >= 256 || q2 == q1 + 1) {
            bad = 1;
            break;
        }
        *q2 = 0;
        if (!strncmp(line, "model_checkpoint_path: \"", 24) && q1 == line + 23 && !out->latest[0])
            snprintf(out->latest, sizeof out->latest, "%s", q1 + 1);
        else if (!strncmp(line, "all_model_checkpoint_paths: \"", 29) && q1 == line + 28 &&
                 out->nall < MAX_LISTED)
            snprintf(out->all[out->nall++], 256, "%s", q1 + 1);
        else
            bad = 1;
    }
    fclose(f);
    return bad || !out->latest[0] || !out->nall || strcmp(out->latest, out->all[out->nall - 1]);
}

static int64_t step_of(const char *name) {
    const char *dash = strrchr(name, '-');
    return dash ? strtoll(dash + 1, NULL, 10) : -1;
}

static int checkpoint_exists(const char *name) {
    char a[300], b[300];
    snprintf(a, sizeof a, "%s.index", name);
    snprintf(b, sizeof b, "%s.data-00000-of-00001", name);
    return exists(a) && exists(b);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_kill_during_saves(void) {
    make_tmpdir("crash");
    tfc_status *st = tfc_status_new();
    model m;
    build_model(&m);
    CHECK_GRAPH_OK(m.g);
    tfc_session *s = new_session(&m, st);
    CHECK_STATUS_OK(st);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", tmpdir);

    /* A first checkpoint, so there is always a state file; the time of a
     * save sets the range of the kill delays (a few saves long). */
    tfc_saver *sv = tfc_saver_new(m.g, NULL, 0, KEEP);
    double t0 = now_s();
    for (int i = 0; i < 4; i++) {
        CHECK(set_values(&m, s, i, st) == 0);
        CHECK(tfc_saver_save(sv, s, prefix, i, st) != NULL);
    }
    double save_s = (now_s() - t0) / 4;
    tfc_saver_free(sv);
    double max_delay = 4 * save_s;
    if (max_delay < 0.002) max_delay = 0.002;
    if (max_delay > 0.1) max_delay = 0.1;

    tfc_test_seed(20240614);
    int left_temporaries = 0, own_exit = 0;
    for (int trial = 0; trial < TRIALS && tfc_test_failures == 0; trial++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child_main(prefix, (int64_t)(trial + 1) * 1000, fds[1]);
        }
        CHECK(pid > 0);
        close(fds[1]);
        char c;
        CHECK(read(fds[0], &c, 1) == 1);
        close(fds[0]);
        double delay = tfc_test_uniform(0, max_delay);
        struct timespec ts = {0, (long)(delay * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) own_exit++;

        /* the state file parses and names only complete checkpoints */
        state before;
        CHECK_MSG(parse_state(&before) == 0, "trial %d: state file does not parse", trial);
        CHECK_MSG(before.nall <= KEEP, "trial %d: %d checkpoints listed", trial, before.nall);
        for (int i = 0; i < before.nall; i++) {
            char full[512];
            snprintf(full, sizeof full, "%s/%s", tmpdir, before.all[i]);
            CHECK_MSG(checkpoint_exists(before.all[i]), "trial %d: listed '%s' is missing", trial,
                      before.all[i]);
            tfc_saver *rs = tfc_saver_new(m.g, NULL, 0, KEEP);
            int rc = tfc_saver_restore(rs, s, full, st);
            CHECK_MSG(rc == 0, "trial %d: restore '%s': %s", trial, before.all[i],
                      tfc_status_message(st));
            CHECK_MSG(rc || values_are(&m, s, step_of(before.all[i]), st),
                      "trial %d: '%s' restored wrong values", trial, before.all[i]);
            tfc_saver_free(rs);
        }
        char *latest = tfc_latest_checkpoint(tmpdir);
        CHECK_MSG(latest != NULL, "trial %d: no latest checkpoint", trial);
        if (latest) {
            CHECK(!strcmp(latest + strlen(tmpdir) + 1, before.latest));
            tfc_saver *rs = tfc_saver_new(m.g, NULL, 0, KEEP);
            CHECK(tfc_saver_restore(rs, s, latest, st) == 0);
            CHECK(values_are(&m, s, step_of(before.latest), st));
            tfc_saver_free(rs);
        }
        free(latest);
        if (count_temporaries(NULL, 0)) left_temporaries++;

        /* a restarted run saves once: the dead child's temporaries go, and
         * max_to_keep counts the checkpoints the state file listed */
        int64_t step = (int64_t)(trial + 1) * 1000 + 999;
        sv = tfc_saver_new(m.g, NULL, 0, KEEP);
        CHECK(set_values(&m, s, step, st) == 0);
        const char *saved = tfc_saver_save(sv, s, prefix, step, st);
        CHECK_MSG(saved != NULL, "trial %d: %s", trial, tfc_status_message(st));
        tfc_saver_free(sv);
        char first[256];
        int left = count_temporaries(first, sizeof first);
        CHECK_MSG(left == 0, "trial %d: %d temporaries left, e.g. '%s'", trial, left, first);
        state after;
        CHECK(parse_state(&after) == 0);
        char want[64];
        snprintf(want, sizeof want, "model.ckpt-%lld", (long long)step);
        CHECK(after.nall == (before.nall >= 1 ? 2 : 1) && !strcmp(after.latest, want));
        if (before.nall >= 1 && after.nall == 2)
            CHECK_MSG(!strcmp(after.all[0], before.all[before.nall - 1]),
                      "trial %d: kept '%s', expected '%s'", trial, after.all[0],
                      before.all[before.nall - 1]);
        for (int i = 0; i + 1 < before.nall; i++) {
            char index[300];
            snprintf(index, sizeof index, "%s.index", before.all[i]);
            CHECK_MSG(!exists(index), "trial %d: pruned '%s' still there", trial, index);
        }
    }
    CHECK_MSG(own_exit == 0, "%d children ended before they were killed", own_exit);
    /* the kills must have hit saves mid-way, or the test tests nothing */
    CHECK_MSG(left_temporaries > 0, "no kill left a temporary in %d trials", TRIALS);
    printf("  %d kills, %d left temporaries (save %.2f ms, delays < %.2f ms)\n", TRIALS,
           left_temporaries, save_s * 1e3, max_delay * 1e3);
    tfc_session_free(s);
    tfc_graph_free(m.g);
    tfc_status_free(st);
    remove_tmpdir();
}

/* The sweep removes only the temporaries of dead writers. */
static void test_sweep_spares_live_writers(void) {
    make_tmpdir("crash");
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t live = fork();
    if (live == 0) {
        close(fds[1]);
        char c;
        if (read(fds[0], &c, 1) < 0) _exit(1);
        _exit(0);
    }
    close(fds[0]);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    CHECK(waitpid(dead, NULL, 0) == dead);

    static const char *const dead_names[] = {
        "model.ckpt-7.index.tempstate%d",  "model.ckpt-7.data-00000-of-00001.tempstate%d",
        "model.ckpt-7.meta.tempstate%d-3", "checkpoint.tempstate%d-12",
        "model.ckpt-7.meta.tmp%d",
    };
    static const char *const kept_names[] = {
        "notes.txt.tempstate%d",           /* not a checkpoint file */
        "model.ckpt-7.index.tempstate%dx", /* not a pid */
        "checkpoint.tmp%d-1",              /* not a form tfc writes */
    };
    enum {
        ND = sizeof dead_names / sizeof *dead_names,
        NK = sizeof kept_names / sizeof *kept_names
    };
    char name[128];
    for (int i = 0; i < ND; i++) {
        snprintf(name, sizeof name, dead_names[i], (int)dead);
        touch(name);
        snprintf(name, sizeof name, dead_names[i], (int)live);
        touch(name);
        snprintf(name, sizeof name, dead_names[i], (int)getpid());
        touch(name);
    }
    for (int i = 0; i < NK; i++) {
        snprintf(name, sizeof name, kept_names[i], (int)dead);
        touch(name);
    }

    tfc_status *st = tfc_status_new();
    model m;
    build_model(&m);
    tfc_session *s = new_session(&m, st);
    tfc_saver *sv = tfc_saver_new(m.g, NULL, 0, KEEP);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", tmpdir);
    CHECK(tfc_saver_save(sv, s, prefix, 1, st) != NULL);
    CHECK_STATUS_OK(st);
    for (int i = 0; i < ND; i++) {
        snprintf(name, sizeof name, dead_names[i], (int)dead);
        CHECK_MSG(!exists(name), "'%s' of a dead writer survived", name);
        snprintf(name, sizeof name, dead_names[i], (int)live);
        CHECK_MSG(exists(name), "'%s' of a live writer was removed", name);
        snprintf(name, sizeof name, dead_names[i], (int)getpid());
        CHECK_MSG(exists(name), "'%s' of this process was removed", name);
    }
    for (int i = 0; i < NK; i++) {
        snprintf(name, sizeof name, kept_names[i], (int)dead);
        CHECK_MSG(exists(name), "unrelated '%s' was removed", name);
    }
    close(fds[1]);
    CHECK(waitpid(live, NULL, 0) == live);
    tfc_saver_free(sv);
    tfc_session_free(s);
    tfc_graph_free(m.g);
    tfc_status_free(st);
    remove_tmpdir();
}

TFC_TEST_MAIN(T(test_kill_during_saves), T(test_sweep_spares_live_writers))
