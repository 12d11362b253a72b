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
