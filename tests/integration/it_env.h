/*
 * it_env: what integration tests share — where the local stack is, and
 * small waits on real services that fail the test instead of hanging.
 */
#ifndef IT_ENV_H
#define IT_ENV_H

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stddef.h>

/* HOOKPIPE_KAFKA_BROKERS, else the local stack's 127.0.0.1:19092. */
const char *it_kafka_brokers(void);

/* HOOKPIPE_POSTGRES_DSN, else the local stack's database. */
const char *it_postgres_dsn(void);

/* A name no earlier run used: "<prefix>-<pid>-<ns clock>". */
void it_unique(char *out, size_t outsz, const char *prefix);

/* Delivery report callback of it_producer_new's producers. */
typedef void it_dr_fn(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);

/* A producer on the stack with hookpipe's producer settings (idempotent, acks=all,
 * the gateway's murmur2_random partitioner, a 10 s message timeout); fails the
 * test if it can't be made. The caller rd_kafka_destroy()s it. */
rd_kafka_t *it_producer_new(it_dr_fn *on_delivery);

/* Connects to PostgreSQL or fails the test with libpq's message. The caller PQfinish()es. */
PGconn *it_pg_connect(void);

/* Runs sql (no parameters), fails the test unless it returns want. The caller PQclear()s. */
PGresult *it_pg_exec(PGconn *pg, const char *sql, ExecStatusType want);

#endif /* IT_ENV_H */
