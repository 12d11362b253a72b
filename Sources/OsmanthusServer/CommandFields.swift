import Osmanthus
import OsmanthusBSON

/// The fields of a command document that the request path reads, found in ONE walk over its
/// elements. A lookup by key (`body["x"]`) scans the fields up to the match, and the whole
/// document for an absent key; a find by `_id` used to make about twenty such lookups (the
/// inline check, the session rules, the find options), most for fields that are absent.
///
/// Each slot holds the first field so named (as `Document`'s subscript does); a field that is
/// not listed here stays readable through `CommandRequest.body`. Typed reads with MongoDB's
/// TypeMismatch errors are `CommandFields.int(...)` and friends (Document+CommandFields.swift).
struct CommandFields: Sendable {
    /// The first field: the command's name and argument (`{find: "c"}`).
    private(set) var name: String?
    private(set) var argument: BSONValue = .null

    /// The listed fields present in the command, in the order met (first of duplicates only).
    /// Only the present ones are kept: a command carries a handful, and a slot per field would
    /// cost a destroy per field per request.
    private var present: [(field: Field, value: BSONValue)] = []
    /// Bit `field.rawValue` set when `present` holds the field: most lookups are for absent
    /// fields, answered by one bit test.
    private var mask: UInt32 = 0

    enum Field: Int, CaseIterable {
        // Generic fields: where and under which session/transaction the command runs.
        case database
        case lsid
        case txnNumber
        case autocommit
        case startTransaction
        case maxTimeMS
        // find / getMore.
        case filter
        case sort
        case projection
        case skip
        case limit
        case hint
        case batchSize
        case singleBatch
        case tailable
        case collection
        // insert / update / delete.
        case documents
        case updates
        case deletes
        case ordered
        // hello: the fields that make it read the user store or wait.
        case speculativeAuthenticate
        case saslSupportedMechs
        case topologyVersion
        case maxAwaitTimeMS
    }

    init() {}

    /// Walks `body` once, matching keys as bytes: no `String` per key, and a value is decoded
    /// only for the fields kept (a driver's `$readPreference`, `$clusterTime`... are skipped).
    init(_ body: Document) {
        present.reserveCapacity(8)
        var first = true
        body.forEachRawField { raw in
            if first {
                first = false
                name = raw.key
                argument = raw.value
            }
            guard let field = Self.field(named: raw) else { return }
            // A duplicate key keeps the first value, as `Document`'s subscript reads it.
            let bit: UInt32 = 1 << field.rawValue
            if mask & bit == 0 {
                mask |= bit
                present.append((field, raw.value))
            }
        }
    }

    /// The field `key` names, if the walk keeps it. Picked by length first, so an unknown key
    /// costs at most a few byte comparisons rather than one per field.
    private static func field(named key: Document.RawField) -> Field? {
        switch key.keyCount {
        case 3: return key.keyEquals("$db") ? .database : nil
        case 4:
            if key.keyEquals("lsid") { return .lsid }
            if key.keyEquals("sort") { return .sort }
            if key.keyEquals("skip") { return .skip }
            if key.keyEquals("hint") { return .hint }
            return nil
        case 5: return key.keyEquals("limit") ? .limit : nil
        case 6: return key.keyEquals("filter") ? .filter : nil
        case 7:
            if key.keyEquals("updates") { return .updates }
            if key.keyEquals("deletes") { return .deletes }
            if key.keyEquals("ordered") { return .ordered }
            return nil
        case 8: return key.keyEquals("tailable") ? .tailable : nil
        case 9:
            if key.keyEquals("txnNumber") { return .txnNumber }
            if key.keyEquals("maxTimeMS") { return .maxTimeMS }
            if key.keyEquals("batchSize") { return .batchSize }
            if key.keyEquals("documents") { return .documents }
            return nil
        case 10:
            if key.keyEquals("autocommit") { return .autocommit }
            if key.keyEquals("projection") { return .projection }
            if key.keyEquals("collection") { return .collection }
            return nil
        case 11: return key.keyEquals("singleBatch") ? .singleBatch : nil
        case 14: return key.keyEquals("maxAwaitTimeMS") ? .maxAwaitTimeMS : nil
        case 15: return key.keyEquals("topologyVersion") ? .topologyVersion : nil
        case 16: return key.keyEquals("startTransaction") ? .startTransaction : nil
        case 18: return key.keyEquals("saslSupportedMechs") ? .saslSupportedMechs : nil
        case 23: return key.keyEquals("speculativeAuthenticate") ? .speculativeAuthenticate : nil
        default: return nil
        }
    }

    subscript(field: Field) -> BSONValue? {
        guard mask & (1 << field.rawValue) != 0 else { return nil }
        // By index: reads each entry's field in place, copying only the value returned.
        var index = 0
        while index < present.count {
            if present[index].field == field { return present[index].value }
            index += 1
        }
        return nil
    }

    // Generic fields: where and under which session/transaction the command runs.
    var database: BSONValue? { self[.database] }
    var lsid: BSONValue? { self[.lsid] }
    var txnNumber: BSONValue? { self[.txnNumber] }
    var autocommit: BSONValue? { self[.autocommit] }
    var startTransaction: BSONValue? { self[.startTransaction] }
    var maxTimeMS: BSONValue? { self[.maxTimeMS] }
    // find / getMore.
    var filter: BSONValue? { self[.filter] }
    var sort: BSONValue? { self[.sort] }
    var projection: BSONValue? { self[.projection] }
    var skip: BSONValue? { self[.skip] }
    var limit: BSONValue? { self[.limit] }
    var hint: BSONValue? { self[.hint] }
    var batchSize: BSONValue? { self[.batchSize] }
    var singleBatch: BSONValue? { self[.singleBatch] }
    var tailable: BSONValue? { self[.tailable] }
    var collection: BSONValue? { self[.collection] }
    // insert / update / delete.
    var documents: BSONValue? { self[.documents] }
    var updates: BSONValue? { self[.updates] }
    var deletes: BSONValue? { self[.deletes] }
    var ordered: BSONValue? { self[.ordered] }
    // hello: the fields that make it read the user store or wait.
    var speculativeAuthenticate: BSONValue? { self[.speculativeAuthenticate] }
    var saslSupportedMechs: BSONValue? { self[.saslSupportedMechs] }
    var topologyVersion: BSONValue? { self[.topologyVersion] }
    var maxAwaitTimeMS: BSONValue? { self[.maxAwaitTimeMS] }
}
