/*
 * hp_kafka: the librdkafka set-up every hookpipe client shares. See hp_kafka.h.
 */
#include "hp_kafka.h"

#include "hp_log.h"

#include <stdio.h>

hp_err hp_kafka_conf_set(rd_kafka_conf_t *conf, const char *what, const char *name,
                         const char *value, char *errstr, size_t errstr_size)
{
    char err[256];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) == RD_KAFKA_CONF_OK)
        return HP_OK;
    snprintf(errstr, errstr_size, "%s%s: %s", what, name, err);
    return HP_ERR_INVALID;
}

hp_err hp_kafka_conf_set_all(rd_kafka_conf_t *conf, const char *what,
                             const char *const (*settings)[2], size_t n, char *errstr,
                             size_t errstr_size)
{
    hp_err rc = HP_OK;
    for (size_t i = 0; i < n && rc == HP_OK; i++)
        rc = hp_kafka_conf_set(conf, what, settings[i][0], settings[i][1], errstr, errstr_size);
    return rc;
}

rd_kafka_conf_t *hp_kafka_conf_new(const hp_config *cfg, const char *client_id, char *errstr,
                                   size_t errstr_size)
{
    if (!cfg->kafka.brokers) {
        snprintf(errstr, errstr_size, "kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hp_err rc = hp_kafka_conf_set(conf, "", "client.id", client_id, errstr, errstr_size);
    for (size_t i = 0; i < cfg->kafka.nproperties && rc == HP_OK; i++)
        rc = hp_kafka_conf_set(conf, "kafka.properties.", cfg->kafka.properties[i].name,
                               cfg->kafka.properties[i].value, errstr, errstr_size);
    if (rc == HP_OK)
        rc = hp_kafka_conf_set(conf, "kafka.", "bootstrap.servers", cfg->kafka.brokers, errstr,
                               errstr_size);
    if (rc != HP_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, hp_kafka_log_cb);
    return conf;
}

void hp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    hp_log_level lvl = level <= 3 ? HP_LOG_ERROR : level <= 5 ? HP_LOG_WARN : HP_LOG_DEBUG;
    hp_log(lvl, "kafka", buf, HP_LOG_STR("facility", fac));
}
