import Osmanthus
import OsmanthusBSON

@testable import osmanthus

/// Checks that a database written by `osmanthus debug doc-crash-writer` holds exactly the
/// effect of `DocumentCrashWorkload` ops 0…h for one h: every insert ≤ h present once, every
/// document at its last write ≤ h with the right update count, nothing else.
struct DocumentCrashStateChecker {
    let seed: UInt64

    /// The last op the database holds (-1 for none), after checking the whole state.
    func check(_ db: Database, allowed: ClosedRange<Int>) throws -> Int {
        var problems: [String] = []
        func problem(_ text: String) {
            if problems.count < 10 { problems.append(text) }
        }
        let docs = try db.collection(DocumentCrashWorkload.collection, in: DocumentCrashWorkload.database).find().all()
        var byId: [Int: Document] = [:]
        var h = -1
        for doc in docs {
            guard case .int64(let id)? = doc["_id"], case .int64(let rev)? = doc["rev"] else {
                problem("malformed document \(doc)")
                continue
            }
            if byId.updateValue(doc, forKey: Int(id)) != nil { problem("document \(id) appears twice") }
            h = max(h, Int(rev))
        }
        if !allowed.contains(h) {
            problem("last op = \(h), expected one in \(allowed) (lost acknowledged writes or invented ones)")
        }

        // The expected state after ops 0…h: last writer and update count of each document.
        var lastWrite: [Int: Int] = [:]
        var updates: [Int: Int] = [:]
        if h >= 0 {
            for n in 0...h {
                if DocumentCrashWorkload.isUpdate(n) {
                    let id = DocumentCrashWorkload.target(n, seed: seed)
                    lastWrite[id] = n
                    updates[id, default: 0] += 1
                } else {
                    lastWrite[n] = n
                }
            }
        }
        for (id, doc) in byId where lastWrite[id] == nil {
            problem("document \(id) exists but ops 0…\(h) never inserted it: \(doc["rev"] ?? .null)")
        }
        for (id, rev) in lastWrite.sorted(by: { $0.key < $1.key }) {
            guard let doc = byId[id] else {
                problem("document \(id) (last written by op \(rev) ≤ \(h)) is missing")
                continue
            }
            if doc["rev"] != .int64(Int64(rev)) {
                problem("document \(id): rev \(doc["rev"] ?? .null), expected \(rev) (a lost or extra update)")
            }
            if doc["v"] != .string(DocumentCrashWorkload.payload(rev, seed: seed)) {
                problem("document \(id): wrong payload for rev \(rev)")
            }
            let expectedUpdates: BSONValue? = updates[id].map { .int32(Int32($0)) }
            if doc["updates"] != expectedUpdates {
                problem("document \(id): updates \(doc["updates"] ?? .null), expected \(expectedUpdates ?? .null)")
            }
        }
        if !problems.isEmpty {
            throw ChildProcess.Failure(description: problems.joined(separator: "\n"))
        }
        return h
    }
}
