/* error.c — errors are values (bd_status) that travel up; the message that
 * explains one is kept per thread, like SQLite's sqlite3_errmsg. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char errbuf[512];

const char *bd_errmsg(void) { return errbuf; }

bd_status bd_error(bd_status s, const char *fmt, ...)
{
    if (!fmt) { /* the API's NULL rule: refused quietly, never a crash */
        errbuf[0] = 0;
        return s;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return s;
}

const char *bd_status_name(bd_status s)
{
    switch (s) {
    case BD_OK: return "BD_OK";
    case BD_ERR_NOMEM: return "BD_ERR_NOMEM";
    case BD_ERR_ARG: return "BD_ERR_ARG";
    case BD_ERR_SHAPE: return "BD_ERR_SHAPE";
    case BD_ERR_IO: return "BD_ERR_IO";
    case BD_ERR_FORMAT: return "BD_ERR_FORMAT";
    case BD_ERR_NUMERIC: return "BD_ERR_NUMERIC";
    case BD_ERR_CHECK: return "BD_ERR_CHECK";
    }
    return "BD_ERR_UNKNOWN";
}
