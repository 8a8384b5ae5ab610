/*
 * hp_alloc: allocation that cannot fail.
 *
 * Every input hookpipe holds in memory is bounded by a configured cap, so
 * running out of memory is a bug or a misconfiguration, not a case to handle:
 * these functions abort with a message instead of returning NULL.
 */
#ifndef HP_ALLOC_H
#define HP_ALLOC_H

#include <stddef.h>

void *hp_xmalloc(size_t size);
void *hp_xcalloc(size_t nmemb, size_t size);
void *hp_xrealloc(void *ptr, size_t size);
/* Copy of s (NULL stays NULL). Free with free(). */
char *hp_xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *hp_xstrndup(const char *s, size_t n);

/* Overwrites size bytes at p with zeros in a way the compiler keeps (secrets). */
void hp_memzero(void *p, size_t size);
/* hp_memzero()s the string and frees it; NULL is fine. */
void hp_free_secret(char *s);

#endif /* HP_ALLOC_H */
