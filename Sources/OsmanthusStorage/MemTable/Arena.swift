import Atomics

/// Bump allocator for a memtable's skiplist nodes.
///
/// Memory comes in chunks that never move and are freed only when the arena dies, so a node
/// address stays valid for the arena's whole life and readers can follow raw pointers without
/// reference counting. Requests larger than a quarter chunk get a chunk of their own, so one big
/// value neither wastes the rest of the current chunk nor forces an oversized standard chunk.
///
/// Chunks start small and double up to `chunkSize`: `memoryUsage` then stays close to the bytes
/// really used while the memtable is small, so a small write-buffer limit still means something.
///
/// Only one thread may allocate at a time (the memtable's single writer). `memoryUsage` is atomic
/// because other threads read it to decide when to switch memtables.
final class Arena {
    static let chunkSize = 1 << 20
    static let firstChunkSize = 4 << 10
    static let alignment = 8

    /// Every chunk handed out, freed in `deinit`. Touched by the writer only.
    /// (`@exclusivity(unchecked)` here and below: one writer, no overlapping access, so the
    /// run-time checks would only cost time on every insert.)
    @exclusivity(unchecked) private var chunks: [UnsafeMutableRawPointer] = []
    /// Next free byte of the current standard chunk and how many bytes remain after it.
    @exclusivity(unchecked) private var cursor: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var remaining = 0
    @exclusivity(unchecked) private var nextChunkSize = Arena.firstChunkSize
    private let allocated = ManagedAtomic<Int>(0)

    init() {}

    deinit {
        for chunk in chunks { chunk.deallocate() }
    }

    /// Bytes of chunk memory allocated so far.
    var memoryUsage: Int { allocated.load(ordering: .relaxed) }

    /// Returns `size` bytes aligned to `Arena.alignment`, uninitialized.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        precondition(size > 0, "arena allocations are non-empty")
        let rounded = (size + Self.alignment - 1) & ~(Self.alignment - 1)
        if rounded <= remaining, let start = cursor {
            cursor = start + rounded
            remaining -= rounded
            return start
        }
        if rounded > nextChunkSize / 4 {
            return newChunk(rounded)
        }
        // The tail of the old chunk (< a quarter chunk here) is abandoned.
        let size = nextChunkSize
        nextChunkSize = min(size * 2, Self.chunkSize)
        let start = newChunk(size)
        cursor = start + rounded
        remaining = size - rounded
        return start
    }

    private func newChunk(_ size: Int) -> UnsafeMutableRawPointer {
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
        chunks.append(chunk)
        allocated.wrappingIncrement(by: size, ordering: .relaxed)
        return chunk
    }
}
