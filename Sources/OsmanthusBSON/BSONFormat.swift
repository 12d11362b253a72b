/// The BSON format: element type bytes, binary subtypes and limits (SPEC.md §10).
///
/// These constants are the format (bsonspec.org, version 1.1): changing one changes every stored
/// document. Each type byte is the first byte of an element: `type ‖ key cstring ‖ value`.
enum BSONFormat {
    static let double: UInt8 = 0x01
    static let string: UInt8 = 0x02
    static let document: UInt8 = 0x03
    static let array: UInt8 = 0x04
    static let binary: UInt8 = 0x05
    static let undefined: UInt8 = 0x06  // deprecated
    static let objectId: UInt8 = 0x07
    static let bool: UInt8 = 0x08
    static let datetime: UInt8 = 0x09
    static let null: UInt8 = 0x0A
    static let regex: UInt8 = 0x0B
    static let dbPointer: UInt8 = 0x0C  // deprecated
    static let javascript: UInt8 = 0x0D
    static let symbol: UInt8 = 0x0E  // deprecated
    static let javascriptWithScope: UInt8 = 0x0F
    static let int32: UInt8 = 0x10
    static let timestamp: UInt8 = 0x11
    static let int64: UInt8 = 0x12
    static let decimal128: UInt8 = 0x13
    static let minKey: UInt8 = 0xFF
    static let maxKey: UInt8 = 0x7F

    /// Binary subtype 0x02 ("old binary") wraps its bytes in a second int32 length.
    static let binaryOldSubtype: UInt8 = 0x02

    /// Smallest document: int32 length 5 and the terminating 0x00.
    static let emptyDocument: [UInt8] = [5, 0, 0, 0, 0]
    static let minDocumentSize = 5
    /// Code-with-scope: int32 total ‖ string (≥ 5 bytes) ‖ document (≥ 5 bytes).
    static let minCodeWithScopeSize = 14
}

/// The limits every document is held to, both when decoded and when encoded.
public enum BSONLimits {
    /// The largest document, in bytes: 16 MiB, as MongoDB.
    public static let maxDocumentSize = 16 * 1024 * 1024
    /// The deepest nesting: the top-level document is level 1, each embedded document, array
    /// or code-with-scope scope adds one. MongoDB allows 100 levels.
    public static let maxDepth = 100
}
