/* tf.train.Coordinator (coordinator.c): its public functions are in
 * include/tfc.h's "Queues" section. */
#ifndef TFC_DATA_COORDINATOR_H
#define TFC_DATA_COORDINATOR_H

#include "tfc.h"

#include <pthread.h>

#endif
