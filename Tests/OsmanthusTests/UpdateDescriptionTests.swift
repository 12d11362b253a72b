import OsmanthusBSON
import Testing

@testable import Osmanthus

/// `UpdateDescription.diff` looks only at the fields whose bytes changed when the keys are the
/// same (`Document.changedKeys`); it must give what the field-by-name comparison gives.
struct UpdateDescriptionTests {
    /// The field-by-name rule of SPEC §16.5, written out plainly as the model.
    static func modelDiff(_ before: Document, _ after: Document) -> Document {
        var updated = Document()
        var removed: [BSONValue] = []
        var truncated: [BSONValue] = []
        func documents(_ before: Document, _ after: Document, _ path: String) {
            var afterKeys = Set<String>()
            for (key, new) in after {
                afterKeys.insert(key)
                let p = path + key
                guard let old = before[key] else {
                    updated.append(p, new)
                    continue
                }
                if old == new { continue }
                switch (old, new) {
                case (.document(let o), .document(let n)): documents(o, n, p + ".")
                case (.array(let o), .array(let n)): arrays(o, n, p)
                default: updated.append(p, new)
                }
            }
            for (key, _) in before where !afterKeys.contains(key) { removed.append(.string(path + key)) }
        }
        func arrays(_ old: [BSONValue], _ new: [BSONValue], _ path: String) {
            if new.count < old.count, Array(old.prefix(new.count)) == new {
                truncated.append(.document(["field": .string(path), "newSize": .int32(Int32(new.count))]))
            } else if new.count > old.count, Array(new.prefix(old.count)) == old {
                for i in old.count..<new.count { updated.append("\(path).\(i)", new[i]) }
            } else if new.count == old.count {
                for i in 0..<new.count where new[i] != old[i] { updated.append("\(path).\(i)", new[i]) }
            } else {
                updated.append(path, .array(new))
            }
        }
        documents(before, after, "")
        return [
            "updatedFields": .document(updated), "removedFields": .array(removed),
            "truncatedArrays": .array(truncated),
        ]
    }

    static func value(_ rng: inout SplitMix64, depth: Int) -> BSONValue {
        switch rng.next() % (depth < 2 ? 8 : 6) {
        case 0: return .int32(Int32(rng.next() % 3))
        case 1: return .int64(Int64(rng.next() % 3))
        case 2: return .double(rng.next() % 5 == 0 ? .nan : Double(rng.next() % 3))
        case 3: return .string(rng.next() % 2 == 0 ? "x" : "y")
        case 4: return .null
        case 5: return .decimal128(Decimal128(Int64(rng.next() % 2)))
        case 6: return .document(document(&rng, depth: depth + 1))
        default: return .array((0..<Int(rng.next() % 4)).map { _ in value(&rng, depth: depth + 1) })
        }
    }

    static func document(_ rng: inout SplitMix64, depth: Int) -> Document {
        var d = Document()
        for _ in 0..<Int(rng.next() % 5) {
            d.append(["a", "b", "c", "d"][Int(rng.next() % 4)], value(&rng, depth: depth))
        }
        return d
    }

    /// A few edits of `doc`: set (existing or new field), remove, replace a nested value, or
    /// nothing; documents may repeat keys.
    static func edited(_ doc: Document, _ rng: inout SplitMix64) -> Document {
        var d = doc
        for _ in 0..<Int(rng.next() % 3) {
            let key = ["a", "b", "c", "d", "e"][Int(rng.next() % 5)]
            switch rng.next() % 4 {
            case 0: d.remove(key)
            case 1:
                if case .document(var inner)? = d[key] {
                    inner.set("a", value(&rng, depth: 2))
                    d.set(key, .document(inner))
                } else {
                    d.set(key, value(&rng, depth: 0))
                }
            default: d.set(key, value(&rng, depth: 0))
            }
        }
        return d
    }

    @Test func diffAgreesWithTheFieldByNameModelOnRandomEdits() throws {
        var rng = SplitMix64(seed: 0x5EED_0005)
        var fastCases = 0
        for i in 0..<2000 {
            let before = Self.document(&rng, depth: 0)
            let after = Self.edited(before, &rng)
            if after.changedKeys(comparedTo: before) != nil { fastCases += 1 }
            #expect(UpdateDescription.diff(before, after) == Self.modelDiff(before, after), "case \(i): \(before) -> \(after)")
        }
        #expect(fastCases > 500)
    }

    @Test func changedKeysNamesTheFieldsWhoseBytesDiffer() throws {
        let before: Document = ["_id": 1, "a": 1, "b": ["x": 1], "c": "s"]
        #expect(before.changedKeys(comparedTo: before) == [])
        // 1 and 1.0 are different bytes (and different values to the diff).
        let after: Document = ["_id": 1, "a": 1.0, "b": ["x": 2], "c": "s"]
        #expect(after.changedKeys(comparedTo: before) == ["a", "b"])
        // Other keys, other order, a key repeated, a field more: no answer.
        #expect((["_id": 1, "b": ["x": 1], "a": 1, "c": "s"] as Document).changedKeys(comparedTo: before) == nil)
        #expect((["_id": 1, "a": 1, "b": ["x": 1], "c": "s", "d": 0] as Document).changedKeys(comparedTo: before) == nil)
        let repeated = Document([("_id", .int32(1)), ("a", .int32(1)), ("a", .int32(2))])
        #expect(repeated.changedKeys(comparedTo: repeated) == nil)
    }
}
