/* fuzz_idx.c — fuzz target: bd_idx_read (IDX files, plain or gzip) on any
 * bytes. bd_idx_read takes a path, so the bytes go into a memfd opened by
 * /proc/self/fd/N. Built for libFuzzer by `make fuzz`; tests/test_fuzz.c
 * replays the corpus through the same function in the normal suite. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "badak.h"

static int fuzz_idx(const uint8_t *data, size_t size)
{
    int fd = memfd_create("idx", 0);
    if (fd < 0)
        return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    bd_idx idx;
    if (bd_idx_read(path, &idx) == BD_OK)
        bd_idx_free(&idx);
    close(fd);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_idx(data, size); }
#endif
