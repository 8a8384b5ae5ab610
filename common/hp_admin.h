/*
 * hp_admin: the small admin HTTP server of the gateway and the worker.
 *
 *   GET /healthz  200 {"status":"ok"} while the process runs
 *   GET /readyz   200 {"status":"ready"}, or 503 {"status":"not ready","reason":"…"}
 *   GET /metrics  200, the registry in the Prometheus text format 0.0.4
 *
 * HEAD works on each. Another path is 404, another method 405 (with Allow);
 * error bodies are {"error":"…","message":"…","timestamp":"…"}. The server
 * runs on one thread of its own; it is meant for a private address
 * (loopback, the pod network), not for the internet.
 */
#ifndef HP_ADMIN_H
#define HP_ADMIN_H

#include "hp_err.h"
#include "hp_metrics.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hp_admin hp_admin;

/*
 * Answers /readyz: returns true when ready; when not, may write a short
 * reason (NUL-terminated, at most reason_size bytes, never a secret).
 * @thread admin (the server's thread; must not block)
 */
typedef bool (*hp_admin_ready_fn)(void *opaque, char *reason, size_t reason_size);

/*
 * Starts serving on listen_addr: "host:port", "[ipv6]:port" or ":port" (every
 * IPv4 interface); host may be a name, resolved once now; port 0 picks a
 * free port (see hp_admin_port()). reg (may be NULL: empty /metrics) and
 * ready (may be NULL: always ready) are borrowed and must outlive the server.
 * On success *out is the server, to stop with hp_admin_stop(). On failure
 * errstr names the address ("admin_listen 127.0.0.1:9090: Address already
 * in use"): HP_ERR_INVALID if listen_addr is malformed, HP_ERR_IO if it cannot
 * be resolved or bound, or the server cannot start. @thread any
 */
hp_err hp_admin_start(hp_admin **out, const char *listen_addr, hp_metrics *reg,
                      hp_admin_ready_fn ready, void *ready_opaque, char *errstr,
                      size_t errstr_size) HP_WARN_UNUSED;

/*
 * Stops the server: closes the socket, waits for its thread, frees adm.
 * Requests being answered are cut. NULL is fine. @thread any but admin
 */
void hp_admin_stop(hp_admin *adm);

/* The TCP port the server listens on. @thread any */
int hp_admin_port(const hp_admin *adm);

#endif /* HP_ADMIN_H */
