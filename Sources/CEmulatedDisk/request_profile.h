// Where the emulated disk's time goes, for bench/edisk-cost: how many FUSE
// requests of each kind and size arrive, and how long the model took to serve
// them. Kept always (a few atomic adds a request); written out by edisk_stop()
// only when the environment names a file in EDISK_PROFILE (appended, one line).
#ifndef REQUEST_PROFILE_H
#define REQUEST_PROFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { PROFILE_READ, PROFILE_WRITE, PROFILE_FLUSH, PROFILE_ZERO, PROFILE_KINDS };
#define PROFILE_BUCKETS 10 // request sizes <=4K, 8K, ... 1M, more

struct request_profile {
    uint64_t count[PROFILE_KINDS];
    uint64_t bytes[PROFILE_KINDS];
    uint64_t nanoseconds[PROFILE_KINDS]; // inside the model
    uint64_t sizes[PROFILE_KINDS][PROFILE_BUCKETS];
    uint64_t waits; // times a worker found no request and went to sleep: each costs a wake-up
};

static inline uint64_t profile_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void profile_add(struct request_profile *p, int kind, uint64_t bytes, uint64_t started)
{
    int bucket = 0;
    while (bucket < PROFILE_BUCKETS - 1 && bytes > (4096ull << bucket))
        bucket++;
    __atomic_fetch_add(&p->count[kind], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->bytes[kind], bytes, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->nanoseconds[kind], profile_now() - started, __ATOMIC_RELAXED);
    __atomic_fetch_add(&p->sizes[kind][bucket], 1, __ATOMIC_RELAXED);
}

static inline void profile_write_out(const struct request_profile *p, const char *image_path, uint64_t undo_reads, uint64_t undo_reads_saved)
{
    const char *path = getenv("EDISK_PROFILE");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    static const char *names[] = {"read", "write", "flush", "zero"};
    fprintf(f, "%s:", image_path);
    for (int k = 0; k < PROFILE_KINDS; k++) {
        fprintf(f, " %s=%llu/%lluB/%.1fms[", names[k], (unsigned long long)p->count[k],
                (unsigned long long)p->bytes[k], p->nanoseconds[k] / 1e6);
        for (int b = 0; b < PROFILE_BUCKETS; b++)
            fprintf(f, "%s%llu", b ? "," : "", (unsigned long long)p->sizes[k][b]);
        fprintf(f, "]");
    }
    fprintf(f, " waits=%llu undo-reads=%llu undo-reads-saved=%llu\n", (unsigned long long)p->waits,
            (unsigned long long)undo_reads, (unsigned long long)undo_reads_saved);
    fclose(f);
}

#endif
