/// Which fields an edit changed, found in the bytes (no value is decoded): what a diff of a
/// document before and after an update needs first, since most updates touch a few fields of
/// many.
extension Document {
    /// The keys, in order, of the fields whose encoded value (type and bytes) differs from the
    /// field at the same position in `before`, when both documents have the same keys in the same
    /// order and no key twice; nil otherwise (then compare fields by name).
    ///
    /// Two values with the same encoding are equal (`==`); the reverse is left to the caller,
    /// which compares the returned fields' values.
    public func changedKeys(comparedTo before: Document) -> [String]? {
        withReader { after in
            before.withReader { before -> [String]? in
                guard let a = after.buffer.baseAddress, let b = before.buffer.baseAddress else { return nil }
                var keyRanges: [Range<Int>] = []  // after's keys so far: a repeat means nil
                var changed: [String] = []
                var pa = 4
                var pb = 4
                while true {
                    let ea = after.element(at: pa)
                    let eb = before.element(at: pb)
                    guard let ea, let eb else { return ea == nil && eb == nil ? changed : nil }
                    let keyLength = ea.keyEnd - ea.keyStart
                    guard keyLength == eb.keyEnd - eb.keyStart,
                        bytesEqual(
                            UnsafeRawBufferPointer(start: a + ea.keyStart, count: keyLength),
                            UnsafeRawBufferPointer(start: b + eb.keyStart, count: keyLength))
                    else { return nil }
                    for range in keyRanges where range.count == keyLength {
                        if bytesEqual(
                            UnsafeRawBufferPointer(start: a + range.lowerBound, count: keyLength),
                            UnsafeRawBufferPointer(start: a + ea.keyStart, count: keyLength))
                        {
                            return nil
                        }
                    }
                    keyRanges.append(ea.keyStart..<ea.keyEnd)
                    let valueLength = ea.valueEnd - ea.valueStart
                    let same =
                        ea.type == eb.type && valueLength == eb.valueEnd - eb.valueStart
                        && bytesEqual(
                            UnsafeRawBufferPointer(start: a + ea.valueStart, count: valueLength),
                            UnsafeRawBufferPointer(start: b + eb.valueStart, count: valueLength))
                    if !same { changed.append(after.key(of: ea)) }
                    pa = ea.valueEnd
                    pb = eb.valueEnd
                }
            }
        }
    }
}

extension Document {
    /// Whether no key occurs twice at the top level (a key scan: nothing is decoded). An edit
    /// of named fields can tell what it changed by itself only in such a document: with a repeated
    /// key, lookups, edits and diffs each see the first occurrence and may disagree.
    public var hasUniqueKeys: Bool {
        withReader { reader in
            guard let base = reader.buffer.baseAddress else { return true }
            // The keys seen so far, on the stack for a document of up to 64 fields.
            return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 64) { stack in
                var heap: [Range<Int>] = []
                var count = 0
                var position = 4
                while let element = reader.element(at: position) {
                    let length = element.keyEnd - element.keyStart
                    func same(_ range: Range<Int>) -> Bool {
                        range.count == length
                            && bytesEqual(
                                UnsafeRawBufferPointer(start: base + range.lowerBound, count: length),
                                UnsafeRawBufferPointer(start: base + element.keyStart, count: length))
                    }
                    if stack[0..<Swift.min(count, 64)].contains(where: same) || heap.contains(where: same) { return false }
                    if count < 64 {
                        stack[count] = element.keyStart..<element.keyEnd
                    } else {
                        heap.append(element.keyStart..<element.keyEnd)
                    }
                    count += 1
                    position = element.valueEnd
                }
                return true
            }
        }
    }
}
