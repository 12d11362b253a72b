/// Reads elements and values out of bytes that `BSONValidator` has already accepted, so no
/// bounds are re-checked here. Offsets are relative to `buffer`, which is `base` from offset
/// `start` on, so that embedded documents become zero-copy views of `base`.
struct BSONReader {
    let buffer: UnsafeRawBufferPointer
    let base: [UInt8]
    let start: Int

    /// One element of a document: its type, where its key is, and where its value starts/ends.
    struct Element {
        var type: UInt8
        var keyStart: Int
        var keyEnd: Int  // offset of the key's NUL
        var valueStart: Int
        var valueEnd: Int
        var start: Int { keyStart - 1 }
    }

    @inline(__always)
    func int32(at offset: Int) -> Int32 {
        Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    @inline(__always)
    func uint64(at offset: Int) -> UInt64 {
        UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The NUL ending the cstring at `start` (the validator guarantees one).
    @inline(__always)
    func cstringEnd(from start: Int) -> Int {
        CStringScanner.findNUL(in: buffer, from: start, to: buffer.count)?.nul ?? start
    }

    /// The element starting at `offset`, or nil at the document's terminator.
    @inline(__always)
    func element(at offset: Int) -> Element? {
        let type = buffer[offset]
        if type == 0 { return nil }
        let keyEnd = cstringEnd(from: offset + 1)
        let valueStart = keyEnd + 1
        return Element(
            type: type, keyStart: offset + 1, keyEnd: keyEnd, valueStart: valueStart,
            valueEnd: valueStart + valueLength(type: type, at: valueStart))
    }

    /// The size in bytes of a value of `type` starting at `offset`.
    func valueLength(type: UInt8, at offset: Int) -> Int {
        switch type {
        case BSONFormat.double, BSONFormat.datetime, BSONFormat.timestamp, BSONFormat.int64: return 8
        case BSONFormat.string, BSONFormat.javascript, BSONFormat.symbol: return 4 + Int(int32(at: offset))
        case BSONFormat.document, BSONFormat.array, BSONFormat.javascriptWithScope:
            return Int(int32(at: offset))
        case BSONFormat.binary: return 5 + Int(int32(at: offset))
        case BSONFormat.objectId: return 12
        case BSONFormat.bool: return 1
        case BSONFormat.int32: return 4
        case BSONFormat.decimal128: return 16
        case BSONFormat.regex:
            let patternEnd = cstringEnd(from: offset)
            return cstringEnd(from: patternEnd + 1) + 1 - offset
        case BSONFormat.dbPointer: return 4 + Int(int32(at: offset)) + 12
        default: return 0  // undefined, null, minKey, maxKey
        }
    }

    func string(from start: Int, to end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
    }

    /// A length-prefixed string at `offset` (without its NUL).
    func lengthPrefixedString(at offset: Int) -> String {
        string(from: offset + 4, to: offset + 4 + Int(int32(at: offset)) - 1)
    }

    func key(of element: Element) -> String {
        string(from: element.keyStart, to: element.keyEnd)
    }

    /// The embedded document at `offset`, as a view of the same buffer.
    func document(at offset: Int) -> Document {
        Document(validated: base, start: start + offset)
    }

    /// The values of the array at `offset`, in order (keys ignored).
    func array(at offset: Int) -> [BSONValue] {
        var values = [BSONValue]()
        var position = offset + 4
        while let element = element(at: position) {
            values.append(value(type: element.type, at: element.valueStart))
            position = element.valueEnd
        }
        return values
    }

    /// Decodes the value of `type` at `offset`.
    func value(type: UInt8, at offset: Int) -> BSONValue {
        switch type {
        case BSONFormat.double: return .double(Double(bitPattern: uint64(at: offset)))
        case BSONFormat.string: return .string(lengthPrefixedString(at: offset))
        case BSONFormat.document: return .document(document(at: offset))
        case BSONFormat.array: return .array(array(at: offset))
        case BSONFormat.binary:
            let length = Int(int32(at: offset))
            let subtype = buffer[offset + 4]
            let start = subtype == BSONFormat.binaryOldSubtype ? offset + 9 : offset + 5
            let data = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[start..<(offset + 5 + length)]))
            return .binary(BSONBinary(subtype: .init(subtype), data: data))
        case BSONFormat.undefined: return .undefined
        case BSONFormat.objectId: return .objectId(ObjectId(reading: buffer, at: offset))
        case BSONFormat.bool: return .bool(buffer[offset] != 0)
        case BSONFormat.datetime: return .datetime(Int64(bitPattern: uint64(at: offset)))
        case BSONFormat.null: return .null
        case BSONFormat.regex:
            let patternEnd = cstringEnd(from: offset)
            let optionsEnd = cstringEnd(from: patternEnd + 1)
            return .regex(
                pattern: string(from: offset, to: patternEnd),
                options: string(from: patternEnd + 1, to: optionsEnd))
        case BSONFormat.dbPointer:
            let idOffset = offset + 4 + Int(int32(at: offset))
            return .dbPointer(
                namespace: lengthPrefixedString(at: offset), id: ObjectId(reading: buffer, at: idOffset))
        case BSONFormat.javascript: return .javascript(lengthPrefixedString(at: offset))
        case BSONFormat.symbol: return .symbol(lengthPrefixedString(at: offset))
        case BSONFormat.javascriptWithScope:
            let scopeOffset = offset + 8 + Int(int32(at: offset + 4))
            return .javascriptWithScope(
                code: lengthPrefixedString(at: offset + 4), scope: document(at: scopeOffset))
        case BSONFormat.int32: return .int32(int32(at: offset))
        case BSONFormat.timestamp:
            let raw = uint64(at: offset)
            return .timestamp(
                increment: UInt32(truncatingIfNeeded: raw), seconds: UInt32(truncatingIfNeeded: raw >> 32))
        case BSONFormat.int64: return .int64(Int64(bitPattern: uint64(at: offset)))
        case BSONFormat.decimal128:
            return .decimal128(Decimal128(high: uint64(at: offset + 8), low: uint64(at: offset)))
        case BSONFormat.minKey: return .minKey
        default: return .maxKey
        }
    }

    /// Whether the document at `offset`, at nesting `level` (1 for the top level), has
    /// anything nested deeper than `BSONLimits.maxDepth`. Stops descending at the limit, so the
    /// recursion stays shallow however deep the document is.
    func exceedsMaxDepth(documentAt offset: Int, level: Int) -> Bool {
        if level > BSONLimits.maxDepth { return true }
        var position = offset + 4
        while let element = element(at: position) {
            switch element.type {
            case BSONFormat.document, BSONFormat.array:
                if exceedsMaxDepth(documentAt: element.valueStart, level: level + 1) { return true }
            case BSONFormat.javascriptWithScope:
                let scope = element.valueStart + 8 + Int(int32(at: element.valueStart + 4))
                if exceedsMaxDepth(documentAt: scope, level: level + 1) { return true }
            default:
                break
            }
            position = element.valueEnd
        }
        return false
    }
}
