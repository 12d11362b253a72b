import Synchronization

/// Open tables by file number, shared by every reader. Tables are opened on first use and stay
/// open until their file is deleted (a database of N tables holds N descriptors).
final class TableCache: Sendable {
    let directory: String
    let fileSystem: any FileSystem
    let blockCache: BlockCache?
    // Guards the map only; opening a table (I/O) happens outside it.
    private let tables = Mutex<[UInt64: Table]>([:])

    init(directory: String, fileSystem: any FileSystem, blockCache: BlockCache?) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.blockCache = blockCache
    }

    func table(_ number: UInt64) throws -> Table {
        if let t = tables.withLock({ $0[number] }) { return t }
        let file = try fileSystem.openReadable(DBFiles.table(directory, number))
        let opened = try Table.open(file: file, fileNumber: number, cache: blockCache)
        return tables.withLock { map in
            if let existing = map[number] { return existing }
            map[number] = opened
            return opened
        }
    }

    /// Forgets a deleted table and its cached blocks.
    func evict(_ number: UInt64) {
        _ = tables.withLock { $0.removeValue(forKey: number) }
        blockCache?.evict(fileNumber: number)
    }

    var openCount: Int { tables.withLock { $0.count } }
}
