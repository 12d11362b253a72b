#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Editing named top-level fields in one walk and one copy: what an update of a few top-level
/// fields of a stored document needs (find them, check the keys, write the new document), where
/// `set`/`remove` per field would walk and copy the bytes once each.
extension Document {
    /// Where a few named top-level fields are, found in one key scan (nothing decoded).
    public struct TopLevelFields: Sendable {
        /// Per key asked for, in that order: its element (type byte to value end) as offsets in
        /// the document's bytes, or nil when there is no such field.
        public var elements: [Range<Int>?]
        /// Whether no key occurs twice (then each range is the only field of its name).
        public var uniqueKeys: Bool
    }

    /// The elements of `keys` when the first field is named `leading` and no later one is;
    /// nil otherwise. Keys are compared as bytes (a key of at most 8 bytes as one integer with
    /// its length, longer ones by a signature first).
    public func topLevelFields(leading: String, _ keys: [String]) -> TopLevelFields? {
        var elements = Self.noElements(keys.count)
        let unique = elements.withUnsafeMutableBufferPointer { out in
            scanTopLevel(leading: leading, keyCount: keys.count, key: { keys[$0] }, into: out)
        }
        return unique.map { TopLevelFields(elements: elements, uniqueKeys: $0) }
    }

    /// `topLevelFields(leading:_:)` of one key without its arrays (one `$set`, the usual
    /// update): the key's element (nil: no such field) and whether no key occurs twice.
    public func topLevelFields(leading: String, _ key: String) -> (element: Range<Int>?, uniqueKeys: Bool)? {
        var element: Range<Int>? = nil
        let unique = withUnsafeMutablePointer(to: &element) { p in
            scanTopLevel(leading: leading, keyCount: 1, key: { _ in key }, into: UnsafeMutableBufferPointer(start: p, count: 1))
        }
        return unique.map { (element, $0) }
    }

    /// The scan behind `topLevelFields`: fills `elements[k]` (all nil on entry) with the
    /// element of `key(k)`; returns whether no key occurs twice, or nil when the first field is
    /// not `leading` or a later one is.
    private func scanTopLevel(
        leading: String, keyCount: Int, key: (Int) -> String, into elements: UnsafeMutableBufferPointer<Range<Int>?>
    ) -> Bool? {
        let leadingSignature = Self.keySignature(leading)
        // The wanted keys' signatures on the stack (an array per update cost more than its scan).
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: keyCount) { wanted in
            for k in 0..<keyCount { wanted.initializeElement(at: k, to: Self.keySignature(key(k))) }
            return withReader { reader -> Bool? in
                guard let base = reader.buffer.baseAddress else { return nil }
                let end = reader.buffer.count
                var unique = true
                var position = 4
                var count = 0
                // Signatures and key starts of the keys seen so far, on the stack for documents of
                // up to 64 fields; a repeated signature is checked byte by byte.
                let found = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 128) { seen -> Bool in
                    var heap: [UInt64] = []
                    var seenBits: UInt64 = 0
                    while let element = reader.element(at: position) {
                        let keyLength = element.keyEnd - element.keyStart
                        let signature = Self.keySignature(base + element.keyStart, keyLength, readable: end - element.keyStart)
                        let isLeading = signature == leadingSignature && Self.keyEquals(base + element.keyStart, keyLength, leading)
                        if isLeading != (count == 0) { return false }  // not first, or again
                        // A bit per signature: a key whose bit is clear is surely new.
                        let bit = UInt64(1) << ((signature &* 0x9E37_79B9_7F4A_7C15) >> 58)
                        defer { seenBits |= bit }
                        if count > 0 && unique && seenBits & bit != 0 {
                            var i = 0
                            while i < count {
                                let (s, at) = i < 64 ? (seen[2 * i], Int(seen[2 * i + 1])) : (heap[2 * (i - 64)], Int(heap[2 * (i - 64) + 1]))
                                if s == signature, keyLength <= 7 || memcmp(base + at, base + element.keyStart, keyLength) == 0 {
                                    unique = false
                                    break
                                }
                                i += 1
                            }
                        }
                        if count < 64 {
                            seen[2 * count] = signature
                            seen[2 * count + 1] = UInt64(element.keyStart)
                        } else {
                            heap.append(signature)
                            heap.append(UInt64(element.keyStart))
                        }
                        for k in wanted.indices where wanted[k] == signature && elements[k] == nil {
                            if Self.keyEquals(base + element.keyStart, keyLength, key(k)) {
                                elements[k] = element.start..<element.valueEnd
                            }
                        }
                        count += 1
                        position = element.valueEnd
                    }
                    return count > 0
                }
                return found ? unique : nil
            }
        }
    }

    /// The value of the element at `element` (a range from `topLevelFields`).
    public func value(ofElement element: Range<Int>) -> BSONValue {
        withReader { reader in
            let type = reader.buffer[element.lowerBound]
            let valueStart = reader.cstringEnd(from: element.lowerBound + 1) + 1
            return reader.value(type: type, at: valueStart)
        }
    }

    /// The bytes (type byte, key, value) of the element at `element`.
    public func bytes(ofElement element: Range<Int>) -> ArraySlice<UInt8> {
        base[(start + element.lowerBound)..<(start + element.upperBound)]
    }

    /// One change to a top-level field for `splicingTopLevel`.
    public enum TopLevelFieldEdit: Sendable {
        /// Leave the field as it is.
        case keep
        /// Write this value: in place of the field's element when it has one, else appended.
        case set(BSONValue)
        /// Remove the field's element (nothing when it has none).
        case remove
    }

    /// The document with `edits[i]` applied to the field `keys[i]` found at `elements[i]` (from
    /// `topLevelFields` of this document, with unique keys), in one copy: fields edited in
    /// place stay where they are, new ones are appended in the order given. Also each edited
    /// field's element in the result (nil: absent), as offsets in its bytes.
    public func splicingTopLevel(_ keys: [String], _ elements: [Range<Int>?], _ edits: [TopLevelFieldEdit])
        -> (document: Document, elements: [Range<Int>?])
    {
        precondition(keys.count == elements.count && keys.count == edits.count)
        // In-place edits by position in the document; appended ones after, in the given order
        // (one field, the usual update, needs no array for that).
        var order = keys.count == 1 ? Self.firstOnly : Array(keys.indices)
        if order.count > 1 {
            order.sort { a, b in
                switch (elements[a], elements[b]) {
                case (let x?, let y?): x.lowerBound < y.lowerBound
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): a < b
                }
            }
        }
        var after = Self.noElements(keys.count)
        var out: [UInt8] = []
        withUnsafeBytes { old in
            out.reserveCapacity(old.count + 64)
            var copied = 0  // old bytes written so far
            for i in order {
                if let element = elements[i] {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[copied..<element.lowerBound]))
                    copied = element.lowerBound
                    switch edits[i] {
                    case .keep:
                        continue
                    case .remove:
                        copied = element.upperBound
                    case .set(let value):
                        let at = out.count
                        BSONWriter.appendElement(key: keys[i], value: value, to: &out)
                        after[i] = at..<out.count
                        copied = element.upperBound
                    }
                } else {
                    if copied < old.count - 1 {
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[copied..<(old.count - 1)]))
                        copied = old.count - 1
                    }
                    if case .set(let value) = edits[i] {
                        let at = out.count
                        BSONWriter.appendElement(key: keys[i], value: value, to: &out)
                        after[i] = at..<out.count
                    }
                }
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[copied..<old.count]))
        }
        BSONWriter.patchInt32(out.count, at: 0, in: &out)
        // Kept fields are where they were, shifted by the edits before them.
        for i in keys.indices {
            guard case .keep = edits[i], let element = elements[i] else { continue }
            var shift = 0
            for j in keys.indices {
                guard let other = elements[j], other.lowerBound < element.lowerBound else { continue }
                switch edits[j] {
                case .keep: break
                case .remove: shift -= other.count
                case .set: shift += (after[j]?.count ?? 0) - other.count
                }
            }
            after[i] = (element.lowerBound + shift)..<(element.upperBound + shift)
        }
        return (Document(validated: out), after)
    }

    private static let firstOnly = [0]

    /// `splicingTopLevel([key], [element], [.set(value)])` without its arrays (one `$set`, the
    /// usual update): the document with `key`'s element (at `element`, or appended when nil)
    /// holding `value`, and where that element is in the result.
    public func splicingTopLevel(_ key: String, _ element: Range<Int>?, setting value: BSONValue)
        -> (document: Document, element: Range<Int>)
    {
        var out: [UInt8] = []
        var written = 0..<0
        withUnsafeBytes { old in
            out.reserveCapacity(old.count + 64)
            // In place of the old element, or before the closing NUL.
            let (cut, resume) = element.map { ($0.lowerBound, $0.upperBound) } ?? (old.count - 1, old.count - 1)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[0..<cut]))
            let at = out.count
            BSONWriter.appendElement(key: key, value: value, to: &out)
            written = at..<out.count
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[resume..<old.count]))
        }
        BSONWriter.patchInt32(out.count, at: 0, in: &out)
        return (Document(validated: out), written)
    }

    /// `splicingTopLevel(key, element, setting: value)` with the new element already encoded
    /// (`newElement`: type byte, key, value, as an update's `$set` argument holds it): the
    /// document with it in place of the element at `element` (appended when nil), written into
    /// an array reserved at exactly the new size in three copies, and where it is in the result.
    /// (Reserved and appended: `Array(unsafeUninitializedCapacity:)` goes through generic
    /// metadata at run time, about 600 instructions here.)
    public func splicingTopLevel(_ element: Range<Int>?, withElement newElement: UnsafeRawBufferPointer)
        -> (document: Document, element: Range<Int>)
    {
        var out: [UInt8] = []
        let cut = withUnsafeBytes { old -> Int in
            let (cut, resume) = element.map { ($0.lowerBound, $0.upperBound) } ?? (old.count - 1, old.count - 1)
            out.reserveCapacity(old.count - (resume - cut) + newElement.count)
            // As typed bytes: a raw buffer appends byte by byte.
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[0..<cut]).assumingMemoryBound(to: UInt8.self))
            out.append(contentsOf: newElement.assumingMemoryBound(to: UInt8.self))
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: old[resume...]).assumingMemoryBound(to: UInt8.self))
            return cut
        }
        BSONWriter.patchInt32(out.count, at: 0, in: &out)
        return (Document(validated: out), cut..<(cut + newElement.count))
    }

    /// The size of a value of `type` at `offset` in validated BSON `bytes` (the reader's own
    /// table, for a caller that reads an element's bytes itself).
    public static func valueLength(type: UInt8, at offset: Int, in bytes: UnsafeRawBufferPointer) -> Int {
        BSONReader(buffer: bytes, base: [], start: 0).valueLength(type: type, at: offset)
    }

    /// `count` nils, appended: `Array(repeating:count:)` goes through an unspecialized generic
    /// allocation that cost about 800 instructions here, more than the rest of a short scan.
    @inline(__always)
    static func noElements(_ count: Int) -> [Range<Int>?] {
        var elements: [Range<Int>?] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(nil) }
        return elements
    }

    /// The key's length and its first 7 bytes (fewer for a shorter key) in one integer: exact
    /// for keys of at most 7 bytes; a longer one's last 8 bytes are mixed in. `readable` is how
    /// many bytes from `key` on may be read (a key is followed by its NUL and more).
    @inline(__always)
    static func keySignature(_ key: UnsafeRawPointer, _ n: Int, readable: Int) -> UInt64 {
        var head: UInt64 = 0
        if readable >= 8 {
            head = UInt64(littleEndian: key.loadUnaligned(as: UInt64.self))
            head &= n >= 7 ? 0x00FF_FFFF_FFFF_FFFF : (UInt64(1) << (8 * UInt64(n))) &- 1
        } else {
            for i in 0..<Swift.min(n, 7) { head |= UInt64(key.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
        }
        var signature = head | UInt64(truncatingIfNeeded: Swift.min(n, 255)) << 56
        if n > 7 {
            let tail = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
            signature ^= (tail &* 0x9E37_79B9_7F4A_7C15) | 1
        }
        return signature
    }

    static func keySignature(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { utf8 in
            guard let p = utf8.baseAddress else { return 0 }
            return keySignature(UnsafeRawPointer(p), utf8.count, readable: utf8.count)
        }
    }

    @inline(__always)
    static func keyEquals(_ bytes: UnsafeRawPointer, _ n: Int, _ key: String) -> Bool {
        var key = key
        return key.withUTF8 { utf8 in
            guard utf8.count == n, let other = utf8.baseAddress else { return utf8.count == n }
            return memcmp(bytes, other, n) == 0
        }
    }
}
