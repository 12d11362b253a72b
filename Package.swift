// swift-tools-version: 6.1
// Layers, each depending only downward (see ../shared/STYLE.md and SPEC.md §1):
//   osmanthus (CLI) → Osmanthus* libraries → OsmanthusStorage → C shims.
import PackageDescription

let package = Package(
    name: "Osmanthus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OsmanthusStorage", targets: ["OsmanthusStorage"]),
        .library(name: "OsmanthusBSON", targets: ["OsmanthusBSON"]),
        .library(name: "Osmanthus", targets: ["Osmanthus"]),
        .executable(name: "osmanthus", targets: ["osmanthus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "CCRC32C"),
        // futex(2) for the group-commit writers' wait slots (OsmanthusStorage's Parker).
        .target(name: "CFutex"),
        .target(
            name: "OsmanthusStorage",
            dependencies: [
                "CLZ4", "CZstd", "CCRC32C", "CFutex",
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        .target(name: "OsmanthusBSON"),
        // Backup repositories on S3-compatible storage (SigV4 over a small blocking HTTP/1.1
        // client); beside the storage layer, which stays free of networking.
        .target(
            name: "OsmanthusBackupS3",
            dependencies: ["OsmanthusStorage", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "Osmanthus", dependencies: ["OsmanthusStorage", "OsmanthusBSON"]),
        .target(
            name: "OsmanthusWire",
            dependencies: ["OsmanthusBSON", "CCRC32C", "CZstd", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "OsmanthusServer",
            dependencies: [
                "Osmanthus", "OsmanthusWire", "OsmanthusBSON", "OsmanthusStorage", "OsmanthusBackupS3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "osmanthus",
            dependencies: [
                "OsmanthusStorage", "Osmanthus", "OsmanthusServer", "OsmanthusWire", "OsmanthusBSON",
                "OsmanthusBackupS3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // libFuzzer target for the BSON decoder (Tools/fuzz-bson); a plain build is a replay runner.
        .executableTarget(name: "bson-fuzz", dependencies: ["OsmanthusBSON"]),
        .testTarget(
            name: "OsmanthusStorageTests",
            dependencies: ["OsmanthusStorage", "CCRC32C"],
            resources: [.copy("Golden")]
        ),
        .testTarget(name: "OsmanthusBSONTests", dependencies: ["OsmanthusBSON"]),
        .testTarget(name: "OsmanthusTests", dependencies: ["Osmanthus", "OsmanthusBSON", "OsmanthusStorage"]),
        .testTarget(
            name: "OsmanthusWireTests",
            dependencies: ["OsmanthusWire", "OsmanthusBSON", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Kills `osmanthus debug crash-writer` (and `doc-crash-writer`) with SIGKILL and checks the
        // database it leaves; imports the executable's module for the workloads' rules (one
        // definition for both).
        .testTarget(
            name: "OsmanthusCrashTests", dependencies: ["OsmanthusStorage", "Osmanthus", "OsmanthusBSON", "osmanthus"]),
        // Runs the built `osmanthus` binary's admin commands and checks their output and exit codes.
        .testTarget(name: "OsmanthusCLITests", dependencies: ["OsmanthusStorage", "Osmanthus", "OsmanthusBSON"]),
        // The server's parts without a socket: SCRAM, and the backup scheduler against a real
        // database with a test metrics backend.
        .testTarget(
            name: "OsmanthusServerTests",
            dependencies: [
                "OsmanthusServer", "Osmanthus", "OsmanthusStorage", "OsmanthusBSON", "OsmanthusBackupS3", "OsmanthusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
