/* Each thread's scratch memory (see thread_scratch.h). */
#include "core/thread_scratch.h"

#include <pthread.h>
#include <stdlib.h>

static _Thread_local void *own;
static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void key_make(void) { (void)pthread_key_create(&key, free); }

void *tfc_thread_scratch(void) {
    if (own) return own;
    pthread_once(&once, key_make);
    own = aligned_alloc(64, TFC_THREAD_SCRATCH_BYTES);
    if (own) (void)pthread_setspecific(key, own); /* freed at the thread's exit */
    return own;
}
