// swift-tools-version:5.10
import PackageDescription

// Two libraries, as swift-nio splits NIOCore from NIOPosix, so that the compiler holds the layers:
// RegressCore is pure (the test language, the content model and oracle, verdicts, reports: no C, no syscalls,
// no machine state) and RegressRunner is the machine side (syscalls, devices, filesystems, the runner).
let package = Package(
    name: "regress",
    products: [
        .executable(name: "regress", targets: ["regress"]),
        .library(name: "RegressCore", targets: ["RegressCore"]),
        .library(name: "RegressRunner", targets: ["RegressRunner"]),
    ],
    dependencies: [
        // The only third-party dependency: a first build on 2 cores must stay short.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "RegressCore"),
        // libmount, libblkid and the Linux ioctl structs and flags Swift cannot import on its own.
        .target(
            name: "CLibMount",
            linkerSettings: [.linkedLibrary("mount"), .linkedLibrary("blkid")]
        ),
        // The emulated disk's model: volatile write cache, faults, power cut, write log (no FUSE).
        .target(name: "CDiskModel", linkerSettings: [.linkedLibrary("pthread")]),
        // The emulated disk: a FUSE file served in-process, modelling a volatile write cache (libfuse3).
        .target(
            name: "CEmulatedDisk",
            dependencies: ["CDiskModel"],
            linkerSettings: [.linkedLibrary("fuse3"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "RegressRunner",
            dependencies: ["RegressCore", "CLibMount", "CEmulatedDisk"]
        ),
        .executableTarget(
            name: "regress",
            dependencies: [
                "RegressCore",
                "RegressRunner",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: ["BuildCommit"]
        ),
        // `regress --version`'s commit, read from git at every build ("unknown" outside a git clone).
        .plugin(name: "BuildCommit", capability: .buildTool()),
        // Pure logic: runs as a normal user with nothing but the toolchain.
        .testTarget(name: "RegressCoreTests", dependencies: ["RegressCore"]),
        // The emulated disk's model on temp images: a normal user, no FUSE.
        .testTarget(name: "DiskModelTests", dependencies: ["CDiskModel"]),
        // Real loop devices, filesystems, report consumers and VMs: root, as CI runs them.
        .testTarget(name: "IntegrationTests", dependencies: ["RegressCore", "RegressRunner"]),
    ]
)
