import CCRC32C
import NIOCore
import OsmanthusBSON

/// OP_MSG (opCode 2013), the message of every modern command and reply (SPEC.md §13):
///
/// ```
/// uint32 flagBits
/// section+          kind 0: byte 0 ‖ document              (exactly one: the command body)
///                   kind 1: byte 1 ‖ int32 size ‖ cstring identifier ‖ document*
///                           (size counts itself, the identifier and the documents)
/// uint32 checksum   optional: CRC-32C of every preceding byte of the message, header included
/// ```
public struct OpMsg: Sendable, Hashable {
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The message ends with a CRC-32C.
        public static let checksumPresent = Flags(rawValue: 1 << 0)
        /// The sender will not wait for a reply (request) / another reply follows (reply).
        public static let moreToCome = Flags(rawValue: 1 << 1)
        /// The client accepts replies with moreToCome (exhaust cursors, streaming hello).
        public static let exhaustAllowed = Flags(rawValue: 1 << 16)

        /// Bits 0–15 must be understood: a message with an unknown one is rejected.
        static let requiredMask: UInt32 = 0xFFFF
        static let known: Flags = [.checksumPresent, .moreToCome, .exhaustAllowed]
    }

    /// A kind-1 section: documents sent outside the body, e.g. an insert's `documents`.
    public struct DocumentSequence: Sendable, Hashable {
        public var identifier: String
        public var documents: [Document]
        public init(identifier: String, documents: [Document]) {
            self.identifier = identifier
            self.documents = documents
        }
    }

    public var flags: Flags
    public var body: Document
    public var sequences: [DocumentSequence]

    public init(flags: Flags = [], body: Document, sequences: [DocumentSequence] = []) {
        self.flags = flags
        self.body = body
        self.sequences = sequences
    }

    /// The command as the server runs it: the body with each document sequence added as an
    /// array field named by its identifier. Throws `.malformed` if the body already has that field.
    public func command() throws -> Document {
        guard !sequences.isEmpty else { return body }
        var command = body
        for sequence in sequences {
            guard !command.contains(sequence.identifier) else {
                throw WireError(.malformed, "OP_MSG: field '\(sequence.identifier)' is both in the body and a sequence")
            }
            command.append(sequence.identifier, .array(sequence.documents.map { .document($0) }))
        }
        return command
    }

    /// Parses the bytes after the header. With `checksumPresent` the last four bytes are the
    /// checksum, skipped here: `WireMessage` verifies it, since it covers the header too.
    public init(parsing buffer: inout ByteBuffer) throws {
        guard let rawFlags = buffer.readInteger(endianness: .little, as: UInt32.self) else {
            throw WireError(.malformed, "OP_MSG: missing flagBits")
        }
        let flags = Flags(rawValue: rawFlags)
        let unknownRequired = rawFlags & Flags.requiredMask & ~Flags.known.rawValue
        guard unknownRequired == 0 else {
            throw WireError(.malformed, "OP_MSG: unknown required flag bits 0x\(String(unknownRequired, radix: 16))")
        }
        var sections = buffer
        if flags.contains(.checksumPresent) {
            guard buffer.readableBytes >= 4, let trimmed = buffer.readSlice(length: buffer.readableBytes - 4) else {
                throw WireError(.malformed, "OP_MSG: too short for its checksum")
            }
            sections = trimmed
            buffer.moveReaderIndex(forwardBy: 4)
        } else {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        }

        var body: Document?
        var sequences: [DocumentSequence] = []
        guard sections.readableBytes > 0 else { throw WireError(.malformed, "OP_MSG: no sections") }
        while let kind = sections.readInteger(as: UInt8.self) {
            switch kind {
            case WireFormat.sectionKindBody:
                guard body == nil else { throw WireError(.malformed, "OP_MSG: more than one body section") }
                body = try sections.readBSONDocument(context: "OP_MSG body")
            case WireFormat.sectionKindDocumentSequence:
                sequences.append(try Self.readSequence(from: &sections))
            default:
                throw WireError(.malformed, "OP_MSG: unknown section kind \(kind)")
            }
        }
        guard let body else { throw WireError(.malformed, "OP_MSG: no body section") }
        self.init(flags: flags, body: body, sequences: sequences)
    }

    private static func readSequence(from buffer: inout ByteBuffer) throws -> DocumentSequence {
        let size = try buffer.readInt32(context: "OP_MSG document sequence size")
        // size counts its own four bytes and at least the identifier's NUL.
        guard size >= 5, Int(size) - 4 <= buffer.readableBytes,
            var section = buffer.readSlice(length: Int(size) - 4)
        else {
            throw WireError(.malformed, "OP_MSG: document sequence size \(size) with \(buffer.readableBytes + 4) bytes left")
        }
        let identifier = try section.readCString(context: "OP_MSG document sequence identifier")
        var documents: [Document] = []
        while section.readableBytes > 0 {
            documents.append(try section.readBSONDocument(context: "OP_MSG sequence '\(identifier)'"))
        }
        return DocumentSequence(identifier: identifier, documents: documents)
    }

    /// Writes flags and sections (not the checksum: `WireMessage` appends it).
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(flags.rawValue, endianness: .little)
        buffer.writeInteger(WireFormat.sectionKindBody)
        buffer.writeBSONDocument(body)
        for sequence in sequences {
            buffer.writeInteger(WireFormat.sectionKindDocumentSequence)
            let sizeIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0), endianness: .little)
            buffer.writeCString(sequence.identifier)
            for document in sequence.documents { buffer.writeBSONDocument(document) }
            let size = Int32(truncatingIfNeeded: buffer.writerIndex - sizeIndex)
            buffer.setInteger(size, at: sizeIndex, endianness: .little)
        }
    }

    /// The CRC-32C of `bytes` (a whole message up to, not including, its checksum).
    public static func checksum(of bytes: ByteBufferView) -> UInt32 {
        bytes.withContiguousStorageIfAvailable { osm_crc32c_extend(0, $0.baseAddress, $0.count) }
            ?? Array(bytes).withUnsafeBytes { osm_crc32c_extend(0, $0.baseAddress, $0.count) }
    }
}

extension OpMsg {
    /// Writes a whole reply message — header, flagBits 0, one body section — whose body
    /// document of `bodySize` bytes `writeBody` writes through a `BSONBufferWriter`, in one
    /// write into `buffer`. The bytes are those of `WireMessage(requestID:responseTo:body:
    /// .msg(OpMsg(body: document)))` for the same document, without building it. Throws
    /// `.invalidLength` (writing nothing) for a message over the size limit, as
    /// `WireMessage.write` does.
    public static func writeReply(
        requestID: Int32, responseTo: Int32, bodySize: Int, to buffer: inout ByteBuffer,
        body writeBody: (inout BSONBufferWriter) -> Void
    ) throws {
        let length = WireFormat.headerSize + 4 + 1 + bodySize
        guard length <= WireFormat.maxMessageSizeBytes else {
            throw WireError(.invalidLength, "message of \(length) bytes is over the \(WireFormat.maxMessageSizeBytes)-byte limit")
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { memory in
            var writer = BSONBufferWriter(UnsafeMutableRawBufferPointer(rebasing: memory[0..<length]))
            writer.writeInt32(Int32(length))
            writer.writeInt32(requestID)
            writer.writeInt32(responseTo)
            writer.writeInt32(OpCode.msg.rawValue)
            writer.writeInt32(0)  // flagBits
            writer.writeByte(WireFormat.sectionKindBody)
            writeBody(&writer)
            precondition(writer.offset == length, "OP_MSG reply body of \(writer.offset - length + bodySize) bytes, sized \(bodySize)")
            return length
        }
    }
}
