/*
 * ctl_sign: hookpipectl sign, send and samples — a webhook signed as its
 * provider would sign it, printed or posted to a gateway.
 */
#include "ctl.h"
#include "ctl_request.h"
#include "ctl_sample.h"

#include "hp_buf.h"
#include "hp_httpc.h"
#include "hp_time.h"
#include "hp_utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Largest gateway answer read. */
#define MAX_ANSWER (1024 * 1024)

/* Reads path ("-": stdin) into buf, at most its cap. */
static int read_body(const ctl_ctx *ctx, const char *path, hp_buf *buf)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        ctl_error(ctx, "--body %s: %s", path, strerror(errno));
        return CTL_EXIT_USAGE;
    }
    char chunk[65536];
    size_t n;
    int code = CTL_EXIT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (hp_buf_append(buf, chunk, n) != HP_OK) {
            ctl_error(ctx, "--body %s: larger than gateway.max_body_bytes (%zu bytes)", path,
                      buf->cap);
            code = CTL_EXIT_USAGE;
            break;
        }
    }
    if (code == CTL_EXIT_OK && ferror(f)) {
        ctl_error(ctx, "--body %s: %s", path, strerror(errno));
        code = CTL_EXIT_USAGE;
    }
    if (f != stdin)
        fclose(f);
    return code;
}

/* The request of the command line's source and body or sample. */
static int build(const ctl_ctx *ctx, ctl_request *req)
{
    const ctl_args *a = ctx->args;
    char errstr[1024];
    const hp_source *src = hp_config_find_source(ctx->cfg, a->source);
    if (!src) {
        ctl_error(ctx, "--source %s: no such source in the configuration", a->source);
        return CTL_EXIT_USAGE;
    }
    ctl_sample_ids ids;
    if (ctl_sample_ids_random(&ids) != HP_OK) {
        ctl_error(ctx, "the random generator failed");
        return CTL_EXIT_FAILURE;
    }
    hp_buf body;
    hp_buf_init(&body, ctx->cfg->gateway.max_body_bytes);
    int code = a->body_file ? read_body(ctx, a->body_file, &body) : CTL_EXIT_OK;
    int64_t now_s = a->timestamp_s ? a->timestamp_s : hp_time_now_ms() / 1000;
    if (code == CTL_EXIT_OK) {
        /* An empty file is an empty body, not "use a sample". */
        const unsigned char *bytes =
            a->body_file ? (const unsigned char *)(body.data ? body.data : "") : NULL;
        hp_err rc = ctl_request_build(req, src, bytes, body.len, a->sample, now_s, &ids, errstr,
                                      sizeof errstr);
        if (rc != HP_OK) {
            ctl_error(ctx, "%s", errstr);
            code = rc == HP_ERR_INVALID ? CTL_EXIT_USAGE : CTL_EXIT_FAILURE;
        }
    }
    hp_buf_deinit(&body);
    return code;
}

static json_t *headers_json(const ctl_request *req)
{
    json_t *h = json_object();
    for (size_t i = 0; i < req->nheaders; i++)
        json_object_set_new(h, req->names[i], json_string(req->values[i]));
    return h;
}

/* The body as a JSON string if it is UTF-8 text, else null. */
static json_t *text_or_null(const char *s, size_t len)
{
    return hp_utf8_valid(s, len) ? json_stringn(s, len) : json_null();
}

int ctl_cmd_sign(const ctl_ctx *ctx)
{
    ctl_request req;
    int code = build(ctx, &req);
    if (code != CTL_EXIT_OK)
        return code;
    if (ctx->args->json) {
        char path[300];
        snprintf(path, sizeof path, "/webhooks/%s", ctx->args->source);
        json_t *root = json_pack("{s:s, s:s, s:o}", "source", ctx->args->source, "url_path", path,
                                 "headers", headers_json(&req));
        if (req.sample) {
            json_object_set_new(root, "sample", json_string(req.event_type));
            json_object_set_new(root, "event_id", json_string(req.event_id));
            json_object_set_new(root, "body", text_or_null((char *)req.body, req.len));
        }
        ctl_print_json(ctx, root);
    } else {
        for (size_t i = 0; i < req.nheaders; i++)
            fprintf(ctx->out, "%s: %s\n", req.names[i], req.values[i]);
        if (req.sample) {
            fputc('\n', ctx->out);
            fwrite(req.body, 1, req.len, ctx->out);
            fputc('\n', ctx->out);
        }
    }
    ctl_request_deinit(&req);
    return CTL_EXIT_OK;
}

int ctl_cmd_send(const ctl_ctx *ctx)
{
    const ctl_args *a = ctx->args;
    char errstr[1024], path[2400];
    hp_httpc_url url;
    if (hp_httpc_parse_url(a->url, &url, errstr, sizeof errstr) != HP_OK) {
        ctl_error(ctx, "--url %s", errstr);
        return CTL_EXIT_USAGE;
    }
    /* A bare gateway address gets the source's path. */
    if (strcmp(url.path, "/") == 0)
        snprintf(path, sizeof path, "/webhooks/%s", a->source);
    else
        snprintf(path, sizeof path, "%s", url.path);

    ctl_request req;
    int code = build(ctx, &req);
    if (code != CTL_EXIT_OK)
        return code;
    hp_httpc_header hs[CTL_REQUEST_MAX_HEADERS];
    for (size_t i = 0; i < req.nheaders; i++)
        hs[i] = (hp_httpc_header){req.names[i], req.values[i]};
    hp_httpc_response resp;
    hp_err rc = hp_httpc_request(url.host, url.port, "POST", path, hs, req.nheaders, req.body,
                                 req.len, a->timeout_ms, MAX_ANSWER, &resp, errstr, sizeof errstr);
    if (rc != HP_OK) {
        ctl_error(ctx, "POST %s: %s", a->url, errstr);
        ctl_request_deinit(&req);
        return CTL_EXIT_FAILURE;
    }
    bool ok = resp.status >= 200 && resp.status < 300;
    if (a->json) {
        json_t *answer = json_loadb(resp.body, resp.body_len, 0, NULL);
        json_t *root = json_pack("{s:s, s:s, s:i, s:o}", "source", a->source, "path", path,
                                 "status", resp.status, "response",
                                 answer ? answer : text_or_null(resp.body, resp.body_len));
        if (req.sample) {
            json_object_set_new(root, "sample", json_string(req.event_type));
            json_object_set_new(root, "event_id", json_string(req.event_id));
        }
        ctl_print_json(ctx, root);
    } else {
        fprintf(ctx->out, "POST http://%s:%d%s", url.host, url.port, path);
        if (req.sample)
            fprintf(ctx->out, " (sample %s, event id %s)", req.event_type, req.event_id);
        fprintf(ctx->out, "\nHTTP %d\n", resp.status);
        fwrite(resp.body, 1, resp.body_len, ctx->out);
        if (resp.body_len == 0 || resp.body[resp.body_len - 1] != '\n')
            fputc('\n', ctx->out);
    }
    if (!ok)
        ctl_error(ctx, "the gateway answered %d", resp.status);
    hp_httpc_response_deinit(&resp);
    ctl_request_deinit(&req);
    return ok ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

int ctl_cmd_samples(const ctl_ctx *ctx)
{
    const hp_verify_scheme all[] = {
        HP_VERIFY_LIVEKIT,     HP_VERIFY_STRIPE,    HP_VERIFY_GITHUB,
        HP_VERIFY_SLACK,       HP_VERIFY_SHOPIFY,   HP_VERIFY_STANDARD_WEBHOOKS,
        HP_VERIFY_HMAC_SHA256, HP_VERIFY_HMAC_SHA1, HP_VERIFY_BASIC,
        HP_VERIFY_BEARER,      HP_VERIFY_NONE};
    size_t from = 0, to = sizeof all / sizeof all[0];
    hp_verify_scheme only = HP_VERIFY_NONE;
    if (ctx->args->source) {
        const hp_source *src = hp_config_find_source(ctx->cfg, ctx->args->source);
        if (!src) {
            ctl_error(ctx, "--source %s: no such source in the configuration", ctx->args->source);
            return CTL_EXIT_USAGE;
        }
        only = src->verify.scheme;
    }
    json_t *root = json_object();
    for (size_t i = from; i < to; i++) {
        if (ctx->args->source && all[i] != only)
            continue;
        const char *const *events = ctl_sample_events(all[i]);
        json_t *list = json_array();
        if (!ctx->args->json)
            fprintf(ctx->out, "%-18s", hp_verify_scheme_name(all[i]));
        for (size_t k = 0; events[k]; k++) {
            json_array_append_new(list, json_string(events[k]));
            if (!ctx->args->json)
                fprintf(ctx->out, "%s%s", k ? ", " : "", events[k]);
        }
        if (!ctx->args->json)
            fputc('\n', ctx->out);
        json_object_set_new(root, hp_verify_scheme_name(all[i]), list);
    }
    if (ctx->args->json)
        ctl_print_json(ctx, root);
    else
        json_decref(root);
    return CTL_EXIT_OK;
}
