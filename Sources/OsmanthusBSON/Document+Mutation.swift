/// Editing a document's bytes in place. Each edit keeps the bytes canonical and the header
/// length right; limits are not checked here but by `encode()`/`checkLimits()`.
extension Document {
    /// Runs `body` on the document's own bytes, so that appends happen in place (an embedded
    /// document's view is copied out of its parent's buffer first).
    @inline(__always)
    mutating func withMutableBytes<R>(_ body: (inout [UInt8]) -> R) -> R {
        if !ownsWholeBuffer {
            base = bytes
            start = 0
        }
        if base.capacity < 64 { base.reserveCapacity(64) }
        return body(&base)
    }

    /// Appends a field at the end (even if the key already exists).
    public mutating func append(_ key: String, _ value: BSONValue) {
        withMutableBytes { bytes in
            bytes[bytes.count - 1] = value.type.rawValue  // the terminator becomes the type byte
            BSONWriter.appendCString(key, to: &bytes)
            BSONWriter.appendValue(value, to: &bytes)
            bytes.append(0)
            BSONWriter.patchInt32(bytes.count, at: 0, in: &bytes)
        }
    }

    /// Replaces the value of the first field named `key` in place, or appends the field.
    public mutating func set(_ key: String, _ value: BSONValue) {
        guard let element = findElement(key) else {
            append(key, value)
            return
        }
        var replacement = [UInt8]()
        BSONWriter.appendElement(key: key, value: value, to: &replacement)
        withMutableBytes { bytes in
            bytes.replaceSubrange(element.start..<element.valueEnd, with: replacement)
            BSONWriter.patchInt32(bytes.count, at: 0, in: &bytes)
        }
    }

    /// Removes the first field named `key`; returns its value, or nil if there was none.
    @discardableResult
    public mutating func remove(_ key: String) -> BSONValue? {
        guard let element = findElement(key) else { return nil }
        let value = withReader { $0.value(type: element.type, at: element.valueStart) }
        withMutableBytes { bytes in
            bytes.removeSubrange(element.start..<element.valueEnd)
            BSONWriter.patchInt32(bytes.count, at: 0, in: &bytes)
        }
        return value
    }

    /// Removes every field.
    public mutating func removeAll() {
        self = Document()
    }

    /// Appends every field of `other`, in order.
    public mutating func append(contentsOf other: Document) {
        withMutableBytes { bytes in
            bytes.removeLast()
            other.withUnsafeBytes { buffer in
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[4..<(buffer.count - 1)]))
            }
            bytes.append(0)
            BSONWriter.patchInt32(bytes.count, at: 0, in: &bytes)
        }
    }
}

extension Document {
    /// Appends the first field named `key` of `other` as its bytes are (nothing decoded or
    /// re-encoded); false, appending nothing, when `other` has no such field.
    @discardableResult
    public mutating func appendField(_ key: String, from other: Document) -> Bool {
        guard let element = other.elementBytes(key) else { return false }
        withMutableBytes { bytes in
            bytes.removeLast()
            bytes.append(contentsOf: element)
            bytes.append(0)
            BSONWriter.patchInt32(bytes.count, at: 0, in: &bytes)
        }
        return true
    }
}
