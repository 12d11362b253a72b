/// Decides what to compact next: leveled compaction with level targets derived from the
/// bottom level, as RocksDB's dynamic level sizes do (SPEC.md §9.4).
///
/// Every level above the bottom is kept at about 1/multiplier of the level below it, so once
/// compaction has caught up the levels above the bottom hold at most ~11% of the bottom's bytes,
/// which bounds space amplification. The bottom level itself grows into the next level when it
/// exceeds its static size `levelBase × multiplier^(level−1)`.
struct CompactionPicker {
    let options: Options

    /// Below this, a level above the bottom is never a compaction target (avoids churning tiny
    /// levels in small databases).
    var minimumLevelTarget: UInt64 { max(options.levelBaseSize / options.levelSizeMultiplier, 1) }

    static func bottomLevel(_ v: Version) -> Int {
        for level in stride(from: Limits.numberOfLevels - 1, through: 1, by: -1) where !v.levels[level].isEmpty {
            return level
        }
        return 0
    }

    /// Target size of `level` (≥ 1) in version `v`.
    func target(level: Int, in v: Version) -> UInt64 {
        let bottom = Self.bottomLevel(v)
        var staticTarget = options.levelBaseSize
        for _ in 1..<max(level, 1) { staticTarget = staticTarget &* options.levelSizeMultiplier }
        if level >= bottom { return staticTarget }
        var dynamic = v.size(ofLevel: bottom)
        for _ in level..<bottom { dynamic /= options.levelSizeMultiplier }
        return max(dynamic, minimumLevelTarget)
    }

    /// Compaction pressure per level: ≥ 1 means the level should be compacted.
    func scores(_ v: Version) -> [Double] {
        var result = [Double(v.levels[0].count) / Double(max(options.level0CompactionTrigger, 1))]
        for level in 1..<Limits.numberOfLevels {
            if level == Limits.numberOfLevels - 1 {
                result.append(0)  // nothing below the last level
            } else {
                result.append(Double(v.size(ofLevel: level)) / Double(max(target(level: level, in: v), 1)))
            }
        }
        return result
    }

    /// The most urgent compaction, if any level scores ≥ 1.
    func pick(_ v: Version, compactPointers: [[UInt8]?]) -> Compaction? {
        let s = scores(v)
        guard let (level, score) = s.enumerated().max(by: { $0.element < $1.element }), score >= 1 else {
            return nil
        }
        if level == 0 { return level0(v, score: score) }
        // Round-robin through the level's key space.
        let files = v.levels[level]
        let next = compactPointers[level].flatMap { p in
            files.first { InternalKey.compare($0.largest, p) > 0 }
        }
        let inputs = [next ?? files[0]]
        let (lo, hi) = Compaction.range(of: inputs)
        return Compaction(
            level: level, inputs: inputs,
            nextInputs: v.overlappingFiles(level: level + 1, smallest: lo, largest: hi), score: score)
    }

    /// Every L0 table with the L1 tables they overlap. L0 tables overlap each other: taking
    /// them all keeps the output level sorted.
    func level0(_ v: Version, score: Double) -> Compaction? {
        let inputs = v.levels[0]
        guard !inputs.isEmpty else { return nil }
        let (lo, hi) = Compaction.range(of: inputs)
        return Compaction(
            level: 0, inputs: inputs, nextInputs: v.overlappingFiles(level: 1, smallest: lo, largest: hi), score: score)
    }

    /// Everything in `level` into `output` (`level + 1`, or `level` to rewrite it in place):
    /// manual compaction.
    func all(level: Int, _ v: Version, into output: Int) -> Compaction? {
        let inputs = v.levels[level]
        guard !inputs.isEmpty else { return nil }
        let (lo, hi) = Compaction.range(of: inputs)
        let next = output == level ? [] : v.overlappingFiles(level: output, smallest: lo, largest: hi)
        return Compaction(level: level, inputs: inputs, nextInputs: next, score: 0, outputLevel: output)
    }
}
