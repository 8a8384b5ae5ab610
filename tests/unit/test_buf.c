/*
 * Unit tests for hp_buf: growth, the hard cap, formatting and take.
 */
#include "hp_buf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_append_and_terminate)
{
    hp_buf buf;
    hp_buf_init(&buf, 1024);
    ck_assert_int_eq(hp_buf_append_str(&buf, "hello"), HP_OK);
    ck_assert_int_eq(hp_buf_append(&buf, ", world", 7), HP_OK);
    ck_assert_uint_eq(buf.len, 12);
    ck_assert_str_eq(buf.data, "hello, world");
    hp_buf_deinit(&buf);
    ck_assert_ptr_null(buf.data);
    ck_assert_uint_eq(buf.cap, 1024);
}
END_TEST

START_TEST(test_cap_exact_fits)
{
    hp_buf buf;
    hp_buf_init(&buf, 10);
    ck_assert_int_eq(hp_buf_append(&buf, "0123456789", 10), HP_OK);
    ck_assert_uint_eq(buf.len, 10);
    ck_assert_uint_le(buf.alloc, 11);
    ck_assert_int_eq(hp_buf_append(&buf, "", 0), HP_OK);
    ck_assert_int_eq(hp_buf_append(&buf, "x", 1), HP_ERR_INVALID);
    ck_assert_str_eq(buf.data, "0123456789");
    hp_buf_deinit(&buf);
}
END_TEST

START_TEST(test_cap_rejects_and_keeps_contents)
{
    hp_buf buf;
    hp_buf_init(&buf, 8);
    ck_assert_int_eq(hp_buf_append_str(&buf, "abcde"), HP_OK);
    ck_assert_int_eq(hp_buf_append_str(&buf, "fghi"), HP_ERR_INVALID);
    ck_assert_uint_eq(buf.len, 5);
    ck_assert_str_eq(buf.data, "abcde");
    ck_assert_int_eq(hp_buf_printf(&buf, "%d", 1234), HP_ERR_INVALID);
    ck_assert_str_eq(buf.data, "abcde");
    ck_assert_int_eq(hp_buf_printf(&buf, "%d", 123), HP_OK);
    ck_assert_str_eq(buf.data, "abcde123");
    hp_buf_deinit(&buf);
}
END_TEST

START_TEST(test_growth_across_many_appends)
{
    hp_buf buf;
    hp_buf_init(&buf, 1 << 20);
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(hp_buf_append(&buf, "0123456789", 10), HP_OK);
    ck_assert_uint_eq(buf.len, 100000);
    for (size_t i = 0; i < buf.len; i++)
        ck_assert_int_eq(buf.data[i], '0' + (int)(i % 10));
    ck_assert_int_eq(buf.data[buf.len], '\0');
    hp_buf_deinit(&buf);
}
END_TEST

START_TEST(test_printf)
{
    hp_buf buf;
    hp_buf_init(&buf, 4096);
    ck_assert_int_eq(hp_buf_printf(&buf, "%s=%d;", "a", 1), HP_OK);
    ck_assert_int_eq(hp_buf_printf(&buf, "%s=%05.1f", "b", 2.5), HP_OK);
    ck_assert_str_eq(buf.data, "a=1;b=002.5");
    hp_buf_deinit(&buf);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
    hp_buf buf;
    hp_buf_init(&buf, 100);
    ck_assert_int_eq(hp_buf_append_str(&buf, "abc"), HP_OK);
    char *before = buf.data;
    hp_buf_reset(&buf);
    ck_assert_uint_eq(buf.len, 0);
    ck_assert_ptr_eq(buf.data, before);
    ck_assert_str_eq(buf.data, "");
    hp_buf_deinit(&buf);
}
END_TEST

START_TEST(test_take)
{
    hp_buf buf;
    size_t len;
    hp_buf_init(&buf, 100);
    char *empty = hp_buf_take(&buf, &len);
    ck_assert_str_eq(empty, "");
    ck_assert_uint_eq(len, 0);
    free(empty);

    ck_assert_int_eq(hp_buf_append_str(&buf, "xyz"), HP_OK);
    char *s = hp_buf_take(&buf, &len);
    ck_assert_str_eq(s, "xyz");
    ck_assert_uint_eq(len, 3);
    ck_assert_ptr_null(buf.data);
    ck_assert_uint_eq(buf.len, 0);
    ck_assert_uint_eq(buf.cap, 100);
    free(s);
}
END_TEST

START_TEST(test_zero_cap)
{
    hp_buf buf;
    hp_buf_init(&buf, 0);
    ck_assert_int_eq(hp_buf_append(&buf, "", 0), HP_OK);
    ck_assert_str_eq(buf.data, "");
    ck_assert_int_eq(hp_buf_append(&buf, "a", 1), HP_ERR_INVALID);
    hp_buf_deinit(&buf);
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_append_and_terminate);
    tcase_add_test(tc, test_cap_exact_fits);
    tcase_add_test(tc, test_cap_rejects_and_keeps_contents);
    tcase_add_test(tc, test_growth_across_many_appends);
    tcase_add_test(tc, test_printf);
    tcase_add_test(tc, test_reset_keeps_memory);
    tcase_add_test(tc, test_take);
    tcase_add_test(tc, test_zero_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
