// The write log's storage (internal to CDiskModel): records in memory, data in
// a memory buffer of a fixed budget that spills into a file. Not thread-safe:
// the model calls it under its own lock.
#ifndef WRITE_LOG_H
#define WRITE_LOG_H

#include "disk_model.h"

typedef struct write_log write_log;

// Returns NULL and sets *error (negative errno) on failure.
write_log *write_log_create(const char *path, uint64_t memory_budget, int *error);
void write_log_free(write_log *log);

// data NULL = a write of zeros (nothing kept). Returns 0 or -errno.
int write_log_append_write(write_log *log, const void *data, uint64_t offset, uint64_t length, uint32_t flags);
int write_log_append_flush(write_log *log, uint32_t flags);
int write_log_append_restart(write_log *log);

uint64_t write_log_count(const write_log *log);
uint64_t write_log_flushes(const write_log *log);
uint64_t write_log_copy_records(const write_log *log, uint64_t first, struct disk_log_record *out, uint64_t n);
int write_log_read_data(const write_log *log, const struct disk_log_record *record, void *buf);
int write_log_replay(const write_log *log, uint64_t disk_size, const char *out_path, uint64_t epoch,
                     const uint64_t *subset, uint64_t subset_count);

#endif
