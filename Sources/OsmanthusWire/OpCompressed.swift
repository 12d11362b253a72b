import CZstd
import NIOCore

/// OP_COMPRESSED (opCode 2012): another message's bytes after its header, compressed
/// (SPEC.md §13):
///
/// ```
/// int32 originalOpcode
/// int32 uncompressedSize    the original message's size less its 16-byte header
/// uint8 compressorId        0 noop, 1 snappy, 2 zlib, 3 zstd
/// bytes compressedMessage   to the end of the message
/// ```
/// noop and zstd are built in; the others are refused (and never offered in `hello`).
public struct OpCompressed: Sendable, Hashable {
    public var originalOpCode: OpCode
    public var uncompressedSize: Int32
    public var compressor: Compressor
    public var compressedMessage: ByteBuffer

    public init(originalOpCode: OpCode, uncompressedSize: Int32, compressor: Compressor, compressedMessage: ByteBuffer) {
        self.originalOpCode = originalOpCode
        self.uncompressedSize = uncompressedSize
        self.compressor = compressor
        self.compressedMessage = compressedMessage
    }

    /// Compresses `payload` (a message without its header) with `compressor`.
    public init(compressing payload: ByteBuffer, originalOpCode: OpCode, compressor: Compressor) throws {
        let compressed: ByteBuffer
        switch compressor {
        case .noop:
            compressed = payload
        case .zstd:
            compressed = try Self.zstdCompress(payload)
        case .snappy, .zlib:
            throw WireError(.unsupportedCompressor, "OP_COMPRESSED: \(compressor.name) is not built in")
        }
        self.init(
            originalOpCode: originalOpCode, uncompressedSize: Int32(payload.readableBytes), compressor: compressor,
            compressedMessage: compressed)
    }

    /// Parses the bytes after the header.
    public init(parsing buffer: inout ByteBuffer) throws {
        let opCode = try buffer.readInt32(context: "OP_COMPRESSED originalOpcode")
        let size = try buffer.readInt32(context: "OP_COMPRESSED uncompressedSize")
        guard let id = buffer.readInteger(as: UInt8.self) else {
            throw WireError(.malformed, "OP_COMPRESSED compressorId: truncated")
        }
        guard let compressor = Compressor(rawValue: id), compressor.isSupported else {
            throw WireError(.unsupportedCompressor, "OP_COMPRESSED: compressor id \(id) is not supported")
        }
        guard size >= 0, Int(size) <= WireFormat.maxMessageSizeBytes - WireFormat.headerSize else {
            throw WireError(.invalidLength, "OP_COMPRESSED: uncompressedSize \(size)")
        }
        let rest = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
        self.init(
            originalOpCode: OpCode(rawValue: opCode), uncompressedSize: size, compressor: compressor,
            compressedMessage: rest)
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(originalOpCode.rawValue, endianness: .little)
        buffer.writeInteger(uncompressedSize, endianness: .little)
        buffer.writeInteger(compressor.rawValue)
        buffer.writeImmutableBuffer(compressedMessage)
    }

    /// The original message's bytes after its header; exactly `uncompressedSize` of them.
    public func decompressed() throws -> ByteBuffer {
        let result: ByteBuffer
        switch compressor {
        case .noop:
            result = compressedMessage
        case .zstd:
            result = try Self.zstdDecompress(compressedMessage, size: Int(uncompressedSize))
        case .snappy, .zlib:
            throw WireError(.unsupportedCompressor, "OP_COMPRESSED: \(compressor.name) is not built in")
        }
        guard result.readableBytes == Int(uncompressedSize) else {
            throw WireError(
                .malformed, "OP_COMPRESSED: \(result.readableBytes) bytes after decompression, header says \(uncompressedSize)")
        }
        return result
    }

    /// zstd's default level 3 (fast; the payloads are small).
    private static let zstdLevel: Int32 = 3

    private static func zstdCompress(_ payload: ByteBuffer) throws -> ByteBuffer {
        let source = Array(payload.readableBytesView)
        let bound = ZSTD_compressBound(source.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = source.withUnsafeBytes { src in
            output.withUnsafeMutableBytes { dst in
                ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, zstdLevel)
            }
        }
        guard ZSTD_isError(written) == 0 else {
            throw WireError(.malformed, "OP_COMPRESSED: zstd compression failed")
        }
        return ByteBuffer(bytes: output[0..<written])
    }

    private static func zstdDecompress(_ compressed: ByteBuffer, size: Int) throws -> ByteBuffer {
        let source = Array(compressed.readableBytesView)
        // One spare byte so a frame that decodes to more than `size` is caught, not truncated.
        var output = [UInt8](repeating: 0, count: size + 1)
        let written = source.withUnsafeBytes { src in
            output.withUnsafeMutableBytes { dst in
                ZSTD_decompress(dst.baseAddress, dst.count, src.baseAddress, src.count)
            }
        }
        guard ZSTD_isError(written) == 0 else {
            let reason = ZSTD_getErrorName(written).map { String(cString: $0) } ?? "unknown"
            throw WireError(.malformed, "OP_COMPRESSED: zstd: \(reason)")
        }
        return ByteBuffer(bytes: output[0..<written])
    }
}
