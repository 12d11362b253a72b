import OsmanthusBSON
import OsmanthusStorage

/// The lean form of the most common update: `$set`, `$inc` and `$unset` of top-level fields
/// (YCSB's and most applications' updates by `_id`). Each field is edited in the stored bytes
/// (`Document.set` splices one element), and the edit itself tells the change log what changed,
/// so no diff of the whole document before and after is needed.
///
/// Same results and errors as `apply(to:)`, which does the same edits through the general
/// update tree: fields are visited in path order, `$set` replaces in place or appends,
/// `$inc` reads the old value, `$unset` removes; `_id` is never a target here, so it stays.
/// `TopLevelUpdateTests` checks both paths against each other on seeded random documents.
struct TopLevelEdit {
    /// The document after the update.
    var updated: Document
    /// `UpdateDescription.diff(before, updated)`, told by the edit; nil when only a diff can
    /// tell it (a repeated key, or an embedded document or array replaced by another).
    var updateDescription: Document?
}

extension Update {
    /// The actions, in the order `apply` visits them, when every one is a `$set`, `$inc` or
    /// `$unset` of one top-level field other than `_id`; nil for any other update.
    var topLevelActions: [UpdateAction]? {
        guard case .operators(let actions) = content, !actions.isEmpty else { return nil }
        for action in actions {
            guard action.path.count == 1, action.path[0] != "_id" else { return nil }
            switch action.op {
            case .set, .inc, .unset: continue
            default: return nil
            }
        }
        // Path order, ties (none: conflicts are refused at parse) in the given order: an
        // insertion sort, stable, for the few actions an update has.
        var sorted = actions
        for i in sorted.indices.dropFirst() {
            var j = i
            while j > 0, comparePaths(sorted[j].path, sorted[j - 1].path) < 0 {
                sorted.swapAt(j, j - 1)
                j -= 1
            }
        }
        return sorted
    }

    /// Applies `actions` (from `topLevelActions`) to a stored document whose `_id` comes first
    /// and only once; nil for any other document (the general path then handles it).
    func applyTopLevel(_ actions: [UpdateAction], to doc: Document, now: Int64, describe: Bool) throws
        -> TopLevelEdit?
    {
        guard doc.hasLeadingUniqueField("_id") else { return nil }
        let environment = UpdateEnvironment(document: doc, now: now)
        var updated = doc
        for action in actions {
            let field = action.path[0]
            if case .set(let value) = action.kind {
                updated.set(field, value)
                continue
            }
            switch try action.kind.outcome(old: updated[field], field: field, path: field, environment) {
            case .unchanged: break
            case .set(let value): updated.set(field, value)
            case .remove: updated.remove(field)
            }
        }
        guard describe, updated != doc else { return TopLevelEdit(updated: updated, updateDescription: nil) }
        return TopLevelEdit(updated: updated, updateDescription: Self.describe(actions, doc, updated))
    }

    /// What `UpdateDescription.diff(before, after)` says of an edit of `actions`' fields: the
    /// fields whose encoded value changed, in the order of `after` (fields kept in place,
    /// then the appended ones), and the removed ones in the order of `before`. Two scalars are
    /// equal (`==`) exactly when their encodings are; two documents or two arrays the diff
    /// describes element by element, so those are left to it (nil), as are repeated keys.
    private static func describe(_ actions: [UpdateAction], _ before: Document, _ after: Document) -> Document? {
        guard before.hasUniqueKeys else { return nil }
        // Each touched field that changed, by where it is in `after`: its offset in `before`
        // for a field kept in place, past the end (in visiting order) for an appended one;
        // removed ones by their offset in `before`. Kept in visiting order, then sorted.
        var changed: [(position: Int, field: String)] = []
        var removed: [(position: Int, field: String)] = []
        changed.reserveCapacity(actions.count)
        for (n, action) in actions.enumerated() {
            let field = action.path[0]
            switch (before.elementBytes(field), after.elementBytes(field)) {
            case (nil, nil):
                continue
            case (nil, .some):
                changed.append((Int.max - actions.count + n, field))
            case (.some(let old), nil):
                removed.append((old.startIndex, field))
            case (.some(let old), .some(let new)):
                if compareBytes(old, new) == 0 { continue }  // memcmp, not a generic element loop
                let (oldType, newType) = (old[old.startIndex], new[new.startIndex])
                if oldType == newType && (oldType == BSONType.document.rawValue || oldType == BSONType.array.rawValue) {
                    return nil
                }
                changed.append((old.startIndex, field))
            }
        }
        if changed.count > 1 { changed.sort { $0.position < $1.position } }
        if removed.count > 1 { removed.sort { $0.position < $1.position } }
        var updatedFields = Document()
        for (_, field) in changed { updatedFields.appendField(field, from: after) }
        var description = Document()
        description.append("updatedFields", .document(updatedFields))
        description.append("removedFields", .array(removed.map { .string($0.field) }))
        description.append("truncatedArrays", .array([]))
        return description
    }
}
