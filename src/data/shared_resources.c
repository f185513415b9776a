/* The registry behind shared_name: one process-wide list of (session,
 * container, name) -> resource entries, each counting the node states
 * that use it. Entries go with their last use (a session frees its node
 * states when it is freed), so a session's address reused later never
 * finds an old entry. Few shared resources exist, so a list will do. */
#include "data/shared_resources.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    const void *session;
    char *container, *name;
    const void *def;
    tfc_resource *res;
    int uses;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;

tfc_resource *tfc_shared_resource_acquire(const void *session, const char *container,
                                          const char *name, const void *def,
                                          const void **def_out, tfc_make_resource_fn make,
                                          void *arg, char *why, size_t cap) {
    pthread_mutex_lock(&lock);
    for (entry *e = entries; e; e = e->next)
        if (e->session == session && !strcmp(e->container, container) &&
            !strcmp(e->name, name)) {
            e->uses++;
            *def_out = e->def;
            tfc_resource *r = tfc_resource_ref(e->res);
            pthread_mutex_unlock(&lock);
            return r;
        }
    entry *e = calloc(1, sizeof *e);
    char *c = strdup(container), *n = strdup(name);
    tfc_resource *r = e && c && n ? make(arg, why, cap) : NULL;
    if (!r) {
        if (!e || !c || !n) snprintf(why, cap, "out of memory");
        free(e);
        free(c);
        free(n);
        pthread_mutex_unlock(&lock);
        return NULL;
    }
    *e = (entry){entries, session, c, n, def, r, 1};
    entries = e;
    *def_out = def;
    tfc_resource_ref(r); /* the entry's own */
    pthread_mutex_unlock(&lock);
    return r;
}

void tfc_shared_resource_release(tfc_resource *r) {
    if (!r) return;
    entry *gone = NULL;
    pthread_mutex_lock(&lock);
    for (entry **p = &entries; *p; p = &(*p)->next)
        if ((*p)->res == r) {
            if (--(*p)->uses == 0) {
                gone = *p;
                *p = gone->next;
            }
            break;
        }
    pthread_mutex_unlock(&lock);
    if (gone) {
        tfc_resource_unref(gone->res);
        free(gone->container);
        free(gone->name);
        free(gone);
    }
    tfc_resource_unref(r);
}
