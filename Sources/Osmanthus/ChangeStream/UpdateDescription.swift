import OsmanthusBSON

/// The `updateDescription` of an update event, computed as a diff of the document before and
/// after (SPEC.md §16.5), not from the update operators, so pipeline updates and `$set` to an
/// equal value describe what really changed.
///
/// Rule, applied from the top level down:
/// - a field only in `before` → `removedFields` (dotted path);
/// - a field only in `after`, or whose type changed → `updatedFields[path]` = new value;
/// - both embedded documents and different → recurse with `path.`;
/// - both arrays: `after` a strict prefix of `before` → `truncatedArrays {field, newSize}`;
///   `before` a prefix of `after` → each appended element as `path.i`; same length → each
///   differing element as `path.i`; otherwise the whole array in `updatedFields`.
enum UpdateDescription {
    static func diff(_ before: Document, _ after: Document) -> Document {
        var updated = Document()
        var removed: [BSONValue] = []
        var truncated: [BSONValue] = []
        diffDocuments(before, after, path: "", &updated, &removed, &truncated)
        return [
            "updatedFields": .document(updated), "removedFields": .array(removed),
            "truncatedArrays": .array(truncated),
        ]
    }

    private static func diffDocuments(
        _ before: Document, _ after: Document, path: String,
        _ updated: inout Document, _ removed: inout [BSONValue], _ truncated: inout [BSONValue]
    ) {
        // Same keys in the same order (the usual update): only the fields whose bytes differ
        // need a look, and nothing was removed.
        if let changed = after.changedKeys(comparedTo: before) {
            for key in changed {
                guard let old = before[key], let newValue = after[key] else { continue }
                diffField(key, old, newValue, path: path, &updated, &removed, &truncated)
            }
            return
        }
        var afterKeys = Set<String>()
        for (key, newValue) in after {
            afterKeys.insert(key)
            let p = path + key
            guard let old = before[key] else {
                updated.append(p, newValue)
                continue
            }
            diffField(key, old, newValue, path: path, &updated, &removed, &truncated)
        }
        for (key, _) in before where !afterKeys.contains(key) {
            removed.append(.string(path + key))
        }
    }

    /// One field present before and after.
    private static func diffField(
        _ key: String, _ old: BSONValue, _ newValue: BSONValue, path: String,
        _ updated: inout Document, _ removed: inout [BSONValue], _ truncated: inout [BSONValue]
    ) {
        if old == newValue { return }
        let p = path + key
        switch (old, newValue) {
        case (.document(let o), .document(let n)):
            diffDocuments(o, n, path: p + ".", &updated, &removed, &truncated)
        case (.array(let o), .array(let n)):
            diffArrays(o, n, path: p, &updated, &truncated)
        default:
            updated.append(p, newValue)
        }
    }

    private static func diffArrays(
        _ old: [BSONValue], _ new: [BSONValue], path: String, _ updated: inout Document, _ truncated: inout [BSONValue]
    ) {
        if new.count < old.count, Array(old.prefix(new.count)) == new {
            truncated.append(.document(["field": .string(path), "newSize": .int32(Int32(clamping: new.count))]))
        } else if new.count > old.count, Array(new.prefix(old.count)) == old {
            for i in old.count..<new.count { updated.append("\(path).\(i)", new[i]) }
        } else if new.count == old.count {
            for i in 0..<new.count where new[i] != old[i] { updated.append("\(path).\(i)", new[i]) }
        } else {
            updated.append(path, .array(new))
        }
    }
}
