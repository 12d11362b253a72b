/// Checks that bytes are one well-formed BSON document, once, so that everything reading a
/// `Document` afterwards can trust lengths and terminators without re-checking.
///
/// Checked: every length against its container (no element may run into its parent's
/// terminator), terminators, known type bytes, UTF-8 of keys and strings, string lengths ≥ 1
/// with a NUL last byte, bool bytes 0/1, the old-binary inner length, code-with-scope lengths
/// that add up exactly, the 16 MiB size and the 100-level depth. Also noted (not errors): array
/// keys that are not "0", "1", ... and regex options out of order — those make the input
/// non-canonical, and `Document(bytes:)` re-encodes it.
struct BSONValidator {
    let buffer: UnsafeRawBufferPointer
    /// False once something was seen that the encoder would write differently.
    private(set) var isCanonical = true

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    /// Validates the whole buffer as one top-level document.
    mutating func validate() throws {
        guard buffer.count <= BSONLimits.maxDocumentSize else {
            throw BSONError(
                .limitExceeded,
                "document of \(buffer.count) bytes is over the \(BSONLimits.maxDocumentSize)-byte limit",
                offset: 0)
        }
        guard buffer.count >= BSONFormat.minDocumentSize else {
            throw invalid("document of \(buffer.count) bytes is shorter than the minimum 5", at: 0)
        }
        let declared = int32(at: 0)
        guard declared == buffer.count else {
            throw invalid("declared length \(declared) does not match the \(buffer.count) bytes given", at: 0)
        }
        try validateDocument(at: 0, length: buffer.count, depth: 1, isArray: false)
    }

    private func invalid(_ message: String, at offset: Int) -> BSONError {
        BSONError(.invalidDocument, message, offset: offset)
    }

    private func int32(at offset: Int) -> Int {
        Int(Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
    }

    /// The document (or array) occupies `start..<start+length`; the caller checked that the
    /// range lies inside its parent and that `length ≥ 5`.
    private mutating func validateDocument(at start: Int, length: Int, depth: Int, isArray: Bool) throws {
        guard depth <= BSONLimits.maxDepth else {
            throw BSONError(
                .limitExceeded, "nesting deeper than \(BSONLimits.maxDepth) levels", offset: start)
        }
        let end = start + length - 1  // the terminator
        guard buffer[end] == 0 else { throw invalid("document does not end with 0x00", at: end) }
        var position = start + 4
        var index = 0
        while position < end {
            let type = buffer[position]
            let keyStart = position + 1
            let keyEnd = try cstringEnd(from: keyStart, before: end, what: "key")
            if isArray && isCanonical && !isIndexKey(index, from: keyStart, to: keyEnd) {
                isCanonical = false
            }
            position = try validateValue(
                type: type, at: keyEnd + 1, end: end, depth: depth, element: position)
            index += 1
        }
    }

    /// Finds the NUL that ends a cstring starting at `start`, which must come before `end`;
    /// checks the UTF-8 in between. Returns the NUL's offset.
    private func cstringEnd(from start: Int, before end: Int, what: String) throws -> Int {
        guard let (nul, sawNonASCII) = CStringScanner.findNUL(in: buffer, from: start, to: end) else {
            throw invalid("\(what) runs past the end of its document", at: start)
        }
        if sawNonASCII, let bad = UTF8Validator.firstInvalid(in: buffer, from: start, to: nul) {
            throw BSONError(.invalidUTF8, "\(what) is not valid UTF-8", offset: bad)
        }
        return nul
    }

    private func isIndexKey(_ index: Int, from start: Int, to end: Int) -> Bool {
        var expected = index
        var position = end
        repeat {
            position -= 1
            guard position >= start, buffer[position] == UInt8(ascii: "0") + UInt8(expected % 10) else {
                return false
            }
            expected /= 10
        } while expected > 0
        return position == start
    }

    /// Checks a length-prefixed string at `start` (int32 length ≥ 1, bytes, NUL) that must end
    /// by `limit`; returns the offset just past it.
    private func validateString(at start: Int, limit: Int, what: String) throws -> Int {
        guard start + 4 <= limit else {
            throw invalid("\(what) length runs past the end of its container", at: start)
        }
        let length = int32(at: start)
        guard length >= 1 else { throw invalid("\(what) length \(length) is less than 1", at: start) }
        guard length <= limit - start - 4 else {
            throw invalid("\(what) runs past the end of its container", at: start)
        }
        let last = start + 4 + length - 1
        guard buffer[last] == 0 else { throw invalid("\(what) is not terminated by 0x00", at: last) }
        if let bad = UTF8Validator.firstInvalid(in: buffer, from: start + 4, to: last) {
            throw BSONError(.invalidUTF8, "\(what) is not valid UTF-8", offset: bad)
        }
        return last + 1
    }

    /// Checks a nested document at `start` that must end by `limit`; returns the offset past it.
    private mutating func validateEmbedded(at start: Int, limit: Int, depth: Int, isArray: Bool) throws -> Int
    {
        guard start + 4 <= limit else {
            throw invalid("embedded document length runs past its container", at: start)
        }
        let length = int32(at: start)
        guard length >= BSONFormat.minDocumentSize else {
            throw invalid("embedded document length \(length) is less than 5", at: start)
        }
        guard length <= limit - start else {
            throw invalid("embedded document runs past its container", at: start)
        }
        try validateDocument(at: start, length: length, depth: depth + 1, isArray: isArray)
        return start + length
    }

    private func fixed(_ size: Int, at start: Int, end: Int, what: String) throws -> Int {
        guard size <= end - start else {
            throw invalid("\(what) runs past the end of its document", at: start)
        }
        return start + size
    }

    /// Validates one value of `type` at `start`, inside a document whose terminator is at `end`.
    private mutating func validateValue(type: UInt8, at start: Int, end: Int, depth: Int, element: Int) throws
        -> Int
    {
        switch type {
        case BSONFormat.double: return try fixed(8, at: start, end: end, what: "double")
        case BSONFormat.string, BSONFormat.javascript, BSONFormat.symbol:
            return try validateString(at: start, limit: end, what: "string")
        case BSONFormat.document:
            return try validateEmbedded(at: start, limit: end, depth: depth, isArray: false)
        case BSONFormat.array:
            return try validateEmbedded(at: start, limit: end, depth: depth, isArray: true)
        case BSONFormat.binary:
            guard start + 5 <= end else {
                throw invalid("binary header runs past the end of its document", at: start)
            }
            let length = int32(at: start)
            guard length >= 0, length <= end - start - 5 else {
                throw invalid("binary length \(length) does not fit its document", at: start)
            }
            if buffer[start + 4] == BSONFormat.binaryOldSubtype {
                guard length >= 4, int32(at: start + 5) == length - 4 else {
                    throw invalid("old binary (subtype 2) inner length does not match", at: start + 5)
                }
            }
            return start + 5 + length
        case BSONFormat.undefined, BSONFormat.null, BSONFormat.minKey, BSONFormat.maxKey:
            return start
        case BSONFormat.objectId: return try fixed(12, at: start, end: end, what: "ObjectId")
        case BSONFormat.bool:
            let next = try fixed(1, at: start, end: end, what: "bool")
            guard buffer[start] <= 1 else {
                throw invalid("bool byte \(buffer[start]) is not 0 or 1", at: start)
            }
            return next
        case BSONFormat.datetime, BSONFormat.timestamp, BSONFormat.int64:
            return try fixed(8, at: start, end: end, what: "64-bit value")
        case BSONFormat.int32: return try fixed(4, at: start, end: end, what: "int32")
        case BSONFormat.decimal128: return try fixed(16, at: start, end: end, what: "decimal128")
        case BSONFormat.regex:
            let patternEnd = try cstringEnd(from: start, before: end, what: "regex pattern")
            let optionsEnd = try cstringEnd(from: patternEnd + 1, before: end, what: "regex options")
            if isCanonical {
                // Sorted ASCII is canonical; anything else is re-encoded (sorted by scalar).
                var previous: UInt8 = 0
                // ASCII in byte order; any non-ASCII option goes through `sortedOptions`.
                for i in (patternEnd + 1)..<optionsEnd {
                    if buffer[i] < previous || buffer[i] >= 0x80 { isCanonical = false }
                    previous = buffer[i]
                }
            }
            return optionsEnd + 1
        case BSONFormat.dbPointer:
            let afterNamespace = try validateString(at: start, limit: end, what: "DBPointer namespace")
            return try fixed(12, at: afterNamespace, end: end, what: "DBPointer id")
        case BSONFormat.javascriptWithScope:
            guard start + 4 <= end else {
                throw invalid("code-with-scope length runs past its document", at: start)
            }
            let total = int32(at: start)
            guard total >= BSONFormat.minCodeWithScopeSize, total <= end - start else {
                throw invalid("code-with-scope length \(total) does not fit its document", at: start)
            }
            let limit = start + total
            let afterCode = try validateString(at: start + 4, limit: limit, what: "code-with-scope code")
            let afterScope = try validateEmbedded(at: afterCode, limit: limit, depth: depth, isArray: false)
            guard afterScope == limit else {
                throw invalid("code-with-scope length \(total) does not match its contents", at: start)
            }
            return limit
        default:
            throw invalid("unknown element type 0x\(Hex.encode([type]))", at: element)
        }
    }
}
