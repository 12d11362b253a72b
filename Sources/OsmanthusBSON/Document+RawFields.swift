/// A walk over a document's fields that hands each key over as bytes and decodes a value only
/// when asked. For a caller that keeps a few known fields out of many (the server reading a
/// command's options) a `String` per key and a decoded value per unwanted field cost more than
/// the matching itself.
extension Document {
    /// One field met by `forEachRawField`; valid only inside that call.
    public struct RawField {
        let reader: BSONReader
        let element: BSONReader.Element

        /// The key's length in bytes (UTF-8, no NUL).
        public var keyCount: Int { element.keyEnd - element.keyStart }

        /// The key, as `Document`'s iterator gives it.
        public var key: String { reader.key(of: element) }

        /// The value, as `Document`'s iterator gives it.
        public var value: BSONValue { reader.value(type: element.type, at: element.valueStart) }

        /// True when the key's bytes are exactly `name`'s UTF-8 bytes.
        public func keyEquals(_ name: StaticString) -> Bool {
            let count = keyCount
            // withUTF8Buffer, not utf8Start: a one-character literal may be stored as a scalar.
            return name.withUTF8Buffer { expected in
                guard expected.count == count else { return false }
                var index = 0
                while index < count {
                    if reader.buffer[element.keyStart + index] != expected[index] { return false }
                    index += 1
                }
                return true
            }
        }
    }

    /// Calls `body` with each field in order (duplicates included, as the iterator does).
    public func forEachRawField(_ body: (RawField) throws -> Void) rethrows {
        try withReader { reader in
            var position = 4
            while let element = reader.element(at: position) {
                try body(RawField(reader: reader, element: element))
                position = element.valueEnd
            }
        }
    }
}
