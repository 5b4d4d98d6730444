// The C surface regress needs and Swift cannot import by itself: libmount, libblkid, and the Linux
// ioctl requests whose numbers are function-like macros (_IOW/_IOWR) or whose arguments are Linux structs.
// Every shim is a one-line, inline pass-through; policy lives in Swift.
#ifndef REGRESS_CLIBMOUNT_H
#define REGRESS_CLIBMOUNT_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <linux/fiemap.h>
#include <libmount/libmount.h>
#include <blkid/blkid.h>

// MARK: files

// fallocate(2) and syncfs(2) are declared only under _GNU_SOURCE, which must not leak into the module
// (it changes glibc's struct layouts as Swift's Glibc module sees them): they live in shims.c.
int regress_fallocate(int fd, int mode, int64_t offset, int64_t length);
int regress_syncfs(int fd);
int regress_memfd_create(const char *name);
/// One buffer seen through `count` iovecs of the given lengths (xfs_io's -V: a trimmed one, then full ones):
/// pwritev(2) without flags, pwritev2(2) with RWF_* flags, as xfs_io's do_pwritev chooses.
ssize_t regress_pwritev_lengths(int fd, const void *buffer, const size_t *lengths, int count, int64_t offset, int flags);
/// preadv(2) into one buffer seen through `count` iovecs of the given lengths, as xfs_io's do_preadv.
ssize_t regress_preadv_lengths(int fd, void *buffer, const size_t *lengths, int count, int64_t offset);
/// lseek(2) with SEEK_DATA / SEEK_HOLE (declared only under _GNU_SOURCE).
int64_t regress_seek_data(int fd, int64_t offset);
/// sync_file_range(2) (declared only under _GNU_SOURCE); `mode` 0 write, 1 wait before, 2 wait after.
int regress_sync_file_range(int fd, int64_t offset, int64_t length, int mode);
int64_t regress_seek_hole(int fd, int64_t offset);
extern const int regress_o_direct;
/// prctl(PR_SET_PDEATHSIG, SIGKILL): a test's child process must not outlive the regress that started it.
int regress_die_with_parent(void);

/// openat2(2) with RESOLVE_* flags: the only way to confine a path beneath a directory without races.
static inline int regress_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static const uint64_t REGRESS_RESOLVE_BENEATH = RESOLVE_BENEATH;
static const uint64_t REGRESS_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;

// major(), minor() and makedev() are macros.
static inline unsigned regress_major(dev_t d) { return major(d); }
static inline unsigned regress_minor(dev_t d) { return minor(d); }
static inline dev_t regress_makedev(unsigned a, unsigned b) { return makedev(a, b); }

// MARK: clone and dedupe

/// FICLONE: the whole source, as xfs_io's `reflink SRC` (and `reflink SRC 0 0 0`).
static inline int regress_clone(int dst_fd, int src_fd) { return ioctl(dst_fd, FICLONE, src_fd); }
static inline int regress_clone_range(int dst_fd, int src_fd, uint64_t src_offset, uint64_t length, uint64_t dst_offset) {
    struct file_clone_range range = { .src_fd = src_fd, .src_offset = src_offset, .src_length = length, .dest_offset = dst_offset };
    return ioctl(dst_fd, FICLONERANGE, &range);
}

/// One-destination FIDEDUPERANGE. Returns -1/errno for a failed call; otherwise 0 with the per-range
/// status (0 same, FILE_DEDUPE_RANGE_DIFFERS, or -errno) and the bytes deduplicated. In shims.c: its
/// argument nests a struct with a flexible array, which a header would warn about in every importer.
int regress_dedupe_range(int src_fd, uint64_t src_offset, uint64_t length, int dst_fd, uint64_t dst_offset,
                         int32_t *status, uint64_t *bytes_deduped);

static const int32_t REGRESS_DEDUPE_RANGE_SAME = FILE_DEDUPE_RANGE_SAME;
static const int32_t REGRESS_DEDUPE_RANGE_DIFFERS = FILE_DEDUPE_RANGE_DIFFERS;

// MARK: block devices and loop devices

static inline int regress_block_size64(int fd, uint64_t *size) { return ioctl(fd, BLKGETSIZE64, size); }
static inline int regress_block_flush_buffers(int fd) { return ioctl(fd, BLKFLSBUF, 0); }

static inline int regress_loop_get_free(int control_fd) { return ioctl(control_fd, LOOP_CTL_GET_FREE); }

/// LOOP_CONFIGURE attaches and configures in one ioctl (no window in which the device is bound but unconfigured).
static inline int regress_loop_configure(int loop_fd, int backing_fd, uint32_t flags, uint32_t block_size) {
    struct loop_config config;
    memset(&config, 0, sizeof config);
    config.fd = (uint32_t)backing_fd;
    config.block_size = block_size;
    config.info.lo_flags = flags;
    return ioctl(loop_fd, LOOP_CONFIGURE, &config);
}

static inline int regress_loop_clear(int loop_fd) { return ioctl(loop_fd, LOOP_CLR_FD, 0); }

static const uint32_t REGRESS_LO_FLAGS_AUTOCLEAR = LO_FLAGS_AUTOCLEAR;
static const uint32_t REGRESS_LO_FLAGS_DIRECT_IO = LO_FLAGS_DIRECT_IO;

// FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (chattr(1)): the kernel reads and writes an int.
static inline int regress_get_inode_flags(int fd, uint32_t *flags) { int value = 0; int rc = ioctl(fd, FS_IOC_GETFLAGS, &value); *flags = (uint32_t)value; return rc; }
static inline int regress_set_inode_flags(int fd, uint32_t flags) { int value = (int)flags; return ioctl(fd, FS_IOC_SETFLAGS, &value); }

// MARK: mappings, extent maps and extent-size hints (mapping.c)

/// mmap(2) MAP_SHARED of the file (MAP_SHARED_VALIDATE | MAP_SYNC when `synchronous`); NULL and errno on failure.
void *regress_mmap_shared(int fd, uint64_t offset, uint64_t length, int prot_read, int prot_write, int prot_exec,
                          int synchronous);
int regress_munmap(void *address, uint64_t length);
int regress_msync(void *address, uint64_t length, int async, int invalidate, int sync);
/// Stores `byte` over the range one byte at a time (from its end when `backward`), as xfs_io's mwrite does.
/// A store that faults (SIGBUS) ends the loop: -1, with `stored` the bytes written before it.
int regress_store_bytes(void *address, uint64_t length, uint8_t byte, int backward, uint64_t *stored);
/// FS_IOC_FSGETXATTR, then FS_IOC_FSSETXATTR with the (CoW) extent-size hint set to `bytes`, as xfs_io.
int regress_fsxattr_set_hint(int fd, int copy_on_write, uint32_t bytes);
int regress_fsxattr_get_hint(int fd, int copy_on_write, uint32_t *bytes);
/// FS_IOC_FSGETXATTR, then FS_IOC_FSSETXATTR with the FS_XFLAG bits `add` set and `remove` cleared (xfs_io's chattr).
int regress_fsxattr_change_xflags(int fd, uint32_t add, uint32_t remove);

/// One extent of FS_IOC_FIEMAP's answer.
struct regress_extent { uint64_t logical, physical, length; uint32_t flags; };
/// FS_IOC_FIEMAP from `start` to the end of the file, at most `capacity` extents (FIEMAP_FLAG_SYNC if `sync`).
int regress_fiemap(int fd, uint64_t start, int sync, struct regress_extent *extents, uint32_t capacity, uint32_t *mapped);
static const uint32_t REGRESS_FIEMAP_EXTENT_LAST = FIEMAP_EXTENT_LAST;
/// XFS_IOC_FSGEOMETRY_V1's feature flags of the xfs mounted where `fd` lives.
int regress_xfs_geometry_flags(int fd, uint32_t *flags);
/// xfs_io's block units (init_cvtnum): the block and sector size of XFS_IOC_FSGEOMETRY when `fd` is on XFS
/// (fstatfs), 4096 and 512 otherwise. -1 with errno when a call failed.
int regress_xfs_io_units(int fd, uint32_t *block, uint32_t *sector);
/// XFS_IOC_SWAPEXT of the whole target with the donor (equal sizes), as xfs_io's swapext.
int regress_xfs_swapext(int target_fd, int donor_fd);
static const uint32_t REGRESS_XFS_GEOMETRY_REFLINK = 0x100000;  // XFS_FSOP_GEOM_FLAGS_REFLINK

static const int REGRESS_RWF_DSYNC = RWF_DSYNC;
static const int REGRESS_RWF_NOWAIT = RWF_NOWAIT;

static const int REGRESS_FALLOC_KEEP_SIZE = FALLOC_FL_KEEP_SIZE;
static const int REGRESS_FALLOC_PUNCH_HOLE = FALLOC_FL_PUNCH_HOLE;
static const int REGRESS_FALLOC_ZERO_RANGE = FALLOC_FL_ZERO_RANGE;
static const int REGRESS_FALLOC_COLLAPSE_RANGE = FALLOC_FL_COLLAPSE_RANGE;
static const int REGRESS_FALLOC_INSERT_RANGE = FALLOC_FL_INSERT_RANGE;
static const int REGRESS_FALLOC_UNSHARE_RANGE = FALLOC_FL_UNSHARE_RANGE;

#endif
