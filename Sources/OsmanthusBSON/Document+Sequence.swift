/// Iteration, equality, literals and printing for `Document`.
extension Document: Sequence {
    public typealias Element = (key: String, value: BSONValue)

    /// Walks the fields in order, decoding each key and value as it goes.
    public struct Iterator: IteratorProtocol {
        let document: Document
        var position = 4

        public mutating func next() -> (key: String, value: BSONValue)? {
            let position = self.position
            let result: (Element, Int)? = document.withReader { reader in
                guard let element = reader.element(at: position) else { return nil }
                return (
                    (reader.key(of: element), reader.value(type: element.type, at: element.valueStart)),
                    element.valueEnd
                )
            }
            guard let (element, next) = result else { return nil }
            self.position = next
            return element
        }
    }

    public func makeIterator() -> Iterator { Iterator(document: self) }

    public var underestimatedCount: Int { isEmpty ? 0 : 1 }
}

extension Document: Hashable {
    /// Byte equality of the canonical encodings: same keys in the same order with the same
    /// BSON values (see `BSONValue`'s `==`).
    public static func == (a: Document, b: Document) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in bytesEqual(x, y) } }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Document: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init(elements)
    }
}

extension Document: CustomStringConvertible, CustomDebugStringConvertible {
    /// Relaxed Extended JSON.
    public var description: String { toExtendedJSON(mode: .relaxed) }
    /// Canonical Extended JSON.
    public var debugDescription: String { toExtendedJSON(mode: .canonical) }
}
