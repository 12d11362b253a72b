import OsmanthusBSON

/// The running value of one accumulator over one group.
struct AccumulatorState {
    let kind: Accumulator.Kind
    private var value: BSONValue?
    private var count = 0
    private var items: [BSONValue] = []
    private var seen: Set<[UInt8]> = []

    init(kind: Accumulator.Kind) {
        self.kind = kind
        if kind == .sum || kind == .avg || kind == .count { value = .int32(0) }
    }

    /// Folds in one input value (nil: missing); returns the bytes the state grew by.
    mutating func add(_ input: BSONValue?) -> Int {
        switch kind {
        case .sum, .avg:
            guard let input, input.isNumber else { return 0 }
            value = Self.add(value ?? .int32(0), input)
            count += 1
        case .count:
            value = Self.add(value ?? .int32(0), .int32(1))
        case .min, .max:
            guard let input, !ExpressionOperator.isNullish(input) else { return 0 }
            guard let current = value else {
                value = input
                return MemoryBudget.size(of: input)
            }
            let order = BSONValue.compare(input, current)
            if kind == .min ? order < 0 : order > 0 {
                value = input
                return max(0, MemoryBudget.size(of: input) - MemoryBudget.size(of: current))
            }
        case .first:
            guard count == 0 else { return 0 }
            count = 1
            value = input ?? .null
            return MemoryBudget.size(of: value ?? .null)
        case .last:
            let previous = value.map(MemoryBudget.size(of:)) ?? 0
            value = input ?? .null
            return max(0, MemoryBudget.size(of: value ?? .null) - previous)
        case .push:
            guard let input else { return 0 }
            items.append(input)
            return MemoryBudget.size(of: input)
        case .addToSet:
            guard let input else { return 0 }
            let key = KeyEncoder.encode(input)
            guard seen.insert(key).inserted else { return 0 }
            items.append(input)
            return MemoryBudget.size(of: input) + key.count
        }
        return 0
    }

    func result() -> BSONValue {
        switch kind {
        case .sum, .count: return value ?? .int32(0)
        case .avg:
            guard count > 0, let sum = value else { return .null }
            return BSONArithmetic.divide(sum, .int64(Int64(count))) ?? .null
        case .min, .max, .first, .last: return value ?? .null
        case .push, .addToSet: return .array(items)
        }
    }

    /// `$sum`'s addition: int32 widening to int64, int64 overflowing to double.
    private static func add(_ a: BSONValue, _ b: BSONValue) -> BSONValue {
        if case .int32(let x) = a, case .int32(let y) = b {
            let sum = Int64(x) + Int64(y)
            return Int32(exactly: sum).map { .int32($0) } ?? .int64(sum)
        }
        if case .double(let x) = a, case .double(let y) = b { return .double(x + y) }
        return BSONArithmetic.apply(.add, a, b) ?? a
    }
}
