/* Resources shared by name within a session, as TensorFlow's ResourceMgr
 * shares them: two nodes of one session whose (container, shared_name)
 * agree use one resource (a queue), made by whichever runs first. */
#ifndef TFC_DATA_SHARED_RESOURCES_H
#define TFC_DATA_SHARED_RESOURCES_H

#include "core/tensor.h"

#include <stddef.h>

/* Makes the resource (one reference, given to the registry's caller), or
 * NULL with `why` set. */
typedef tfc_resource *(*tfc_make_resource_fn)(void *arg, char *why, size_t cap);

/* The resource (container, name) of `session`, with a new reference:
 * made by make(arg) when the session has none yet (under the registry's
 * lock, so two nodes never both make one). *def_out receives the `def`
 * registered by the call that made it (the caller compares it with its
 * own to check that both ask for the same thing). NULL with `why` set
 * when making fails. Each success is paired with one
 * tfc_shared_resource_release. */
tfc_resource *tfc_shared_resource_acquire(const void *session, const char *container,
                                          const char *name, const void *def,
                                          const void **def_out, tfc_make_resource_fn make,
                                          void *arg, char *why, size_t cap);
/* Drops one use of r (and its reference); the name is forgotten with its
 * last use, so a session freed leaves nothing behind. */
void tfc_shared_resource_release(tfc_resource *r);

#endif
