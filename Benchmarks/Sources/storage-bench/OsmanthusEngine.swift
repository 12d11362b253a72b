// Osmanthus's own engine through its public DB API (Sources/OsmanthusStorage/DB/DB.swift).
// Compiled only when that file exists in this checkout (see Package.swift).
#if OSMANTHUS_DB
    import OsmanthusStorage

    /// Osmanthus with its default options. The API takes and returns `[UInt8]`, so every call
    /// copies the caller's bytes into arrays: that cost belongs to the API and is measured.
    ///
    /// `Sendable`: `DB` is thread-safe by its own lock; this class holds nothing else.
    final class OsmanthusEngine: Engine, Sendable {
        private let db: DB

        init(path: String, settings: EngineSettings) throws {
            // The shared block-cache size and Bloom bits are applied here once Options has
            // them; until then Osmanthus runs on its defaults (and the header says so).
            let options = Options()
            db = try DB.open(at: path, options: options)
        }

        static func settingsDescription(_ settings: EngineSettings) -> String {
            "defaults (Options()); block cache and Bloom bits not yet configurable"
        }

        func put(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, sync: Bool) throws {
            try db.put(Array(key), Array(value), options: WriteOptions(sync: sync))
        }

        func get(_ key: UnsafeRawBufferPointer) throws -> Int? {
            try db.get(Array(key))?.count
        }

        func delete(_ key: UnsafeRawBufferPointer) throws {
            try db.delete(Array(key))
        }

        func writeBatch(
            count: Int, entry: (Int) -> (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)
        ) throws {
            var batch = WriteBatch()
            for i in 0..<count {
                let (key, value) = entry(i)
                batch.put(Array(key), Array(value))
            }
            try db.write(batch)
        }

        func makeCursor() throws -> any EngineCursor {
            Cursor(db.makeIterator())
        }

        func close() throws {
            try db.close()
        }

        private final class Cursor: EngineCursor {
            private let iterator: DBIterator
            init(_ iterator: DBIterator) { self.iterator = iterator }

            var isValid: Bool { iterator.isValid }
            func seekToFirst() { iterator.seekToFirst() }
            func seek(_ key: UnsafeRawBufferPointer) { iterator.seek(Array(key)) }
            func next() { iterator.next() }
            func entrySize() -> Int { iterator.key.count + iterator.value.count }
            func close() throws {}
        }
    }
#endif
