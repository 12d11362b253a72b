import NIOCore
import OsmanthusBSON

/// Reading and writing BSON documents and C strings inside wire messages.
extension ByteBuffer {
    /// Reads one BSON document (validated). Throws `.malformed` when its length prefix is below
    /// the 5-byte minimum, runs past the readable bytes, or the bytes are not valid BSON.
    mutating func readBSONDocument(context: @autoclosure () -> String) throws -> Document {
        guard let length = getInteger(at: readerIndex, endianness: .little, as: Int32.self) else {
            throw WireError(.malformed, "\(context()): truncated document length")
        }
        guard length >= 5, Int(length) <= readableBytes else {
            throw WireError(
                .malformed, "\(context()): document length \(length) with \(readableBytes) bytes left")
        }
        guard Int(length) <= WireFormat.maxBsonObjectSize + 16 * 1024 else {
            throw WireError(.malformed, "\(context()): document of \(length) bytes is over the limit")
        }
        guard let bytes = readBytes(length: Int(length)) else {
            throw WireError(.malformed, "\(context()): truncated document")
        }
        do {
            return try Document(bytes: bytes)
        } catch {
            throw WireError(.malformed, "\(context()): \(error)")
        }
    }

    mutating func writeBSONDocument(_ document: Document) {
        document.withUnsafeBytes { _ = writeBytes($0) }
    }

    /// Reads a NUL-terminated UTF-8 string. Throws `.malformed` when there is no NUL or the
    /// bytes are not UTF-8.
    mutating func readCString(context: @autoclosure () -> String) throws -> String {
        guard let nul = readableBytesView.firstIndex(of: 0) else {
            throw WireError(.malformed, "\(context()): unterminated string")
        }
        let length = nul - readableBytesView.startIndex
        guard let bytes = readBytes(length: length), let string = String(validating: bytes, as: UTF8.self) else {
            throw WireError(.malformed, "\(context()): string is not UTF-8")
        }
        moveReaderIndex(forwardBy: 1)
        return string
    }

    mutating func writeCString(_ string: String) {
        _ = writeNullTerminatedString(string)
    }

    mutating func readInt32(context: @autoclosure () -> String) throws -> Int32 {
        guard let value = readInteger(endianness: .little, as: Int32.self) else {
            throw WireError(.malformed, "\(context()): truncated")
        }
        return value
    }
}
