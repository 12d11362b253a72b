import Osmanthus
import OsmanthusBSON
import Synchronization

/// MongoDB's `failCommand` fail point, for driver test suites: while set, the named commands
/// fail with a chosen error or have their connection closed, a number of times or until turned
/// off. Only reachable when the server runs with test commands enabled
/// (`osmanthus serve --enable-test-commands`); see `configureFailPoint` in Admin.swift.
final class FailPoints: Sendable {
    /// What a command hit by the fail point gets instead of running (or, for
    /// `afterRunning`, after it ran: MongoDB's `writeConcernError` option, which lets a test
    /// see a driver retry a write that was in fact applied).
    enum Action: Equatable {
        case reply(Document)
        case closeConnection
        case afterRunning(Document)
    }

    struct FailCommand {
        var commands: Set<String>
        /// Remaining triggers; nil: until turned off.
        var remaining: Int?
        var errorCode: Int32?
        var closeConnection: Bool
        var errorLabels: [BSONValue]
        var writeConcernError: Document?
    }

    /// The one fail point there is; nil when off.
    private let failCommand = Mutex<FailCommand?>(nil)

    /// Sets or clears `failCommand` from a `configureFailPoint` command document.
    func configure(_ body: Document) throws {
        guard case .string(let name) = body["configureFailPoint"] ?? .null, name == "failCommand" else {
            throw OsmanthusError(.notImplemented, "only the failCommand fail point is supported")
        }
        let remaining: Int?
        switch body["mode"] {
        case .string("off")?:
            failCommand.withLock { $0 = nil }
            return
        case .string("alwaysOn")?:
            remaining = nil
        case .document(let mode)?:
            guard mode.count == 1, let times = mode["times"]?.exactInt64, times >= 0 else {
                throw OsmanthusError(.notImplemented, "fail point mode \(mode) is not supported (only times, alwaysOn, off)")
            }
            remaining = Int(clamping: times)
        default:
            throw OsmanthusError(.failedToParse, "fail point mode must be \"off\", \"alwaysOn\" or {times: n}")
        }
        let data = try body.commandDocument("data", in: "configureFailPoint") ?? Document()
        let known: Set<String> = ["failCommands", "errorCode", "closeConnection", "errorLabels", "writeConcernError"]
        if let unknown = data.keys.first(where: { !known.contains($0) }) {
            throw OsmanthusError(.notImplemented, "failCommand option '\(unknown)' is not supported")
        }
        let names = try (data.commandArray("failCommands", in: "configureFailPoint.data") ?? []).map { value in
            guard case .string(let name) = value else {
                throw OsmanthusError(.typeMismatch, "failCommands holds a \(value.type.name), expected string")
            }
            return name
        }
        let point = FailCommand(
            commands: Set(names), remaining: remaining,
            errorCode: try data.commandInt("errorCode", in: "configureFailPoint.data").map { Int32(clamping: $0) },
            closeConnection: try data.commandBool("closeConnection", in: "configureFailPoint.data") ?? false,
            errorLabels: try data.commandArray("errorLabels", in: "configureFailPoint.data") ?? [],
            writeConcernError: try data.commandDocument("writeConcernError", in: "configureFailPoint.data"))
        failCommand.withLock { $0 = point.remaining == 0 ? nil : point }
    }

    /// What to do instead of running `command`, consuming one trigger; nil: run it.
    func action(for command: String) -> Action? {
        failCommand.withLock { state -> Action? in
            guard var point = state, point.commands.contains(command) else { return nil }
            if let remaining = point.remaining {
                point.remaining = remaining - 1
                state = remaining > 1 ? point : nil
            }
            if point.closeConnection { return .closeConnection }
            if let writeConcernError = point.writeConcernError {
                var extra: Document = ["writeConcernError": .document(writeConcernError)]
                if !point.errorLabels.isEmpty { extra.append("errorLabels", .array(point.errorLabels)) }
                return .afterRunning(extra)
            }
            let code = point.errorCode ?? OsmanthusError.Code.internalError.value
            var reply: Document = [
                "ok": 0.0,
                "errmsg": "Failing command via 'failCommand' failpoint",
                "code": .int32(code),
            ]
            if !point.errorLabels.isEmpty { reply.append("errorLabels", .array(point.errorLabels)) }
            return .reply(reply)
        }
    }
}
