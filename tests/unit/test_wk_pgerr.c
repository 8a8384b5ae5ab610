/*
 * Unit tests for wk_pgerr: the SQLSTATE table (what is retried, what is
 * poison, what is the deployment's fault) and the connection-state override.
 * Classifying results of a real server is covered by the integration test
 * worker_migrate.
 */
#include "wk_pgerr.h"

#include <check.h>
#include <stddef.h>

typedef struct row {
    const char *sqlstate;
    hp_err want;
} row;

static const row table[] = {
    /* Transient: retry, never the DLQ. */
    {"08006", HP_ERR_RETRY}, /* connection failure */
    {"08001", HP_ERR_RETRY}, /* could not establish a connection */
    {"08000", HP_ERR_RETRY},
    {"08P01", HP_ERR_RETRY},
    {"40001", HP_ERR_RETRY}, /* serialization failure */
    {"40P01", HP_ERR_RETRY}, /* deadlock */
    {"53100", HP_ERR_RETRY}, /* disk full */
    {"53200", HP_ERR_RETRY}, /* out of memory */
    {"53300", HP_ERR_RETRY}, /* too many connections */
    {"57P01", HP_ERR_RETRY}, /* admin shutdown */
    {"57P02", HP_ERR_RETRY}, /* crash shutdown */
    {"57P03", HP_ERR_RETRY}, /* cannot connect now */
    {"55P03", HP_ERR_RETRY}, /* lock not available */
    /* The data is at fault: the DLQ. */
    {"22P02", HP_ERR_INVALID}, /* invalid text representation */
    {"22H01", HP_ERR_INVALID}, /* hookpipe's own data error */
    {"22012", HP_ERR_INVALID}, /* division by zero */
    {"23502", HP_ERR_INVALID}, /* not null violation */
    {"23505", HP_ERR_INVALID}, /* unique violation */
    {"23514", HP_ERR_INVALID}, /* check violation */
    /* The deployment is at fault. */
    {"42P01", HP_ERR_FATAL}, /* undefined table */
    {"42601", HP_ERR_FATAL}, /* syntax error */
    {"42501", HP_ERR_FATAL}, /* insufficient privilege */
    {"XX000", HP_ERR_FATAL}, /* internal error */
    {"0A000", HP_ERR_FATAL}, /* feature not supported */
    {"40002", HP_ERR_FATAL}, /* class 40 is not transient as a whole */
    {"55000", HP_ERR_FATAL}, /* object not in prerequisite state */
    {"57014", HP_ERR_FATAL}, /* query canceled: not in the list */
    {"25P02", HP_ERR_FATAL}, /* in failed transaction: a bug of ours */
};

START_TEST(test_table)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        hp_err got = wk_pgerr_classify_sqlstate(table[i].sqlstate);
        ck_assert_msg(got == table[i].want, "%s: got %s, want %s", table[i].sqlstate,
                      hp_err_name(got), hp_err_name(table[i].want));
    }
}
END_TEST

START_TEST(test_no_state)
{
    ck_assert_int_eq(wk_pgerr_classify_sqlstate(NULL), HP_ERR_RETRY);
    ck_assert_int_eq(wk_pgerr_classify_sqlstate(""), HP_ERR_RETRY);
}
END_TEST

START_TEST(test_malformed_state)
{
    /* A prefix of a transient class is not that class. */
    ck_assert_int_eq(wk_pgerr_classify_sqlstate("08"), HP_ERR_FATAL);
    ck_assert_int_eq(wk_pgerr_classify_sqlstate("4000"), HP_ERR_FATAL);
    ck_assert_int_eq(wk_pgerr_classify_sqlstate("400011"), HP_ERR_FATAL);
}
END_TEST

START_TEST(test_no_result)
{
    ck_assert_int_eq(wk_pgerr_classify(NULL, NULL), HP_ERR_RETRY);

    /* A result libpq made itself carries no SQLSTATE. */
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(wk_pgerr_classify(NULL, res), HP_ERR_RETRY);
    PQclear(res);
}
END_TEST

START_TEST(test_connection_bad)
{
    /* A socket directory that does not exist: the connection fails at once,
     * without touching the network. */
    PGconn *pg = PQconnectdb("host=/nonexistent/hookpipe-test port=1 connect_timeout=1");
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(PQstatus(pg), CONNECTION_BAD);
    ck_assert_int_eq(wk_pgerr_classify(pg, NULL), HP_ERR_RETRY);

    PGresult *res = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
    ck_assert_ptr_nonnull(res);
    ck_assert_int_eq(wk_pgerr_classify(pg, res), HP_ERR_RETRY);
    PQclear(res);
    PQfinish(pg);
}
END_TEST

static Suite *pgerr_suite(void)
{
    Suite *s = suite_create("wk_pgerr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_no_state);
    tcase_add_test(tc, test_malformed_state);
    tcase_add_test(tc, test_no_result);
    tcase_add_test(tc, test_connection_bad);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pgerr_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
