/*
 * hp_config_verify: a source's "verify" object, checked against its scheme.
 *
 * Each scheme takes a fixed set of keys (the table below); a key of another
 * scheme is an error that names the scheme, so that `"header"` on a stripe
 * source is not silently ignored. Secrets are turned into the bytes the
 * signature code keys its MAC with: for standard-webhooks that means base64
 * decoding after "whsec_", for every other scheme the text as written, and
 * LiveKit's two forms ("keys", or "api_key" with "secrets") become one list
 * of key/secret pairs. No message here quotes a secret.
 */
#include "hp_config_int.h"

#include "hp_alloc.h"
#include "hp_codec.h" /* hp_base64_decode, for standard-webhooks keys */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys a verify object may have, as bits. */
enum {
    K_SECRETS = 1 << 0,
    K_HEADER = 1 << 1,
    K_ENCODING = 1 << 2,
    K_PREFIX = 1 << 3,
    K_TOLERANCE = 1 << 4,
    K_API_KEY = 1 << 5,
    K_KEYS = 1 << 6,
};

static const char *const verify_keys[] = {"secrets",     "header",  "encoding", "prefix",
                                          "tolerance_s", "api_key", "keys"};

typedef struct scheme_info {
    const char *name;
    hp_verify_scheme scheme;
    unsigned keys; /* besides "scheme" */
} scheme_info;

/* In the order of DESIGN.md; messages list them in this order. */
static const scheme_info schemes[] = {
    {"hmac-sha256", HP_VERIFY_HMAC_SHA256, K_SECRETS | K_HEADER | K_ENCODING | K_PREFIX},
    {"hmac-sha1", HP_VERIFY_HMAC_SHA1, K_SECRETS | K_HEADER | K_ENCODING | K_PREFIX},
    {"github", HP_VERIFY_GITHUB, K_SECRETS},
    {"stripe", HP_VERIFY_STRIPE, K_SECRETS | K_TOLERANCE},
    {"standard-webhooks", HP_VERIFY_STANDARD_WEBHOOKS, K_SECRETS | K_TOLERANCE},
    {"slack", HP_VERIFY_SLACK, K_SECRETS | K_TOLERANCE},
    {"shopify", HP_VERIFY_SHOPIFY, K_SECRETS},
    {"livekit", HP_VERIFY_LIVEKIT, K_SECRETS | K_API_KEY | K_KEYS},
    {"basic", HP_VERIFY_BASIC, K_SECRETS},
    {"bearer", HP_VERIFY_BEARER, K_SECRETS},
    {"none", HP_VERIFY_NONE, 0},
};

#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static const char *const encoding_names[] = {"hex", "base64", "base64url"};

const char *hp_verify_scheme_name(hp_verify_scheme scheme)
{
    for (size_t i = 0; i < NSCHEMES; i++) {
        if (schemes[i].scheme == scheme)
            return schemes[i].name;
    }
    return "unknown";
}

const char *hp_verify_encoding_name(hp_verify_encoding encoding)
{
    if ((size_t)encoding < sizeof encoding_names / sizeof encoding_names[0])
        return encoding_names[encoding];
    return "unknown";
}

/* ---- secrets ---- */

/* The Standard Webhooks key: "whsec_" (optional) and base64, padding
 * optional, as the Standard Webhooks libraries read it. Takes text. */
static hp_err standard_webhooks_key(hp_cfg_reader *rd, char *text, hp_secret *sec)
{
    const char *b64 = strncmp(text, "whsec_", 6) == 0 ? text + 6 : text;
    size_t b64len = strlen(b64);
    size_t size = HP_BASE64_DECODED_MAX(b64len) + 1;
    unsigned char *key = hp_xmalloc(size);
    size_t len = 0;
    hp_err rc = HP_OK;

    if (hp_base64_decode(b64, b64len, HP_BASE64_STD, key, size - 1, &len) != HP_OK || len == 0) {
        rc = hp_cfg_fail(rd, "must be \"whsec_\" followed by a base64 key");
        goto out;
    }
    key[len] = '\0';
    sec->bytes = key;
    sec->len = len;
    key = NULL;
out:
    if (key) {
        hp_memzero(key, size);
        free(key);
    }
    hp_cfg_free_string(&text);
    return rc;
}

/* Turns text, a resolved secret at the current path, into sec for scheme.
 * Takes ownership of text. */
static hp_err make_secret(hp_cfg_reader *rd, hp_verify_scheme scheme, char *text, hp_secret *sec)
{
    hp_err rc = HP_OK;

    if (*text == '\0')
        rc = hp_cfg_fail(rd, "must not be empty");
    else if (scheme == HP_VERIFY_STANDARD_WEBHOOKS)
        return standard_webhooks_key(rd, text, sec);
    else if (scheme == HP_VERIFY_BASIC && !strchr(text, ':'))
        rc = hp_cfg_fail(rd, "must be \"user:password\"");
    else if (scheme == HP_VERIFY_BEARER && strcspn(text, " \t\r\n") != strlen(text))
        rc = hp_cfg_fail(rd, "must be a token without white space");
    if (rc != HP_OK) {
        hp_cfg_free_string(&text);
        return rc;
    }
    sec->bytes = (unsigned char *)text;
    sec->len = strlen(text);
    return HP_OK;
}

static void secret_deinit(hp_secret *sec)
{
    if (sec->bytes) {
        hp_memzero(sec->bytes, sec->len);
        free(sec->bytes);
    }
    sec->bytes = NULL;
    sec->len = 0;
}

/* Reads the "secrets" array of obj (required, not empty) into *out. */
static hp_err read_secrets(hp_cfg_reader *rd, const json_t *obj, hp_verify_scheme scheme,
                           hp_secret **out, size_t *n)
{
    json_t *arr;
    hp_err rc = hp_cfg_read_array(rd, obj, "secrets", &arr);

    if (rc != HP_OK)
        return rc;
    if (!arr || json_array_size(arr) == 0)
        return hp_cfg_fail_key(rd, "secrets", "required: an array of at least one secret");
    size_t mark = hp_cfg_enter(rd, "secrets");
    *out = hp_xcalloc(json_array_size(arr), sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char *text = NULL;
        size_t elem = hp_cfg_enter_index(rd, i);
        rc = hp_cfg_string_value(rd, json_array_get(arr, i), &text);
        if (rc == HP_OK)
            rc = make_secret(rd, scheme, text, &(*out)[i]);
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
        (*n)++;
    }
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

/* ---- livekit ---- */

static hp_err check_api_key(hp_cfg_reader *rd, const char *api_key)
{
    size_t n = strlen(api_key);
    bool ok = n >= 1 && n <= 256;

    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)api_key[i] > 0x20 && (unsigned char)api_key[i] < 0x7f;
    if (!ok)
        return hp_cfg_fail(rd, "an API key must be 1 to 256 visible ASCII characters");
    return HP_OK;
}

/* "keys": {"APIkey": "secret", …}. */
static hp_err read_livekit_map(hp_cfg_reader *rd, json_t *keys, hp_verify_config *verify)
{
    const char *api_key;
    json_t *v;
    hp_err rc = HP_OK;
    size_t mark = hp_cfg_enter(rd, "keys");

    if (!json_is_object(keys) || json_object_size(keys) == 0) {
        rc = hp_cfg_fail(rd, "must be an object of at least one \"API key\": \"secret\"");
        goto out;
    }
    verify->keys = hp_xcalloc(json_object_size(keys), sizeof *verify->keys);
    json_object_foreach (keys, api_key, v) {
        hp_livekit_key *lk = &verify->keys[verify->nkeys];
        char *text = NULL;
        size_t elem = hp_cfg_enter(rd, api_key);
        if ((rc = check_api_key(rd, api_key)) == HP_OK &&
            (rc = hp_cfg_string_value(rd, v, &text)) == HP_OK)
            rc = make_secret(rd, HP_VERIFY_LIVEKIT, text, &lk->secret);
        hp_cfg_leave(rd, elem);
        if (rc != HP_OK)
            goto out;
        lk->api_key = hp_xstrdup(api_key);
        verify->nkeys++;
    }
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

/* "api_key": "APIkey", "secrets": [...]: one key, several secrets. */
static hp_err read_livekit_pair(hp_cfg_reader *rd, const json_t *obj, hp_verify_config *verify)
{
    char *api_key = NULL;
    hp_secret *secrets = NULL;
    size_t nsecrets = 0;
    size_t mark;
    hp_err rc;

    if (!json_object_get(obj, "api_key"))
        return hp_cfg_fail_key(rd, "api_key", "required with \"secrets\"");
    if ((rc = hp_cfg_read_string(rd, obj, "api_key", &api_key)) != HP_OK)
        goto out;
    mark = hp_cfg_enter(rd, "api_key");
    rc = check_api_key(rd, api_key);
    hp_cfg_leave(rd, mark);
    if (rc != HP_OK ||
        (rc = read_secrets(rd, obj, HP_VERIFY_LIVEKIT, &secrets, &nsecrets)) != HP_OK)
        goto out;
    /* One pair per secret: the same key with each secret of a rotation. */
    verify->keys = hp_xcalloc(nsecrets, sizeof *verify->keys);
    for (size_t i = 0; i < nsecrets; i++) {
        verify->keys[i].api_key = hp_xstrdup(api_key);
        verify->keys[i].secret = secrets[i];
        verify->nkeys++;
    }
    nsecrets = 0;
out:
    for (size_t i = 0; i < nsecrets; i++)
        secret_deinit(&secrets[i]);
    free(secrets);
    hp_cfg_free_string(&api_key);
    return rc;
}

static hp_err read_livekit(hp_cfg_reader *rd, const json_t *obj, hp_verify_config *verify)
{
    json_t *keys = json_object_get(obj, "keys");

    if (keys && (json_object_get(obj, "api_key") || json_object_get(obj, "secrets")))
        return hp_cfg_fail_key(rd, "keys",
                               "use either \"keys\" or \"api_key\" with \"secrets\", not both");
    if (keys)
        return read_livekit_map(rd, keys, verify);
    if (!json_object_get(obj, "api_key") && !json_object_get(obj, "secrets"))
        return hp_cfg_fail_key(rd, "keys", "required: \"keys\", or \"api_key\" with \"secrets\"");
    return read_livekit_pair(rd, obj, verify);
}

/* ---- the verify object ---- */

static hp_err read_scheme(hp_cfg_reader *rd, const json_t *obj, const scheme_info **info)
{
    char *name = NULL;
    char known[256] = "";
    char q[HP_CFG_QUOTE_SIZE];
    hp_err rc = HP_OK;

    if (!json_object_get(obj, "scheme"))
        return hp_cfg_fail_key(rd, "scheme", "required");
    if ((rc = hp_cfg_read_string(rd, obj, "scheme", &name)) != HP_OK)
        goto out;
    for (size_t i = 0; i < NSCHEMES; i++) {
        if (strcmp(name, schemes[i].name) == 0) {
            *info = &schemes[i];
            goto out;
        }
    }
    for (size_t i = 0, len = 0; i < NSCHEMES && len < sizeof known; i++) {
        int n = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", schemes[i].name);
        len += n > 0 ? (size_t)n : 0;
    }
    rc = hp_cfg_fail_key(rd, "scheme", "unknown scheme %s (known: %s)", hp_cfg_quote(name, q),
                         known);
out:
    hp_cfg_free_string(&name);
    return rc;
}

/* Every key of obj must be "scheme" or one the scheme takes. */
static hp_err check_verify_keys(hp_cfg_reader *rd, json_t *obj, const scheme_info *info)
{
    const char *key;
    json_t *v;

    json_object_foreach (obj, key, v) {
        size_t i = 0;
        if (strcmp(key, "scheme") == 0)
            continue;
        while (i < sizeof verify_keys / sizeof verify_keys[0] && strcmp(verify_keys[i], key) != 0)
            i++;
        if (i == sizeof verify_keys / sizeof verify_keys[0])
            return hp_cfg_fail_key(rd, key, "unknown key");
        if (!(info->keys & (1u << i)))
            return hp_cfg_fail_key(rd, key, "not used by scheme \"%s\"", info->name);
    }
    return HP_OK;
}

static hp_err read_encoding(hp_cfg_reader *rd, const json_t *obj, hp_verify_encoding *encoding)
{
    char *name = NULL;
    char q[HP_CFG_QUOTE_SIZE];
    size_t i = 0;
    hp_err rc = hp_cfg_read_string(rd, obj, "encoding", &name);

    if (rc != HP_OK || !name)
        return rc;
    while (i < sizeof encoding_names / sizeof encoding_names[0] && strcmp(name, encoding_names[i]))
        i++;
    if (i < sizeof encoding_names / sizeof encoding_names[0])
        *encoding = (hp_verify_encoding)i;
    else
        rc = hp_cfg_fail_key(rd, "encoding", "unknown encoding %s (known: hex, base64, base64url)",
                             hp_cfg_quote(name, q));
    hp_cfg_free_string(&name);
    return rc;
}

/* header, encoding and prefix of hmac-sha256 and hmac-sha1. */
static hp_err read_hmac(hp_cfg_reader *rd, const json_t *obj, hp_verify_config *verify)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    size_t n;
    hp_err rc;

    if (!json_object_get(obj, "header"))
        return hp_cfg_fail_key(rd, "header", "required by scheme \"%s\"",
                               hp_verify_scheme_name(verify->scheme));
    if ((rc = hp_cfg_read_string(rd, obj, "header", &verify->header)) != HP_OK)
        return rc;
    n = strlen(verify->header);
    if (n == 0 || n > 256 || strspn(verify->header, tchar) != n)
        return hp_cfg_fail_key(rd, "header", "must be an HTTP header name");
    if ((rc = read_encoding(rd, obj, &verify->encoding)) != HP_OK)
        return rc;
    verify->prefix = hp_xstrdup("");
    if ((rc = hp_cfg_read_string(rd, obj, "prefix", &verify->prefix)) != HP_OK)
        return rc;
    if (strlen(verify->prefix) > 64)
        return hp_cfg_fail_key(rd, "prefix", "must be at most 64 bytes");
    return HP_OK;
}

hp_err hp_cfg_read_verify(hp_cfg_reader *rd, const json_t *src_obj, bool insecure,
                          hp_verify_config *verify)
{
    const scheme_info *info = NULL;
    json_t *obj;
    hp_err rc = hp_cfg_read_object(rd, src_obj, "verify", &obj);

    if (rc != HP_OK)
        return rc;
    if (!obj)
        return hp_cfg_fail_key(rd, "verify",
                               "required (use \"scheme\": \"none\" with "
                               "\"insecure\": true for none)");
    size_t mark = hp_cfg_enter(rd, "verify");
    if ((rc = read_scheme(rd, obj, &info)) != HP_OK ||
        (rc = check_verify_keys(rd, obj, info)) != HP_OK)
        goto out;
    verify->scheme = info->scheme;
    if (info->scheme == HP_VERIFY_NONE && !insecure) {
        rc = hp_cfg_fail_key(rd, "scheme", "\"none\" requires \"insecure\": true on the source");
        goto out;
    }
    if ((info->keys & K_HEADER) && (rc = read_hmac(rd, obj, verify)) != HP_OK)
        goto out;
    if (info->keys & K_TOLERANCE) {
        verify->tolerance_s = 300;
        if ((rc = hp_cfg_read_int(rd, obj, "tolerance_s", 0, 86400, &verify->tolerance_s)) != HP_OK)
            goto out;
    }
    if (info->scheme == HP_VERIFY_LIVEKIT)
        rc = read_livekit(rd, obj, verify);
    else if (info->keys & K_SECRETS)
        rc = read_secrets(rd, obj, info->scheme, &verify->secrets, &verify->nsecrets);
out:
    hp_cfg_leave(rd, mark);
    return rc;
}

void hp_cfg_verify_deinit(hp_verify_config *verify)
{
    for (size_t i = 0; i < verify->nsecrets; i++)
        secret_deinit(&verify->secrets[i]);
    free(verify->secrets);
    for (size_t i = 0; i < verify->nkeys; i++) {
        hp_cfg_free_string(&verify->keys[i].api_key);
        secret_deinit(&verify->keys[i].secret);
    }
    free(verify->keys);
    hp_cfg_free_string(&verify->header);
    hp_cfg_free_string(&verify->prefix);
    memset(verify, 0, sizeof *verify);
}
