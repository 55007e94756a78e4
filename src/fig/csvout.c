/* csvout.c — a figure's numbers as CSV, written to a temporary name in the
 * same folder and renamed when complete. */
#include "fig/fig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bd_status fig_csv_open(fig_csv *c, const char *path, const char *header)
{
    memset(c, 0, sizeof *c);
    if ((size_t)snprintf(c->path, sizeof c->path, "%s", path) >= sizeof c->path)
        return bd_error(BD_ERR_ARG, "CSV path too long: %s", path);
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    snprintf(c->tmp, sizeof c->tmp, "%.*s.%s.tmp", dirlen, path, path + dirlen);
    c->f = fopen(c->tmp, "w");
    if (!c->f)
        return bd_error(BD_ERR_IO, "%s: cannot write: %s", c->tmp, strerror(errno));
    fprintf(c->f, "%s\n", header);
    return BD_OK;
}

void fig_csv_row(fig_csv *c, const char *fmt, ...)
{
    if (!c->f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->f, fmt, ap);
    va_end(ap);
    fputc('\n', c->f);
}

bd_status fig_csv_close(fig_csv *c)
{
    if (!c->f)
        return BD_OK;
    int bad = ferror(c->f);
    bad |= fflush(c->f) != 0;
    bad |= fclose(c->f) != 0;
    c->f = NULL;
    if (bad || rename(c->tmp, c->path) != 0) {
        int e = errno;
        remove(c->tmp);
        return bd_error(BD_ERR_IO, "%s: cannot write: %s", c->path, strerror(e));
    }
    return BD_OK;
}
