/*
 * wk_pgerr: what a PostgreSQL failure means for the worker. See wk_pgerr.h.
 *
 * The table follows PostgreSQL's appendix "PostgreSQL Error Codes": a
 * SQLSTATE is a two-character class and a three-character subclass, and
 * most decisions are made on the class alone.
 */
#include "wk_pgerr.h"

#include <stdbool.h>
#include <string.h>

/* True if sqlstate (five characters) is in the two-character class cls. */
static bool in_class(const char *sqlstate, const char *cls)
{
    return sqlstate[0] == cls[0] && sqlstate[1] == cls[1];
}

hp_err wk_pgerr_classify_sqlstate(const char *sqlstate)
{
    /* No state: libpq's own failures (lost connection, out of memory). */
    if (sqlstate == NULL || sqlstate[0] == '\0')
        return HP_ERR_RETRY;
    if (strlen(sqlstate) != 5)
        return HP_ERR_FATAL;

    if (in_class(sqlstate, "08") || in_class(sqlstate, "53"))
        return HP_ERR_RETRY;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
        return HP_ERR_RETRY;
    if (strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 ||
        strcmp(sqlstate, "57P03") == 0)
        return HP_ERR_RETRY;
    if (strcmp(sqlstate, "55P03") == 0)
        return HP_ERR_RETRY;

    if (in_class(sqlstate, "22") || in_class(sqlstate, "23"))
        return HP_ERR_INVALID;

    return HP_ERR_FATAL;
}

hp_err wk_pgerr_classify(PGconn *pg, const PGresult *res)
{
    /* A dead connection can leave any state behind (57P01 from a terminated
     * backend, or none); whatever it says, the cure is to reconnect. */
    if (pg != NULL && PQstatus(pg) == CONNECTION_BAD)
        return HP_ERR_RETRY;
    if (res == NULL)
        return HP_ERR_RETRY;
    return wk_pgerr_classify_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
}
