/*
 * it_gw: one hookpipe-gateway under test, and the assertions its tests share.
 *
 * it_gw_start() writes a configuration made for the test (loopback ports
 * picked now, the stack's Kafka, topic webhooks.raw, the test's sources),
 * starts build/bin/hookpipe-gateway on it and waits until /readyz answers
 * 200. The test process loads the same text with hp_config_load_string(),
 * so requests are signed with exactly the secrets the gateway verifies
 * (hp_sig_sign), or on purpose with others.
 *
 * IT_CHECK is ck_assert_msg that first prints the tail of the running
 * gateway's log: Check ends a failed test with _exit(), so no teardown of
 * ours could print it later.
 */
#ifndef IT_GW_H
#define IT_GW_H

#include "hp_config.h"
#include "hp_sig.h"
#include "it_http.h"
#include "it_kafka.h"
#include "it_proc.h"

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define IT_GW_BIN HP_BIN_DIR "/hookpipe-gateway"
#define IT_GW_TOPIC "webhooks.raw"

/* Receive timeout of the tests' requests. */
#define IT_GW_HTTP_TIMEOUT_MS 10000
/* Longest wait for a record the gateway acknowledged. */
#define IT_GW_FIND_TIMEOUT_MS 15000
/* How long a test waits before it counts records that must not exist. */
#define IT_GW_SETTLE_MS 1000

typedef struct it_gw {
    it_proc proc;
    char dir[256]; /* temp dir: config.json, gateway.log */
    char config_path[300];
    char log_path[300];
    int port;       /* public listener, 127.0.0.1 */
    int admin_port; /* admin listener, 127.0.0.1 */
    hp_config cfg;  /* the same configuration, loaded here, for signing */
} it_gw;

/* Fails the test with the message, after printing the current gateway's log. */
#define IT_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            it_gw_dump_log(NULL);                                                                  \
            ck_abort_msg(__VA_ARGS__);                                                             \
        }                                                                                          \
    } while (0)

/*
 * The configuration text of a test gateway, listening on 127.0.0.1:port and
 * :admin_port: gateway_extra is more members of "gateway" ("" or text like
 * "\"max_body_bytes\": 1024"), sources the JSON array of sources. The
 * caller frees.
 */
char *it_gw_config_text(int port, int admin_port, const char *gateway_extra, const char *sources);

/* The same for another topic than IT_GW_TOPIC. */
char *it_gw_config_text_for(const char *topic, int port, int admin_port, const char *gateway_extra,
                            const char *sources);

/*
 * Starts a gateway as above and waits (30 s at most) until its /readyz
 * answers 200; fails the test, printing the log, if it does not. The
 * gateway becomes the current one (IT_CHECK prints its log). Free with
 * it_gw_free().
 */
void it_gw_start(it_gw *gw, const char *gateway_extra, const char *sources);

/* it_gw_start with another topic than IT_GW_TOPIC. */
void it_gw_start_for(it_gw *gw, const char *topic, const char *gateway_extra, const char *sources);

/* SIGTERM, then waits at most timeout_ms; returns the exit code as it_proc_stop(). */
int it_gw_stop(it_gw *gw, int timeout_ms);

/* SIGKILLs the gateway if it still runs, removes its files, frees the configuration. */
void it_gw_free(it_gw *gw);

/* Prints the tail of gw's log (NULL: the current gateway's) to stderr. */
void it_gw_dump_log(const it_gw *gw);

/* The verify configuration of the source called name; fails the test if none. */
const hp_verify_config *it_gw_verify(const it_gw *gw, const char *source);

/* A webhook POST; zero fields mean the usual thing. */
typedef struct it_post {
    const char *source;
    const void *body;
    size_t len;
    const it_http_header *extra; /* more headers, after the signature's */
    size_t nextra;
    const hp_verify_config *sign_with; /* NULL: the source's own configuration */
    const void *sign_body;             /* non-NULL: sign these bytes instead of the body */
    size_t sign_len;
    int64_t sign_time_s; /* 0: now */
    const char *msg_id;  /* standard-webhooks webhook-id; NULL: a random one */
    bool no_signature;   /* send no signature headers */
    size_t chunk_size;   /* > 0: send the body chunked */
    bool head_only;      /* send only the head */
} it_post;

/*
 * Sends post to gw (on conn if not NULL, else on a connection of its own)
 * with Content-Type "application/json; charset=utf-8", a User-Agent, a
 * Cookie, and the headers the provider would send, and reads the answer.
 * Returns 0, or -1 with a message in err when there was no answer.
 */
int it_gw_send(it_gw *gw, it_http_conn *conn, const it_post *post, it_http_response *resp,
               char *err, size_t errsz);

/* it_gw_send on a connection of its own that fails the test when there is no answer. */
void it_gw_post(it_gw *gw, const it_post *post, it_http_response *resp);

/* GET path on the admin listener (admin true) or the public one; fails the test on no answer. */
void it_gw_get(it_gw *gw, bool admin, const char *path, it_http_response *resp);

/* The response body as a JSON object; fails the test otherwise. The caller json_decref()s. */
json_t *it_json_body(const it_http_response *resp);

/*
 * Asserts an error answer: the status, Content-Type application/json, and a
 * body {"error": code, "message": non-empty, "timestamp": RFC 3339, and,
 * when field is not NULL, "field": field}.
 */
void it_assert_error(const it_http_response *resp, int status, const char *code, const char *field);

/* Asserts 200 {"status":"accepted","event_id": event_id}. */
void it_assert_accepted(const it_http_response *resp, const char *event_id);

/* Takes a snapshot of webhooks.raw; fails the test if Kafka does not answer. */
void it_snapshot(it_kafka_snapshot *snap);

/* Finds the record of event_id after snap; fails the test if it is not there in time. */
void it_find_record(const it_kafka_snapshot *snap, const char *event_id, it_kafka_record *rec);

/* Waits IT_GW_SETTLE_MS, then asserts that no record after snap has event_id. */
void it_assert_not_produced(const it_kafka_snapshot *snap, const char *event_id);

/* The record header's value (NUL-terminated); fails the test if the record has none. */
const char *it_record_header(const it_kafka_record *rec, const char *name);

/*
 * Sums the samples of metric name in a Prometheus text whose labels include
 * every pair in labels (text like "source=\"a\",code=\"200\"", or "" for
 * any). Returns true if some sample matched.
 */
bool it_metric(const char *text, const char *name, const char *labels, double *value);

/* Milliseconds to sleep, bounded by the caller. */
void it_sleep_ms(int ms);

#endif /* IT_GW_H */
