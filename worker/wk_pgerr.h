/*
 * wk_pgerr: what a PostgreSQL failure means for the worker.
 *
 *   HP_ERR_RETRY    transient: the connection broke (class 08, CONNECTION_BAD),
 *                   serialization failure 40001, deadlock 40P01, insufficient
 *                   resources (class 53), shutdown or restart (57P01, 57P02,
 *                   57P03), lock not available (55P03). Roll back, back off,
 *                   reconnect, try again; never the DLQ.
 *   HP_ERR_INVALID  the data is at fault: data exceptions (class 22, including
 *                   hookpipe's own 22H01) and integrity violations (class 23).
 *                   The record is poison: the DLQ.
 *   HP_ERR_FATAL    anything else (an undefined table, a syntax error, a
 *                   permission): the deployment is at fault, not the record.
 *                   The worker retries with backoff and logs it loudly rather
 *                   than flood the DLQ with good records.
 */
#ifndef WK_PGERR_H
#define WK_PGERR_H

#include "hp_err.h"

#include <libpq-fe.h>

/*
 * Classifies a SQLSTATE (five characters). NULL or "" means no state (libpq's
 * own failures) and is treated as transient; a string of another length is
 * HP_ERR_FATAL. @thread any
 */
hp_err wk_pgerr_classify_sqlstate(const char *sqlstate);

/*
 * Classifies the failure of a command on pg: res is its result (may be NULL
 * when libpq returned none, which is transient). A broken connection
 * (PQstatus() == CONNECTION_BAD) is transient whatever the state says; pg may
 * be NULL when only the result is known. Neither is freed. @thread any
 */
hp_err wk_pgerr_classify(PGconn *pg, const PGresult *res);

#endif /* WK_PGERR_H */
