import Glibc

/// A decoded (decompressed, checksum-verified) block: entries followed by the restart array
/// (SPEC.md §7.2, `BlockBuilder`). Immutable, so one instance is shared by the block cache and any
/// number of iterators on any threads.
///
/// The bytes live in memory the block allocates and frees itself, so iterators can decode through
/// a plain pointer (no closure, no exclusivity check, no retain per entry).
/// `@unchecked Sendable`: the memory is written once in `init` and only read afterwards.
final class Block: @unchecked Sendable {
    /// The block's bytes, restart array included; `count` bytes, never mutated after init.
    let base: UnsafePointer<UInt8>
    let count: Int
    /// Where the restart array starts; entries occupy `base[0..<restartsOffset]`.
    let restartsOffset: Int
    let restartCount: Int
    /// For corruption errors: the table file and this block's offset in it.
    let file: String
    let offset: UInt64

    /// Validates the restart array so iteration can index it without further checks.
    convenience init(contents: [UInt8], file: String, offset: UInt64) throws {
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: max(contents.count, 1))
        contents.withUnsafeBufferPointer { src in
            if let source = src.baseAddress { memory.initialize(from: source, count: src.count) }
        }
        try self.init(adopting: memory, count: contents.count, file: file, offset: offset)
    }

    /// Takes ownership of `memory` (allocated with `UnsafeMutablePointer<UInt8>.allocate`, at
    /// least `count` bytes, the first `count` initialized): a block read or decompressed straight
    /// into its final place needs no copy. On a thrown error the memory is freed here.
    init(adopting memory: UnsafeMutablePointer<UInt8>, count: Int, file: String, offset: UInt64) throws {
        func corrupt(_ message: String) -> StorageError {
            memory.deallocate()
            return StorageError.corruption("block: \(message)", file: file, offset: offset)
        }
        func fixed32(_ at: Int) -> Int {
            Int(UInt32(littleEndian: UnsafeRawPointer(memory).loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        guard count >= 4 else { throw corrupt("too short (\(count) bytes)") }
        let restarts = fixed32(count - 4)
        guard restarts <= (count - 4) / 4 else {
            throw corrupt("restart count \(restarts) does not fit in \(count) bytes")
        }
        let start = count - 4 - 4 * restarts
        if start > 0 {
            // Entries present: restart 0 must be the first entry and offsets strictly increase.
            guard restarts >= 1 else { throw corrupt("entries but no restart points") }
            var previous = -1
            for i in 0..<restarts {
                let r = fixed32(start + 4 * i)
                guard r > previous, r < start, i > 0 || r == 0 else {
                    throw corrupt("restart point \(i) (\(r)) out of order or out of range")
                }
                previous = r
            }
        }
        self.base = UnsafePointer(memory)
        self.count = count
        self.restartsOffset = start
        self.restartCount = restarts
        self.file = file
        self.offset = offset
    }

    /// A block with no entries (a cursor's placeholder before it is given a real block).
    static let empty = Block()

    private init() {
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: 4)
        memory.initialize(repeating: 0, count: 4)
        base = UnsafePointer(memory)
        count = 4
        restartsOffset = 0
        restartCount = 0
        file = ""
        offset = 0
    }

    deinit {
        UnsafeMutablePointer(mutating: base).deallocate()
    }

    /// Bytes the block holds in memory (what the block cache charges).
    var byteSize: Int { count }

    var isEmpty: Bool { restartsOffset == 0 }

    /// The block's bytes as an array (tests and tools).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Offset of restart point `index` (< `restartCount`, checked by the caller).
    @inline(__always)
    func restartPoint(_ index: Int) -> Int {
        // One unaligned load; `index` < `restartCount` keeps it inside the validated array.
        Int(UInt32(littleEndian: UnsafeRawPointer(base + restartsOffset).loadUnaligned(
            fromByteOffset: 4 &* index, as: UInt32.self)))
    }

    func makeIterator() -> BlockIterator { BlockIterator(self) }

    func corruption(_ message: String, at entry: Int) -> StorageError {
        StorageError.corruption(
            "block entry at \(entry): \(message)", file: file, offset: offset)
    }
}

/// Compares two internal keys held in raw memory (same order as `InternalKey.compare`): user keys
/// bytewise, then the packed sequence/kind trailer descending. Both counts must be ≥ 8.
@inline(__always)
func compareInternalKeys(
    _ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int
) -> Int {
    let aUser = aCount - InternalKey.trailerSize
    let bUser = bCount - InternalKey.trailerSize
    let n = min(aUser, bUser)
    if n > 0 {
        let r = compareMemory(a, b, n)
        if r != 0 { return r }
    }
    if aUser != bUser { return aUser < bUser ? -1 : 1 }
    let ta = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: aUser, as: UInt64.self))
    let tb = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: bUser, as: UInt64.self))
    return ta > tb ? -1 : (ta < tb ? 1 : 0)
}
