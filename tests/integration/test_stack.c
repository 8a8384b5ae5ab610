/*
 * The local stack is real: a record produced with headers to webhooks.raw is
 * acknowledged by the broker and fetched back byte for byte, and PostgreSQL
 * stores and returns a row. With a service down these tests fail; they never
 * skip.
 */
#include "it_env.h"

#include "hp_time.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC "webhooks.raw"
#define WAIT_NS (20LL * 1000000000LL)

typedef struct delivery {
    int done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
} delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    delivery *d = msg->_private;
    d->err = msg->err;
    d->partition = msg->partition;
    d->offset = msg->offset;
    d->done = 1;
}

/* Produces one record and waits for its delivery report. */
static delivery produce(const char *key, const char *value, const char *id)
{
    rd_kafka_t *rk = it_producer_new(on_delivery);
    delivery d = {0};
    rd_kafka_resp_err_t rc = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("hookpipe-version", "1", 1),
        RD_KAFKA_V_HEADER("hookpipe-event-id", id, (ssize_t)strlen(id)),
        RD_KAFKA_V_HEADER("hookpipe-empty", "", 0), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
    ck_assert_msg(rc == RD_KAFKA_RESP_ERR_NO_ERROR, "producev: %s", rd_kafka_err2str(rc));

    int64_t deadline = hp_time_mono_ns() + WAIT_NS;
    while (!d.done && hp_time_mono_ns() < deadline)
        rd_kafka_poll(rk, 100);
    ck_assert_msg(d.done, "no delivery report within 20 s: is Kafka up at %s?", it_kafka_brokers());
    ck_assert_msg(d.err == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery failed: %s",
                  rd_kafka_err2str(d.err));
    ck_assert_int_eq(rd_kafka_flush(rk, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    return d;
}

static void assert_header(rd_kafka_headers_t *hdrs, const char *name, const char *want)
{
    const void *val;
    size_t len;
    ck_assert_msg(rd_kafka_header_get_last(hdrs, name, &val, &len) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "header %s missing", name);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert(len == 0 || memcmp(val, want, len) == 0);
}

START_TEST(test_kafka_round_trip_with_headers)
{
    char key[64], id[64], value[256];
    it_unique(key, sizeof key, "key");
    it_unique(id, sizeof id, "evt");
    snprintf(value, sizeof value, "{\"id\":\"%s\",\"bytes\":\"\\u00e9 \\\\ \\\"\"}", id);

    delivery d = produce(key, value, id);
    ck_assert_int_ge(d.partition, 0);
    ck_assert_int_ge(d.offset, 0);

    /* Fetch exactly that partition and offset back, without a consumer group. */
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert(rd_kafka_conf_set(conf, "bootstrap.servers", it_kafka_brokers(), err, sizeof err) ==
              RD_KAFKA_CONF_OK);
    ck_assert(rd_kafka_conf_set(conf, "group.id", "hookpipe-it-stack", err, sizeof err) ==
              RD_KAFKA_CONF_OK);
    ck_assert(rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) ==
              RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "consumer: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, d.partition)->offset = d.offset;
    ck_assert_int_eq(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);

    rd_kafka_message_t *msg = NULL;
    int64_t deadline = hp_time_mono_ns() + WAIT_NS;
    while (!msg && hp_time_mono_ns() < deadline) {
        msg = rd_kafka_consumer_poll(rk, 200);
        if (msg && msg->err) {
            ck_assert_msg(msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, "fetch: %s",
                          rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            msg = NULL;
        }
    }
    ck_assert_msg(msg != NULL, "record %d/%lld not fetched within 20 s", (int)d.partition,
                  (long long)d.offset);
    ck_assert_int_eq(msg->offset, d.offset);
    ck_assert_uint_eq(msg->key_len, strlen(key));
    ck_assert(memcmp(msg->key, key, msg->key_len) == 0);
    ck_assert_uint_eq(msg->len, strlen(value));
    ck_assert(memcmp(msg->payload, value, msg->len) == 0);

    rd_kafka_headers_t *hdrs = NULL;
    ck_assert_int_eq(rd_kafka_message_headers(msg, &hdrs), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_header(hdrs, "hookpipe-version", "1");
    assert_header(hdrs, "hookpipe-event-id", id);
    assert_header(hdrs, "hookpipe-empty", "");

    rd_kafka_message_destroy(msg);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}
END_TEST

START_TEST(test_postgres_write_and_read)
{
    PGconn *pg = it_pg_connect();
    PQclear(it_pg_exec(pg,
                       "CREATE TABLE IF NOT EXISTS it_stack_check "
                       "(id text PRIMARY KEY, body jsonb NOT NULL, at timestamptz DEFAULT now())",
                       PGRES_COMMAND_OK));
    char id[64];
    it_unique(id, sizeof id, "row");
    const char *params[] = {id, "{\"event\": \"room_started\", \"n\": 3}"};
    PGresult *res = PQexecParams(pg, "INSERT INTO it_stack_check (id, body) VALUES ($1, $2)", 2,
                                 NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "insert: %s", PQerrorMessage(pg));
    PQclear(res);

    res = PQexecParams(pg,
                       "SELECT body->>'event', (body->>'n')::int FROM it_stack_check WHERE id = $1",
                       1, NULL, params, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "select: %s", PQerrorMessage(pg));
    ck_assert_int_eq(PQntuples(res), 1);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "room_started");
    ck_assert_str_eq(PQgetvalue(res, 0, 1), "3");
    PQclear(res);

    res = PQexecParams(pg, "DELETE FROM it_stack_check WHERE id = $1", 1, NULL, params, NULL, NULL,
                       0);
    ck_assert_str_eq(PQcmdTuples(res), "1");
    PQclear(res);
    PQfinish(pg);
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_create("real services");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_kafka_round_trip_with_headers);
    tcase_add_test(tc, test_postgres_write_and_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stack_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
