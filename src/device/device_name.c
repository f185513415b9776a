/* Device names: TensorFlow's parser (DeviceNameUtils::ParseFullName), its
 * canonical form and its two merges, on a plain struct. See
 * device_name.h for the syntax. */
#include "device/device_name.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

static int fail(char *err, size_t cap, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *err, size_t cap, const char *fmt, ...) {
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int consume(const char **p, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(*p, prefix, n)) return 0;
    *p += n;
    return 1;
}

/* A job name or device type: a letter, then letters, digits and '_', up to
 * one of `stops` or the end. Copied into out[cap]. 0 or -1. */
static int consume_name(const char **p, const char *stops, char *out, size_t cap, const char *what,
                        char *err, size_t errcap) {
    const char *s = *p;
    size_t n = 0;
    while (s[n] && !strchr(stops, s[n])) n++;
    int ok = n > 0 && is_alpha(s[0]);
    for (size_t i = 1; ok && i < n; i++) ok = is_name_char(s[i]);
    if (!ok)
        return fail(err, errcap,
                    "a %s starts with a letter and holds only letters, digits and '_', got '%.*s'",
                    what, (int)(n > 40 ? 40 : n), s);
    if (n >= cap)
        return fail(err, errcap, "a %s of %zu characters is longer than %zu", what, n, cap - 1);
    memcpy(out, s, n);
    out[n] = 0;
    *p = s + n;
    return 0;
}

/* A decimal number that fits an int. 0 or -1. */
static int consume_number(const char **p, int *v, const char *what, char *err, size_t errcap) {
    const char *s = *p;
    if (!is_digit(*s)) return fail(err, errcap, "%s needs a number or '*', got '%.40s'", what, s);
    long long x = 0;
    for (; is_digit(*s); s++) {
        x = x * 10 + (*s - '0');
        if (x > INT_MAX) return fail(err, errcap, "the number after %s is too large", what);
    }
    *v = (int)x;
    *p = s;
    return 0;
}

/* '*' (the part stays unset: *has = 0) or a number (*has = 1). */
static int consume_index(const char **p, int *has, int *v, const char *what, char *err,
                         size_t errcap) {
    *has = !consume(p, "*");
    return *has ? consume_number(p, v, what, err, errcap) : 0;
}

/* The legacy /cpu:N and /gpu:N. */
static int consume_legacy(const char **p, tfc_device_name *d, char *err, size_t errcap, int *progress) {
    static const char *const forms[][2] = {
        {"/cpu:", "CPU"}, {"/CPU:", "CPU"}, {"/gpu:", "GPU"}, {"/GPU:", "GPU"}};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        if (!consume(p, forms[i][0])) continue;
        d->has_type = 1;
        strcpy(d->type, forms[i][1]);
        *progress = 1;
        return consume_index(p, &d->has_id, &d->id, forms[i][0], err, errcap);
    }
    return 0;
}

int tfc_device_name_parse(const char *spec, tfc_device_name *out, char *err, size_t errcap) {
    tfc_device_name scratch, *d = out ? out : &scratch;
    memset(d, 0, sizeof *d);
    if (err && errcap) err[0] = 0;
    if (!spec) return fail(err, errcap, "the device name is NULL");
    const char *p = spec;
    if (!strcmp(p, "/")) return 0;
    while (*p) {
        int progress = 0;
        if (consume(&p, "/job:")) {
            d->has_job = !consume(&p, "*");
            if (d->has_job &&
                consume_name(&p, "/", d->job, sizeof d->job, "job name", err, errcap))
                return -1;
            progress = 1;
        }
        if (consume(&p, "/replica:")) {
            if (consume_index(&p, &d->has_replica, &d->replica, "/replica:", err, errcap))
                return -1;
            progress = 1;
        }
        if (consume(&p, "/task:")) {
            if (consume_index(&p, &d->has_task, &d->task, "/task:", err, errcap)) return -1;
            progress = 1;
        }
        if (consume(&p, "/device:")) {
            d->has_type = !consume(&p, "*");
            if (d->has_type &&
                consume_name(&p, "/:", d->type, sizeof d->type, "device type", err, errcap))
                return -1;
            /* DeviceSpec's backward compatibility: lower-case cpu and gpu */
            if (d->has_type && !strcmp(d->type, "cpu")) strcpy(d->type, "CPU");
            if (d->has_type && !strcmp(d->type, "gpu")) strcpy(d->type, "GPU");
            if (consume(&p, ":")) {
                if (consume_index(&p, &d->has_id, &d->id, "the device type", err, errcap))
                    return -1;
            } else {
                d->has_id = 0;
            }
            progress = 1;
        }
        if (consume_legacy(&p, d, err, errcap, &progress)) return -1;
        if (!progress)
            return fail(err, errcap,
                        "expected /job:, /replica:, /task:, /device:, /cpu: or /gpu: at '%.40s'",
                        p);
    }
    return 0;
}

size_t tfc_device_name_format(const tfc_device_name *d, char *buf, size_t cap) {
    char tmp[TFC_DEVICE_JOB_MAX + TFC_DEVICE_TYPE_MAX + 96];
    size_t n = 0;
    tmp[0] = 0;
#define PUT(...) n += (size_t)snprintf(tmp + n, sizeof tmp - n, __VA_ARGS__)
    if (d->has_job) PUT("/job:%s", d->job);
    if (d->has_replica) PUT("/replica:%d", d->replica);
    if (d->has_task) PUT("/task:%d", d->task);
    if (d->has_type) {
        PUT("/device:%s:", d->type);
        if (d->has_id) PUT("%d", d->id);
        else PUT("*");
    }
#undef PUT
    if (cap) snprintf(buf, cap, "%s", tmp);
    return n;
}

static int incompatible(const tfc_device_name *a, const tfc_device_name *b, const char *what,
                        char *err, size_t errcap) {
    char sa[TFC_DEVICE_JOB_MAX + TFC_DEVICE_TYPE_MAX + 96];
    char sb[TFC_DEVICE_JOB_MAX + TFC_DEVICE_TYPE_MAX + 96];
    tfc_device_name_format(a, sa, sizeof sa);
    tfc_device_name_format(b, sb, sizeof sb);
    return fail(err, errcap, "cannot merge devices with incompatible %s: '%s' and '%s'", what, sa,
                sb);
}

int tfc_device_name_merge(tfc_device_name *t, const tfc_device_name *o, int allow_soft_placement,
                          char *err, size_t errcap) {
    if (o->has_job) {
        if (t->has_job && strcmp(t->job, o->job)) return incompatible(t, o, "jobs", err, errcap);
        t->has_job = 1;
        strcpy(t->job, o->job);
    }
    if (o->has_replica) {
        if (t->has_replica && t->replica != o->replica)
            return incompatible(t, o, "replicas", err, errcap);
        t->has_replica = 1;
        t->replica = o->replica;
    }
    if (o->has_task) {
        if (t->has_task && t->task != o->task) return incompatible(t, o, "tasks", err, errcap);
        t->has_task = 1;
        t->task = o->task;
    }
    if (o->has_type) {
        if (t->has_type && strcmp(t->type, o->type)) {
            if (!allow_soft_placement) return incompatible(t, o, "types", err, errcap);
            /* soft placement: any device of any type will do */
            t->has_type = 0;
            t->has_id = 0;
            return 0;
        }
        t->has_type = 1;
        strcpy(t->type, o->type);
    }
    if (o->has_id) {
        if (t->has_id && t->id != o->id) {
            if (!allow_soft_placement) return incompatible(t, o, "ids", err, errcap);
            t->has_id = 0;
            return 0;
        }
        t->has_id = 1;
        t->id = o->id;
    }
    return 0;
}

void tfc_device_name_merge_unset(tfc_device_name *t, const tfc_device_name *o) {
    if (o->has_job && !t->has_job) {
        t->has_job = 1;
        strcpy(t->job, o->job);
    }
    if (o->has_replica && !t->has_replica) {
        t->has_replica = 1;
        t->replica = o->replica;
    }
    if (o->has_task && !t->has_task) {
        t->has_task = 1;
        t->task = o->task;
    }
    if (o->has_type && !t->has_type) {
        t->has_type = 1;
        strcpy(t->type, o->type);
    }
    if (o->has_id && !t->has_id) {
        t->has_id = 1;
        t->id = o->id;
    }
}
