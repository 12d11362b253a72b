import OsmanthusBSON
import Testing

struct ArrayKeyTests {
    /// The digit count is the length of the key the encoder writes for that index.
    @Test func digitCountIsTheLengthOfTheEncodedIndexKey() throws {
        for index in [0, 1, 9, 10, 11, 99, 100, 999, 1000, 123_456, Int.max] {
            #expect(ArrayKey.digitCount(index) == String(index).utf8.count, "\(index)")
        }
        // The keys an encoded array holds, read back.
        let array: Document = ["a": .array((0..<120).map { .int32(Int32($0)) })]
        let bytes = array.bytes
        let decoded = try Document(bytes: bytes)
        guard case .array(let items)? = decoded["a"] else { Issue.record("no array"); return }
        #expect(items.count == 120)
        // Length, then "a"'s type and key, the array's length, its elements (type, key, NUL,
        // int32), the array's end and the document's.
        let elements = (0..<120).reduce(0) { $0 + 1 + ArrayKey.digitCount($1) + 1 + 4 }
        #expect(bytes.count == 4 + 1 + 2 + 4 + elements + 1 + 1)
    }
}
