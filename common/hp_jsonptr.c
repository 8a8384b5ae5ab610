/*
 * hp_jsonptr: RFC 6901 JSON Pointers over jansson values. See hp_jsonptr.h.
 */
#include "hp_jsonptr.h"

#include "hp_alloc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Tokens up to this long are decoded on the stack; object keys in webhooks
 * are far shorter. */
#define HP_JSONPTR_TOKEN_MAX 256

/*
 * Decodes the reference token that starts at p (after a '/') into out and
 * returns a pointer to the next '/' or the terminator; NULL if the token is
 * malformed (a '~' not followed by '0' or '1') or longer than outsz - 1.
 */
static const char *next_token(const char *p, char *out, size_t outsz, size_t *outlen)
{
    size_t n = 0;
    for (; *p && *p != '/'; p++) {
        char c = *p;
        if (c == '~') {
            if (p[1] == '0')
                c = '~';
            else if (p[1] == '1')
                c = '/';
            else
                return NULL;
            p++;
        }
        if (n + 1 >= outsz)
            return NULL;
        out[n++] = c;
    }
    out[n] = '\0';
    *outlen = n;
    return p;
}

/* An array index: "0" or a decimal without leading zeros, within size_t. */
static bool parse_index(const char *tok, size_t len, size_t *index)
{
    if (len == 0 || (len > 1 && tok[0] == '0') || len > 18)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return false;
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *index = v;
    return true;
}

json_t *hp_jsonptr_get(json_t *root, const char *pointer)
{
    if (!root || !pointer)
        return NULL;
    if (*pointer == '\0')
        return root;
    if (*pointer != '/')
        return NULL;

    /* No token is longer than the pointer: a long one (a long member name)
     * gets a buffer of the pointer's size. */
    size_t plen = strlen(pointer);
    char small[HP_JSONPTR_TOKEN_MAX];
    char *tok = plen < sizeof small ? small : hp_xmalloc(plen + 1);
    size_t toksz = plen < sizeof small ? sizeof small : plen + 1;
    json_t *cur = root;
    const char *p = pointer;
    while (cur && *p == '/') {
        size_t len, index;
        p = next_token(p + 1, tok, toksz, &len);
        if (!p)
            cur = NULL;
        else if (json_is_object(cur))
            cur = json_object_getn(cur, tok, len);
        else if (json_is_array(cur) && parse_index(tok, len, &index))
            cur = json_array_get(cur, index);
        else
            cur = NULL;
    }
    if (tok != small)
        free(tok);
    return cur;
}

int hp_jsonptr_valid(const char *pointer)
{
    if (!pointer)
        return 0;
    if (*pointer == '\0')
        return 1;
    if (*pointer != '/')
        return 0;
    for (const char *p = pointer; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return 0;
    return 1;
}
