/// Runs one compaction: merges the inputs, drops what no reader can see, and writes new tables
/// to the output level. Returns the version edit that swaps inputs for outputs; the caller logs
/// and applies it.
///
/// At the bottom (no deeper level holds anything), a value every snapshot sees is written with
/// sequence 0: it is then its key's only version, no reader can tell the difference, and the
/// trailer becomes the same eight bytes in every entry, which the block compressor shrinks.
/// An entry is dropped when a newer version of the same user key is visible to every live
/// snapshot (it is shadowed), or when it is a tombstone that every snapshot sees and no deeper
/// level can hold the key (nothing left for it to hide).
struct CompactionJob {
    let compaction: Compaction
    let version: Version
    let directory: String
    let fileSystem: any FileSystem
    let tables: TableCache
    let options: Options
    /// Oldest sequence any reader may still read at.
    let smallestSnapshot: SequenceNumber
    /// Allocates an output file number and protects it from obsolete-file deletion.
    let allocateFileNumber: () -> UInt64
    let statistics: Statistics

    func run() throws -> VersionEdit {
        var edit = VersionEdit()
        for f in compaction.inputs { edit.deletedFiles.append((level: compaction.level, number: f.number)) }
        for f in compaction.nextInputs {
            edit.deletedFiles.append((level: compaction.outputLevel, number: f.number))
        }
        if let last = compaction.inputs.last, compaction.level > 0 {
            edit.compactPointers.append((level: compaction.level, key: last.largest))
        }

        if compaction.isTrivialMove {
            edit.newFiles.append((level: compaction.outputLevel, file: compaction.inputs[0]))
            statistics.add(.trivialMoves)
            return edit
        }

        var children: [InternalIterator] = []
        for f in compaction.inputs + compaction.nextInputs {
            children.append(try tables.table(f.number).makeIterator(fillCache: false))
        }
        let input = MergingIterator(children)
        let bottommost = version.levels.indices.allSatisfy {
            $0 <= compaction.outputLevel || version.levels[$0].isEmpty
        }
        let tableOptions = options.tableOptions(forLevel: compaction.outputLevel, bottommost: bottommost)
        let zeroTrailer = InternalKey.packTrailer(0, .value)
        var zeroed: [UInt8] = []

        var outputs: [FileMetadata] = []
        var writer: TableFileWriter?
        var currentUserKey: [UInt8]? = nil
        var lastSequenceForKey = maxSequenceNumber + 1
        var bytesRead: UInt64 = 0
        do {
            input.seekToFirst()
            while input.isValid {
                let key = input.key
                guard InternalKey.isWellFormed(key) else {
                    throw StorageError.corruption(
                        "malformed internal key during compaction", file: directory, offset: nil)
                }
                let userKey = InternalKey.userKey(key)
                let sequence = InternalKey.sequence(key)
                let newUserKey = currentUserKey.map { compareBytes($0[...], userKey) != 0 } ?? true
                if newUserKey {
                    // Cut output tables only between user keys: a key's versions stay in one table.
                    if let w = writer, w.estimatedSize >= options.targetFileSize {
                        if let meta = try w.finish(fileSystem: fileSystem) { outputs.append(meta) }
                        writer = nil
                    }
                    currentUserKey = Array(userKey)
                    lastSequenceForKey = maxSequenceNumber + 1
                }
                let value = input.value
                bytesRead += UInt64(key.count + value.count)
                var drop = false
                if lastSequenceForKey <= smallestSnapshot {
                    drop = true  // a newer version is visible to every snapshot
                } else if InternalKey.kind(key) == .deletion && sequence <= smallestSnapshot
                    && !version.keyMayExistBelow(level: compaction.outputLevel, userKey)
                {
                    drop = true  // a tombstone with nothing left below it to hide
                }
                lastSequenceForKey = sequence
                if !drop {
                    if writer == nil {
                        writer = try TableFileWriter(
                            directory: directory, number: allocateFileNumber(), fileSystem: fileSystem,
                            options: tableOptions)
                    }
                    if bottommost && sequence != 0 && sequence <= smallestSnapshot
                        && InternalKey.kind(key) == .value
                    {
                        zeroed.removeAll(keepingCapacity: true)
                        zeroed.append(contentsOf: userKey)
                        zeroed.appendFixed64(zeroTrailer)
                        try writer?.add(zeroed, value)
                    } else {
                        try writer?.add(key, value)
                    }
                }
                input.next()
            }
            if let e = input.error { throw e }
            if let w = writer, let meta = try w.finish(fileSystem: fileSystem) { outputs.append(meta) }
            writer = nil
            if !outputs.isEmpty { try fileSystem.syncDirectory(directory) }
        } catch {
            writer?.abandon(fileSystem: fileSystem)
            for o in outputs { try? fileSystem.removeFile(DBFiles.table(directory, o.number)) }
            throw error
        }
        for o in outputs { edit.newFiles.append((level: compaction.outputLevel, file: o)) }
        statistics.add(.compactions)
        statistics.add(.compactionBytesRead, bytesRead)
        statistics.add(.compactionBytesWritten, outputs.reduce(0) { $0 + $1.size })
        return edit
    }
}
