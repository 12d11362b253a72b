/// Packed trailers (SPEC.md §7.3): a data block is stored with each entry's 8-byte internal-key
/// trailer written as a varint, and unpacked back to the plain block (§7.2) when it is read, so
/// nothing past the block read sees the difference.
///
/// A trailer is `fixed64(sequence << 8 | kind)`: below 2⁵⁶ its top bytes are zero, which no block
/// compressor stores for free (lz4 spends about as many bytes matching four zeros as the zeros
/// take). As a varint, a sequence below 2²⁰ takes 4 bytes and sequence 0 (the bottom level,
/// §9.4) one byte.
///
///     packed_block := packed_entry* ‖ fixed32 restart × n ‖ fixed32 n ‖ fixed32 plain_size
///     packed_entry := varint32 shared ‖ varint32 unshared ‖ varint32 value_length
///                     ‖ key_delta'  ‖ value
///     key_delta'   := key_delta[0 ..< unshared − 8] ‖ varint64 fixed64-trailer   if unshared ≥ 8
///                   | key_delta                                                  otherwise
///
/// The entry headers and the restart array keep the plain block's numbers, so unpacking restores
/// the exact bytes (the restart offsets count plain bytes); `plain_size` lets it write the plain
/// block in one pass into memory of the right size.
enum TrailerPacking {
    /// Packs a plain block (as `BlockBuilder` makes it: trusted) into `scratch`. Returns the
    /// packed length, or nil when packing would not make the block smaller.
    static func pack(_ block: UnsafeRawBufferPointer, into scratch: CompressionScratch) -> Int? {
        guard let base = block.baseAddress?.assumingMemoryBound(to: UInt8.self), block.count >= 4,
            block.count <= Int(UInt32.max)
        else { return nil }
        let restarts = Int(UInt32(littleEndian: block.loadUnaligned(fromByteOffset: block.count - 4, as: UInt32.self)))
        let end = block.count - 4 - 4 * restarts
        let tail = block.count - end
        // Output that would not come out smaller than the plain block is abandoned before it is
        // written, so this is room enough.
        let out = scratch.reserve(block.count + 16).assumingMemoryBound(to: UInt8.self)
        let room = block.count - tail - 4  // entries must end here to come out smaller
        @inline(__always) func varint(_ p: inout Int) -> Int? { headerVarint(base, &p, end: end) }
        // As in `unpack`: one copy per trailer, of the bytes since the previous one.
        var o = 0
        var p = 0
        var run = 0
        while p < end {
            guard varint(&p) != nil, let unshared = varint(&p), let valueLength = varint(&p) else { return nil }
            if unshared >= InternalKey.trailerSize {
                p += unshared - InternalKey.trailerSize
                let n = p - run
                let trailer = UInt64(littleEndian: UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self))
                let varintLength = max(1, (64 - trailer.leadingZeroBitCount + 6) / 7)
                guard o + n + varintLength <= room else { return nil }
                (out + o).update(from: base + run, count: n)
                o += n
                p += InternalKey.trailerSize
                o += storeVarint(trailer, at: out + o)
                run = p
                p += valueLength
            } else {
                p += unshared + valueLength
            }
        }
        guard o + (end - run) <= room else { return nil }
        (out + o).update(from: base + run, count: end - run)
        o += end - run
        (out + o).update(from: base + end, count: tail)
        o += tail
        UnsafeMutableRawPointer(out + o).storeBytes(of: UInt32(block.count).littleEndian, as: UInt32.self)
        o += 4
        return o < block.count ? o : nil
    }

    /// An entry-header varint: one byte, mostly, so that case is inline (`pack` and `unpack`).
    @inline(__always)
    private static func headerVarint(_ base: UnsafePointer<UInt8>, _ p: inout Int, end: Int) -> Int? {
        if p < end, base[p] < 0x80 {
            defer { p += 1 }
            return Int(base[p])
        }
        return RawVarint.decode32(base, &p, end: end)
    }

    /// Unpacks a packed block into memory allocated here (exactly the plain block's size, at
    /// least one byte), which the caller then owns. Anything that does not parse, does not come
    /// out at exactly `plain_size`, or would exceed `limit` bytes is a `corruption` error naming
    /// `file` and `offset`.
    static func unpack(
        _ packed: UnsafeRawBufferPointer, limit: Int, file: String, offset: UInt64
    ) throws -> (memory: UnsafeMutablePointer<UInt8>, count: Int) {
        func corrupt(_ message: String) -> StorageError {
            StorageError.corruption("packed block: \(message)", file: file, offset: offset)
        }
        guard let base = packed.baseAddress?.assumingMemoryBound(to: UInt8.self), packed.count >= 8 else {
            throw corrupt("too short (\(packed.count) bytes)")
        }
        let plainSize = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: packed.count - 4, as: UInt32.self)))
        let restarts = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: packed.count - 8, as: UInt32.self)))
        guard restarts <= (packed.count - 8) / 4 else { throw corrupt("restart count \(restarts) does not fit") }
        let end = packed.count - 8 - 4 * restarts
        let tail = 4 * restarts + 4
        guard plainSize <= limit else { throw corrupt("plain size \(plainSize) exceeds \(limit) bytes") }
        guard plainSize >= tail else { throw corrupt("plain size \(plainSize) is shorter than its restarts") }
        let entriesEnd = plainSize - tail
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(plainSize, 1))
        func fail(_ message: String) -> StorageError {
            memory.deallocate()
            return corrupt(message)
        }
        @inline(__always) func varint(_ p: inout Int) -> Int? { headerVarint(base, &p, end: end) }
        // Bytes between two trailers are the same in both forms (a value, the next entry's
        // header and user-key part): one copy per trailer, from `run` up to it.
        var o = 0
        var p = 0
        var run = 0
        while p < end {
            let start = p
            guard varint(&p) != nil, let unshared = varint(&p), let valueLength = varint(&p) else {
                throw fail("bad entry header at \(start)")
            }
            if unshared >= InternalKey.trailerSize {
                let userPart = unshared - InternalKey.trailerSize
                guard userPart <= end - p else { throw fail("key runs past the entries at \(start)") }
                p += userPart
                let n = p - run
                guard n <= entriesEnd - o, InternalKey.trailerSize <= entriesEnd - o - n else {
                    throw fail("entry at \(start) unpacks too long")
                }
                (memory + o).update(from: base + run, count: n)
                o += n
                guard let trailer = RawVarint.decode64(base, &p, end: end) else {
                    throw fail("bad trailer varint at \(start)")
                }
                UnsafeMutableRawPointer(memory + o).storeBytes(of: trailer.littleEndian, as: UInt64.self)
                o += InternalKey.trailerSize
                run = p
                guard valueLength <= end - p else { throw fail("value runs past the entries at \(start)") }
                p += valueLength
            } else {
                guard unshared <= end - p, valueLength <= end - p - unshared else {
                    throw fail("entry runs past the entries at \(start)")
                }
                p += unshared + valueLength
            }
        }
        let n = end - run
        guard n == entriesEnd - o else { throw fail("entries unpack to \(o + n) bytes, not \(entriesEnd)") }
        (memory + o).update(from: base + run, count: n + tail)
        return (memory, plainSize)
    }
}
