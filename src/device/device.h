/* Devices: what a node runs on. A device type (CPU now; a CUDA GPU next)
 * says which kernels it has, how it allocates tensors and how it copies
 * them to and from host memory; a device is one instance of a type in a
 * session ("/job:localhost/replica:0/task:0/device:CPU:1") with its own
 * threads. Types register in a small table: the CPU type is built in, and
 * another type (tests register a fake one; a CUDA build would register
 * its GPU type from its own file) needs no change here. This room depends
 * on core and graph only: the runtime (src/runtime) drives placement and
 * partitioning with it. */
#ifndef TFC_DEVICE_DEVICE_H
#define TFC_DEVICE_DEVICE_H

#include "core/status.h"
#include "core/tensor.h"
#include "core/threadpool.h"
#include "device/device_name.h"
#include "graph/op_registry.h"

#include <stdint.h>

typedef struct tfc_device tfc_device;

typedef struct tfc_device_type {
    const char *name; /* "CPU", as written in /device:CPU:0 */
    /* Unconstrained nodes go to the type of highest priority that has
     * their kernels (TensorFlow puts GPU before CPU). */
    int priority;
    /* Devices a session gets when its options give no count for this type. */
    int default_count;
    /* Does this type have a kernel for `op`? NULL: every op's. */
    int (*has_kernel)(const tfc_op_def *op);
    /* Where tensors of this device live. NULL functions mean host memory:
     * tensors from tfc_tensor_new, no copies (CPU). A device with its own
     * memory allocates there and copies an input from the host (and an
     * output to it) when an edge crosses into (out of) it; each returns a
     * new reference, or NULL with `st` set. */
    tfc_tensor *(*alloc)(tfc_device *d, tfc_dtype dtype, int rank, const int64_t *dims);
    tfc_tensor *(*copy_from_host)(tfc_device *d, tfc_tensor *host, tfc_status *st);
    tfc_tensor *(*copy_to_host)(tfc_device *d, tfc_tensor *dev, tfc_status *st);
} tfc_device_type;

struct tfc_device {
    const tfc_device_type *type;
    int index;       /* position in the session's device list */
    int id;          /* N of /device:TYPE:N */
    char name[128];  /* the full name, /job:localhost/replica:0/task:0/device:CPU:N */
    tfc_device_name parsed;
    uint64_t incarnation; /* random, per device object (the rendezvous key carries it) */
    tfc_threadpool *pool; /* its threads: kernels' parallel_for and its partition's nodes */
    int owns_pool;
};

/* The devices of one session, in placement order: by type priority, then
 * id. Child sessions (function bodies) share their parent's list. */
typedef struct tfc_device_set {
    int n;
    tfc_device **devices;
} tfc_device_set;

/* Adds a device type (the table holds 8); types are looked up by name,
 * case-insensitively. 0, or -1 when the name is taken or the table full. */
int tfc_device_type_register(const tfc_device_type *type);
const tfc_device_type *tfc_device_type_find(const char *name);
int tfc_device_type_has_kernel(const tfc_device_type *t, const tfc_op_def *op);

/* The devices for a session: `counts[i]` devices of type `types[i]` (types
 * no build has are skipped, as TensorFlow's device_count does; a count
 * below 0 is an error), the other registered types their default count.
 * `threads` is the session's thread budget: a single device uses
 * `shared_pool` (the session's), several get a pool each with their share
 * of the threads (at least one worker, so partitions run concurrently).
 * 0, or -1 with `st` set. */
int tfc_device_set_init(tfc_device_set *set, const char *const *types, const int *counts,
                        int ntypes, int threads, tfc_threadpool *shared_pool, tfc_status *st);
void tfc_device_set_free(tfc_device_set *set);
/* "[ /job:localhost/.../CPU:0, ... ]" into buf (TensorFlow's list form). */
void tfc_device_set_describe(const tfc_device_set *set, char *buf, size_t cap);

/* Does device `d` satisfy `spec` (its set parts)? */
int tfc_device_matches(const tfc_device *d, const tfc_device_name *spec);

#endif
