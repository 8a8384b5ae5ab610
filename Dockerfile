# syntax=docker/dockerfile:1
#
# hookpipe's container image: the three binaries (hookpipe-gateway,
# hookpipe-worker, hookpipectl) on Debian bookworm-slim, built with CMake from
# Debian's -dev packages, run as a non-root user. One image, the command picks
# the binary:
#
#   docker build -t hookpipe .
#   docker run --rm -v $PWD/config.json:/etc/hookpipe/config.json:ro hookpipe
#   docker run --rm ... hookpipe hookpipe-worker -c /etc/hookpipe/config.json
#   docker run --rm ... hookpipe hookpipectl lag --group hookpipe-worker
#
# docker-compose.yml and deploy/k8s/ use it; docs/operations.md explains both.

ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---- build: compiler, CMake and the -dev packages (check is needed by CMake's
# configure step, which also sets up the tests; only the binaries are built).
FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libmicrohttpd-dev libssl-dev libpq-dev libjansson-dev check \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" \
      --target hookpipe-gateway hookpipe-worker hookpipectl \
 && strip --strip-unneeded /build/bin/hookpipe-gateway /build/bin/hookpipe-worker \
      /build/bin/hookpipectl \
 && /build/bin/hookpipe-gateway --version && /build/bin/hookpipe-worker --version

# ---- runtime: the shared libraries only, no compiler, no shell tools added.
FROM ${DEBIAN_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libmicrohttpd12 libjansson4 libpq5 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 hookpipe \
 && useradd --uid 10001 --gid hookpipe --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin hookpipe \
 && mkdir -p /etc/hookpipe
COPY --from=build /build/bin/hookpipe-gateway /build/bin/hookpipe-worker \
     /build/bin/hookpipectl /usr/local/bin/

# The health check. Slim images have no curl or wget, and curl would bring a
# dozen libraries; bash's /dev/tcp speaks the one HTTP/1.0 GET needed.
# Usage: hookpipe-healthcheck [PORT [PATH]] — PORT defaults to
# $HOOKPIPE_HEALTH_PORT (9090, the gateway's admin port; the worker's is
# 9091), PATH to /healthz. Exit 0 only on a 200 answer.
COPY --chmod=0755 <<'SCRIPT' /usr/local/bin/hookpipe-healthcheck
#!/bin/bash
port=${1:-${HOOKPIPE_HEALTH_PORT:-9090}}
path=${2:-/healthz}
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ $status == HTTP/1.[01]\ 200* ]]
SCRIPT

LABEL org.opencontainers.image.title="hookpipe" \
      org.opencontainers.image.description="Webhook gateway, worker and operator tool: verify, enqueue to Kafka, apply once to PostgreSQL"

# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# 8080 webhooks (gateway), 9090 gateway admin, 9091 worker admin.
EXPOSE 8080 9090 9091
# hookpipectl finds the configuration without -c: `docker compose exec
# worker-1 hookpipectl lag`.
ENV HOOKPIPE_HEALTH_PORT=9090 \
    HOOKPIPE_CONFIG=/etc/hookpipe/config.json
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["hookpipe-healthcheck"]
# SIGTERM drains: the gateway answers what is in flight, the worker commits.
STOPSIGNAL SIGTERM
CMD ["hookpipe-gateway", "-c", "/etc/hookpipe/config.json"]
