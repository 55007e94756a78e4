/* fuzz_image.c — fuzz target: the image readers (bd_image_load: PNG by
 * libpng, PGM/PPM by hand) on any bytes, and what loads made into a 28x28
 * network input (bd_image_to_input), which must be finite and in [0, 1]. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "badak.h"

static int fuzz_image(const uint8_t *data, size_t size)
{
    int fd = memfd_create("image", 0);
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
    bd_image img;
    if (bd_image_load(path, &img) == BD_OK) {
        float in[28 * 28];
        if ((long)img.w * img.h <= 1 << 20 && bd_image_to_input(&img, 28, 28, NULL, in) == BD_OK)
            for (int i = 0; i < 28 * 28; i++)
                if (!(in[i] >= 0.0f && in[i] <= 1.0f))
                    abort();
        bd_image_free(&img);
    }
    close(fd);
    return 0;
}

#ifdef BD_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_image(data, size); }
#endif
