import Glibc
import OsmanthusStorage

/// Striped locks over primary keys: a read-check-write on one document (insert if absent,
/// update if the filter still matches) holds its key's stripe, so such steps on different
/// documents run in parallel and share group commit. Operations over many documents take every
/// stripe, in order.
final class KeyLocks: @unchecked Sendable {
    static let stripes = 64
    // Heap-allocated pthread mutexes (addresses never move); each guards nothing but itself.
    private let mutexes: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutexes = .allocate(capacity: Self.stripes)
        for i in 0..<Self.stripes { pthread_mutex_init(mutexes + i, nil) }
    }

    deinit {
        for i in 0..<Self.stripes { pthread_mutex_destroy(mutexes + i) }
        mutexes.deallocate()
    }

    static func stripe(of key: [UInt8]) -> Int {
        Int(CRC32C.checksum(key) % UInt32(stripes))
    }

    /// Holds the stripe of one key (one document: no array, no set, no sort).
    func withLock<T>(key: [UInt8], _ body: () throws -> T) rethrows -> T {
        let s = Self.stripe(of: key)
        pthread_mutex_lock(mutexes + s)
        defer { pthread_mutex_unlock(mutexes + s) }
        return try body()
    }

    /// Holds the stripes of `keys` (deduplicated, in order, so two callers never deadlock).
    func withLocks<T>(keys: [[UInt8]], _ body: () throws -> T) rethrows -> T {
        if keys.count == 1 { return try withLock(key: keys[0], body) }
        let stripes = Set(keys.map(Self.stripe(of:))).sorted()
        for s in stripes { pthread_mutex_lock(mutexes + s) }
        defer { for s in stripes.reversed() { pthread_mutex_unlock(mutexes + s) } }
        return try body()
    }

    func withAllLocks<T>(_ body: () throws -> T) rethrows -> T {
        for s in 0..<Self.stripes { pthread_mutex_lock(mutexes + s) }
        defer { for s in (0..<Self.stripes).reversed() { pthread_mutex_unlock(mutexes + s) } }
        return try body()
    }
}
