/* fuzz_csv.c — fuzz target: the CSV reader (bd_csv_load) on any bytes, and
 * the class count of what loads (bd_dataset_classes). The bytes go into a
 * memfd opened by /proc/self/fd/N, as in fuzz_idx.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "badak.h"

static int fuzz_memfd_path(const uint8_t *data, size_t size, char *path, size_t len)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

static int fuzz_csv(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd_path(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    bd_dataset ds;
    for (int col = -1; col <= 0; col++) /* the last column, then the first */
        if (bd_csv_load(path, col, &ds) == BD_OK) {
            if (ds.n < 1 || ds.w < 1 || ds.nclasses < 1)
                abort(); /* loaded means usable */
            int d;
            (void)bd_dataset_classes(&ds, 0, &d);
            bd_dataset_free(&ds);
        }
    close(fd);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_csv(data, size); }
#endif
