import Glibc
import OsmanthusStorage

@testable import osmanthus

/// Checks that a database written by `osmanthus debug crash-writer` holds exactly batches
/// 0…h of `CrashWorkload` for one h: no batch lost, none half there, nothing extra (the
/// expected-state idea of RocksDB's `db_stress_tool/expected_state.h`).
struct CrashStateChecker {
    let seed: UInt64

    /// The highest batch the database holds (-1 for none), after checking that it holds
    /// exactly batches 0…that. Throws a `ChildProcess.Failure` describing the first problems.
    func check(_ db: DB, allowed: ClosedRange<Int>) throws -> Int {
        var problems: [String] = []
        func problem(_ text: String) {
            if problems.count < 10 { problems.append(text) }
        }

        let lastText = try db.get(CrashWorkload.lastKey).map { String(decoding: $0, as: UTF8.self) }
        let h: Int
        if let lastText {
            guard let parsed = Int(lastText) else { throw ChildProcess.Failure(description: "last = \(lastText)?") }
            h = parsed
        } else {
            h = -1
        }
        if !allowed.contains(h) {
            problem("last = \(h), expected a batch in \(allowed) (lost acknowledged writes or invented ones)")
        }

        // One scan: every key must belong to a batch ≤ h, not be deleted, and carry its value.
        // With the count equal to what batches 0…h leave, the scan is exactly the expected state.
        var seen = 0
        let it = db.makeIterator()
        it.seekToFirst()
        while it.isValid {
            let key = it.key
            if key == CrashWorkload.lastKey {
                seen += 1
            } else if let (m, i) = Self.parse(key) {
                if m > h || i >= CrashWorkload.keyCount(m) {
                    problem("key b\(m)-\(i) exists but last = \(h) (half-applied or phantom batch)")
                } else if CrashWorkload.isDeleted(batch: m, index: i, through: h) {
                    problem("key b\(m)-\(i) was deleted by batch \(m + 5) ≤ \(h) but is present")
                } else if !Self.equal(it.value, CrashWorkload.value(m, i, seed: seed)) {
                    problem("key b\(m)-\(i) has a wrong value (\(it.value.count) bytes)")
                } else {
                    seen += 1
                }
            } else {
                problem("unexpected key \(String(decoding: key, as: UTF8.self))")
            }
            it.next()
        }
        if let e = it.error { problem("scan failed: \(e)") }
        let expected = Self.expectedKeyCount(through: h)
        if seen != expected {
            problem("scan found \(seen) correct keys, batches 0…\(h) leave \(expected) (a lost batch or key)")
        }

        // Point reads of the batches around the cut, through the read path the scan did not use.
        for m in max(0, h - 3)...(h + 1) {
            for i in 0..<CrashWorkload.keyCount(m) {
                let got = try db.get(CrashWorkload.key(m, i))
                let present = m <= h && !CrashWorkload.isDeleted(batch: m, index: i, through: h)
                if present != (got != nil) {
                    problem("get b\(m)-\(i): \(got == nil ? "absent" : "present"), last = \(h)")
                }
            }
        }
        if !problems.isEmpty {
            throw ChildProcess.Failure(description: problems.joined(separator: "\n"))
        }
        return h
    }

    /// Keys (with `last`) that batches 0…h leave.
    static func expectedKeyCount(through h: Int) -> Int {
        guard h >= 0 else { return 0 }
        var count = 1
        for m in 0...h {
            count += CrashWorkload.keyCount(m)
            if CrashWorkload.isDeleted(batch: m, index: 0, through: h) { count -= 1 }
        }
        return count
    }

    /// (batch, index) of a key `b<m>-<i>`.
    static func parse(_ key: [UInt8]) -> (Int, Int)? {
        guard key.first == UInt8(ascii: "b"), let dash = key.firstIndex(of: UInt8(ascii: "-")),
            let m = Int(String(decoding: key[1..<dash], as: UTF8.self)),
            let i = Int(String(decoding: key[(dash + 1)...], as: UTF8.self))
        else { return nil }
        return (m, i)
    }

    /// memcmp, so long values compare quickly in a debug build.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in a.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 }
        }
    }
}
