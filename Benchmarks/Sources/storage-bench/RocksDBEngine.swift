// RocksDB through its C API (Debian's librocksdb-dev).
import CRocksDB

/// RocksDB with its default options except the shared block cache size and a Bloom filter.
///
/// `@unchecked Sendable`: `rocksdb_t` is safe for concurrent reads and writes (RocksDB's own
/// guarantee); the option objects are only read after `open`, and `close` is called once, by the
/// thread that opened it, after every writer thread has finished.
final class RocksDBEngine: Engine, @unchecked Sendable {
    private let db: OpaquePointer
    private let options: OpaquePointer
    private let cache: OpaquePointer
    private let readOptions: OpaquePointer
    private let writeOptions: OpaquePointer
    private let syncWriteOptions: OpaquePointer

    init(path: String, settings: EngineSettings) throws {
        options = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(options, 1)
        cache = rocksdb_cache_create_lru(settings.blockCacheBytes)
        let table = rocksdb_block_based_options_create()
        rocksdb_block_based_options_set_block_cache(table, cache)
        // The table options take ownership of the policy; the factory copies the table options.
        rocksdb_block_based_options_set_filter_policy(
            table, rocksdb_filterpolicy_create_bloom_full(Double(settings.bloomBitsPerKey)))
        rocksdb_options_set_block_based_table_factory(options, table)
        rocksdb_block_based_options_destroy(table)

        readOptions = rocksdb_readoptions_create()
        writeOptions = rocksdb_writeoptions_create()
        syncWriteOptions = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWriteOptions, 1)

        var err: UnsafeMutablePointer<CChar>?
        let handle = rocksdb_open(options, path, &err)
        if let err {
            let message = String(cString: err)
            rocksdb_free(err)
            Self.destroy(options, cache, readOptions, writeOptions, syncWriteOptions)
            throw BenchError("rocksdb open \(path): \(message)")
        }
        guard let handle else {
            Self.destroy(options, cache, readOptions, writeOptions, syncWriteOptions)
            throw BenchError("rocksdb open \(path): no handle")
        }
        db = handle
    }

    /// The defaults that matter for these workloads, read back from a fresh options object.
    static func defaultsSummary() -> String {
        let o = rocksdb_options_create()
        defer { rocksdb_options_destroy(o) }
        let compression: String
        switch Int(rocksdb_options_get_compression(o)) {
        case Int(rocksdb_no_compression): compression = "no compression"
        case Int(rocksdb_snappy_compression): compression = "snappy"
        case Int(rocksdb_lz4_compression): compression = "lz4"
        case Int(rocksdb_zstd_compression): compression = "zstd"
        case let other: compression = "compression #\(other)"
        }
        return "write_buffer \(rocksdb_options_get_write_buffer_size(o) >> 20) MiB"
            + " x\(rocksdb_options_get_max_write_buffer_number(o)),"
            + " target_file \(rocksdb_options_get_target_file_size_base(o) >> 20) MiB,"
            + " block 4 KiB, \(compression),"
            + " max_background_jobs \(rocksdb_options_get_max_background_jobs(o)),"
            + " L0 trigger \(rocksdb_options_get_level0_file_num_compaction_trigger(o))"
    }

    private static func destroy(
        _ options: OpaquePointer, _ cache: OpaquePointer, _ readOptions: OpaquePointer,
        _ writeOptions: OpaquePointer, _ syncWriteOptions: OpaquePointer
    ) {
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(writeOptions)
        rocksdb_writeoptions_destroy(syncWriteOptions)
        rocksdb_options_destroy(options)
        rocksdb_cache_destroy(cache)
    }

    private func check(_ err: UnsafeMutablePointer<CChar>?, _ what: String) throws {
        guard let err else { return }
        let message = String(cString: err)
        rocksdb_free(err)
        throw BenchError("rocksdb \(what): \(message)")
    }

    func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sync: Bool) throws {
        var err: UnsafeMutablePointer<CChar>?
        rocksdb_put(
            db, sync ? syncWriteOptions : writeOptions, key.cChars, key.count, value.cChars,
            value.count, &err)
        try check(err, "put")
    }

    func get(_ key: UnsafeRawBufferPointer) throws -> Int? {
        var err: UnsafeMutablePointer<CChar>?
        var length = 0
        let value = rocksdb_get(db, readOptions, key.cChars, key.count, &length, &err)
        try check(err, "get")
        guard let value else { return nil }
        rocksdb_free(value)
        return length
    }

    func delete(_ key: UnsafeRawBufferPointer) throws {
        var err: UnsafeMutablePointer<CChar>?
        rocksdb_delete(db, writeOptions, key.cChars, key.count, &err)
        try check(err, "delete")
    }

    func writeBatch(
        count: Int, entry: (Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    ) throws {
        let batch = rocksdb_writebatch_create()
        defer { rocksdb_writebatch_destroy(batch) }
        for i in 0..<count {
            let (key, value) = entry(i)
            rocksdb_writebatch_put(batch, key.cChars, key.count, value.cChars, value.count)
        }
        var err: UnsafeMutablePointer<CChar>?
        rocksdb_write(db, writeOptions, batch, &err)
        try check(err, "write")
    }

    func makeCursor() throws -> any EngineCursor {
        guard let iterator = rocksdb_create_iterator(db, readOptions) else {
            throw BenchError("rocksdb: no iterator")
        }
        return Cursor(iterator)
    }

    func close() throws {
        rocksdb_close(db)
        Self.destroy(options, cache, readOptions, writeOptions, syncWriteOptions)
    }

    private final class Cursor: EngineCursor {
        private let iterator: OpaquePointer
        init(_ iterator: OpaquePointer) { self.iterator = iterator }

        var isValid: Bool { rocksdb_iter_valid(iterator) != 0 }
        func seekToFirst() { rocksdb_iter_seek_to_first(iterator) }
        func seek(_ key: UnsafeRawBufferPointer) {
            rocksdb_iter_seek(iterator, key.cChars, key.count)
        }
        func next() { rocksdb_iter_next(iterator) }

        func entrySize() -> Int {
            var keyLength = 0
            var valueLength = 0
            _ = rocksdb_iter_key(iterator, &keyLength)
            _ = rocksdb_iter_value(iterator, &valueLength)
            return keyLength + valueLength
        }

        func close() throws {
            var err: UnsafeMutablePointer<CChar>?
            rocksdb_iter_get_error(iterator, &err)
            rocksdb_iter_destroy(iterator)
            if let err {
                let message = String(cString: err)
                rocksdb_free(err)
                throw BenchError("rocksdb iterator: \(message)")
            }
        }
    }
}
