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
    ///
    /// One key scan finds the touched fields and checks the keys; with no key repeated, one
    /// copy writes the new document and the change is described from the old and new elements
    /// (`describe`). With a repeated key, each field is edited in turn and the diff left to
    /// the change log, as lookups and the diff each see the first occurrence.
    func applyTopLevel(_ actions: [UpdateAction], to doc: Document, now: Int64, describe: Bool) throws
        -> TopLevelEdit?
    {
        let keys = actions.map { $0.path[0] }
        guard let fields = doc.topLevelFields(leading: "_id", keys) else { return nil }
        let environment = UpdateEnvironment(document: doc, now: now)
        guard fields.uniqueKeys else {
            var updated = doc
            for (action, field) in zip(actions, keys) {
                switch try action.kind.outcome(old: updated[field], field: field, path: field, environment) {
                case .unchanged: break
                case .set(let value): updated.set(field, value)
                case .remove: updated.remove(field)
                }
            }
            return TopLevelEdit(updated: updated, updateDescription: nil)
        }
        // Distinct fields (conflicts are refused at parse): each action sees the stored value.
        var edits: [Document.TopLevelFieldEdit] = []
        edits.reserveCapacity(actions.count)
        var touched = false
        for (n, action) in actions.enumerated() {
            let element = fields.elements[n]
            if case .set(let value) = action.kind {
                edits.append(.set(value))
                touched = true
                continue
            }
            let old = element.map { doc.value(ofElement: $0) }
            switch try action.kind.outcome(old: old, field: keys[n], path: keys[n], environment) {
            case .unchanged: edits.append(.keep)
            case .set(let value):
                edits.append(.set(value))
                touched = true
            case .remove:
                edits.append(element == nil ? .keep : .remove)
                touched = touched || element != nil
            }
        }
        guard touched else { return TopLevelEdit(updated: doc, updateDescription: nil) }
        let (updated, after) = doc.splicingTopLevel(keys, fields.elements, edits)
        guard describe else { return TopLevelEdit(updated: updated, updateDescription: nil) }
        return TopLevelEdit(
            updated: updated,
            updateDescription: Self.describe(keys, before: doc, fields.elements, after: updated, after))
    }

    /// What `UpdateDescription.diff(before, after)` says of an edit of the fields `keys` (each
    /// at most once in `before`, at `old[i]` there and `new[i]` in `after`): the fields whose
    /// encoded value changed, in the order of `after` (fields kept in place, then the appended
    /// ones), and the removed ones in the order of `before`. Two scalars are equal (`==`)
    /// exactly when their encodings are; two documents or two arrays the diff describes
    /// element by element, so those are left to it (nil).
    private static func describe(
        _ keys: [String], before: Document, _ old: [Range<Int>?], after: Document, _ new: [Range<Int>?]
    ) -> Document? {
        // Each touched field that changed, by where it is in `after`: its offset in `before`
        // for a field kept in place, past the end (in visiting order) for an appended one;
        // removed ones by their offset in `before`. Kept in visiting order, then sorted.
        var changed: [(position: Int, element: ArraySlice<UInt8>)] = []
        var removed: [(position: Int, field: String)] = []
        changed.reserveCapacity(keys.count)
        for n in keys.indices {
            switch (old[n], new[n]) {
            case (nil, nil):
                continue
            case (nil, .some(let new)):
                changed.append((Int.max - keys.count + n, after.bytes(ofElement: new)))
            case (.some(let old), nil):
                removed.append((old.lowerBound, keys[n]))
            case (.some(let oldRange), .some(let newRange)):
                let (old, new) = (before.bytes(ofElement: oldRange), after.bytes(ofElement: newRange))
                if compareBytes(old, new) == 0 { continue }  // memcmp, not a generic element loop
                let (oldType, newType) = (old[old.startIndex], new[new.startIndex])
                if oldType == newType && (oldType == BSONType.document.rawValue || oldType == BSONType.array.rawValue) {
                    return nil
                }
                changed.append((oldRange.lowerBound, new))
            }
        }
        if changed.count > 1 { changed.sort { $0.position < $1.position } }
        if removed.count > 1 { removed.sort { $0.position < $1.position } }
        return descriptionDocument(updated: changed.map(\.element), removed: removed.map(\.field))
    }

    /// The keys of an update description, as bytes.
    static let updatedFieldsKey = Array("updatedFields".utf8)
    static let removedFieldsKey = Array("removedFields".utf8)
    static let truncatedArraysKey = Array("truncatedArrays".utf8)

    /// `{updatedFields: {<elements>}, removedFields: [<keys>], truncatedArrays: []}`, written as
    /// bytes (as `Document.append` would write them) with the changed elements copied as they are.
    static func descriptionDocument(updated: [ArraySlice<UInt8>], removed: [String]) -> Document? {
        func patchLength(_ out: inout [UInt8], from start: Int) {
            let length = UInt32(out.count - start)
            for i in 0..<4 { out[start + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        }
        func appendKey(_ out: inout [UInt8], _ type: BSONType, _ key: [UInt8]) {
            out.append(type.rawValue)
            out.append(contentsOf: key)
            out.append(0)
        }
        var out: [UInt8] = [0, 0, 0, 0]
        out.reserveCapacity(80 + updated.reduce(0) { $0 + $1.count })
        appendKey(&out, .document, Self.updatedFieldsKey)
        let fields = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        for element in updated { out.append(contentsOf: element) }
        out.append(0)
        patchLength(&out, from: fields)
        appendKey(&out, .array, Self.removedFieldsKey)
        let array = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        for (i, key) in removed.enumerated() {
            appendKey(&out, .string, Array(String(i).utf8))
            let length = UInt32(key.utf8.count + 1)
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt32(k)))) }
            out.append(contentsOf: key.utf8)
            out.append(0)
        }
        out.append(0)
        patchLength(&out, from: array)
        appendKey(&out, .array, Self.truncatedArraysKey)
        out.append(contentsOf: [5, 0, 0, 0, 0])
        out.append(0)
        patchLength(&out, from: 0)
        return try? Document(trustedBytes: out)
    }
}
