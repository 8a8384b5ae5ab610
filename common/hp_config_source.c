/*
 * hp_config_source: the "sources" array, one webhook source per entry: its
 * name (the {source} of POST /webhooks/{source}), what to extract from each
 * request (event id, type, key, time, entity type), which events to accept,
 * the worker's handler, allowed addresses and rate limit. The "verify"
 * object is read by hp_config_verify.c.
 */
#include "hp_config_int.h"

#include "hp_alloc.h"
#include "hp_jsonptr.h" /* hp_jsonptr_valid: the gateway's own definition */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Extractor forms, as bits of what a field allows. */
enum {
    X_JSON = 1 << 0,
    X_HEADER = 1 << 1,
    X_BODY_SHA256 = 1 << 2,
    X_CONST = 1 << 3,
};

static const char *const handler_names[] = {"store", "entity", "livekit"};

const char *hp_handler_name(hp_handler handler)
{
    if ((size_t)handler < sizeof handler_names / sizeof handler_names[0])
        return handler_names[handler];
    return "unknown";
}

/* ---- extractors ---- */

/* An HTTP header name: 1..256 RFC 9110 token characters. */
static bool is_header_name(const char *s)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t n = strlen(s);
    return n > 0 && n <= 256 && strspn(s, tchar) == n;
}

/* Fails for an extractor object that is not exactly one allowed form. */
static hp_err fail_forms(hp_cfg_reader *rd, unsigned allowed)
{
    return hp_cfg_fail(rd, "must be an object with exactly one of \"json\", \"header\"%s%s",
                       (allowed & X_BODY_SHA256) ? ", \"body_sha256\"" : "",
                       (allowed & X_CONST) ? ", or a string" : "");
}

/* The single member form: v of obj, at the extractor's path. */
static hp_err read_form(hp_cfg_reader *rd, const char *form, const json_t *v, unsigned allowed,
                        hp_extractor *ex)
{
    char *arg = NULL;
    char q[HP_CFG_QUOTE_SIZE];
    size_t mark = hp_cfg_enter(rd, form);
    hp_err rc = HP_OK;

    if (strcmp(form, "body_sha256") == 0) {
        if (!(allowed & X_BODY_SHA256))
            rc = hp_cfg_fail(rd, "only event_id can be body_sha256");
        else if (!json_is_true(v))
            rc = hp_cfg_fail(rd, "must be true");
        else
            ex->kind = HP_EXTRACT_BODY_SHA256;
        goto out;
    }
    if (strcmp(form, "json") != 0 && strcmp(form, "header") != 0) {
        rc = hp_cfg_fail(rd, "unknown key");
        goto out;
    }
    if ((rc = hp_cfg_string_value(rd, v, &arg)) != HP_OK)
        goto out;
    if (strcmp(form, "json") == 0) {
        if (!hp_jsonptr_valid(arg))
            rc = hp_cfg_fail(rd,
                             "%s is not a JSON pointer (RFC 6901: \"\" or \"/a/b\", with \"~\" "
                             "only in \"~0\" and \"~1\")",
                             hp_cfg_quote(arg, q));
        ex->kind = HP_EXTRACT_JSON;
    } else {
        if (!is_header_name(arg))
            rc = hp_cfg_fail(rd, "%s is not an HTTP header name", hp_cfg_quote(arg, q));
        ex->kind = HP_EXTRACT_HEADER;
    }
    ex->arg = arg;
    arg = NULL;
out:
    hp_cfg_free_string(&arg);
    hp_cfg_leave(rd, mark);
    return rc;
}

/* Reads extractor field key of the source object, if present, replacing *ex. */
static hp_err read_extractor(hp_cfg_reader *rd, const json_t *src_obj, const char *key,
                             unsigned allowed, hp_extractor *ex)
{
    json_t *v = json_object_get(src_obj, key);
    void *it;
    hp_err rc = HP_OK;

    if (!v)
        return HP_OK;
    size_t mark = hp_cfg_enter(rd, key);
    hp_cfg_free_string(&ex->arg);
    ex->kind = HP_EXTRACT_NONE;
    if ((allowed & X_CONST) && json_is_string(v)) {
        if ((rc = hp_cfg_string_value(rd, v, &ex->arg)) == HP_OK && *ex->arg == '\0')
            rc = hp_cfg_fail(rd, "must not be empty");
        ex->kind = HP_EXTRACT_CONST;
        goto out;
    }
    if (!json_is_object(v) || json_object_size(v) != 1) {
        rc = fail_forms(rd, allowed);
        goto out;
    }
    it = json_object_iter(v);
    rc = read_form(rd, json_object_iter_key(it), json_object_iter_value(it), allowed, ex);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

/* ---- other fields ---- */

/* [a-z0-9_.-]{1,64}, but not "." or "..", which would make odd URL paths. */
static hp_err read_name(hp_cfg_reader *rd, const json_t *obj, char **name)
{
    char q[HP_CFG_QUOTE_SIZE];
    size_t n;
    hp_err rc;

    if (!json_object_get(obj, "name"))
        return hp_cfg_fail_key(rd, "name", "required");
    if ((rc = hp_cfg_read_string(rd, obj, "name", name)) != HP_OK)
        return rc;
    n = strlen(*name);
    if (n == 0 || n > 64 || strspn(*name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n ||
        strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
        return hp_cfg_fail_key(rd, "name",
                               "%s must be 1 to 64 of the characters [a-z0-9_.-] (not \".\" "
                               "or \"..\")",
                               hp_cfg_quote(*name, q));
    return HP_OK;
}

static hp_err read_events(hp_cfg_reader *rd, const json_t *obj, hp_source *src)
{
    json_t *arr;
    hp_err rc = hp_cfg_read_array(rd, obj, "events", &arr);

    if (rc != HP_OK || !arr)
        return rc;
    if (json_array_size(arr) == 0)
        return hp_cfg_fail_key(rd, "events", "must not be empty ([\"*\"] accepts every event)");
    size_t mark = hp_cfg_enter(rd, "events");
    for (size_t i = 0; i < src->nevents; i++)
        hp_cfg_free_string(&src->events[i]);
    free(src->events);
    src->nevents = 0;
    src->events = hp_xcalloc(json_array_size(arr), sizeof *src->events);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char **ev = &src->events[i];
        size_t elem = hp_cfg_enter_index(rd, i);
        if ((rc = hp_cfg_string_value(rd, json_array_get(arr, i), ev)) == HP_OK) {
            src->nevents++;
            if (**ev == '\0' || strlen(*ev) > 256)
                rc = hp_cfg_fail(rd, "must be an event type of 1 to 256 bytes, or \"*\"");
        }
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
    }
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

static hp_err read_handler(hp_cfg_reader *rd, const json_t *obj, hp_handler *handler)
{
    char *name = NULL;
    char q[HP_CFG_QUOTE_SIZE];
    size_t i = 0;
    hp_err rc = hp_cfg_read_string(rd, obj, "handler", &name);

    if (rc != HP_OK || !name)
        return rc;
    while (i < sizeof handler_names / sizeof handler_names[0] && strcmp(name, handler_names[i]))
        i++;
    if (i < sizeof handler_names / sizeof handler_names[0])
        *handler = (hp_handler)i;
    else
        rc = hp_cfg_fail_key(rd, "handler", "unknown handler %s (known: store, entity, livekit)",
                             hp_cfg_quote(name, q));
    hp_cfg_free_string(&name);
    return rc;
}

/* ---- a source ---- */

static void set_source_defaults(hp_source *src)
{
    /* Without an id a source still dedups: identical bodies are one event. */
    src->event_id.kind = HP_EXTRACT_BODY_SHA256;
    src->events = hp_xcalloc(1, sizeof *src->events);
    src->events[0] = hp_xstrdup("*");
    src->nevents = 1;
    src->handler = HP_HANDLER_STORE;
}

static hp_err read_source(hp_cfg_reader *rd, json_t *obj, hp_source *src)
{
    static const char *const keys[] = {
        "name",   "verify",  "event_id",  "event_type", "key",      "event_time", "entity_type",
        "events", "handler", "allow_ips", "rate_limit", "insecure", NULL};
    hp_err rc;

    set_source_defaults(src);
    if (!json_is_object(obj))
        return hp_cfg_fail(rd, "must be an object");
    if ((rc = hp_cfg_check_keys(rd, obj, keys)) != HP_OK ||
        (rc = read_name(rd, obj, &src->name)) != HP_OK ||
        (rc = hp_cfg_read_bool(rd, obj, "insecure", &src->insecure)) != HP_OK ||
        (rc = hp_cfg_read_verify(rd, obj, src->insecure, &src->verify)) != HP_OK ||
        (rc = read_extractor(rd, obj, "event_id", X_JSON | X_HEADER | X_BODY_SHA256,
                             &src->event_id)) != HP_OK ||
        (rc = read_extractor(rd, obj, "event_type", X_JSON | X_HEADER, &src->event_type)) !=
            HP_OK ||
        (rc = read_extractor(rd, obj, "key", X_JSON | X_HEADER, &src->key)) != HP_OK ||
        (rc = read_extractor(rd, obj, "event_time", X_JSON | X_HEADER, &src->event_time)) !=
            HP_OK ||
        (rc = read_extractor(rd, obj, "entity_type", X_JSON | X_HEADER | X_CONST,
                             &src->entity_type)) != HP_OK ||
        (rc = read_events(rd, obj, src)) != HP_OK ||
        (rc = read_handler(rd, obj, &src->handler)) != HP_OK ||
        (rc = hp_cfg_read_cidrs(rd, obj, "allow_ips", &src->allow_ips, &src->nallow_ips)) !=
            HP_OK ||
        (rc = hp_cfg_read_rate_limit(rd, obj, "rate_limit", &src->rate_limit)) != HP_OK)
        return rc;
    /* Filtering on a type the source never extracts would drop every event. */
    if (src->event_type.kind == HP_EXTRACT_NONE && !hp_source_accepts_event(src, NULL))
        return hp_cfg_fail_key(rd, "events", "filtering by event type needs an event_type");
    return HP_OK;
}

hp_err hp_cfg_read_sources(hp_cfg_reader *rd, const json_t *root, hp_config *cfg)
{
    json_t *arr;
    char q[HP_CFG_QUOTE_SIZE];
    hp_err rc = hp_cfg_read_array(rd, root, "sources", &arr);

    if (rc != HP_OK || !arr)
        return rc;
    size_t mark = hp_cfg_enter(rd, "sources");
    cfg->sources = hp_xcalloc(json_array_size(arr), sizeof *cfg->sources);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        hp_source *src = &cfg->sources[i];
        size_t elem = hp_cfg_enter_index(rd, i);
        /* Counted first, so that a failure frees what was read so far. */
        cfg->nsources++;
        rc = read_source(rd, json_array_get(arr, i), src);
        for (size_t j = 0; rc == HP_OK && j < i; j++) {
            if (strcmp(cfg->sources[j].name, src->name) == 0)
                rc = hp_cfg_fail_key(rd, "name", "duplicate source name %s (also sources[%zu])",
                                     hp_cfg_quote(src->name, q), j);
        }
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
    }
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

void hp_cfg_source_deinit(hp_source *src)
{
    hp_extractor *extractors[] = {&src->event_id, &src->event_type, &src->key, &src->event_time,
                                  &src->entity_type};

    hp_cfg_free_string(&src->name);
    hp_cfg_verify_deinit(&src->verify);
    for (size_t i = 0; i < sizeof extractors / sizeof extractors[0]; i++)
        hp_cfg_free_string(&extractors[i]->arg);
    for (size_t i = 0; i < src->nevents; i++)
        hp_cfg_free_string(&src->events[i]);
    free(src->events);
    free(src->allow_ips);
    memset(src, 0, sizeof *src);
}

bool hp_source_accepts_event(const hp_source *src, const char *event_type)
{
    for (size_t i = 0; i < src->nevents; i++) {
        if (strcmp(src->events[i], "*") == 0 ||
            (event_type && strcmp(src->events[i], event_type) == 0))
            return true;
    }
    return false;
}
