import OsmanthusBSON
import Testing

@testable import Osmanthus

/// An insert's change record is logged spliced from the document's own put (SPEC.md §5, §16.1):
/// the WAL carries each inserted document once, and streams read whole records before and after
/// the log is replayed.
struct ChangeLogSplicedInsertTests {
    static func documents(_ range: Range<Int>) -> [Document] {
        range.map { i in ["_id": .int32(Int32(i)), "pad": .string(String(repeating: "x", count: 1000 + i)), "n": .int32(Int32(i))] }
    }

    /// WAL bytes for 40 insertOne and 40 insertMany documents of about 1 KB.
    static func walBytes(changeLog: Bool, at path: String) throws -> UInt64 {
        var options = DatabaseOptions()
        options.changeLog = changeLog
        let db = try Database.open(at: path, options: options)
        let c = try db.collection("c", in: "app")
        for d in documents(0..<40) { try c.insertOne(d) }
        try c.insertMany(documents(40..<80))
        let bytes = db.engine.statistics.value(.walBytes)
        try db.close()
        return bytes
    }

    @Test func insertsLogEachDocumentOnce() throws {
        let on = TestDirectory()
        let off = TestDirectory()
        defer {
            on.remove()
            off.remove()
        }
        let withLog = try Self.walBytes(changeLog: true, at: on.path)
        let withoutLog = try Self.walBytes(changeLog: false, at: off.path)
        // A record's key, head (names, ids, time) and framing: well under 100 bytes, against
        // documents of more than 1,000 bytes each.
        #expect(withLog > withoutLog)
        #expect((withLog - withoutLog) / 80 < 100, "on \(withLog), off \(withoutLog)")
    }

    @Test func replayedInsertRecordsCarryTheirDocuments() throws {
        let dir = TestDirectory()
        defer { dir.remove() }
        var db = try Database.open(at: dir.path)
        let start = try db.changeStreamReader(.cluster, options: ChangeStreamOptions()).postBatchResumeToken
        let c = try db.collection("c", in: "app")
        let docs = Self.documents(0..<30)
        for d in docs.prefix(10) { try c.insertOne(d) }
        try c.insertMany(Array(docs[10..<30]))
        _ = try c.deleteOne(["_id": 3])
        _ = try c.updateOne(["_id": 4], ["$set": ["n": -4]])
        try db.close()
        // The records are only in the log: reopening replays the spliced ones.
        db = try Database.open(at: dir.path)
        var reader = try db.changeStreamReader(.cluster, options: ChangeStreamOptions(resumeAfter: start))
        var events: [ChangeEvent] = []
        while true {
            let batch = try reader.poll(limit: 7)
            if batch.isEmpty { break }
            events += batch
        }
        let inserts = events.filter { $0.operationType == .insert }
        #expect(inserts.map { $0.fullDocument } == docs.map { Optional($0) })
        #expect(inserts.map { $0.documentKey?["_id"] } == docs.map { $0["_id"] })
        #expect(Array(events.map(\.operationType).suffix(2)) == [.delete, .update])
        #expect(try db.collection("c", in: "app").findOne(["_id": 29]) == docs[29])
        try db.close()
    }
}
