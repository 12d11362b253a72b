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

        /// Up to eight of the key's bytes from `offset` on, as a little-endian word, zero past
        /// the key's end. Two keys of one length are equal when their words at 0, 8, 16... are:
        /// a matcher against a fixed list of keys compares words instead of bytes.
        public func keyWord(at offset: Int) -> UInt64 {
            let count = Swift.min(8, keyCount - offset)
            guard count > 0 else { return 0 }
            let position = element.keyStart + offset
            if reader.buffer.count - position >= 8 {
                let word = UInt64(littleEndian: reader.buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                return count == 8 ? word : word & ((1 << (UInt64(count) &* 8)) &- 1)
            }
            // Near the end of the buffer (a short key in the last element): byte by byte.
            var word: UInt64 = 0
            for index in 0..<count {
                word |= UInt64(reader.buffer[position + index]) << (UInt64(index) &* 8)
            }
            return word
        }

        /// `keyWord(at:)` of a key spelled `name`.
        public static func keyWord(_ name: StaticString, at offset: Int) -> UInt64 {
            name.withUTF8Buffer { bytes in
                var word: UInt64 = 0
                var index = offset
                while index < Swift.min(bytes.count, offset + 8) {
                    word |= UInt64(bytes[index]) << (UInt64(index - offset) * 8)
                    index += 1
                }
                return word
            }
        }

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
