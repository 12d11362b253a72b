/// The encoding of a batch of one put or deletion, written straight into borrowed memory: the
/// write leader logs a lone `DB.put`/`DB.delete` this way, on the stack, instead of copying it
/// into a `WriteBatch` first (SPEC.md §5: the same bytes as a batch holding that one record).
extension WriteBatch {
    /// The size of `encodeSingle`'s encoding (`value` nil: a deletion).
    @inline(__always)
    static func singleByteSize(keyCount: Int, valueCount: Int?) -> Int {
        var size = WriteBatchFormat.headerSize + 1 + varintLength(UInt64(keyCount)) + keyCount
        if let valueCount { size += varintLength(UInt64(valueCount)) + valueCount }
        return size
    }

    /// Writes `sequence ‖ count 1 ‖ kind ‖ bytes(key) [‖ bytes(value)]` at `to`, which has room
    /// for `singleByteSize` bytes; returns that size. A deletion's `value` is ignored.
    @inline(__always)
    static func encodeSingle(
        sequence: SequenceNumber, kind: ValueKind, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        to: UnsafeMutableRawPointer
    ) -> Int {
        to.storeBytes(of: sequence.littleEndian, toByteOffset: WriteBatchFormat.sequenceOffset, as: UInt64.self)
        to.storeBytes(of: UInt32(1).littleEndian, toByteOffset: WriteBatchFormat.countOffset, as: UInt32.self)
        var p = WriteBatchFormat.headerSize
        to.storeBytes(of: kind.rawValue, toByteOffset: p, as: UInt8.self)
        p += 1
        p += storeVarint(UInt64(key.count), at: to + p)
        if let base = key.baseAddress { (to + p).copyMemory(from: base, byteCount: key.count) }
        p += key.count
        if kind == .value {
            p += storeVarint(UInt64(value.count), at: to + p)
            if let base = value.baseAddress { (to + p).copyMemory(from: base, byteCount: value.count) }
            p += value.count
        }
        return p
    }
}
