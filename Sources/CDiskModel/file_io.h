// Whole-buffer positioned writes for the model's image and its write log (both in this target).
#ifndef DISK_FILE_IO_H
#define DISK_FILE_IO_H

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/// pwrite(2) until all of `buf` is written, retrying EINTR; 0 or -errno.
static inline int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/// pread(2) of up to `want` bytes, retrying EINTR; what lies past the end of the file reads as zeros, up to
/// `len` bytes in all. 0 or -errno.
static inline int pread_zero_filled(int fd, uint8_t *buf, size_t want, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    for (size_t i = got; i < len; i++)
        buf[i] = 0;
    return 0;
}

#endif
