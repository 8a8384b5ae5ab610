/*
 * bn_http: HTTP/1.1 response heads. See bn_http.h.
 */
#include "bn_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */

typedef struct line {
    const char *p;
    size_t n;
} line;

static bool value_is(line v, const char *word)
{
    size_t n = strlen(word);
    return v.n == n && strncasecmp(v.p, word, n) == 0;
}

/* Whether the comma-separated list v holds token (Connection: keep-alive, close). */
static bool list_has(line v, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = 0; i + n <= v.n; i++) {
        bool start = i == 0 || v.p[i - 1] == ',' || v.p[i - 1] == ' ';
        bool end = i + n == v.n || v.p[i + n] == ',' || v.p[i + n] == ' ';
        if (start && end && strncasecmp(v.p + i, token, n) == 0)
            return true;
    }
    return false;
}

static bool parse_length(line v, uint64_t *len)
{
    char num[24], *end;
    if (v.n == 0 || v.n >= sizeof num || v.p[0] < '0' || v.p[0] > '9')
        return false;
    memcpy(num, v.p, v.n);
    num[v.n] = '\0';
    *len = strtoull(num, &end, 10);
    return *end == '\0';
}

/* "HTTP/1.1 200 OK": the status, and whether the version keeps connections by default. */
static bool parse_status_line(line l, bn_resp *resp, bool *http10)
{
    if (l.n < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 || l.p[8] != ' ')
        return false;
    *http10 = l.p[7] == '0';
    for (int i = 9; i < 12; i++)
        if (l.p[i] < '0' || l.p[i] > '9')
            return false;
    resp->status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
    return resp->status >= 100 && resp->status <= 599 && (l.n == 12 || l.p[12] == ' ');
}

/* Applies one "Name: value" line; false if it makes the response unusable. */
static bool apply_header(line l, bn_resp *resp, bool *has_length, bool *keep_alive)
{
    const char *colon = memchr(l.p, ':', l.n);
    if (!colon)
        return false;
    line name = {l.p, (size_t)(colon - l.p)};
    line v = {colon + 1, l.n - name.n - 1};
    while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
        v.p++;
        v.n--;
    }
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
        v.n--;
    if (value_is(name, "Content-Length")) {
        *has_length = true;
        return parse_length(v, &resp->body_len);
    }
    if (value_is(name, "Transfer-Encoding"))
        return false; /* chunked: not supported, see the header comment */
    if (value_is(name, "Connection")) {
        resp->close |= list_has(v, "close");
        *keep_alive |= list_has(v, "keep-alive");
    }
    return true;
}

static const char *find_crlf(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n')
            return p;
    return NULL;
}

bn_http_result bn_http_parse_head(const char *buf, size_t len, bn_resp *resp, size_t *head_len)
{
    const char *end = buf + (len < BN_HTTP_MAX_HEAD ? len : BN_HTTP_MAX_HEAD);
    const char *p = buf, *eol;
    bool http10 = false, has_length = false, keep_alive = false;

    memset(resp, 0, sizeof *resp);
    if (!(eol = find_crlf(p, end)))
        return len >= BN_HTTP_MAX_HEAD ? BN_HTTP_BAD : BN_HTTP_PARTIAL;
    if (!parse_status_line((line){p, (size_t)(eol - p)}, resp, &http10))
        return BN_HTTP_BAD;
    for (p = eol + 2; (eol = find_crlf(p, end)) != NULL && eol != p; p = eol + 2)
        if (!apply_header((line){p, (size_t)(eol - p)}, resp, &has_length, &keep_alive))
            return BN_HTTP_BAD;
    if (!eol)
        return len >= BN_HTTP_MAX_HEAD ? BN_HTTP_BAD : BN_HTTP_PARTIAL;

    *head_len = (size_t)(eol + 2 - buf);
    if (http10 && !keep_alive)
        resp->close = true;
    if (resp->status < 200 || resp->status == 204 || resp->status == 304)
        resp->body_len = 0;
    else if (!has_length)
        resp->until_close = resp->close = true;
    return BN_HTTP_HEAD;
}
