/*
 * wk_json: the JSON the worker writes into a batch document, without
 * building trees.
 *
 * A webhook body that is JSON goes into the batch document as it is, spliced
 * byte for byte, so that PostgreSQL parses it once (as part of the document)
 * and the worker never parses and re-serialises it. That is only safe for a
 * body PostgreSQL's jsonb is sure to take: one bad splice would break the
 * whole document. wk_json_spliceable() says whether a body is one; a body
 * that is not goes to the database as base64 (and is stored as bytes).
 */
#ifndef WK_JSON_H
#define WK_JSON_H

#include "hp_buf.h"
#include "hp_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting of arrays and objects spliced. */
#define WK_JSON_DEPTH_MAX 1024
/* Most digits of a number (integer and fraction together) spliced. */
#define WK_JSON_NUMBER_DIGITS_MAX 1000
/* Largest absolute exponent of a number spliced (PostgreSQL's numeric: 1000). */
#define WK_JSON_EXPONENT_MAX 1000

/*
 * Whether text[0..len) is exactly one JSON value (RFC 8259, any type at the
 * top, white space around it allowed) that PostgreSQL's jsonb accepts as it
 * is: valid UTF-8; no "\u0000" (jsonb cannot hold it) and no unpaired
 * surrogate escape; numbers of at most WK_JSON_NUMBER_DIGITS_MAX digits
 * and an exponent within WK_JSON_EXPONENT_MAX; at most WK_JSON_DEPTH_MAX
 * levels. Integers beyond 64 bits are fine (jsonb numbers are numeric).
 * When `object` is true the value must also be an object. @thread any
 */
bool wk_json_spliceable(const char *text, size_t len, bool object);

/*
 * Appends s[0..len) as a JSON string: quoted, with '"', '\\' and control
 * characters escaped. s must be valid UTF-8 without NUL bytes (the caller
 * checks). HP_ERR_INVALID when out's cap is reached. @thread any
 */
hp_err wk_json_put_string(hp_buf *out, const char *s, size_t len) HP_WARN_UNUSED;

#endif /* WK_JSON_H */
