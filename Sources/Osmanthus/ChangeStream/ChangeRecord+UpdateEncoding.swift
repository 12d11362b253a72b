import OsmanthusBSON
import OsmanthusStorage

/// The common update's record (SPEC.md §16.2) written straight from its parts: an update by a
/// collection keyed by `_id` alone, without pre- or post-images. The same bytes `encode` gives
/// for `{op: update, db, coll, collectionId, engineKey, dk: {_id}, ud}`, but with no
/// `ChangeRecord` built (its strings and documents retained and released) and no append per
/// field: the record is laid out in one buffer and appended to the batch in one copy.
/// `UpdateRecordEncodingTests` checks the two encoders agree.
extension ChangeRecord {
    /// The flags of such a record: collection, engine key, document key, update description.
    static let updateFlags: UInt8 =
        ChangeLogFormat.Flag.collection | ChangeLogFormat.Flag.engineKey | ChangeLogFormat.Flag.documentKey
        | ChangeLogFormat.Flag.updateDescription

    /// How many bytes `encodeUpdate` writes; `idElement` is the `_id` element (type byte, key,
    /// value) the `{_id}` document key wraps.
    static func updateCount(
        database: String, collection: String, collectionId: UInt32, engineKeyCount: Int, idElementCount: Int,
        descriptionCount: Int
    ) -> Int {
        let db = database.utf8.count
        let coll = collection.utf8.count
        return ChangeLogFormat.header4Size + varintLength(UInt(db)) + db + varintLength(UInt(coll)) + coll
            + varintLength(UInt(collectionId)) + varintLength(UInt(engineKeyCount)) + engineKeyCount
            + (4 + idElementCount + 1) + descriptionCount
    }

    /// Writes the record at the start of `out`, which holds at least `updateCount` bytes;
    /// returns how many bytes it wrote.
    static func encodeUpdate(
        database: String, collection: String, collectionId: UInt32, wallMillis: Int64,
        engineKey: UnsafeRawBufferPointer, idElement: UnsafeRawBufferPointer, description: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        out.storeBytes(
            of: (UInt64(ChangeLogFormat.version4) | 2 << 8 | UInt64(updateFlags) << 16
                | UInt64(ChangeLogFormat.marker) << 24 | UInt64(UInt32(truncatingIfNeeded: wallMillis)) << 32).littleEndian,
            toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: UInt32(truncatingIfNeeded: wallMillis >> 32).littleEndian, toByteOffset: 8, as: UInt32.self)
        out[12] = ChangeLogFormat.Flag2.collectionId
        var p = ChangeLogFormat.header4Size
        p = storeUTF8(database, at: p, in: out)
        p = storeUTF8(collection, at: p, in: out)
        p = storeVarint(UInt(collectionId), at: p, in: out)
        p = storeVarint(UInt(engineKey.count), at: p, in: out)
        p = copy(engineKey, at: p, in: out)
        // dk = {_id}: int32 length, the element, the terminating NUL.
        out.storeBytes(of: Int32(4 + idElement.count + 1).littleEndian, toByteOffset: p, as: Int32.self)
        p = copy(idElement, at: p + 4, in: out)
        out[p] = 0
        p += 1
        return copy(description, at: p, in: out)
    }

    /// Copies `bytes` to `p` in `out` (which has room); returns the position after them.
    @inline(__always)
    private static func copy(_ bytes: UnsafeRawBufferPointer, at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int {
        if let from = bytes.baseAddress, let to = out.baseAddress, bytes.count > 0 {
            (to + p).copyMemory(from: from, byteCount: bytes.count)
        }
        return p + bytes.count
    }

    /// Stores str(`s`) (varint length, UTF-8 bytes) at `p` in `out` (which has room).
    private static func storeUTF8(_ s: String, at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int {
        var s = s
        return s.withUTF8 { utf8 in copy(UnsafeRawBufferPointer(utf8), at: storeVarint(UInt(utf8.count), at: p, in: out), in: out) }
    }

    @inline(__always)
    private static func varintLength(_ value: UInt) -> Int {
        var n = 1
        var v = value
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }
}

extension ChangeLog {
    /// Adds the record of an update whose `documentKey` is `{_id}` and which logs no images to
    /// `batch`, written by `ChangeRecord.encodeUpdate`; returns the value's size, or nil (nothing
    /// added) when `after` has no `_id` (the general record says `{_id: null}` then).
    static func putUpdate(
        database: String, collection: String, collectionId: UInt32, wallMillis: Int64, engineKey: [UInt8],
        after: Document, description: Document, in batch: inout WriteBatch
    ) -> Int? {
        guard let id = after.elementBytes("_id") else { return nil }
        return id.withUnsafeBytes { id in
            engineKey.withUnsafeBytes { key in
                description.withUnsafeBytes { description in
                    let n = ChangeRecord.updateCount(
                        database: database, collection: collection, collectionId: collectionId,
                        engineKeyCount: key.count, idElementCount: id.count, descriptionCount: description.count)
                    batch.putStamped(ChangeLogFormat.recordPrefix, valueCount: n) { value in
                        withUnsafeTemporaryAllocation(byteCount: n, alignment: 8) { buffer in
                            let written = ChangeRecord.encodeUpdate(
                                database: database, collection: collection, collectionId: collectionId,
                                wallMillis: wallMillis, engineKey: key, idElement: id, description: description,
                                into: buffer)
                            // As typed bytes: a raw buffer appends byte by byte.
                            value.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<written]).assumingMemoryBound(to: UInt8.self))
                        }
                    }
                    return n
                }
            }
        }
    }
}
