/* files.c — how badak opens files, as root or not.
 *
 * Inputs: opened with O_NONBLOCK and checked with fstat before anything is
 * read, so a FIFO (or a device) given as a model, image, CSV, INI, IDX or
 * checkpoint file is refused at once instead of blocking forever.
 *
 * Outputs are written atomically: PATH.tmp.PID in the target's folder,
 * flushed, fsynced, renamed over the target, the folder fsynced. Before
 * anything is written the target is checked: if it exists it must be a
 * regular file -- a device node, FIFO, socket or folder is refused (a rename
 * would replace /dev/null by a regular file). A symlink is followed: the
 * file it points to is the one replaced (atomically, in the target's own
 * folder), the link stays; a dangling link, or one to a non-regular file,
 * is refused. Temporary files of processes that no longer exist (a save
 * killed by SIGKILL) are removed from the folder on the next save there. */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_name(mode_t m)
{
    if (S_ISDIR(m))
        return "a folder";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

bd_status bd__open_input(const char *path, const char *what, int *fd_out, off_t *size)
{
    *fd_out = -1;
    if (!path || !*path)
        return bd_error(BD_ERR_ARG, "empty %s file name", what);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return bd_error(BD_ERR_IO, "%s: cannot open the %s file: %s", path, what,
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return bd_error(BD_ERR_IO, "%s: cannot stat the %s file: %s", path, what, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return bd_error(BD_ERR_IO, "%s: cannot read it as %s %s file: it is %s", path,
                        strchr("aeiouAEIOU", what[0]) ? "an" : "a", what, kind_name(st.st_mode));
    }
    /* a regular file: reads never block anyway; clear the flag for stdio */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    if (size)
        *size = st.st_size;
    return BD_OK;
}

bd_status bd__fopen_input(const char *path, const char *what, FILE **f, off_t *size)
{
    int fd;
    *f = NULL;
    BD_TRY(bd__open_input(path, what, &fd, size));
    *f = fdopen(fd, "rb");
    if (!*f) {
        int e = errno;
        close(fd);
        return bd_error(BD_ERR_IO, "%s: %s", path, strerror(e));
    }
    return BD_OK;
}

bd_status bd__out_target(const char *path, const char *what, char *real, size_t len)
{
    if (!path || !*path)
        return bd_error(BD_ERR_ARG, "empty %s file name", what);
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            return bd_error(BD_ERR_IO, "%s: cannot write the %s file: %s", path, what,
                            strerror(errno));
        if ((size_t)snprintf(real, len, "%s", path) >= len)
            return bd_error(BD_ERR_ARG, "%s: path too long", path);
        return BD_OK; /* a new file */
    }
    if (S_ISLNK(st.st_mode)) {
        char buf[PATH_MAX];
        if (!realpath(path, buf))
            return bd_error(BD_ERR_IO, "%s: a symlink to nothing (%s); not writing the %s file "
                            "through it", path, strerror(errno), what);
        if (stat(buf, &st) != 0 || !S_ISREG(st.st_mode))
            return bd_error(BD_ERR_IO, "%s: a symlink to %s, which is %s: refusing to replace "
                            "it by the %s file", path, buf, kind_name(st.st_mode), what);
        if ((size_t)snprintf(real, len, "%s", buf) >= len)
            return bd_error(BD_ERR_ARG, "%s: path too long", path);
        return BD_OK;
    }
    if (!S_ISREG(st.st_mode))
        return bd_error(BD_ERR_IO, "%s: is %s: refusing to replace it by the %s file", path,
                        kind_name(st.st_mode), what);
    if ((size_t)snprintf(real, len, "%s", path) >= len)
        return bd_error(BD_ERR_ARG, "%s: path too long", path);
    return BD_OK;
}

/* the folder part of path into dir ("." if none) */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)BD_MIN((size_t)(slash - path), len - 1), path);
}

void bd__sync_dir(const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* pid of a "NAME.tmp.PID" entry, 0 if the name is not one */
static long tmp_pid(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t)
        return 0;
    const char *d;
    while ((d = strstr(t + 1, ".tmp.")))
        t = d;
    d = t + 5;
    if (!*d || strlen(d) > 9)
        return 0;
    for (const char *c = d; *c; c++)
        if (!isdigit((unsigned char)*c))
            return 0;
    return atol(d);
}

int bd__clean_stale_tmp(const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = tmp_pid(e->d_name);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to ask): leave it */
        char p[4400];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            unlink(p) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

bd_status bd__afile_open(bd__afile *a, const char *path, const char *what)
{
    memset(a, 0, sizeof *a);
    a->what = what;
    BD_TRY(bd__out_target(path, what, a->path, sizeof a->path));
    if ((size_t)snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", a->path, (long)getpid()) >=
        sizeof a->tmp)
        return bd_error(BD_ERR_ARG, "%s: path too long", path);
    bd__clean_stale_tmp(a->path);
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) {
        struct stat st; /* never write into something that is not ours */
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return bd_error(BD_ERR_IO, "%s: not a regular file", a->tmp);
        }
    }
    a->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!a->f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return bd_error(BD_ERR_IO, "%s: cannot write the %s file: %s", a->tmp, what,
                        strerror(e));
    }
    return BD_OK;
}

void bd__afile_abort(bd__afile *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        remove(a->tmp);
    }
}

static bd_status write_failed(bd__afile *a, int e)
{
    bd__afile_abort(a);
    if (!e)
        e = EIO;
    return bd_error(BD_ERR_IO, "%s: cannot write the %s file: %s%s", a->path, a->what,
                    strerror(e), e == ENOSPC ? " (ENOSPC: the disk is full)" : "");
}

bd_status bd__afile_commit_stage(bd__afile *a, void (*hook)(const char *stage))
{
    if (!a->f)
        return bd_error(BD_ERR_ARG, "%s: not open", a->path);
    /* flush first: writing what is buffered again gives the reason (ENOSPC,
     * EFBIG) in errno when an earlier fprintf failed silently */
    int last = errno, fl = fflush(a->f) != 0, e = errno;
    if (fl || ferror(a->f))
        return write_failed(a, a->err ? a->err : fl ? e : last);
    if (hook)
        hook("flushed");
    if (fsync(fileno(a->f)) != 0)
        return write_failed(a, errno);
    if (hook)
        hook("synced");
    FILE *f = a->f;
    a->f = NULL;
    if (fclose(f) != 0) {
        int ce = errno;
        remove(a->tmp);
        return bd_error(BD_ERR_IO, "%s: cannot write the %s file: %s", a->path, a->what,
                        strerror(ce));
    }
    /* the target may have become something else since it was checked */
    char again[4096];
    bd_status s = bd__out_target(a->path, a->what, again, sizeof again);
    if (s == BD_OK && rename(a->tmp, a->path) != 0)
        s = bd_error(BD_ERR_IO, "%s: cannot rename %s over it: %s", a->path, a->tmp,
                     strerror(errno));
    if (s != BD_OK) {
        remove(a->tmp);
        return s;
    }
    if (hook)
        hook("renamed");
    bd__sync_dir(a->path);
    return BD_OK;
}

bd_status bd__afile_commit(bd__afile *a) { return bd__afile_commit_stage(a, NULL); }

bd_status bd__afile_write(bd__afile *a, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, a->f) != n) {
        a->err = errno ? errno : EIO;
        return bd_error(BD_ERR_IO, "%s: cannot write the %s file: %s", a->path, a->what,
                        strerror(a->err));
    }
    return BD_OK;
}

/* ---- the public face of the same (badak.h) */

struct bd_atomic_file {
    bd__afile a;
};

bd_status bd_output_check(const char *path, const char *what)
{
    if (!path)
        return bd_error(BD_ERR_ARG, "bd_output_check: path is NULL");
    char real[4096];
    return bd__out_target(path, what ? what : "output", real, sizeof real);
}

bd_status bd_atomic_open(bd_atomic_file **out, const char *path, const char *what)
{
    if (!out || !path)
        return bd_error(BD_ERR_ARG, "bd_atomic_open: %s is NULL", !out ? "out" : "path");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return bd_error(BD_ERR_NOMEM, "%s: out of memory", path);
    bd_status s = bd__afile_open(&(*out)->a, path, what ? what : "output");
    if (s != BD_OK) {
        free(*out);
        *out = NULL;
    }
    return s;
}

FILE *bd_atomic_stream(bd_atomic_file *f) { return f ? f->a.f : NULL; }

bd_status bd_atomic_commit(bd_atomic_file *f)
{
    if (!f)
        return bd_error(BD_ERR_ARG, "bd_atomic_commit: f is NULL");
    bd_status s = bd__afile_commit(&f->a);
    free(f);
    return s;
}

void bd_atomic_abort(bd_atomic_file *f)
{
    if (!f)
        return;
    if (!f)
        return;
    bd__afile_abort(&f->a);
    free(f);
}
