/*
 * it_kafka: what a test needs to prove a daemon did (or did not) write a
 * record to Kafka.
 *
 * A test takes a snapshot of a topic's end offsets before it acts; records
 * after the snapshot are the ones it may have caused. It then finds the
 * record with a given hookpipe-event-id among them (waiting a bounded time
 * for it), counts them (reading up to the end offsets as they are when it
 * counts: zero proves nothing was produced), or scans them all. Reads use a
 * consumer with assigned partitions and no committed offsets, so tests never
 * disturb a consumer group.
 */
#ifndef IT_KAFKA_H
#define IT_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* The end offset of every partition of a topic at one moment. */
typedef struct it_kafka_snapshot {
    char topic[128];
    int npartitions;
    int64_t *offsets; /* [npartitions], owned */
} it_kafka_snapshot;

/* One record header; value is value_len bytes plus a NUL (NULL for a null value). */
typedef struct it_kafka_header {
    char *name;
    char *value;
    size_t value_len;
} it_kafka_header;

/* A copy of one record; everything owned. Free with it_kafka_record_deinit(). */
typedef struct it_kafka_record {
    int32_t partition;
    int64_t offset;
    char *key; /* key_len bytes plus a NUL; NULL for a null key */
    size_t key_len;
    char *value; /* value_len bytes plus a NUL; NULL for a null value */
    size_t value_len;
    it_kafka_header *headers; /* in record order */
    size_t nheaders;
} it_kafka_record;

/*
 * Fills snap with the partition count of topic (from the metadata) and each
 * partition's high watermark on it_kafka_brokers(). Returns 0, or -1 with a
 * message in err. Free with it_kafka_snapshot_deinit(). @thread any
 */
int it_kafka_snapshot_take(it_kafka_snapshot *snap, const char *topic, char *err, size_t errsz);

void it_kafka_snapshot_deinit(it_kafka_snapshot *snap);

/*
 * Reads the records after snap until one has hookpipe-event-id equal to
 * event_id, at most timeout_ms. Returns 1 with a copy in *out (the caller
 * frees it with it_kafka_record_deinit), 0 if none came in time, -1 on an
 * error (err).
 */
int it_kafka_find(const it_kafka_snapshot *snap, const char *event_id, int timeout_ms,
                  it_kafka_record *out, char *err, size_t errsz);

/* Called by it_kafka_scan() for every record read; msg is valid during the call. */
typedef void it_kafka_record_fn(const rd_kafka_message_t *msg, void *opaque);

/*
 * Reads every record after snap up to each partition's end offset as it is
 * when the call starts, calling fn(msg, opaque) for each. Returns the number
 * of records read, or -1 with a message in err if the ends were not reached
 * within timeout_ms.
 */
long it_kafka_scan(const it_kafka_snapshot *snap, int timeout_ms, it_kafka_record_fn *fn,
                   void *opaque, char *err, size_t errsz);

/* The records after snap (up to the ends as of now) with that event id, or -1 (err). */
long it_kafka_count(const it_kafka_snapshot *snap, const char *event_id, int timeout_ms, char *err,
                    size_t errsz);

/*
 * Copies msg's hookpipe-event-id into buf (bufsz bytes, NUL-terminated).
 * Returns buf, or NULL if the record has none or it does not fit.
 */
const char *it_kafka_event_id(const rd_kafka_message_t *msg, char *buf, size_t bufsz);

/* Copies msg (key, value, headers) into out; free it with it_kafka_record_deinit(). */
void it_kafka_record_copy(const rd_kafka_message_t *msg, it_kafka_record *out);

/* The value of the last header called name (exact name), or NULL. Borrowed from rec. */
const it_kafka_header *it_kafka_record_header(const it_kafka_record *rec, const char *name);

void it_kafka_record_deinit(it_kafka_record *rec);

/*
 * The offsets consumer group has committed for partitions 0..n-1 of topic
 * into offsets[0..n) (RD_KAFKA_OFFSET_INVALID where none), read without
 * joining the group. Returns 0, or -1 with a message in err.
 */
int it_kafka_committed(const char *group, const char *topic, int n, int64_t *offsets, char *err,
                       size_t errsz);

/*
 * Commits offsets[p] for partitions 0..n-1 of topic on behalf of consumer
 * group, as an operator's offset reset does: the group must have no active
 * member (stop its consumers first). Returns 0, or -1 with a message in err.
 */
int it_kafka_commit(const char *group, const char *topic, int n, const int64_t *offsets, char *err,
                    size_t errsz);

#endif /* IT_KAFKA_H */
