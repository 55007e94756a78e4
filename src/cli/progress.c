/* progress.c — a one-line progress bar on stderr. It stays quiet when stderr
 * is not a terminal (logs, CI) or with --quiet. */
#include "cli.h"

#include <stdio.h>
#include <unistd.h>

void progress_init(progress *p, int quiet)
{
    p->enabled = !quiet && isatty(2);
    p->last_drawn = -1;
    p->t0 = bd_seconds();
}

void progress_update(progress *p, long iter, long total, float loss)
{
    if (!p->enabled || total <= 0)
        return;
    /* redraw at most ~200 times per run: printing is slow next to training */
    long step = total / 200 > 0 ? total / 200 : 1;
    if (iter != total && p->last_drawn >= 0 && iter - p->last_drawn < step)
        return;
    p->last_drawn = iter;
    const int width = 30;
    int filled = (int)((double)iter / (double)total * width);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = 0;
    double el = bd_seconds() - p->t0;
    fprintf(stderr, "\r[%s] %3d%%  iter %ld/%ld  loss %.4f  %.1fs ", bar,
            (int)(100.0 * (double)iter / (double)total), iter, total, (double)loss, el);
    fflush(stderr);
}

void progress_clear(progress *p)
{
    if (p->enabled && p->last_drawn >= 0) {
        fprintf(stderr, "\r%*s\r", 79, "");
        fflush(stderr);
        p->last_drawn = -1;
    }
}
