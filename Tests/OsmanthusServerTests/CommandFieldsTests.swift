import OsmanthusBSON
import Testing

@testable import OsmanthusServer

/// `CommandFields` finds in one walk what `body[key]` finds by a scan per key.
struct CommandFieldsTests {
    /// Every field the walk collects, with its key in the command document.
    private let known: [(String, CommandFields.Field)] = [
        ("$db", .database), ("lsid", .lsid), ("txnNumber", .txnNumber), ("autocommit", .autocommit),
        ("startTransaction", .startTransaction), ("maxTimeMS", .maxTimeMS), ("filter", .filter), ("sort", .sort),
        ("projection", .projection), ("skip", .skip), ("limit", .limit), ("hint", .hint), ("batchSize", .batchSize),
        ("singleBatch", .singleBatch), ("tailable", .tailable), ("collection", .collection),
        ("documents", .documents), ("updates", .updates), ("deletes", .deletes), ("ordered", .ordered),
        ("speculativeAuthenticate", .speculativeAuthenticate), ("saslSupportedMechs", .saslSupportedMechs),
        ("topologyVersion", .topologyVersion), ("maxAwaitTimeMS", .maxAwaitTimeMS),
    ]

    @Test func oneWalkFindsWhatKeyLookupsFindForSeededCommands() {
        #expect(known.count == CommandFields.Field.allCases.count)
        #expect(CommandFields.Field.allCases.count <= 32)  // one bit each in the presence mask
        for seed in UInt64(1)...500 {
            var random = SplitMix64(seed: seed)
            var body = Document()
            let name = ["find", "getMore", "insert", "filter", "$db", "hello"].randomElement(using: &random) ?? "find"
            body.append(name, random.value(depth: 1))
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                // Known keys (duplicates included), unknown ones, and near misses.
                let key = Int.random(in: 0..<4, using: &random) == 0
                    ? [
                        "filterx", "Filter", "lsi", "comment", "readConcern", "$clusterTime",
                        // Same length as a known key, one byte off (first, middle or last word).
                        "lsiD", "$dB", "singleBatcH", "Singlebatch", "topologyVersioN", "speculativeAuthenticatE",
                        "speculativeAuthXnticate", "saslSupportedMechz", "maxAwaitTimeMs", "startTransactioN",
                    ].randomElement(using: &random) ?? "x"
                    : known.randomElement(using: &random)?.0 ?? "filter"
                body.append(key, random.value(depth: 1))
            }
            let fields = CommandFields(body)
            #expect(fields.name == body.firstField?.key, "seed \(seed)")
            #expect(fields.argument == body.firstField?.value, "seed \(seed)")
            for (key, field) in known {
                #expect(fields[field] == body[key], "seed \(seed): \(key)")
            }
        }
    }

    @Test func eachFieldsKeyWordsAreItsSpelledKey() {
        for (key, field) in known {
            #expect("\(field.key)" == key)
            let words = field.words
            typealias Raw = Document.RawField
            #expect(words.0 == Raw.keyWord(field.key, at: 0), "\(key)")
            #expect(words.1 == Raw.keyWord(field.key, at: 8), "\(key)")
            #expect(words.2 == Raw.keyWord(field.key, at: 16), "\(key)")
        }
    }

    @Test func anEmptyCommandHasNoName() throws {
        let fields = CommandFields(Document())
        #expect(fields.name == nil)
        #expect(throws: (any Error).self) { try CommandRequest(body: Document(), databaseName: "db") }
    }
}
