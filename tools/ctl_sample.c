/*
 * ctl_sample: the built-in sample events. See ctl_sample.h.
 *
 * Templates are JSON texts with placeholders, replaced before parsing:
 * $ID (24 base62 characters), $UUID, $N (a number), $NOW (UNIX seconds)
 * and $ISO (RFC 3339). The payloads follow the providers' documented
 * examples, trimmed to the fields a receiver looks at.
 */
#include "ctl_sample.h"

#include "hp_alloc.h"
#include "hp_buf.h"
#include "hp_jsonptr.h"
#include "hp_time.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest sample after its placeholders are replaced. */
#define SAMPLE_CAP (64 * 1024)

typedef struct sample_def {
    const char *event;
    const char *id_template; /* the event id ("evt_$ID") */
    const char *json;
} sample_def;

/* LiveKit: protobuf JSON (int64 as strings), one room's objects. */
#define LK_ROOM                                                                                    \
    "\"room\":{\"sid\":\"RM_hookpipectl\",\"name\":\"hookpipectl-sample\",\"emptyTimeout\":300,"   \
    "\"maxParticipants\":10,\"creationTime\":\"$NOW\"}"
#define LK_PARTICIPANT(state)                                                                      \
    ",\"participant\":{\"sid\":\"PA_hookpipectl\",\"identity\":\"alice\",\"name\":\"Alice\","      \
    "\"state\":\"" state "\",\"joinedAt\":\"$NOW\"}"
#define LK_TRACK                                                                                   \
    ",\"track\":{\"sid\":\"TR_hookpipectl\",\"type\":\"VIDEO\",\"name\":\"camera\","               \
    "\"source\":\"CAMERA\",\"mimeType\":\"video/VP8\"}"
#define LK_EVENT(name, fields)                                                                     \
    {                                                                                              \
        name, "EV_$ID",                                                                            \
            "{\"event\":\"" name "\"," fields ",\"id\":\"EV_$ID\",\"createdAt\":\"$NOW\"}"         \
    }
#define LK_EGRESS(status, ended)                                                                   \
    "\"egressInfo\":{\"egressId\":\"EG_hookpipectl\",\"roomId\":\"RM_hookpipectl\","               \
    "\"roomName\":\"hookpipectl-sample\",\"status\":\"" status "\","                               \
    "\"startedAt\":\"$NOW000000000\"" ended "}"
#define LK_INGRESS(status, ended)                                                                  \
    "\"ingressInfo\":{\"ingressId\":\"IN_hookpipectl\",\"name\":\"obs\","                          \
    "\"roomName\":\"hookpipectl-sample\",\"state\":{\"status\":\"" status "\","                    \
    "\"startedAt\":\"$NOW000000000\"" ended "}}"

static const sample_def livekit[] = {
    LK_EVENT("room_started", LK_ROOM),
    LK_EVENT("participant_joined", LK_ROOM LK_PARTICIPANT("ACTIVE")),
    LK_EVENT("track_published", LK_ROOM LK_PARTICIPANT("ACTIVE") LK_TRACK),
    LK_EVENT("track_unpublished", LK_ROOM LK_PARTICIPANT("ACTIVE") LK_TRACK),
    LK_EVENT("participant_left", LK_ROOM LK_PARTICIPANT("DISCONNECTED")),
    LK_EVENT("egress_started", LK_EGRESS("EGRESS_STARTING", "")),
    LK_EVENT("egress_updated", LK_EGRESS("EGRESS_ACTIVE", "")),
    LK_EVENT("egress_ended", LK_EGRESS("EGRESS_COMPLETE", ",\"endedAt\":\"$NOW000000000\"")),
    LK_EVENT("ingress_started", LK_INGRESS("ENDPOINT_PUBLISHING", "")),
    LK_EVENT("ingress_ended", LK_INGRESS("ENDPOINT_INACTIVE", ",\"endedAt\":\"$NOW000000000\"")),
    LK_EVENT("room_finished", LK_ROOM),
    {NULL, NULL, NULL},
};

#define STRIPE_EVENT(type, object)                                                                 \
    {                                                                                              \
        type, "evt_$ID",                                                                           \
            "{\"id\":\"evt_$ID\",\"object\":\"event\",\"api_version\":\"2024-06-20\",\"created\":" \
            "$NOW,"                                                                                \
            "\"data\":{\"object\":" object "},\"livemode\":false,\"pending_webhooks\":1,"          \
            "\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" type "\"}"            \
    }

static const sample_def stripe[] = {
    STRIPE_EVENT("payment_intent.succeeded",
                 "{\"id\":\"pi_hookpipectl\",\"object\":\"payment_intent\",\"amount\":2000,"
                 "\"amount_received\":2000,\"currency\":\"usd\",\"customer\":\"cus_hookpipectl\","
                 "\"status\":\"succeeded\",\"created\":$NOW}"),
    STRIPE_EVENT("customer.created",
                 "{\"id\":\"cus_hookpipectl\",\"object\":\"customer\",\"email\":"
                 "\"jenny.rosen@example.com\",\"name\":\"Jenny Rosen\",\"created\":$NOW}"),
    STRIPE_EVENT("invoice.paid",
                 "{\"id\":\"in_hookpipectl\",\"object\":\"invoice\",\"amount_paid\":2000,"
                 "\"currency\":\"usd\",\"customer\":\"cus_hookpipectl\",\"status\":\"paid\","
                 "\"created\":$NOW}"),
    {NULL, NULL, NULL},
};

#define GH_REPO                                                                                    \
    "\"repository\":{\"id\":1296269,\"name\":\"Hello-World\",\"full_name\":"                       \
    "\"octocat/Hello-World\",\"private\":false},\"sender\":{\"login\":\"octocat\",\"id\":1,"       \
    "\"type\":\"User\"}"

/* GitHub names its deliveries with a UUID (X-GitHub-Delivery). */
static const sample_def github[] = {
    {"issues", "$UUID",
     "{\"action\":\"opened\",\"issue\":{\"id\":$N,\"number\":1347,\"title\":\"Found a bug\","
     "\"state\":\"open\",\"body\":\"I'm having a problem with this.\",\"user\":{\"login\":"
     "\"octocat\",\"id\":1},\"created_at\":\"$ISO\",\"updated_at\":\"$ISO\"}," GH_REPO "}"},
    {"push", "$UUID",
     "{\"ref\":\"refs/heads/main\",\"before\":\"6113728f27ae82c7b1a177c8d03f9e96e0adf246\","
     "\"after\":\"0000000000000000000000000000000000000000\",\"commits\":[],\"head_commit\":null,"
     "\"pusher\":{\"name\":\"octocat\"}," GH_REPO "}"},
    {"ping", "$UUID",
     "{\"zen\":\"Design for failure.\",\"hook_id\":$N,\"hook\":{\"type\":\"Repository\","
     "\"id\":$N,\"active\":true,\"events\":[\"issues\",\"push\"]}," GH_REPO "}"},
    {NULL, NULL, NULL},
};

#define SLACK_CALLBACK(type, event)                                                                \
    {                                                                                              \
        type, "Ev$ID",                                                                             \
            "{\"token\":\"XXYYZZ\",\"team_id\":\"T0001\",\"api_app_id\":\"A0001\","                \
            "\"event\":" event                                                                     \
            ",\"type\":\"event_callback\",\"event_id\":\"Ev$ID\",\"event_time\":$NOW,"             \
            "\"authorizations\":[{\"team_id\":\"T0001\",\"user_id\":\"U0002\",\"is_bot\":true}]}"  \
    }

static const sample_def slack[] = {
    SLACK_CALLBACK("app_mention",
                   "{\"type\":\"app_mention\",\"user\":\"U0001\",\"text\":\"<@U0002> hello\","
                   "\"ts\":\"$NOW.000100\",\"channel\":\"C0001\",\"event_ts\":\"$NOW.000100\"}"),
    SLACK_CALLBACK("message",
                   "{\"type\":\"message\",\"channel\":\"C0001\",\"user\":\"U0001\",\"text\":"
                   "\"Live long and prospect.\",\"ts\":\"$NOW.000200\",\"event_ts\":"
                   "\"$NOW.000200\",\"channel_type\":\"channel\"}"),
    {NULL, NULL, NULL},
};

static const sample_def shopify[] = {
    {"orders/create", "$UUID",
     "{\"id\":$N,\"admin_graphql_api_id\":\"gid://shopify/Order/$N\",\"name\":\"#1001\","
     "\"email\":\"jon@example.com\",\"created_at\":\"$ISO\",\"updated_at\":\"$ISO\","
     "\"currency\":\"USD\",\"total_price\":\"19.99\",\"financial_status\":\"paid\","
     "\"line_items\":[{\"id\":1,\"title\":\"IPod Nano - "
     "8GB\",\"quantity\":1,\"price\":\"19.99\"}]}"},
    {"products/update", "$UUID",
     "{\"id\":$N,\"admin_graphql_api_id\":\"gid://shopify/Product/$N\",\"title\":"
     "\"Example T-Shirt\",\"status\":\"active\",\"updated_at\":\"$ISO\",\"variants\":[]}"},
    {NULL, NULL, NULL},
};

static const sample_def standard_webhooks[] = {
    {"invoice.paid", "msg_$ID",
     "{\"type\":\"invoice.paid\",\"timestamp\":\"$ISO\",\"data\":{\"id\":\"inv_hookpipectl\","
     "\"amount\":1000,\"currency\":\"EUR\"}}"},
    {"user.created", "msg_$ID",
     "{\"type\":\"user.created\",\"timestamp\":\"$ISO\",\"data\":{\"id\":\"user_hookpipectl\","
     "\"email\":\"jane@example.com\"}}"},
    {NULL, NULL, NULL},
};

static const sample_def generic[] = {
    {"order.paid", "evt_$ID",
     "{\"id\":\"evt_$ID\",\"type\":\"order.paid\",\"created_at\":\"$ISO\",\"order_id\":"
     "\"o-hookpipectl\",\"amount\":1999,\"currency\":\"EUR\"}"},
    {"order.created", "evt_$ID",
     "{\"id\":\"evt_$ID\",\"type\":\"order.created\",\"created_at\":\"$ISO\",\"order_id\":"
     "\"o-hookpipectl\",\"amount\":1999,\"currency\":\"EUR\"}"},
    {NULL, NULL, NULL},
};

static const sample_def *defs_of(hp_verify_scheme scheme)
{
    switch (scheme) {
    case HP_VERIFY_LIVEKIT:
        return livekit;
    case HP_VERIFY_STRIPE:
        return stripe;
    case HP_VERIFY_GITHUB:
        return github;
    case HP_VERIFY_SLACK:
        return slack;
    case HP_VERIFY_SHOPIFY:
        return shopify;
    case HP_VERIFY_STANDARD_WEBHOOKS:
        return standard_webhooks;
    default:
        return generic;
    }
}

/* The event names, built once per scheme table (at most 16 samples a scheme). */
const char *const *ctl_sample_events(hp_verify_scheme scheme)
{
    static const char *names[HP_VERIFY_NONE + 1][17];
    const sample_def *defs = defs_of(scheme);
    if ((unsigned)scheme > HP_VERIFY_NONE)
        scheme = HP_VERIFY_NONE;
    for (size_t i = 0; i < 16 && defs[i].event; i++)
        names[scheme][i] = defs[i].event;
    return names[scheme];
}

hp_err ctl_sample_ids_random(ctl_sample_ids *ids)
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char r[24 + 16 + 8];
    if (RAND_bytes(r, sizeof r) != 1)
        return HP_ERR_FATAL;
    for (size_t i = 0; i < 24; i++)
        ids->id[i] = alnum[r[i] % 62];
    ids->id[24] = '\0';
    unsigned char *u = r + 24;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(ids->uuid, sizeof ids->uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    uint64_t n = 0;
    memcpy(&n, r + 40, sizeof n);
    ids->n = (long long)(n % 999999999999ULL) + 1;
    return HP_OK;
}

/* tmpl with the placeholders replaced, into out. */
static hp_err expand(const char *tmpl, int64_t now_s, const ctl_sample_ids *ids, hp_buf *out)
{
    char now[24], iso[HP_TIME_RFC3339_SIZE], n[24];
    snprintf(now, sizeof now, "%" PRId64, now_s);
    snprintf(n, sizeof n, "%lld", ids->n);
    if (hp_time_format_rfc3339(now_s * 1000, iso, sizeof iso) == 0)
        return HP_ERR_INVALID;
    const struct {
        const char *name;
        const char *value;
    } vars[] = {{"$UUID", ids->uuid}, {"$ID", ids->id}, {"$NOW", now}, {"$ISO", iso}, {"$N", n}};
    hp_err rc = HP_OK;
    for (const char *p = tmpl; *p && rc == HP_OK;) {
        size_t k = 0;
        if (*p == '$')
            for (; k < sizeof vars / sizeof vars[0]; k++)
                if (strncmp(p, vars[k].name, strlen(vars[k].name)) == 0)
                    break;
        if (*p != '$' || k == sizeof vars / sizeof vars[0]) {
            rc = hp_buf_append(out, p, 1);
            p++;
            continue;
        }
        rc = hp_buf_append_str(out, vars[k].value);
        p += strlen(vars[k].name);
    }
    return rc;
}

/* One unescaped pointer segment [s, e) into a new string. */
static char *segment(const char *s, const char *e)
{
    char *out = hp_xmalloc((size_t)(e - s) + 1);
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        if (*p == '~' && p + 1 < e && (p[1] == '0' || p[1] == '1')) {
            out[n++] = p[1] == '0' ? '~' : '/';
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

hp_err ctl_sample_ensure(json_t *root, const char *pointer, json_t *value)
{
    if (hp_jsonptr_get(root, pointer) != NULL) {
        json_decref(value);
        return HP_OK;
    }
    if (!json_is_object(root) || pointer[0] != '/') {
        json_decref(value);
        return HP_ERR_INVALID;
    }
    json_t *cur = root;
    const char *p = pointer + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        char *key = segment(p, slash ? slash : p + strlen(p));
        if (!slash) {
            json_object_set_new(cur, key, value);
            free(key);
            return HP_OK;
        }
        json_t *next = json_object_get(cur, key);
        if (!next) {
            next = json_object();
            json_object_set_new(cur, key, next);
        }
        free(key);
        if (!json_is_object(next)) {
            json_decref(value);
            return HP_ERR_INVALID;
        }
        cur = next;
        p = slash + 1;
    }
}

/* The names of the scheme's samples, for a message. */
static void list_events(hp_verify_scheme scheme, char *out, size_t outsz)
{
    const sample_def *defs = defs_of(scheme);
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; defs[i].event && n < outsz; i++) {
        int w = snprintf(out + n, outsz - n, "%s%s", i ? ", " : "", defs[i].event);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* Creates the source's JSON pointers that do not resolve in root. */
static hp_err ensure_pointers(const hp_source *src, json_t *root, const ctl_sample *s,
                              int64_t now_s, char *errstr, size_t errstr_size)
{
    const struct {
        const char *what;
        const hp_extractor *ex;
        json_t *value;
    } fields[] = {
        {"event_id", &src->event_id, json_string(s->event_id)},
        {"event_type", &src->event_type, json_string(s->event)},
        {"key", &src->key, json_string("hookpipectl-sample")},
        {"event_time", &src->event_time, json_integer(now_s)},
        {"entity_type", &src->entity_type, json_string("sample")},
    };
    hp_err rc = HP_OK;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (rc != HP_OK || fields[i].ex->kind != HP_EXTRACT_JSON) {
            json_decref(fields[i].value);
            continue;
        }
        rc = ctl_sample_ensure(root, fields[i].ex->arg, fields[i].value);
        if (rc != HP_OK)
            snprintf(errstr, errstr_size,
                     "source %s: %s pointer \"%s\" cannot be set in the %s sample (it runs "
                     "through an array or a value); send a --body of your own",
                     src->name, fields[i].what, fields[i].ex->arg, s->event);
    }
    return rc;
}

hp_err ctl_sample_build(const hp_source *src, const char *event, int64_t now_s,
                        const ctl_sample_ids *ids, ctl_sample *out, char *errstr,
                        size_t errstr_size)
{
    const sample_def *defs = defs_of(src->verify.scheme);
    const sample_def *def = NULL;
    hp_buf text, id;
    hp_err rc = HP_OK;
    json_t *root = NULL;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; defs[i].event && !def; i++)
        if (!event || strcmp(defs[i].event, event) == 0)
            def = &defs[i];
    if (!def) {
        char names[512];
        list_events(src->verify.scheme, names, sizeof names);
        snprintf(errstr, errstr_size, "source %s (scheme %s) has no sample \"%s\"; it has: %s",
                 src->name, hp_verify_scheme_name(src->verify.scheme), event, names);
        return HP_ERR_INVALID;
    }
    hp_buf_init(&text, SAMPLE_CAP);
    hp_buf_init(&id, 256);
    rc = expand(def->json, now_s, ids, &text);
    if (rc == HP_OK)
        rc = expand(def->id_template, now_s, ids, &id);
    if (rc != HP_OK) {
        snprintf(errstr, errstr_size, "sample %s: cannot expand it at time %" PRId64, def->event,
                 now_s);
        goto out;
    }
    out->event = hp_xstrdup(def->event);
    out->event_id = hp_xstrdup(id.data);
    json_error_t jerr;
    root = json_loadb(text.data, text.len, 0, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "sample %s is not JSON: %s", def->event, jerr.text);
        rc = HP_ERR_FATAL; /* a bug in a template */
        goto out;
    }
    rc = ensure_pointers(src, root, out, now_s, errstr, errstr_size);
    if (rc != HP_OK)
        goto out;
    out->body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    out->len = strlen(out->body);
out:
    json_decref(root);
    hp_buf_deinit(&text);
    hp_buf_deinit(&id);
    if (rc != HP_OK)
        ctl_sample_deinit(out);
    return rc;
}

void ctl_sample_deinit(ctl_sample *s)
{
    free(s->body);
    free(s->event);
    free(s->event_id);
    memset(s, 0, sizeof *s);
}
