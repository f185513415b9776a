/* list(type) and list(shape) attrs for the data ops. attrs.h has no kinds
 * for them: a list(type) is an int list of TensorFlow's DataType numbers
 * (as GraphDef import stores it), a list(shape) an int list holding, per
 * shape, its rank then its dims (rank -1: unknown, no dims). Every reader
 * and writer of these encodings is here. */
#ifndef TFC_DATA_ATTR_LISTS_H
#define TFC_DATA_ATTR_LISTS_H

#include "graph/attrs.h"

/* The shapes of attr `name` into out[0, max): their count, 0 when absent,
 * -1 when malformed or more than max. */
int tfc_attr_shape_list(const tfc_attrs *a, const char *name, tfc_shape *out, int max);
/* Stores n shapes as attr `name`. 0, or -1 (memory, or a bad rank). */
int tfc_attrs_set_shape_list(tfc_attrs *a, const char *name, const tfc_shape *shapes, int n);
/* The dtypes of attr `name` into out[0, max): their count (0 when absent),
 * -1 when one is not a dtype tfc has or there are more than max. */
int tfc_attr_type_list(const tfc_attrs *a, const char *name, tfc_dtype *out, int max);

#endif
