/* Lookup in the table of TensorFlow's OpDefs (tf_op_defs_data.c): by name
 * with a binary search, unpacked with protobuf-c the first time any is
 * asked for. */
#include "formats/tf_op_defs_data.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static Tensorflow__OpDef **unpacked;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void unpack_all(void) {
    unpacked = calloc((size_t)tfc_tf_op_defs_count, sizeof *unpacked);
    for (int i = 0; unpacked && i < tfc_tf_op_defs_count; i++) {
        const tfc_tf_op_def_bytes *b = &tfc_tf_op_defs_data[i];
        /* NULL only when memory runs out: the op then reads as not kept */
        unpacked[i] = tensorflow__op_def__unpack(NULL, b->len, (const uint8_t *)b->bytes);
    }
}

static int index_of(const char *name) {
    int lo = 0, hi = tfc_tf_op_defs_count - 1;
    while (name && lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(name, tfc_tf_op_defs_data[mid].name);
        if (!c) return mid;
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return -1;
}

const tfc_tf_op_def_bytes *tfc_tf_op_def_bytes_of(const char *name) {
    int i = index_of(name);
    return i < 0 ? NULL : &tfc_tf_op_defs_data[i];
}

const Tensorflow__OpDef *tfc_tf_op_def(const char *name) {
    int i = index_of(name);
    if (i < 0) return NULL;
    pthread_once(&once, unpack_all);
    return unpacked ? unpacked[i] : NULL;
}
