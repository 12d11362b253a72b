extension Version {
    /// As `iterators(tables:fillCache:)`, but only over the tables whose user-key range meets
    /// [`lowerBound`, `upperBound`) (empty `upperBound`: unbounded above).
    func iterators(tables: TableCache, fillCache: Bool, lowerBound: [UInt8], upperBound: [UInt8])
        -> [InternalIterator]
    {
        var result: [InternalIterator] = []
        for file in levels[0] where Self.file(file, meets: lowerBound, upperBound) {
            do {
                result.append(try tables.table(file.number).makeIterator(fillCache: fillCache))
            } catch let e as StorageError {
                result.append(EmptyIterator(error: e))
            } catch {
                result.append(EmptyIterator(error: StorageError(.io, "\(error)")))
            }
        }
        for level in 1..<levels.count where !levels[level].isEmpty {
            let files = levels[level].filter { Self.file($0, meets: lowerBound, upperBound) }
            if !files.isEmpty { result.append(LevelIterator(files: files, tables: tables, fillCache: fillCache)) }
        }
        return result
    }

    /// Whether the table's user keys [smallest, largest] meet [lower, upper).
    static func file(_ file: FileMetadata, meets lower: [UInt8], _ upper: [UInt8]) -> Bool {
        if compareBytes(InternalKey.userKey(file.largest), lower[...]) < 0 { return false }
        return upper.isEmpty || compareBytes(InternalKey.userKey(file.smallest), upper[...]) < 0
    }
}
