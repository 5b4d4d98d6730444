// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "regress",
    products: [
        .executable(name: "regress", targets: ["regress"]),
        .library(name: "RegressRunner", targets: ["RegressRunner"]),
    ],
    dependencies: [
        // The only third-party dependency: a first build on 2 cores must stay short.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libmount, libblkid and the Linux ioctl structs Swift cannot import on its own.
        .target(
            name: "CLibMount",
            linkerSettings: [.linkedLibrary("mount"), .linkedLibrary("blkid")]
        ),
        // The emulated disk: a FUSE file served in-process, modelling a volatile write cache (libfuse3).
        .target(
            name: "CEmulatedDisk",
            linkerSettings: [.linkedLibrary("fuse3"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "RegressRunner",
            dependencies: ["CLibMount", "CEmulatedDisk"]
        ),
        .executableTarget(
            name: "regress",
            dependencies: [
                "RegressRunner",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RegressRunnerTests", dependencies: ["RegressRunner"]),
        .testTarget(name: "IntegrationTests", dependencies: ["RegressRunner"]),
    ]
)
