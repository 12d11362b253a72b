import NIOCore
import Osmanthus
import OsmanthusBSON

/// `currentOp` (the commands running now, one `inprog` entry each) and `killOp` (asks one to
/// stop: it fails with Interrupted at its next check, see `RunningOperation`).
enum OperationCommands {
    static let all: [Command] = [
        Command(name: "currentOp", adminOnly: true, help: "the operations in progress", run: currentOp),
        Command(name: "killOp", adminOnly: true, help: "interrupts an operation by opid", run: killOp),
    ]

    /// Fields of the command that are options or driver fields, not part of the filter.
    static let optionFields: Set<String> = [
        "currentOp", "$ownOps", "$all", "comment", "lsid", "$db", "$clusterTime", "$readPreference", "apiVersion",
        "apiStrict", "apiDeprecationErrors", "$client",
    ]

    static func currentOp(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        var spec = Document()
        for (key, value) in request.body where !optionFields.contains(key) { spec.append(key, value) }
        let filter = try Filter(spec)
        let ownOnly = try request.body.commandBool("$ownOps", in: "currentOp") ?? false
        let now = NIODeadline.now()
        let host = context.server.advertisedAddress
        var entries: [BSONValue] = []
        for operation in context.server.operations.all {
            if ownOnly, operation.connectionID != context.connection.id { continue }
            let entry = operation.document(now: now, host: host)
            if filter.matches(entry) { entries.append(.document(entry)) }
        }
        return ["inprog": .array(entries)]
    }

    static func killOp(_ request: CommandRequest, _ context: CommandContext) throws -> Document {
        guard let value = request.body["op"] else {
            throw OsmanthusError(.failedToParse, "BSON field 'killOp.op' is missing but a required field")
        }
        guard value.isNumber, let id = value.exactInt64 else {
            throw OsmanthusError(.typeMismatch, "BSON field 'killOp.op' is the wrong type '\(value.type.name)', expected a number")
        }
        // MongoDB answers the same whether or not the operation was still running.
        _ = context.server.operations.kill(id: id)
        return ["info": "attempting to kill op"]
    }
}
