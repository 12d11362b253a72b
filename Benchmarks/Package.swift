// swift-tools-version: 6.1
// The storage benchmark: db_bench-style workloads against Osmanthus, RocksDB and LevelDB on the
// same data. A separate package so the main build never pays for it (SWIFT-NOTES.md); run it
// with Tools/bench-storage.
import Foundation
import PackageDescription

// The Osmanthus adapter needs the engine's public DB API (Sources/OsmanthusStorage/DB/DB.swift).
// Until that file exists in this checkout the adapter is compiled out and the benchmark measures
// the peers alone; OSMANTHUS_BENCH_NO_DB=1 forces it out. SwiftPM caches manifests without
// noticing that file appear, so build with `--manifest-cache none` (Tools/bench-storage does).
let dbSource = Context.packageDirectory + "/../Sources/OsmanthusStorage/DB/DB.swift"
let hasOsmanthusDB = FileManager.default.fileExists(atPath: dbSource)
    && ProcessInfo.processInfo.environment["OSMANTHUS_BENCH_NO_DB"] != "1"

let package = Package(
    name: "OsmanthusBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Osmanthus", path: ".."),
    ],
    targets: [
        .systemLibrary(name: "CRocksDB", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CLevelDB", providers: [.apt(["libleveldb-dev"])]),
        .executableTarget(
            name: "storage-bench",
            dependencies: [
                "CRocksDB", "CLevelDB",
                .product(name: "OsmanthusStorage", package: "Osmanthus"),
            ],
            swiftSettings: hasOsmanthusDB ? [.define("OSMANTHUS_DB")] : []
        ),
    ],
    swiftLanguageModes: [.v6]
)
