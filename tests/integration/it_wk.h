/*
 * it_wk: hookpipe-worker under test, in a world of its own.
 *
 * A test opens an it_wk_env: a Kafka topic of 12 partitions and its DLQ
 * topic (1 partition), both created for it with the Admin API; a consumer
 * group; a PostgreSQL schema that the worker's DSN puts on its search_path
 * (`?options=-csearch_path%3D<schema>`), so everything the worker creates
 * lands there; and a temporary directory for configurations and logs. The
 * schema is migrated with `hookpipe-worker -c FILE migrate`. Closing the
 * env deletes all of it.
 *
 * Workers (it_wk) are build/bin/hookpipe-worker child processes, each on a
 * configuration of its own (a free admin port), awaited on /readyz. Records
 * are produced as the gateway would: envelope headers from
 * hp_envelope_headers_new(), the key, the body as the value, the gateway's
 * partitioner. The database is read with the test's own session on the
 * same schema, and waited on by polling, every wait bounded; what the
 * worker shows of itself (metrics, the group's offsets, the DLQ) is read
 * back by it_wk_observe.c.
 *
 * Names carry the pid of the test runner (it_wk_runner_init()), because
 * Check ends a failed test with _exit(): nothing of the test runs after a
 * failed assertion, so the runner calls it_wk_cleanup() (an unchecked
 * fixture's teardown) to delete what failed tests left behind. Workers need
 * no such care: they share the test's process group, which Check kills.
 */
#ifndef IT_WK_H
#define IT_WK_H

#include "it_kafka.h"
#include "it_proc.h"

#include <check.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h> /* free, in IT_WK_ASSERT_SQL */
#include <string.h> /* strcmp, in IT_WK_ASSERT_SQL */

#define IT_WK_BIN HP_BIN_DIR "/hookpipe-worker"
#define IT_WK_PARTITIONS 12
#define IT_WK_MAX_WORKERS 8
/* Longest wait for a worker's /readyz (ready once the group assigned partitions). */
#define IT_WK_READY_TIMEOUT_MS 30000
/* Longest wait for the database or the group to reach an expected state. */
#define IT_WK_WAIT_MS 60000

typedef struct it_wk it_wk;

/* What a test's worker configuration says beyond the defaults. */
typedef struct it_wk_options {
    int batch_max;                /* 0: 100 */
    int lanes;                    /* worker.lanes; 0: 1 */
    const char *kafka_properties; /* JSON object text for kafka.properties, NULL: none */
} it_wk_options;

typedef struct it_wk_env {
    char name[96]; /* it-wk-<runner pid>-<clock>: the topic */
    char dlq_topic[128];
    char group[128];
    char schema[96];
    char dsn[1024]; /* the stack's DSN with the schema as search_path */
    char dir[256];  /* configurations and logs */
    it_wk_options opt;
    PGconn *pg;           /* the test's session on the schema */
    rd_kafka_t *producer; /* the test's "gateway" */
    long delivery_errors; /* failed delivery reports */
    it_wk *workers[IT_WK_MAX_WORKERS];
    int nstarted; /* workers started so far, for file names */
} it_wk_env;

struct it_wk {
    it_wk_env *env;
    it_proc proc;
    int admin_port;
    char config_path[300];
    char log_path[300];
};

/* Fails the test with the message, after printing the logs of the current env's workers. */
#define IT_WK_CHECK(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            it_wk_dump_logs(NULL);                                                                 \
            ck_abort_msg(__VA_ARGS__);                                                             \
        }                                                                                          \
    } while (0)

/* Remembers the runner's pid; call it from main() before running the suite. */
void it_wk_runner_init(void);

/*
 * Deletes the topics, schemas and temporary directories of this runner's
 * tests (what failed tests left). For an unchecked fixture's teardown.
 */
void it_wk_cleanup(void);

/*
 * Creates the topics, the schema and the directory, connects the test's
 * session and producer, and migrates the schema with the worker binary
 * (exit 0 expected). opt may be NULL. Fails the test on any error. Becomes
 * the current env (IT_WK_CHECK prints its workers' logs).
 */
void it_wk_env_open(it_wk_env *env, const it_wk_options *opt);

/* Kills the workers still running, deletes the topics, group, schema and directory. */
void it_wk_env_close(it_wk_env *env);

/* Prints the tail of every worker log of env (NULL: the current env) to stderr. */
void it_wk_dump_logs(const it_wk_env *env);

/*
 * Writes a configuration for a new worker of env (a free admin port),
 * starts it and waits until /readyz answers 200; fails the test, printing
 * its log, if it does not. Free with it_wk_free().
 */
void it_wk_start(it_wk *wk, it_wk_env *env);

/* Sends sig and waits at most timeout_ms; the exit code as it_proc_stop() returns it. */
int it_wk_stop(it_wk *wk, int sig, int timeout_ms);

/* SIGKILLs the worker if it still runs and forgets it (its log stays until env closes). */
void it_wk_free(it_wk *wk);

/* ---- producing, as the gateway would ---- */

/* One record; see it_wk_produce. */
typedef struct it_wk_event {
    const char *source; /* NULL: a record without any envelope header */
    const char *event_id;
    const char *event_type; /* NULL: none */
    int64_t event_time_ms;  /* 0: none */
    const char *key;        /* NULL: no key */
    const char *body;
    size_t body_len; /* 0: strlen(body) */
} it_wk_event;

/* Where a record went, filled by its delivery report. */
typedef struct it_wk_delivery {
    bool done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
} it_wk_delivery;

/*
 * Produces ev to env's topic with received-at now; dr (may be NULL) is
 * filled when it is delivered (after it_wk_flush()). Fails the test if it
 * cannot be queued.
 */
void it_wk_produce(it_wk_env *env, const it_wk_event *ev, it_wk_delivery *dr);

/*
 * An event of the "entity" source: id, of entity (the key), with body
 * {"id","type","entity","ts","data":{"n"}} and event time at_ms.
 */
void it_wk_produce_entity(it_wk_env *env, const char *id, const char *entity, int n, int64_t at_ms,
                          it_wk_delivery *dr);

/* Waits (30 s at most) until every record is delivered; fails the test on any failure. */
void it_wk_flush(it_wk_env *env);

/* ---- the database ---- */

/*
 * The first column of the first row of the query ("" for NULL or no row);
 * the caller frees. Fails the test if the query fails.
 */
char *it_wk_value(it_wk_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* it_wk_value as an integer. */
long long it_wk_int(it_wk_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Polls the query every 200 ms until its value is want, at most timeout_ms;
 * a failing query (PostgreSQL restarting) is tried again. Fails the test
 * with the last value otherwise. Returns the milliseconds it took.
 */
long it_wk_await(it_wk_env *env, const char *want, int timeout_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fails the test unless the query's value is "t". */
#define IT_WK_ASSERT_SQL(env, ...)                                                                 \
    do {                                                                                           \
        char *got_ = it_wk_value((env), __VA_ARGS__);                                              \
        IT_WK_CHECK(strcmp(got_, "t") == 0, "not true (%s): %s", got_, #__VA_ARGS__);              \
        free(got_);                                                                                \
    } while (0)

/* ---- metrics, offsets, the DLQ ---- */

/* The sum of the samples of name with labels (it_metric) on wk's /metrics; 0 if none. */
double it_wk_metric(it_wk *wk, const char *name, const char *labels);

/* Polls wk's /metrics every 200 ms until the metric is want, at most timeout_ms. */
void it_wk_await_metric(it_wk *wk, const char *name, const char *labels, double want,
                        int timeout_ms);

/* The group's committed offsets of the topic's partitions (RD_KAFKA_OFFSET_INVALID: none). */
void it_wk_committed(it_wk_env *env, int64_t offsets[IT_WK_PARTITIONS]);

/* The end offsets (high watermarks) of the topic's partitions. */
void it_wk_ends(it_wk_env *env, int64_t offsets[IT_WK_PARTITIONS]);

/* Waits until the committed offsets equal the end offsets; fails the test after timeout_ms. */
void it_wk_await_committed_ends(it_wk_env *env, int timeout_ms);

/*
 * Waits until the DLQ topic holds at least want records (timeout_ms at
 * most), then copies all its records into *recs (the caller frees each with
 * it_kafka_record_deinit(), then the array). Returns how many.
 */
size_t it_wk_dlq_records(it_wk_env *env, size_t want, int timeout_ms, it_kafka_record **recs);

/* The number of records in the DLQ topic now. */
long it_wk_dlq_count(it_wk_env *env);

#endif /* IT_WK_H */
