/*
 * hp_err: names of the error values, for logs and metrics labels.
 */
#include "hp_err.h"

const char *hp_err_name(hp_err err)
{
    switch (err) {
    case HP_OK:
        return "ok";
    case HP_ERR_INVALID:
        return "invalid";
    case HP_ERR_IO:
        return "io";
    case HP_ERR_RETRY:
        return "retry";
    case HP_ERR_FATAL:
        return "fatal";
    }
    return "unknown";
}
