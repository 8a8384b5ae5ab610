/*
 * hp_jsonptr: RFC 6901 JSON Pointers over jansson values.
 *
 * The gateway extracts event ids, types, keys and times from webhook bodies
 * with pointers such as "/data/object/id". Jansson has no pointer support, so
 * this module resolves them: "" is the whole document, "~1" stands for "/"
 * and "~0" for "~", array elements are addressed by decimal index without
 * leading zeros ("-", the element after the last, never exists here).
 */
#ifndef HP_JSONPTR_H
#define HP_JSONPTR_H

#include "hp_err.h"

#include <jansson.h>

/*
 * Resolves pointer in root. Returns the value (borrowed from root; no
 * reference taken) or NULL if the pointer is malformed or names nothing.
 * @thread any
 */
json_t *hp_jsonptr_get(json_t *root, const char *pointer);

/* Whether pointer is a well-formed RFC 6901 pointer. @thread any */
int hp_jsonptr_valid(const char *pointer);

#endif /* HP_JSONPTR_H */
