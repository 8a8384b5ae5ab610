/*
 * hp_buf: a growable byte buffer with a hard cap.
 *
 * Every buffer that grows from input (a request body, a rendered response)
 * gets its cap when it is initialised, so no input can make hookpipe hold
 * more than the configuration allows. Appending past the cap fails with
 * HP_ERR_INVALID and leaves the contents unchanged. The data is always
 * NUL-terminated (the terminator is not counted in len, nor against the cap),
 * so text can be used as a C string.
 */
#ifndef HP_BUF_H
#define HP_BUF_H

#include "hp_err.h"

#include <stdarg.h>
#include <stddef.h>

typedef struct hp_buf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes in use */
    size_t alloc; /* bytes allocated, terminator included */
    size_t cap;   /* most bytes len may reach */
} hp_buf;

/* Initialises caller storage; nothing is allocated until the first append. @thread any */
void hp_buf_init(hp_buf *buf, size_t cap);

/* Frees the contents and reinitialises with the same cap. @thread owner */
void hp_buf_deinit(hp_buf *buf);

/* Forgets the contents but keeps the memory for reuse. @thread owner */
void hp_buf_reset(hp_buf *buf);

/* Appends n bytes. HP_ERR_INVALID if len + n would exceed the cap. @thread owner */
hp_err hp_buf_append(hp_buf *buf, const void *data, size_t n) HP_WARN_UNUSED;

/* Appends a NUL-terminated string. @thread owner */
hp_err hp_buf_append_str(hp_buf *buf, const char *s) HP_WARN_UNUSED;

/* Appends formatted text (vsnprintf rules). @thread owner */
hp_err hp_buf_printf(hp_buf *buf, const char *fmt, ...) HP_PRINTF(2, 3) HP_WARN_UNUSED;
hp_err hp_buf_vprintf(hp_buf *buf, const char *fmt, va_list ap) HP_PRINTF(2, 0) HP_WARN_UNUSED;

/* Moves the contents out: the caller frees the returned pointer (never NULL,
 * "" for an empty buffer) and buf is left empty with its cap. @thread owner */
char *hp_buf_take(hp_buf *buf, size_t *len);

#endif /* HP_BUF_H */
