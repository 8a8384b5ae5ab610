/*
 * hp_jsonscan: validate a JSON document and find the values at a few JSON
 * Pointers in one pass, without building a tree.
 *
 * The gateway needs two things from a webhook body: that it is JSON, and
 * the event id, type, key and time at configured pointers. Building a
 * jansson tree for that allocated every node of every body and was the
 * largest single cost of a request (a fifth of the gateway's CPU). This
 * scanner checks the same grammar jansson's parser does — RFC 8259, an
 * object or array at the top, strings of valid UTF-8 with paired \u
 * surrogates ("\u0000" allowed, but not in a member name), at most
 * HP_JSONSCAN_DEPTH_MAX levels — and reports each found value as a span of
 * the document. Where several members of one object have the same name,
 * the last one counts (as in jansson and PostgreSQL's jsonb). Integers are
 * not limited to 64 bits: a span is text, the caller decides what range it
 * accepts. hp_jsonscan_valid() gives the verdict alone, under stricter
 * rules where a caller needs them (the worker: what jsonb takes as it is).
 */
#ifndef HP_JSONSCAN_H
#define HP_JSONSCAN_H

#include "hp_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Most pointers one scan resolves. */
#define HP_JSONSCAN_POINTERS_MAX 8
/* Deepest nesting accepted (jansson's limit too). */
#define HP_JSONSCAN_DEPTH_MAX 2048

typedef enum hp_json_kind {
    HP_JSON_ABSENT, /* the pointer names nothing in the document */
    HP_JSON_OBJECT,
    HP_JSON_ARRAY,
    HP_JSON_STRING,
    HP_JSON_INTEGER, /* a number without fraction or exponent */
    HP_JSON_REAL,    /* a number with a fraction or an exponent */
    HP_JSON_BOOLEAN,
    HP_JSON_NULL,
} hp_json_kind;

/* A value found in a document: its kind and its bytes there (a string's
 * with its quotes and escapes; decode it with hp_jsonscan_string). */
typedef struct hp_json_value {
    hp_json_kind kind;
    const char *text;
    size_t len;
} hp_json_value;

/*
 * Checks that doc[0..len) is a JSON object or array and sets found[i] to
 * the value at pointers[i] (RFC 6901; HP_JSON_ABSENT when it names nothing
 * or is malformed), for npointers <= HP_JSONSCAN_POINTERS_MAX. Returns
 * HP_OK, or HP_ERR_INVALID with what is wrong and where ("line 3, column
 * 7: invalid escape") in errstr; the found values are then meaningless.
 * The spans point into doc. @thread any
 */
hp_err hp_jsonscan(const char *doc, size_t len, const char *const *pointers, size_t npointers,
                   hp_json_value *found, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/* Which values hp_jsonscan_valid takes at the top of a document. */
typedef enum hp_jsonscan_top {
    HP_JSONSCAN_TOP_CONTAINER, /* an object or an array (hp_jsonscan's rule) */
    HP_JSONSCAN_TOP_OBJECT,    /* an object */
    HP_JSONSCAN_TOP_ANY,       /* any value */
} hp_jsonscan_top;

/* What a document must be beyond RFC 8259; a zero field keeps hp_jsonscan's
 * rule (no limit for the numbers). */
typedef struct hp_jsonscan_rules {
    hp_jsonscan_top top;
    unsigned depth_max;         /* levels of objects and arrays; 0: HP_JSONSCAN_DEPTH_MAX */
    bool no_nul_escape;         /* refuse "\u0000" in strings too, not only in names */
    unsigned number_digits_max; /* digits of a number's integer and fraction parts */
    unsigned exponent_max;      /* largest absolute exponent of a number */
} hp_jsonscan_rules;

/*
 * Whether doc[0..len) is one JSON document (white space around it allowed)
 * under rules (NULL: hp_jsonscan's). For callers that need the verdict
 * only, such as the worker checking that PostgreSQL's jsonb takes a body as
 * it is. @thread any
 */
bool hp_jsonscan_valid(const char *doc, size_t len, const hp_jsonscan_rules *rules);

/*
 * Decodes the string value v (found by hp_jsonscan, so well-formed) into
 * out, which must hold v->len bytes, and returns the decoded length. The
 * result is UTF-8 and not NUL-terminated; "\u0000" decodes to a NUL byte.
 * @thread any
 */
size_t hp_jsonscan_string(const hp_json_value *v, char *out);

/* What a kind is, for messages: "an object", "a string", ... @thread any */
const char *hp_json_kind_name(hp_json_kind kind);

#endif /* HP_JSONSCAN_H */
