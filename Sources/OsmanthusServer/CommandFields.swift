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
    /// (A struct, not a tuple: an array of tuples is destroyed through the tuple's generic
    /// metadata, element by element.)
    private var present: [Entry] = []
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

        /// The field's key in a command document.
        var key: StaticString {
            switch self {
            case .database: "$db"
            case .lsid: "lsid"
            case .txnNumber: "txnNumber"
            case .autocommit: "autocommit"
            case .startTransaction: "startTransaction"
            case .maxTimeMS: "maxTimeMS"
            case .filter: "filter"
            case .sort: "sort"
            case .projection: "projection"
            case .skip: "skip"
            case .limit: "limit"
            case .hint: "hint"
            case .batchSize: "batchSize"
            case .singleBatch: "singleBatch"
            case .tailable: "tailable"
            case .collection: "collection"
            case .documents: "documents"
            case .updates: "updates"
            case .deletes: "deletes"
            case .ordered: "ordered"
            case .speculativeAuthenticate: "speculativeAuthenticate"
            case .saslSupportedMechs: "saslSupportedMechs"
            case .topologyVersion: "topologyVersion"
            case .maxAwaitTimeMS: "maxAwaitTimeMS"
            }
        }

        /// `key` as `Document.RawField.keyWord` reads it at 0, 8 and 16, spelled out as
        /// constants (CommandFieldsTests checks them against `key`): the matcher compares them
        /// with no table to load.
        var words: (UInt64, UInt64, UInt64) {
            switch self {
            case .database: (0x626424, 0x0, 0x0)
            case .lsid: (0x6469736c, 0x0, 0x0)
            case .txnNumber: (0x65626d754e6e7874, 0x72, 0x0)
            case .autocommit: (0x6d6d6f636f747561, 0x7469, 0x0)
            case .startTransaction: (0x6172547472617473, 0x6e6f69746361736e, 0x0)
            case .maxTimeMS: (0x4d656d695478616d, 0x53, 0x0)
            case .filter: (0x7265746c6966, 0x0, 0x0)
            case .sort: (0x74726f73, 0x0, 0x0)
            case .projection: (0x697463656a6f7270, 0x6e6f, 0x0)
            case .skip: (0x70696b73, 0x0, 0x0)
            case .limit: (0x74696d696c, 0x0, 0x0)
            case .hint: (0x746e6968, 0x0, 0x0)
            case .batchSize: (0x7a69536863746162, 0x65, 0x0)
            case .singleBatch: (0x6142656c676e6973, 0x686374, 0x0)
            case .tailable: (0x656c62616c696174, 0x0, 0x0)
            case .collection: (0x697463656c6c6f63, 0x6e6f, 0x0)
            case .documents: (0x746e656d75636f64, 0x73, 0x0)
            case .updates: (0x73657461647075, 0x0, 0x0)
            case .deletes: (0x736574656c6564, 0x0, 0x0)
            case .ordered: (0x6465726564726f, 0x0, 0x0)
            case .speculativeAuthenticate: (0x74616c7563657073, 0x6568747541657669, 0x6574616369746e)
            case .saslSupportedMechs: (0x707075536c736173, 0x63654d646574726f, 0x7368)
            case .topologyVersion: (0x79676f6c6f706f74, 0x6e6f6973726556, 0x0)
            case .maxAwaitTimeMS: (0x746961774178616d, 0x534d656d6954, 0x0)
            }
        }
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
                present.append(Entry(field: field, value: raw.value))
            }
        }
    }

    /// The field `key` names, if the walk keeps it. Picked by length first, then by comparing
    /// the key's bytes eight at a time (`RawField.keyWord`) with each candidate's spelling: an
    /// unknown key costs a word comparison or two, a known one a word per eight bytes.
    private static func field(named key: Document.RawField) -> Field? {
        let count = key.keyCount
        guard count >= 3, count <= 23 else { return nil }
        let first = key.keyWord(at: 0)
        func spells(_ field: Field) -> Bool {
            let words = field.words
            guard first == words.0 else { return false }
            if count <= 8 { return true }
            guard key.keyWord(at: 8) == words.1 else { return false }
            return count <= 16 || key.keyWord(at: 16) == words.2
        }
        switch count {
        case 3: return spells(.database) ? .database : nil
        case 4:
            if spells(.lsid) { return .lsid }
            if spells(.sort) { return .sort }
            if spells(.skip) { return .skip }
            if spells(.hint) { return .hint }
            return nil
        case 5: return spells(.limit) ? .limit : nil
        case 6: return spells(.filter) ? .filter : nil
        case 7:
            if spells(.updates) { return .updates }
            if spells(.deletes) { return .deletes }
            if spells(.ordered) { return .ordered }
            return nil
        case 8: return spells(.tailable) ? .tailable : nil
        case 9:
            if spells(.txnNumber) { return .txnNumber }
            if spells(.maxTimeMS) { return .maxTimeMS }
            if spells(.batchSize) { return .batchSize }
            if spells(.documents) { return .documents }
            return nil
        case 10:
            if spells(.autocommit) { return .autocommit }
            if spells(.projection) { return .projection }
            if spells(.collection) { return .collection }
            return nil
        case 11: return spells(.singleBatch) ? .singleBatch : nil
        case 14: return spells(.maxAwaitTimeMS) ? .maxAwaitTimeMS : nil
        case 15: return spells(.topologyVersion) ? .topologyVersion : nil
        case 16: return spells(.startTransaction) ? .startTransaction : nil
        case 18: return spells(.saslSupportedMechs) ? .saslSupportedMechs : nil
        case 23: return spells(.speculativeAuthenticate) ? .speculativeAuthenticate : nil
        default: return nil
        }
    }

    private struct Entry {
        let field: Field
        let value: BSONValue
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
