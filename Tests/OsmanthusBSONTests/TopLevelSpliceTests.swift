import Testing

@testable import OsmanthusBSON

/// `splicingTopLevel(_:_:setting:)`, the one-`$set` splice, writes what the general
/// `splicingTopLevel` writes for the same single edit: the same bytes, the element at the same
/// place, whether the field is replaced (smaller, same size, larger) or appended.
struct TopLevelSpliceTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func oneSetSpliceEqualsTheGeneralSplice(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let keys = ["a", "b", "field0", "field1", "a somewhat longer key"]
        func value() -> BSONValue {
            switch random.next() % 5 {
            case 0: .int32(Int32(truncatingIfNeeded: random.next()))
            case 1: .string(String(repeating: "x", count: Int(random.next() % 120)))
            case 2: .double(Double(random.next() % 1000) / 7)
            case 3: .document(["n": .int64(Int64(truncatingIfNeeded: random.next()))])
            default: .null
            }
        }
        for round in 0..<300 {
            var doc = Document()
            doc.append("_id", .int32(Int32(round)))
            for key in keys where random.next() % 2 == 0 { doc.append(key, value()) }
            let key = keys[Int(random.next() % UInt64(keys.count))]
            let fields = try #require(doc.topLevelFields(leading: "_id", [key]))
            let newValue = value()
            let general = doc.splicingTopLevel([key], fields.elements, [.set(newValue)])
            let one = doc.splicingTopLevel(key, fields.elements[0], setting: newValue)
            #expect(one.document.bytes == general.document.bytes, "seed \(seed) round \(round)")
            #expect(one.element == general.elements[0], "seed \(seed) round \(round)")
            #expect(one.document[key] == newValue, "seed \(seed) round \(round)")
        }
    }

    /// The one-key scan finds what the array scan finds (element, repeated keys, a refused
    /// leading field), and splicing an encoded element writes what encoding its value writes.
    @Test(arguments: [UInt64(4), 5, 6])
    func encodedElementSpliceEqualsTheValueSplice(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let keys = ["a", "b", "field0", "field1", "a somewhat longer key", "_id"]
        for round in 0..<300 {
            var doc = Document()
            if random.next() % 8 != 0 { doc.append("_id", .int32(Int32(round))) }
            for key in keys.dropLast() where random.next() % 2 == 0 {
                doc.append(key, .string(String(repeating: "y", count: Int(random.next() % 40))))
            }
            if random.next() % 6 == 0 { doc.append(keys[Int(random.next() % UInt64(keys.count))], .null) }  // repeated
            let key = keys[Int(random.next() % UInt64(keys.count - 1))]
            let many = doc.topLevelFields(leading: "_id", [key])
            let one = doc.topLevelFields(leading: "_id", key)
            #expect(one?.element == many?.elements[0], "seed \(seed) round \(round)")
            #expect(one?.uniqueKeys == many?.uniqueKeys, "seed \(seed) round \(round)")
            guard let one, one.uniqueKeys else { continue }
            let newValue = BSONValue.string(String(repeating: "z", count: Int(random.next() % 120)))
            var encoded = Document()
            encoded.append(key, newValue)
            let byValue = doc.splicingTopLevel(key, one.element, setting: newValue)
            let byElement = encoded.withUnsafeBytes { b in
                doc.splicingTopLevel(one.element, withElement: UnsafeRawBufferPointer(rebasing: b[4..<(b.count - 1)]))
            }
            #expect(byElement.document.bytes == byValue.document.bytes, "seed \(seed) round \(round)")
            #expect(byElement.element == byValue.element, "seed \(seed) round \(round)")
            #expect(byElement.document.byteCount == byElement.document.bytes.count)
        }
    }
}
