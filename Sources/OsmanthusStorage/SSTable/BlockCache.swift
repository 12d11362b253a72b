import Synchronization

/// Decompressed blocks shared by all tables, keyed by (file number, block offset), least recently
/// used first out, charged by block size in bytes.
///
/// Split into shards, each with its own `Mutex`, so readers on different blocks rarely contend.
/// `@unchecked Sendable`: all mutable state lives inside the shards' mutexes; `capacity` and the
/// shard array are immutable.
public final class BlockCache: @unchecked Sendable {
    struct Key: Hashable {
        var fileNumber: UInt64
        var offset: UInt64
    }

    public let capacity: Int
    private let shards: [Shard]

    /// Each shard gets at least 1 MiB (so a 4 KiB block always fits), up to 16 shards.
    public init(capacity: Int) {
        precondition(capacity >= 0, "cache capacity must not be negative")
        self.capacity = capacity
        var count = 16
        while count > 1 && capacity / count < (1 << 20) { count /= 2 }
        let perShard = capacity / count
        shards = (0..<count).map { _ in Shard(capacity: perShard) }
    }

    public var usage: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.usage } } }
    public var hits: UInt64 { shards.reduce(0) { $0 + $1.state.withLock { $0.hits } } }
    public var misses: UInt64 { shards.reduce(0) { $0 + $1.state.withLock { $0.misses } } }

    /// Drops every block of a table (called when its file is deleted).
    public func evict(fileNumber: UInt64) {
        for shard in shards {
            shard.state.withLock { $0.removeAll { $0.fileNumber == fileNumber } }
        }
    }

    func lookup(fileNumber: UInt64, offset: UInt64) -> Block? {
        let key = Key(fileNumber: fileNumber, offset: offset)
        return shard(for: key).state.withLock { $0.lookup(key) }
    }

    /// Adds a block; one larger than a shard's capacity is not cached.
    func insert(fileNumber: UInt64, offset: UInt64, block: Block) {
        let key = Key(fileNumber: fileNumber, offset: offset)
        shard(for: key).state.withLock { $0.insert(key, block, charge: block.byteSize) }
    }

    /// Whether a block of `charge` bytes at (file, offset) would fit in its shard without
    /// evicting anything (a hint: `insertIfRoom` decides under the shard's lock).
    func hasRoom(fileNumber: UInt64, offset: UInt64, charge: Int) -> Bool {
        shard(for: Key(fileNumber: fileNumber, offset: offset)).state.withLock { $0.usage + charge <= $0.capacity }
    }

    /// Adds a block only when it fits without evicting another, as the least recently used:
    /// blocks a flush has just written (`TableBuilder.fillCache`) take free room, never the place
    /// of blocks that reads brought in, and are the first to go when reads need room (a read of
    /// one makes it the most recent). Returns whether it was added.
    @discardableResult
    func insertIfRoom(fileNumber: UInt64, offset: UInt64, block: Block) -> Bool {
        let key = Key(fileNumber: fileNumber, offset: offset)
        return shard(for: key).state.withLock { state in
            guard state.usage + block.byteSize <= state.capacity else { return false }
            state.insert(key, block, charge: block.byteSize, asOldest: true)
            return true
        }
    }

    private func shard(for key: Key) -> Shard {
        var h = key.fileNumber &* 0x9E37_79B9_7F4A_7C15 ^ key.offset &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 31
        return shards[Int(h % UInt64(shards.count))]
    }

    private final class Shard: Sendable {
        /// Guards this shard's entries, recency list, usage and hit counters.
        let state: Mutex<LRUState>
        init(capacity: Int) { state = Mutex(LRUState(capacity: capacity)) }
    }
}

/// One shard's LRU: a hash index (`BlockCacheIndex`) into an array of slots threaded on a doubly linked recency list
/// (indices, not references, so moving an entry costs no reference counting).
struct LRUState: ~Copyable {
    struct Slot {
        var key: BlockCache.Key
        var block: Block?
        var charge: Int
        var newer: Int
        var older: Int
    }

    let capacity: Int
    private(set) var usage = 0
    private(set) var hits: UInt64 = 0
    private(set) var misses: UInt64 = 0
    private var index = BlockCacheIndex()
    private var slots: [Slot] = []
    private var freeSlots: [Int] = []
    /// Most and least recently used slots; -1 when empty.
    private var newest = -1
    private var oldest = -1

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { index.count }

    mutating func lookup(_ key: BlockCache.Key) -> Block? {
        guard let slot = index.find(fileNumber: key.fileNumber, offset: key.offset) else {
            misses += 1
            return nil
        }
        hits += 1
        unlink(slot)
        pushNewest(slot)
        return slots[slot].block
    }

    /// `asOldest`: placed at the least recently used end instead of the most recent.
    mutating func insert(_ key: BlockCache.Key, _ block: Block, charge: Int, asOldest: Bool = false) {
        if let existing = index.find(fileNumber: key.fileNumber, offset: key.offset) { remove(slot: existing) }
        guard charge <= capacity else { return }
        while usage + charge > capacity && oldest >= 0 { remove(slot: oldest) }
        let slot: Int
        let entry = Slot(key: key, block: block, charge: charge, newer: -1, older: -1)
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[slot] = entry
        } else {
            slot = slots.count
            slots.append(entry)
        }
        index.set(fileNumber: key.fileNumber, offset: key.offset, slot: slot)
        usage += charge
        if asOldest { pushOldest(slot) } else { pushNewest(slot) }
    }

    mutating func removeAll(where matches: (BlockCache.Key) -> Bool) {
        let doomed = index.entries { matches(BlockCache.Key(fileNumber: $0.fileNumber, offset: $0.offset)) }.map(\.slot)
        for slot in doomed { remove(slot: slot) }
    }

    private mutating func remove(slot: Int) {
        unlink(slot)
        index.remove(fileNumber: slots[slot].key.fileNumber, offset: slots[slot].key.offset)
        usage -= slots[slot].charge
        slots[slot].block = nil
        slots[slot].charge = 0
        freeSlots.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let newer = slots[slot].newer
        let older = slots[slot].older
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        slots[slot].newer = -1
        slots[slot].older = -1
    }

    private mutating func pushOldest(_ slot: Int) {
        slots[slot].newer = oldest
        slots[slot].older = -1
        if oldest >= 0 { slots[oldest].older = slot }
        oldest = slot
        if newest < 0 { newest = slot }
    }

    private mutating func pushNewest(_ slot: Int) {
        slots[slot].older = newest
        slots[slot].newer = -1
        if newest >= 0 { slots[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
