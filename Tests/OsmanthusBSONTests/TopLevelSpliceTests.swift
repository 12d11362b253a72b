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
}
