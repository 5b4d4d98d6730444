// Emulated disk with a volatile write cache, served in-process over FUSE.
//
// edisk_start() mounts a FUSE filesystem at `mountpoint` that contains one
// file, "disk", backed by the regular file `image_path` (the "working image").
// Attach a loop device to that file and put a real filesystem on it.
//
// Model: a completed write is readable at once but only becomes durable when
// a later flush (fsync/fdatasync of the FUSE file, which the loop driver issues
// for REQ_PREFLUSH/FUA) covers it.  close() of the file (FUSE FLUSH) is NOT a
// durability barrier.  After edisk_power_cut() nothing becomes durable any
// more, but I/O keeps succeeding so the filesystem above can unmount cleanly.
// edisk_stop() after a power cut rewrites the image so that it holds exactly
// the durable state.
//
// All functions except edisk_start/edisk_stop are thread-safe and may be
// called while the disk is in use.
#ifndef EMULATED_DISK_H
#define EMULATED_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "disk_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edisk edisk;

struct edisk_stats {
    uint64_t reads;          // read requests served
    uint64_t writes;         // accepted write requests (incl. dropped ones and
                             // zeroing fallocates from discard/write-zeroes)
    uint64_t write_bytes;    // bytes of accepted writes
    uint64_t flushes;        // fsync requests received (incl. ignored ones)
    uint64_t failed_writes;  // writes rejected by edisk_fail_writes
    uint64_t dropped_writes; // writes acknowledged but dropped (disk_model_drop_writes_ranges)
    uint64_t undo_bytes;     // bytes held by the undo log (0 when empty)
};

// image_path: existing regular file (its size is the disk size).
// mountpoint: existing empty directory.
// Returns NULL on failure and writes a one-line reason to err.
edisk *edisk_start(const char *image_path, const char *mountpoint, char *err, size_t errlen);

// Path of the exposed file (mountpoint + "/disk"); valid until edisk_stop.
const char *edisk_file_path(const edisk *d);

// Power cut: nothing written from now on becomes durable. Returns 0.
int edisk_power_cut(edisk *d);

// Fail writes overlapping device byte range [start, start+len) (len 0 = to
// the end of the disk) with errno `err` (e.g. EIO, ENOSPC), but only once
// `after_bytes` more bytes have been written (counted over all accepted
// writes, anywhere on the disk, from this call on). err 0 disables.
// Replaces any previous write-failure setting. Returns 0 or -EINVAL.
int edisk_fail_writes(edisk *d, int err, uint64_t start, uint64_t len, uint64_t after_bytes);

// Lying cache: flushes are acknowledged but make nothing durable. Turning it
// off again makes the next flush durable as usual. Returns 0.
int edisk_set_lying_cache(edisk *d, int on);

// Clears fail/drop/lying settings. Writes already dropped stay lost.
void edisk_clear_faults(edisk *d);

void edisk_get_stats(edisk *d, struct edisk_stats *out);

// The model behind the disk (Sources/CDiskModel), e.g. for its write log
// (disk_model_enable_log before the first write). Valid until edisk_stop.
disk_model *edisk_model(edisk *d);

// Unmounts the FUSE mount, joins the thread, and if a power cut happened,
// applies the undo log to the image (so the image holds only durable data);
// otherwise the image holds all writes. Frees d.
// Returns 0, or -errno if restoring the image failed.
int edisk_stop(edisk *d);

#ifdef __cplusplus
}
#endif

#endif
