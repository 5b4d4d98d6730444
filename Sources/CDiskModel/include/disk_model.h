// The emulated disk's model, without any transport: a disk with a volatile
// write cache over a regular image file, and a log of every write and flush.
//
// Sources/CEmulatedDisk serves this model over FUSE; the model itself knows
// nothing of FUSE, so it can be tested by plain calls on a temp image file.
//
// Model: a completed write is readable at once but only becomes durable when
// a later flush covers it. After disk_model_power_cut() nothing becomes
// durable any more, but I/O keeps succeeding (so the filesystem above can
// unmount cleanly). disk_model_close() after a power cut rewrites the image so
// that it holds exactly the durable state; without a power cut the image
// holds every write.
//
// All functions except disk_model_open/disk_model_close are thread-safe.
// Reads may run concurrently with each other and with writes.
#ifndef DISK_MODEL_H
#define DISK_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DISK_MODEL_BLOCK 4096u

typedef struct disk_model disk_model;

struct disk_model_stats {
    uint64_t reads;          // read requests served
    uint64_t read_bytes;     // bytes of read requests
    uint64_t writes;         // accepted write requests (incl. dropped ones and zeroing)
    uint64_t write_bytes;    // bytes of accepted writes
    uint64_t flushes;        // flush requests received (incl. ignored ones)
    uint64_t failed_writes;  // writes rejected by disk_model_fail_writes
    uint64_t dropped_writes; // writes acknowledged but dropped (disk_model_drop_writes)
    uint64_t undo_bytes;     // bytes held by the undo log (0 when empty)
    uint64_t undo_reads;     // reads of the image to save durable content (one read covers a write's blocks)
    uint64_t undo_reads_saved; // blocks whose durable content was known to be zero: no read
};

// image_path: existing regular, non-empty file (its size is the disk size).
// Returns NULL on failure and writes a one-line reason to err.
disk_model *disk_model_open(const char *image_path, char *err, size_t errlen);

uint64_t disk_model_size(const disk_model *m);

// Reads [off, off+len) of what the disk currently holds (bytes past the end
// of the disk are not read: len is clipped). Returns bytes read or -errno.
int64_t disk_model_read(disk_model *m, void *buf, uint64_t off, size_t len);

// Writes data (NULL = zeros: discard / write-zeroes) at [off, off+len).
// Returns 0 or -errno (-ENOSPC past the end, the injected errno of
// disk_model_fail_writes, or an I/O error of the image).
int disk_model_write(disk_model *m, const void *data, uint64_t off, uint64_t len);

// A flush: every completed write becomes durable (unless the cache lies or
// the power was cut).
void disk_model_flush(disk_model *m);

// Power cut: nothing written from now on becomes durable.
void disk_model_power_cut(disk_model *m);

// Fail writes overlapping [start, start+len) (len 0 = to the end of the disk)
// with errno `err`, once `after_bytes` more bytes have been written (counted
// over all accepted writes from this call on). err 0 disables. Replaces any
// previous setting. Returns 0 or -EINVAL.
int disk_model_fail_writes(disk_model *m, int err, uint64_t start, uint64_t len, uint64_t after_bytes);

// Lying cache: flushes are acknowledged but make nothing durable.
void disk_model_set_lying_cache(disk_model *m, int on);

// Drop writes overlapping [start, start+len) (len 0 = to the end): they are
// acknowledged and readable, but never become durable. Replaces any previous
// drop range.
void disk_model_drop_writes(disk_model *m, uint64_t start, uint64_t len);

// Drop writes overlapping any of n ranges [starts[i], starts[i]+lens[i]) (a
// length 0 = to the end), as disk_model_drop_writes does for one: a crash
// state's reproducer loses several writes of an epoch at once. Replaces any
// previous drop ranges; n 0 drops nothing. Returns 0 or -ENOMEM.
int disk_model_drop_writes_ranges(disk_model *m, const uint64_t *starts, const uint64_t *lens, size_t n);

// Reordered flushes: while on, a flush is acknowledged but is no barrier: the
// writes before it stay volatile, while the writes after it become durable as
// soon as they are made (they overtook the flush), until an honoured flush
// makes everything durable. A power cut in between leaves later writes on the
// media without earlier ones: the order a flush promises is broken. Logged
// flushes get DISK_LOG_REORDERED.
void disk_model_set_reorder_flushes(disk_model *m, int on);

// Clears fail/drop/lying/reorder settings. Writes already dropped stay lost,
// and writes before a reordered flush stay volatile until the next flush.
void disk_model_clear_faults(disk_model *m);

void disk_model_get_stats(disk_model *m, struct disk_model_stats *out);

// A power cut and a restart in one, without closing: every block changed
// since the last effective flush gets its durable content back (in the image
// and so in what reads return), the undo log is emptied and the power is on
// again. The disk keeps serving: a crash-state search checks one state after
// another on one disk this way. Nothing may be writing to the disk meanwhile
// (the filesystem above is unmounted). Returns 0 or -errno of the image.
int disk_model_roll_back(disk_model *m);

// If a power cut happened, rolls the image back to its durable content.
// Closes the image and frees m. Returns 0 or -errno of the rollback.
int disk_model_close(disk_model *m);

// ------------------------------------------------------------ write log
//
// Records, in order, every accepted write (offset, length, and where its data
// is kept) and every flush, for the whole run, for a crash-state search.
// The data is kept in a memory buffer of a fixed budget and spills into a
// log file beyond it; the records themselves take 32 bytes each in memory.
//
// What the log sees: the loop driver turns a FUA write into a write followed
// by a flush (fsync of its backing file), and discard / write-zeroes into a
// zeroing fallocate, so the log only holds writes (zeroing ones flagged) and
// flushes. A write logged before the first flush belongs to epoch 0; the
// k-th flush ends epoch k-1. Faults do not change what is logged (the log is
// what the filesystem asked for); flags say what the model did with it.

enum {
    DISK_LOG_WRITE = 0,
    DISK_LOG_ZERO = 1,  // a write of zeros (discard / write-zeroes); no data kept
    DISK_LOG_FLUSH = 2,
    DISK_LOG_RESTART = 3, // the power came back: the disk holds its durable image (disk_model_continue_log)
};

enum {
    DISK_LOG_DROPPED = 1,     // a write dropped by disk_model_drop_writes
    DISK_LOG_IGNORED = 2,     // a flush that made nothing durable (lying cache)
    DISK_LOG_AFTER_CUT = 4,   // after the power cut (never durable)
    DISK_LOG_REORDERED = 8,   // a flush that was no barrier (disk_model_set_reorder_flushes)
};

struct disk_log_record {
    uint64_t offset;   // device offset (0 for a flush)
    uint64_t length;   // bytes (0 for a flush)
    uint64_t data_at;  // position of the data in the log's data stream (writes only)
    uint32_t kind;     // DISK_LOG_*
    uint32_t flags;    // DISK_LOG_DROPPED | ...
};

// Starts logging from now on into log_path (created or truncated), keeping at
// most memory_budget bytes of data in memory (0 = a default of 64 MiB).
// Returns 0 or -errno (-EBUSY if already enabled).
int disk_model_enable_log(disk_model *m, const char *log_path, uint64_t memory_budget);

// Number of records so far (0 when the log is not enabled).
uint64_t disk_model_log_count(disk_model *m);

// Copies up to n records starting at `first` into out. Returns how many.
uint64_t disk_model_log_records(disk_model *m, uint64_t first, struct disk_log_record *out, uint64_t n);

// Copies a logged write's data into buf (record.length bytes; zeros for a
// DISK_LOG_ZERO record). Returns 0 or -errno.
int disk_model_log_data(disk_model *m, const struct disk_log_record *record, void *buf);

// Number of flushes logged (epochs are 0 ... flushes).
uint64_t disk_model_log_flushes(disk_model *m);

// Materialises a crash state into a new image file out_path (created,
// must not exist): starting from an all-zero disk (the log is meant to run
// from the first write to a fresh sparse image), applies every logged write
// of epochs < epoch, then those writes of `epoch` whose index within that
// epoch (0 = its first write) is listed in `subset` (ascending), in log order.
// subset_count == UINT64_MAX means every write of `epoch`.
// Returns 0 or -errno (-EINVAL for an epoch past the log, or an unsorted subset).
int disk_model_log_replay(disk_model *m, const char *out_path, uint64_t epoch, const uint64_t *subset,
                          uint64_t subset_count);

// A power cut ends a disk's life, not its log's: the next disk, over the
// durable image the first one left, continues the same log, so that a
// crash-state search sees the epochs after the power cut too. Writes in
// flight at the cut (after the last honoured flush) never reached the media;
// a DISK_LOG_RESTART record says where the new disk's records begin.
struct write_log;

// Detaches m's write log (NULL when it has none): m logs nothing from now on.
struct write_log *disk_model_take_log(disk_model *m);

// Continues a detached log on m, after a DISK_LOG_RESTART record. Returns 0
// or -errno (-EBUSY when m has a log already; the log is then not taken).
int disk_model_continue_log(disk_model *m, struct write_log *log);

// Frees a detached log that no disk continues.
void disk_model_free_log(struct write_log *log);

// snprintf into a caller's one-line error buffer (err may be NULL): the model's and the FUSE glue's reasons.
void disk_format_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
