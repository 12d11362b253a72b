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
        // One action (the usual update): its one-component path is the key list, no new array.
        let keys = actions.count == 1 ? actions[0].path : actions.map { $0.path[0] }
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
        // One `$set` (YCSB's update, and most): one splice, no arrays of edits or elements.
        if actions.count == 1, case .set(let value) = actions[0].kind {
            let old = fields.elements[0]
            let (updated, new) = doc.splicingTopLevel(keys[0], old, setting: value)
            guard describe else { return TopLevelEdit(updated: updated, updateDescription: nil) }
            return TopLevelEdit(
                updated: updated, updateDescription: Self.describeOne(keys[0], before: doc, old, after: updated, new))
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
        // removed ones by their offset in `before`. Kept in visiting order, then sorted. The
        // changed elements are kept as ranges of `after` (no slice retaining its bytes).
        if keys.count == 1 { return describeOne(keys[0], before: before, old[0], after: after, new[0]) }
        var changed: [(position: Int, element: Range<Int>)] = []
        var removed: [(position: Int, field: String)] = []
        changed.reserveCapacity(keys.count)
        for n in keys.indices {
            switch (old[n], new[n]) {
            case (nil, nil):
                continue
            case (nil, .some(let new)):
                changed.append((Int.max - keys.count + n, new))
            case (.some(let old), nil):
                removed.append((old.lowerBound, keys[n]))
            case (.some(let oldRange), .some(let newRange)):
                let (old, new) = (before.bytes(ofElement: oldRange), after.bytes(ofElement: newRange))
                if compareBytes(old, new) == 0 { continue }  // memcmp, not a generic element loop
                let (oldType, newType) = (old[old.startIndex], new[new.startIndex])
                if oldType == newType && (oldType == BSONType.document.rawValue || oldType == BSONType.array.rawValue) {
                    return nil
                }
                changed.append((oldRange.lowerBound, newRange))
            }
        }
        if changed.count > 1 { changed.sort { $0.position < $1.position } }
        if removed.count > 1 { removed.sort { $0.position < $1.position } }
        return after.withUnsafeBytes { a in
            descriptionDocument(
                updated: changed.lazy.map { UnsafeRawBufferPointer(rebasing: a[$0.element]) }, removed: removed.map(\.field))
        }
    }

    /// `describe` of one field (`key`, at `old` in `before` and `new` in `after`, each nil when
    /// absent there) without the arrays the general case sorts.
    static func describeOne(
        _ key: String, before: Document, _ old: Range<Int>?, after: Document, _ new: Range<Int>?
    ) -> Document? {
        switch (old, new) {
        case (nil, nil):
            return descriptionDocument(updated: EmptyCollection<UnsafeRawBufferPointer>(), removed: [])
        case (.some, nil):
            return descriptionDocument(updated: EmptyCollection<UnsafeRawBufferPointer>(), removed: [key])
        case (nil, .some(let newRange)):
            return after.withUnsafeBytes { a in
                descriptionDocument(updated: CollectionOfOne(UnsafeRawBufferPointer(rebasing: a[newRange])), removed: [])
            }
        case (.some(let oldRange), .some(let newRange)):
            let (oldBytes, newBytes) = (before.bytes(ofElement: oldRange), after.bytes(ofElement: newRange))
            if compareBytes(oldBytes, newBytes) == 0 {
                return descriptionDocument(updated: EmptyCollection<UnsafeRawBufferPointer>(), removed: [])
            }
            let (oldType, newType) = (oldBytes[oldBytes.startIndex], newBytes[newBytes.startIndex])
            if oldType == newType && (oldType == BSONType.document.rawValue || oldType == BSONType.array.rawValue) {
                return nil
            }
            return after.withUnsafeBytes { a in
                descriptionDocument(updated: CollectionOfOne(UnsafeRawBufferPointer(rebasing: a[newRange])), removed: [])
            }
        }
    }

    /// The keys of an update description, as bytes.
    static let updatedFieldsKey = Array("updatedFields".utf8)
    static let removedFieldsKey = Array("removedFields".utf8)
    static let truncatedArraysKey = Array("truncatedArrays".utf8)

    /// `{updatedFields: {<elements>}, removedFields: [<keys>], truncatedArrays: []}`, written as
    /// bytes (as `Document.append` would write them) with the changed elements copied as they
    /// are: sized first, laid out in one buffer and copied into an array of exactly that size
    /// (appending field by field to a growing array cost more than the rest of an update's
    /// description).
    static func descriptionDocument<Elements: Swift.Collection<UnsafeRawBufferPointer>>(updated: Elements, removed: [String])
        -> Document?
    {
        // Document framing (length, NUL) and three elements of type, key and NUL, with a
        // length-prefixed body each; the empty `truncatedArrays` is 5 bytes.
        var count = 4 + 1
        count += 1 + updatedFieldsKey.count + 1 + 4 + 1
        for element in updated { count += element.count }
        count += 1 + removedFieldsKey.count + 1 + 4 + 1
        for (i, key) in removed.enumerated() { count += 1 + ArrayKey.digitCount(i) + 1 + 4 + key.utf8.count + 1 }
        count += 1 + truncatedArraysKey.count + 1 + 5
        guard count <= BSONLimits.maxDocumentSize else { return nil }
        // Positions passed along, not captured: nested functions capturing the position cost a
        // dynamic exclusivity check per access, more than the copying itself.
        let bytes = withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { out -> [UInt8] in
            storeInt32(count, at: 0, in: out)
            var p = storeKey(.document, updatedFieldsKey, at: 4, in: out)
            let fields = p
            p += 4
            for element in updated { p = store(element, at: p, in: out) }
            out[p] = 0
            p += 1
            storeInt32(p - fields, at: fields, in: out)
            p = storeKey(.array, removedFieldsKey, at: p, in: out)
            let array = p
            p += 4
            for (i, name) in removed.enumerated() {
                p = storeKey(.string, Array(String(i).utf8), at: p, in: out)
                storeInt32(name.utf8.count + 1, at: p, in: out)
                var name = name
                let start = p + 4
                p = name.withUTF8 { store(UnsafeRawBufferPointer($0), at: start, in: out) }
                out[p] = 0
                p += 1
            }
            out[p] = 0
            p += 1
            storeInt32(p - array, at: array, in: out)
            p = storeKey(.array, truncatedArraysKey, at: p, in: out)
            storeInt32(5, at: p, in: out)
            out[p + 4] = 0
            out[p + 5] = 0
            precondition(p + 6 == count, "descriptionDocument: the document is not the size computed")
            var result: [UInt8] = []
            result.reserveCapacity(count)
            result.append(contentsOf: UnsafeRawBufferPointer(out).assumingMemoryBound(to: UInt8.self))
            return result
        }
        return try? Document(trustedBytes: bytes)
    }

    @inline(__always)
    private static func storeInt32(_ v: Int, at p: Int, in out: UnsafeMutableRawBufferPointer) {
        out.storeBytes(of: Int32(truncatingIfNeeded: v).littleEndian, toByteOffset: p, as: Int32.self)
    }

    /// Copies `bytes` to `p` in `out` (which has room); returns the position after them.
    @inline(__always)
    private static func store(_ bytes: UnsafeRawBufferPointer, at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int {
        if let from = bytes.baseAddress, let to = out.baseAddress, bytes.count > 0 {
            (to + p).copyMemory(from: from, byteCount: bytes.count)
        }
        return p + bytes.count
    }

    /// An element's type byte, key and NUL at `p`; returns the position after them.
    @inline(__always)
    private static func storeKey(_ type: BSONType, _ key: [UInt8], at p: Int, in out: UnsafeMutableRawBufferPointer) -> Int {
        out[p] = type.rawValue
        let end = key.withUnsafeBytes { store($0, at: p + 1, in: out) }
        out[end] = 0
        return end + 1
    }
}
