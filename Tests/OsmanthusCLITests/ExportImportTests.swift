import FoundationEssentials
import Glibc
import Osmanthus
import OsmanthusBSON
import OsmanthusStorage
import Testing

/// `osmanthus export` and `import`, run as the built binary: export, import into a fresh
/// directory, and every document compares byte-equal with the source.
struct ExportImportTests {
    let path: String
    let cli: CLIRunner

    init() throws {
        var template = Array("/tmp/osmanthus-cli-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        precondition(made, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        cli = try CLIRunner(scratch: path)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }

    /// Documents of every BSON type Extended JSON carries. `smallInt64` adds an int64 that fits
    /// in 32 bits, which relaxed mode (like mongoexport's) writes as a plain number and reads
    /// back as int32.
    func documents(count: Int, smallInt64: Bool) -> [Document] {
        (0..<count).map { i in
            var d: Document = [
                "_id": .objectId(ObjectId(seconds: UInt32(1_700_000_000 + i), processUnique: 42, counter: UInt32(i))),
                "i": .int32(Int32(i)), "big": .int64((Int64(i) + 1) << 40), "d": .double(Double(i) + 0.25),
                "s": .string("line \(i) \"quoted\" \\ tab\t ünïcode 🌸"), "at": .datetime(1_700_000_000_000 + Int64(i)),
                "ok": .bool(i % 2 == 0), "none": .null,
                "nested": ["a": ["b": .int32(Int32(i))], "list": [1, "two", 3.5]],
                "bin": .binary(BSONBinary(data: [0, 1, 2, UInt8(i % 256)])),
                "dec": .decimal128(Decimal128(Int64(i) * 1000)),
                "re": .regex(pattern: "^a.\(i)", options: "i"),
                "ts": .timestamp(increment: UInt32(i), seconds: 1_700_000_000),
                "lo": .minKey, "hi": .maxKey,
            ]
            if smallInt64 { d.append("small", .int64(Int64(i))) }
            return d
        }
    }

    func makeSource(_ dir: String, smallInt64: Bool) throws -> [String: [Document]] {
        let db = try Database.open(at: dir)
        defer { try? db.close() }
        let things = documents(count: 300, smallInt64: smallInt64)
        _ = try db.collection("things", in: "app").insertMany(things)
        let parts = try db.createCollection("parts", in: "app", options: CollectionOptions(partitionKey: "region"))
        // Without a sort key the partition key alone identifies a document: one per region.
        let partDocs: [Document] = (0..<50).map { i in ["_id": .int32(Int32(i)), "region": .string("r\(i)")] }
        _ = try parts.insertMany(partDocs)
        _ = try db.collection("other", in: "elsewhere").insertOne(["_id": 1])
        return ["things": things, "parts": partDocs]
    }

    func contents(_ dir: String, _ collection: String) throws -> [Document] {
        let db = try Database.open(at: dir)
        defer { try? db.close() }
        return try db.collection(collection, in: "app").find().all()
    }

    func sorted(_ docs: [Document]) -> [Document] {
        docs.sorted { $0.toExtendedJSON(mode: .canonical) < $1.toExtendedJSON(mode: .canonical) }
    }

    @Test func canonicalExportImportsIntoAFreshDirectoryByteEqual() throws {
        defer { cleanUp() }
        let source = try makeSource(path + "/src", smallInt64: true)
        let out = path + "/things.jsonl"
        let export = try cli.run(["export", "--data-dir", path + "/src", "--db", "app", "--collection", "things", "--out", out, "--canonical"])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("exported 300 documents of app.things"))
        let text = try #require(FileManager.default.contents(atPath: out))
        #expect(text.split(separator: UInt8(ascii: "\n")).count == 300)
        let sidecar = try #require(FileManager.default.contents(atPath: path + "/things.indexes.json"))
        #expect(String(decoding: sidecar, as: UTF8.self).contains("\"_id_\""))

        let imported = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--file", out, "--batch-size", "64"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 300 documents into app.things"))
        #expect(sorted(try contents(path + "/dst", "things")) == sorted(try #require(source["things"])))

        // Again without --drop: the first document is a duplicate, named by file and line.
        let again = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--file", out])
        #expect(again.status == 1)
        #expect(again.stderr.contains("things.jsonl:1:"))
        // With --drop: replaced, not doubled.
        let dropped = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--file", out, "--drop"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try contents(path + "/dst", "things").count == 300)
    }

    @Test func relaxedWholeDatabaseExportRoundTripsWithCollectionOptions() throws {
        defer { cleanUp() }
        let source = try makeSource(path + "/src", smallInt64: false)
        let dump = path + "/dump"
        let export = try cli.run(["export", "--data-dir", path + "/src", "--db", "app", "--out", dump, "--json"])
        #expect(export.status == 0, "\(export.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dump).sorted()
        #expect(files == ["parts.indexes.json", "parts.jsonl", "things.indexes.json", "things.jsonl"])
        // Relaxed: plain JSON numbers and ISO dates, as mongoexport writes them.
        let dumped = try #require(FileManager.default.contents(atPath: dump + "/things.jsonl"))
        let first = try #require(String(decoding: dumped, as: UTF8.self).split(separator: "\n").first)
        #expect(first.contains("\"i\":0") || first.contains("\"i\": 0"))
        #expect(first.contains("\"$date\":\"2023-") || first.contains("\"$date\": \"2023-"))

        let imported = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--dir", dump])
        #expect(imported.status == 0, "\(imported.stderr)")
        for name in ["things", "parts"] {
            let got = sorted(try contents(path + "/dst", name))
            let want = sorted(try #require(source[name]))
            #expect(sorted(try contents(path + "/src", name)) == want)
            #expect(got.count == want.count)
            for (g, w) in zip(got, want) where g != w {
                Issue.record("\(name): imported \(g.toExtendedJSON(mode: .canonical)) != \(w.toExtendedJSON(mode: .canonical))")
                break
            }
        }
        let db = try Database.open(at: path + "/dst")
        defer { try? db.close() }
        let parts = try db.listCollections(in: "app").first { $0.name == "parts" }
        #expect(parts?.options["partitionKey"]?.stringValue == "region")
    }

    @Test func importBuildsTheIndexesTheSidecarLists() throws {
        defer { cleanUp() }
        let src = try Database.open(at: path + "/src")
        let c = src.collection("people", in: "app")
        _ = try c.insertMany((0..<200).map { i in ["_id": .int32(Int32(i)), "email": .string("u\(i)@x"), "age": .int32(Int32(i % 50))] })
        try c.createIndex(["email": 1], options: IndexOptions(unique: true))
        try c.createIndex(["age": -1, "email": 1], options: IndexOptions(name: "by_age", sparse: true))
        try c.createIndex(
            ["age": 1], options: IndexOptions(name: "adults", partialFilterExpression: ["age": ["$gte": 18]]))
        let want = try c.listIndexes()
        try src.close()
        let dump = path + "/dump"
        let export = try cli.run(["export", "--data-dir", path + "/src", "--db", "app", "--out", dump])
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--dir", dump])
        #expect(imported.status == 0, "\(imported.stderr)")
        let db = try Database.open(at: path + "/dst")
        defer { try? db.close() }
        let people = db.collection("people", in: "app")
        #expect(want.count == 4)
        #expect(try people.listIndexes() == want)
        // The unique index is enforced on the imported data.
        #expect(throws: (any Error).self) { try people.insertOne(["_id": 1000, "email": "u7@x"]) }
        #expect(try people.find(["email": "u7@x"]).all().count == 1)
    }

    @Test func malformedLineAndLiveDirectoryAreRefused() throws {
        defer { cleanUp() }
        let file = path + "/bad.jsonl"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("{\"_id\": 1}\n\n{\"_id\": \n".utf8)))
        let bad = try cli.run(["import", "--data-dir", path + "/dst", "--db", "app", "--file", file])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.jsonl:3:"))
        let missing = try cli.run(["export", "--data-dir", path + "/nothing", "--db", "app", "--out", path + "/x"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("not a database directory"))
        // A database held open (as a running server holds it) is refused with the clear message.
        _ = try makeSource(path + "/src", smallInt64: false)
        let held = try Database.open(at: path + "/src")
        defer { try? held.close() }
        let busy = try cli.run(["export", "--data-dir", path + "/src", "--db", "app", "--out", path + "/y"])
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("in use by a running process"))
    }
}
