/*
 * bn_args: the number options of the benchmark tools.
 */
#ifndef BN_ARGS_H
#define BN_ARGS_H

#include <stdbool.h>

/* A whole decimal number s in [min, max] into *out; false (and *out
 * untouched) for anything else: empty, trailing text, out of range. */
bool bn_parse_long(const char *s, long long min, long long max, long long *out);

/* The same for a real number (strtod's syntax); NaN is refused. */
bool bn_parse_double(const char *s, double min, double max, double *out);

#endif /* BN_ARGS_H */
