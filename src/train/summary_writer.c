/* tf.summary.FileWriter: an event file in a log directory. Events are
 * encoded at once and queued; the queue is written out when it holds
 * max_queue events, every flush_secs by a background thread (as TF's
 * EventFileWriter thread does), and at flush and close. */
#include "core/status.h"
#include "core/tensor.h"
#include "formats/events.h"
#include "formats/graphdef.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { DEFAULT_MAX_QUEUE = 10 };
#define DEFAULT_FLUSH_SECS 120.0

struct tfc_summary_writer {
    pthread_mutex_t lock;
    tfc_record_writer *rec;
    char *path;
    int max_queue;
    double flush_secs;
    double last_write;
    int nq, qcap;
    tfc_buf *queue;
    pthread_cond_t wake; /* signals the flusher to stop */
    pthread_t flusher;
    int has_flusher, stopping;
};

static double now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec * 1e-6;
}

/* mkdir -p */
static int make_dirs(const char *dir) {
    char *p = strdup(dir);
    if (!p) return -1;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) && errno != EEXIST) {
                free(p);
                return -1;
            }
            *s = '/';
        }
    int rc = mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

/* Writes the queued events; lock held. */
static int write_queue(tfc_summary_writer *w, tfc_status *st) {
    int rc = 0;
    for (int i = 0; i < w->nq; i++) {
        if (!rc && tfc_record_writer_write(w->rec, w->queue[i].p, w->queue[i].n, st)) rc = -1;
        tfc_buf_free(&w->queue[i]);
    }
    w->nq = 0;
    if (!rc) rc = tfc_record_writer_flush(w->rec, st);
    w->last_write = now();
    return rc;
}

/* Queues an encoded event (taking `ev` over) and writes when due. */
static int enqueue(tfc_summary_writer *w, tfc_buf *ev, tfc_status *st) {
    if (ev->oom) {
        tfc_buf_free(ev);
        tfc_status_set(st, TFC_INTERNAL, "out of memory encoding an event");
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    if (w->nq == w->qcap) {
        int cap = w->qcap ? 2 * w->qcap : 16;
        tfc_buf *q = realloc(w->queue, sizeof *q * (size_t)cap);
        if (!q) {
            pthread_mutex_unlock(&w->lock);
            tfc_buf_free(ev);
            tfc_status_set(st, TFC_INTERNAL, "out of memory queueing an event");
            return -1;
        }
        w->queue = q;
        w->qcap = cap;
    }
    w->queue[w->nq++] = *ev;
    int rc = 0;
    if (w->nq >= w->max_queue) rc = write_queue(w, st);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

/* Writes the queue every flush_secs until close; errors surface at the
 * next flush or close, which write again. */
static void *flusher_main(void *arg) {
    tfc_summary_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        double due = w->last_write + w->flush_secs;
        struct timespec ts;
        ts.tv_sec = (time_t)due;
        ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        if (!w->stopping && w->nq && now() >= w->last_write + w->flush_secs)
            write_queue(w, NULL);
        else if (!w->stopping && now() >= w->last_write + w->flush_secs)
            w->last_write = now();
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

tfc_summary_writer *tfc_summary_writer_new(const char *logdir, tfc_graph *g, int max_queue,
                                           double flush_secs, tfc_status *st) {
    if (!logdir || !*logdir) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "summary writer: empty log directory");
        return NULL;
    }
    if (make_dirs(logdir)) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot create log directory '%s': %s", logdir,
                       strerror(errno));
        return NULL;
    }
    tfc_summary_writer *w = calloc(1, sizeof *w);
    if (!w) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    /* the flusher's deadlines are wall-clock times (gettimeofday) */
    pthread_cond_init(&w->wake, NULL);
    w->max_queue = max_queue > 0 ? max_queue : DEFAULT_MAX_QUEUE;
    w->flush_secs = flush_secs > 0 ? flush_secs : DEFAULT_FLUSH_SECS;
    double t = now();
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    size_t len = strlen(logdir) + strlen(host) + 64;
    w->path = malloc(len);
    if (!w->path) {
        free(w);
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return NULL;
    }
    /* TF's name; a suffix keeps two writers started in one second apart */
    struct stat sb;
    for (int k = 0;; k++) {
        snprintf(w->path, len, "%s/events.out.tfevents.%010lld.%s%s%.0d", logdir, (long long)t,
                 host, k ? "." : "", k);
        if (stat(w->path, &sb) != 0) break;
    }
    if (!(w->rec = tfc_record_writer_open(w->path, 0, st))) {
        free(w->path);
        free(w);
        return NULL;
    }
    tfc_buf ev = {0};
    tfc_event_encode(&ev, t, 0, TFC_EVENT_FILE_VERSION, "brain.Event:2", 13);
    if (enqueue(w, &ev, st) || tfc_summary_writer_flush(w, st) ||
        (g && tfc_summary_writer_add_graph(w, g, st))) {
        tfc_summary_writer_close(w, NULL);
        return NULL;
    }
    if (pthread_create(&w->flusher, NULL, flusher_main, w) == 0) w->has_flusher = 1;
    return w;
}

const char *tfc_summary_writer_path(const tfc_summary_writer *w) { return w ? w->path : NULL; }

int tfc_summary_writer_add_summary(tfc_summary_writer *w, const tfc_tensor *summary,
                                   int64_t step, tfc_status *st) {
    if (!w || !summary || summary->dtype != TFC_STRING || summary->nelem != 1) {
        char dims[64] = "";
        if (summary) tfc_dims_str(summary->rank, summary->dims, dims, sizeof dims);
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "add_summary: expected one serialized Summary (a string scalar, as a "
                       "summary op returns it), got %s%s%s",
                       !w ? "no writer" : summary ? tfc_dtype_name(summary->dtype) : "NULL",
                       summary ? " " : "", dims);
        return -1;
    }
    tfc_string s = tfc_string_at(summary, 0);
    tfc_buf ev = {0};
    if (tfc_event_encode(&ev, now(), step, TFC_EVENT_SUMMARY, s.data, s.len)) {
        tfc_buf_free(&ev);
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "add_summary: the tensor does not hold a serialized Summary");
        return -1;
    }
    return enqueue(w, &ev, st);
}

int tfc_summary_writer_add_scalar(tfc_summary_writer *w, const char *tag, double value,
                                  int64_t step, tfc_status *st) {
    if (!w || !tag) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "add_scalar: NULL writer or tag");
        return -1;
    }
    tfc_buf s = {0}, ev = {0};
    tfc_summary_add_scalar(&s, tag, (float)value);
    tfc_event_encode(&ev, now(), step, TFC_EVENT_SUMMARY, s.p, s.n);
    if (s.oom) ev.oom = 1;
    tfc_buf_free(&s);
    return enqueue(w, &ev, st);
}

int tfc_summary_writer_add_graph(tfc_summary_writer *w, const tfc_graph *g, tfc_status *st) {
    if (!w || !g) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "add_graph: NULL writer or graph");
        return -1;
    }
    tfc_buf gd = {0}, ev = {0};
    tfc_graphdef_encode(&gd, g);
    tfc_event_encode(&ev, now(), 0, TFC_EVENT_GRAPH_DEF, gd.p, gd.n);
    if (gd.oom) ev.oom = 1;
    tfc_buf_free(&gd);
    return enqueue(w, &ev, st);
}

int tfc_summary_writer_flush(tfc_summary_writer *w, tfc_status *st) {
    if (!w) return 0;
    pthread_mutex_lock(&w->lock);
    int rc = write_queue(w, st);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int tfc_summary_writer_close(tfc_summary_writer *w, tfc_status *st) {
    if (!w) return 0;
    if (w->has_flusher) {
        pthread_mutex_lock(&w->lock);
        w->stopping = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->flusher, NULL);
    }
    int rc = tfc_summary_writer_flush(w, st);
    if (tfc_record_writer_close(w->rec, st)) rc = -1;
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->queue);
    free(w->path);
    free(w);
    return rc;
}
