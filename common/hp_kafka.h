/*
 * hp_kafka: the librdkafka set-up every hookpipe client shares.
 *
 * Each Kafka client of hookpipe (the gateway's producer, the worker's
 * consumer and DLQ producer, hookpipectl's clients) starts the same way: the
 * brokers and the user's kafka.properties from the configuration, a
 * client.id, librdkafka's log lines written through hp_log, and then its own
 * settings, each of which must name the property when librdkafka rejects it.
 * This module is that start, so that the messages read the same everywhere:
 *
 *   config.json's kafka.properties.linger.ms: Configuration property "linger.ms" value …
 */
#ifndef HP_KAFKA_H
#define HP_KAFKA_H

#include "hp_config.h"
#include "hp_err.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/*
 * Sets one property on conf. On failure writes "<what><name>: <librdkafka's
 * reason>" into errstr (what is a prefix such as "kafka.properties." for the
 * user's properties, or "" for a client's own) and returns HP_ERR_INVALID.
 * The value is never quoted in the message: it may be a password
 * (sasl.password). @thread any
 */
hp_err hp_kafka_conf_set(rd_kafka_conf_t *conf, const char *what, const char *name,
                         const char *value, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Sets each {name, value} pair of settings[0..n) with hp_kafka_conf_set(),
 * stopping at the first failure. @thread any
 */
hp_err hp_kafka_conf_set_all(rd_kafka_conf_t *conf, const char *what,
                             const char *const (*settings)[2], size_t n, char *errstr,
                             size_t errstr_size) HP_WARN_UNUSED;

/*
 * A new configuration for a client of cfg's cluster: client.id, then every
 * kafka.properties entry (in file order), then bootstrap.servers from
 * kafka.brokers (or HOOKPIPE_KAFKA_BROKERS), and hp_kafka_log_cb as the log
 * callback. The caller sets its own properties after these (so they win) and
 * passes the result to rd_kafka_new(), or rd_kafka_conf_destroy()s it.
 * NULL with a message in errstr when kafka.brokers is not set
 * ("kafka.brokers: required (or HOOKPIPE_KAFKA_BROKERS)") or librdkafka
 * rejects a property (named as kafka.properties.<name>). @thread any
 */
rd_kafka_conf_t *hp_kafka_conf_new(const hp_config *cfg, const char *client_id, char *errstr,
                                   size_t errstr_size);

/*
 * librdkafka's log callback (rd_kafka_conf_set_log_cb): writes the line
 * through hp_log with component "kafka" and the facility as a field; syslog
 * levels 0-3 become error, 4-5 warn, the rest debug. @thread librdkafka's
 */
void hp_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif /* HP_KAFKA_H */
