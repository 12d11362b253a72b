import NIOCore
import OsmanthusBSON

/// Writes a BSON document field by field straight into a `ByteBuffer`, for replies whose shape
/// is fixed (a cursor batch, a write acknowledgement): no intermediate `Document` is built and
/// copied. The bytes are the ones `Document.append` would produce for the same fields in the
/// same order (BSON spec: int32 length, elements `type key\0 value`, 0x00 terminator).
///
/// A document is opened with `begin`, which returns where its length goes, and closed with
/// `end(start)`, which writes the terminator and patches the length; nested documents and
/// arrays are opened with `beginDocument(key)` / `beginArray(key)` the same way.
public enum BSONBufferWriter {
    /// Opens a document at the writer index; returns its start for `end`.
    @inline(__always)
    public static func begin(_ buffer: inout ByteBuffer) -> Int {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .little)
        return start
    }

    /// Closes the document opened at `start`.
    @inline(__always)
    public static func end(_ buffer: inout ByteBuffer, _ start: Int) {
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(truncatingIfNeeded: buffer.writerIndex - start), at: start, endianness: .little)
    }

    @inline(__always)
    static func key(_ buffer: inout ByteBuffer, _ type: BSONType, _ key: String) {
        buffer.writeInteger(type.rawValue)
        buffer.writeString(key)
        buffer.writeInteger(UInt8(0))
    }

    /// An array element's key: the index in decimal.
    @inline(__always)
    static func indexKey(_ buffer: inout ByteBuffer, _ type: BSONType, _ index: Int) {
        buffer.writeInteger(type.rawValue)
        if index < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(index))
        } else {
            buffer.writeString(String(index))
        }
        buffer.writeInteger(UInt8(0))
    }

    public static func int32(_ buffer: inout ByteBuffer, _ name: String, _ value: Int32) {
        key(&buffer, .int32, name)
        buffer.writeInteger(value, endianness: .little)
    }

    public static func int64(_ buffer: inout ByteBuffer, _ name: String, _ value: Int64) {
        key(&buffer, .int64, name)
        buffer.writeInteger(value, endianness: .little)
    }

    public static func double(_ buffer: inout ByteBuffer, _ name: String, _ value: Double) {
        key(&buffer, .double, name)
        buffer.writeInteger(value.bitPattern, endianness: .little)
    }

    public static func string(_ buffer: inout ByteBuffer, _ name: String, _ value: String) {
        key(&buffer, .string, name)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0), endianness: .little)
        let written = buffer.writeString(value)
        buffer.writeInteger(UInt8(0))
        buffer.setInteger(Int32(truncatingIfNeeded: written + 1), at: lengthIndex, endianness: .little)
    }

    /// A whole document as a field's value (its bytes copied as they are).
    public static func document(_ buffer: inout ByteBuffer, _ name: String, _ value: Document) {
        key(&buffer, .document, name)
        buffer.writeBSONDocument(value)
    }

    /// The `index`th element of an array opened with `beginArray`: a document.
    public static func element(_ buffer: inout ByteBuffer, _ index: Int, _ value: Document) {
        indexKey(&buffer, .document, index)
        buffer.writeBSONDocument(value)
    }

    /// Opens an embedded document field; close it with `end`.
    public static func beginDocument(_ buffer: inout ByteBuffer, _ name: String) -> Int {
        key(&buffer, .document, name)
        return begin(&buffer)
    }

    /// Opens an array field; add elements with `element`, close it with `end`.
    public static func beginArray(_ buffer: inout ByteBuffer, _ name: String) -> Int {
        key(&buffer, .array, name)
        return begin(&buffer)
    }
}
