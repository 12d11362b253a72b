/// Builds one block (SPEC.md §7.2): prefix-compressed entries, then the restart array.
///
///     entry   := varint shared ‖ varint unshared ‖ varint valueLength ‖ key[shared...] ‖ value
///     block   := entry* ‖ fixed32 restartOffset* ‖ fixed32 restartCount
///
/// Every `restartInterval`-th entry stores its whole key (shared = 0) and its offset goes into the
/// restart array, so a reader can binary-search the restarts and decode from any of them.
struct BlockBuilder {
    let restartInterval: Int
    private(set) var buffer: [UInt8] = []
    private var restarts: [UInt32] = [0]
    private var sinceRestart = 0
    private var lastKey: [UInt8] = []
    private(set) var entryCount = 0
    private var finished = false

    init(restartInterval: Int) {
        precondition(restartInterval >= 1, "restart interval must be at least 1")
        self.restartInterval = restartInterval
    }

    var isEmpty: Bool { entryCount == 0 }

    /// The block's size if it were finished now.
    var estimatedSize: Int { buffer.count + restarts.count * 4 + 4 }

    /// The last key added (empty before the first).
    var lastAddedKey: [UInt8] { lastKey }

    /// Keys must arrive in increasing order; the builder does not check (the table builder does).
    mutating func add(_ key: [UInt8], _ value: [UInt8]) {
        precondition(!finished, "add after finish without reset")
        var shared = 0
        if sinceRestart < restartInterval {
            let n = min(lastKey.count, key.count)
            key.withUnsafeBufferPointer { k in
                lastKey.withUnsafeBufferPointer { l in
                    while shared < n && k[shared] == l[shared] { shared += 1 }
                }
            }
        } else {
            restarts.append(UInt32(buffer.count))
            sinceRestart = 0
        }
        let unshared = key.count - shared
        buffer.appendVarint(shared)
        buffer.appendVarint(unshared)
        buffer.appendVarint(value.count)
        key.withUnsafeBufferPointer { k in
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: k[shared...]))
        }
        buffer.append(contentsOf: value)

        lastKey.removeLast(lastKey.count - shared)
        key.withUnsafeBufferPointer { k in
            lastKey.append(contentsOf: UnsafeBufferPointer(rebasing: k[shared...]))
        }
        sinceRestart += 1
        entryCount += 1
    }

    /// Appends the restart array and returns the block's bytes. Call `reset` before reuse.
    mutating func finish() -> [UInt8] {
        precondition(!finished, "finish called twice")
        for restart in restarts { buffer.appendFixed32(restart) }
        buffer.appendFixed32(UInt32(restarts.count))
        finished = true
        return buffer
    }

    /// Empties the builder, keeping its buffers' capacity.
    mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        restarts.removeAll(keepingCapacity: true)
        restarts.append(0)
        sinceRestart = 0
        lastKey.removeAll(keepingCapacity: true)
        entryCount = 0
        finished = false
    }
}
