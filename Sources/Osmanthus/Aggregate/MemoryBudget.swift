import OsmanthusBSON

/// The bytes one blocking stage holds, charged as it grows; past the limit it throws
/// QueryExceededMemoryLimitNoDiskUseAllowed (292) instead of growing without bound.
/// Sizes are estimates (encoded BSON size plus a fixed overhead per value).
struct MemoryBudget {
    let stage: String
    let limit: Int
    private(set) var used = 0

    init(stage: String, limit: Int) {
        self.stage = stage
        self.limit = limit
    }

    mutating func charge(_ bytes: Int) throws {
        used += bytes
        if used > limit {
            throw OsmanthusError(
                .queryExceededMemoryLimitNoDiskUseAllowed,
                "Exceeded memory limit for \(stage): used more than \(limit) bytes and spilling to disk is not supported; filter earlier in the pipeline or raise the memory limit"
            )
        }
    }

    mutating func release(_ bytes: Int) { used = max(0, used - bytes) }

    /// Per-value bookkeeping on top of the encoded bytes (Swift enum, array slot, hash entry).
    static let overhead = 32

    static func size(of document: Document) -> Int { document.byteCount + overhead }

    static func size(of value: BSONValue) -> Int {
        switch value {
        case .document(let document): return document.byteCount + overhead
        case .array(let elements): return elements.reduce(overhead) { $0 + size(of: $1) }
        case .string(let text): return text.utf8.count + overhead
        case .binary(let binary): return binary.data.count + overhead
        default: return overhead
        }
    }
}
