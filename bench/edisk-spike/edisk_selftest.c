// Self-test / spike for the emulated disk (Sources/CEmulatedDisk) on real
// devices. Must run as root. Creates only temp dirs, loop devices it attaches
// itself (by number) and mounts under its temp dirs; removes all of them on
// every exit path (normal, failure, SIGINT/SIGTERM/SIGALRM watchdog).
//
// Usage: edisk_selftest [unit|ext4|btrfs|xfs|lying|enospc|all]...
// Env:   EDISK_LOOP_DIO=1  attach the loop over the FUSE file with LO_FLAGS_DIRECT_IO
#define _GNU_SOURCE
#include "emulated_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

// ------------------------------------------------------------ resources

enum rkind { R_TMPDIR, R_EDISK, R_LOOP, R_MOUNT };
struct res {
    enum rkind kind;
    int loopnr;
    edisk *disk;
    char path[512];
};
static struct res g_res[64];
static int g_nres;
static int g_failures;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static struct res *push_res(enum rkind k)
{
    if (g_nres >= (int)(sizeof(g_res) / sizeof(g_res[0]))) {
        fprintf(stderr, "too many resources\n");
        exit(2);
    }
    struct res *r = &g_res[g_nres++];
    memset(r, 0, sizeof(*r));
    r->kind = k;
    return r;
}

static int loop_detach_nr(int nr)
{
    char dev[64];
    snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = ioctl(fd, LOOP_CLR_FD, 0);
    int e = errno;
    close(fd);
    if (rc != 0 && e != ENXIO)
        return -e;
    // wait until the kernel really let go of the backing file
    char sys[128];
    snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop/backing_file", nr);
    for (int i = 0; i < 500; i++) {
        if (access(sys, F_OK) != 0)
            return 0;
        usleep(10000);
    }
    return -EBUSY;
}

static int release_res(struct res *r)
{
    int rc = 0;
    switch (r->kind) {
    case R_MOUNT:
        if (umount2(r->path, 0) != 0) {
            rc = -errno;
            fprintf(stderr, "umount %s: %s (trying lazy)\n", r->path, strerror(errno));
            umount2(r->path, MNT_DETACH);
        }
        break;
    case R_LOOP:
        rc = loop_detach_nr(r->loopnr);
        if (rc)
            fprintf(stderr, "detach loop%d: %s\n", r->loopnr, strerror(-rc));
        break;
    case R_EDISK:
        rc = edisk_stop(r->disk);
        if (rc)
            fprintf(stderr, "edisk_stop: %s\n", strerror(-rc));
        break;
    case R_TMPDIR: {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", r->path);
        rc = system(cmd);
        break;
    }
    }
    return rc;
}

// Release resources down to (and including) index `keep`.. i.e. keep [0, keep).
static void unwind_to(int keep)
{
    while (g_nres > keep) {
        g_nres--;
        release_res(&g_res[g_nres]);
    }
}

// Release one specific resource (must be the most recent of its kind use).
static int release_one(struct res *target)
{
    int idx = (int)(target - g_res);
    int rc = release_res(target);
    memmove(&g_res[idx], &g_res[idx + 1], (size_t)(g_nres - idx - 1) * sizeof(g_res[0]));
    g_nres--;
    return rc;
}

// Release the most recent resource of a kind.
static int release_last(enum rkind k)
{
    for (int i = g_nres - 1; i >= 0; i--)
        if (g_res[i].kind == k)
            return release_one(&g_res[i]);
    return -ENOENT;
}

static void cleanup_all(void)
{
    unwind_to(0);
}

static void on_signal(int sig)
{
    static volatile sig_atomic_t in;
    if (in++)
        _exit(3);
    fprintf(stderr, "\nsignal %d: cleaning up\n", sig);
    cleanup_all();
    _exit(3);
}

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            logf_("  FAIL (%s:%d): ", __FILE__, __LINE__);                                                   \
            logf_(__VA_ARGS__);                                                                              \
            logf_("\n");                                                                                     \
            g_failures++;                                                                                    \
            goto out;                                                                                        \
        }                                                                                                    \
    } while (0)

// ------------------------------------------------------------ helpers

static struct res *make_tmpdir(void)
{
    struct res *r = push_res(R_TMPDIR);
    snprintf(r->path, sizeof(r->path), "/tmp/edisk-selftest.XXXXXX");
    if (!mkdtemp(r->path)) {
        perror("mkdtemp");
        g_nres--;
        return NULL;
    }
    return r;
}

static int make_image(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = ftruncate(fd, (off_t)size) ? -errno : 0;
    close(fd);
    return rc;
}

static edisk *start_disk(const char *img, const char *mnt)
{
    char err[256] = "";
    edisk *d = edisk_start(img, mnt, err, sizeof(err));
    if (!d) {
        logf_("  edisk_start failed: %s\n", err);
        return NULL;
    }
    struct res *r = push_res(R_EDISK);
    r->disk = d;
    return d;
}

// Attach a free loop device over `backing`; returns the res or NULL.
static struct res *loop_attach(const char *backing, int dio)
{
    int bfd = open(backing, O_RDWR | O_CLOEXEC);
    if (bfd < 0) {
        logf_("  open %s: %s\n", backing, strerror(errno));
        return NULL;
    }
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        logf_("  open /dev/loop-control: %s\n", strerror(errno));
        close(bfd);
        return NULL;
    }
    struct res *res = NULL;
    for (int attempt = 0; attempt < 20 && !res; attempt++) {
        int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (nr < 0) {
            logf_("  LOOP_CTL_GET_FREE: %s\n", strerror(errno));
            break;
        }
        char dev[64];
        snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
        int lfd = open(dev, O_RDWR | O_CLOEXEC);
        if (lfd < 0) {
            logf_("  open %s: %s\n", dev, strerror(errno));
            break;
        }
        struct loop_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.fd = (unsigned)bfd;
        cfg.block_size = 0;
        cfg.info.lo_flags = dio ? LO_FLAGS_DIRECT_IO : 0;
        if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
            res = push_res(R_LOOP);
            res->loopnr = nr;
            snprintf(res->path, sizeof(res->path), "%s", dev);
            if (dio) {
                struct loop_info64 li;
                if (ioctl(lfd, LOOP_GET_STATUS64, &li) == 0 && !(li.lo_flags & LO_FLAGS_DIRECT_IO))
                    logf_("  note: kernel did not enable direct I/O on %s\n", dev);
            }
        } else if (errno != EBUSY) {
            logf_("  LOOP_CONFIGURE %s: %s\n", dev, strerror(errno));
            close(lfd);
            break;
        }
        close(lfd);
    }
    close(ctl);
    close(bfd);
    return res;
}

static struct res *do_mount(const char *dev, const char *dir, const char *type, const char *opts)
{
    if (mount(dev, dir, type, 0, opts) != 0) {
        logf_("  mount %s on %s (%s): %s\n", dev, dir, type, strerror(errno));
        return NULL;
    }
    struct res *r = push_res(R_MOUNT);
    snprintf(r->path, sizeof(r->path), "%s", dir);
    return r;
}

static void fill_pattern(uint8_t *buf, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
}

static int write_file(const char *path, unsigned seed, size_t size, int do_fsync, int *fsync_errno)
{
    uint8_t *buf = malloc(size);
    fill_pattern(buf, size, seed);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return -errno;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, buf + done, size - done);
        if (w < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return -e;
        }
        done += (size_t)w;
    }
    if (fsync_errno)
        *fsync_errno = 0;
    if (do_fsync && fsync(fd) != 0 && fsync_errno)
        *fsync_errno = errno;
    close(fd);
    free(buf);
    return 0;
}

// 1 = intact, 0 = missing, -1 = present but wrong content/size
static int check_file(const char *path, unsigned seed, size_t size, off_t *got_size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    *got_size = st.st_size;
    if ((size_t)st.st_size != size)
        return -1;
    uint8_t *want = malloc(size), *have = malloc(size);
    fill_pattern(want, size, seed);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t done = 0;
    while (fd >= 0 && done < size) {
        ssize_t r = read(fd, have + done, size - done);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    if (fd >= 0)
        close(fd);
    int ok = done == size && memcmp(want, have, size) == 0;
    free(want);
    free(have);
    return ok ? 1 : -1;
}

static const char *file_state(int c)
{
    return c == 1 ? "intact" : c == 0 ? "missing" : "present-but-wrong";
}

static void kmsg_marker(const char *m)
{
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        char line[256];
        int n = snprintf(line, sizeof(line), "edisk-selftest: %s\n", m);
        if (write(fd, line, (size_t)n) < 0) {
        }
        close(fd);
    }
}

static void show_dmesg_since(const char *m)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "dmesg | awk '/edisk-selftest: %s$/{f=1;next} f' | grep -v 'edisk-selftest' | "
             "grep -iE 'warn|error|fail|bug|call trace|i/o|abort|corrupt|lost|recover|clean mount|fuse' | head -n 15 | "
             "sed 's/^/    dmesg: /'",
             m);
    fflush(stdout);
    if (system(cmd) != 0) {
    }
}

static void print_stats(const char *label, edisk *d)
{
    struct edisk_stats s;
    edisk_get_stats(d, &s);
    logf_("  stats[%s]: reads=%llu writes=%llu write_bytes=%llu flushes=%llu failed=%llu dropped=%llu undo=%llu\n",
          label, (unsigned long long)s.reads, (unsigned long long)s.writes, (unsigned long long)s.write_bytes,
          (unsigned long long)s.flushes, (unsigned long long)s.failed_writes,
          (unsigned long long)s.dropped_writes, (unsigned long long)s.undo_bytes);
}

static uint64_t flushes_of(edisk *d)
{
    struct edisk_stats s;
    edisk_get_stats(d, &s);
    return s.flushes;
}

// ------------------------------------------------------------ unit test

static int pread_full(int fd, void *buf, size_t n, off_t off)
{
    return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

static int region_is(const uint8_t *img, size_t off, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (img[off + i] != v)
            return 0;
    return 1;
}

static void test_unit(void)
{
    logf_("== unit: undo log / faults through the FUSE file (no loop)\n");
    int base = g_nres;
    int fd = -1;
    uint8_t *img = NULL;
    struct res *td = make_tmpdir();
    CHECK(td, "tmpdir");
    char imgp[600], mnt[600];
    snprintf(imgp, sizeof(imgp), "%s/img", td->path);
    snprintf(mnt, sizeof(mnt), "%s/fuse", td->path);
    CHECK(make_image(imgp, 1 << 20) == 0, "image");
    CHECK(mkdir(mnt, 0700) == 0, "mkdir");
    double t0 = now();
    edisk *d = start_disk(imgp, mnt);
    CHECK(d, "start");
    logf_("  edisk_start: %.1f ms\n", (now() - t0) * 1e3);
    fd = open(edisk_file_path(d), O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0, "open %s: %s", edisk_file_path(d), strerror(errno));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (1 << 20), "size");

    uint8_t b[8192];
    memset(b, 'a', sizeof(b));
    CHECK(pwrite(fd, b, 8192, 0) == 8192, "w a");
    CHECK(fsync(fd) == 0, "fsync");
    memset(b, 'b', 4096);
    CHECK(pwrite(fd, b, 4096, 0) == 4096, "w b");
    CHECK(pread_full(fd, b, 4096, 0) == 0 && b[0] == 'b' && b[4095] == 'b', "read back b");

    // dropped write, then a later normal write to the same block
    edisk_drop_writes(d, 65536, 4096);
    memset(b, 'c', 4096);
    CHECK(pwrite(fd, b, 4096, 65536) == 4096, "w c");
    CHECK(fsync(fd) == 0, "fsync");
    edisk_clear_faults(d);
    memset(b, 'd', 10);
    CHECK(pwrite(fd, b, 10, 65536 + 100) == 10, "w d");
    CHECK(fsync(fd) == 0, "fsync");
    CHECK(pread_full(fd, b, 4096, 65536) == 0 && b[0] == 'c' && b[100] == 'd' && b[110] == 'c', "read c/d");

    // lying cache
    memset(b, 'e', 4096);
    CHECK(pwrite(fd, b, 4096, 131072) == 4096, "w e");
    CHECK(fsync(fd) == 0, "fsync");
    edisk_set_lying_cache(d, 1);
    memset(b, 'f', 4096);
    CHECK(pwrite(fd, b, 4096, 131072) == 4096, "w f");
    CHECK(fsync(fd) == 0, "fsync");

    // lying then honest again: the honest flush covers earlier lies
    memset(b, 'h', 4096);
    CHECK(pwrite(fd, b, 4096, 262144) == 4096, "w h");
    CHECK(fsync(fd) == 0, "fsync");
    edisk_set_lying_cache(d, 0);
    CHECK(fsync(fd) == 0, "fsync");
    edisk_set_lying_cache(d, 1);
    memset(b, 'i', 4096);
    CHECK(pwrite(fd, b, 4096, 393216) == 4096, "w i");
    CHECK(fsync(fd) == 0, "fsync");

    // failing writes
    edisk_fail_writes(d, EIO, 200704, 4096, 0);
    errno = 0;
    CHECK(pwrite(fd, b, 4096, 200704) < 0 && errno == EIO, "expected EIO, got %s", strerror(errno));
    CHECK(pwrite(fd, b, 4096, 204800) == 4096, "write outside failing range");
    edisk_fail_writes(d, ENOSPC, 208896, 0, 8192);
    CHECK(pwrite(fd, b, 4096, 208896) == 4096, "write before after_bytes");
    CHECK(pwrite(fd, b, 4096, 0 + 8192) == 4096, "filler");
    errno = 0;
    CHECK(pwrite(fd, b, 4096, 212992) < 0 && errno == ENOSPC, "expected ENOSPC, got %s", strerror(errno));
    edisk_clear_faults(d);

    // discard (punch hole) on the FUSE file, not flushed
    CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0, "punch: %s",
          strerror(errno));
    CHECK(pread_full(fd, b, 4096, 4096) == 0 && b[0] == 0 && b[4095] == 0, "punched reads zero");

    edisk_power_cut(d);
    memset(b, 'g', 4096);
    CHECK(pwrite(fd, b, 4096, 300000) == 4096, "w g");
    CHECK(fsync(fd) == 0, "fsync");
    print_stats("unit", d);
    close(fd);
    fd = -1;
    // stop via the resource stack
    t0 = now();
    CHECK(release_last(R_EDISK) == 0, "edisk_stop");
    logf_("  edisk_stop: %.1f ms\n", (now() - t0) * 1e3);
    {
        struct stat ms;
        struct stat ps;
        CHECK(stat(mnt, &ms) == 0 && stat(td->path, &ps) == 0 && ms.st_dev == ps.st_dev, "fuse mount gone");
    }

    img = malloc(1 << 20);
    int ifd = open(imgp, O_RDONLY | O_CLOEXEC);
    CHECK(ifd >= 0 && pread_full(ifd, img, 1 << 20, 0) == 0, "read image");
    close(ifd);
    CHECK(region_is(img, 0, 4096, 'b'), "block 0 should be 'b' (flushed by a later fsync)");
    CHECK(region_is(img, 4096, 4096, 'a'), "block 1 should be 'a' (punch only acknowledged by a lying flush)");
    CHECK(region_is(img, 65536, 100, 0) && region_is(img, 65536 + 100, 10, 'd') &&
              region_is(img, 65536 + 110, 4096 - 110, 0),
          "dropped block: only the later normal write may be durable");
    CHECK(region_is(img, 131072, 4096, 'f'), "honest flush after lying makes 'f' durable");
    CHECK(region_is(img, 393216, 4096, 0), "write fsynced only under a lying cache is not durable");
    CHECK(region_is(img, 262144, 4096, 'h'), "honest flush after lying makes 'h' durable");
    CHECK(region_is(img, 200704, 4096, 0), "failed write left no trace");
    CHECK(region_is(img, 300000, 4096, 0), "write after power cut not durable");
    logf_("  unit: OK\n");
out:
    if (fd >= 0)
        close(fd);
    free(img);
    unwind_to(base);
}


// ------------------------------------------------------------ model-based fuzz

static uint32_t g_rng;
static uint32_t rnd(void)
{
    g_rng = g_rng * 1664525u + 1013904223u;
    return g_rng >> 8;
}

// Byte-level reference model: W working, D durable, P/M pending bytes of
// non-dropped writes since the last effective flush.
static void test_fuzz_seed(unsigned seed, int ops)
{
    const size_t SZ = 1 << 20;
    int base = g_nres;
    int fd = -1;
    uint8_t *W = calloc(SZ, 1), *D = calloc(SZ, 1), *P = calloc(SZ, 1), *M = calloc(SZ, 1), *img = malloc(SZ);
    uint8_t *buf = malloc(65536), *rb = malloc(65536);
    g_rng = seed;
    struct res *td = make_tmpdir();
    CHECK(td, "tmpdir");
    char imgp[600], mnt[600];
    snprintf(imgp, sizeof(imgp), "%s/img", td->path);
    snprintf(mnt, sizeof(mnt), "%s/fuse", td->path);
    CHECK(make_image(imgp, SZ) == 0 && mkdir(mnt, 0700) == 0, "setup");
    edisk *d = start_disk(imgp, mnt);
    CHECK(d, "start");
    fd = open(edisk_file_path(d), O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0, "open");
    int cut = 0, lying = 0, drop_on = 0;
    uint64_t ds = 0, de = 0;
    int cut_at = seed % 3 == 0 ? -1 : seed % 3 == 1 ? (int)(rnd() % (unsigned)ops) : ops - 1;
    for (int op = 0; op < ops; op++) {
        if (op == cut_at) {
            edisk_power_cut(d);
            cut = 1;
        }
        unsigned r = rnd() % 100;
        if (r < 50 || (r >= 90 && r < 95)) { // write or punch
            int zero = r >= 90;
            size_t off = rnd() % SZ;
            size_t len = 1 + rnd() % (rnd() % 4 ? 9000 : 65536);
            if (off + len > SZ)
                len = SZ - off;
            if (zero) {
                memset(buf, 0, len);
                CHECK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0,
                      "punch: %s", strerror(errno));
            } else {
                for (size_t i = 0; i < len; i++)
                    buf[i] = (uint8_t)(1 + rnd() % 255);
                CHECK(pwrite(fd, buf, len, (off_t)off) == (ssize_t)len, "pwrite: %s", strerror(errno));
            }
            int dropped = drop_on && off < de && ds < off + len;
            memcpy(W + off, buf, len);
            if (!dropped) {
                memcpy(P + off, buf, len);
                memset(M + off, 1, len);
            }
        } else if (r < 70) { // flush
            CHECK(fsync(fd) == 0, "fsync");
            if (!cut && !lying) {
                for (size_t i = 0; i < SZ; i++)
                    if (M[i])
                        D[i] = P[i];
                memset(M, 0, SZ);
            }
        } else if (r < 78) { // read check
            size_t off = rnd() % SZ, len = 1 + rnd() % 65536;
            if (off + len > SZ)
                len = SZ - off;
            CHECK(pread(fd, rb, len, (off_t)off) == (ssize_t)len && memcmp(rb, W + off, len) == 0,
                  "read mismatch at %zu+%zu (op %d)", off, len, op);
        } else if (r < 84) { // drop range on/off
            if (drop_on && rnd() % 2) {
                edisk_clear_faults(d);
                drop_on = 0;
                lying = 0;
            } else {
                ds = rnd() % SZ;
                de = ds + 1 + rnd() % 20000;
                edisk_drop_writes(d, ds, de - ds);
                drop_on = 1;
            }
        } else if (r < 88) { // lying on/off
            lying = !lying;
            edisk_set_lying_cache(d, lying);
        } else { // a failing write must change nothing
            size_t off = rnd() % (SZ - 4096);
            edisk_fail_writes(d, EIO, off, 4096, 0);
            errno = 0;
            CHECK(pwrite(fd, buf, 100, (off_t)off) < 0 && errno == EIO, "fail write");
            edisk_fail_writes(d, 0, 0, 0, 0);
        }
    }
    struct edisk_stats st;
    edisk_get_stats(d, &st);
    close(fd);
    fd = -1;
    CHECK(release_last(R_EDISK) == 0, "stop");
    int ifd = open(imgp, O_RDONLY | O_CLOEXEC);
    CHECK(ifd >= 0 && pread_full(ifd, img, SZ, 0) == 0, "read image");
    close(ifd);
    const uint8_t *want = cut ? D : W;
    size_t bad = SZ;
    for (size_t i = 0; i < SZ; i++)
        if (img[i] != want[i]) {
            bad = i;
            break;
        }
    CHECK(bad == SZ, "seed %u: image differs from model at byte %zu (cut=%d): got %u want %u", seed, bad, cut,
          img[bad], want[bad]);
    logf_("  seed %u ok (cut=%d, writes=%llu dropped=%llu flushes=%llu undo=%llu)\n", seed, cut,
          (unsigned long long)st.writes, (unsigned long long)st.dropped_writes, (unsigned long long)st.flushes,
          (unsigned long long)st.undo_bytes);
out:
    if (fd >= 0)
        close(fd);
    free(W);
    free(D);
    free(P);
    free(M);
    free(img);
    free(buf);
    free(rb);
    unwind_to(base);
}

static void test_fuzz(void)
{
    logf_("== fuzz: random ops vs byte-level model\n");
    for (unsigned s = 1; s <= 12; s++)
        test_fuzz_seed(s, 3000);
}

// ------------------------------------------------------------ fs tests

enum mode { M_NORMAL, M_LYING, M_ENOSPC, M_DROP, M_STOP_ATTACHED, M_PERF };

static void test_fs(const char *fstype, uint64_t size, enum mode mode)
{
    const char *mname = mode == M_NORMAL    ? "power-cut"
                        : mode == M_LYING   ? "lying-cache"
                        : mode == M_ENOSPC  ? "enospc"
                        : mode == M_DROP    ? "drop-all-writes"
                        : mode == M_PERF    ? "perf"
                                            : "stop-with-loop-attached";
    logf_("== %s %s (image %llu MiB)\n", fstype, mname, (unsigned long long)(size >> 20));
    int base = g_nres;
    char marker[128];
    snprintf(marker, sizeof(marker), "%s-%s-%d-%ld", fstype, mname, getpid(), (long)time(NULL));
    kmsg_marker(marker);
    int dio = getenv("EDISK_LOOP_DIO") && atoi(getenv("EDISK_LOOP_DIO"));

    struct res *td = make_tmpdir();
    CHECK(td, "tmpdir");
    char imgp[600], fmnt[600], mnt[600], fa[700], fb[700], cmd[800];
    snprintf(imgp, sizeof(imgp), "%s/img", td->path);
    snprintf(fmnt, sizeof(fmnt), "%s/fuse", td->path);
    snprintf(mnt, sizeof(mnt), "%s/mnt", td->path);
    snprintf(fa, sizeof(fa), "%s/synced", mnt);
    snprintf(fb, sizeof(fb), "%s/unsynced", mnt);
    CHECK(make_image(imgp, size) == 0, "image");
    CHECK(mkdir(fmnt, 0700) == 0 && mkdir(mnt, 0700) == 0, "mkdir");

    double t = now();
    edisk *d = start_disk(imgp, fmnt);
    CHECK(d, "start");
    struct res *lp = loop_attach(edisk_file_path(d), dio);
    CHECK(lp, "loop attach over FUSE file");
    logf_("  start+attach %s%s: %.1f ms\n", lp->path, dio ? " (LO_FLAGS_DIRECT_IO)" : "", (now() - t) * 1e3);

    t = now();
    if (!strcmp(fstype, "ext4"))
        snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s >/dev/null 2>&1", lp->path);
    else if (!strcmp(fstype, "btrfs"))
        snprintf(cmd, sizeof(cmd), "mkfs.btrfs -q -f %s >/dev/null 2>&1", lp->path);
    else
        snprintf(cmd, sizeof(cmd), "mkfs.xfs -q -f %s >/dev/null 2>&1", lp->path);
    CHECK(system(cmd) == 0, "%s failed", cmd);
    logf_("  mkfs: %.0f ms, flushes=%llu\n", (now() - t) * 1e3, (unsigned long long)flushes_of(d));
    print_stats("after mkfs", d);

    t = now();
    struct res *mr = do_mount(lp->path, mnt, fstype, NULL);
    CHECK(mr, "mount");
    logf_("  mount: %.0f ms\n", (now() - t) * 1e3);

    const size_t fsz = 4 << 20;
    if (mode == M_STOP_ATTACHED) {
        int wr = write_file(fa, 1, fsz, 1, NULL);
        CHECK(wr == 0, "write");
        edisk_power_cut(d);
        // Stop the disk while the fs is mounted and the loop attached: must not hang.
        t = now();
        int sr = release_last(R_EDISK); // edisk_stop
        logf_("  edisk_stop with fs mounted + loop attached: rc=%d, %.0f ms\n", sr, (now() - t) * 1e3);
        int fd = open(fb, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        int fe = 0;
        if (fd >= 0) {
            char buf[4096];
            memset(buf, 'x', sizeof(buf));
            if (write(fd, buf, sizeof(buf)) < 0 || fsync(fd) < 0)
                fe = errno;
            close(fd);
        } else
            fe = errno;
        logf_("  fs I/O after disk stop: %s\n", fe ? strerror(fe) : "succeeded (?)");
        t = now();
        int ur = release_last(R_MOUNT);
        logf_("  umount: %s (%.0f ms)\n", ur ? strerror(-ur) : "ok", (now() - t) * 1e3);
        t = now();
        int lr = release_last(R_LOOP);
        logf_("  loop detach: %s (%.0f ms)\n", lr ? strerror(-lr) : "ok", (now() - t) * 1e3);
        goto out;
    }
    if (mode == M_PERF) {
        // 64 MiB written in 1 MiB chunks, fsync after each chunk, then one big buffered write
        const size_t chunk = 1 << 20;
        uint8_t *buf = malloc(chunk);
        fill_pattern(buf, chunk, 7);
        int fd = open(fa, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0, "open");
        uint64_t f0p = flushes_of(d);
        t = now();
        for (int i = 0; i < 64; i++) {
            if (write(fd, buf, chunk) != (ssize_t)chunk || fsync(fd) != 0) {
                logf_("  write/fsync failed: %s\n", strerror(errno));
                break;
            }
        }
        double dt = now() - t;
        close(fd);
        logf_("  64 x (1 MiB write + fsync): %.0f ms = %.1f MiB/s, flushes=%llu\n", dt * 1e3, 64 / dt,
              (unsigned long long)(flushes_of(d) - f0p));
        fd = open(fb, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0, "open");
        f0p = flushes_of(d);
        t = now();
        for (int i = 0; i < 128; i++)
            if (write(fd, buf, chunk) != (ssize_t)chunk)
                break;
        fsync(fd);
        dt = now() - t;
        close(fd);
        free(buf);
        logf_("  128 MiB buffered write + 1 fsync: %.0f ms = %.1f MiB/s, flushes=%llu\n", dt * 1e3, 128 / dt,
              (unsigned long long)(flushes_of(d) - f0p));
        print_stats("perf", d);
        goto out;
    }
    if (mode == M_LYING)
        edisk_set_lying_cache(d, 1);
    if (mode == M_DROP)
        edisk_drop_writes(d, 0, 0);
    uint64_t f0 = flushes_of(d);
    t = now();
    if (mode == M_ENOSPC) {
        int fe = 0;
        int wr = write_file(fa, 1, fsz, 0, NULL);
        CHECK(wr == 0, "write: %s", strerror(-wr));
        edisk_fail_writes(d, ENOSPC, 0, 0, 0);
        int fd = open(fa, O_RDWR | O_CLOEXEC);
        CHECK(fd >= 0, "open");
        errno = 0;
        int rc = fsync(fd);
        fe = errno;
        close(fd);
        logf_("  fsync with every device write failing ENOSPC: rc=%d errno=%s (%.0f ms)\n", rc,
              rc ? strerror(fe) : "0", (now() - t) * 1e3);
        print_stats("enospc", d);
        CHECK(rc != 0, "fsync succeeded although all writes fail");
        if (fe != ENOSPC)
            logf_("  NOTE: fs reported %s, not ENOSPC\n", strerror(fe));
        // a second fsync: is the error reported once or sticky?
        fd = open(fa, O_RDWR | O_CLOEXEC);
        errno = 0;
        rc = fd >= 0 ? fsync(fd) : -1;
        logf_("  second fsync: rc=%d errno=%s\n", rc, rc ? strerror(errno) : "0");
        if (fd >= 0)
            close(fd);
        edisk_clear_faults(d);
        t = now();
        int ur = release_last(R_MOUNT);
        logf_("  umount after errors: %s (%.0f ms)\n", ur ? strerror(-ur) : "ok", (now() - t) * 1e3);
        goto out; // loop detach + edisk_stop via unwind
    }

    int fe = 0;
    int wr = write_file(fa, 1, fsz, 1, &fe);
    CHECK(wr == 0 && fe == 0, "write+fsync A: %s / %s", strerror(-wr), strerror(fe));
    // make the new directory entry durable too
    int dfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    double tw = now() - t;
    uint64_t f1 = flushes_of(d);
    logf_("  write 4 MiB + fsync: %.0f ms, flushes during it: %llu\n", tw * 1e3, (unsigned long long)(f1 - f0));
    wr = write_file(fb, 2, fsz, 0, NULL);
    CHECK(wr == 0, "write B");
    print_stats("before cut", d);
    edisk_power_cut(d);

    t = now();
    CHECK(release_last(R_MOUNT) == 0, "umount after cut");
    logf_("  umount after cut: %.0f ms, flushes since cut: %llu\n", (now() - t) * 1e3,
          (unsigned long long)(flushes_of(d) - f1));
    print_stats("after umount", d);
    CHECK(release_last(R_LOOP) == 0, "detach loop");
    t = now();
    CHECK(release_last(R_EDISK) == 0, "edisk_stop");
    logf_("  edisk_stop (undo applied): %.0f ms\n", (now() - t) * 1e3);

    // verify on a plain loop over the image
    struct res *lp2 = loop_attach(imgp, 0);
    CHECK(lp2, "plain loop");
    t = now();
    struct res *mr2 = do_mount(lp2->path, mnt, fstype, NULL);
    CHECK(mr2, "mount durable image (recovery)");
    logf_("  remount of durable image: %.0f ms\n", (now() - t) * 1e3);
    off_t ga = -1, gb = -1;
    int ca = check_file(fa, 1, fsz, &ga);
    int cb = check_file(fb, 2, fsz, &gb);
    logf_("  fsynced file: %s (size %lld); unsynced file: %s (size %lld)\n", file_state(ca), (long long)ga,
          file_state(cb), (long long)gb);
    if (mode == M_NORMAL)
        CHECK(ca == 1, "fsynced data lost on an honest disk");
    else
        logf_("  %s: fsynced data %s\n", mname, ca == 1 ? "SURVIVED (unexpected)" : "lost (expected)");
out:
    unwind_to(base);
    show_dmesg_since(marker);
}

int main(int argc, char **argv)
{
    if (geteuid() != 0) {
        fprintf(stderr, "must run as root\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    alarm(900); // watchdog

    const char *all[] = {"unit", "fuzz", "ext4", "btrfs", "xfs", "lying", "enospc", "drop", "stopattached", "perf"};
    const char **tests = (const char **)argv + 1;
    int nt = argc - 1;
    if (nt == 0 || (nt == 1 && !strcmp(argv[1], "all"))) {
        tests = all;
        nt = (int)(sizeof(all) / sizeof(all[0]));
    }
    double t0 = now();
    for (int i = 0; i < nt; i++) {
        const char *t = tests[i];
        if (!strcmp(t, "unit"))
            test_unit();
        else if (!strcmp(t, "fuzz"))
            test_fuzz();
        else if (!strcmp(t, "ext4"))
            test_fs("ext4", 256ull << 20, M_NORMAL);
        else if (!strcmp(t, "btrfs"))
            test_fs("btrfs", 256ull << 20, M_NORMAL);
        else if (!strcmp(t, "xfs"))
            test_fs("xfs", 512ull << 20, M_NORMAL); // mkfs.xfs needs >= 300 MiB
        else if (!strcmp(t, "lying")) {
            test_fs("ext4", 256ull << 20, M_LYING);
            test_fs("btrfs", 256ull << 20, M_LYING);
            test_fs("xfs", 512ull << 20, M_LYING);
        } else if (!strcmp(t, "enospc")) {
            test_fs("ext4", 256ull << 20, M_ENOSPC);
            test_fs("btrfs", 256ull << 20, M_ENOSPC);
            test_fs("xfs", 512ull << 20, M_ENOSPC);
        } else if (!strcmp(t, "drop")) {
            test_fs("ext4", 256ull << 20, M_DROP);
            test_fs("btrfs", 256ull << 20, M_DROP);
            test_fs("xfs", 512ull << 20, M_DROP);
        } else if (!strcmp(t, "stopattached")) {
            test_fs("ext4", 256ull << 20, M_STOP_ATTACHED);
        } else if (!strcmp(t, "perf")) {
            test_fs("ext4", 512ull << 20, M_PERF);
            test_fs("btrfs", 512ull << 20, M_PERF);
            test_fs("xfs", 512ull << 20, M_PERF);
        } else {
            fprintf(stderr, "unknown test %s\n", t);
            g_failures++;
        }
    }
    cleanup_all();
    logf_("== done in %.1f s, %d failure(s)\n", now() - t0, g_failures);
    return g_failures ? 1 : 0;
}
