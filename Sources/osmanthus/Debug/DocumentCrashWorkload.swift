import Osmanthus
import OsmanthusBSON
import OsmanthusStorage

/// The deterministic document workload `osmanthus debug doc-crash-writer` runs, and the rules a
/// checker needs (Tests/OsmanthusCrashTests/DocumentCrashStateChecker.swift).
///
/// Op n is one acknowledged document write to `crash.docs`:
/// - n % 4 ≠ 3: `insertOne({_id: n, v: payload(n), rev: n})`;
/// - n % 4 = 3: `updateOne({_id: target(n)}, {$set: {rev: n, v: payload(n)}, $inc: {updates: 1}})`,
///   target(n) one of the documents inserted before n, chosen by a hash.
///
/// So after ops 0…h the collection holds one document per insert ≤ h, each with `rev` = the
/// last op ≤ h that wrote it, `v` = payload(rev) and `updates` = how many updates ≤ h hit it
/// (absent for none). The largest `rev` is h.
enum DocumentCrashWorkload {
    static let database = "crash"
    static let collection = "docs"

    static func isUpdate(_ n: Int) -> Bool { n % 4 == 3 }

    /// The id of the j-th insert (0, 1, 2, 4, 5, 6, 8, …).
    static func insertId(_ j: Int) -> Int { 4 * (j / 3) + j % 3 }

    /// The document update op `n` changes.
    static func target(_ n: Int, seed: UInt64) -> Int {
        let insertsBefore = 3 * ((n + 1) / 4)
        return insertId(Int(CrashWorkload.hash(n, 1, seed: seed) % UInt64(insertsBefore)))
    }

    /// 0–2,000 printable bytes from the hash of (n, seed); every eighth or so over 500.
    static func payload(_ n: Int, seed: UInt64) -> String {
        let h = CrashWorkload.hash(n, 0, seed: seed)
        let length = h % 8 == 0 ? 500 + Int((h >> 8) % 1500) : Int((h >> 8) % 100)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for j in 0..<length {
            bytes.append(UInt8(ascii: "a") + UInt8(truncatingIfNeeded: ((h >> UInt64((j & 7) * 8)) &+ UInt64(j >> 3)) % 26))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Applies op `n`; throws if an update finds no document (the state was not ops 0…n-1).
    static func apply(_ n: Int, seed: UInt64, to docs: Osmanthus.Collection) throws {
        if isUpdate(n) {
            let id = target(n, seed: seed)
            let r = try docs.updateOne(
                ["_id": .int64(Int64(id))],
                ["$set": ["rev": .int64(Int64(n)), "v": .string(payload(n, seed: seed))], "$inc": ["updates": 1]])
            guard r.matchedCount == 1 else {
                throw OsmanthusError(.internalError, "op \(n): update of document \(id) matched nothing")
            }
        } else {
            try docs.insertOne(["_id": .int64(Int64(n)), "v": .string(payload(n, seed: seed)), "rev": .int64(Int64(n))])
        }
    }

    /// Synced writes, and memtables smaller still than the storage crash test's, so that a run
    /// of a few hundred ops flushes and compacts.
    static func options() -> DatabaseOptions {
        var o = DatabaseOptions()
        o.storage = CrashWorkload.options()
        o.storage.memtableSize = 32 << 10
        o.storage.targetFileSize = 64 << 10
        o.storage.levelBaseSize = 256 << 10
        o.syncWrites = true
        return o
    }
}
