import OsmanthusBSON

/// An update that is exactly `{$set: {<field>: <value>}}`, one top-level field other than `_id`
/// set to a scalar (YCSB's update, and most updates by `_id`), recognised in the update's bytes
/// without parsing it into an `Update`: no `BSONValue` decoded, no path or action arrays. The
/// new element is the `$set` argument's element as it is (type byte, key, value), since a
/// document's bytes are canonical and the general path would encode the same value to the same
/// bytes. `TopLevelUpdateTests` checks it against `Update.apply` and `UpdateDescription.diff`.
///
/// Only numbers, strings, booleans, null, ObjectIds, dates and timestamps: documents and arrays
/// (whose description the diff may give element by element), binaries and the rest are left
/// to `Update` (nil).
struct OneFieldSet {
    /// The update as given.
    let spec: Document
    /// The field's name.
    let key: String
    /// The `$set` argument's one element, as offsets in `spec`'s bytes.
    let element: Range<Int>

    /// Layout of `{$set: {k: v}}`: int32 length, 0x03 "$set" NUL at 4...9, the argument
    /// document's int32 length at 10, its first element at 14.
    private static let argumentStart = 10
    private static let elementStart = 14

    init?(_ spec: Document) {
        let parsed = spec.withUnsafeBytes { b -> (key: String, element: Range<Int>)? in
            let n = b.count
            guard n > Self.elementStart + 2, b[4] == BSONType.document.rawValue, b[5] == UInt8(ascii: "$"),
                b[6] == UInt8(ascii: "s"), b[7] == UInt8(ascii: "e"), b[8] == UInt8(ascii: "t"), b[9] == 0
            else { return nil }
            let argumentCount = Int(Int32(littleEndian: b.loadUnaligned(fromByteOffset: Self.argumentStart, as: Int32.self)))
            // `$set` is the only operator: its argument and the update's closing NUL end it.
            guard Self.argumentStart + argumentCount + 1 == n else { return nil }
            let type = b[Self.elementStart]
            var keyEnd = Self.elementStart + 1
            while keyEnd < n, b[keyEnd] != 0 { keyEnd += 1 }
            let keyBytes = UnsafeRawBufferPointer(rebasing: b[(Self.elementStart + 1)..<keyEnd])
            // A plain top-level name: not empty, not `$`-prefixed, no dot, not `_id`.
            guard let first = keyBytes.first, first != UInt8(ascii: "$"), !keyBytes.contains(UInt8(ascii: ".")),
                !(keyBytes.count == 3 && keyBytes[0] == UInt8(ascii: "_") && keyBytes[1] == UInt8(ascii: "i")
                    && keyBytes[2] == UInt8(ascii: "d")),
                let length = Self.valueLength(type, b, at: keyEnd + 1)
            else { return nil }
            // The argument's only element: its closing NUL follows.
            let end = keyEnd + 1 + length
            guard end == n - 2 else { return nil }
            return (String(decoding: keyBytes, as: UTF8.self), Self.elementStart..<end)
        }
        guard let parsed else { return nil }
        self.spec = spec
        key = parsed.key
        element = parsed.element
    }

    /// The encoded size of a scalar value of `type` at `p` in `b` (a validated document), or nil
    /// for a type left to the general path.
    private static func valueLength(_ type: UInt8, _ b: UnsafeRawBufferPointer, at p: Int) -> Int? {
        switch BSONType(rawValue: type) {
        case .double, .datetime, .timestamp, .int64, .int32, .bool, .null, .objectId, .decimal128, .string:
            Document.valueLength(type: type, at: p, in: b)
        default: nil
        }
    }

    /// The edit of a stored document (`_id` first and only once, as `Update.applyTopLevel`
    /// requires; nil otherwise): `doc` with the field set, and the change described when
    /// `describe`. Nothing here can fail: `$set` of a scalar has no error of its own.
    func apply(to doc: Document, describe: Bool) -> TopLevelEdit? {
        guard let fields = doc.topLevelFields(leading: "_id", key), fields.uniqueKeys else { return nil }
        let (updated, new) = spec.withUnsafeBytes { b in
            doc.splicingTopLevel(fields.element, withElement: UnsafeRawBufferPointer(rebasing: b[element]))
        }
        guard describe else { return TopLevelEdit(updated: updated, updateDescription: nil) }
        return TopLevelEdit(
            updated: updated, updateDescription: Update.describeOne(key, before: doc, fields.element, after: updated, new))
    }
}
