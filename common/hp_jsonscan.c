/*
 * hp_jsonscan: one-pass JSON validation and pointer lookup. See
 * hp_jsonscan.h.
 *
 * A recursive-descent parser that keeps nothing but its position. The
 * pointers it looks for are followed with a bit mask: bit i of the mask a
 * value is scanned with says that the path from the root to this value is
 * a prefix of pointer i, and cursor[i] says how much of pointer i that
 * prefix used. Entering a member or element that matches pointer i's next
 * reference token moves cursor[i] one token on; leaving it moves it back.
 * A value reached with cursor[i] at the end of pointer i is pointer i's.
 * Frames stay small, so the deepest document costs a few hundred kilobytes
 * of stack at most.
 */
#include "hp_jsonscan.h"

#include "hp_codec.h"
#include "hp_utf8.h"

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct scan {
    const unsigned char *start, *p, *end;
    const char *cursor[HP_JSONSCAN_POINTERS_MAX]; /* at a '/' or the pointer's end */
    hp_json_value *found;
    hp_jsonscan_rules rules;
    const char *error; /* what is wrong at p, when something is */
};

static bool fail(struct scan *s, const char *what)
{
    s->error = what;
    return false;
}

static void skip_space(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* The four hex digits at p (end - p >= 4 checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hp_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/*
 * Reads the escape sequence after a backslash at *pp, writes its UTF-8
 * bytes to out and returns their number (1..4), moving *pp past it; 0 if
 * it is malformed, with *why set.
 */
static size_t read_escape(const unsigned char **pp, const unsigned char *end, unsigned char *out,
                          const char **why)
{
    const unsigned char *p = *pp;
    static const char simple_in[] = "\"\\/bfnrt";
    static const char simple_out[] = "\"\\/\b\f\n\r\t";

    const char *hit = p < end && *p != '\0' ? strchr(simple_in, *p) : NULL;
    if (hit) {
        out[0] = (unsigned char)simple_out[hit - simple_in];
        *pp = p + 1;
        return 1;
    }
    if (p >= end || *p != 'u' || end - p < 5 || hex4(p + 1) < 0) {
        *why = "invalid escape";
        return 0;
    }
    long cp = hex4(p + 1);
    p += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        *why = "unpaired surrogate in a \\u escape";
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long low = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF) {
            *why = "unpaired surrogate in a \\u escape";
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        p += 6;
    }
    *pp = p;
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Checks the string at s->p (its opening quote) and moves past its end. */
static bool scan_string(struct scan *s)
{
    const unsigned char *p = s->p + 1;
    while (p < s->end) {
        unsigned char c = *p;
        if (c == '"') {
            s->p = p + 1;
            return true;
        }
        if (c == '\\') {
            unsigned char bytes[4];
            const char *why = NULL;
            const unsigned char *at = p;
            p++;
            size_t n = read_escape(&p, s->end, bytes, &why);
            if (n == 0) {
                s->p = at;
                return fail(s, why);
            }
            if (n == 1 && bytes[0] == 0 && s->rules.no_nul_escape) {
                s->p = at;
                return fail(s, "\\u0000 in a string");
            }
        } else if (c < 0x20) {
            s->p = p;
            return fail(s, "control character in a string");
        } else if (c < 0x80) {
            p++;
        } else {
            size_t n = hp_utf8_char_len(p, (size_t)(s->end - p));
            if (n == 0) {
                s->p = p;
                return fail(s, "invalid UTF-8 in a string");
            }
            p += n;
        }
    }
    return fail(s, "unterminated string");
}

static bool is_digit(const struct scan *s, const unsigned char *p)
{
    return p < s->end && *p >= '0' && *p <= '9';
}

/* Moves p past a run of digits; returns how many there were. */
static unsigned long skip_digits(const struct scan *s, const unsigned char **p)
{
    unsigned long n = 0;
    for (; is_digit(s, *p); (*p)++)
        n++;
    return n;
}

/* Checks the number at s->p, moves past it, tells an integer from a real. */
static bool scan_number(struct scan *s, hp_json_kind *kind)
{
    const unsigned char *p = s->p;
    unsigned long digits, exponent = 0;
    *kind = HP_JSON_INTEGER;
    if (p < s->end && *p == '-')
        p++;
    if (!is_digit(s, p))
        return fail(s, "invalid number");
    if (*p == '0') {
        p++;
        digits = 1;
    } else {
        digits = skip_digits(s, &p);
    }
    if (p < s->end && *p == '.') {
        *kind = HP_JSON_REAL;
        if (!is_digit(s, ++p))
            return fail(s, "invalid number");
        digits += skip_digits(s, &p);
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        *kind = HP_JSON_REAL;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (!is_digit(s, p))
            return fail(s, "invalid number");
        for (; is_digit(s, p); p++)
            if (exponent <= UINT_MAX)
                exponent = exponent * 10 + (unsigned long)(*p - '0');
    }
    if (s->rules.number_digits_max && digits > s->rules.number_digits_max)
        return fail(s, "number with too many digits");
    if (s->rules.exponent_max && exponent > s->rules.exponent_max)
        return fail(s, "number with too large an exponent");
    s->p = p;
    return true;
}

static bool scan_literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "invalid literal");
    s->p += n;
    return true;
}

/* The end of the reference token that starts at tok (after its '/'). */
static const char *token_end(const char *tok)
{
    const char *slash = strchr(tok, '/');
    return slash ? slash : tok + strlen(tok);
}

/* Whether the member name key[0..len) (raw, with escapes) is the reference
 * token tok[0..toklen) (with ~0 and ~1). Both are well-formed. */
static bool name_is_token(const unsigned char *key, size_t len, const char *tok, size_t toklen)
{
    const unsigned char *k = key, *kend = key + len;
    const char *t = tok, *tend = tok + toklen;
    while (k < kend) {
        unsigned char bytes[4];
        size_t n = 1;
        const char *why;
        if (*k == '\\') {
            k++;
            n = read_escape(&k, kend, bytes, &why);
        } else {
            bytes[0] = *k++;
        }
        for (size_t i = 0; i < n; i++) {
            if (t >= tend)
                return false;
            char c = *t++;
            if (c == '~')
                c = *t++ == '0' ? '~' : '/';
            if ((unsigned char)c != bytes[i])
                return false;
        }
    }
    return t == tend;
}

/* Whether the reference token tok[0..toklen) is array index index. */
static bool token_is_index(const char *tok, size_t toklen, size_t index)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%zu", index);
    return (size_t)n == toklen && memcmp(digits, tok, toklen) == 0;
}

/* The pointers of mask whose next token names this member (is_name) or
 * this element (index), moved on to the token after it. */
static unsigned enter(struct scan *s, unsigned mask, const unsigned char *name, size_t name_len,
                      bool is_name, size_t index)
{
    unsigned child = 0;
    for (unsigned i = 0; mask >> i; i++) {
        if (!(mask >> i & 1) || *s->cursor[i] == '\0')
            continue;
        const char *tok = s->cursor[i] + 1;
        const char *end = token_end(tok);
        size_t toklen = (size_t)(end - tok);
        if (is_name ? name_is_token(name, name_len, tok, toklen)
                    : token_is_index(tok, toklen, index)) {
            child |= 1u << i;
            s->cursor[i] = end;
            s->found[i].kind = HP_JSON_ABSENT; /* a later duplicate name replaces an earlier */
        }
    }
    return child;
}

/* Undoes enter(): moves the pointers of child back one token. */
static void leave(struct scan *s, unsigned child)
{
    for (unsigned i = 0; child >> i; i++) {
        if (!(child >> i & 1))
            continue;
        const char *c = s->cursor[i];
        do
            c--;
        while (*c != '/');
        s->cursor[i] = c;
    }
}

/* Whether the member name key[0..len) (raw, well-formed) holds an escaped
 * NUL. jansson refuses one in a name (its keys are C strings), and the
 * scanner accepts what jansson accepts: the worker parses the same bodies
 * with jansson. */
static bool name_has_nul(const unsigned char *key, size_t len)
{
    const unsigned char *k = key, *kend = key + len;
    while (k < kend) {
        if (*k++ != '\\')
            continue;
        unsigned char bytes[4];
        const char *why;
        if (read_escape(&k, kend, bytes, &why) == 1 && bytes[0] == '\0')
            return true;
    }
    return false;
}

static bool scan_value(struct scan *s, unsigned depth, unsigned mask);

static bool scan_object(struct scan *s, unsigned depth, unsigned mask)
{
    s->p++;
    skip_space(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return true;
    }
    for (;;) {
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "expected a member name");
        const unsigned char *name = s->p + 1;
        if (!scan_string(s))
            return false;
        size_t name_len = (size_t)(s->p - 1 - name);
        if (memchr(name, '\\', name_len) && name_has_nul(name, name_len)) {
            s->p = name - 1;
            return fail(s, "NUL character in a member name");
        }
        skip_space(s);
        if (s->p >= s->end || *s->p != ':')
            return fail(s, "expected ':'");
        s->p++;
        skip_space(s);
        unsigned child = mask ? enter(s, mask, name, name_len, true, 0) : 0;
        if (!scan_value(s, depth + 1, child))
            return false;
        leave(s, child);
        skip_space(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            skip_space(s);
        } else if (s->p < s->end && *s->p == '}') {
            s->p++;
            return true;
        } else {
            return fail(s, "expected ',' or '}'");
        }
    }
}

static bool scan_array(struct scan *s, unsigned depth, unsigned mask)
{
    s->p++;
    skip_space(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return true;
    }
    for (size_t index = 0;; index++) {
        unsigned child = mask ? enter(s, mask, NULL, 0, false, index) : 0;
        if (!scan_value(s, depth + 1, child))
            return false;
        leave(s, child);
        skip_space(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            skip_space(s);
        } else if (s->p < s->end && *s->p == ']') {
            s->p++;
            return true;
        } else {
            return fail(s, "expected ',' or ']'");
        }
    }
}

/* Checks the value at s->p (no space before it) and moves past it; records
 * it for the pointers of mask that end here. */
static bool scan_value(struct scan *s, unsigned depth, unsigned mask)
{
    const unsigned char *start = s->p;
    hp_json_kind kind;
    bool ok;

    if (s->p >= s->end)
        return fail(s, "expected a value");
    if ((*s->p == '{' || *s->p == '[') && depth > s->rules.depth_max)
        return fail(s, "nested too deeply");
    switch (*s->p) {
    case '{':
        kind = HP_JSON_OBJECT;
        ok = scan_object(s, depth, mask);
        break;
    case '[':
        kind = HP_JSON_ARRAY;
        ok = scan_array(s, depth, mask);
        break;
    case '"':
        kind = HP_JSON_STRING;
        ok = scan_string(s);
        break;
    case 't':
        kind = HP_JSON_BOOLEAN;
        ok = scan_literal(s, "true");
        break;
    case 'f':
        kind = HP_JSON_BOOLEAN;
        ok = scan_literal(s, "false");
        break;
    case 'n':
        kind = HP_JSON_NULL;
        ok = scan_literal(s, "null");
        break;
    default:
        if (*s->p != '-' && !is_digit(s, s->p))
            return fail(s, "expected a value");
        ok = scan_number(s, &kind);
        break;
    }
    if (!ok)
        return false;
    for (unsigned i = 0; mask >> i; i++) {
        if (mask >> i & 1 && *s->cursor[i] == '\0')
            s->found[i] = (hp_json_value){kind, (const char *)start, (size_t)(s->p - start)};
    }
    return true;
}

/* Whether pointer is an RFC 6901 pointer: "" or "/"-separated tokens in
 * which every '~' starts "~0" or "~1". */
static bool pointer_valid(const char *pointer)
{
    if (*pointer != '\0' && *pointer != '/')
        return false;
    for (const char *p = pointer; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    return true;
}

/* Scans the whole document at s->p with the pointers of mask; false (and
 * s->error) when it is not one under s->rules. */
static bool scan_document(struct scan *s, unsigned mask)
{
    skip_space(s);
    if (s->p < s->end && s->rules.top != HP_JSONSCAN_TOP_ANY && *s->p != '{' &&
        (*s->p != '[' || s->rules.top == HP_JSONSCAN_TOP_OBJECT))
        return fail(s, s->rules.top == HP_JSONSCAN_TOP_OBJECT ? "expected an object"
                                                              : "expected an object or an array");
    if (!scan_value(s, 1, mask))
        return false;
    skip_space(s);
    return s->p == s->end || fail(s, "unexpected data after the end");
}

/* A scan of doc: a NULL document is empty (NULL + 0 is undefined behaviour,
 * so the end is computed from "" instead). */
static struct scan scan_init(const char *doc, size_t len, const hp_jsonscan_rules *rules)
{
    const unsigned char *start = doc ? (const unsigned char *)doc : (const unsigned char *)"";
    struct scan s = {.start = start, .p = start, .end = start + (doc ? len : 0)};
    if (rules)
        s.rules = *rules;
    if (!s.rules.depth_max)
        s.rules.depth_max = HP_JSONSCAN_DEPTH_MAX;
    return s;
}

hp_err hp_jsonscan(const char *doc, size_t len, const char *const *pointers, size_t npointers,
                   hp_json_value *found, char *errstr, size_t errstr_size)
{
    struct scan s = scan_init(doc, len, NULL);
    unsigned mask = 0;

    s.found = found;
    if (npointers > HP_JSONSCAN_POINTERS_MAX)
        npointers = HP_JSONSCAN_POINTERS_MAX;
    for (size_t i = 0; i < npointers; i++) {
        found[i] = (hp_json_value){HP_JSON_ABSENT, NULL, 0};
        if (pointers[i] && pointer_valid(pointers[i])) {
            s.cursor[i] = pointers[i];
            mask |= 1u << i;
        }
    }
    if (scan_document(&s, mask))
        return HP_OK;

    unsigned line = 1;
    const unsigned char *line_start = s.start;
    for (const unsigned char *q = s.start; q < s.p; q++) {
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    }
    if (errstr && errstr_size > 0)
        snprintf(errstr, errstr_size, "line %u, column %zu: %s", line,
                 (size_t)(s.p - line_start) + 1, s.error);
    return HP_ERR_INVALID;
}

bool hp_jsonscan_valid(const char *doc, size_t len, const hp_jsonscan_rules *rules)
{
    struct scan s = scan_init(doc, len, rules);
    return scan_document(&s, 0);
}

size_t hp_jsonscan_string(const hp_json_value *v, char *out)
{
    const unsigned char *p = (const unsigned char *)v->text + 1;
    const unsigned char *end = (const unsigned char *)v->text + v->len - 1;
    size_t n = 0;
    while (p < end) {
        if (*p == '\\') {
            const char *why;
            p++;
            n += read_escape(&p, end, (unsigned char *)out + n, &why);
        } else {
            out[n++] = (char)*p++;
        }
    }
    return n;
}

const char *hp_json_kind_name(hp_json_kind kind)
{
    switch (kind) {
    case HP_JSON_OBJECT:
        return "an object";
    case HP_JSON_ARRAY:
        return "an array";
    case HP_JSON_STRING:
        return "a string";
    case HP_JSON_INTEGER:
        return "an integer";
    case HP_JSON_REAL:
        return "a number with a fraction or exponent";
    case HP_JSON_BOOLEAN:
        return "a boolean";
    case HP_JSON_NULL:
        return "null";
    case HP_JSON_ABSENT:
        break;
    }
    return "absent";
}
