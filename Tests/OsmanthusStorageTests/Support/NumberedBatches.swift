import Glibc

@testable import OsmanthusStorage

/// A workload whose every state after a crash can be checked: batch n puts 1 + n % 5 keys
/// `n<n>-<i>` and `last` = n. A database that applied batches 0…h in order holds exactly their
/// keys; a lost, reordered or half-applied batch shows up as a missing or extra key.
enum NumberedBatches {
    static let lastKey = Array("last".utf8)

    static func keyCount(_ n: Int) -> Int { 1 + n % 5 }
    static func key(_ n: Int, _ i: Int) -> [UInt8] { Array("n\(n)-\(i)".utf8) }
    /// `<n>-<i>:` and 0–500 bytes more (cheap to recompute in a debug build).
    static func value(_ n: Int, _ i: Int) -> [UInt8] {
        let fill = UInt8(truncatingIfNeeded: n &* 7 &+ i)
        return Array("\(n)-\(i):".utf8) + [UInt8](repeating: fill, count: (n * 131 + i * 17) % 500)
    }

    static func batch(_ n: Int) -> WriteBatch {
        var batch = WriteBatch()
        for i in 0..<keyCount(n) { batch.put(key(n, i), value(n, i)) }
        batch.put(lastKey, Array(String(n).utf8))
        return batch
    }

    /// The h for which `db` holds exactly batches 0…h (-1: nothing), or what is wrong with it.
    static func appliedPrefix(_ db: DB) throws -> Result<Int, Mismatch> {
        let h = try db.get(lastKey).flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? -1
        var seen = 0
        let it = db.makeIterator()
        it.seekToFirst()
        while it.isValid {
            defer { it.next() }
            if it.key == lastKey { continue }
            let text = String(decoding: it.key, as: UTF8.self)
            let parts = text.dropFirst().split(separator: "-").compactMap { Int($0) }
            guard text.hasPrefix("n"), parts.count == 2, parts[0] <= h, parts[1] < keyCount(parts[0]) else {
                return .failure(Mismatch(description: "key \(text) is there but last = \(h)"))
            }
            guard equalBytes(it.value, value(parts[0], parts[1])) else {
                return .failure(Mismatch(description: "key \(text) has a wrong value"))
            }
            seen += 1
        }
        if let e = it.error { return .failure(Mismatch(description: "scan failed: \(e)")) }
        let expected = h < 0 ? 0 : (0...h).reduce(0) { $0 + keyCount($1) }
        guard seen == expected else {
            var missing: [Int] = []
            for n in 0...h where try (0..<keyCount(n)).contains(where: { try db.get(key(n, $0)) == nil }) {
                missing.append(n)
            }
            let text = "\(db.path): last = \(h), but batches \(missing.prefix(20)) are missing or partial"
            return .failure(Mismatch(description: text))
        }
        return .success(h)
    }

    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }
}

/// memcmp: `==` on arrays compares element by element in a debug build.
func equalBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}
