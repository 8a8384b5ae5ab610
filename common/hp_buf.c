/*
 * hp_buf: a growable byte buffer with a hard cap. See hp_buf.h.
 *
 * Growth doubles the allocation (starting at 256 bytes) but never past
 * cap + 1, so the terminator always fits and a buffer filled to its cap
 * allocated at most cap + 1 bytes.
 */
#include "hp_buf.h"

#include "hp_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HP_BUF_MIN_ALLOC 256

void hp_buf_init(hp_buf *buf, size_t cap)
{
    buf->data = NULL;
    buf->len = 0;
    buf->alloc = 0;
    buf->cap = cap;
}

void hp_buf_deinit(hp_buf *buf)
{
    free(buf->data);
    hp_buf_init(buf, buf->cap);
}

void hp_buf_reset(hp_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

/* Makes room for len + extra bytes plus the terminator; the caller checked the cap. */
static void grow(hp_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    if (need <= buf->alloc)
        return;
    size_t alloc = buf->alloc ? buf->alloc : HP_BUF_MIN_ALLOC;
    while (alloc < need)
        alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
    if (alloc > buf->cap + 1)
        alloc = buf->cap + 1;
    buf->data = hp_xrealloc(buf->data, alloc);
    buf->alloc = alloc;
}

hp_err hp_buf_append(hp_buf *buf, const void *data, size_t n)
{
    if (n > buf->cap - buf->len)
        return HP_ERR_INVALID;
    grow(buf, n);
    if (n)
        memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return HP_OK;
}

hp_err hp_buf_append_str(hp_buf *buf, const char *s)
{
    return hp_buf_append(buf, s, strlen(s));
}

hp_err hp_buf_vprintf(hp_buf *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return HP_ERR_INVALID;
    if ((size_t)n > buf->cap - buf->len)
        return HP_ERR_INVALID;
    grow(buf, (size_t)n);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return HP_OK;
}

hp_err hp_buf_printf(hp_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hp_err rc = hp_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

char *hp_buf_take(hp_buf *buf, size_t *len)
{
    char *data = buf->data ? buf->data : hp_xstrdup("");
    if (len)
        *len = buf->len;
    hp_buf_init(buf, buf->cap);
    return data;
}
