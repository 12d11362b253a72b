import Osmanthus
import OsmanthusBSON

/// A read-only view (SPEC.md §13.7): a pipeline run over another collection or view, stored as
/// MongoDB stores it, one document of `<db>.system.views`: `{_id: "<db>.<view>", viewOn, pipeline}`.
struct ViewDefinition: Sendable, Equatable {
    var db: String
    var name: String
    /// The collection or view it reads, in the same database.
    var viewOn: String
    var pipeline: [Document]

    static let commandNotSupportedOnView = OsmanthusError.Code(166, "CommandNotSupportedOnView")
    static let optionNotSupportedOnView = OsmanthusError.Code(157, "OptionNotSupportedOnView")
    static let viewDepthLimitExceeded = OsmanthusError.Code(165, "ViewDepthLimitExceeded")
    /// MongoDB's limit on views defined on views.
    static let maxDepth = 20

    var record: Document {
        ["_id": .string("\(db).\(name)"), "viewOn": .string(viewOn), "pipeline": .array(pipeline.map { .document($0) })]
    }

    init(db: String, name: String, viewOn: String, pipeline: [Document]) {
        self.db = db
        self.name = name
        self.viewOn = viewOn
        self.pipeline = pipeline
    }

    /// A record of `system.views`; nil when it isn't one (a hand-written document).
    init?(record: Document, db: String) {
        guard case .string(let id)? = record["_id"], id.hasPrefix(db + "."),
            case .string(let viewOn)? = record["viewOn"]
        else { return nil }
        let pipeline = record["pipeline"]?.arrayValue?.compactMap(\.documentValue) ?? []
        self.init(db: db, name: String(id.dropFirst(db.count + 1)), viewOn: viewOn, pipeline: pipeline)
    }

    /// `viewOn` and `pipeline` as create and collMod give them: a collection name in the same
    /// database, stages that neither write nor stream changes.
    static func parse(_ body: Document, db: String, name: String, in command: String) throws -> ViewDefinition {
        guard let viewOn = try body.commandString("viewOn", in: command) else {
            throw OsmanthusError(.typeMismatch, "'viewOn' must be a string")
        }
        try Namespace.validateCollection(viewOn, in: db)
        let pipeline = try body.commandDocuments("pipeline", in: command) ?? []
        for stage in pipeline {
            guard let stageName = stage.keys.first else { continue }
            if ["$out", "$merge", "$changeStream"].contains(stageName) {
                throw OsmanthusError(
                    optionNotSupportedOnView, "\(stageName) cannot be used in a view definition")
            }
        }
        return ViewDefinition(db: db, name: name, viewOn: viewOn, pipeline: pipeline)
    }

    var namespace: String { "\(db).\(name)" }

    var notSupported: OsmanthusError {
        OsmanthusError(Self.commandNotSupportedOnView, "Namespace \(namespace) is a view, not a collection")
    }
}
