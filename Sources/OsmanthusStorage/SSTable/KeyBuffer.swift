/// A growable byte buffer in memory it owns, for a key rebuilt entry by entry as a block cursor
/// moves (each entry stores only the bytes it does not share with its predecessor).
///
/// Truncating is a length change and appending a capacity check and a `memcpy`: none of an
/// array's uniqueness checks or copy-on-write, and its bytes can be compared in place.
/// Noncopyable, so exactly one owner frees the memory.
struct KeyBuffer: ~Copyable {
    /// Always allocated (at least `minimumCapacity` bytes); the first `count` are the key.
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private(set) var capacity: Int

    static let minimumCapacity = 32

    init(capacity: Int = 64) {
        self.capacity = max(capacity, Self.minimumCapacity)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// The key's bytes; valid until the next mutation.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// A copy of the key as an array.
    var array: [UInt8] { Array(bytes.assumingMemoryBound(to: UInt8.self)) }

    mutating func removeAll() { count = 0 }

    /// Replaces the contents with `bytes`.
    @inline(__always)
    mutating func assign(_ bytes: UnsafeRawBufferPointer) {
        count = 0
        if let source = bytes.baseAddress { append(source, count: bytes.count) }
    }

    /// Keeps the first `length` bytes (`length` ≤ `count`).
    @inline(__always)
    mutating func truncate(to length: Int) {
        precondition(length >= 0 && length <= count, "truncate beyond the key's length")
        count = length
    }

    /// Appends `length` bytes from `source`.
    @inline(__always)
    mutating func append(_ source: UnsafeRawPointer, count length: Int) {
        precondition(length >= 0, "negative append")
        if count + length > capacity { grow(to: count + length) }
        (base + count).copyMemory(from: source, byteCount: length)
        count += length
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, 2 * capacity)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        memory.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = memory
        capacity = newCapacity
    }
}
