#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// MongoDB's total order on BSON values (the server's `compareElementValues` and
/// `BSONObj::woCompare`; the manual's "Comparison/Sort Order"):
///
///     MinKey < undefined < null < numbers < string, symbol < document < array < binary
///       < ObjectId < bool < datetime < timestamp < regex < DBPointer < javascript
///       < javascript-with-scope < MaxKey
///
/// Within a rank: numbers by exact value across int32, int64, double and decimal128 (NaN below
/// every number and equal to any NaN; -0 equals 0); strings and symbols by UTF-8 bytes;
/// documents field by field (type rank, then key bytes, then value; a prefix is smaller);
/// arrays element by element; binary by length, then subtype, then bytes; ObjectIds by bytes;
/// false < true; datetimes as signed and timestamps as unsigned 64-bit; regexes by pattern then
/// options; javascript by code; javascript-with-scope by code then scope.
extension BSONValue {
    /// -1, 0 or 1 as `a` sorts before, with, or after `b`.
    public static func compare(_ a: BSONValue, _ b: BSONValue) -> Int {
        let rankA = a.type.sortRank
        let rankB = b.type.sortRank
        if rankA != rankB { return rankA < rankB ? -1 : 1 }
        switch (a, b) {
        case (.string(let x), .string(let y)), (.string(let x), .symbol(let y)),
            (.symbol(let x), .string(let y)), (.symbol(let x), .symbol(let y)),
            (.javascript(let x), .javascript(let y)):
            return compareBytes(x, y)
        case (.document(let x), .document(let y)):
            return compareDocuments(x, y)
        case (.array(let x), .array(let y)):
            for (left, right) in zip(x, y) {
                let order = compare(left, right)  // keys are equal by position
                if order != 0 { return order }
            }
            return sign(x.count - y.count)
        case (.binary(let x), .binary(let y)):
            if x.data.count != y.data.count { return sign(x.data.count - y.data.count) }
            if x.subtype != y.subtype { return x.subtype.rawValue < y.subtype.rawValue ? -1 : 1 }
            return compareBytes(x.data, y.data)
        case (.objectId(let x), .objectId(let y)):
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)):
            return x == y ? 0 : (x ? 1 : -1)
        case (.datetime(let x), .datetime(let y)):
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.timestamp(let i1, let s1), .timestamp(let i2, let s2)):
            let x = UInt64(s1) << 32 | UInt64(i1)
            let y = UInt64(s2) << 32 | UInt64(i2)
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.regex(let p1, let o1), .regex(let p2, let o2)):
            let order = compareBytes(p1, p2)
            return order != 0 ? order : compareBytes(o1, o2)
        case (.dbPointer(let n1, let i1), .dbPointer(let n2, let i2)):
            // The server compares the value sizes first, then the bytes.
            let c1 = n1.utf8.count
            let c2 = n2.utf8.count
            if c1 != c2 { return sign(c1 - c2) }
            let order = compareBytes(n1, n2)
            return order != 0 ? order : (i1 == i2 ? 0 : (i1 < i2 ? -1 : 1))
        case (.javascriptWithScope(let c1, let s1), .javascriptWithScope(let c2, let s2)):
            let order = compareBytes(c1, c2)
            return order != 0 ? order : compareDocuments(s1, s2)
        default:
            if a.isNumber && b.isNumber { return NumericComparison.compare(a, b) }
            return 0  // minKey, maxKey, null, undefined: one value each
        }
    }

    /// Compares two documents as the server's `woCompare` does with field names considered.
    public static func compareDocuments(_ x: Document, _ y: Document) -> Int {
        var left = x.makeIterator()
        var right = y.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let l?, let r?):
                let rankL = l.value.type.sortRank
                let rankR = r.value.type.sortRank
                if rankL != rankR { return rankL < rankR ? -1 : 1 }
                let keyOrder = compareBytes(l.key, r.key)
                if keyOrder != 0 { return keyOrder }
                let order = compare(l.value, r.value)
                if order != 0 { return order }
            }
        }
    }

    @inline(__always)
    private static func sign(_ x: Int) -> Int { x == 0 ? 0 : (x < 0 ? -1 : 1) }

    /// Unsigned byte order, a prefix first (memcmp then length).
    static func compareBytes(_ x: String, _ y: String) -> Int {
        var x = x
        var y = y
        return x.withUTF8 { a in
            y.withUTF8 { b in compareBytes(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b)) }
        }
    }

    static func compareBytes(_ x: [UInt8], _ y: [UInt8]) -> Int {
        x.withUnsafeBytes { a in y.withUnsafeBytes { b in compareBytes(a, b) } }
    }

    static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let x = a.baseAddress, let y = b.baseAddress {
            let order = memcmp(x, y, common)
            if order != 0 { return order < 0 ? -1 : 1 }
        }
        return sign(a.count - b.count)
    }
}
