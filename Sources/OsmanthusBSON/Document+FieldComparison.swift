/// Comparing one top-level field with a query value in the encoded bytes, without decoding the
/// field into a `BSONValue` (no String, no array allocated): the filter matcher's fast path for
/// `{a: v}`, `{a: {$gt: v}}` and friends on strings and numbers.
extension Document {
    /// The outcome of `compareField`.
    public enum FieldComparison: Equatable, Sendable {
        /// No field of that name.
        case missing
        /// The field holds a value of another type bracket than the query value (so no
        /// comparison operator holds, `BSONValue.compare` would order them by rank).
        case otherBracket
        /// Same bracket: the sign of `BSONValue.compare(field, value)`.
        case order(Int)
        /// Not decided in place (arrays, NaN, int64 against double, decimals, other types): the
        /// caller decodes the field and compares the usual way.
        case undecided
    }

    /// Compares the first field named `key` with `value` as `BSONValue.compare` would. Decides
    /// in place only for a string, int32, int64 or double `value` against a string, int32,
    /// int64 or double field; anything else is `.undecided`.
    public func compareField(_ key: String, with value: BSONValue) -> FieldComparison {
        switch value {
        case .string, .int32, .int64: break
        case .double(let d) where !d.isNaN: break
        default: return .undecided
        }
        guard let element = findElement(key) else { return .missing }
        return withReader { reader in
            let at = element.valueStart
            switch (element.type, value) {
            case (BSONFormat.string, .string(var s)):
                let length = Int(reader.int32(at: at)) - 1
                let stored = UnsafeRawBufferPointer(rebasing: reader.buffer[(at + 4)..<(at + 4 + length)])
                return .order(s.withUTF8 { BSONValue.compareBytes(stored, UnsafeRawBufferPointer($0)) })
            case (BSONFormat.string, _):
                return .otherBracket
            case (BSONFormat.int32, _), (BSONFormat.int64, _):
                let stored =
                    element.type == BSONFormat.int32
                    ? Int64(reader.int32(at: at)) : Int64(bitPattern: reader.uint64(at: at))
                switch value {
                case .int32(let x): return .order(Self.order(stored, Int64(x)))
                case .int64(let x): return .order(Self.order(stored, x))
                case .double(let x) where element.type == BSONFormat.int32:
                    return .order(Self.order(Double(stored), x))  // every int32 is an exact double
                case .string: return .otherBracket
                default: return .undecided
                }
            case (BSONFormat.double, _):
                let stored = Double(bitPattern: reader.uint64(at: at))
                guard !stored.isNaN else { return .undecided }
                switch value {
                case .double(let x): return .order(Self.order(stored, x))
                case .int32(let x): return .order(Self.order(stored, Double(x)))
                case .string: return .otherBracket
                default: return .undecided
                }
            default:
                return .undecided
            }
        }
    }

    @inline(__always)
    private static func order<T: Comparable>(_ a: T, _ b: T) -> Int {
        a == b ? 0 : (a < b ? -1 : 1)
    }
}
