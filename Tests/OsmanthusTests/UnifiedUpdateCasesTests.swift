#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import OsmanthusBSON
import Testing

@testable import Osmanthus

/// Runs the CRUD cases of MongoDB's unified test format (mongodb/specifications,
/// `source/crud/tests/unified`) that exercise queries and updates: each test's operations are
/// replayed with `Filter`, `SortSpec`, `Projection` and `Update` over an in-memory list of the
/// `initialData` documents, and the collection afterwards must equal `outcome`; counts and
/// returned documents are checked against `expectResult`.
struct UnifiedUpdateCasesTests {
    static let directory: String = {
        // <repo>/Tests/OsmanthusTests/<this file> → <repo>/../shared/testdata/mongo-crud-unified
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/../shared/testdata/mongo-crud-unified"
    }()

    static let files = [
        "updateOne.json", "updateOne-arrayFilters.json", "updateOne-validation.json", "updateMany.json",
        "updateMany-arrayFilters.json", "updateMany-validation.json", "find.json", "findOneAndUpdate.json",
        "findOneAndUpdate-arrayFilters.json", "findOneAndReplace.json", "replaceOne.json", "bulkWrite.json",
        "bulkWrite-arrayFilters.json", "bulkWrite-update-validation.json", "deleteMany.json", "deleteOne.json",
        "findOneAndDelete.json",
    ]

    @Test func unifiedCrudCasesProduceTheExpectedCollections() throws {
        var ran = 0
        var skipped = [String]()
        for file in UnifiedUpdateCasesTests.files {
            let path = "\(UnifiedUpdateCasesTests.directory)/\(file)"
            guard let text = UnifiedUpdateCasesTests.readFile(path) else {
                Issue.record("missing test data file \(path)")
                continue
            }
            let suite = try Document(extendedJSON: text)
            let initial = suite["initialData"]?.arrayValue?.first?.documentValue?["documents"]?.arrayValue ?? []
            for case .document(let test) in suite["tests"]?.arrayValue ?? [] {
                let name = "\(file): \(test["description"]?.stringValue ?? "?")"
                var collection = MiniCollection(documents: initial.compactMap(\.documentValue))
                var runnable = true
                for case .document(let operation) in test["operations"]?.arrayValue ?? [] {
                    switch collection.run(operation) {
                    case .checked(let problems):
                        for problem in problems { Issue.record("\(name): \(problem)") }
                    case .unsupported(let reason):
                        skipped.append("\(name) — \(reason)")
                        runnable = false
                    }
                }
                guard runnable else { continue }
                if case .document(let outcome)? = test["outcome"]?.arrayValue?.first {
                    let expected = (outcome["documents"]?.arrayValue ?? []).compactMap(\.documentValue)
                    let actual = collection.documents.sorted { BSONValue.compare($0["_id"] ?? .null, $1["_id"] ?? .null) < 0 }
                    #expect(actual == expected, "\(name): collection is \(actual), expected \(expected)")
                }
                ran += 1
            }
        }
        print("UnifiedUpdateCasesTests: ran \(ran) cases, skipped \(skipped.count)")
        for reason in skipped { print("  skipped: \(reason)") }
        #expect(ran >= 60)
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Just enough of a collection to replay the unified CRUD operations.
struct MiniCollection {
    var documents: [Document]

    enum Result {
        case checked([String])
        case unsupported(String)
    }

    struct Counts {
        var matched = 0
        var modified = 0
        var upserted = 0
        var deleted = 0
        var inserted = 0
        var upsertedId: BSONValue?
    }

    mutating func run(_ operation: Document) -> Result {
        let name = operation["name"]?.stringValue ?? ""
        let arguments = operation["arguments"]?.documentValue ?? Document()
        let expectsError = operation["expectError"] != nil
        let expected = operation["expectResult"]
        var counts = Counts()
        var returned: BSONValue?
        do {
            switch name {
            case "updateOne", "updateMany", "replaceOne":
                try write(name, arguments, &counts)
            case "deleteOne", "deleteMany":
                try write(name, arguments, &counts)
            case "findOneAndUpdate", "findOneAndReplace", "findOneAndDelete":
                returned = try findAndModify(name, arguments)
            case "find":
                returned = .array(try find(arguments).map { .document($0) })
            case "bulkWrite":
                let ordered = arguments["ordered"]?.boolValue ?? true
                var firstError: Error?
                for case .document(let request) in arguments["requests"]?.arrayValue ?? [] {
                    guard let kind = request.keys.first, let body = request[kind]?.documentValue else { continue }
                    do {
                        try write(kind, body, &counts)
                    } catch {
                        firstError = firstError ?? error
                        if ordered { break }
                    }
                }
                if let firstError { throw firstError }
            default:
                return .unsupported("operation \(name) is not a query or update case")
            }
        } catch let error as UnsupportedCase {
            return .unsupported(error.reason)
        } catch {
            return .checked(expectsError ? [] : ["unexpected error \(error)"])
        }
        if expectsError { return .checked(["expected an error"]) }
        return .checked(compare(name, counts, returned, expected))
    }

    private func compare(_ name: String, _ counts: Counts, _ returned: BSONValue?, _ expected: BSONValue?) -> [String] {
        guard let expected else { return [] }
        if name == "find" || name.hasPrefix("findOneAnd") {
            let actual = returned ?? .null
            return BSONValue.compare(actual, expected) == 0 ? [] : ["returned \(actual), expected \(expected)"]
        }
        guard case .document(let fields) = expected else { return [] }
        var problems = [String]()
        let values: [(String, Int)] = [
            ("matchedCount", counts.matched), ("modifiedCount", counts.modified), ("upsertedCount", counts.upserted),
            ("deletedCount", counts.deleted), ("insertedCount", counts.inserted),
        ]
        for (key, actual) in values {
            if let want = fields[key]?.exactInt64, want != Int64(actual) { problems.append("\(key) \(actual), expected \(want)") }
        }
        if let want = fields["upsertedId"], counts.upsertedId.map({ BSONValue.compare($0, want) != 0 }) ?? true {
            problems.append("upsertedId \(counts.upsertedId.map { "\($0)" } ?? "none"), expected \(want)")
        }
        return problems
    }

    struct UnsupportedCase: Error {
        let reason: String
    }

    struct ClientError: Error {
        let message: String
    }

    private mutating func write(_ kind: String, _ arguments: Document, _ counts: inout Counts) throws {
        switch kind {
        case "insertOne":
            try insert(arguments["document"]?.documentValue ?? Document())
            counts.inserted += 1
        case "deleteOne", "deleteMany":
            let filter = try Filter(arguments["filter"]?.documentValue ?? Document())
            let matching = documents.indices.filter { filter.matches(documents[$0]) }
            let removed = kind == "deleteOne" ? Array(matching.prefix(1)) : matching
            for index in removed.reversed() { documents.remove(at: index) }
            counts.deleted += removed.count
        case "updateOne", "updateMany", "replaceOne":
            let update = try makeUpdate(kind, arguments)
            _ = try modify(
                filter: arguments["filter"]?.documentValue ?? Document(), update: update, many: kind == "updateMany", sort: nil,
                upsert: arguments["upsert"]?.boolValue ?? false, counts: &counts)
        default:
            throw UnsupportedCase(reason: "bulk request \(kind)")
        }
    }

    private func makeUpdate(_ kind: String, _ arguments: Document) throws -> Update {
        let isReplace = kind.contains("eplace")
        guard let spec = arguments[isReplace ? "replacement" : "update"] else {
            throw UnsupportedCase(reason: "\(kind) without an update")
        }
        let filters = (arguments["arrayFilters"]?.arrayValue ?? []).compactMap(\.documentValue)
        let update = try Update(specValue: spec, arrayFilters: filters)
        // The drivers' rule: update operations need operators, replacements must have none.
        guard update.isReplacement == isReplace, spec != .document(Document()) || isReplace else {
            throw ClientError(message: isReplace ? "replacement has operators" : "update has no operators")
        }
        return update
    }

    /// Updates the first (or every) matching document; returns (before, after) of the first.
    private mutating func modify(
        filter spec: Document, update: Update, many: Bool, sort: SortSpec?, upsert: Bool, counts: inout Counts
    ) throws -> (Document?, Document?) {
        let filter = try Filter(spec)
        var indices = documents.indices.filter { filter.matches(documents[$0]) }
        if let sort, !sort.isEmpty { indices.sort { sort.compare(documents[$0], documents[$1]) < 0 } }
        if !many { indices = Array(indices.prefix(1)) }
        var first: (Document?, Document?) = (nil, nil)
        for index in indices {
            let before = documents[index]
            let after = try update.apply(to: before, positionalIndex: filter.match(before).arrayIndex, now: 0)
            counts.matched += 1
            if after != before { counts.modified += 1 }
            documents[index] = after
            if first.0 == nil { first = (before, after) }
        }
        if indices.isEmpty && upsert {
            var inserted = try update.upsertDocument(filter: filter, now: 0)
            if inserted["_id"] == nil {
                inserted = Document([("_id", .objectId(ObjectId()))] + inserted.map { ($0.key, $0.value) })
            }
            try insert(inserted)
            counts.upserted += 1
            counts.upsertedId = inserted["_id"]
            first = (nil, inserted)
        }
        return first
    }

    private mutating func insert(_ document: Document) throws {
        if let id = document["_id"], documents.contains(where: { $0["_id"].map { BSONValue.compare($0, id) == 0 } ?? false }) {
            throw OsmanthusError(.duplicateKey, "E11000 duplicate key error dup key: { _id: \(id) }")
        }
        documents.append(document)
    }

    private mutating func findAndModify(_ name: String, _ arguments: Document) throws -> BSONValue {
        let sort = try SortSpec(arguments["sort"]?.documentValue ?? Document())
        let projection = try Projection(arguments["projection"]?.documentValue ?? Document())
        let filter = try Filter(arguments["filter"]?.documentValue ?? Document())
        if name == "findOneAndDelete" {
            var indices = documents.indices.filter { filter.matches(documents[$0]) }
            indices.sort { sort.compare(documents[$0], documents[$1]) < 0 }
            guard let index = indices.first else { return .null }
            let removed = documents.remove(at: index)
            return .document(try projection.apply(to: removed, filter: filter))
        }
        var counts = Counts()
        let (before, after) = try modify(
            filter: filter.spec, update: try makeUpdate(name, arguments), many: false, sort: sort,
            upsert: arguments["upsert"]?.boolValue ?? false, counts: &counts)
        let wantsAfter = arguments["returnDocument"]?.stringValue == "After"
        guard let chosen = wantsAfter ? after : before else { return .null }
        return .document(try projection.apply(to: chosen, filter: filter))
    }

    private func find(_ arguments: Document) throws -> [Document] {
        let filter = try Filter(arguments["filter"]?.documentValue ?? Document())
        let sort = try SortSpec(arguments["sort"]?.documentValue ?? Document())
        let projection = try Projection(arguments["projection"]?.documentValue ?? Document())
        var matching = documents.filter { filter.matches($0) }
        if !sort.isEmpty { matching.sort { sort.compare($0, $1) < 0 } }
        let skip = Int(arguments["skip"]?.exactInt64 ?? 0)
        let limit = Int(arguments["limit"]?.exactInt64 ?? 0)
        matching = Array(matching.dropFirst(skip))
        if limit > 0 { matching = Array(matching.prefix(limit)) }
        return try matching.map { try projection.apply(to: $0, filter: filter) }
    }
}
