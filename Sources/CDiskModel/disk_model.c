// The emulated disk's model: a volatile write cache over an image file.
// See include/disk_model.h for the contract.
//
// Design
// ------
// * Writes go straight into the working image (a regular host file), so reads
//   are plain preads. Before a 4 KiB block is first modified since the last
//   effective flush, its durable content is saved in an in-memory undo log
//   (hash map block index -> entry). An effective flush discards the log.
//   After a power cut flushes no longer do anything; disk_model_close() writes
//   each entry's durable content back, leaving exactly the durable state.
//   An all-zero durable block is stored as a NULL pointer (no 4 KiB copy):
//   fresh sparse images and discards cost almost nothing.
//
// * Saving a block's durable content costs a 4 KiB pread before the write.
//   Blocks that lie in a hole of the image when it is opened, and have not
//   been written since, are known to be zero: a bitmap of them lets the first
//   write skip that read (a fresh sparse image: every block, until written).
//
// * Dropped writes ("lost writes"): pinning the undo entry so that the block's
//   durable content stays the pre-drop content forever would turn one lost
//   write into a permanently stuck block (every later superblock/log write to
//   that block would be lost too, even after disk_model_clear_faults), which is
//   not what a lost write is. Instead a block touched by a dropped write
//   becomes "pinned": besides its durable content D it keeps a pending buffer
//   P plus a byte mask of the bytes written by NON-dropped writes since the
//   last flush. A flush makes exactly those bytes durable (D[mask] = P[mask]).
//   So the dropped write never reaches D, but earlier and later normal writes
//   to the same block do. When D becomes equal to the working block again, the
//   entry is released. When a block with an unpinned entry gets pinned, P is
//   initialised to the current working content with a full mask (bytes
//   written since the last flush are in there; the others are equal to D).
//
// * Reordered flushes: such a flush leaves the undo log as it is (the writes
//   before it stay volatile) and sets `overtaking`: until the next honoured
//   flush, each write is durable at once: a block without an entry gets none,
//   and a block with one has the written bytes copied into its durable content.
//
// * Zeroing writes (data NULL) follow the same undo/fault rules; blocks whose
//   affected bytes are already zero are skipped (no change). The image gets a
//   real PUNCH_HOLE (fallback: write zeros).
//
// * Locking: one mutex serialises writes, flushes, fault settings and the
//   write log (a write's undo capture, image write and log record must be one
//   step, or a flush could slip between them). Reads take no lock: they are
//   preads of the working image, and the block layer gives no ordering between
//   overlapping in-flight requests anyway. Statistics counters of reads are
//   atomics for that reason.

#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64

#include "disk_model.h"
#include "write_log.h"
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK DISK_MODEL_BLOCK
#define MAX_SPAN_READ 256 // blocks read at once for the undo log (1 MiB, the largest FUSE write)

struct blk {
    uint64_t idx;
    uint8_t *durable; // NULL = all zeros
    uint8_t *pend;    // pinned blocks only: pending non-dropped bytes
    uint8_t *pmask;   // pinned blocks only: 1 = byte in pend is pending
};

struct disk_model {
    pthread_mutex_t mu;
    int img_fd;
    uint64_t size;

    // fault / power state
    int cut;
    int lying;
    int fail_err;
    uint64_t fail_start, fail_end, fail_after;
    int drop_on;
    uint64_t *drop_starts, *drop_ends; // drop_count ranges [start, end)
    size_t drop_count;
    int reorder;       // flushes are no barrier (a fault setting)
    int overtaking;    // a reordered flush came since the last honoured one: writes are durable at once

    // undo log: open-addressing table + dense list for iteration
    struct blk **tab;
    size_t tab_cap; // power of two
    struct blk **list;
    size_t n, list_cap;
    uint64_t undo_bytes;

    uint8_t *span; // MAX_SPAN_READ blocks: the old content of a write's blocks, read at once

    // bit set = block known to be zero in the image (a hole at open, unwritten since)
    uint64_t *known_zero;

    write_log *log;
    struct disk_model_stats st;
};

void disk_format_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

// ---------------------------------------------------------------- known-zero bitmap

static int is_known_zero(const struct disk_model *m, uint64_t idx)
{
    return m->known_zero && (m->known_zero[idx / 64] >> (idx % 64)) & 1;
}

static void forget_zero(struct disk_model *m, uint64_t idx)
{
    if (m->known_zero)
        m->known_zero[idx / 64] &= ~(1ull << (idx % 64));
}

// Marks the blocks lying entirely inside holes of the image. Best effort: on
// any error (or a filesystem without SEEK_HOLE) no block is known zero.
static void scan_holes(struct disk_model *m)
{
    uint64_t blocks = (m->size + BLK - 1) / BLK;
    m->known_zero = calloc((size_t)((blocks + 63) / 64), sizeof(uint64_t));
    if (!m->known_zero)
        return;
    off_t pos = 0;
    while ((uint64_t)pos < m->size) {
        off_t hole = lseek(m->img_fd, pos, SEEK_HOLE);
        if (hole < 0)
            break;
        if ((uint64_t)hole >= m->size)
            break;
        off_t data = lseek(m->img_fd, hole, SEEK_DATA);
        uint64_t hole_end = data < 0 ? m->size : (uint64_t)data; // ENXIO: a hole up to the end
        for (uint64_t idx = ((uint64_t)hole + BLK - 1) / BLK; idx < blocks; idx++) {
            uint64_t block_end = idx * BLK + BLK < m->size ? idx * BLK + BLK : m->size;
            if (block_end > hole_end)
                break;
            m->known_zero[idx / 64] |= 1ull << (idx % 64);
        }
        if (data < 0)
            break;
        pos = data;
    }
}

// ---------------------------------------------------------------- undo log

static size_t hslot(uint64_t idx, size_t cap)
{
    return (size_t)((idx * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct blk *ul_find(struct disk_model *m, uint64_t idx)
{
    if (!m->tab)
        return NULL;
    size_t mask = m->tab_cap - 1;
    for (size_t i = hslot(idx, m->tab_cap);; i = (i + 1) & mask) {
        struct blk *b = m->tab[i];
        if (!b)
            return NULL;
        if (b->idx == idx)
            return b;
    }
}

static void tab_put(struct blk **tab, size_t cap, struct blk *b)
{
    size_t mask = cap - 1;
    size_t i = hslot(b->idx, cap);
    while (tab[i])
        i = (i + 1) & mask;
    tab[i] = b;
}

// Rebuild the table for the current list, capacity >= 2*n (min 64).
static int tab_rebuild(struct disk_model *m, size_t want_n)
{
    size_t cap = 64;
    while (cap < 2 * want_n)
        cap <<= 1;
    if (cap != m->tab_cap || !m->tab) {
        struct blk **nt = calloc(cap, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        free(m->tab);
        m->tab = nt;
        m->tab_cap = cap;
    } else {
        memset(m->tab, 0, cap * sizeof(*m->tab));
    }
    for (size_t i = 0; i < m->n; i++)
        tab_put(m->tab, m->tab_cap, m->list[i]);
    return 0;
}

static int ul_insert(struct disk_model *m, struct blk *b)
{
    if (m->n == m->list_cap) {
        size_t nc = m->list_cap ? m->list_cap * 2 : 256;
        struct blk **nl = realloc(m->list, nc * sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        m->list = nl;
        m->list_cap = nc;
    }
    if (!m->tab || 2 * (m->n + 1) > m->tab_cap) {
        size_t cap = m->tab_cap ? m->tab_cap : 64;
        while (2 * (m->n + 1) > cap)
            cap <<= 1;
        struct blk **nt = calloc(cap, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        for (size_t i = 0; i < m->n; i++)
            tab_put(nt, cap, m->list[i]);
        free(m->tab);
        m->tab = nt;
        m->tab_cap = cap;
    }
    tab_put(m->tab, m->tab_cap, b);
    m->list[m->n++] = b;
    return 0;
}

static uint64_t blk_bytes(const struct blk *b)
{
    uint64_t n = 0;
    if (b->durable)
        n += BLK;
    if (b->pend)
        n += 2 * BLK;
    return n;
}

static void blk_free(struct disk_model *m, struct blk *b)
{
    m->undo_bytes -= blk_bytes(b);
    free(b->durable);
    free(b->pend);
    free(b->pmask);
    free(b);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

// Read block idx of the working image into buf (zero-filled past EOF).
static int read_block(struct disk_model *m, uint64_t idx, uint8_t *buf)
{
    uint64_t off = idx * BLK;
    size_t want = BLK;
    if (off + want > m->size)
        want = (size_t)(m->size - off);
    return pread_zero_filled(m->img_fd, buf, want, BLK, off);
}

static int zero_image(struct disk_model *m, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (fallocate(m->img_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    static const uint8_t zeros[64 * 1024];
    while (len) {
        size_t n = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;
        int r = pwrite_all(m->img_fd, zeros, n, off);
        if (r)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

static int pin_block(struct disk_model *m, struct blk *b)
{
    b->pend = malloc(BLK);
    b->pmask = malloc(BLK);
    int r = (!b->pend || !b->pmask) ? -ENOMEM : read_block(m, b->idx, b->pend);
    if (r) {
        free(b->pend);
        free(b->pmask);
        b->pend = b->pmask = NULL;
        return r;
    }
    memset(b->pmask, 1, BLK);
    m->undo_bytes += 2 * BLK;
    return 0;
}

// Reads `count` blocks from block `first` into m->span (zero-filled past the end).
static int read_span(struct disk_model *m, uint64_t first, uint64_t count)
{
    if (!m->span && !(m->span = malloc(MAX_SPAN_READ * BLK)))
        return -ENOMEM;
    uint64_t off = first * BLK, want = count * BLK;
    if (off + want > m->size)
        want = m->size - off;
    int r = pread_zero_filled(m->img_fd, m->span, (size_t)want, (size_t)(count * BLK), off);
    if (r == 0)
        m->st.undo_reads++;
    return r;
}

static int ranges_overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

// Saves block idx's durable content before its first change since the last
// flush, from `old` (its content, read beforehand) or else read here. Sets
// *entry to NULL when a zeroing write would change nothing.
static int save_durable(struct disk_model *m, uint64_t idx, const uint8_t *old, int zeroing, size_t ws, size_t we,
                        struct blk **entry)
{
    uint8_t cur[BLK];
    int zero = is_known_zero(m, idx);
    if (!zero && old) {
        memcpy(cur, old, BLK);
    } else if (!zero) {
        int r = read_block(m, idx, cur);
        if (r)
            return r;
        m->st.undo_reads++;
    } else {
        m->st.undo_reads_saved++;
    }
    *entry = NULL;
    if (zeroing && (zero || all_zero(cur + ws, we - ws)))
        return 0; // zeroing zeros: no change
    struct blk *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->idx = idx;
    if (!zero && !all_zero(cur, BLK)) {
        b->durable = malloc(BLK);
        if (!b->durable) {
            free(b);
            return -ENOMEM;
        }
        memcpy(b->durable, cur, BLK);
        m->undo_bytes += BLK;
    }
    int r = ul_insert(m, b);
    if (r) {
        if (b->durable)
            m->undo_bytes -= BLK;
        free(b->durable);
        free(b);
        return r;
    }
    *entry = b;
    return 0;
}

static int write_locked(struct disk_model *m, const uint8_t *data, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (off > m->size || len > m->size - off)
        return -ENOSPC;
    uint64_t end = off + len;

    if (m->fail_err && ranges_overlap(off, end, m->fail_start, m->fail_end) && m->fail_after == 0) {
        m->st.failed_writes++;
        return -m->fail_err;
    }
    int dropped = 0;
    for (size_t i = 0; m->drop_on && i < m->drop_count && !dropped; i++)
        dropped = ranges_overlap(off, end, m->drop_starts[i], m->drop_ends[i]);
    // After a reordered flush a write overtakes the writes before it: durable at once.
    int overtakes = m->overtaking && !dropped && !m->cut;

    // The blocks whose durable content must be saved, read with one pread
    // rather than one a block (a 16 KiB metadata write: 1 read, not 4).
    uint64_t first_old = UINT64_MAX, last_old = 0;
    for (uint64_t idx = off / BLK; idx <= (end - 1) / BLK; idx++)
        if (!overtakes && !is_known_zero(m, idx) && !ul_find(m, idx)) {
            if (first_old == UINT64_MAX)
                first_old = idx;
            last_old = idx;
        }
    const uint8_t *old = NULL;
    if (first_old != UINT64_MAX && first_old < last_old && last_old - first_old < MAX_SPAN_READ) {
        int r = read_span(m, first_old, last_old - first_old + 1);
        if (r)
            return r;
        old = m->span;
    }

    for (uint64_t idx = off / BLK; idx <= (end - 1) / BLK; idx++) {
        uint64_t bs = idx * BLK;
        size_t ws = (size_t)((off > bs ? off : bs) - bs);
        size_t we = (size_t)((end < bs + BLK ? end : bs + BLK) - bs);
        struct blk *b = ul_find(m, idx);
        if (!b && overtakes) {
            // Its durable content becomes what the image will hold: nothing to save.
            if (data)
                forget_zero(m, idx);
            continue;
        }
        if (!b) {
            const uint8_t *block_old = old && idx >= first_old && idx <= last_old ? old + (idx - first_old) * BLK : NULL;
            int r = save_durable(m, idx, block_old, !data, ws, we, &b);
            if (r)
                return r;
            if (!b)
                continue;
        }
        if (data)
            forget_zero(m, idx);
        if (dropped) {
            if (!b->pend) {
                int r = pin_block(m, b);
                if (r)
                    return r;
            }
        } else if (b->pend) {
            if (data)
                memcpy(b->pend + ws, data + (bs + ws - off), we - ws);
            else
                memset(b->pend + ws, 0, we - ws);
            memset(b->pmask + ws, 1, we - ws);
        }
        if (overtakes) {
            // A block the writes before the reordered flush changed: these bytes are durable, the rest
            // keeps its durable content until the next honoured flush.
            if (!b->durable) {
                if (!(b->durable = calloc(1, BLK)))
                    return -ENOMEM;
                m->undo_bytes += BLK;
            }
            if (data)
                memcpy(b->durable + ws, data + (bs + ws - off), we - ws);
            else
                memset(b->durable + ws, 0, we - ws);
        }
    }

    int r = data ? pwrite_all(m->img_fd, data, (size_t)len, off) : zero_image(m, off, len);
    if (r)
        return r;
    m->st.writes++;
    m->st.write_bytes += len;
    if (dropped)
        m->st.dropped_writes++;
    m->fail_after = m->fail_after > len ? m->fail_after - len : 0;
    if (m->log) {
        uint32_t flags = (dropped ? DISK_LOG_DROPPED : 0) | (m->cut ? DISK_LOG_AFTER_CUT : 0);
        r = write_log_append_write(m->log, data, off, len, flags);
        if (r)
            return r; // the log must be complete: a write it could not record fails
    }
    return 0;
}

int disk_model_write(disk_model *m, const void *data, uint64_t off, uint64_t len)
{
    pthread_mutex_lock(&m->mu);
    int r = write_locked(m, data, off, len);
    pthread_mutex_unlock(&m->mu);
    return r;
}

static void flush_locked(struct disk_model *m)
{
    m->st.flushes++;
    int reordered = m->reorder && !m->lying && !m->cut;
    if (m->log)
        (void)write_log_append_flush(m->log, (m->lying ? DISK_LOG_IGNORED : 0) | (m->cut ? DISK_LOG_AFTER_CUT : 0) |
                                                 (reordered ? DISK_LOG_REORDERED : 0));
    if (reordered)
        m->overtaking = 1;
    if (m->cut || m->lying || reordered)
        return;
    m->overtaking = 0;
    size_t keep = 0;
    uint8_t cur[BLK];
    for (size_t i = 0; i < m->n; i++) {
        struct blk *b = m->list[i];
        if (!b->pend) {
            blk_free(m, b);
            continue;
        }
        if (!all_zero(b->pmask, BLK)) {
            if (!b->durable) {
                b->durable = calloc(1, BLK);
                if (b->durable)
                    m->undo_bytes += BLK;
            }
            if (b->durable) {
                for (size_t k = 0; k < BLK; k++)
                    if (b->pmask[k])
                        b->durable[k] = b->pend[k];
                memset(b->pmask, 0, BLK);
                if (all_zero(b->durable, BLK)) {
                    free(b->durable);
                    b->durable = NULL;
                    m->undo_bytes -= BLK;
                }
            } // on ENOMEM keep the mask; retried at the next flush
        }
        // Release the entry if durable == working again.
        if (read_block(m, b->idx, cur) == 0 &&
            (b->durable ? memcmp(cur, b->durable, BLK) == 0 : all_zero(cur, BLK)) && all_zero(b->pmask, BLK)) {
            blk_free(m, b);
            continue;
        }
        m->list[keep++] = b;
    }
    m->n = keep;
    if (tab_rebuild(m, keep) != 0) {
        // out of memory shrinking the table: keep the old one, just rebuild it
        memset(m->tab, 0, m->tab_cap * sizeof(*m->tab));
        for (size_t i = 0; i < m->n; i++)
            tab_put(m->tab, m->tab_cap, m->list[i]);
    }
}

void disk_model_flush(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    flush_locked(m);
    pthread_mutex_unlock(&m->mu);
}

int64_t disk_model_read(disk_model *m, void *buf, uint64_t off, size_t len)
{
    if (off >= m->size)
        return 0;
    if (len > m->size - off)
        len = (size_t)(m->size - off);
    __atomic_fetch_add(&m->st.reads, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&m->st.read_bytes, len, __ATOMIC_RELAXED);
    size_t got = 0;
    uint8_t *p = buf;
    while (got < len) {
        ssize_t r = pread(m->img_fd, p + got, len - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0) { // the image shrank under us?! read as zeros
            memset(p + got, 0, len - got);
            break;
        }
        got += (size_t)r;
    }
    return (int64_t)len;
}

// ---------------------------------------------------------------- API

disk_model *disk_model_open(const char *image_path, char *err, size_t errlen)
{
    if (!image_path) {
        disk_format_error(err, errlen, "disk_model_open: NULL path");
        return NULL;
    }
    struct disk_model *m = calloc(1, sizeof(*m));
    if (!m) {
        disk_format_error(err, errlen, "disk_model_open: out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->img_fd = open(image_path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (m->img_fd < 0) {
        disk_format_error(err, errlen, "cannot open image %s: %s", image_path, strerror(errno));
    } else if (fstat(m->img_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        disk_format_error(err, errlen, "image %s is not a regular file", image_path);
    } else if (st.st_size == 0) {
        disk_format_error(err, errlen, "image %s is empty", image_path);
    } else {
        m->size = (uint64_t)st.st_size;
        scan_holes(m);
        return m;
    }
    if (m->img_fd >= 0)
        close(m->img_fd);
    pthread_mutex_destroy(&m->mu);
    free(m);
    return NULL;
}

uint64_t disk_model_size(const disk_model *m)
{
    return m->size;
}

void disk_model_power_cut(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    m->cut = 1;
    pthread_mutex_unlock(&m->mu);
}

int disk_model_fail_writes(disk_model *m, int err, uint64_t start, uint64_t len, uint64_t after_bytes)
{
    if (err < 0)
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    m->fail_err = err;
    m->fail_start = start;
    m->fail_end = (len == 0 || len > UINT64_MAX - start) ? UINT64_MAX : start + len;
    m->fail_after = after_bytes;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void disk_model_set_lying_cache(disk_model *m, int on)
{
    pthread_mutex_lock(&m->mu);
    m->lying = on != 0;
    pthread_mutex_unlock(&m->mu);
}

void disk_model_drop_writes(disk_model *m, uint64_t start, uint64_t len)
{
    (void)disk_model_drop_writes_ranges(m, &start, &len, 1);
}

int disk_model_drop_writes_ranges(disk_model *m, const uint64_t *starts, const uint64_t *lens, size_t n)
{
    uint64_t *new_starts = n ? malloc(n * sizeof(uint64_t)) : NULL, *new_ends = n ? malloc(n * sizeof(uint64_t)) : NULL;
    if (n && (!new_starts || !new_ends)) {
        free(new_starts);
        free(new_ends);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        new_starts[i] = starts[i];
        new_ends[i] = (lens[i] == 0 || lens[i] > UINT64_MAX - starts[i]) ? UINT64_MAX : starts[i] + lens[i];
    }
    pthread_mutex_lock(&m->mu);
    free(m->drop_starts);
    free(m->drop_ends);
    m->drop_starts = new_starts;
    m->drop_ends = new_ends;
    m->drop_count = n;
    m->drop_on = n > 0;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

void disk_model_set_reorder_flushes(disk_model *m, int on)
{
    pthread_mutex_lock(&m->mu);
    m->reorder = on != 0;
    pthread_mutex_unlock(&m->mu);
}

void disk_model_clear_faults(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    m->fail_err = 0;
    m->fail_after = 0;
    m->lying = 0;
    m->drop_on = 0;
    m->reorder = 0;
    pthread_mutex_unlock(&m->mu);
}

void disk_model_get_stats(disk_model *m, struct disk_model_stats *out)
{
    pthread_mutex_lock(&m->mu);
    *out = m->st;
    out->reads = __atomic_load_n(&m->st.reads, __ATOMIC_RELAXED);
    out->read_bytes = __atomic_load_n(&m->st.read_bytes, __ATOMIC_RELAXED);
    out->undo_bytes = m->undo_bytes + m->n * sizeof(struct blk); // 0 when the log is empty
    pthread_mutex_unlock(&m->mu);
}

// Writes every undo entry's durable content back into the image.
static int restore_durable_locked(struct disk_model *m)
{
    static const uint8_t zeros[BLK];
    int ret = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct blk *b = m->list[i];
        uint64_t off = b->idx * BLK;
        size_t len = off + BLK > m->size ? (size_t)(m->size - off) : BLK;
        // Zeros are written, not punched: on a host filesystem mounted with `discard` every punch is a
        // synchronous discard of the host's disk (a crash-state search rolls back after every state).
        // The block is known to be zero again: the next write to it needs no read of the old content.
        int r = pwrite_all(m->img_fd, b->durable ? b->durable : zeros, len, off);
        if (r && !ret)
            ret = r;
        if (!r && !b->durable && m->known_zero && len == BLK)
            m->known_zero[b->idx / 64] |= 1ull << (b->idx % 64);
    }
    return ret;
}

int disk_model_roll_back(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    int ret = restore_durable_locked(m);
    if (ret == 0) {
        for (size_t i = 0; i < m->n; i++)
            blk_free(m, m->list[i]);
        m->n = 0;
        if (m->tab)
            memset(m->tab, 0, m->tab_cap * sizeof(*m->tab));
        m->cut = 0;
        m->overtaking = 0; // a restarted disk: no flush is pending to be overtaken
    }
    pthread_mutex_unlock(&m->mu);
    return ret;
}

int disk_model_close(disk_model *m)
{
    if (!m)
        return 0;
    int ret = 0;
    if (m->cut)
        ret = restore_durable_locked(m);
    for (size_t i = 0; i < m->n; i++)
        blk_free(m, m->list[i]);
    free(m->list);
    free(m->tab);
    free(m->known_zero);
    free(m->span);
    free(m->drop_starts);
    free(m->drop_ends);
    write_log_free(m->log);
    close(m->img_fd);
    pthread_mutex_destroy(&m->mu);
    free(m);
    return ret;
}

// ---------------------------------------------------------------- write log

int disk_model_enable_log(disk_model *m, const char *log_path, uint64_t memory_budget)
{
    pthread_mutex_lock(&m->mu);
    int r = 0;
    if (m->log)
        r = -EBUSY;
    else
        m->log = write_log_create(log_path, memory_budget, &r);
    pthread_mutex_unlock(&m->mu);
    return r;
}

uint64_t disk_model_log_count(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->log ? write_log_count(m->log) : 0;
    pthread_mutex_unlock(&m->mu);
    return n;
}

uint64_t disk_model_log_flushes(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->log ? write_log_flushes(m->log) : 0;
    pthread_mutex_unlock(&m->mu);
    return n;
}

uint64_t disk_model_log_records(disk_model *m, uint64_t first, struct disk_log_record *out, uint64_t n)
{
    pthread_mutex_lock(&m->mu);
    uint64_t got = m->log ? write_log_copy_records(m->log, first, out, n) : 0;
    pthread_mutex_unlock(&m->mu);
    return got;
}

int disk_model_log_data(disk_model *m, const struct disk_log_record *record, void *buf)
{
    pthread_mutex_lock(&m->mu);
    int r = m->log ? write_log_read_data(m->log, record, buf) : -ENOENT;
    pthread_mutex_unlock(&m->mu);
    return r;
}

int disk_model_log_replay(disk_model *m, const char *out_path, uint64_t epoch, const uint64_t *subset,
                          uint64_t subset_count)
{
    pthread_mutex_lock(&m->mu);
    int r = m->log ? write_log_replay(m->log, m->size, out_path, epoch, subset, subset_count) : -ENOENT;
    pthread_mutex_unlock(&m->mu);
    return r;
}

struct write_log *disk_model_take_log(disk_model *m)
{
    pthread_mutex_lock(&m->mu);
    write_log *log = m->log;
    m->log = NULL;
    pthread_mutex_unlock(&m->mu);
    return log;
}

int disk_model_continue_log(disk_model *m, struct write_log *log)
{
    pthread_mutex_lock(&m->mu);
    int r = m->log ? -EBUSY : write_log_append_restart(log);
    if (r == 0)
        m->log = log;
    pthread_mutex_unlock(&m->mu);
    return r;
}

void disk_model_free_log(struct write_log *log)
{
    write_log_free(log);
}
