#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An ordered BSON document, kept as its canonical encoded bytes.
///
/// `Document(bytes:)` validates the input once (see `BSONValidator`) and keeps the bytes; reads
/// (`doc["a"]`, iteration) walk them without copying, and an embedded document is a view into
/// its parent's buffer (which it keeps alive). Mutations edit the bytes in place: `append` writes at the end, `set` and
/// `remove` splice one element. So `bytes` is always ready, and `==` is byte equality.
///
/// Lookups by key scan the fields in order (documents are small; no index is kept).
/// Duplicate keys are kept as they come (the BSON corpus has such documents); lookups, `set`
/// and `remove` act on the first.
public struct Document: Sendable {
    /// The buffer holding this document: the whole of it for a top-level document, or a parent
    /// document's buffer for an embedded one (a zero-copy view; the first edit copies it out).
    var base: [UInt8]
    /// Where this document starts in `base`; its int32 header gives its length.
    var start: Int

    /// The empty document.
    public init() {
        base = BSONFormat.emptyDocument
        start = 0
    }

    /// A complete, valid, canonical document at `start` in `base` (from the validator, or an
    /// embedded document of a validated one).
    init(validated base: [UInt8], start: Int = 0) {
        self.base = base
        self.start = start
    }

    /// Decodes and validates BSON bytes. Throws `BSONError` (`.invalidDocument`, `.invalidUTF8`,
    /// `.limitExceeded`) naming the offset of the first problem. Bytes that are valid but not
    /// canonical (array keys out of sequence, regex options unsorted) are re-encoded.
    public init(bytes: [UInt8]) throws {
        let canonical = try bytes.withUnsafeBytes { buffer in
            var validator = BSONValidator(buffer)
            try validator.validate()
            return validator.isCanonical
        }
        base = bytes
        start = 0
        if !canonical { self = canonicalized() }
    }

    /// Bytes this database wrote itself and reads back from its own storage: only the outer
    /// framing is checked (at least 5 bytes, the declared length equal to the count, a 0x00
    /// terminator), not every element. Safe because every stored document went through
    /// `Document` (validated on the way in, canonical by construction) and the engine checks a
    /// CRC32C over every WAL record and table block it reads, so the bytes are the ones written.
    /// Never use it for bytes from the network, a file, or a user: those go through
    /// `init(bytes:)`. Throws `.invalidDocument` when the framing is wrong (SPEC.md §10).
    public init(trustedBytes bytes: [UInt8]) throws {
        let count = bytes.count
        let framed = bytes.withUnsafeBytes { buffer -> Bool in
            guard count >= BSONFormat.minDocumentSize, count <= BSONLimits.maxDocumentSize else { return false }
            let declared = Int(Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: Int32.self)))
            return declared == count && buffer[count - 1] == 0
        }
        guard framed else {
            throw BSONError(.invalidDocument, "stored document of \(count) bytes is not framed as BSON", offset: 0)
        }
        base = bytes
        start = 0
    }

    /// `init(trustedBytes:)` for a stored document at `start` in a buffer it shares with others
    /// (a scan reads several into one buffer): the document is a view, as an embedded one is,
    /// keeping the whole buffer alive; its first edit copies it out. Same framing checks.
    public init(trustedBytes base: [UInt8], start: Int) throws {
        let framed = base.withUnsafeBytes { buffer -> Bool in
            guard start >= 0, buffer.count - start >= BSONFormat.minDocumentSize else { return false }
            let declared = Int(Int32(littleEndian: buffer.loadUnaligned(fromByteOffset: start, as: Int32.self)))
            return declared >= BSONFormat.minDocumentSize && declared <= BSONLimits.maxDocumentSize
                && declared <= buffer.count - start && buffer[start + declared - 1] == 0
        }
        guard framed else {
            throw BSONError(.invalidDocument, "stored document at \(start) is not framed as BSON", offset: start)
        }
        self.base = base
        self.start = start
    }

    public init(bytes: ArraySlice<UInt8>) throws {
        try self.init(bytes: Array(bytes))
    }

    /// A document with these fields, in order (duplicates kept).
    public init(_ fields: some Sequence<(String, BSONValue)>) {
        self.init()
        for (key, value) in fields { append(key, value) }
    }

    /// The size of the encoded document in bytes.
    public var byteCount: Int {
        base.withUnsafeBytes {
            Int(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: Int32.self)))
        }
    }

    /// Whether this document is all of `base` (so `base` can be handed out or edited as is).
    var ownsWholeBuffer: Bool { start == 0 && base.count == byteCount }

    /// The canonical BSON bytes (no copy for a document that owns its buffer).
    public var bytes: [UInt8] {
        ownsWholeBuffer ? base : Array(base[start..<(start + byteCount)])
    }

    /// Calls `body` with the encoded bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = byteCount
        return try base.withUnsafeBytes {
            try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)]))
        }
    }

    /// The canonical bytes, after checking the limits an encoder must enforce: at most
    /// `BSONLimits.maxDocumentSize` bytes and `BSONLimits.maxDepth` levels. Throws
    /// `.limitExceeded`.
    public func encode() throws -> [UInt8] {
        try checkLimits()
        return bytes
    }

    /// Throws `.limitExceeded` if the document is over 16 MiB or nested over 100 levels.
    public func checkLimits() throws {
        let size = byteCount
        guard size <= BSONLimits.maxDocumentSize else {
            throw BSONError(
                .limitExceeded,
                "document of \(size) bytes is over the \(BSONLimits.maxDocumentSize)-byte limit")
        }
        let tooDeep = withReader { $0.exceedsMaxDepth(documentAt: 0, level: 1) }
        guard !tooDeep else {
            throw BSONError(.limitExceeded, "document is nested deeper than \(BSONLimits.maxDepth) levels")
        }
    }

    /// Runs `body` with a reader whose offset 0 is this document's first byte.
    @inline(__always)
    func withReader<R>(_ body: (BSONReader) throws -> R) rethrows -> R {
        let count = byteCount
        return try base.withUnsafeBytes { whole in
            try body(
                BSONReader(
                    buffer: UnsafeRawBufferPointer(rebasing: whole[start..<(start + count)]), base: base,
                    start: start))
        }
    }

    /// The re-encoding of a valid but non-canonical document (recursively).
    private func canonicalized() -> Document {
        var result = Document()
        for (key, value) in self { result.append(key, value.canonicalized()) }
        return result
    }

    /// The first element whose key is `key`, located in the bytes.
    func findElement(_ key: String) -> BSONReader.Element? {
        var key = key
        return key.withUTF8 { keyBytes in
            withReader { reader in
                guard let base = reader.buffer.baseAddress else { return nil }
                let keyBytes = UnsafeRawBufferPointer(keyBytes)
                var position = 4
                while let element = reader.element(at: position) {
                    if element.keyEnd - element.keyStart == keyBytes.count,
                        bytesEqual(
                            UnsafeRawBufferPointer(start: base + element.keyStart, count: keyBytes.count),
                            keyBytes)
                    {
                        return element
                    }
                    position = element.valueEnd
                }
                return nil
            }
        }
    }

    /// The encoded element named `key` (type byte, key, value), or nil when there is none: for
    /// callers that copy a field into bytes they are building (the change log's `documentKey`)
    /// without decoding and re-encoding its value.
    public func elementBytes(_ key: String) -> ArraySlice<UInt8>? {
        guard let element = findElement(key) else { return nil }
        return base[(start + element.start)..<(start + element.valueEnd)]
    }

    /// Whether the first field is named `key` and no later field is (a key scan: no value is
    /// decoded). Lets an insert keep a document whose `_id` already leads as it is.
    public func hasLeadingUniqueField(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { keyBytes in
            withReader { reader in
                guard let base = reader.buffer.baseAddress else { return false }
                let keyBytes = UnsafeRawBufferPointer(keyBytes)
                var position = 4
                var first = true
                while let element = reader.element(at: position) {
                    let same =
                        element.keyEnd - element.keyStart == keyBytes.count
                        && bytesEqual(
                            UnsafeRawBufferPointer(start: base + element.keyStart, count: keyBytes.count), keyBytes)
                    if same != first { return false }
                    first = false
                    position = element.valueEnd
                }
                return !first
            }
        }
    }

    /// The value of the first field named `key`, or nil. Setting replaces that field's value in
    /// place (or appends a new field); setting nil removes it.
    public subscript(key: String) -> BSONValue? {
        get {
            guard let element = findElement(key) else { return nil }
            return withReader { $0.value(type: element.type, at: element.valueStart) }
        }
        set {
            if let newValue { set(key, newValue) } else { remove(key) }
        }
    }

    /// Whether a field named `key` exists.
    public func contains(_ key: String) -> Bool { findElement(key) != nil }

    /// The type of the first field named `key`, without decoding its value.
    public func type(of key: String) -> BSONType? {
        findElement(key).flatMap { BSONType(rawValue: $0.type) }
    }

    /// The number of fields (a scan of the bytes).
    public var count: Int {
        withReader { reader in
            var count = 0
            var position = 4
            while let element = reader.element(at: position) {
                count += 1
                position = element.valueEnd
            }
            return count
        }
    }

    public var isEmpty: Bool { byteCount == BSONFormat.minDocumentSize }

    /// The keys, in order (values are skipped, not decoded).
    public var keys: [String] {
        withReader { reader in
            var keys: [String] = []
            var position = 4
            while let element = reader.element(at: position) {
                keys.append(reader.key(of: element))
                position = element.valueEnd
            }
            return keys
        }
    }

    /// The first key, or nil for the empty document (nothing else is read).
    public var firstKey: String? {
        withReader { reader in reader.element(at: 4).map { reader.key(of: $0) } }
    }

    /// The values, in order.
    public var values: [BSONValue] { map(\.value) }
}

/// Whether two buffers hold the same bytes.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let x = a.baseAddress, let y = b.baseAddress else { return true }
    return memcmp(x, y, a.count) == 0
}

extension BSONValue {
    /// The same value with any embedded documents re-encoded canonically.
    func canonicalized() -> BSONValue {
        switch self {
        case .document(let document): .document(Document(document.map { ($0.key, $0.value.canonicalized()) }))
        case .array(let values): .array(values.map { $0.canonicalized() })
        case .javascriptWithScope(let code, let scope):
            .javascriptWithScope(
                code: code, scope: Document(scope.map { ($0.key, $0.value.canonicalized()) }))
        default: self
        }
    }
}
