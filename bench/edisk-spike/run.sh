#!/bin/sh
# Build and run the emulated-disk self-test on real devices (root only).
# Usage: bench/edisk-spike/run.sh [unit|ext4|btrfs|xfs|lying|enospc|all]...
#        EDISK_LOOP_DIO=1 bench/edisk-spike/run.sh ext4   # loop with LO_FLAGS_DIRECT_IO
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mktemp -d /tmp/edisk-build.XXXXXX)
trap 'rm -rf "$out"' EXIT
cd "$root"
gcc -O2 -g -Wall -Wextra -D_FILE_OFFSET_BITS=64 -I Sources/CEmulatedDisk/include \
    Sources/CEmulatedDisk/emulated_disk.c bench/edisk-spike/edisk_selftest.c \
    -o "$out/edisk_selftest" -lfuse3 -lpthread
# outer watchdog: the program also has an internal one that cleans up
timeout -s TERM 1200 "$out/edisk_selftest" "$@"
