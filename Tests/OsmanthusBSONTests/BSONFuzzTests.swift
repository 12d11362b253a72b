import Testing

@testable import OsmanthusBSON

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Seeded random mutation of valid corpus documents: decoding must never crash, only succeed
/// or throw `BSONError`; whatever decodes must re-encode, print and compare without trouble.
/// Set `BSON_FUZZ_SEED` to replay a run.
struct BSONFuzzTests {
    static let iterations = 100_000

    @Test func mutatedCorpusBytesNeverCrashTheDecoder() throws {
        let corpus = try BSONCorpusTests.loadCorpus()
        let seeds = corpus.valid.map(\.canonicalBSON) + corpus.decodeErrors.map(\.bson)
        #expect(seeds.count > 700)
        let seed =
            ProcessInfo.processInfo.environment["BSON_FUZZ_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 0...UInt64.max)
        print("BSON fuzz seed: \(seed) (replay with BSON_FUZZ_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        var accepted = 0
        var rejected = 0
        for iteration in 0..<Self.iterations {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            let mutations = 1 + Int(random.next() % 4)
            for _ in 0..<mutations { Self.mutate(&bytes, &random) }
            // Half the time, make the header length agree so the mutation reaches the body.
            if random.next() % 2 == 0, bytes.count >= 4 {
                withUnsafeBytes(of: Int32(truncatingIfNeeded: bytes.count).littleEndian) {
                    bytes.replaceSubrange(0..<4, with: $0)
                }
            }
            do {
                let document = try Document(bytes: bytes)
                accepted += 1
                let again = try Document(bytes: document.bytes)
                if again != document {
                    Issue.record(
                        "seed \(seed) iteration \(iteration): re-encoding changed the document \(bytes)")
                }
                _ = document.toExtendedJSON(mode: .canonical)
                _ = document.toExtendedJSON(mode: .relaxed)
                if BSONValue.compare(.document(document), .document(again)) != 0 {
                    Issue.record(
                        "seed \(seed) iteration \(iteration): document does not compare equal to itself")
                }
                _ = document.values
            } catch is BSONError {
                rejected += 1
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): non-BSONError \(error) for \(bytes)")
            }
        }
        print("BSON fuzz: \(accepted) mutated documents accepted, \(rejected) rejected")
        #expect(accepted + rejected == Self.iterations)
        #expect(accepted > 0 && rejected > 0)
    }

    @Test func mutatedExtendedJSONNeverCrashesTheParser() throws {
        let corpus = try BSONCorpusTests.loadCorpus()
        let texts =
            corpus.valid.flatMap { [$0.canonicalExtJSON] + ($0.relaxedExtJSON.map { [$0] } ?? []) }
            + corpus.parseErrors.map(\.text)
        let seed =
            ProcessInfo.processInfo.environment["BSON_FUZZ_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 0...UInt64.max)
        print("Extended JSON fuzz seed: \(seed) (replay with BSON_FUZZ_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        let alphabet = Array("{}[]\",:\\u0123456789$eE.-+ ".utf8)
        var accepted = 0
        for iteration in 0..<20_000 {
            var text = Array(texts[Int(random.next() % UInt64(texts.count))].utf8)
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let position = text.isEmpty ? 0 : Int(random.next() % UInt64(text.count))
                let char = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 4 {
                case 0 where !text.isEmpty: text[position] = char
                case 1 where !text.isEmpty: text.remove(at: position)
                case 2: text.insert(char, at: position)
                default: text.removeLast(text.count - position)
                }
            }
            do {
                let document = try Document(extendedJSON: String(decoding: text, as: UTF8.self))
                accepted += 1
                if try Document(bytes: document.bytes) != document {
                    Issue.record("seed \(seed) iteration \(iteration): parsed document does not re-decode")
                }
            } catch is BSONError {
            } catch {
                Issue.record("seed \(seed) iteration \(iteration): non-BSONError \(error)")
            }
        }
        print("Extended JSON fuzz: \(accepted) of 20000 mutated texts parsed")
        #expect(accepted > 0)
    }

    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 7 {
        case 0 where !bytes.isEmpty:  // flip one bit
            bytes[position] ^= 1 << UInt8(random.next() % 8)
        case 1 where !bytes.isEmpty:  // random byte
            bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 2:  // insert a byte
            bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 3 where !bytes.isEmpty:  // delete a byte
            bytes.remove(at: position)
        case 4:  // truncate
            bytes.removeLast(bytes.count - position)
        case 5 where !bytes.isEmpty:  // an interesting value: 0, 0xFF, 0x7F, 0x80
            bytes[position] = [0x00, 0xFF, 0x7F, 0x80, 0x01][Int(random.next() % 5)]
        default:  // duplicate a short range
            let end = min(bytes.count, position + 1 + Int(random.next() % 16))
            bytes.insert(contentsOf: bytes[position..<end], at: position)
        }
    }
}
