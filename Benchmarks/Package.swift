// swift-tools-version: 6.1
// The storage benchmark: db_bench-style workloads against Osmanthus, RocksDB and LevelDB on the
// same data. A separate package so the main build never pays for it (SWIFT-NOTES.md); run it
// with Tools/bench-storage.
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
        .executableTarget(
            name: "storage-bench",
            dependencies: [
                "CRocksDB", "CLevelDB",
                .product(name: "OsmanthusStorage", package: "Osmanthus"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
