// Emulated disk with a volatile write cache, served in-process over FUSE
// (libfuse3 low-level API). See include/emulated_disk.h for the contract.
//
// Design
// ------
// * Writes go straight into the working image (a regular host file), so reads
//   are plain preads. Before a 4 KiB block is first modified since the last
//   effective flush, its durable content is saved in an in-memory undo log
//   (hash map block index -> entry). An effective flush discards the log.
//   After a power cut flushes no longer do anything; edisk_stop() writes each
//   entry's durable content back, leaving exactly the durable state.
//   An all-zero durable block is stored as a NULL pointer (no 4 KiB copy):
//   fresh sparse images and discards cost almost nothing.
//
// * Dropped writes ("lost writes"): the brief suggested pinning the undo
//   entry so that the block's durable content stays the pre-drop content
//   forever. That turns one lost write into a permanently stuck block (every
//   later superblock/log write to that block would be lost too, even after
//   edisk_clear_faults), which is not what a lost write is. Instead a block
//   touched by a dropped write becomes "pinned": besides its durable content
//   D it keeps a pending buffer P plus a byte mask of the bytes written by
//   NON-dropped writes since the last flush. A flush makes exactly those bytes
//   durable (D[mask] = P[mask]). So the dropped write never reaches D, but
//   earlier and later normal writes to the same block do. When D becomes equal
//   to the working block again, the entry is released.
//   When a block with an unpinned entry gets pinned, P is initialised to the
//   current working content with a full mask (bytes written since the last
//   flush are in there; the others are equal to D anyway).
//
// * Zeroing fallocates (loop turns discard/write-zeroes into PUNCH_HOLE /
//   ZERO_RANGE) are writes of zeros with the same undo/fault rules; blocks
//   whose affected bytes are already zero are skipped (no change). The image
//   gets a real PUNCH_HOLE (fallback: write zeros).
//
// * One FUSE thread running our own poll() loop over the /dev/fuse fd plus an
//   eventfd, so edisk_stop() can always wake and join it (no reliance on the
//   unmount making a blocking read() return, which does not happen while the
//   loop device still holds the file open). After the join, closing the
//   /dev/fuse fd aborts the connection (any straggling loop I/O gets an error
//   instead of hanging) and the mount is removed. Writes serialize on the
//   kernel inode lock for direct_io FUSE writes and on our mutex anyway, so
//   more threads would buy nothing. The thread sets PR_SET_IO_FLUSHER (it is
//   in the block I/O path of the loop device: avoids reclaim recursion).
//   All state is still guarded by one mutex (API calls come from other threads).
//
// * The file is opened with direct_io so every loop read/write reaches us;
//   fsync/fdatasync of the file is the flush. FUSE FLUSH (close) is not a
//   durability point.

#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#define FUSE_USE_VERSION 31

#include <fuse3/fuse_lowlevel.h>

#include "emulated_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif
#ifndef FALLOC_FL_WRITE_ZEROES
#define FALLOC_FL_WRITE_ZEROES 0x80
#endif
#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

#define BLK 4096u
#define INO_DISK 2

struct blk {
    uint64_t idx;
    uint8_t *durable; // NULL = all zeros
    uint8_t *pend;    // pinned blocks only: pending non-dropped bytes
    uint8_t *pmask;   // pinned blocks only: 1 = byte in pend is pending
};

struct edisk {
    pthread_mutex_t mu;
    int img_fd;
    uint64_t size;
    char *mnt;
    char *file_path;
    struct fuse_session *se;
    int mounted;
    pthread_t thr;
    int thr_started;
    int wake_fd;
    uid_t uid;
    gid_t gid;
    struct timespec t0;

    // fault / power state
    int cut;
    int lying;
    int fail_err;
    uint64_t fail_start, fail_end, fail_after;
    int drop_on;
    uint64_t drop_start, drop_end;

    // undo log: open-addressing table + dense list for iteration
    struct blk **tab;
    size_t tab_cap; // power of two
    struct blk **list;
    size_t n, list_cap;
    uint64_t undo_bytes;

    struct edisk_stats st;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

// ---------------------------------------------------------------- undo log

static size_t hslot(uint64_t idx, size_t cap)
{
    return (size_t)((idx * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct blk *ul_find(struct edisk *d, uint64_t idx)
{
    if (!d->tab)
        return NULL;
    size_t m = d->tab_cap - 1;
    for (size_t i = hslot(idx, d->tab_cap);; i = (i + 1) & m) {
        struct blk *b = d->tab[i];
        if (!b)
            return NULL;
        if (b->idx == idx)
            return b;
    }
}

static void tab_put(struct blk **tab, size_t cap, struct blk *b)
{
    size_t m = cap - 1;
    size_t i = hslot(b->idx, cap);
    while (tab[i])
        i = (i + 1) & m;
    tab[i] = b;
}

// Rebuild the table for the current list, capacity >= 2*n (min 64).
static int tab_rebuild(struct edisk *d, size_t want_n)
{
    size_t cap = 64;
    while (cap < 2 * want_n)
        cap <<= 1;
    if (cap != d->tab_cap || !d->tab) {
        struct blk **nt = calloc(cap, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        free(d->tab);
        d->tab = nt;
        d->tab_cap = cap;
    } else {
        memset(d->tab, 0, cap * sizeof(*d->tab));
    }
    for (size_t i = 0; i < d->n; i++)
        tab_put(d->tab, d->tab_cap, d->list[i]);
    return 0;
}

static int ul_insert(struct edisk *d, struct blk *b)
{
    if (d->n == d->list_cap) {
        size_t nc = d->list_cap ? d->list_cap * 2 : 256;
        struct blk **nl = realloc(d->list, nc * sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        d->list = nl;
        d->list_cap = nc;
    }
    if (!d->tab || 2 * (d->n + 1) > d->tab_cap) {
        // grow (rebuild from list, then add b)
        size_t cap = d->tab_cap ? d->tab_cap : 64;
        while (2 * (d->n + 1) > cap)
            cap <<= 1;
        struct blk **nt = calloc(cap, sizeof(*nt));
        if (!nt)
            return -ENOMEM;
        for (size_t i = 0; i < d->n; i++)
            tab_put(nt, cap, d->list[i]);
        free(d->tab);
        d->tab = nt;
        d->tab_cap = cap;
    }
    tab_put(d->tab, d->tab_cap, b);
    d->list[d->n++] = b;
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

static void blk_free(struct edisk *d, struct blk *b)
{
    d->undo_bytes -= blk_bytes(b);
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
static int read_block(struct edisk *d, uint64_t idx, uint8_t *buf)
{
    uint64_t off = idx * BLK;
    size_t want = BLK;
    if (off + want > d->size)
        want = (size_t)(d->size - off);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(d->img_fd, buf + got, want - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got < BLK)
        memset(buf + got, 0, BLK - got);
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
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

static int zero_image(struct edisk *d, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (fallocate(d->img_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    static const uint8_t zeros[64 * 1024];
    while (len) {
        size_t n = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;
        int r = pwrite_all(d->img_fd, zeros, n, off);
        if (r)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

static int pin_block(struct edisk *d, struct blk *b)
{
    b->pend = malloc(BLK);
    b->pmask = malloc(BLK);
    if (!b->pend || !b->pmask) {
        free(b->pend);
        free(b->pmask);
        b->pend = b->pmask = NULL;
        return -ENOMEM;
    }
    int r = read_block(d, b->idx, b->pend);
    if (r) {
        free(b->pend);
        free(b->pmask);
        b->pend = b->pmask = NULL;
        return r;
    }
    memset(b->pmask, 1, BLK);
    d->undo_bytes += 2 * BLK;
    return 0;
}

static int ranges_overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    return a0 < b1 && b0 < a1;
}

// Core write path. data == NULL means "write zeros" (fallocate).
// Called with d->mu held.
static int do_write_locked(struct edisk *d, const uint8_t *data, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (off > d->size || len > d->size - off)
        return -ENOSPC;
    uint64_t end = off + len;

    if (d->fail_err && ranges_overlap(off, end, d->fail_start, d->fail_end) && d->fail_after == 0) {
        d->st.failed_writes++;
        return -d->fail_err;
    }
    int dropped = d->drop_on && ranges_overlap(off, end, d->drop_start, d->drop_end);

    uint8_t cur[BLK];
    for (uint64_t idx = off / BLK; idx <= (end - 1) / BLK; idx++) {
        uint64_t bs = idx * BLK;
        size_t ws = (size_t)((off > bs ? off : bs) - bs);
        size_t we = (size_t)((end < bs + BLK ? end : bs + BLK) - bs);
        struct blk *b = ul_find(d, idx);
        if (!b) {
            int r = read_block(d, idx, cur);
            if (r)
                return r;
            if (!data && all_zero(cur + ws, we - ws))
                continue; // zeroing zeros: no change
            b = calloc(1, sizeof(*b));
            if (!b)
                return -ENOMEM;
            b->idx = idx;
            if (!all_zero(cur, BLK)) {
                b->durable = malloc(BLK);
                if (!b->durable) {
                    free(b);
                    return -ENOMEM;
                }
                memcpy(b->durable, cur, BLK);
                d->undo_bytes += BLK;
            }
            if ((r = ul_insert(d, b))) {
                if (b->durable)
                    d->undo_bytes -= BLK;
                free(b->durable);
                free(b);
                return r;
            }
        }
        if (dropped) {
            if (!b->pend) {
                int r = pin_block(d, b);
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
    }

    int r = data ? pwrite_all(d->img_fd, data, (size_t)len, off) : zero_image(d, off, len);
    if (r)
        return r;
    d->st.writes++;
    d->st.write_bytes += len;
    if (dropped)
        d->st.dropped_writes++;
    d->fail_after = d->fail_after > len ? d->fail_after - len : 0;
    return 0;
}

static void do_flush_locked(struct edisk *d)
{
    d->st.flushes++;
    if (d->cut || d->lying)
        return;
    size_t keep = 0;
    uint8_t cur[BLK];
    for (size_t i = 0; i < d->n; i++) {
        struct blk *b = d->list[i];
        if (!b->pend) {
            blk_free(d, b);
            continue;
        }
        int anyz = 0;
        for (size_t k = 0; k < BLK; k++)
            if (b->pmask[k]) {
                anyz = 1;
                break;
            }
        if (anyz) {
            if (!b->durable) {
                b->durable = calloc(1, BLK);
                if (b->durable)
                    d->undo_bytes += BLK;
            }
            if (b->durable) {
                for (size_t k = 0; k < BLK; k++)
                    if (b->pmask[k])
                        b->durable[k] = b->pend[k];
                memset(b->pmask, 0, BLK);
                if (all_zero(b->durable, BLK)) {
                    free(b->durable);
                    b->durable = NULL;
                    d->undo_bytes -= BLK;
                }
            } // on ENOMEM keep the mask; retried at the next flush
        }
        // Release the entry if durable == working again.
        if (read_block(d, b->idx, cur) == 0 &&
            (b->durable ? memcmp(cur, b->durable, BLK) == 0 : all_zero(cur, BLK)) &&
            all_zero(b->pmask, BLK)) {
            blk_free(d, b);
            continue;
        }
        d->list[keep++] = b;
    }
    d->n = keep;
    if (tab_rebuild(d, keep) != 0) {
        // out of memory shrinking the table: keep the old one, just rebuild it
        memset(d->tab, 0, d->tab_cap * sizeof(*d->tab));
        for (size_t i = 0; i < d->n; i++)
            tab_put(d->tab, d->tab_cap, d->list[i]);
    }
}

// ---------------------------------------------------------------- FUSE ops

static void fill_attr(struct edisk *d, fuse_ino_t ino, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_uid = d->uid;
    st->st_gid = d->gid;
    st->st_atim = st->st_mtim = st->st_ctim = d->t0;
    if (ino == FUSE_ROOT_ID) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        st->st_size = 0;
        st->st_blksize = BLK;
    } else {
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        st->st_size = (off_t)d->size;
        st->st_blocks = (blkcnt_t)((d->size + 511) / 512);
        st->st_blksize = BLK;
    }
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct edisk *d = fuse_req_userdata(req);
    if (parent != FUSE_ROOT_ID || strcmp(name, "disk") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param e;
    memset(&e, 0, sizeof(e));
    e.ino = INO_DISK;
    e.generation = 1;
    e.attr_timeout = 1.0;
    e.entry_timeout = 1.0;
    fill_attr(d, INO_DISK, &e.attr);
    fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != FUSE_ROOT_ID && ino != INO_DISK) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st;
    fill_attr(d, ino, &st);
    fuse_reply_attr(req, &st, 1.0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != INO_DISK) {
        fuse_reply_err(req, EPERM);
        return;
    }
    if ((to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != d->size) {
        fuse_reply_err(req, EPERM); // the disk has a fixed size
        return;
    }
    struct stat st;
    fill_attr(d, ino, &st);
    fuse_reply_attr(req, &st, 1.0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != INO_DISK) {
        fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
        return;
    }
    fi->direct_io = 1;
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != INO_DISK) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    if (off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if ((uint64_t)off >= d->size) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > d->size - (uint64_t)off)
        size = (size_t)(d->size - (uint64_t)off);
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t got = 0;
    int err = 0;
    pthread_mutex_lock(&d->mu);
    d->st.reads++;
    while (got < size) {
        ssize_t r = pread(d->img_fd, buf + got, size - got, off + (off_t)got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        if (r == 0) {
            memset(buf + got, 0, size - got); // image shrank?! read as zeros
            got = size;
            break;
        }
        got += (size_t)r;
    }
    pthread_mutex_unlock(&d->mu);
    if (err)
        fuse_reply_err(req, err);
    else
        fuse_reply_buf(req, buf, got);
    free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != INO_DISK || off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    pthread_mutex_lock(&d->mu);
    int r = do_write_locked(d, (const uint8_t *)buf, (uint64_t)off, size);
    pthread_mutex_unlock(&d->mu);
    if (r)
        fuse_reply_err(req, -r);
    else
        fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0); // close(): not a durability point
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino;
    (void)datasync;
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    pthread_mutex_lock(&d->mu);
    do_flush_locked(d);
    pthread_mutex_unlock(&d->mu);
    fuse_reply_err(req, 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != INO_DISK || off < 0 || len <= 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    int zeroing = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_WRITE_ZEROES);
    if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_WRITE_ZEROES)) {
        fuse_reply_err(req, EOPNOTSUPP);
        return;
    }
    uint64_t o = (uint64_t)off, l = (uint64_t)len;
    if (o >= d->size || l > d->size - o) {
        if (!(mode & FALLOC_FL_KEEP_SIZE)) {
            fuse_reply_err(req, ENOSPC); // fixed-size disk
            return;
        }
        if (o >= d->size) {
            fuse_reply_err(req, 0);
            return;
        }
        l = d->size - o;
    }
    int r = 0;
    if (zeroing) {
        pthread_mutex_lock(&d->mu);
        r = do_write_locked(d, NULL, o, l);
        pthread_mutex_unlock(&d->mu);
    }
    fuse_reply_err(req, r ? -r : 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct edisk *d = fuse_req_userdata(req);
    struct statvfs sv;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = BLK;
    sv.f_frsize = BLK;
    sv.f_blocks = (d->size + BLK - 1) / BLK;
    sv.f_files = 2;
    sv.f_namemax = 255;
    fuse_reply_statfs(req, &sv);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != FUSE_ROOT_ID) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    struct edisk *d = fuse_req_userdata(req);
    if (ino != FUSE_ROOT_ID) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    static const char *names[] = {".", "..", "disk"};
    static const fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, INO_DISK};
    char buf[512];
    size_t pos = 0;
    for (off_t i = off; i < 3; i++) {
        struct stat st;
        fill_attr(d, inos[i], &st);
        size_t need = fuse_add_direntry(req, NULL, 0, names[i], NULL, 0);
        if (pos + need > size || pos + need > sizeof(buf))
            break;
        fuse_add_direntry(req, buf + pos, sizeof(buf) - pos, names[i], &st, i + 1);
        pos += need;
    }
    fuse_reply_buf(req, buf, pos);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino;
    (void)datasync;
    (void)fi;
    fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops edisk_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .fallocate = op_fallocate,
};

// ---------------------------------------------------------------- loop thread

static void *loop_main(void *arg)
{
    struct edisk *d = arg;
    // We are in the block I/O path of the loop device: don't recurse into
    // I/O during memory reclaim. Needs CAP_SYS_RESOURCE; best effort.
    (void)prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);

    struct fuse_buf fbuf;
    memset(&fbuf, 0, sizeof(fbuf));
    int fd = fuse_session_fd(d->se);
    struct pollfd p[2];
    p[0].fd = fd;
    p[0].events = POLLIN;
    p[1].fd = d->wake_fd;
    p[1].events = POLLIN;
    while (!fuse_session_exited(d->se)) {
        p[0].revents = p[1].revents = 0;
        int n = poll(p, 2, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break; // edisk_stop
        if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
            break; // connection aborted / unmounted
        if (!(p[0].revents & POLLIN))
            continue;
        int res = fuse_session_receive_buf(d->se, &fbuf);
        if (res == -EINTR || res == -EAGAIN)
            continue;
        if (res <= 0)
            break;
        fuse_session_process_buf(d->se, &fbuf);
    }
    free(fbuf.mem);
    return NULL;
}

// ---------------------------------------------------------------- API

static void free_disk(struct edisk *d)
{
    for (size_t i = 0; i < d->n; i++)
        blk_free(d, d->list[i]);
    free(d->list);
    free(d->tab);
    free(d->mnt);
    free(d->file_path);
    if (d->img_fd >= 0)
        close(d->img_fd);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

// Stop the thread, abort the connection, remove the mount, destroy session.
static void teardown_fuse(struct edisk *d)
{
    if (d->thr_started) {
        uint64_t one = 1;
        ssize_t w;
        do
            w = write(d->wake_fd, &one, sizeof(one));
        while (w < 0 && errno == EINTR);
        pthread_join(d->thr, NULL);
        d->thr_started = 0;
    }
    if (d->se) {
        fuse_session_exit(d->se);
        if (d->mounted) {
            // Closes the /dev/fuse fd first (aborts the connection: nothing
            // can block on us any more), then umount2(MNT_DETACH).
            fuse_session_unmount(d->se);
            d->mounted = 0;
            // Make sure it is really gone (no-op/EINVAL if already).
            (void)umount2(d->mnt, MNT_DETACH);
        }
        fuse_session_destroy(d->se);
        d->se = NULL;
    }
}

edisk *edisk_start(const char *image_path, const char *mountpoint, char *err, size_t errlen)
{
    if (!image_path || !mountpoint) {
        set_err(err, errlen, "edisk_start: NULL path");
        return NULL;
    }
    struct edisk *d = calloc(1, sizeof(*d));
    if (!d) {
        set_err(err, errlen, "edisk_start: out of memory");
        return NULL;
    }
    d->img_fd = -1;
    d->wake_fd = -1;
    pthread_mutex_init(&d->mu, NULL);
    d->uid = getuid();
    d->gid = getgid();
    clock_gettime(CLOCK_REALTIME, &d->t0);

    d->img_fd = open(image_path, O_RDWR | O_CLOEXEC);
    if (d->img_fd < 0) {
        set_err(err, errlen, "cannot open image %s: %s", image_path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(d->img_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "image %s is not a regular file", image_path);
        goto fail;
    }
    d->size = (uint64_t)st.st_size;
    if (d->size == 0) {
        set_err(err, errlen, "image %s is empty", image_path);
        goto fail;
    }
    d->mnt = strdup(mountpoint);
    size_t pl = strlen(mountpoint) + 6;
    d->file_path = malloc(pl);
    if (!d->mnt || !d->file_path) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(d->file_path, pl, "%s/disk", mountpoint);
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->wake_fd < 0) {
        set_err(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }

    char *argv[] = {"edisk", "-o", "fsname=edisk,subtype=edisk,default_permissions", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, argv);
    d->se = fuse_session_new(&args, &edisk_ops, sizeof(edisk_ops), d);
    fuse_opt_free_args(&args);
    if (!d->se) {
        set_err(err, errlen, "fuse_session_new failed");
        goto fail;
    }
    if (fuse_session_mount(d->se, mountpoint) != 0) {
        set_err(err, errlen, "fuse_session_mount on %s failed (is /dev/fuse available? are we root?)",
                mountpoint);
        goto fail;
    }
    d->mounted = 1;
    int fd = fuse_session_fd(d->se);
    // Children (mkfs, mount, ...) must not inherit the connection, or killing
    // us would not abort it.
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
        fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);

    // Signals are for the host program's threads, not ours.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r = pthread_create(&d->thr, NULL, loop_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        set_err(err, errlen, "pthread_create: %s", strerror(r));
        goto fail;
    }
    d->thr_started = 1;

    // Round trip (INIT + LOOKUP) to prove the mount is served.
    struct stat fst;
    if (stat(d->file_path, &fst) != 0) {
        set_err(err, errlen, "stat %s failed: %s", d->file_path, strerror(errno));
        goto fail;
    }
    if ((uint64_t)fst.st_size != d->size) {
        set_err(err, errlen, "%s has size %lld, expected %llu", d->file_path, (long long)fst.st_size,
                (unsigned long long)d->size);
        goto fail;
    }
    return d;

fail:
    teardown_fuse(d);
    free_disk(d);
    return NULL;
}

const char *edisk_file_path(const edisk *d)
{
    return d->file_path;
}

int edisk_power_cut(edisk *d)
{
    pthread_mutex_lock(&d->mu);
    d->cut = 1;
    pthread_mutex_unlock(&d->mu);
    return 0;
}

int edisk_fail_writes(edisk *d, int err, uint64_t start, uint64_t len, uint64_t after_bytes)
{
    if (err < 0)
        return -EINVAL;
    pthread_mutex_lock(&d->mu);
    d->fail_err = err;
    d->fail_start = start;
    d->fail_end = (len == 0 || len > UINT64_MAX - start) ? UINT64_MAX : start + len;
    d->fail_after = after_bytes;
    pthread_mutex_unlock(&d->mu);
    return 0;
}

int edisk_set_lying_cache(edisk *d, int on)
{
    pthread_mutex_lock(&d->mu);
    d->lying = on != 0;
    pthread_mutex_unlock(&d->mu);
    return 0;
}

int edisk_drop_writes(edisk *d, uint64_t start, uint64_t len)
{
    pthread_mutex_lock(&d->mu);
    d->drop_on = 1;
    d->drop_start = start;
    d->drop_end = (len == 0 || len > UINT64_MAX - start) ? UINT64_MAX : start + len;
    pthread_mutex_unlock(&d->mu);
    return 0;
}

void edisk_clear_faults(edisk *d)
{
    pthread_mutex_lock(&d->mu);
    d->fail_err = 0;
    d->fail_after = 0;
    d->lying = 0;
    d->drop_on = 0;
    pthread_mutex_unlock(&d->mu);
}

void edisk_get_stats(edisk *d, struct edisk_stats *out)
{
    pthread_mutex_lock(&d->mu);
    *out = d->st;
    out->undo_bytes = d->undo_bytes + d->n * sizeof(struct blk); // 0 when the log is empty
    pthread_mutex_unlock(&d->mu);
}

int edisk_stop(edisk *d)
{
    if (!d)
        return 0;
    teardown_fuse(d);
    int ret = 0;
    if (d->cut) {
        static const uint8_t zeros[BLK];
        for (size_t i = 0; i < d->n; i++) {
            struct blk *b = d->list[i];
            uint64_t off = b->idx * BLK;
            size_t len = off + BLK > d->size ? (size_t)(d->size - off) : BLK;
            int r = pwrite_all(d->img_fd, b->durable ? b->durable : zeros, len, off);
            if (r && !ret)
                ret = r;
        }
    }
    free_disk(d);
    return ret;
}
