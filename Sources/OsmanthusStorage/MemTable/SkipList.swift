import Atomics
import Glibc

/// A skiplist of internal-key entries whose nodes live in an `Arena` (after leveldb's
/// `db/skiplist.h`): one writer at a time, any number of readers without a lock.
///
/// Readers never see a torn node: the writer fills a node completely, sets its own next
/// pointers, and only then publishes it with a release store into its predecessors; readers load
/// every next pointer with acquire ordering. Nodes are never removed or moved, so a node a reader
/// holds stays valid as long as the skiplist lives.
///
/// Node layout, at a node's address `p` (8-aligned), for a node of height `h`:
///
///     p - 8*h ..< p   next pointers, level i at p - 8*(i+1) (atomic words)
///     p + 0           UInt32 internal-key length (user key + 8-byte trailer)
///     p + 4           UInt32 value length; its top bit set: the value is shared (below)
///     p + 8           internal key bytes, then value bytes (or, shared, the value's address)
///
/// A node's value may be *shared*: bytes of another node's value, pointed to by the 8 bytes
/// after its key. A spliced write batch record (`head ‖ a document`) and the document's own put
/// are stored once: the document's node points into the record's value (arena memory never
/// moves or is freed before the list, and the record's node is filled before the document's is
/// published).
///
/// Keys are ordered as `InternalKey.compare` orders them, compared in place on the arena bytes.
final class SkipList {
    static let maxHeight = 12
    /// Each level is kept with probability 1/4 (two random bits per level).
    private static let branchingMask: UInt64 = 3
    private static let headerSize = 8
    /// Set in a node's value length when its value is shared (stored elsewhere in the arena).
    static let sharedValueFlag: UInt32 = 1 << 31
    private static let linkSize = 8

    typealias Link = UnsafeAtomic<UnsafeMutableRawPointer?>

    struct Node: Equatable {
        let address: UnsafeMutableRawPointer

        @inline(__always)
        var keyLength: Int { Int(address.load(as: UInt32.self)) }
        @inline(__always)
        var valueLength: Int { Int(address.load(fromByteOffset: 4, as: UInt32.self) & ~SkipList.sharedValueFlag) }
        @inline(__always)
        var key: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: address + SkipList.headerSize, count: keyLength)
        }
        @inline(__always)
        var value: UnsafeRawBufferPointer {
            let length = address.load(fromByteOffset: 4, as: UInt32.self)
            let start = address + SkipList.headerSize + keyLength
            if length & SkipList.sharedValueFlag == 0 { return UnsafeRawBufferPointer(start: start, count: Int(length)) }
            let shared = UnsafeRawPointer(bitPattern: start.loadUnaligned(as: UInt.self))
            return UnsafeRawBufferPointer(start: shared, count: Int(length & ~SkipList.sharedValueFlag))
        }

        @inline(__always)
        func link(_ level: Int) -> Link {
            let slot = address - SkipList.linkSize * (level + 1)
            return Link(at: slot.assumingMemoryBound(to: Link.Storage.self))
        }

        /// Successor at `level`, loaded with acquire ordering so its contents are visible.
        @inline(__always)
        func next(_ level: Int) -> Node? {
            link(level).load(ordering: .acquiring).map(Node.init)
        }
    }

    private let arena = Arena()
    private let head: Node
    /// Height of the tallest node. Relaxed is enough: a reader that sees a new height before the
    /// head's new links just finds nil there and moves down a level.
    private let height = ManagedAtomic<Int>(1)
    /// Writer-only state: the PRNG, and (`splice`) the per-level predecessors of the node being
    /// inserted, left after the last insert that was not `ascending` as `finger` is after the
    /// last that was. (`@exclusivity(unchecked)`: writer-only, never accessed overlapping.)
    @exclusivity(unchecked) private var random: UInt64 = 0x9E37_79B9_7F4A_7C15
    /// Writer-only: the last plain insert went right after the one before it, so the next may
    /// go right after it (see `link`).
    @exclusivity(unchecked) private var plainRun = false
    private let splice: UnsafeMutablePointer<Node>
    /// Writer-only: the per-level predecessors left by the last `ascending` insert (that node
    /// itself on the levels it reached), so the next key of the run is linked in after a check
    /// of each level instead of a search from the top (RocksDB calls this an insert hint). Each
    /// entry is a node at or before the one below it, so checking level 0's node is less than the
    /// new key covers them all; each level's successor is checked to be greater.
    private let finger: UnsafeMutablePointer<Node>

    /// The memtable's key filter, told every user key as its node is linked (nil: none).
    private let filter: MemTableFilter?

    init(filter: MemTableFilter? = nil) {
        self.filter = filter
        precondition(MemoryLayout<Link.Storage>.size == SkipList.linkSize)
        head = SkipList.allocateNode(in: arena, height: SkipList.maxHeight, keyLength: 0, valueLength: 0, valueBytes: 0)
        splice = .allocate(capacity: SkipList.maxHeight)
        splice.initialize(repeating: head, count: SkipList.maxHeight)
        finger = .allocate(capacity: SkipList.maxHeight)
        finger.initialize(repeating: head, count: SkipList.maxHeight)
    }

    deinit {
        splice.deinitialize(count: SkipList.maxHeight)
        splice.deallocate()
        finger.deinitialize(count: SkipList.maxHeight)
        finger.deallocate()
    }

    var memoryUsage: Int { arena.memoryUsage }

    // MARK: Writing (one thread at a time)

    /// Copies `userKey ‖ fixed64(trailer)` and `head ‖ value` (the value in up to two pieces:
    /// a spliced write batch record's) into a new node and links it in; returns where the node's
    /// value starts (another node may share it, `insert(userKey:trailer:sharing:)`).
    /// The internal key must not already be present. `ascending`: first try the place right
    /// after the previous `ascending` insert (`finger`); any key may be passed, a wrong guess only
    /// costs the check before the usual search.
    @discardableResult
    func insert(
        userKey: UnsafeRawBufferPointer, trailer: UInt64, head: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        ascending: Bool = false
    ) -> UnsafeRawPointer {
        let keyLength = userKey.count + InternalKey.trailerSize
        let valueLength = head.count + value.count
        precondition(keyLength <= Int(UInt32.max) && valueLength < Int(SkipList.sharedValueFlag), "entry too large")
        let nodeHeight = randomHeight()
        let node = SkipList.allocateNode(
            in: arena, height: nodeHeight, keyLength: keyLength, valueLength: valueLength, valueBytes: valueLength)
        let keyStart = node.address + SkipList.headerSize
        if let base = userKey.baseAddress { keyStart.copyMemory(from: base, byteCount: userKey.count) }
        keyStart.storeBytes(of: trailer.littleEndian, toByteOffset: userKey.count, as: UInt64.self)
        if let base = head.baseAddress { (keyStart + keyLength).copyMemory(from: base, byteCount: head.count) }
        if let base = value.baseAddress { (keyStart + keyLength + head.count).copyMemory(from: base, byteCount: value.count) }
        link(node, height: nodeHeight, ascending: ascending)
        return UnsafeRawPointer(keyStart + keyLength)
    }

    /// `insert` of a value in one piece (every record but a spliced one).
    func insert(userKey: UnsafeRawBufferPointer, trailer: UInt64, value: UnsafeRawBufferPointer, ascending: Bool = false) {
        let keyLength = userKey.count + InternalKey.trailerSize
        precondition(keyLength <= Int(UInt32.max) && value.count < Int(SkipList.sharedValueFlag), "entry too large")
        let nodeHeight = randomHeight()
        let node = SkipList.allocateNode(
            in: arena, height: nodeHeight, keyLength: keyLength, valueLength: value.count, valueBytes: value.count)
        let keyStart = node.address + SkipList.headerSize
        if let base = userKey.baseAddress { keyStart.copyMemory(from: base, byteCount: userKey.count) }
        keyStart.storeBytes(of: trailer.littleEndian, toByteOffset: userKey.count, as: UInt64.self)
        if let base = value.baseAddress { (keyStart + keyLength).copyMemory(from: base, byteCount: value.count) }
        link(node, height: nodeHeight, ascending: ascending)
    }

    /// As `insert`, but the node's value is `value`, bytes of another node of this list (inserted
    /// earlier), shared instead of copied: the node holds their address.
    func insert(userKey: UnsafeRawBufferPointer, trailer: UInt64, sharing value: UnsafeRawBufferPointer, ascending: Bool = false) {
        let keyLength = userKey.count + InternalKey.trailerSize
        precondition(keyLength <= Int(UInt32.max) && value.count < Int(SkipList.sharedValueFlag), "entry too large")
        let nodeHeight = randomHeight()
        let node = SkipList.allocateNode(
            in: arena, height: nodeHeight, keyLength: keyLength,
            valueLength: value.count | Int(SkipList.sharedValueFlag), valueBytes: MemoryLayout<UInt>.size)
        let keyStart = node.address + SkipList.headerSize
        if let base = userKey.baseAddress { keyStart.copyMemory(from: base, byteCount: userKey.count) }
        keyStart.storeBytes(of: trailer.littleEndian, toByteOffset: userKey.count, as: UInt64.self)
        keyStart.storeBytes(of: UInt(bitPattern: value.baseAddress), toByteOffset: keyLength, as: UInt.self)
        link(node, height: nodeHeight, ascending: ascending)
    }

    /// Links a filled node of `nodeHeight` levels in at its place.
    @inline(__always)
    private func link(_ node: Node, height nodeHeight: Int, ascending: Bool) {
        // The key's filter bits before the node is published (MemTableFilter); hashed from the
        // node's copy of the key, just written. Here rather than in `MemTable.insert`, which
        // then stayed small enough to be inlined into the write path.
        if let filter {
            filter.add(
                key: UnsafeRawBufferPointer(
                    start: node.address + SkipList.headerSize, count: node.keyLength - InternalKey.trailerSize))
        }
        let current = height.load(ordering: .relaxed)
        // Each kind of insert keeps its own run: `finger` after the last `ascending` insert,
        // `splice` after the last other one. A key that goes right after the last of its run
        // (keys written in order: a sequential load, a batch in key order) is linked in
        // without a search.
        // A plain insert tries that only while plain inserts run in order (`plainRun`), so keys
        // in random order pay one pointer comparison for it, not a check of every level.
        let predecessors = ascending ? finger : splice
        if !((ascending || plainRun) && Self.precede(node.key, predecessors, levels: current, head: head)) {
            let previous = predecessors[0]
            let successor = search(node.key, splice: predecessors)
            assert(successor.map { SkipList.compare($0.key, node.key) != 0 } ?? true, "duplicate internal key")
            // Right after the last plain insert: a run in key order may be starting.
            if !ascending { plainRun = predecessors[0] == previous && previous != head }
        }
        if nodeHeight > current {
            for level in current..<nodeHeight { predecessors[level] = head }
            height.store(nodeHeight, ordering: .relaxed)
        }
        for level in 0..<nodeHeight {
            let predecessor = predecessors[level].link(level)
            // The node is not yet reachable, so its own links need no ordering; the release store
            // into the predecessor publishes them together with the key and value bytes.
            node.link(level).store(predecessor.load(ordering: .relaxed), ordering: .relaxed)
            predecessor.store(node.address, ordering: .releasing)
        }
        // The next key of the run goes after this node on the levels it reached.
        for level in 0..<nodeHeight { predecessors[level] = node }
    }

    /// Whether `predecessors` holds `key`'s predecessors on every level in use: level 0's node
    /// sorts before `key` (so every level's does) and no level's successor does. The levels are
    /// checked from the top, whose few nodes stay in cache: a key far from the run is turned
    /// down there, before the level-0 successor is loaded.
    @inline(never)
    private static func precede(
        _ key: UnsafeRawBufferPointer, _ predecessors: UnsafeMutablePointer<Node>, levels: Int, head: Node
    ) -> Bool {
        let last = predecessors[0]
        if last != head && SkipList.compare(last.key, key) >= 0 { return false }
        var level = levels - 1
        while level >= 0 {
            if let next = predecessors[level].next(level), SkipList.compare(next.key, key) < 0 { return false }
            level -= 1
        }
        return true
    }

    /// xorshift64; each extra level with probability 1/4.
    private func randomHeight() -> Int {
        var x = random
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        random = x
        var nodeHeight = 1
        while nodeHeight < SkipList.maxHeight && x & SkipList.branchingMask == 0 {
            nodeHeight += 1
            x >>= 2
        }
        return nodeHeight
    }

    /// `valueLength` is what the header says (the shared flag included); `valueBytes` the room
    /// after the key.
    private static func allocateNode(in arena: Arena, height: Int, keyLength: Int, valueLength: Int, valueBytes: Int) -> Node {
        let towerSize = linkSize * height
        let start = arena.allocate(towerSize + headerSize + keyLength + valueBytes)
        let node = Node(address: start + towerSize)
        start.bindMemory(to: Link.Storage.self, capacity: height)
            .initialize(repeating: Link.Storage(nil), count: height)
        node.address.storeBytes(of: UInt32(truncatingIfNeeded: keyLength), as: UInt32.self)
        node.address.storeBytes(of: UInt32(truncatingIfNeeded: valueLength), toByteOffset: 4, as: UInt32.self)
        return node
    }

    // MARK: Reading (any thread)

    var first: Node? { head.next(0) }

    /// The first node whose key is ≥ `target` (an internal key), or nil.
    func findGreaterOrEqual(_ target: UnsafeRawBufferPointer) -> Node? {
        precondition(target.count >= InternalKey.trailerSize, "not an internal key")
        return search(target, splice: nil)
    }

    /// The last node whose key is < `target`, or nil when there is none.
    func findLessThan(_ target: UnsafeRawBufferPointer) -> Node? {
        precondition(target.count >= InternalKey.trailerSize, "not an internal key")
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            if let next = node.next(level), SkipList.compare(next.key, target) < 0 {
                node = next
            } else if level == 0 {
                return node == head ? nil : node
            } else {
                level -= 1
            }
        }
    }

    /// The last node, or nil when the list is empty.
    func findLast() -> Node? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        while true {
            if let next = node.next(level) {
                node = next
            } else if level == 0 {
                return node == head ? nil : node
            } else {
                level -= 1
            }
        }
    }

    /// Whether every level's links run in strictly ascending key order (a check for tests: a
    /// node linked in at a wrong place on an upper level would still leave level 0 sorted).
    func levelsAreOrdered() -> Bool {
        for level in 0..<SkipList.maxHeight {
            var node = head.next(level)
            while let n = node, let next = n.next(level) {
                if SkipList.compare(n.key, next.key) >= 0 { return false }
                node = next
            }
        }
        return true
    }

    /// The first node ≥ `target`; records each level's last node < `target` in `splice`.
    @inline(__always)
    private func search(_ target: UnsafeRawBufferPointer, splice: UnsafeMutablePointer<Node>?) -> Node? {
        var node = head
        var level = height.load(ordering: .relaxed) - 1
        // The node that stopped the walk one level up: found again as the successor one level
        // down (which happens often), it is known to be ≥ target without comparing.
        var knownNotLess: UnsafeMutableRawPointer? = nil
        let prefix = Prefix(target)
        while true {
            let next = node.next(level)
            if let next, next.address != knownNotLess, prefix.isLess(next, target) {
                node = next
            } else {
                knownNotLess = next?.address
                splice?[level] = node
                if level == 0 { return next }
                level -= 1
            }
        }
    }

    /// A search target's first 8 user-key bytes as one big-endian word, loaded once per search:
    /// most nodes differ from the target there, and are ordered by one word comparison.
    private struct Prefix {
        /// 0 when the target's user key is shorter than 8 bytes (then every node is compared
        /// in full).
        let word: UInt64
        let usable: Bool

        @inline(__always)
        init(_ target: UnsafeRawBufferPointer) {
            usable = target.count - InternalKey.trailerSize >= 8
            word = usable ? UInt64(bigEndian: target.loadUnaligned(as: UInt64.self)) : 0
        }

        /// Whether `node`'s key sorts before `target` (`SkipList.compare(node.key, target) < 0`).
        @inline(__always)
        func isLess(_ node: Node, _ target: UnsafeRawBufferPointer) -> Bool {
            // A node key of at least 8 user-key bytes with a different first word: the words
            // order the keys (bytewise order of the first 8 bytes decides).
            if usable && node.keyLength >= 8 + InternalKey.trailerSize {
                let w = UInt64(bigEndian: (node.address + SkipList.headerSize).loadUnaligned(as: UInt64.self))
                if w != word { return w < word }
            }
            return SkipList.compare(node.key, target) < 0
        }
    }

    /// `InternalKey.compare` on raw bytes: user keys bytewise ascending, then trailer descending.
    /// Both keys must be at least a trailer long (node keys always are; search targets are checked).
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let aUser = a.count - InternalKey.trailerSize
        let bUser = b.count - InternalKey.trailerSize
        let common = min(aUser, bUser)
        if common >= 8 {
            // Most keys differ in their first 8 bytes: compare those as one big-endian word
            // (bytewise order) before paying for a call to memcmp.
            let wa = UInt64(bigEndian: a.loadUnaligned(as: UInt64.self))
            let wb = UInt64(bigEndian: b.loadUnaligned(as: UInt64.self))
            if wa != wb { return wa < wb ? -1 : 1 }
            if common > 8, let pa = a.baseAddress, let pb = b.baseAddress {
                let r = memcmp(pa + 8, pb + 8, common - 8)
                if r != 0 { return r < 0 ? -1 : 1 }
            }
        } else if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let r = memcmp(pa, pb, common)
            if r != 0 { return r < 0 ? -1 : 1 }
        }
        if aUser != bUser { return aUser < bUser ? -1 : 1 }
        let ta = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: aUser, as: UInt64.self))
        let tb = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: bUser, as: UInt64.self))
        return ta > tb ? -1 : (ta < tb ? 1 : 0)
    }
}
