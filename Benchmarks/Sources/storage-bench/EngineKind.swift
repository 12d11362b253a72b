// The engines the benchmark knows, how to open each, and how each is configured.
import CLevelDB
import CRocksDB

enum EngineKind: String, CaseIterable, Codable, Sendable {
    case osmanthus, rocksdb, leveldb

    func open(path: String, settings: EngineSettings) throws -> any Engine {
        switch self {
        case .rocksdb: return try RocksDBEngine(path: path, settings: settings)
        case .leveldb: return try LevelDBEngine(path: path, settings: settings)
        case .osmanthus: return try OsmanthusEngine(path: path, settings: settings)
        }
    }

    var version: String {
        switch self {
        case .rocksdb: return ProcessStats.loadedLibraryVersion("librocksdb.so.") ?? "?"
        case .leveldb: return "\(leveldb_major_version()).\(leveldb_minor_version())"
        case .osmanthus: return "this checkout"
        }
    }

    /// The exact configuration, for the report header.
    func settingsDescription(_ settings: EngineSettings) -> String {
        let cache = "LRU block cache \(settings.blockCacheBytes >> 20) MiB"
        let bloom = "Bloom filter \(settings.bloomBitsPerKey) bits/key"
        switch self {
        case .rocksdb:
            return "defaults (\(RocksDBEngine.defaultsSummary())) + \(cache) + full-filter \(bloom)"
        case .leveldb:
            return "defaults (write_buffer 4 MiB, max_file 2 MiB, block 4 KiB, snappy, "
                + "max_open_files 1000, 1 compaction thread) + \(cache) + \(bloom)"
        case .osmanthus: return OsmanthusEngine.settingsDescription(settings)
        }
    }
}
