/*
 * it_env: shared set-up for integration tests. See it_env.h.
 */
#include "it_env.h"

#include "hp_time.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *it_kafka_brokers(void)
{
    const char *v = getenv("HOOKPIPE_KAFKA_BROKERS");
    return v && *v ? v : "127.0.0.1:19092";
}

const char *it_postgres_dsn(void)
{
    const char *v = getenv("HOOKPIPE_POSTGRES_DSN");
    return v && *v ? v : "postgresql://hookpipe@127.0.0.1:15432/hookpipe";
}

void it_unique(char *out, size_t outsz, const char *prefix)
{
    int n =
        snprintf(out, outsz, "%s-%ld-%lld", prefix, (long)getpid(), (long long)hp_time_mono_ns());
    ck_assert_msg(n > 0 && (size_t)n < outsz, "it_unique: buffer too small");
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    ck_assert_msg(rd_kafka_conf_set(conf, name, value, err, sizeof err) == RD_KAFKA_CONF_OK,
                  "%s: %s", name, err);
}

rd_kafka_t *it_producer_new(it_dr_fn *on_delivery)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", it_kafka_brokers());
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "all");
    set(conf, "message.timeout.ms", "10000");
    set(conf, "linger.ms", "1");
    set(conf, "partitioner", "murmur2_random"); /* a key lands where the gateway puts it */
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    ck_assert_msg(rk != NULL, "producer: %s", err);
    return rk;
}

PGconn *it_pg_connect(void)
{
    PGconn *pg = PQconnectdb(it_postgres_dsn());
    ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "PostgreSQL at %s: %s", it_postgres_dsn(),
                  PQerrorMessage(pg));
    return pg;
}

PGresult *it_pg_exec(PGconn *pg, const char *sql, ExecStatusType want)
{
    PGresult *res = PQexec(pg, sql);
    ck_assert_msg(PQresultStatus(res) == want, "%s: %s", sql, PQerrorMessage(pg));
    return res;
}
