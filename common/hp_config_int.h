/*
 * hp_config_int: internals of the configuration loader, shared by
 * hp_config.c (loading, top-level sections), hp_config_read.c (the typed
 * readers below), hp_config_source.c (one sources[] entry) and
 * hp_config_verify.c (a source's verify object).
 *
 * A reader walks the parsed JSON document and keeps the JSON path of the
 * value it is reading ("sources[2].verify"), so that any check, however deep,
 * can fail with "<file>: <path>: <what>". The field readers share one
 * convention: an absent key is not an error and leaves *out as it was (the
 * caller filled in the default); a present key is type-checked, resolved
 * (env:/file:) and range-checked, or the load fails naming the key.
 */
#ifndef HP_CONFIG_INT_H
#define HP_CONFIG_INT_H

#include "hp_config.h"
#include "hp_err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest JSON path kept for messages; longer ones are cut short. */
#define HP_CFG_PATH_MAX 256

/* Largest file a "file:" value may name (a secret, a DSN). */
#define HP_CFG_VALUE_FILE_MAX (64 * 1024)

/* Values quoted in messages are cut to this many bytes. */
#define HP_CFG_QUOTE_SIZE 72

typedef struct hp_cfg_reader {
    const char *name;           /* file basename for messages; NULL: none (environment) */
    char *errstr;               /* the caller's message buffer */
    size_t errstr_size;         /* its size; 0 = no message wanted */
    char path[HP_CFG_PATH_MAX]; /* path of the value being read; "" at the top */
    size_t pathlen;             /* strlen(path) */
} hp_cfg_reader;

/* Appends ".key" (or "key" at the top) to the path. Returns the mark that
 * hp_cfg_leave() takes to undo it. */
size_t hp_cfg_enter(hp_cfg_reader *rd, const char *key);
/* Appends "[index]" to the path. */
size_t hp_cfg_enter_index(hp_cfg_reader *rd, size_t index);
/* Cuts the path back to mark. */
void hp_cfg_leave(hp_cfg_reader *rd, size_t mark);

/* Writes "<name>: <path>: <message>" and returns HP_ERR_INVALID. */
hp_err hp_cfg_fail(hp_cfg_reader *rd, const char *fmt, ...) HP_PRINTF(2, 3);
/* hp_cfg_fail() for the member key of the current object. */
hp_err hp_cfg_fail_key(hp_cfg_reader *rd, const char *key, const char *fmt, ...) HP_PRINTF(3, 4);

/* Writes s in double quotes into buf (HP_CFG_QUOTE_SIZE bytes), cut short and
 * with control characters replaced by '?'; returns buf. Only for values that
 * are not secrets. */
const char *hp_cfg_quote(const char *s, char *buf);

/* Fails naming the first member of obj not in known (NULL-terminated). */
hp_err hp_cfg_check_keys(hp_cfg_reader *rd, json_t *obj, const char *const known[]);

/* Field readers; see the convention at the top. Strings are freed with
 * hp_cfg_free_string(), which the readers also use on the old *out. */
hp_err hp_cfg_read_object(hp_cfg_reader *rd, const json_t *obj, const char *key, json_t **out);
hp_err hp_cfg_read_array(hp_cfg_reader *rd, const json_t *obj, const char *key, json_t **out);
hp_err hp_cfg_read_string(hp_cfg_reader *rd, const json_t *obj, const char *key, char **out);
hp_err hp_cfg_read_int(hp_cfg_reader *rd, const json_t *obj, const char *key, int min, int max,
                       int *out);
/* Like hp_cfg_read_int, for sizes in bytes (the whole int64 range of JSON). */
hp_err hp_cfg_read_size(hp_cfg_reader *rd, const json_t *obj, const char *key, size_t min,
                        size_t max, size_t *out);
/* A {"per_second", "burst"} object at key, if present (per_second required
 * in it, > 0 and <= 1e6; burst defaults to ceil(per_second)). */
hp_err hp_cfg_read_rate_limit(hp_cfg_reader *rd, const json_t *obj, const char *key,
                              hp_rate_limit *rl);
hp_err hp_cfg_read_bool(hp_cfg_reader *rd, const json_t *obj, const char *key, bool *out);
/* An array of CIDR ranges; *out is replaced by a new array (freed with free()). */
hp_err hp_cfg_read_cidrs(hp_cfg_reader *rd, const json_t *obj, const char *key, hp_cidr **out,
                         size_t *n);

/* The string v, at the reader's current path, resolved: a new string in *out. */
hp_err hp_cfg_string_value(hp_cfg_reader *rd, const json_t *v, char **out);
/* Resolves "env:NAME" and "file:/path"; anything else is copied. */
hp_err hp_cfg_resolve(hp_cfg_reader *rd, const char *raw, char **out);

/* Zeroes and frees *s, and sets it to NULL. */
void hp_cfg_free_string(char **s);

/*
 * Reads the whole file at path into a new NUL-terminated buffer (*data, *len)
 * that the caller zeroes and frees. HP_ERR_IO with *errnum set if it cannot be
 * read, HP_ERR_INVALID if it is larger than cap bytes.
 */
hp_err hp_cfg_read_file(const char *path, size_t cap, char **data, size_t *len, int *errnum);

/* strerror(errnum), thread-safe, written into buf; returns buf. */
const char *hp_cfg_strerror(int errnum, char *buf, size_t bufsz);

/* hp_config_source.c: reads the "sources" array of root into cfg. */
hp_err hp_cfg_read_sources(hp_cfg_reader *rd, const json_t *root, hp_config *cfg);
/* Frees what src owns. */
void hp_cfg_source_deinit(hp_source *src);

/* hp_config_verify.c: reads the "verify" member of the source object src_obj
 * (required); insecure is the source's "insecure" flag. */
hp_err hp_cfg_read_verify(hp_cfg_reader *rd, const json_t *src_obj, bool insecure,
                          hp_verify_config *verify);
/* Zeroes and frees what verify owns. */
void hp_cfg_verify_deinit(hp_verify_config *verify);

#endif /* HP_CONFIG_INT_H */
