/*
 * bn_corpus: reading and splitting request corpora. See bn_corpus.h.
 */
#include "bn_corpus.h"

#include "hp_alloc.h"
#include "hp_buf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strncasecmp */
#include <sys/stat.h>

static hp_err read_file(hp_buf *buf, const char *path, char *errstr, size_t errstr_size)
{
    char chunk[65536];
    size_t n;
    hp_err rc = HP_OK;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return HP_ERR_IO;
    }
    while (rc == HP_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (hp_buf_append(buf, chunk, n) != HP_OK) {
            snprintf(errstr, errstr_size, "%s: the corpus exceeds %zu bytes", path,
                     BN_CORPUS_MAX_BYTES);
            rc = HP_ERR_INVALID;
        }
    }
    if (rc == HP_OK && ferror(f)) {
        snprintf(errstr, errstr_size, "%s: read error", path);
        rc = HP_ERR_IO;
    }
    fclose(f);
    return rc;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static hp_err read_dir(hp_buf *buf, const char *dir, char *errstr, size_t errstr_size)
{
    struct dirent **names = NULL;
    char path[4096];
    struct stat st;
    hp_err rc = HP_OK;
    int n = scandir(dir, &names, not_hidden, alphasort);
    if (n < 0) {
        snprintf(errstr, errstr_size, "%s: %s", dir, strerror(errno));
        return HP_ERR_IO;
    }
    for (int i = 0; i < n; i++) {
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (rc == HP_OK && len > 0 && (size_t)len < sizeof path && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode))
            rc = read_file(buf, path, errstr, errstr_size);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Finds the Content-Length of a head; false if it has none or a bad one. */
static bool content_length(const bn_request *req, size_t *len)
{
    size_t pos = 0;
    bn_header h;
    bool found = false;
    while (bn_request_next_header(req, &pos, &h)) {
        if (bn_header_is(&h, "Transfer-Encoding"))
            return false;
        if (!bn_header_is(&h, "Content-Length"))
            continue;
        char num[24], *end;
        if (h.value_len == 0 || h.value_len >= sizeof num)
            return false;
        memcpy(num, h.value, h.value_len);
        num[h.value_len] = '\0';
        unsigned long long v = strtoull(num, &end, 10);
        if (*end || num[0] == '-')
            return false;
        *len = (size_t)v;
        found = true;
    }
    return found;
}

/* Splits the request at data[off]; fills *req and returns its length, or 0. */
static size_t split_one(const char *data, size_t size, size_t off, bn_request *req,
                        const char **why)
{
    size_t limit = size - off < BN_CORPUS_MAX_HEAD ? size - off : BN_CORPUS_MAX_HEAD;
    const char *p = data + off;
    const char *eol = memchr(p, '\n', limit);
    size_t body_len;

    req->raw = p;
    req->head_len = 0;
    for (size_t i = 3; i < limit; i++)
        if (memcmp(p + i - 3, "\r\n\r\n", 4) == 0) {
            req->head_len = i + 1;
            break;
        }
    if (!eol || req->head_len == 0) {
        *why = "no complete request head (request line and headers ending in an empty line)";
        return 0;
    }
    if (eol - p < 10 || memcmp(eol - 9, "HTTP/1.", 7) != 0) {
        *why = "the first line is not an HTTP/1.x request line";
        return 0;
    }
    if (!content_length(req, &body_len)) {
        *why = "the request has no usable Content-Length (chunked bodies are not supported)";
        return 0;
    }
    if (body_len > size - off - req->head_len) {
        *why = "the body is shorter than its Content-Length";
        return 0;
    }
    req->body = p + req->head_len;
    req->body_len = body_len;
    req->len = req->head_len + body_len;
    return req->len;
}

static hp_err split(bn_corpus *c, const char *path, char *errstr, size_t errstr_size)
{
    size_t alloc = 1024, off = 0;
    const char *why = NULL;
    c->reqs = hp_xmalloc(alloc * sizeof *c->reqs);
    while (off < c->size) {
        if (c->n == alloc) {
            alloc *= 2;
            c->reqs = hp_xrealloc(c->reqs, alloc * sizeof *c->reqs);
        }
        size_t len = split_one(c->data, c->size, off, &c->reqs[c->n], &why);
        if (len == 0) {
            snprintf(errstr, errstr_size, "%s: request %zu at byte %zu: %s", path, c->n + 1, off,
                     why);
            return HP_ERR_INVALID;
        }
        off += len;
        c->n++;
    }
    if (c->n == 0) {
        snprintf(errstr, errstr_size, "%s: no requests", path);
        return HP_ERR_INVALID;
    }
    return HP_OK;
}

hp_err bn_corpus_load(bn_corpus *c, const char *path, char *errstr, size_t errstr_size)
{
    struct stat st;
    hp_buf buf;
    hp_err rc;

    memset(c, 0, sizeof *c);
    hp_buf_init(&buf, BN_CORPUS_MAX_BYTES);
    if (stat(path, &st) != 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        rc = HP_ERR_IO;
    } else if (S_ISDIR(st.st_mode)) {
        rc = read_dir(&buf, path, errstr, errstr_size);
    } else {
        rc = read_file(&buf, path, errstr, errstr_size);
    }
    if (rc == HP_OK) {
        c->data = hp_buf_take(&buf, &c->size);
        rc = split(c, path, errstr, errstr_size);
    }
    hp_buf_deinit(&buf);
    if (rc != HP_OK)
        bn_corpus_deinit(c);
    return rc;
}

void bn_corpus_deinit(bn_corpus *c)
{
    free(c->data);
    free(c->reqs);
    memset(c, 0, sizeof *c);
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

bool bn_request_next_header(const bn_request *req, size_t *pos, bn_header *h)
{
    const char *head = req->raw, *end = req->raw + req->head_len - 2;
    const char *p = head + *pos;
    if (*pos == 0) /* skip the request line */
        p = (const char *)memchr(head, '\n', req->head_len) + 1;
    if (p >= end)
        return false;
    const char *eol = memchr(p, '\n', (size_t)(end - p) + 1);
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon) /* not a header line: treat as the end */
        return false;
    const char *v = colon + 1, *ve = eol > v && eol[-1] == '\r' ? eol - 1 : eol;
    while (v < ve && is_blank(*v))
        v++;
    while (ve > v && is_blank(ve[-1]))
        ve--;
    h->name = p;
    h->name_len = (size_t)(colon - p);
    h->value = v;
    h->value_len = (size_t)(ve - v);
    *pos = (size_t)(eol + 1 - head);
    return true;
}

bool bn_header_is(const bn_header *h, const char *name)
{
    return strlen(name) == h->name_len && strncasecmp(h->name, name, h->name_len) == 0;
}
