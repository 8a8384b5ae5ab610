/*
 * it_kafka_admin: topics and consumer groups of a test's own, created and
 * deleted with librdkafka's Admin API on it_kafka_brokers(). Every call
 * returns 0 (or a count), or -1 with a message in err. @thread any
 */
#ifndef IT_KAFKA_ADMIN_H
#define IT_KAFKA_ADMIN_H

#include <stddef.h>

/*
 * Creates topic with npartitions (replication factor 1) and waits until the
 * metadata shows a leader for every partition.
 */
int it_kafka_create_topic(const char *topic, int npartitions, char *err, size_t errsz);

/* Deletes topics[0..n); one that does not exist is no error. */
int it_kafka_delete_topics(const char *const *topics, size_t n, char *err, size_t errsz);

/*
 * The names of the topics that start with prefix into *names (an array the
 * caller frees, with each name). Returns how many, or -1.
 */
long it_kafka_list_topics(const char *prefix, char ***names, char *err, size_t errsz);

/* Deletes consumer group, which must have no members; one that does not exist is no error. */
int it_kafka_delete_group(const char *group, char *err, size_t errsz);

#endif /* IT_KAFKA_ADMIN_H */
