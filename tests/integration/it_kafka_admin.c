/*
 * it_kafka_admin: topics and consumer groups of a test's own, made and
 * removed with librdkafka's Admin API, so that a test never shares its
 * topic or group with another (or with an earlier run).
 */
#include "it_kafka_admin.h"

#include "hp_alloc.h"
#include "hp_time.h"
#include "it_env.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest an admin request may take. */
#define ADMIN_TIMEOUT_MS 30000
/* Longest a metadata request may take. */
#define META_TIMEOUT_MS 10000

/* A client for admin requests: a producer handle with the brokers only. */
static rd_kafka_t *admin_new(char *err, size_t errsz)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", it_kafka_brokers(), err, errsz) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errsz);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    char ignored[256];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(opts, ADMIN_TIMEOUT_MS, ignored, sizeof ignored);
    if (op != RD_KAFKA_ADMIN_OP_DELETEGROUPS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, ADMIN_TIMEOUT_MS, ignored,
                                                    sizeof ignored);
    return opts;
}

/* The result event of the one request sent to q, or NULL with a message in err. */
static rd_kafka_event_t *admin_result(rd_kafka_queue_t *q, const char *what, char *err,
                                      size_t errsz)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    if (!ev) {
        snprintf(err, errsz, "%s: no answer within %d ms", what, ADMIN_TIMEOUT_MS + 5000);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errsz, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

/* Whether the metadata shows topic with n partitions, each with a leader. */
static bool topic_ready(rd_kafka_t *rk, const char *topic, int n)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    bool ready = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT_MS) == 0 && md->topic_cnt == 1 &&
                 md->topics[0].err == 0 && md->topics[0].partition_cnt == n;
    for (int p = 0; ready && p < n; p++)
        ready = md->topics[0].partitions[p].leader >= 0;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return ready;
}

int it_kafka_create_topic(const char *topic, int npartitions, char *err, size_t errsz)
{
    rd_kafka_t *rk = admin_new(err, errsz);
    if (!rk)
        return -1;
    int rc = -1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, npartitions, 1, err, errsz);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    if (nt) {
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
        ev = admin_result(q, "CreateTopics", err, errsz);
    }
    if (ev) {
        size_t n;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (n == 1 && rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = 0;
        else
            snprintf(err, errsz, "create topic %s: %s", topic,
                     n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
        rd_kafka_event_destroy(ev);
    }
    /* Created is not yet usable: wait until every partition has a leader. */
    int64_t deadline = hp_time_mono_ns() + (int64_t)META_TIMEOUT_MS * 1000000;
    while (rc == 0 && !topic_ready(rk, topic, npartitions)) {
        if (hp_time_mono_ns() >= deadline) {
            snprintf(err, errsz, "topic %s: no leader for all %d partitions within %d ms", topic,
                     npartitions, META_TIMEOUT_MS);
            rc = -1;
        }
        rd_kafka_poll(rk, 100);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
    return rc;
}

int it_kafka_delete_topics(const char *const *topics, size_t n, char *err, size_t errsz)
{
    if (n == 0)
        return 0;
    rd_kafka_t *rk = admin_new(err, errsz);
    if (!rk)
        return -1;
    int rc = 0;
    rd_kafka_DeleteTopic_t **dt = hp_xcalloc(n, sizeof *dt);
    for (size_t i = 0; i < n; i++)
        dt[i] = rd_kafka_DeleteTopic_new(topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(rk, dt, n, opts, q);
    rd_kafka_event_t *ev = admin_result(q, "DeleteTopics", err, errsz);
    if (!ev)
        rc = -1;
    size_t nres = 0;
    const rd_kafka_topic_result_t **tr =
        ev ? rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &nres)
           : NULL;
    for (size_t i = 0; i < nres; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            snprintf(err, errsz, "delete topic %s: %s", rd_kafka_topic_result_name(tr[i]),
                     rd_kafka_topic_result_error_string(tr[i]));
            rc = -1;
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dt, n);
    free(dt);
    rd_kafka_destroy(rk);
    return rc;
}

long it_kafka_list_topics(const char *prefix, char ***names, char *err, size_t errsz)
{
    *names = NULL;
    rd_kafka_t *rk = admin_new(err, errsz);
    if (!rk)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rc = rd_kafka_metadata(rk, 1, NULL, &md, META_TIMEOUT_MS);
    long n = 0;
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errsz, "metadata: %s", rd_kafka_err2str(rc));
        n = -1;
    } else {
        *names = hp_xcalloc((size_t)md->topic_cnt + 1, sizeof **names);
        for (int i = 0; i < md->topic_cnt; i++)
            if (strncmp(md->topics[i].topic, prefix, strlen(prefix)) == 0)
                (*names)[n++] = hp_xstrdup(md->topics[i].topic);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return n;
}

int it_kafka_delete_group(const char *group, char *err, size_t errsz)
{
    rd_kafka_t *rk = admin_new(err, errsz);
    if (!rk)
        return -1;
    int rc = 0;
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(group);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_DeleteGroups(rk, &dg, 1, opts, q);
    rd_kafka_event_t *ev = admin_result(q, "DeleteGroups", err, errsz);
    if (!ev)
        rc = -1;
    size_t nres = 0;
    const rd_kafka_group_result_t **gr =
        ev ? rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &nres)
           : NULL;
    for (size_t i = 0; i < nres; i++) {
        const rd_kafka_error_t *e = rd_kafka_group_result_error(gr[i]);
        if (e && rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
            snprintf(err, errsz, "delete group %s: %s", group, rd_kafka_error_string(e));
            rc = -1;
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteGroup_destroy(dg);
    rd_kafka_destroy(rk);
    return rc;
}
