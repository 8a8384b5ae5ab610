/*
 * hp_utf8: UTF-8 validation, for the text hookpipe writes as JSON (logs,
 * recorded headers) or stores (ids, types, keys).
 */
#ifndef HP_UTF8_H
#define HP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 if it is
 * invalid: overlong forms, surrogates, code points above U+10FFFF and
 * truncated sequences included. @thread any
 */
size_t hp_utf8_char_len(const unsigned char *s, size_t n);

/* Whether s[0..n) is valid UTF-8. @thread any */
bool hp_utf8_valid(const char *s, size_t n);

#endif /* HP_UTF8_H */
