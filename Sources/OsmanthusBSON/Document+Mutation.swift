/// Editing a document's bytes in place. Each edit keeps the bytes canonical and the header
/// length right; limits are not checked here but by `encode()`/`checkLimits()`.
extension Document {
    /// Appends a field at the end (even if the key already exists).
    public mutating func append(_ key: String, _ value: BSONValue) {
        storage.removeLast()  // the terminator
        BSONWriter.appendElement(key: key, value: value, to: &storage)
        storage.append(0)
        BSONWriter.patchInt32(storage.count, at: 0, in: &storage)
    }

    /// Replaces the value of the first field named `key` in place, or appends the field.
    public mutating func set(_ key: String, _ value: BSONValue) {
        guard let element = findElement(key) else {
            append(key, value)
            return
        }
        var replacement = ArraySlice<UInt8>()
        replacement.append(value.type.rawValue)
        BSONWriter.appendCString(key, to: &replacement)
        BSONWriter.appendValue(value, to: &replacement)
        let base = storage.startIndex
        storage.replaceSubrange((base + element.start)..<(base + element.valueEnd), with: replacement)
        BSONWriter.patchInt32(storage.count, at: 0, in: &storage)
    }

    /// Removes the first field named `key`; returns its value, or nil if there was none.
    @discardableResult
    public mutating func remove(_ key: String) -> BSONValue? {
        guard let element = findElement(key) else { return nil }
        let value = withReader { $0.value(type: element.type, at: element.valueStart) }
        let base = storage.startIndex
        storage.removeSubrange((base + element.start)..<(base + element.valueEnd))
        BSONWriter.patchInt32(storage.count, at: 0, in: &storage)
        return value
    }

    /// Removes every field.
    public mutating func removeAll() {
        self = Document()
    }

    /// Appends every field of `other`, in order.
    public mutating func append(contentsOf other: Document) {
        storage.removeLast()
        other.withUnsafeBytes { buffer in
            storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[4..<(buffer.count - 1)]))
        }
        storage.append(0)
        BSONWriter.patchInt32(storage.count, at: 0, in: &storage)
    }
}
