/*
 * Fuzzes hp_jsonscan, the gateway's one-pass JSON validator and pointer
 * lookup, differentially against jansson (json_loadb with JSON_ALLOW_NUL)
 * and hp_jsonptr_get on jansson's tree.
 *
 * Input: a first line of up to HP_JSONSCAN_POINTERS_MAX - 2 tab-separated
 * JSON Pointers, then the document (every other byte of the input). The
 * pointers "" and "/id" are always asked for too.
 *
 * Beyond "no crash", it asserts (fuzz_json.h): the scanner and jansson agree
 * on whether the document is JSON, except where jansson refuses a number
 * beyond its range; a refusal comes with a message; every found span lies
 * in the document; the value at each pointer is jansson's (kind, decoded
 * string bytes, integer text); decoded strings are UTF-8; and the verdict
 * does not depend on the pointers asked for.
 */
#include "fuzz_json.h"
#include "fuzz_util.h"
#include "hp_jsonscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : 0;
    char *ptr_text = fz_strndup(data, plen);
    const char *ptrs[HP_JSONSCAN_POINTERS_MAX] = {"", "/id"};
    size_t n = 2;

    for (char *p = ptr_text; nl && n < HP_JSONSCAN_POINTERS_MAX;) {
        char *tab = strchr(p, '\t');
        if (tab)
            *tab = '\0';
        ptrs[n++] = p;
        if (!tab)
            break;
        p = tab + 1;
    }
    /* An exact-size copy of the document, so a read past its end is caught. */
    size_t len = nl ? size - plen - 1 : size;
    char *doc = malloc(len ? len : 1);
    memcpy(doc, nl ? (const char *)nl + 1 : (const char *)data, len);

    bool differs;
    json_t *root = fz_json_reference(doc, len, &differs);
    fz_json_agree(doc, len, root, differs, ptrs, n);

    hp_json_value found[HP_JSONSCAN_POINTERS_MAX];
    hp_err rc_ptrs = hp_jsonscan(doc, len, ptrs, n, found, NULL, 0);
    hp_err rc_none = hp_jsonscan(doc, len, NULL, 0, found, NULL, 0);
    FZ_CHECK(rc_ptrs == rc_none, "verdict depends on the pointers");

    json_decref(root);
    free(doc);
    free(ptr_text);
    return 0;
}
