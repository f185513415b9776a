/* Shared pieces of the string op families (string.c, string_codec.c,
 * string_io.c): TensorFlow's number parsing and small shape checks. */
#ifndef TFC_OPS_STRING_INTERNAL_H
#define TFC_OPS_STRING_INTERNAL_H

#include "graph/op_registry.h"

/* TensorFlow's strings::safe_strto32/64 and safe_strtof/d: the whole of
 * s[0, n) must be the number, spaces around it allowed; integers are
 * decimal with an optional '-' and must fit; floats take what strtod takes
 * except hexadecimal, "inf"/"nan" included. 1 on success, else 0. */
int str_parse_int64(const char *s, size_t n, int64_t *out);
int str_parse_int32(const char *s, size_t n, int32_t *out);
int str_parse_double(const char *s, size_t n, double *out);
int str_parse_float(const char *s, size_t n, float *out);

/* Checks that input i is a string tensor; records an error naming `what`
 * otherwise. 0 or -1. */
int str_check_input(tfc_infer_ctx *c, int i, const char *what);
/* Checks that input i has at most rank `max_rank` (when known). 0 or -1. */
int str_check_rank_at_most(tfc_infer_ctx *c, int i, int max_rank, const char *what);

/* A string attr that is present (the default when absent). */
const char *str_attr(const tfc_attrs *a, const char *name, const char *dflt);

/* Sets element i of string tensor t from printf-style arguments. 0 or -1. */
int str_set_printf(tfc_tensor *t, int64_t i, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
