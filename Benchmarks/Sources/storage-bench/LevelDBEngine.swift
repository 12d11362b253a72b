// LevelDB through its C API (Debian's libleveldb-dev).
import CLevelDB

/// LevelDB with its default options (snappy compression included) except the shared block
/// cache size and a Bloom filter.
///
/// `@unchecked Sendable`: `leveldb_t` is safe for concurrent use (LevelDB's own guarantee); the
/// option objects are only read after `open`, and `close` is called once, after every writer
/// thread has finished.
final class LevelDBEngine: Engine, @unchecked Sendable {
    private let db: OpaquePointer
    private let options: OpaquePointer
    private let cache: OpaquePointer
    private let filter: OpaquePointer
    private let readOptions: OpaquePointer
    private let writeOptions: OpaquePointer
    private let syncWriteOptions: OpaquePointer

    init(path: String, settings: EngineSettings) throws {
        options = leveldb_options_create()
        leveldb_options_set_create_if_missing(options, 1)
        cache = leveldb_cache_create_lru(settings.blockCacheBytes)
        leveldb_options_set_cache(options, cache)
        // Unlike RocksDB's, LevelDB's options do not own the policy: destroyed after close.
        filter = leveldb_filterpolicy_create_bloom(Int32(settings.bloomBitsPerKey))
        leveldb_options_set_filter_policy(options, filter)

        readOptions = leveldb_readoptions_create()
        writeOptions = leveldb_writeoptions_create()
        syncWriteOptions = leveldb_writeoptions_create()
        leveldb_writeoptions_set_sync(syncWriteOptions, 1)

        var err: UnsafeMutablePointer<CChar>?
        let handle = leveldb_open(options, path, &err)
        if let err {
            let message = String(cString: err)
            leveldb_free(err)
            Self.destroy(options, cache, filter, readOptions, writeOptions, syncWriteOptions)
            throw BenchError("leveldb open \(path): \(message)")
        }
        guard let handle else {
            Self.destroy(options, cache, filter, readOptions, writeOptions, syncWriteOptions)
            throw BenchError("leveldb open \(path): no handle")
        }
        db = handle
    }

    private static func destroy(
        _ options: OpaquePointer, _ cache: OpaquePointer, _ filter: OpaquePointer,
        _ readOptions: OpaquePointer, _ writeOptions: OpaquePointer,
        _ syncWriteOptions: OpaquePointer
    ) {
        leveldb_readoptions_destroy(readOptions)
        leveldb_writeoptions_destroy(writeOptions)
        leveldb_writeoptions_destroy(syncWriteOptions)
        leveldb_options_destroy(options)
        leveldb_filterpolicy_destroy(filter)
        leveldb_cache_destroy(cache)
    }

    private func check(_ err: UnsafeMutablePointer<CChar>?, _ what: String) throws {
        guard let err else { return }
        let message = String(cString: err)
        leveldb_free(err)
        throw BenchError("leveldb \(what): \(message)")
    }

    func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sync: Bool) throws {
        var err: UnsafeMutablePointer<CChar>?
        leveldb_put(
            db, sync ? syncWriteOptions : writeOptions, key.cChars, key.count, value.cChars,
            value.count, &err)
        try check(err, "put")
    }

    func get(_ key: UnsafeRawBufferPointer) throws -> Int? {
        var err: UnsafeMutablePointer<CChar>?
        var length = 0
        let value = leveldb_get(db, readOptions, key.cChars, key.count, &length, &err)
        try check(err, "get")
        guard let value else { return nil }
        leveldb_free(value)
        return length
    }

    func delete(_ key: UnsafeRawBufferPointer) throws {
        var err: UnsafeMutablePointer<CChar>?
        leveldb_delete(db, writeOptions, key.cChars, key.count, &err)
        try check(err, "delete")
    }

    func writeBatch(
        count: Int, entry: (Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
    ) throws {
        let batch = leveldb_writebatch_create()
        defer { leveldb_writebatch_destroy(batch) }
        for i in 0..<count {
            let (key, value) = entry(i)
            leveldb_writebatch_put(batch, key.cChars, key.count, value.cChars, value.count)
        }
        var err: UnsafeMutablePointer<CChar>?
        leveldb_write(db, writeOptions, batch, &err)
        try check(err, "write")
    }

    func makeCursor() throws -> any EngineCursor {
        guard let iterator = leveldb_create_iterator(db, readOptions) else {
            throw BenchError("leveldb: no iterator")
        }
        return Cursor(iterator)
    }

    func close() throws {
        leveldb_close(db)
        Self.destroy(options, cache, filter, readOptions, writeOptions, syncWriteOptions)
    }

    private final class Cursor: EngineCursor {
        private let iterator: OpaquePointer
        init(_ iterator: OpaquePointer) { self.iterator = iterator }

        var isValid: Bool { leveldb_iter_valid(iterator) != 0 }
        func seekToFirst() { leveldb_iter_seek_to_first(iterator) }
        func seek(_ key: UnsafeRawBufferPointer) {
            leveldb_iter_seek(iterator, key.cChars, key.count)
        }
        func next() { leveldb_iter_next(iterator) }

        func entrySize() -> Int {
            var keyLength = 0
            var valueLength = 0
            _ = leveldb_iter_key(iterator, &keyLength)
            _ = leveldb_iter_value(iterator, &valueLength)
            return keyLength + valueLength
        }

        func close() throws {
            var err: UnsafeMutablePointer<CChar>?
            leveldb_iter_get_error(iterator, &err)
            leveldb_iter_destroy(iterator)
            if let err {
                let message = String(cString: err)
                leveldb_free(err)
                throw BenchError("leveldb iterator: \(message)")
            }
        }
    }
}
