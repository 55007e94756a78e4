/* limits.c — the one place where sizes that come from outside (a file's
 * header, an INI shape, a flag) are multiplied: checked 64-bit products
 * against BD_MAX_ELEMENTS, and the memory a network would need against the
 * memory this process may use, before anything is allocated. */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int bd__checked_mul(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > BD_MAX_ELEMENTS)
        return 0;
    *out = r;
    return 1;
}

bd_status bd__dims_product(const char *who, int n, const int64_t *d, int64_t *out)
{
    int64_t p = 1;
    int big = 0;
    for (int i = 0; i < n; i++) {
        if (d[i] < 1) {
            char dims[160];
            bd__dims_str(n, d, dims, sizeof dims);
            return bd_error(BD_ERR_SHAPE, "%s: dimension %d is %" PRId64 " (in %s; must be >= 1)",
                            who, i, d[i], dims);
        }
        if (!big && !bd__checked_mul(p, d[i], &p))
            big = 1;
    }
    if (big) {
        char dims[160];
        bd__dims_str(n, d, dims, sizeof dims);
        return bd_error(BD_ERR_SHAPE, "%s: %s is too large: more than %" PRId64 " elements in "
                        "all (BD_MAX_ELEMENTS)", who, dims, (int64_t)BD_MAX_ELEMENTS);
    }
    *out = p;
    return BD_OK;
}

const char *bd__dims_str(int n, const int64_t *d, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? " x %" PRId64 : "%" PRId64, d[i]);
    return buf;
}

/* What this process may allocate: the least of the machine's memory, the
 * cgroup's limit (containers, CI) and the address-space / data rlimits. */
uint64_t bd__mem_limit(void)
{
    uint64_t lim = UINT64_MAX;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0)
        lim = (uint64_t)pages * (uint64_t)psz;
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r"); /* "max" or a number */
    if (f) {
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1 && v < lim)
            lim = v;
        fclose(f);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
        lim = rl.rlim_cur;
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
        lim = rl.rlim_cur;
    return lim;
}

const char *bd__bytes_str(uint64_t b, char *buf, size_t len)
{
    if (b >= (uint64_t)1 << 30)
        snprintf(buf, len, "%.1f GiB", (double)b / (double)(1u << 30));
    else if (b >= (uint64_t)1 << 20)
        snprintf(buf, len, "%.1f MiB", (double)b / (double)(1u << 20));
    else
        snprintf(buf, len, "%" PRIu64 " bytes", b);
    return buf;
}

bd_status bd__check_mem(const char *who, const char *what, uint64_t bytes)
{
    uint64_t lim = bd__mem_limit();
    if (bytes <= lim)
        return BD_OK;
    char a[32], b[32];
    return bd_error(BD_ERR_NOMEM, "%s: %s need %" PRIu64 " bytes (%s), more than the %s this "
                    "process may use", who, what, bytes, bd__bytes_str(bytes, a, sizeof a),
                    bd__bytes_str(lim, b, sizeof b));
}
