// The write log: every accepted write and every flush, in order, for a
// crash-state search (see disk_model.h for the contract).
//
// Data is one append-only stream: a record's data_at is its position in that
// stream. The newest part of the stream sits in a memory buffer of the
// budget's size; when a write does not fit, the buffer goes to the log file
// (at its stream position) and is reused. So memory stays bounded by the
// budget however long the run, and reading data back is a memcpy for the
// newest part and a pread for the rest.

#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include "write_log.h"
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct write_log {
    int fd;
    uint8_t *buffer;
    uint64_t budget;
    uint64_t buffer_start; // stream position of buffer[0]; everything before it is in the file
    uint64_t buffer_used;
    struct disk_log_record *records;
    uint64_t count, capacity;
    uint64_t flushes;
};

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -EIO; // the log file is shorter than its records say
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

write_log *write_log_create(const char *path, uint64_t memory_budget, int *error)
{
    write_log *log = calloc(1, sizeof(*log));
    if (!log) {
        *error = -ENOMEM;
        return NULL;
    }
    log->budget = memory_budget ? memory_budget : 64ull << 20;
    log->buffer = malloc(log->budget);
    log->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log->fd < 0 || !log->buffer) {
        *error = log->fd < 0 ? -errno : -ENOMEM;
        write_log_free(log);
        return NULL;
    }
    return log;
}

void write_log_free(write_log *log)
{
    if (!log)
        return;
    if (log->fd >= 0)
        close(log->fd);
    free(log->buffer);
    free(log->records);
    free(log);
}

static int append_record(write_log *log, struct disk_log_record record)
{
    if (log->count == log->capacity) {
        uint64_t capacity = log->capacity ? log->capacity * 2 : 4096;
        struct disk_log_record *grown = realloc(log->records, capacity * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        log->records = grown;
        log->capacity = capacity;
    }
    log->records[log->count++] = record;
    return 0;
}

// Appends len bytes to the data stream; returns 0 or -errno.
static int append_data(write_log *log, const uint8_t *data, uint64_t len)
{
    while (len) {
        if (log->buffer_used == log->budget) {
            int r = pwrite_all(log->fd, log->buffer, (size_t)log->buffer_used, log->buffer_start);
            if (r)
                return r;
            log->buffer_start += log->buffer_used;
            log->buffer_used = 0;
        }
        uint64_t room = log->budget - log->buffer_used;
        uint64_t n = len < room ? len : room;
        memcpy(log->buffer + log->buffer_used, data, (size_t)n);
        log->buffer_used += n;
        data += n;
        len -= n;
    }
    return 0;
}

int write_log_append_write(write_log *log, const void *data, uint64_t offset, uint64_t length, uint32_t flags)
{
    struct disk_log_record record = {
        .offset = offset,
        .length = length,
        .data_at = log->buffer_start + log->buffer_used,
        .kind = data ? DISK_LOG_WRITE : DISK_LOG_ZERO,
        .flags = flags,
    };
    if (data) {
        int r = append_data(log, data, length);
        if (r)
            return r;
    }
    return append_record(log, record);
}

int write_log_append_flush(write_log *log, uint32_t flags)
{
    struct disk_log_record record = {.kind = DISK_LOG_FLUSH, .flags = flags};
    int r = append_record(log, record);
    if (r == 0)
        log->flushes++;
    return r;
}

int write_log_append_restart(write_log *log)
{
    struct disk_log_record record = {.kind = DISK_LOG_RESTART};
    return append_record(log, record);
}

uint64_t write_log_count(const write_log *log)
{
    return log->count;
}

uint64_t write_log_flushes(const write_log *log)
{
    return log->flushes;
}

uint64_t write_log_copy_records(const write_log *log, uint64_t first, struct disk_log_record *out, uint64_t n)
{
    if (first >= log->count)
        return 0;
    if (n > log->count - first)
        n = log->count - first;
    memcpy(out, log->records + first, (size_t)n * sizeof(*out));
    return n;
}

int write_log_read_data(const write_log *log, const struct disk_log_record *record, void *buf)
{
    if (record->kind == DISK_LOG_ZERO) {
        memset(buf, 0, (size_t)record->length);
        return 0;
    }
    if (record->kind != DISK_LOG_WRITE)
        return -EINVAL;
    uint64_t at = record->data_at, len = record->length;
    uint8_t *p = buf;
    if (at < log->buffer_start) { // the part that went to the file
        uint64_t in_file = log->buffer_start - at < len ? log->buffer_start - at : len;
        int r = pread_all(log->fd, p, (size_t)in_file, at);
        if (r)
            return r;
        p += in_file;
        at += in_file;
        len -= in_file;
    }
    if (len) {
        if (at + len > log->buffer_start + log->buffer_used)
            return -EINVAL;
        memcpy(p, log->buffer + (at - log->buffer_start), (size_t)len);
    }
    return 0;
}

static int apply(const write_log *log, int fd, const struct disk_log_record *record, uint8_t **scratch,
                 uint64_t *scratch_size)
{
    if (record->kind == DISK_LOG_ZERO) {
        // Into a fresh sparse file: a hole reads as zeros and costs nothing.
        if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)record->offset,
                      (off_t)record->length) == 0)
            return 0;
    }
    if (*scratch_size < record->length) {
        uint8_t *grown = realloc(*scratch, (size_t)record->length);
        if (!grown)
            return -ENOMEM;
        *scratch = grown;
        *scratch_size = record->length;
    }
    int r = write_log_read_data(log, record, *scratch);
    return r ? r : pwrite_all(fd, *scratch, (size_t)record->length, record->offset);
}

int write_log_replay(const write_log *log, uint64_t disk_size, const char *out_path, uint64_t epoch,
                     const uint64_t *subset, uint64_t subset_count)
{
    if (epoch > log->flushes)
        return -EINVAL;
    int every = subset_count == UINT64_MAX;
    for (uint64_t i = 1; !every && i < subset_count; i++)
        if (subset[i] <= subset[i - 1])
            return -EINVAL;
    int fd = open(out_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = ftruncate(fd, (off_t)disk_size) == 0 ? 0 : -errno;
    uint8_t *scratch = NULL;
    uint64_t scratch_size = 0, current = 0, in_epoch = 0, next = 0;
    for (uint64_t i = 0; r == 0 && i < log->count && current <= epoch; i++) {
        const struct disk_log_record *record = &log->records[i];
        if (record->kind == DISK_LOG_FLUSH) {
            current++;
            in_epoch = 0;
            continue;
        }
        if (record->kind == DISK_LOG_RESTART)
            break; // the replay covers the log up to its first power cut
        int wanted = current < epoch || every || (next < subset_count && subset[next] == in_epoch);
        if (current == epoch && !every && wanted)
            next++;
        in_epoch++;
        if (wanted)
            r = apply(log, fd, record, &scratch, &scratch_size);
    }
    if (r == 0 && !every && next < subset_count)
        r = -EINVAL; // an index past the epoch's writes
    free(scratch);
    close(fd);
    if (r)
        unlink(out_path);
    return r;
}
