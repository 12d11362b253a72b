import Osmanthus
import OsmanthusBSON

/// `<collection>.indexes.json` next to an export (SPEC.md §14.7): the collection's options and
/// index definitions, one Extended JSON (canonical) object.
enum IndexSidecar {
    static func fileName(_ collection: String) -> String { collection + ".indexes.json" }

    /// `indexes`: the collection's indexes as `listIndexes` returns them (`_id_` first).
    static func document(for info: CollectionInfo, indexes: [Document]) -> Document {
        [
            "collection": .string(info.name),
            "options": .document(info.options),
            "indexes": .array(indexes.map { .document($0) }),
        ]
    }

    /// The secondary indexes a sidecar lists (every entry but `_id_`), as `createIndex` takes
    /// them. An entry without a `key` document is refused, naming it.
    static func indexModels(_ sidecar: Document) throws -> [(keys: Document, options: IndexOptions)] {
        guard case .array(let list)? = sidecar["indexes"] else { return [] }
        var models: [(keys: Document, options: IndexOptions)] = []
        for (i, value) in list.enumerated() {
            guard case .document(let spec) = value, case .document(let keys)? = spec["key"] else {
                throw AdminError("index \(i) of the sidecar has no key document")
            }
            if spec["name"] == .string("_id_") || keys == ["_id": .int32(1)] { continue }
            var options = IndexOptions(name: spec["name"]?.stringValue)
            options.unique = spec["unique"]?.boolValue ?? false
            options.sparse = spec["sparse"]?.boolValue ?? false
            options.partialFilterExpression = spec["partialFilterExpression"]?.documentValue
            options.expireAfterSeconds = spec["expireAfterSeconds"]?.exactInt64
            models.append((keys, options))
        }
        return models
    }

    static func collectionOptions(_ sidecar: Document) -> CollectionOptions {
        var options = CollectionOptions()
        guard case .document(let o)? = sidecar["options"] else { return options }
        options.partitionKey = o["partitionKey"]?.stringValue
        options.sortKey = o["sortKey"]?.stringValue
        if let p = o["partitions"]?.exactInt64 { options.partitions = Int(p) }
        return options
    }
}
