/*
 * wk_json: splice checks and string writing for the batch document. See
 * wk_json.h. The check is hp_jsonscan's grammar with the few things
 * PostgreSQL's jsonb refuses on top of it.
 */
#include "wk_json.h"

#include "hp_jsonscan.h"

bool wk_json_spliceable(const char *text, size_t len, bool object)
{
    const hp_jsonscan_rules jsonb = {
        .top = object ? HP_JSONSCAN_TOP_OBJECT : HP_JSONSCAN_TOP_ANY,
        .depth_max = WK_JSON_DEPTH_MAX,
        .no_nul_escape = true, /* jsonb cannot hold U+0000 */
        .number_digits_max = WK_JSON_NUMBER_DIGITS_MAX,
        .exponent_max = WK_JSON_EXPONENT_MAX,
    };
    return hp_jsonscan_valid(text, len, &jsonb);
}

hp_err wk_json_put_string(hp_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* bytes of s[run..i) not yet written */
    hp_err rc = hp_buf_append(out, "\"", 1);
    for (size_t i = 0; i < len && rc == HP_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = hp_buf_append(out, s + run, i - run);
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        if (c < 0x20) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (rc == HP_OK)
            rc = hp_buf_append(out, esc, n);
        run = i + 1;
    }
    if (rc == HP_OK)
        rc = hp_buf_append(out, s + run, len - run);
    if (rc == HP_OK)
        rc = hp_buf_append(out, "\"", 1);
    return rc;
}
