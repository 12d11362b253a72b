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
/// (`doc["a"]`, iteration) walk them without copying, and an embedded document is a slice of
/// its parent's bytes. Mutations edit the bytes in place: `append` writes at the end, `set` and
/// `remove` splice one element. So `bytes` is always ready, and `==` is byte equality.
///
/// Lookups by key scan the fields in order (documents are small; no index is kept).
/// Duplicate keys are kept as they come (the BSON corpus has such documents); lookups, `set`
/// and `remove` act on the first.
public struct Document: Sendable {
    /// A complete, valid, canonical BSON document.
    var storage: ArraySlice<UInt8>

    /// The empty document.
    public init() {
        storage = ArraySlice(BSONFormat.emptyDocument)
    }

    /// Bytes the caller knows are valid and canonical (from the validator, or a slice of a
    /// validated document).
    init(validated storage: ArraySlice<UInt8>) {
        self.storage = storage
    }

    /// Decodes and validates BSON bytes. Throws `BSONError` (`.invalidDocument`, `.invalidUTF8`,
    /// `.limitExceeded`) naming the offset of the first problem. Bytes that are valid but not
    /// canonical (array keys out of sequence, regex options unsorted) are re-encoded.
    public init(bytes: [UInt8]) throws {
        try self.init(bytes: bytes[...])
    }

    public init(bytes: ArraySlice<UInt8>) throws {
        let canonical = try bytes.withUnsafeBytes { buffer in
            var validator = BSONValidator(buffer)
            try validator.validate()
            return validator.isCanonical
        }
        storage = bytes
        if !canonical { self = canonicalized() }
    }

    /// A document with these fields, in order (duplicates kept).
    public init(_ fields: some Sequence<(String, BSONValue)>) {
        self.init()
        for (key, value) in fields { append(key, value) }
    }

    /// The canonical BSON bytes (zero-copy when the document owns its whole buffer).
    public var bytes: [UInt8] { Array(storage) }

    /// The size of the encoded document in bytes.
    public var byteCount: Int { storage.count }

    /// Calls `body` with the encoded bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
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
        guard storage.count <= BSONLimits.maxDocumentSize else {
            throw BSONError(
                .limitExceeded,
                "document of \(storage.count) bytes is over the \(BSONLimits.maxDocumentSize)-byte limit")
        }
        let tooDeep = withReader { $0.exceedsMaxDepth(documentAt: 0, level: 1) }
        guard !tooDeep else {
            throw BSONError(.limitExceeded, "document is nested deeper than \(BSONLimits.maxDepth) levels")
        }
    }

    @inline(__always)
    func withReader<R>(_ body: (BSONReader) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(BSONReader(buffer: $0, storage: storage)) }
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
                        bytesEqual(UnsafeRawBufferPointer(start: base + element.keyStart, count: keyBytes.count), keyBytes)
                    {
                        return element
                    }
                    position = element.valueEnd
                }
                return nil
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

    public var isEmpty: Bool { storage.count == BSONFormat.minDocumentSize }

    /// The keys, in order.
    public var keys: [String] { map(\.key) }

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
            .javascriptWithScope(code: code, scope: Document(scope.map { ($0.key, $0.value.canonicalized()) }))
        default: self
        }
    }
}
