/*
 * wk_json: splice checks and string writing for the batch document. See
 * wk_json.h.
 *
 * The check is a one-pass scanner with an explicit stack (no recursion, no
 * allocation): the grammar of RFC 8259 plus the few things PostgreSQL's
 * jsonb refuses on top of it (see wk_json_spliceable).
 */
#include "wk_json.h"

#include "hp_utf8.h"

#include <stdio.h>

typedef struct scan {
    const unsigned char *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        unsigned d = is_digit(c)            ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d == 16)
            return false;
        v = v * 16 + d;
    }
    *out = v;
    return true;
}

/* A "\uXXXX" escape at s->p, consumed into *u. */
static bool u_escape(scan *s, unsigned *u)
{
    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || !hex4(s->p + 2, u))
        return false;
    s->p += 6;
    return true;
}

/* A string at s->p (its opening quote). The bytes are valid UTF-8 already. */
static bool string(scan *s)
{
    s->p++;
    while (s->p < s->end) {
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c != '\\') {
            s->p++;
            continue;
        }
        if (s->end - s->p < 2)
            return false;
        c = s->p[1];
        if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
            c == 't') {
            s->p += 2;
            continue;
        }
        unsigned u, low;
        if (!u_escape(s, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
            return false;
        /* A high surrogate must be followed by a low one. */
        if (u >= 0xd800 && u <= 0xdbff && (!u_escape(s, &low) || low < 0xdc00 || low > 0xdfff))
            return false;
    }
    return false;
}

static bool number(scan *s)
{
    const unsigned char *p = s->p, *end = s->end;
    long digits = 0, exponent = 0;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
        digits++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        for (; p < end && is_digit(*p); p++)
            digits++;
    } else {
        return false;
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return false;
        for (; p < end && is_digit(*p); p++)
            digits++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return false;
        for (; p < end && is_digit(*p); p++)
            if (exponent <= WK_JSON_EXPONENT_MAX)
                exponent = exponent * 10 + (*p - '0');
    }
    if (digits > WK_JSON_NUMBER_DIGITS_MAX || exponent > WK_JSON_EXPONENT_MAX)
        return false;
    s->p = p;
    return true;
}

static bool literal(scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (unsigned char)word[i])
            return false;
    s->p += n;
    return true;
}

static bool scalar(scan *s)
{
    switch (*s->p) {
    case '"':
        return string(s);
    case 't':
        return literal(s, "true", 4);
    case 'f':
        return literal(s, "false", 5);
    case 'n':
        return literal(s, "null", 4);
    default:
        return number(s);
    }
}

bool wk_json_spliceable(const char *text, size_t len, bool object)
{
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } want = VALUE;
    unsigned char stack[WK_JSON_DEPTH_MAX]; /* '{' or '[' per open container */
    size_t depth = 0;
    scan s = {(const unsigned char *)text, (const unsigned char *)text + len};

    if (!hp_utf8_valid(text, len))
        return false;
    skip_ws(&s);
    if (object && (s.p == s.end || *s.p != '{'))
        return false;
    for (;;) {
        skip_ws(&s);
        if (want == AFTER) {
            if (depth == 0)
                return s.p == s.end;
            if (s.p == s.end)
                return false;
            unsigned char open = stack[depth - 1];
            if (*s.p == ',') {
                want = open == '{' ? KEY : VALUE;
            } else if (*s.p == (open == '{' ? '}' : ']')) {
                depth--;
            } else {
                return false;
            }
            s.p++;
            continue;
        }
        if (s.p == s.end)
            return false;
        if ((want == VALUE_OR_CLOSE && *s.p == ']') || (want == KEY_OR_CLOSE && *s.p == '}')) {
            s.p++;
            depth--;
            want = AFTER;
            continue;
        }
        if (want == KEY || want == KEY_OR_CLOSE) {
            if (*s.p != '"' || !string(&s))
                return false;
            skip_ws(&s);
            if (s.p == s.end || *s.p != ':')
                return false;
            s.p++;
            want = VALUE;
            continue;
        }
        if (*s.p == '{' || *s.p == '[') {
            if (depth == WK_JSON_DEPTH_MAX)
                return false;
            stack[depth++] = *s.p;
            want = *s.p == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            s.p++;
            continue;
        }
        if (!scalar(&s))
            return false;
        want = AFTER;
    }
}

hp_err wk_json_put_string(hp_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* bytes of s[run..i) not yet written */
    hp_err rc = hp_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len && rc == HP_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = hp_buf_append(out, s + run, i - run);
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        if (c < 0x20) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (rc == HP_OK)
            rc = hp_buf_append(out, esc, n);
        run = i + 1;
    }
    if (rc == HP_OK)
        rc = hp_buf_append(out, s + run, len - run);
    if (rc == HP_OK)
        rc = hp_buf_append(out, "\"", 1);
    return rc;
}
