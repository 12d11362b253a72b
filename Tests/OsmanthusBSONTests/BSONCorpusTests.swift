import Testing

@testable import OsmanthusBSON

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The BSON specification's corpus (mongodb/specifications, source/bson-corpus), read from
/// `<repo>/../shared/testdata/bson-corpus` at test time. A missing directory fails the tests.
struct BSONCorpusTests {
    struct ValidCase {
        var file: String
        var description: String
        var canonicalBSON: [UInt8]
        var canonicalExtJSON: String
        var relaxedExtJSON: String?
        var degenerateBSON: [UInt8]?
        var degenerateExtJSON: String?
        var lossy: Bool
    }

    struct Corpus {
        var files: [String] = []
        var valid: [ValidCase] = []
        var decodeErrors: [(file: String, description: String, bson: [UInt8])] = []
        var parseErrors: [(file: String, description: String, isDecimal: Bool, text: String)] = []
    }

    /// `<repo>/../shared/testdata/bson-corpus`, the repo root being three levels above this file.
    static let corpusDirectory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/../shared/testdata/bson-corpus"
    }()

    static func loadCorpus() throws -> Corpus {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory)
            .filter { $0.hasSuffix(".json") }.sorted()
        var corpus = Corpus()
        for name in names {
            let data = try #require(FileManager.default.contents(atPath: corpusDirectory + "/" + name))
            let json = try JSONParser.parse(String(decoding: data, as: UTF8.self))
            corpus.files.append(name)
            guard case .object(let top) = json else { throw CorpusError("\(name) is not an object") }
            func field(_ fields: [JSONField], _ key: String) -> JSONValue? {
                fields.first { $0.key == key }?.value
            }
            func string(_ fields: [JSONField], _ key: String) -> String? {
                if case .string(let s)? = field(fields, key) { s } else { nil }
            }
            func hex(_ text: String?) throws -> [UInt8]? {
                guard let text else { return nil }
                guard let bytes = Hex.decode(Array(text.utf8)) else {
                    throw CorpusError("bad hex in \(name)")
                }
                return bytes
            }
            let isDecimal = string(top, "bson_type") == "0x13"
            if case .array(let cases)? = field(top, "valid") {
                for case .object(let c) in cases {
                    corpus.valid.append(
                        ValidCase(
                            file: name, description: string(c, "description") ?? "?",
                            canonicalBSON: try hex(string(c, "canonical_bson")) ?? [],
                            canonicalExtJSON: string(c, "canonical_extjson") ?? "",
                            relaxedExtJSON: string(c, "relaxed_extjson"),
                            degenerateBSON: try hex(string(c, "degenerate_bson")),
                            degenerateExtJSON: string(c, "degenerate_extjson"),
                            lossy: field(c, "lossy") == .bool(true)))
                }
            }
            if case .array(let cases)? = field(top, "decodeErrors") {
                for case .object(let c) in cases {
                    corpus.decodeErrors.append(
                        (name, string(c, "description") ?? "?", try hex(string(c, "bson")) ?? []))
                }
            }
            if case .array(let cases)? = field(top, "parseErrors") {
                for case .object(let c) in cases {
                    corpus.parseErrors.append(
                        (name, string(c, "description") ?? "?", isDecimal, string(c, "string") ?? ""))
                }
            }
        }
        return corpus
    }

    struct CorpusError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Two Extended JSON texts mean the same: equal parsed JSON (key order kept, number text exact).
    static func sameJSON(_ a: String, _ b: String) -> Bool {
        guard let x = try? JSONParser.parse(a), let y = try? JSONParser.parse(b) else { return false }
        return x == y
    }

    @Test func corpusDirectoryHasEveryTypeFile() throws {
        let corpus = try Self.loadCorpus()
        #expect(corpus.files.count >= 30, "found only \(corpus.files) in \(Self.corpusDirectory)")
        for required in ["top.json", "multi-type.json", "decimal128-1.json", "string.json", "binary.json"] {
            #expect(corpus.files.contains(required))
        }
        print(
            "BSON corpus: \(corpus.files.count) files, \(corpus.valid.count) valid, "
                + "\(corpus.decodeErrors.count) decodeErrors, \(corpus.parseErrors.count) parseErrors")
    }

    @Test func everyValidCaseRoundTrips() throws {
        let corpus = try Self.loadCorpus()
        var passed = 0
        for c in corpus.valid {
            let label = "\(c.file): \(c.description)"
            var ok = true
            func check(_ condition: Bool, _ what: String) {
                if !condition {
                    ok = false
                    Issue.record("\(label): \(what)")
                }
            }
            do {
                let document = try Document(bytes: c.canonicalBSON)
                check(document.bytes == c.canonicalBSON, "canonical BSON does not re-encode byte for byte")
                let canonical = document.toExtendedJSON(mode: .canonical)
                check(Self.sameJSON(canonical, c.canonicalExtJSON), "canonical Extended JSON \(canonical)")
                if let relaxed = c.relaxedExtJSON {
                    let mine = document.toExtendedJSON(mode: .relaxed)
                    check(Self.sameJSON(mine, relaxed), "relaxed Extended JSON \(mine)")
                }
                if let degenerate = c.degenerateBSON {
                    let fromDegenerate = try Document(bytes: degenerate)
                    check(
                        fromDegenerate.bytes == c.canonicalBSON,
                        "degenerate BSON does not re-encode to canonical")
                    check(
                        Self.sameJSON(fromDegenerate.toExtendedJSON(mode: .canonical), c.canonicalExtJSON),
                        "degenerate BSON to canonical Extended JSON")
                }
                let parsed = try Document(extendedJSON: c.canonicalExtJSON)
                if !c.lossy {
                    check(
                        parsed.bytes == c.canonicalBSON,
                        "canonical Extended JSON does not give canonical BSON")
                }
                check(
                    Self.sameJSON(parsed.toExtendedJSON(mode: .canonical), c.canonicalExtJSON),
                    "canonical Extended JSON does not round-trip: \(parsed.toExtendedJSON(mode: .canonical))")
                if let degenerate = c.degenerateExtJSON {
                    let fromDegenerate = try Document(extendedJSON: degenerate)
                    if !c.lossy {
                        check(fromDegenerate.bytes == c.canonicalBSON, "degenerate Extended JSON to BSON")
                    }
                    check(
                        Self.sameJSON(fromDegenerate.toExtendedJSON(mode: .canonical), c.canonicalExtJSON),
                        "degenerate Extended JSON to canonical Extended JSON")
                }
                if let relaxed = c.relaxedExtJSON {
                    let fromRelaxed = try Document(extendedJSON: relaxed)
                    check(
                        Self.sameJSON(fromRelaxed.toExtendedJSON(mode: .relaxed), relaxed),
                        "relaxed Extended JSON does not round-trip: \(fromRelaxed.toExtendedJSON(mode: .relaxed))"
                    )
                }
            } catch {
                check(false, "threw \(error)")
            }
            if ok { passed += 1 }
        }
        print("BSON corpus valid cases: \(passed)/\(corpus.valid.count) pass")
        #expect(passed == corpus.valid.count)
        #expect(corpus.valid.count > 0)
    }

    @Test func everyDecodeErrorIsRejected() throws {
        let corpus = try Self.loadCorpus()
        var passed = 0
        for c in corpus.decodeErrors {
            do {
                let document = try Document(bytes: c.bson)
                Issue.record("\(c.file): \(c.description): decoded as \(document.debugDescription)")
            } catch is BSONError {
                passed += 1
            } catch {
                Issue.record("\(c.file): \(c.description): threw a non-BSONError \(error)")
            }
        }
        print("BSON corpus decodeErrors: \(passed)/\(corpus.decodeErrors.count) rejected")
        #expect(passed == corpus.decodeErrors.count)
        #expect(corpus.decodeErrors.count > 0)
    }

    @Test func everyParseErrorIsRejected() throws {
        let corpus = try Self.loadCorpus()
        var passed = 0
        for c in corpus.parseErrors {
            do {
                if c.isDecimal {
                    let value = try Decimal128(c.text)
                    Issue.record("\(c.file): \(c.description): parsed as \(value)")
                } else {
                    // The text is valid JSON: the error must come from an Extended JSON rule.
                    #expect(throws: Never.self, "\(c.file): \(c.description) is not plain JSON") {
                        try JSONParser.parse(c.text)
                    }
                    let document = try Document(extendedJSON: c.text)
                    Issue.record("\(c.file): \(c.description): parsed as \(document.debugDescription)")
                }
            } catch is BSONError {
                passed += 1
            } catch {
                Issue.record("\(c.file): \(c.description): threw a non-BSONError \(error)")
            }
        }
        print("BSON corpus parseErrors: \(passed)/\(corpus.parseErrors.count) rejected")
        #expect(passed == corpus.parseErrors.count)
        #expect(corpus.parseErrors.count > 0)
    }
}
