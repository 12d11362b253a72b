import OsmanthusBSON
import OsmanthusStorage

/// The synchronous core of a change stream: a position in the change log and the rules that
/// turn records into events. It reads the log on demand (`poll`), so a slow consumer only
/// leaves records on disk; nothing is buffered for it. Used by `ChangeStream` (async) and by
/// the server's change-stream cursors.
public struct ChangeStreamReader: Sendable {
    let database: Database
    public let scope: ChangeStreamScope
    let options: ChangeStreamOptions
    private let stages: [Stage]
    /// Every record with a sequence ≤ this has been read.
    private(set) var position: UInt64
    /// The invalidate to deliver next (the sequence of the record that caused it).
    private var pendingInvalidate: UInt64?
    /// True once the invalidate was delivered: the stream has ended.
    public private(set) var isFinished = false
    /// Where the initial position came from, for `operationTime` of the opening reply.
    public let startSequence: UInt64

    private enum Stage: Sendable {
        case match(Filter)
        case project(Projection)
    }

    init(database: Database, scope: ChangeStreamScope, options: ChangeStreamOptions) throws {
        guard database.changeLog.enabled else {
            throw OsmanthusError(.location40573, "change streams need the change log, which is off for this database")
        }
        self.database = database
        self.scope = scope
        self.options = options
        stages = try options.pipeline.map(Self.stage)
        let log = database.changeLog
        if options.resumeAfter != nil && options.startAfter != nil {
            throw OsmanthusError(.badValue, "Only one type of resume option is allowed, but multiple were found.")
        }
        if let doc = options.resumeAfter ?? options.startAfter {
            let token = try ResumeToken(doc)
            if token.kind == .invalidate && options.startAfter == nil {
                throw OsmanthusError(
                    .invalidResumeToken, "cannot resume after an invalidate; use startAfter to start a new stream")
            }
            position = token.sequence
            try log.checkRetained(after: position, scope: scope)
            if token.kind == .event, let record = try Self.record(at: token.sequence, in: database.storage),
                record.invalidates(scope)
            {
                pendingInvalidate = token.sequence
            }
        } else if let time = options.startAtOperationTime {
            guard case .timestamp(let inc, let secs) = time else {
                throw OsmanthusError(.typeMismatch, "startAtOperationTime must be a timestamp")
            }
            if log.isTrimmed(time: (secs, inc), scope: scope) {
                throw OsmanthusError(
                    .changeStreamHistoryLost, "the requested start time is older than the retained change log")
            }
            position = try Self.sequenceBefore(time: (secs, inc), in: database.storage)
        } else {
            position = database.storage.latestSequence
        }
        startSequence = position
    }

    private static func stage(_ spec: Document) throws -> Stage {
        guard spec.count == 1, let name = spec.keys.first, let value = spec[name] else {
            throw OsmanthusError(.badValue, "a pipeline stage must be an object with one field: \(spec)")
        }
        switch (name, value) {
        case ("$match", .document(let arg)): return .match(try Filter(arg))
        case ("$project", .document(let arg)): return .project(try Projection(arg))
        case ("$unset", .string(let field)): return .project(try Projection([field: .int32(0)]))
        case ("$unset", .array(let fields)):
            var spec = Document()
            for case .string(let f) in fields { spec.append(f, .int32(0)) }
            return .project(try Projection(spec))
        default:
            throw OsmanthusError(
                .init(40602, "Location40602"),
                "\(name) is not permitted in a $changeStream pipeline here (only $match, $project, $unset)")
        }
    }

    private static func record(at sequence: UInt64, in storage: DB) throws -> ChangeRecord? {
        guard let bytes = try wrapping({ try storage.get(ChangeLogFormat.recordKey(sequence)) }) else { return nil }
        return try ChangeRecord(decoding: bytes)
    }

    /// The sequence just before the first record whose cluster time is ≥ `time`: a binary
    /// search over sequences, one seek per step (cluster times grow with sequences).
    private static func sequenceBefore(time: (UInt32, UInt32), in storage: DB) throws -> UInt64 {
        var lo: UInt64 = 1
        var hi = storage.latestSequence &+ 1
        let it = storage.makeIterator()
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            it.seek(ChangeLogFormat.recordKey(mid))
            guard it.isValid, let seq = ChangeLogFormat.sequence(ofKey: it.key) else {
                hi = mid
                continue
            }
            let record = try ChangeRecord.Summary(decoding: it.value)
            guard case .timestamp(let inc, let secs) = ChangeLogFormat.clusterTime(
                wallMillis: record.wallMillis, sequence: seq)
            else { break }
            if (secs, inc) < time { lo = seq + 1 } else { hi = mid }
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
        return lo - 1
    }

    /// The token to resume from when every event so far was consumed.
    public var postBatchResumeToken: Document {
        if isFinished, let last = lastInvalidate {
            return ResumeToken(sequence: last, kind: .invalidate).document
        }
        return ResumeToken(sequence: position, kind: .highWater).document
    }

    private var lastInvalidate: UInt64?

    /// Reads up to `limit` events after the current position (fewer, possibly none, when the
    /// log has no more for this stream). Never waits.
    public mutating func poll(limit: Int = 100) throws -> [ChangeEvent] {
        if isFinished { return [] }
        if let seq = pendingInvalidate {
            return [try deliverInvalidate(seq)]
        }
        let storage = database.storage
        let visible = storage.latestSequence
        let it = storage.makeIterator()
        // After taking the iterator: a trim that deleted records it would see has moved the point.
        try database.changeLog.checkRetained(after: position, scope: scope)
        it.seek(ChangeLogFormat.recordKey(position &+ 1))
        var out: [ChangeEvent] = []
        var scanned = 0
        while it.isValid, let seq = ChangeLogFormat.sequence(ofKey: it.key) {
            position = seq
            // The header says whether this stream sees the record; only then are its documents read.
            let summary = try ChangeRecord.Summary(decoding: it.value)
            if summary.isVisible(in: scope), options.showExpandedEvents || !summary.operation.isExpanded {
                let record = try ChangeRecord(decoding: it.value)
                if let event = try event(for: record, sequence: seq) { out.append(event) }
                if record.invalidates(scope) {
                    pendingInvalidate = seq
                    if out.count < limit { out.append(try deliverInvalidate(seq)) }
                    return out
                }
            }
            scanned += 1
            // Bounded work per call, so one call never holds a thread for long.
            if out.count >= limit || scanned >= 10_000 { return out }
            it.next()
        }
        if let e = it.error { throw OsmanthusError.wrapping(e) }
        position = max(position, visible)
        return out
    }

    private mutating func deliverInvalidate(_ seq: UInt64) throws -> ChangeEvent {
        pendingInvalidate = nil
        isFinished = true
        lastInvalidate = seq
        position = max(position, seq)
        let record = try Self.record(at: seq, in: database.storage)
        let wall = record?.wallMillis ?? 0
        let doc: Document = [
            "_id": .document(ResumeToken(sequence: seq, kind: .invalidate).document),
            "operationType": .string("invalidate"),
            "clusterTime": ChangeLogFormat.clusterTime(wallMillis: wall, sequence: seq),
            "wallTime": .datetime(wall),
        ]
        return ChangeEvent(operationType: .invalidate, document: doc)
    }

    /// The event of `record` in MongoDB's shape, after the stream's stages; nil when filtered out.
    private func event(for record: ChangeRecord, sequence: UInt64) throws -> ChangeEvent? {
        var doc = Document()
        let token = ResumeToken(sequence: sequence, kind: .event).document
        doc.append("_id", .document(token))
        doc.append("operationType", .string(record.operation.rawValue))
        doc.append("clusterTime", ChangeLogFormat.clusterTime(wallMillis: record.wallMillis, sequence: sequence))
        doc.append("wallTime", .datetime(record.wallMillis))
        // MongoDB 6.0 gives the collection's UUID only to streams with expanded events.
        let uuid = record.collectionId.map { database.catalog.collectionUUID(id: $0) }
        if options.showExpandedEvents, let uuid { doc.append("collectionUUID", uuid) }
        switch record.operation {
        case .insert, .replace:
            doc.append("fullDocument", record.fullDocument.map(BSONValue.document) ?? .null)
        case .update:
            switch options.fullDocument {
            case .default: break
            case .updateLookup:
                let current = try record.engineKey.flatMap { key in try wrapping { try database.storage.get(key) } }
                doc.append("fullDocument", try current.map { .document(try Document(bytes: $0)) } ?? .null)
            case .whenAvailable:
                doc.append("fullDocument", record.fullDocument.map(BSONValue.document) ?? .null)
            case .required:
                guard let post = record.fullDocument else {
                    throw OsmanthusError(
                        .changeStreamFatalError, "fullDocument: required, but no post-image for \(record.database).\(record.collection ?? "")")
                }
                doc.append("fullDocument", .document(post))
            }
        default: break
        }
        var ns: Document = ["db": .string(record.database)]
        if let coll = record.collection { ns.append("coll", .string(coll)) }
        doc.append("ns", .document(ns))
        if record.operation == .rename, let db = record.toDatabase, let coll = record.toCollection {
            doc.append("to", .document(["db": .string(db), "coll": .string(coll)]))
        }
        if let key = record.documentKey { doc.append("documentKey", .document(key)) }
        if let ud = record.updateDescription { doc.append("updateDescription", .document(ud)) }
        if let description = record.operationDescription {
            doc.append("operationDescription", .document(description))
        }
        if record.operation == .modify, let before = record.stateBefore {
            var options = Document()
            if let uuid { options.append("uuid", uuid) }
            for (key, value) in before { options.append(key, value) }
            doc.append("stateBeforeChange", ["collectionOptions": .document(options)])
        }
        if [.update, .replace, .delete].contains(record.operation) {
            switch options.fullDocumentBeforeChange {
            case .off: break
            case .whenAvailable:
                doc.append("fullDocumentBeforeChange", record.preImage.map(BSONValue.document) ?? .null)
            case .required:
                guard let pre = record.preImage else {
                    throw OsmanthusError(
                        .changeStreamFatalError, "fullDocumentBeforeChange: required, but no pre-image for \(record.database).\(record.collection ?? "")")
                }
                doc.append("fullDocumentBeforeChange", .document(pre))
            }
        }
        for stage in stages {
            switch stage {
            case .match(let filter):
                if !filter.matches(doc) { return nil }
            case .project(let projection):
                doc = try projection.apply(to: doc, filter: nil)
                guard doc["_id"] == .document(token) else {
                    throw OsmanthusError(
                        .changeStreamFatalError,
                        "Encountered an event whose _id field, which contains the resume token, was modified by the pipeline.")
                }
            }
        }
        guard let op = ChangeEvent.OperationType(rawValue: record.operation.rawValue) else { return nil }
        return ChangeEvent(operationType: op, document: doc)
    }
}
