import OsmanthusBSON

/// The comparison operators of a query.
enum ComparisonOperator: Sendable {
    case eq, lt, lte, gt, gte
}

/// A condition on one candidate value (the server's `matchesSingleElement`). `nil` is a missing
/// field.
indirect enum LeafPredicate: Sendable {
    case compare(ComparisonOperator, BSONValue)
    case regex(QueryRegex)
    /// `$in`: equality with any of `values`, or a match of any of `regexes`.
    case `in`(values: [BSONValue], regexes: [QueryRegex])
    case exists
    /// `$type`; `matchesNumber` is the "number" alias.
    case type(Set<BSONType>, matchesNumber: Bool)
    case mod(divisor: Int64, remainder: Int64)
    case size(Int)
    /// `$elemMatch` with a query on each element (documents, or arrays seen as documents).
    case elemMatchObject(MatchNode)
    /// `$elemMatch` with operators applied to each element as a value.
    case elemMatchValue([MatchNode])
    case bits(BitsTest, positions: [Int])

    enum BitsTest: Sendable {
        case allSet, allClear, anySet, anyClear
    }

    /// Whether `value` satisfies the condition, and for `$elemMatch` the index of the element
    /// that did.
    func test(_ value: BSONValue?) -> (Bool, Int?) {
        switch self {
        case .compare(let op, let rhs):
            return (LeafPredicate.compare(value, op, rhs), nil)
        case .regex(let regex):
            guard let value else { return (false, nil) }
            return (regex.matches(value: value), nil)
        case .in(let values, let regexes):
            if values.contains(where: { LeafPredicate.compare(value, .eq, $0) }) { return (true, nil) }
            guard let value else { return (false, nil) }
            return (regexes.contains { $0.matches(value: value) }, nil)
        case .exists:
            return (value != nil, nil)
        case .type(let types, let matchesNumber):
            guard let value else { return (false, nil) }
            return (types.contains(value.type) || (matchesNumber && value.isNumber), nil)
        case .mod(let divisor, let remainder):
            guard let number = value.flatMap(LeafPredicate.truncatedInteger) else { return (false, nil) }
            let (result, overflow) = number.remainderReportingOverflow(dividingBy: divisor)
            return ((overflow ? 0 : result) == remainder, nil)
        case .size(let count):
            guard case .array(let elements)? = value else { return (false, nil) }
            return (elements.count == count, nil)
        case .elemMatchObject(let query):
            guard case .array(let elements)? = value else { return (false, nil) }
            for (index, element) in elements.enumerated() {
                let document: Document
                switch element {
                case .document(let fields): document = fields
                case .array(let inner): document = Document(inner.enumerated().map { (String($0.offset), $0.element) })
                default: continue
                }
                if (try? query.evaluate(document))?.0 == true { return (true, index) }
            }
            return (false, nil)
        case .elemMatchValue(let conditions):
            guard case .array(let elements)? = value else { return (false, nil) }
            for (index, element) in elements.enumerated() where conditions.allSatisfy({ $0.matchesValue(element) }) {
                return (true, index)
            }
            return (false, nil)
        case .bits(let test, let positions):
            guard let value, let isSet = LeafPredicate.bitReader(value) else { return (false, nil) }
            switch test {
            case .allSet: return (positions.allSatisfy(isSet), nil)
            case .allClear: return (!positions.contains(where: isSet), nil)
            case .anySet: return (positions.contains(where: isSet), nil)
            case .anyClear: return (!positions.allSatisfy(isSet), nil)
            }
        }
    }

    /// MongoDB's comparison of a candidate with a query value: only values of the same type
    /// bracket compare (`$gt: 5` never matches a string), except that missing and undefined sit
    /// with null for `$eq`/`$lte`/`$gte`, and MinKey/MaxKey bound everything. NaN equals NaN
    /// and is neither above nor below any number.
    static func compare(_ value: BSONValue?, _ op: ComparisonOperator, _ rhs: BSONValue) -> Bool {
        let leftRank = value?.type.sortRank ?? BSONType.undefined.sortRank
        let rightRank = rhs.type.sortRank
        guard let value, leftRank == rightRank else {
            if case .null = rhs, value == nil {
                return op == .eq || op == .lte || op == .gte
            }
            switch rhs {
            case .maxKey: return op == .lt || op == .lte
            case .minKey: return op == .gt || op == .gte
            default: return false
            }
        }
        if value.isNumber, isNaN(value) || isNaN(rhs) {
            return isNaN(value) && isNaN(rhs) && (op == .eq || op == .lte || op == .gte)
        }
        let order = BSONValue.compare(value, rhs)
        switch op {
        case .eq: return order == 0
        case .lt: return order < 0
        case .lte: return order <= 0
        case .gt: return order > 0
        case .gte: return order >= 0
        }
    }

    static func isNaN(_ value: BSONValue) -> Bool {
        switch value {
        case .double(let x): x.isNaN
        case .decimal128(let x): x.isNaN
        default: false
        }
    }

    /// A number truncated toward zero, as `$mod` sees it; nil for NaN, infinities and
    /// non-numbers.
    static func truncatedInteger(_ value: BSONValue) -> Int64? {
        switch value {
        case .int32(let x): return Int64(x)
        case .int64(let x): return x
        case .double(let x):
            guard x.isFinite else { return nil }
            return Int64(exactly: x.rounded(.towardZero)) ?? (x < 0 ? .min : .max)
        case .decimal128(let x):
            guard x.isFinite else { return nil }
            let d = x.doubleValue.rounded(.towardZero)
            return Int64(exactly: d) ?? (d < 0 ? .min : .max)
        default: return nil
        }
    }

    /// A bit test for `$bits*`: integral numbers in Int64's range (two's complement, so
    /// negative numbers have all high bits set) and binary data (little-endian bit order).
    static func bitReader(_ value: BSONValue) -> ((Int) -> Bool)? {
        if case .binary(let binary) = value {
            let bytes = binary.data
            return { position in
                let byte = position / 8
                return byte < bytes.count && bytes[byte] & (1 << UInt8(position % 8)) != 0
            }
        }
        guard value.isNumber, let number = value.exactInt64 else { return nil }
        return { position in position >= 63 ? number < 0 : (number >> Int64(position)) & 1 == 1 }
    }
}
