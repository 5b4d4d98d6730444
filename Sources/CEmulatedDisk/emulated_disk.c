// Emulated disk with a volatile write cache, served in-process over FUSE
// (libfuse3 low-level API). See include/emulated_disk.h for the contract.
//
// The model (undo log, flushes, faults, power cut, write log) is in
// Sources/CDiskModel; this file only turns FUSE requests into its calls.
//
// * EDISK_WORKERS FUSE threads, each running our own loop over the /dev/fuse
//   fd plus an eventfd, so edisk_stop() can always wake and join them (no
//   reliance on the unmount making a blocking read() return, which does not
//   happen while the loop device still holds the file open). Each worker
//   first tries to take a request (the fd is non-blocking) and only waits when
//   there is none: requests queued back to back cost no wait. The wait is an
//   epoll of the worker's own with EPOLLEXCLUSIVE on the /dev/fuse fd, so one
//   request wakes one worker, not all of them; the eventfd wakes them all.
//   After the join, closing the /dev/fuse fd aborts the connection (any
//   straggling loop I/O gets an error instead of hanging) and the mount is
//   removed. Each worker sets PR_SET_IO_FLUSHER (it is in the block I/O path
//   of the loop device: avoids reclaim recursion).
//
// * Why one worker (measured on tests.d/nocow-reflink, ~54000 writes and
//   ~8200 flushes, bench/edisk-cost): what a FUSE disk costs is mostly the
//   sleep and wake-up of a round trip, and dearly so in a VM without KVM.
//   Over a loop device with direct I/O (TestDevice attaches it so) requests
//   are asynchronous and queue up, and one worker taking them back to back
//   slept ~15000 times; over a buffered loop device, ~52000 times. Three
//   workers slept ~22500 times and doubled the time spent in the model
//   (waiting for its lock: writes and flushes are serialised there anyway).
//   The model is thread-safe (reads take no lock), so EDISK_WORKERS can grow
//   if a workload with parallel reads ever wants it.
//
// * The file is opened with direct_io so every loop read/write reaches us;
//   fsync/fdatasync of the file is the flush. FUSE FLUSH (close) is not a
//   durability point.

#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#define FUSE_USE_VERSION 31

#include <fuse3/fuse_lowlevel.h>

#include "emulated_disk.h"
#include "disk_model.h"
#include "request_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

#define BLK DISK_MODEL_BLOCK
#define INO_DISK 2
#define EDISK_WORKERS 1 // see "Why one worker" above

struct edisk {
    disk_model *model;
    uint64_t size;
    char *image_path;
    struct request_profile profile;
    char *mnt;
    char *file_path;
    struct fuse_session *se;
    int mounted;
    pthread_t workers[EDISK_WORKERS];
    int started_workers;
    int stopping; // set by edisk_stop before it wakes the workers
    int wake_fd;
    uid_t uid;
    gid_t gid;
    struct timespec t0;
};

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
    uint64_t started = profile_now();
    int64_t got = disk_model_read(d->model, buf, (uint64_t)off, size);
    profile_add(&d->profile, PROFILE_READ, size, started);
    if (got < 0)
        fuse_reply_err(req, (int)-got);
    else
        fuse_reply_buf(req, buf, (size_t)got);
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
    uint64_t started = profile_now();
    int r = disk_model_write(d->model, buf, (uint64_t)off, size);
    profile_add(&d->profile, PROFILE_WRITE, size, started);
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
    uint64_t started = profile_now();
    disk_model_flush(d->model);
    profile_add(&d->profile, PROFILE_FLUSH, 0, started);
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
        uint64_t started = profile_now();
        r = disk_model_write(d->model, NULL, o, l);
        profile_add(&d->profile, PROFILE_ZERO, l, started);
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
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event request = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = fd};
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = d->wake_fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &request) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, d->wake_fd, &wake) != 0)
        goto out;
    while (!fuse_session_exited(d->se) && !__atomic_load_n(&d->stopping, __ATOMIC_ACQUIRE)) {
        int res = fuse_session_receive_buf(d->se, &fbuf);
        if (res > 0) {
            fuse_session_process_buf(d->se, &fbuf);
            continue;
        }
        if (res != -EAGAIN && res != -EINTR)
            break; // connection aborted / unmounted
        __atomic_fetch_add(&d->profile.waits, 1, __ATOMIC_RELAXED);
        struct epoll_event events[2];
        int n = epoll_wait(ep, events, 2, -1);
        if (n < 0 && errno != EINTR)
            break;
        int stop = 0;
        for (int i = 0; i < n; i++)
            if (events[i].data.fd == d->wake_fd || (events[i].events & (EPOLLERR | EPOLLHUP)))
                stop = 1;
        if (stop)
            break; // edisk_stop, or the connection is gone
    }
out:
    if (ep >= 0)
        close(ep);
    free(fbuf.mem);
    return NULL;
}

// ---------------------------------------------------------------- API

static void free_disk(struct edisk *d)
{
    if (d->model)
        disk_model_close(d->model);
    free(d->mnt);
    free(d->image_path);
    free(d->file_path);
    if (d->wake_fd >= 0)
        close(d->wake_fd);
    free(d);
}

// Stop the thread, abort the connection, remove the mount, destroy session.
static void teardown_fuse(struct edisk *d)
{
    if (d->started_workers) {
        __atomic_store_n(&d->stopping, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        ssize_t w;
        do
            w = write(d->wake_fd, &one, sizeof(one));
        while (w < 0 && errno == EINTR);
        for (int i = 0; i < d->started_workers; i++)
            pthread_join(d->workers[i], NULL);
        d->started_workers = 0;
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
        disk_format_error(err, errlen, "edisk_start: NULL path");
        return NULL;
    }
    struct edisk *d = calloc(1, sizeof(*d));
    if (!d) {
        disk_format_error(err, errlen, "edisk_start: out of memory");
        return NULL;
    }
    d->wake_fd = -1;
    d->uid = getuid();
    d->gid = getgid();
    clock_gettime(CLOCK_REALTIME, &d->t0);

    d->model = disk_model_open(image_path, err, errlen);
    if (!d->model)
        goto fail;
    d->size = disk_model_size(d->model);
    d->image_path = strdup(image_path);
    d->mnt = strdup(mountpoint);
    size_t pl = strlen(mountpoint) + 6;
    d->file_path = malloc(pl);
    if (!d->mnt || !d->file_path) {
        disk_format_error(err, errlen, "out of memory");
        goto fail;
    }
    snprintf(d->file_path, pl, "%s/disk", mountpoint);
    d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->wake_fd < 0) {
        disk_format_error(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }

    char *argv[] = {"edisk", "-o", "fsname=edisk,subtype=edisk,default_permissions", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, argv);
    d->se = fuse_session_new(&args, &edisk_ops, sizeof(edisk_ops), d);
    fuse_opt_free_args(&args);
    if (!d->se) {
        disk_format_error(err, errlen, "fuse_session_new failed");
        goto fail;
    }
    if (fuse_session_mount(d->se, mountpoint) != 0) {
        disk_format_error(err, errlen, "fuse_session_mount on %s failed (is /dev/fuse available? are we root?)",
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
    int r = 0;
    for (int i = 0; i < EDISK_WORKERS && r == 0; i++)
        if ((r = pthread_create(&d->workers[i], NULL, loop_main, d)) == 0)
            d->started_workers++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        disk_format_error(err, errlen, "pthread_create: %s", strerror(r));
        goto fail;
    }

    // Round trip (INIT + LOOKUP) to prove the mount is served.
    struct stat fst;
    if (stat(d->file_path, &fst) != 0) {
        disk_format_error(err, errlen, "stat %s failed: %s", d->file_path, strerror(errno));
        goto fail;
    }
    if ((uint64_t)fst.st_size != d->size) {
        disk_format_error(err, errlen, "%s has size %lld, expected %llu", d->file_path, (long long)fst.st_size,
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
    disk_model_power_cut(d->model);
    return 0;
}

int edisk_fail_writes(edisk *d, int err, uint64_t start, uint64_t len, uint64_t after_bytes)
{
    return disk_model_fail_writes(d->model, err, start, len, after_bytes);
}

int edisk_set_lying_cache(edisk *d, int on)
{
    disk_model_set_lying_cache(d->model, on);
    return 0;
}

void edisk_clear_faults(edisk *d)
{
    disk_model_clear_faults(d->model);
}

void edisk_get_stats(edisk *d, struct edisk_stats *out)
{
    struct disk_model_stats s;
    disk_model_get_stats(d->model, &s);
    memset(out, 0, sizeof(*out));
    out->reads = s.reads;
    out->writes = s.writes;
    out->write_bytes = s.write_bytes;
    out->flushes = s.flushes;
    out->failed_writes = s.failed_writes;
    out->dropped_writes = s.dropped_writes;
    out->undo_bytes = s.undo_bytes;
}

disk_model *edisk_model(edisk *d)
{
    return d->model;
}

int edisk_stop(edisk *d)
{
    if (!d)
        return 0;
    teardown_fuse(d);
    struct disk_model_stats stats;
    disk_model_get_stats(d->model, &stats);
    profile_write_out(&d->profile, d->image_path ? d->image_path : "?", stats.undo_reads, stats.undo_reads_saved);
    // After a power cut, this is where the image is rolled back to its durable content.
    int ret = disk_model_close(d->model);
    d->model = NULL;
    free_disk(d);
    return ret;
}
