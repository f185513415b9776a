/* Cluster specs (see cluster_spec.h): TensorFlow's JSON form
 *   {"ps": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]}
 * read by a small parser of exactly that shape (an object of arrays of
 * strings), and the layout form "ps:1,worker:2" laid over the MPI ranks. */
#include "distributed/cluster_spec.h"
#include "core/status.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tfc_cluster_free(tfc_cluster *c) {
    if (!c) return;
    for (int j = 0; j < c->njobs; j++) {
        for (int t = 0; t < c->jobs[j].ntasks; t++) free(c->jobs[j].addresses[t]);
        free(c->jobs[j].addresses);
        free(c->jobs[j].name);
    }
    free(c->jobs);
    free(c);
}

/* TensorFlow's job names: a letter, then letters, digits and '_'. */
static int valid_job_name(const char *s) {
    if (!isalpha((unsigned char)s[0])) return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return 0;
    return 1;
}

/* Appends a job with `ntasks` tasks (addresses NULL: none given). */
static int add_job(tfc_cluster *c, const char *name, size_t len, int ntasks, char **addresses,
                   tfc_status *st) {
    char *nm = strndup(name, len);
    if (!nm) goto oom;
    if (!valid_job_name(nm)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec: job name '%s' is not valid; expected a letter, then "
                       "letters, digits or '_'",
                       nm);
        free(nm);
        return -1;
    }
    if (tfc_cluster_job_index(c, nm) >= 0) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec: job '%s' appears twice; each job is listed once", nm);
        free(nm);
        return -1;
    }
    if (ntasks <= 0) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec: job '%s' has no tasks; expected at least one", nm);
        free(nm);
        return -1;
    }
    cluster_job *v = realloc(c->jobs, (size_t)(c->njobs + 1) * sizeof *v);
    if (!v) {
        free(nm);
        goto oom;
    }
    c->jobs = v;
    cluster_job *j = &c->jobs[c->njobs++];
    j->name = nm;
    j->ntasks = 0;
    j->first_rank = c->ntasks;
    j->addresses = calloc((size_t)ntasks, sizeof *j->addresses);
    if (!j->addresses) goto oom;
    j->ntasks = ntasks;
    for (int t = 0; t < ntasks; t++) {
        j->addresses[t] = addresses ? addresses[t] : NULL;
        if (addresses) addresses[t] = NULL;
    }
    c->ntasks += ntasks;
    return 0;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
    return -1;
}

/* ---- JSON ---------------------------------------------------------------- */

typedef struct json_in {
    const char *s;
    size_t pos;
    tfc_status *st;
} json_in;

static void skip_ws(json_in *in) {
    while (in->s[in->pos] && isspace((unsigned char)in->s[in->pos])) in->pos++;
}

static int expect(json_in *in, char ch, const char *what) {
    skip_ws(in);
    if (in->s[in->pos] == ch) {
        in->pos++;
        return 0;
    }
    if (in->s[in->pos])
        tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                       "cluster spec JSON: expected %s at offset %zu, found '%c'", what, in->pos,
                       in->s[in->pos]);
    else
        tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                       "cluster spec JSON: expected %s at offset %zu, found the end", what,
                       in->pos);
    return -1;
}

/* A JSON string (escapes \" \\ \/ \b \f \n \r \t; \u only below 0x80),
 * malloc'd into *out. */
static int parse_string(json_in *in, char **out, const char *what) {
    if (expect(in, '"', what)) return -1;
    size_t cap = 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) goto oom;
    for (;;) {
        char ch = in->s[in->pos];
        if (!ch) {
            tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                           "cluster spec JSON: a string is not closed (expected '\"')");
            free(buf);
            return -1;
        }
        in->pos++;
        if (ch == '"') break;
        if (ch == '\\') {
            char e = in->s[in->pos++];
            switch (e) {
            case '"': case '\\': case '/': ch = e; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'u': {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char h = in->s[in->pos];
                    if (!isxdigit((unsigned char)h)) {
                        v = 0x100;
                        break;
                    }
                    v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0'
                                                                      : tolower((unsigned char)h) - 'a' + 10);
                    in->pos++;
                }
                if (v == 0 || v >= 0x80) {
                    tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                                   "cluster spec JSON: unsupported \\u escape at offset %zu "
                                   "(expected an ASCII character)",
                                   in->pos);
                    free(buf);
                    return -1;
                }
                ch = (char)v;
                break;
            }
            default:
                tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                               "cluster spec JSON: bad escape at offset %zu", in->pos - 1);
                free(buf);
                return -1;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char *v = realloc(buf, cap);
            if (!v) goto oom;
            buf = v;
        }
        buf[n++] = ch;
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
oom:
    free(buf);
    tfc_status_set(in->st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
    return -1;
}

/* ["a", "b", ...] into a malloc'd array of strings. */
static int parse_tasks(json_in *in, const char *job, char ***out, int *n) {
    *out = NULL;
    *n = 0;
    skip_ws(in);
    if (in->s[in->pos] != '[') {
        tfc_status_set(in->st, TFC_INVALID_ARGUMENT,
                       "cluster spec JSON: job '%s' must map to a list of task addresses "
                       "([\"host:port\", ...]) at offset %zu",
                       job, in->pos);
        return -1;
    }
    in->pos++;
    skip_ws(in);
    if (in->s[in->pos] == ']') {
        in->pos++;
        return 0;
    }
    for (;;) {
        char *addr;
        if (parse_string(in, &addr, "a task address (a string)")) goto fail;
        char **v = realloc(*out, (size_t)(*n + 1) * sizeof *v);
        if (!v) {
            free(addr);
            tfc_status_set(in->st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
            goto fail;
        }
        *out = v;
        (*out)[(*n)++] = addr;
        skip_ws(in);
        if (in->s[in->pos] == ',') {
            in->pos++;
            continue;
        }
        if (expect(in, ']', "',' or ']' in a task list")) goto fail;
        return 0;
    }
fail:
    for (int i = 0; i < *n; i++) free((*out)[i]);
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

tfc_cluster *tfc_cluster_from_json(const char *json, tfc_status *st) {
    if (!json) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "cluster spec JSON: NULL string");
        return NULL;
    }
    tfc_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
        return NULL;
    }
    json_in in = {json, 0, st};
    if (expect(&in, '{', "'{' (an object mapping job names to task lists)")) goto fail;
    skip_ws(&in);
    if (in.s[in.pos] == '}') {
        in.pos++;
    } else {
        for (;;) {
            char *job = NULL, **tasks = NULL;
            int n = 0;
            if (parse_string(&in, &job, "a job name (a string)")) goto fail;
            if (expect(&in, ':', "':' after a job name") || parse_tasks(&in, job, &tasks, &n) ||
                add_job(c, job, strlen(job), n, tasks, st)) {
                for (int i = 0; i < n; i++) free(tasks ? tasks[i] : NULL);
                free(tasks);
                free(job);
                goto fail;
            }
            free(tasks);
            free(job);
            skip_ws(&in);
            if (in.s[in.pos] == ',') {
                in.pos++;
                continue;
            }
            if (expect(&in, '}', "',' or '}' after a job")) goto fail;
            break;
        }
    }
    skip_ws(&in);
    if (in.s[in.pos]) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec JSON: unexpected text after the object at offset %zu",
                       in.pos);
        goto fail;
    }
    if (c->njobs == 0) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec JSON: no jobs; expected e.g. {\"ps\": [\"h0:2222\"], "
                       "\"worker\": [\"h1:2222\"]}");
        goto fail;
    }
    tfc_status_set(st, TFC_OK, NULL);
    return c;
fail:
    tfc_cluster_free(c);
    return NULL;
}

/* ---- layout over the ranks ------------------------------------------------ */

tfc_cluster *tfc_cluster_from_layout(const char *layout, int nranks, tfc_status *st) {
    if (!layout) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "cluster layout: NULL string");
        return NULL;
    }
    if (nranks <= 0) nranks = tfc_mpi_size();
    if (nranks <= 0) {
        tfc_status_set(st, TFC_FAILED_PRECONDITION,
                       "cluster layout '%s': the number of ranks is unknown (pass it, or call "
                       "tfc_mpi_init first)",
                       layout);
        return NULL;
    }
    tfc_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
        return NULL;
    }
    const char *p = layout;
    int rest_job = -1; /* the job written without a count takes the ranks left */
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t nlen = colon ? (size_t)(colon - p) : len;
        int n = 0;
        if (colon) {
            char *end;
            long v = strtol(colon + 1, &end, 10);
            if (end == colon + 1 || end != p + len || v <= 0 || v > 1000000) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT,
                               "cluster layout '%s': '%.*s' needs a task count above 0 after "
                               "':' (e.g. \"ps:1,worker:2\")",
                               layout, (int)len, p);
                goto fail;
            }
            n = (int)v;
        } else {
            if (rest_job >= 0) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT,
                               "cluster layout '%s': only one job may leave out its count "
                               "(it takes the ranks left)",
                               layout);
                goto fail;
            }
            rest_job = c->njobs;
            n = 1; /* fixed below */
        }
        if (nlen == 0) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "cluster layout '%s': expected JOB:COUNT entries separated by ','",
                           layout);
            goto fail;
        }
        if (add_job(c, p, nlen, n, NULL, st)) goto fail;
        p += len;
        if (*p == ',') p++;
    }
    if (c->njobs == 0) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster layout '%s': no jobs; expected e.g. \"ps:1,worker:2\"", layout);
        goto fail;
    }
    if (rest_job >= 0) {
        int left = nranks - (c->ntasks - 1);
        if (left <= 0) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "cluster layout '%s': no ranks are left for job '%s' (%d ranks)",
                           layout, c->jobs[rest_job].name, nranks);
            goto fail;
        }
        cluster_job *j = &c->jobs[rest_job];
        char **a = calloc((size_t)left, sizeof *a);
        if (!a) {
            tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "cluster spec: out of memory");
            goto fail;
        }
        free(j->addresses);
        j->addresses = a;
        c->ntasks += left - 1;
        j->ntasks = left;
        int r = 0;
        for (int k = 0; k < c->njobs; k++) {
            c->jobs[k].first_rank = r;
            r += c->jobs[k].ntasks;
        }
    }
    if (c->ntasks > nranks) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster layout '%s' has %d tasks but there are %d ranks; expected at "
                       "most one task per rank",
                       layout, c->ntasks, nranks);
        goto fail;
    }
    tfc_status_set(st, TFC_OK, NULL);
    return c;
fail:
    tfc_cluster_free(c);
    return NULL;
}

/* ---- queries -------------------------------------------------------------- */

int tfc_cluster_job_index(const tfc_cluster *c, const char *job) {
    if (!c || !job) return -1;
    for (int j = 0; j < c->njobs; j++)
        if (!strcmp(c->jobs[j].name, job)) return j;
    return -1;
}

int tfc_cluster_num_jobs(const tfc_cluster *c) { return c ? c->njobs : 0; }

const char *tfc_cluster_job_name(const tfc_cluster *c, int i) {
    return c && i >= 0 && i < c->njobs ? c->jobs[i].name : NULL;
}

int tfc_cluster_num_tasks(const tfc_cluster *c, const char *job) {
    int j = tfc_cluster_job_index(c, job);
    return j < 0 ? -1 : c->jobs[j].ntasks;
}

int tfc_cluster_total_tasks(const tfc_cluster *c) { return c ? c->ntasks : 0; }

const char *tfc_cluster_task_address(const tfc_cluster *c, const char *job, int task) {
    int j = tfc_cluster_job_index(c, job);
    if (j < 0 || task < 0 || task >= c->jobs[j].ntasks) return NULL;
    return c->jobs[j].addresses[task];
}

static void list_jobs(const tfc_cluster *c, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int j = 0; j < c->njobs && n < cap; j++)
        n += (size_t)snprintf(buf + n, cap - n, "%s'%s'", j ? ", " : "", c->jobs[j].name);
}

int tfc_cluster_task_rank(const tfc_cluster *c, const char *job, int task, tfc_status *st) {
    int j = tfc_cluster_job_index(c, job);
    if (j < 0) {
        char jobs[256];
        if (c) list_jobs(c, jobs, sizeof jobs);
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "cluster spec has no job '%s'; its jobs are %s", job ? job : "(null)",
                       c ? jobs : "(none: no cluster)");
        return -1;
    }
    if (task < 0 || task >= c->jobs[j].ntasks) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "task %d of job '%s' is out of range; expected 0 to %d", task, job,
                       c->jobs[j].ntasks - 1);
        return -1;
    }
    return c->jobs[j].first_rank + task;
}

int tfc_cluster_rank_task(const tfc_cluster *c, int rank, const char **job, int *task) {
    if (!c) return -1;
    for (int j = 0; j < c->njobs; j++)
        if (rank >= c->jobs[j].first_rank && rank < c->jobs[j].first_rank + c->jobs[j].ntasks) {
            if (job) *job = c->jobs[j].name;
            if (task) *task = rank - c->jobs[j].first_rank;
            return 0;
        }
    return -1;
}

void tfc_cluster_device_of_rank(const tfc_cluster *c, int rank, char *buf, size_t cap) {
    const char *job = "?";
    int task = -1;
    tfc_cluster_rank_task(c, rank, &job, &task);
    snprintf(buf, cap, "/job:%s/replica:0/task:%d/device:CPU:0", job, task);
}

int tfc_cluster_rank_of_device(const tfc_cluster *c, const char *device) {
    const char *p = strstr(device, "/job:");
    if (!p) return -1;
    p += 5;
    size_t n = strcspn(p, "/;");
    const char *t = strstr(p, "/task:");
    if (!t) return -1;
    int task = atoi(t + 6);
    for (int j = 0; j < c->njobs; j++)
        if (strlen(c->jobs[j].name) == n && !strncmp(c->jobs[j].name, p, n) && task >= 0 &&
            task < c->jobs[j].ntasks)
            return c->jobs[j].first_rank + task;
    return -1;
}

tfc_cluster *tfc_cluster_copy(const tfc_cluster *c) {
    tfc_cluster *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->jobs = calloc((size_t)c->njobs, sizeof *d->jobs);
    if (!d->jobs) goto oom;
    d->njobs = c->njobs;
    d->ntasks = c->ntasks;
    for (int j = 0; j < c->njobs; j++) {
        cluster_job *a = &d->jobs[j];
        const cluster_job *b = &c->jobs[j];
        a->first_rank = b->first_rank;
        a->name = strdup(b->name);
        a->addresses = calloc((size_t)b->ntasks, sizeof *a->addresses);
        if (!a->name || !a->addresses) goto oom;
        a->ntasks = b->ntasks;
        for (int t = 0; t < b->ntasks; t++)
            if (b->addresses[t] && !(a->addresses[t] = strdup(b->addresses[t]))) goto oom;
    }
    return d;
oom:
    tfc_cluster_free(d);
    return NULL;
}
