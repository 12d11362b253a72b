// swift-tools-version: 6.1
// The benchmarks: storage-bench (db_bench-style workloads against Osmanthus's engine, RocksDB and
// LevelDB) and doc-bench (document workloads and YCSB A–F against Osmanthus and SQLite). A
// separate package so the main build never pays for it (SWIFT-NOTES.md); run them with
// Tools/bench-storage and Tools/bench-docs. backup-bench: snapshot, backup and restore speed
// (Tools/bench-backup).
import PackageDescription

let package = Package(
    name: "OsmanthusBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Osmanthus", path: "..")
    ],
    targets: [
        .systemLibrary(name: "CRocksDB", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CLevelDB", providers: [.apt(["libleveldb-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "storage-bench",
            dependencies: [
                "CRocksDB", "CLevelDB",
                .product(name: "OsmanthusStorage", package: "Osmanthus"),
            ]
        ),
        .executableTarget(
            name: "doc-bench",
            dependencies: [
                "CSQLite",
                .product(name: "Osmanthus", package: "Osmanthus"),
                .product(name: "OsmanthusBSON", package: "Osmanthus"),
            ]
        ),
        .executableTarget(
            name: "change-bench",
            dependencies: [
                .product(name: "Osmanthus", package: "Osmanthus"),
                .product(name: "OsmanthusBSON", package: "Osmanthus"),
            ]
        ),
        .executableTarget(
            name: "query-profile",
            dependencies: [
                "CSQLite",
                .product(name: "Osmanthus", package: "Osmanthus"),
                .product(name: "OsmanthusBSON", package: "Osmanthus"),
            ]
        ),
        .executableTarget(
            name: "doc-profile",
            dependencies: [
                .product(name: "Osmanthus", package: "Osmanthus"),
                .product(name: "OsmanthusBSON", package: "Osmanthus"),
            ]
        ),
        .executableTarget(
            name: "backup-bench",
            dependencies: [.product(name: "OsmanthusStorage", package: "Osmanthus")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
