/// Appends BSON elements and values to a byte buffer, always in canonical form: array keys
/// "0", "1", ..., regex options sorted, old-binary inner lengths written.
///
/// Keys and regex parts are cstrings: a NUL inside one cannot be encoded, and is a programmer
/// error here (parsers that take keys from outside — Extended JSON, `BSONEncoder` — check
/// first and throw).
enum BSONWriter {
    @inline(__always)
    static func appendInt32(_ value: Int32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) {
            out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self))
        }
    }

    @inline(__always)
    static func appendUInt64(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) {
            out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Overwrites the int32 at `offset` (relative to the slice's start) with `value`.
    @inline(__always)
    static func patchInt32(_ value: Int, at offset: Int, in out: inout [UInt8]) {
        out.withUnsafeMutableBytes {
            $0.storeBytes(
                of: Int32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: Int32.self)
        }
    }

    static func appendCString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            precondition(!utf8.contains(0), "BSON keys and regex parts cannot contain NUL")
            out.append(contentsOf: utf8)
        }
        out.append(0)
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            appendInt32(Int32(truncatingIfNeeded: utf8.count + 1), to: &out)
            out.append(contentsOf: utf8)
        }
        out.append(0)
    }

    /// Appends the decimal digits of `index` and a NUL (an array key), without allocating.
    static func appendIndexKey(_ index: Int, to out: inout [UInt8]) {
        if index < 10 {
            out.append(UInt8(ascii: "0") + UInt8(index))
        } else {
            var divisor = 1
            while divisor <= index / 10 { divisor *= 10 }
            var rest = index
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        out.append(0)
    }

    /// Appends a whole element: type byte, key, value.
    static func appendElement(key: String, value: BSONValue, to out: inout [UInt8]) {
        out.append(value.type.rawValue)
        appendCString(key, to: &out)
        appendValue(value, to: &out)
    }

    /// Appends a value's bytes (no type byte, no key).
    static func appendValue(_ value: BSONValue, to out: inout [UInt8]) {
        switch value {
        case .double(let v): appendUInt64(v.bitPattern, to: &out)
        case .string(let v), .javascript(let v), .symbol(let v): appendString(v, to: &out)
        case .document(let v): v.withUnsafeBytes { out.append(contentsOf: $0) }
        case .array(let values): appendArray(values, to: &out)
        case .binary(let v):
            let isOld = v.subtype.rawValue == BSONFormat.binaryOldSubtype
            appendInt32(Int32(truncatingIfNeeded: v.data.count + (isOld ? 4 : 0)), to: &out)
            out.append(v.subtype.rawValue)
            if isOld { appendInt32(Int32(truncatingIfNeeded: v.data.count), to: &out) }
            out.append(contentsOf: v.data)
        case .undefined, .null, .minKey, .maxKey: break
        case .objectId(let v): v.append(to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .datetime(let v): appendUInt64(UInt64(bitPattern: v), to: &out)
        case .regex(let pattern, let options):
            appendCString(pattern, to: &out)
            appendCString(sortedOptions(options), to: &out)
        case .dbPointer(let namespace, let id):
            appendString(namespace, to: &out)
            id.append(to: &out)
        case .javascriptWithScope(let code, let scope):
            let start = out.count
            appendInt32(0, to: &out)
            appendString(code, to: &out)
            scope.withUnsafeBytes { out.append(contentsOf: $0) }
            patchInt32(out.count - start, at: start, in: &out)
        case .int32(let v): appendInt32(v, to: &out)
        case .timestamp(let increment, let seconds):
            appendUInt64(UInt64(seconds) << 32 | UInt64(increment), to: &out)
        case .int64(let v): appendUInt64(UInt64(bitPattern: v), to: &out)
        case .decimal128(let v):
            appendUInt64(v.low, to: &out)
            appendUInt64(v.high, to: &out)
        }
    }

    static func appendArray(_ values: [BSONValue], to out: inout [UInt8]) {
        let start = out.count
        appendInt32(0, to: &out)
        for (index, element) in values.enumerated() {
            out.append(element.type.rawValue)
            appendIndexKey(index, to: &out)
            appendValue(element, to: &out)
        }
        out.append(0)
        patchInt32(out.count - start, at: start, in: &out)
    }

    /// Regex options in alphabetical order, as the BSON corpus requires of encoders (sorted by
    /// Unicode scalar, so that stray non-ASCII options stay valid UTF-8).
    static func sortedOptions(_ options: String) -> String {
        let utf8 = options.utf8
        var previous: UInt8 = 0
        var sorted = true
        for byte in utf8 {
            if byte < previous || byte >= 0x80 {
                sorted = false
                break
            }
            previous = byte
        }
        if sorted { return options }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: options.unicodeScalars.sorted())
        return String(scalars)
    }
}
