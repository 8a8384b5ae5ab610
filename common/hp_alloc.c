/*
 * hp_alloc: allocation that aborts on failure, and zeroing of secrets.
 */
#include "hp_alloc.h"

#include <openssl/crypto.h> /* OPENSSL_cleanse: a memset the optimiser keeps */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", size);
    abort();
}

void *hp_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *hp_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *hp_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

char *hp_xstrdup(const char *s)
{
    return s ? hp_xstrndup(s, strlen(s)) : NULL;
}

char *hp_xstrndup(const char *s, size_t n)
{
    char *p = hp_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void hp_memzero(void *p, size_t size)
{
    if (p && size)
        OPENSSL_cleanse(p, size);
}

void hp_free_secret(char *s)
{
    if (!s)
        return;
    hp_memzero(s, strlen(s));
    free(s);
}
