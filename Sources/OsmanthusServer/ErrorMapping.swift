import NIOPosix
import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// The one place errors become MongoDB replies: `{ok: 0, errmsg, code, codeName}` plus the
/// error's own fields (DuplicateKey's keyPattern and keyValue).
enum ErrorMapping {
    /// The document layer's error for any error a command may throw.
    static func osmanthusError(for error: any Error) -> OsmanthusError {
        switch error {
        case let error as OsmanthusError:
            return error
        case let error as LabeledError:
            return error.error
        case let error as BSONError where error.code == .limitExceeded:
            return OsmanthusError(.bsonObjectTooLarge, error.message, cause: error)
        case let error as WireError:
            return OsmanthusError(.failedToParse, error.message, cause: error)
        case is NIOThreadPoolError.ThreadPoolInactive:
            return OsmanthusError(shutdownInProgress, "the server is shutting down")
        default:
            return OsmanthusError.wrapping(error)
        }
    }

    static let shutdownInProgress = OsmanthusError.Code(91, "ShutdownInProgress")

    /// A whole command's failure reply.
    static func reply(for error: any Error) -> Document {
        let error = osmanthusError(for: error)
        var reply: Document = [
            "ok": 0.0,
            "errmsg": .string(error.message),
            "code": .int32(error.code.value),
            "codeName": .string(error.code.name),
        ]
        if let info = error.info { merge(info, into: &reply) }
        return reply
    }

    /// One entry of a write command's `writeErrors`.
    static func writeError(index: Int, for error: any Error) -> Document {
        let error = osmanthusError(for: error)
        var entry: Document = [
            "index": .int32(Int32(clamping: index)),
            "code": .int32(error.code.value),
            "codeName": .string(error.code.name),
            "errmsg": .string(error.message),
        ]
        if let info = error.info { merge(info, into: &entry) }
        return entry
    }

    /// The error's info fields, without overwriting the standard ones.
    private static func merge(_ info: Document, into reply: inout Document) {
        for (key, value) in info where !reply.contains(key) {
            reply.append(key, value)
        }
    }
}
