import NIOCore
import OsmanthusBSON

/// Writes a BSON document field by field into memory the caller sized beforehand, for replies
/// whose shape is fixed (a cursor batch, a write acknowledgement): no intermediate `Document`
/// is built and copied, and the bytes go in through one raw pointer (a `ByteBuffer` write per
/// field would cost a capacity check and an exclusivity check each). The bytes are the ones
/// `Document.append` would produce for the same fields in the same order (BSON spec: int32
/// length, elements `type key\0 value`, 0x00 terminator).
///
/// The caller computes the size first with the `…Size` functions; every write is
/// bounds-checked against the room given (a wrong size is a programmer error: it traps).
/// A document is opened with `begin`, which returns where its length goes, and closed with
/// `end(start)`, which writes the terminator and patches the length.
public struct BSONBufferWriter {
    private let memory: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    public private(set) var offset: Int

    public init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
        offset = 0
    }

    // MARK: Sizes

    /// The size of an element: type byte, key, NUL, and a value of `valueSize` bytes. Keys are
    /// static strings: the fixed replies name their fields with literals, whose bytes are
    /// copied from where they are, with no `String` to take apart per field.
    @inline(__always)
    public static func elementSize(_ key: StaticString, valueSize: Int) -> Int { key.utf8CodeUnitCount + 2 + valueSize }

    /// The size of the `index`th array element whose value takes `valueSize` bytes.
    @inline(__always)
    public static func elementSize(index: Int, valueSize: Int) -> Int { ArrayKey.digitCount(index) + 2 + valueSize }

    /// The size of a string value (int32 length, bytes, NUL).
    @inline(__always)
    public static func stringSize(_ value: String) -> Int { 4 + value.utf8.count + 1 }

    /// A document's header and terminator.
    public static let documentOverhead = 5

    // MARK: Raw writes

    @inline(__always)
    mutating func reserve(_ count: Int) -> Int {
        precondition(offset + count <= memory.count, "BSONBufferWriter: write past the sized room")
        defer { offset += count }
        return offset
    }

    @inline(__always)
    public mutating func writeByte(_ byte: UInt8) {
        memory[reserve(1)] = byte
    }

    @inline(__always)
    public mutating func writeInt32(_ value: Int32) {
        memory.storeBytes(of: value.littleEndian, toByteOffset: reserve(4), as: Int32.self)
    }

    @inline(__always)
    public mutating func writeInt64(_ value: Int64) {
        memory.storeBytes(of: value.littleEndian, toByteOffset: reserve(8), as: Int64.self)
    }

    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0, let target = memory.baseAddress else { return }
        (target + reserve(bytes.count)).copyMemory(from: source, byteCount: bytes.count)
    }

    /// The bytes of `string` without a terminator.
    mutating func writeUTF8(_ string: String) {
        var string = string
        string.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Patches an int32 written earlier at `position`.
    @inline(__always)
    mutating func setInt32(_ value: Int32, at position: Int) {
        precondition(position + 4 <= offset, "BSONBufferWriter: patch outside the written bytes")
        memory.storeBytes(of: value.littleEndian, toByteOffset: position, as: Int32.self)
    }

    // MARK: BSON

    /// Opens a document; returns its start for `end`.
    public mutating func begin() -> Int {
        let start = offset
        writeInt32(0)
        return start
    }

    /// Closes the document opened at `start`.
    public mutating func end(_ start: Int) {
        writeByte(0)
        setInt32(Int32(truncatingIfNeeded: offset - start), at: start)
    }

    /// An element's type byte, key and NUL: one room check, the key's few bytes copied in a loop
    /// (a `memcpy` call costs more than the copy for keys this short).
    mutating func key(_ type: BSONType, _ name: StaticString) {
        name.withUTF8Buffer { bytes in
            let at = reserve(bytes.count + 2)
            memory[at] = type.rawValue
            var index = 0
            while index < bytes.count {
                memory[at + 1 + index] = bytes[index]
                index += 1
            }
            memory[at + 1 + bytes.count] = 0
        }
    }

    /// An array element's key: the index in decimal.
    mutating func indexKey(_ type: BSONType, _ index: Int) {
        writeByte(type.rawValue)
        let digits = ArrayKey.digitCount(index)
        let start = reserve(digits)
        var rest = index
        for position in stride(from: start + digits - 1, through: start, by: -1) {
            memory[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        writeByte(0)
    }

    public mutating func int32(_ name: StaticString, _ value: Int32) {
        key(.int32, name)
        writeInt32(value)
    }

    public mutating func int64(_ name: StaticString, _ value: Int64) {
        key(.int64, name)
        writeInt64(value)
    }

    public mutating func double(_ name: StaticString, _ value: Double) {
        key(.double, name)
        writeInt64(Int64(bitPattern: value.bitPattern))
    }

    public mutating func string(_ name: StaticString, _ value: String) {
        key(.string, name)
        writeInt32(Int32(truncatingIfNeeded: value.utf8.count + 1))
        writeUTF8(value)
        writeByte(0)
    }

    /// A whole document, its bytes copied as they are (a top-level body or a field's value).
    public mutating func document(_ value: Document) {
        value.withUnsafeBytes { writeBytes($0) }
    }

    /// The `index`th element of an array opened with `beginArray`: a document.
    public mutating func element(_ index: Int, _ value: Document) {
        indexKey(.document, index)
        document(value)
    }

    /// Opens an embedded document field; close it with `end`.
    public mutating func beginDocument(_ name: StaticString) -> Int {
        key(.document, name)
        return begin()
    }

    /// Opens an array field; add elements with `element`, close it with `end`.
    public mutating func beginArray(_ name: StaticString) -> Int {
        key(.array, name)
        return begin()
    }
}
