/* dirlock.c — one training run per checkpoint folder. Two runs writing the
 * same --checkpoint folder would each succeed and the last writer would
 * silently win; the run holding DIR/badak.lock (an advisory flock, released
 * by the kernel when the process ends, however it ends) has the folder, and
 * its pid is written in the file so a second run can say who has it. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_FILE "badak.lock"

bd_status bd__dir_lock(const char *dir, int *fd_out)
{
    *fd_out = -1;
    if (!dir || !*dir)
        return bd_error(BD_ERR_ARG, "empty checkpoint folder name");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return bd_error(BD_ERR_IO, "%s: cannot create the checkpoint folder: %s", dir,
                        strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return bd_error(BD_ERR_IO, "%s: not a folder (a checkpoint is a folder)", dir);
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, LOCK_FILE) >= sizeof path)
        return bd_error(BD_ERR_ARG, "checkpoint folder name too long: %.60s...", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0)
        return bd_error(BD_ERR_IO, "%s: cannot open the lock file: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bd_error(BD_ERR_IO, "%s: not a regular file", path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        long pid = n > 0 ? atol(buf) : 0;
        if (e == EWOULDBLOCK) {
            if (pid > 0)
                return bd_error(BD_ERR_IO, "%s: checkpoint folder in use by another training "
                                "run (pid %ld); wait for it or use another checkpoint folder", dir,
                                pid);
            return bd_error(BD_ERR_IO, "%s: checkpoint folder in use by another training run; "
                            "wait for it or use another checkpoint folder", dir);
        }
        return bd_error(BD_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return bd_error(BD_ERR_IO, "%s: cannot write the lock file: %s", path, strerror(e));
    }
    *fd_out = fd;
    return BD_OK;
}

void bd__dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}
