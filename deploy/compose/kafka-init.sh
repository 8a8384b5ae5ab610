#!/bin/bash
# One-shot Compose service (kafka-init): creates hookpipe's topics if they
# are missing and checks their partition counts. Runs in the apache/kafka
# image; docker-compose.yml passes BOOTSTRAP, TOPIC, TOPIC_PARTITIONS,
# DLQ_TOPIC and DLQ_PARTITIONS. Safe to run again.
set -euo pipefail
topics=${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}

create() { # create NAME PARTITIONS
    "$topics" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
        --topic "$1" --partitions "$2" --replication-factor 1 \
        --config min.insync.replicas=1
    local have
    have=$("$topics" --bootstrap-server "$BOOTSTRAP" --describe --topic "$1" |
        sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n1)
    if [ "$have" != "$2" ]; then
        echo "kafka-init: topic $1 has ${have:-no} partitions, expected $2;" \
            "add partitions with kafka-topics.sh --alter (keys then move to new partitions)" >&2
        exit 1
    fi
    echo "kafka-init: topic $1 ready ($have partitions)"
}

create "$TOPIC" "$TOPIC_PARTITIONS"
create "$DLQ_TOPIC" "$DLQ_PARTITIONS"
