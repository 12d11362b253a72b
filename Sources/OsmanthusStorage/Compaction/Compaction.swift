/// One unit of compaction work: tables of `level` merged with the overlapping tables of
/// `level + 1`, written to `level + 1`.
struct Compaction {
    let level: Int
    let inputs: [FileMetadata]
    /// Overlapping tables of the output level (empty when the output level is `level`).
    let nextInputs: [FileMetadata]
    /// Why it was picked (for statistics and logs).
    let score: Double
    /// `level + 1`, or `level` itself for a manual rewrite of the bottom level.
    let outputLevel: Int

    init(level: Int, inputs: [FileMetadata], nextInputs: [FileMetadata], score: Double, outputLevel: Int? = nil) {
        self.level = level
        self.inputs = inputs
        self.nextInputs = nextInputs
        self.score = score
        self.outputLevel = outputLevel ?? level + 1
    }

    /// A single table with nothing under it moves down by a manifest edit alone.
    var isTrivialMove: Bool { inputs.count == 1 && nextInputs.isEmpty && outputLevel != level }

    var inputBytes: UInt64 { (inputs + nextInputs).reduce(0) { $0 + $1.size } }

    /// The user-key range the inputs of `level` cover.
    var userKeyRange: (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        Self.range(of: inputs)
    }

    static func range(of files: [FileMetadata]) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        precondition(!files.isEmpty)
        var lo = InternalKey.userKey(files[0].smallest)
        var hi = InternalKey.userKey(files[0].largest)
        for f in files.dropFirst() {
            let s = InternalKey.userKey(f.smallest)
            let l = InternalKey.userKey(f.largest)
            if compareBytes(s, lo) < 0 { lo = s }
            if compareBytes(l, hi) > 0 { hi = l }
        }
        return (lo, hi)
    }
}
