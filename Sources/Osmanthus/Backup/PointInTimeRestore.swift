import FoundationEssentials
import OsmanthusBSON
import OsmanthusStorage

/// Restore to a point (SPEC.md §14.10): the newest backup at or before the target, then the
/// archived change records above the backup's sequence up to the target, replayed through the
/// normal write path (so indexes follow).
public enum PointInTimeRestore {
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        /// Every commit with a sequence ≤ this.
        case sequence(UInt64)
        /// Every commit whose record's wall time (ms since 1970) is ≤ this.
        case time(millis: Int64)

        /// `seq:N`, or an ISO-8601 instant (`2026-11-21T23:00:00Z`, fractional seconds allowed).
        public init(parsing text: String) throws {
            if text.hasPrefix("seq:"), let n = UInt64(text.dropFirst(4)) {
                self = .sequence(n)
                return
            }
            let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            if let d = (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) {
                self = .time(millis: Int64((d.timeIntervalSince1970 * 1000).rounded(.down)))
                return
            }
            throw OsmanthusError(.badValue, "--at wants seq:N or an ISO-8601 time such as 2026-11-21T23:00:00Z, not \(text)")
        }

        public var description: String {
            switch self {
            case .sequence(let n): "seq:\(n)"
            case .time(let ms):
                Date(timeIntervalSince1970: Double(ms) / 1000).formatted(
                    Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            }
        }
    }

    public struct Result: Sendable, Equatable {
        public let backupID: String
        public let backupSequence: UInt64
        /// The source's state as of this sequence.
        public let sequence: UInt64
        public let replayedRecords: Int
    }

    /// Restores `repository` into `directory` as of `target`. Refuses (before writing anything)
    /// when no backup precedes the target, the archive has a hole or ends before the target, or
    /// a needed segment is damaged.
    @discardableResult
    public static func restore(
        repository: String, to directory: String, at target: Target, overwrite: Bool = false
    ) throws -> Result {
        let repo = BackupRepository(path: repository)
        let archive = ChangeLogArchive(repository: repository)
        let backups = try wrapping { try repo.list() }
        let names = try wrapping { try archive.segmentNames() }
        let sequence = try targetSequence(target, archive: archive, names: names)
        guard let base = backups.last(where: { $0.sequence <= sequence }) else {
            throw OsmanthusError(
                .badValue,
                "no backup in \(repository) at or before \(target) (sequence \(sequence)); oldest: "
                    + (backups.first.map { "\($0.id) at sequence \($0.sequence)" } ?? "none"))
        }
        let chain = try coveringChain(names, after: base.sequence, through: sequence)
        var records: [ChangeLogSegment.Record] = []
        for n in chain {
            let segment = try wrapping { try archive.read(n) }
            records += segment.records.filter { $0.sequence > base.sequence && $0.sequence <= sequence }
        }
        _ = try wrapping { try repo.restore(base.id, to: directory, overwrite: overwrite) }
        let db = try Database.open(at: directory)
        do {
            for r in records { try replay(try ChangeRecord(decoding: r.value, trusted: false), into: db) }
        } catch {
            // A half-replayed directory is a database at no point the source ever was: remove it.
            try? db.close()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        try db.close()
        return Result(backupID: base.id, backupSequence: base.sequence, sequence: sequence, replayedRecords: records.count)
    }

    /// A time becomes the sequence just below the first archived record written after it; the
    /// archive must have been read at or after that time.
    static func targetSequence(
        _ target: Target, archive: ChangeLogArchive, names: [ChangeLogArchive.SegmentName]
    ) throws -> UInt64 {
        guard case .time(let millis) = target else {
            if case .sequence(let n) = target { return n }
            return 0
        }
        var last: ChangeLogSegment?
        for n in names {
            let segment = try wrapping { try archive.read(n) }
            for r in segment.records where try ChangeRecord.Summary(decoding: r.value).wallMillis > millis {
                return r.sequence - 1
            }
            last = segment
        }
        // How far in time the archive reaches: the newest segment's read, or a later pass that
        // found nothing new (HEAD at the same sequence).
        var reach = last?.archivedAtMillis
        if let head = try wrapping({ try archive.readHead() }), head.through == (last?.through ?? 0) {
            reach = max(reach ?? head.checkedAtMillis, head.checkedAtMillis)
        }
        guard let reach, reach >= millis else {
            let text = reach.map { Target.time(millis: $0).description } ?? "nothing"
            throw OsmanthusError(
                .badValue, "the change-log archive does not reach \(target): it was last read at \(text)")
        }
        return last?.through ?? 0
    }

    /// The segments that together hold every sequence in `after+1 ... through`, in order.
    static func coveringChain(
        _ names: [ChangeLogArchive.SegmentName], after start: UInt64, through end: UInt64
    ) throws -> [ChangeLogArchive.SegmentName] {
        guard end > start else { return [] }
        var chain: [ChangeLogArchive.SegmentName] = []
        var next = start + 1
        while next <= end {
            guard let s = names.first(where: { $0.from <= next && $0.through >= next }) else {
                let reach = names.map(\.through).max() ?? 0
                let why =
                    reach >= next
                    ? "a gap: sequence \(next) is in no segment (next segment starts at "
                        + "\(names.first(where: { $0.from > next })?.from ?? 0))"
                    : "the archive reaches only sequence \(reach)"
                throw OsmanthusError(.badValue, "cannot replay to sequence \(end) from the backup at \(start): \(why)")
            }
            chain.append(s)
            next = s.through + 1
        }
        return chain
    }

    /// Applies one change record to the restored database.
    static func replay(_ r: ChangeRecord, into db: Database) throws {
        guard let collName = r.collection else {
            if r.operation == .dropDatabase { try db.dropDatabase(r.database) }
            return
        }
        let coll = db.collection(collName, in: r.database)
        let key = r.documentKey ?? Document()
        switch r.operation {
        case .insert, .replace:
            guard let doc = r.fullDocument else { throw damaged(r) }
            _ = try coll.replaceOne(key, doc, upsert: true)
        case .update:
            let after: Document
            if let doc = r.fullDocument {
                after = doc
            } else {
                guard let ud = r.updateDescription, let before = try coll.findOne(key) else { throw damaged(r) }
                after = try UpdateDescription.apply(ud, to: before)
            }
            _ = try coll.replaceOne(key, after, upsert: true)
        case .delete:
            _ = try coll.deleteOne(key)
        case .drop:
            _ = try db.dropCollection(collName, in: r.database)
        case .rename:
            guard let toDB = r.toDatabase, let toColl = r.toCollection else { throw damaged(r) }
            // A collection created empty after the backup is in no record: nothing to rename.
            guard try db.listCollections(in: r.database).contains(where: { $0.name == collName }) else { return }
            try db.renameCollection(collName, in: r.database, to: toColl, in: toDB, dropTarget: true)
        case .dropDatabase:
            try db.dropDatabase(r.database)
        case .create:
            // With the options it was created with; a collection the replay already created
            // implicitly (it cannot be: the create commits before its first write) is kept.
            guard !(try db.listCollections(in: r.database).contains(where: { $0.name == collName })) else { return }
            let options = CollectionOptions(changeEventDescription: r.operationDescription ?? Document())
            try db.createCollection(collName, in: r.database, options: options)
        case .createIndexes:
            for model in r.indexModels { try coll.createIndex(model.keys, options: model.options) }
        case .dropIndexes:
            for model in r.indexModels {
                // An index a log without version 3 records never told about is not there: nothing to drop.
                do {
                    try coll.dropIndex(model.options.name.map(BSONValue.string) ?? .document(model.keys))
                } catch let e as OsmanthusError where e.code.value == OsmanthusError.Code.indexNotFound.value {}
            }
        case .modify:
            if case .document(let images)? = r.operationDescription?["changeStreamPreAndPostImages"],
                case .bool(let enabled)? = images["enabled"]
            {
                try db.setChangeStreamPreAndPostImages(enabled, for: collName, in: r.database)
            }
        }
    }

    private static func damaged(_ r: ChangeRecord) -> OsmanthusError {
        OsmanthusError(
            .internalError,
            "cannot replay a \(r.operation.rawValue) record of \(r.database).\(r.collection ?? ""): it lacks what replay needs")
    }
}
