/* The kind of value a TensorFlow AttrValue holds, in the words of
 * TensorFlow's OpDefs, so that GraphDef import and the OpDef check of
 * what tfc writes name kinds alike. */
#ifndef TFC_FORMATS_ATTR_VALUE_KIND_H
#define TFC_FORMATS_ATTR_VALUE_KIND_H

#include "graph.pb-c.h"

/* "int", "list(type)", ...; "list" for an empty list (which fits any list
 * kind), "list(mixed)" for a list of several kinds, "nothing" for no value.
 * A static string. */
const char *tfc_attr_value_kind(const Tensorflow__AttrValue *v);

#endif
