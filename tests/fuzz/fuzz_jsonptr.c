/*
 * Fuzzes JSON Pointer resolution: hp_jsonptr_get (over jansson trees, used
 * by the worker) and hp_jsonscan's pointers (used by the gateway), with a
 * fuzzed pointer over a few fixed documents: RFC 6901's example, nested
 * arrays and objects, escaped and duplicate names, long names.
 *
 * Input: the pointer (up to the first NUL byte).
 *
 * Beyond "no crash", it asserts: hp_jsonptr_get and hp_jsonscan name the
 * same value in every document (fuzz_json.h); a pointer hp_jsonptr_valid
 * rejects names nothing; resolving twice gives the same value.
 */
#include "fuzz_json.h"
#include "fuzz_util.h"
#include "hp_jsonptr.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const docs[] = {
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3, \"g|h\": 4, "
    "\"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8}",
    "{\"data\":{\"object\":{\"id\":\"evt_1\",\"n\":-12,\"t\":1.5e3,\"b\":true,\"z\":null,"
    "\"arr\":[{\"id\":7},[1,[2,{\"x\":\"deep\"}]],0,1,2,3,4,5,6,7,8,9,10,11]}},"
    "\"esc\\u0061ped\":\"\\u00e9\\ud83d\\ude00\\n\",\"nul\":\"a\\u0000b\","
    "\"dup\":1,\"dup\":{\"x\":2},\"~01\":\"tilde\",\"/\":{\"/\":\"slashes\"}}",
    "[[[[{\"a\":[{\"b\":{\"c\":[null,true,false,\"\xc3\xa9\"]}}]}]]],{\"\":{\"\":{\"\":3}}}]",
};
#define NDOCS (sizeof docs / sizeof docs[0])

static json_t *roots[NDOCS + 1];
static char *long_doc;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    bool differs;
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < NDOCS; i++) {
        roots[i] = fz_json_reference(docs[i], strlen(docs[i]), &differs);
        if (!roots[i])
            abort();
    }
    /* Names of 255, 256 and 300 bytes: around hp_jsonptr's token limit. */
    long_doc = malloc(1024);
    int n = snprintf(long_doc, 1024, "{\"%0255d\":1,\"%0256d\":2,\"%0300d\":{\"x\":3}}", 0, 0, 0);
    roots[NDOCS] = fz_json_reference(long_doc, (size_t)n, &differs);
    if (!roots[NDOCS])
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *ptr = fz_strndup(data, size);
    const char *ptrs[1] = {ptr};

    for (size_t i = 0; i <= NDOCS; i++) {
        const char *doc = i < NDOCS ? docs[i] : long_doc;
        json_t *v = hp_jsonptr_get(roots[i], ptr);
        FZ_CHECK(v == hp_jsonptr_get(roots[i], ptr), "not deterministic");
        if (!hp_jsonptr_valid(ptr))
            FZ_CHECK(v == NULL, "an invalid pointer names a value");
        fz_json_agree(doc, strlen(doc), roots[i], false, ptrs, 1);
    }
    free(ptr);
    return 0;
}
