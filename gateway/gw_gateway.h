/*
 * gw_gateway: one running hookpipe-gateway — its HTTP server, Kafka
 * producer, admin listener and metrics — and its orderly shutdown.
 */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include "hp_config.h"
#include "hp_err.h"

typedef struct gw_gateway gw_gateway;

/*
 * Checks what a start would check without opening anything: the sources,
 * the producer's librdkafka configuration, the TLS files. @thread main
 */
hp_err gw_gateway_check(const hp_config *cfg, char *errstr, size_t errstr_size) HP_WARN_UNUSED;

/*
 * Starts serving cfg (borrowed; must outlive the gateway). HP_ERR_INVALID
 * for a configuration problem, HP_ERR_IO when a listener can't be opened,
 * HP_ERR_FATAL otherwise; errstr says what. @thread main
 */
hp_err gw_gateway_start(gw_gateway **out, const hp_config *cfg, char *errstr,
                        size_t errstr_size) HP_WARN_UNUSED;

/* The port of the webhook listener (useful with port 0). @thread any */
int gw_gateway_port(const gw_gateway *gw);

/* Refreshes what is sampled rather than counted (the ready gauge); the main
 * loop calls it about once a second. @thread main */
void gw_gateway_tick(gw_gateway *gw);

/*
 * Drains and stops: /readyz turns 503, the listener closes, requests still
 * arriving on open connections get 503 with "Connection: close", every
 * record in flight gets its delivery report and its answer, the producer is
 * flushed, and everything is freed. @thread main
 */
void gw_gateway_stop(gw_gateway *gw);

#endif /* GW_GATEWAY_H */
