/*
 * bn_corpus: the pre-built HTTP requests a benchmark sends.
 *
 * A corpus file is nothing but complete HTTP/1.1 requests one after the
 * other, exactly the bytes a client writes on a keep-alive connection (so
 * `nc` or `curl --data-binary` can replay one too). Every request carries a
 * Content-Length body; chunked requests are not supported. A directory is
 * read as the concatenation of its regular files in name order. hp-load
 * sends the requests round-robin; hp-kafka-baseline turns the same requests
 * into the same Kafka records (bn_record). `hp-load gen` writes corpora.
 */
#ifndef BN_CORPUS_H
#define BN_CORPUS_H

#include "hp_err.h"

#include <stdbool.h>
#include <stddef.h>

/* Largest corpus read (all files together). */
#define BN_CORPUS_MAX_BYTES ((size_t)1 << 30)
/* Longest request line plus headers of one request. */
#define BN_CORPUS_MAX_HEAD 16384

/* One request; every pointer points into the corpus' data. */
typedef struct bn_request {
    const char *raw; /* the whole request as sent; the head starts it */
    size_t len;
    size_t head_len; /* request line and headers through the empty line */
    const char *body;
    size_t body_len;
} bn_request;

typedef struct bn_corpus {
    char *data; /* every request, back to back */
    size_t size;
    bn_request *reqs;
    size_t n; /* at least 1 after a successful load */
} bn_corpus;

/* One header of a request, not NUL-terminated. */
typedef struct bn_header {
    const char *name;
    size_t name_len;
    const char *value; /* leading and trailing blanks removed */
    size_t value_len;
} bn_header;

/*
 * Loads the requests of a file or a directory into caller storage c. On
 * HP_OK the caller owns c and frees it with bn_corpus_deinit(); otherwise c
 * is empty and errstr says which file and which byte offset failed
 * (HP_ERR_IO: unreadable, HP_ERR_INVALID: not requests). @thread any
 */
hp_err bn_corpus_load(bn_corpus *c, const char *path, char *errstr,
                      size_t errstr_size) HP_WARN_UNUSED;

/* Frees what c owns and empties it. @thread owner */
void bn_corpus_deinit(bn_corpus *c);

/*
 * Iterates the headers of req: *pos starts at 0; each call fills *h with the
 * next header and returns true, false after the last. @thread any
 */
bool bn_request_next_header(const bn_request *req, size_t *pos, bn_header *h);

/* Whether h's name is name, ignoring case. @thread any */
bool bn_header_is(const bn_header *h, const char *name);

#endif /* BN_CORPUS_H */
