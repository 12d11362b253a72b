import Osmanthus
import OsmanthusBSON

/// `<collection>.indexes.json` next to an export (SPEC.md §14.7): the collection's options and
/// index definitions, one Extended JSON (canonical) object.
enum IndexSidecar {
    static func fileName(_ collection: String) -> String { collection + ".indexes.json" }

    /// Only `_id_` exists until secondary indexes land; their definitions will be listed here as
    /// `listIndexes` returns them.
    static func document(for info: CollectionInfo) -> Document {
        [
            "collection": .string(info.name),
            "options": .document(info.options),
            "indexes": [["v": 2, "key": ["_id": 1], "name": "_id_"]],
        ]
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
