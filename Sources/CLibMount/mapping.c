// Memory-mapped stores and the file-attribute and extent-map ioctls of xfs_io's mmap/mwrite, extsize,
// cowextsize and fiemap commands. Here and not in the header: they need _GNU_SOURCE (MAP_SYNC) or catch a
// signal, which Swift cannot do.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <string.h>
#include "CLibMount.h"

void *regress_mmap_shared(int fd, uint64_t offset, uint64_t length, int prot_read, int prot_write, int prot_exec,
                          int synchronous) {
    int prot = (prot_read ? PROT_READ : 0) | (prot_write ? PROT_WRITE : 0) | (prot_exec ? PROT_EXEC : 0);
    int flags = synchronous ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED;
    void *address = mmap(NULL, length, prot, flags, fd, (off_t)offset);
    return address == MAP_FAILED ? NULL : address;
}

int regress_munmap(void *address, uint64_t length) { return munmap(address, length); }

int regress_msync(void *address, uint64_t length, int async, int invalidate, int sync) {
    return msync(address, length, (async ? MS_ASYNC : 0) | (invalidate ? MS_INVALIDATE : 0) | (sync ? MS_SYNC : 0));
}

// A store into a mapping faults with SIGBUS when the page lies past the end of the file or the filesystem
// cannot back it (ENOSPC, EDQUOT in page_mkwrite). xfs_io dies of it; regress ends the step there instead.
// The jump target is per thread: the emulated disk's FUSE threads share the process and must never land here.
static __thread sigjmp_buf *store_fault_target;
static void store_fault(int signal) {
    if (store_fault_target) siglongjmp(*store_fault_target, 1);
    // Not a store of ours: die as the default action would.
    struct sigaction fallback = { .sa_handler = SIG_DFL };
    sigaction(signal, &fallback, NULL);
    raise(signal);
}

int regress_store_bytes(void *address, uint64_t length, uint8_t byte, int backward, uint64_t *stored) {
    struct sigaction handler = { .sa_handler = store_fault }, previous;
    sigemptyset(&handler.sa_mask);
    sigaction(SIGBUS, &handler, &previous);
    volatile uint64_t done = 0;
    volatile uint8_t *bytes = address;
    sigjmp_buf target;
    int faulted = 0;
    if (sigsetjmp(target, 1) == 0) {
        store_fault_target = &target;
        // One byte at a time, in xfs_io's order: the count says exactly which bytes landed before a fault.
        for (; done < length; done++) bytes[backward ? length - 1 - done : done] = byte;
    } else {
        faulted = 1;
    }
    store_fault_target = NULL;
    sigaction(SIGBUS, &previous, NULL);
    *stored = done;
    return faulted ? -1 : 0;
}

int regress_fsxattr_set_hint(int fd, int copy_on_write, uint32_t bytes) {
    struct fsxattr attributes;
    struct stat info;
    if (fstat(fd, &info) < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &attributes) < 0) return -1;
    // As xfs_io's extsize/cowextsize: a directory gets the inherited extent-size hint, a file its own.
    if (copy_on_write) {
        attributes.fsx_xflags |= FS_XFLAG_COWEXTSIZE;
        attributes.fsx_cowextsize = bytes;
    } else {
        attributes.fsx_xflags |= S_ISDIR(info.st_mode) ? FS_XFLAG_EXTSZINHERIT : FS_XFLAG_EXTSIZE;
        attributes.fsx_extsize = bytes;
    }
    return ioctl(fd, FS_IOC_FSSETXATTR, &attributes);
}

int regress_fsxattr_get_hint(int fd, int copy_on_write, uint32_t *bytes) {
    struct fsxattr attributes;
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attributes) < 0) return -1;
    *bytes = copy_on_write ? attributes.fsx_cowextsize : attributes.fsx_extsize;
    return 0;
}

int regress_fsxattr_change_xflags(int fd, uint32_t add, uint32_t remove) {
    struct fsxattr attributes;
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attributes) < 0) return -1;
    attributes.fsx_xflags = (attributes.fsx_xflags | add) & ~remove;
    return ioctl(fd, FS_IOC_FSSETXATTR, &attributes);
}

int regress_fiemap(int fd, uint64_t start, int sync, struct regress_extent *extents, uint32_t capacity, uint32_t *mapped) {
    size_t size = sizeof(struct fiemap) + capacity * sizeof(struct fiemap_extent);
    struct fiemap *map = calloc(1, size);
    if (!map) { errno = ENOMEM; return -1; }
    map->fm_start = start;
    map->fm_length = ~0ULL;
    map->fm_flags = sync ? FIEMAP_FLAG_SYNC : 0;
    map->fm_extent_count = capacity;
    int rc = ioctl(fd, FS_IOC_FIEMAP, map);
    if (rc == 0) {
        *mapped = map->fm_mapped_extents;
        for (uint32_t i = 0; i < map->fm_mapped_extents; i++) {
            extents[i].logical = map->fm_extents[i].fe_logical;
            extents[i].physical = map->fm_extents[i].fe_physical;
            extents[i].length = map->fm_extents[i].fe_length;
            extents[i].flags = map->fm_extents[i].fe_flags;
        }
    }
    free(map);
    return rc;
}

// XFS_IOC_FSGEOMETRY_V1 (xfs_fs.h, which xfsprogs' development package would bring): the geometry's feature
// flags, at the offset version 1 of the structure has kept since it was defined.
struct regress_xfs_geometry_v1 {
    uint32_t blocksize, rtextsize, agblocks, agcount, logblocks, sectsize, inodesize, imaxpct;
    uint64_t datablocks, rtblocks, rtextents, logstart;
    unsigned char uuid[16];
    uint32_t sunit, swidth;
    int32_t version;
    uint32_t flags, logsectsize, rtsectsize, dirblocksize;
};

int regress_xfs_geometry_flags(int fd, uint32_t *flags) {
    struct regress_xfs_geometry_v1 geometry;
    memset(&geometry, 0, sizeof geometry);
    int rc = ioctl(fd, _IOR('X', 100, struct regress_xfs_geometry_v1), &geometry);
    if (rc == 0) *flags = geometry.flags;
    return rc;
}

int regress_xfs_io_units(int fd, uint32_t *block, uint32_t *sector) {
    struct statfs info;
    *block = 4096;
    *sector = 512;
    if (fstatfs(fd, &info) < 0) return -1;
    if (info.f_type != 0x58465342) return 0;   // XFS_SUPER_MAGIC: any other filesystem is "foreign" to xfs_io
    struct regress_xfs_geometry_v1 geometry;
    memset(&geometry, 0, sizeof geometry);
    if (ioctl(fd, _IOR('X', 100, struct regress_xfs_geometry_v1), &geometry) < 0) return -1;
    *block = geometry.blocksize;
    *sector = geometry.sectsize;
    return 0;
}

/* XFS_IOC_SWAPEXT, as xfs_io's swapext: xfs's own headers (xfslibs-dev) are not needed for two structs. The
 * kernel checks only that the target's ctime and mtime in sx_stat are still the inode's (EBUSY otherwise:
 * the file changed under the caller), so fstat fills them, where xfs_io uses a bulkstat. */
struct regress_xfs_bstime { long tv_sec; int32_t tv_nsec; };
struct regress_xfs_bstat {
    uint64_t ino; uint16_t mode, nlink; uint32_t uid, gid, rdev; int32_t blksize; int64_t size;
    struct regress_xfs_bstime atime, mtime, ctime;
    int64_t blocks; uint32_t xflags; int32_t extsize, extents; uint32_t gen;
    uint16_t projid_lo, forkoff, projid_hi, sick, checked; unsigned char pad[2];
    uint32_t cowextsize, dmevmask; uint16_t dmstate, aextents;
};
struct regress_xfs_swapext {
    int64_t version, fd_target, fd_tmp, offset, length; char pad[16]; struct regress_xfs_bstat stat;
};

int regress_xfs_swapext(int target_fd, int donor_fd) {
    struct stat info;
    if (fstat(target_fd, &info) != 0) return -1;
    struct regress_xfs_swapext request;
    memset(&request, 0, sizeof request);
    request.fd_target = target_fd;
    request.fd_tmp = donor_fd;
    request.length = info.st_size;
    request.stat.ino = info.st_ino;
    request.stat.size = info.st_size;
    request.stat.mtime.tv_sec = info.st_mtim.tv_sec;
    request.stat.mtime.tv_nsec = (int32_t)info.st_mtim.tv_nsec;
    request.stat.ctime.tv_sec = info.st_ctim.tv_sec;
    request.stat.ctime.tv_nsec = (int32_t)info.st_ctim.tv_nsec;
    return ioctl(target_fd, _IOWR('X', 109, struct regress_xfs_swapext), &request);
}
