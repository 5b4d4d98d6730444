#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "CLibMount.h"

int regress_fallocate(int fd, int mode, int64_t offset, int64_t length) { return fallocate(fd, mode, offset, length); }
int regress_syncfs(int fd) { return syncfs(fd); }
#include <sys/mman.h>
int regress_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
const int regress_o_direct = O_DIRECT;
#include <sys/prctl.h>
#include <signal.h>
int regress_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }
#include <sys/uio.h>
#include <string.h>

static int fill_iovecs(struct iovec *iov, const void *buffer, const size_t *lengths, int count) {
    if (count < 1 || count > 1024) { errno = EINVAL; return -1; }
    for (int i = 0; i < count; i++) { iov[i].iov_base = (void *)buffer; iov[i].iov_len = lengths[i]; }
    return 0;
}

ssize_t regress_pwritev_lengths(int fd, const void *buffer, const size_t *lengths, int count, int64_t offset, int flags) {
    struct iovec iov[1024];
    if (fill_iovecs(iov, buffer, lengths, count) < 0) return -1;
    return flags ? pwritev2(fd, iov, count, offset, flags) : pwritev(fd, iov, count, offset);
}

ssize_t regress_preadv_lengths(int fd, void *buffer, const size_t *lengths, int count, int64_t offset) {
    struct iovec iov[1024];
    if (fill_iovecs(iov, buffer, lengths, count) < 0) return -1;
    return preadv(fd, iov, count, offset);
}

int64_t regress_seek_data(int fd, int64_t offset) { return lseek(fd, offset, SEEK_DATA); }
int64_t regress_seek_hole(int fd, int64_t offset) { return lseek(fd, offset, SEEK_HOLE); }

int regress_dedupe_range(int src_fd, uint64_t src_offset, uint64_t length, int dst_fd, uint64_t dst_offset,
                         int32_t *status, uint64_t *bytes_deduped) {
    // The range header and its one info entry, laid out as the kernel reads them (a flexible array member).
    _Alignas(8) unsigned char arg[sizeof(struct file_dedupe_range) + sizeof(struct file_dedupe_range_info)];
    memset(arg, 0, sizeof arg);
    struct file_dedupe_range *range = (struct file_dedupe_range *)arg;
    range->src_offset = src_offset;
    range->src_length = length;
    range->dest_count = 1;
    range->info[0].dest_fd = dst_fd;
    range->info[0].dest_offset = dst_offset;
    int rc = ioctl(src_fd, FIDEDUPERANGE, range);
    if (rc == 0) { *status = range->info[0].status; *bytes_deduped = range->info[0].bytes_deduped; }
    return rc;
}

int regress_sync_file_range(int fd, int64_t offset, int64_t length, int mode) {
    unsigned int flags = mode == 1 ? SYNC_FILE_RANGE_WAIT_BEFORE : mode == 2 ? SYNC_FILE_RANGE_WAIT_AFTER : SYNC_FILE_RANGE_WRITE;
    return sync_file_range(fd, offset, length, flags);
}
