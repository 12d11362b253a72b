/// How `Collection.aggregate` runs a pipeline.
public struct AggregateOptions: Sendable {
    /// Bytes each blocking stage (`$group`, `$sort`, `$bucket`, `$facet`, `$sample`, the
    /// `$lookup` table) may hold. Past it the pipeline fails with
    /// QueryExceededMemoryLimitNoDiskUseAllowed (292); MongoDB's default is 100 MiB.
    public var memoryLimit: Int
    /// Accepted for compatibility; Osmanthus does not spill to disk, so the budget still holds.
    public var allowDiskUse: Bool

    public static let defaultMemoryLimit = 100 * 1024 * 1024

    public init(memoryLimit: Int = AggregateOptions.defaultMemoryLimit, allowDiskUse: Bool = false) {
        self.memoryLimit = memoryLimit
        self.allowDiskUse = allowDiskUse
    }
}
