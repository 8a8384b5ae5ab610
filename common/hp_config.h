/*
 * hp_config: the one JSON configuration file all hookpipe binaries share.
 *
 * hp_config_load() reads the file, resolves "env:NAME" and "file:/path"
 * string values, applies the HOOKPIPE_* environment overrides, fills in every
 * default and validates everything, so that a loaded hp_config is complete and
 * consistent: the gateway and the worker read fields, they never re-check them.
 * A load either succeeds or leaves nothing behind and says, in the caller's
 * errstr, "<file>: <json path>: <what>" (config.json: gateway.lisen: unknown
 * key). Messages never contain the value of a secret.
 *
 * Every string in an hp_config is owned by it and zeroed when freed: some are
 * secrets (a DSN with a password, a Kafka SASL password), and one rule for all
 * of them is harder to get wrong.
 */
#ifndef HP_CONFIG_H
#define HP_CONFIG_H

#include "hp_cidr.h"
#include "hp_err.h"
#include "hp_log.h" /* hp_log_level */

#include <stdbool.h>
#include <stddef.h>

/* Certificate and key of the public listener; both NULL = plain HTTP. */
typedef struct hp_tls_config {
    char *cert_file; /* PEM path, readable when the config was loaded */
    char *key_file;  /* PEM path, readable when the config was loaded */
} hp_tls_config;

typedef struct hp_rate_limit {
    double per_second; /* 0 = not limited; else 0 < per_second <= 1e6 */
    int burst;         /* default ceil(per_second); 1..10000000 */
} hp_rate_limit;

typedef struct hp_gateway_config {
    char *listen;               /* "host:port", default "0.0.0.0:8080" */
    char *admin_listen;         /* default "127.0.0.1:9090" */
    int threads;                /* 0 = one per CPU; 0..256 */
    size_t max_body_bytes;      /* default 1048576; 1..104857600 */
    int ack_timeout_ms;         /* default 2500; 100..120000 */
    int max_inflight;           /* requests waiting for Kafka; default 10000; 1..1000000 */
    hp_cidr *trusted_proxies;   /* may set X-Forwarded-For; none by default */
    size_t ntrusted_proxies;    /* entries in trusted_proxies */
    hp_tls_config tls;          /* both or neither */
    int connection_timeout_s;   /* idle connection timeout; default 10; 1..3600 */
    int max_connections;        /* default 10000; 1..1000000 */
    int max_connections_per_ip; /* default 1024; 0 = unlimited; 0..1000000 */
    char *instance_id;          /* NULL = the gateway uses "hostname:pid" */
    /* Whole-request deadlines (slowloris): the request line and headers
     * within header_timeout_s of the connection's first byte; the body within
     * body_timeout_s + its length / body_min_bytes_per_s. */
    int header_timeout_s;     /* default 10; 1..3600 */
    int body_timeout_s;       /* default 10; 1..3600 */
    int body_min_bytes_per_s; /* default 16384; 1..1073741824 */
    /* Request bytes held in memory at once, in all and per client address;
     * a new body beyond either gets 503 + Retry-After. Filled in at load:
     * 0 in the file = sized for the machine (docs/configuration.md). */
    size_t max_buffered_bytes;
    size_t max_buffered_bytes_per_client;
    /* Failed verifications per client address (429 for that address only);
     * verified requests never spend it. */
    hp_rate_limit unverified_rate_limit;
    int refusal_log_interval_s; /* refusals are logged as counts per interval; default 10 */
} hp_gateway_config;

/* One librdkafka property, passed on unchecked (librdkafka validates names). */
typedef struct hp_config_kv {
    char *name;
    char *value; /* numbers and booleans of the file in their JSON text form */
} hp_config_kv;

typedef struct hp_kafka_config {
    char *brokers;            /* NULL when neither the file nor HOOKPIPE_KAFKA_BROKERS sets it */
    char *topic;              /* default "webhooks.raw" */
    char *dlq_topic;          /* default "webhooks.dlq" */
    hp_config_kv *properties; /* in file order */
    size_t nproperties;
} hp_kafka_config;

typedef struct hp_postgres_config {
    char *dsn;                /* NULL if not set; a secret (may hold a password): never log it */
    int statement_timeout_ms; /* server-side, per statement; the worker gives up on a silent
                                 server after this plus a margin; default 10000; 100..3600000 */
    int connect_timeout_s;    /* default 5; 1..300 */
} hp_postgres_config;

typedef struct hp_worker_config {
    char *group_id;       /* default "hookpipe-worker" */
    int batch_max;        /* default 500; 1..10000 */
    int batch_wait_ms;    /* default 20; 0..10000 */
    int retry_initial_ms; /* default 100; 1..600000 */
    int retry_max_ms;     /* default 30000; retry_initial_ms..3600000 */
    int max_attempts;     /* 0 (default) = retry transient failures forever, else DLQ after N */
    int lanes;            /* default 1; 1..64 consumer-group members in the process */
    int stall_timeout_s;  /* records wait and no offset moved this long: not ready;
                             default 300; 10..86400 */
    char *admin_listen;   /* default "127.0.0.1:9091" */
} hp_worker_config;

typedef struct hp_log_config {
    hp_log_level level; /* default info; HOOKPIPE_LOG_LEVEL overrides */
} hp_log_config;

/* verify.scheme; see DESIGN.md §Verification schemes. */
typedef enum {
    HP_VERIFY_HMAC_SHA256,
    HP_VERIFY_HMAC_SHA1,
    HP_VERIFY_GITHUB,
    HP_VERIFY_STRIPE,
    HP_VERIFY_STANDARD_WEBHOOKS,
    HP_VERIFY_SLACK,
    HP_VERIFY_SHOPIFY,
    HP_VERIFY_LIVEKIT,
    HP_VERIFY_BASIC,
    HP_VERIFY_BEARER,
    HP_VERIFY_NONE
} hp_verify_scheme;

/* How an hmac-* signature is written in its header. */
typedef enum {
    HP_VERIFY_ENC_HEX,
    HP_VERIFY_ENC_BASE64,
    HP_VERIFY_ENC_BASE64URL
} hp_verify_encoding;

/* Key material: len bytes, followed by a NUL that len does not count (so a
 * token or "user:password" can be used as a C string). Zeroed when freed. */
typedef struct hp_secret {
    unsigned char *bytes;
    size_t len;
} hp_secret;

/* A LiveKit API key and its secret; the JWT's iss picks the pair. */
typedef struct hp_livekit_key {
    char *api_key;
    hp_secret secret;
} hp_livekit_key;

typedef struct hp_verify_config {
    hp_verify_scheme scheme;
    /* Every scheme but livekit and none: valid if any secret matches.
     * standard-webhooks: the base64-decoded key (after "whsec_");
     * stripe: the whole "whsec_…" string; basic: "user:password";
     * bearer: the token; others: the secret's bytes as written. */
    hp_secret *secrets;
    size_t nsecrets;
    hp_livekit_key *keys; /* livekit only: "keys" or "api_key" + "secrets", normalised */
    size_t nkeys;
    char *header;                /* hmac-* only: the signature header; NULL otherwise */
    hp_verify_encoding encoding; /* hmac-* only; default hex */
    char *prefix;                /* hmac-* only: stripped before decoding; default "" */
    /* stripe, standard-webhooks, slack: replay window in seconds, default
     * 300; 0 = the timestamp is not checked (as in Stripe's SDKs). Other
     * schemes: 0, unused. */
    int tolerance_s;
} hp_verify_config;

typedef enum {
    HP_EXTRACT_NONE,        /* not extracted */
    HP_EXTRACT_JSON,        /* arg: an RFC 6901 pointer into the body */
    HP_EXTRACT_HEADER,      /* arg: a request header name */
    HP_EXTRACT_BODY_SHA256, /* event_id only: hex SHA-256 of the body; arg NULL */
    HP_EXTRACT_CONST        /* entity_type only: arg is the value */
} hp_extract_kind;

typedef struct hp_extractor {
    hp_extract_kind kind;
    char *arg;
} hp_extractor;

typedef enum { HP_HANDLER_STORE, HP_HANDLER_ENTITY, HP_HANDLER_LIVEKIT } hp_handler;

typedef struct hp_source {
    char *name; /* [a-z0-9_.-]{1,64}, unique, neither "." nor ".." */
    hp_verify_config verify;
    /* Defaults: event_id = body_sha256 (a source without ids dedups identical
     * bodies), event_type none, key none (= the event id), event_time none,
     * entity_type none (= the source name). */
    hp_extractor event_id;
    hp_extractor event_type;
    hp_extractor key;
    hp_extractor event_time;
    hp_extractor entity_type;
    char **events; /* types to accept; default one entry, "*" = all */
    size_t nevents;
    hp_handler handler; /* default store */
    hp_cidr *allow_ips; /* empty = every address */
    size_t nallow_ips;  /* entries in allow_ips */
    hp_rate_limit rate_limit;
    bool insecure; /* required for scheme "none" */
} hp_source;

typedef struct hp_config {
    hp_gateway_config gateway;
    hp_kafka_config kafka;
    hp_postgres_config postgres;
    hp_worker_config worker;
    hp_log_config log;
    hp_source *sources;
    size_t nsources;
} hp_config;

/*
 * Loads the configuration file at path into caller storage cfg: reads it (at
 * most 4 MiB), resolves env:/file: values, applies the HOOKPIPE_* environment
 * overrides, fills in defaults and validates. On success the caller owns cfg
 * and frees it with hp_config_deinit(). On failure cfg is zeroed (deinit is
 * harmless), errstr holds "<basename>: <json path>: <what>", and the result is
 * HP_ERR_INVALID (a bad value) or HP_ERR_IO (the file could not be read).
 * @thread any, but reads the environment: not while another thread sets it.
 */
hp_err hp_config_load(hp_config *cfg, const char *path, char *errstr,
                      size_t errstr_size) HP_WARN_UNUSED;

/* hp_config_load() from a NUL-terminated JSON text; name stands for the file
 * name in messages. @thread any (see hp_config_load) */
hp_err hp_config_load_string(hp_config *cfg, const char *json, const char *name, char *errstr,
                             size_t errstr_size) HP_WARN_UNUSED;

/* Frees everything cfg owns, zeroing every string and secret first, and
 * leaves cfg zeroed. @thread any (the owner of cfg) */
void hp_config_deinit(hp_config *cfg);

/* The source called name, or NULL. Borrowed from cfg. @thread any */
const hp_source *hp_config_find_source(const hp_config *cfg, const char *name);

/* Whether src accepts an event of type event_type (NULL when the source
 * extracts none): true if its events list holds "*" or the type. @thread any */
bool hp_source_accepts_event(const hp_source *src, const char *event_type);

/*
 * Splits a listen address "host:port", "[v6]:port" or ":port" (every
 * interface; host becomes "") into host (without brackets, NUL-terminated,
 * at most hostsz - 1 bytes) and port (0..65535; 0 = a free port the kernel
 * picks, which the daemons log at start — for tests). The host is a name, a
 * dotted quad or, in brackets, an IPv6 address. HP_ERR_INVALID if s has
 * another form or host does not fit. @thread any
 */
hp_err hp_config_parse_hostport(const char *s, char *host, size_t hostsz, int *port) HP_WARN_UNUSED;

/* Constant names, as written in the file ("standard-webhooks", "base64url",
 * "entity"). @thread any */
const char *hp_verify_scheme_name(hp_verify_scheme scheme);
const char *hp_verify_encoding_name(hp_verify_encoding encoding);
const char *hp_handler_name(hp_handler handler);

#endif /* HP_CONFIG_H */
