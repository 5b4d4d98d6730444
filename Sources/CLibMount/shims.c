#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "CLibMount.h"

int regress_fallocate(int fd, int mode, int64_t offset, int64_t length) { return fallocate(fd, mode, offset, length); }
int regress_syncfs(int fd) { return syncfs(fd); }
#include <sys/mman.h>
int regress_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
const int regress_o_direct = O_DIRECT;
#include <sys/prctl.h>
#include <signal.h>
int regress_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }
