import Osmanthus
import OsmanthusBSON

/// The session rules every command passes through (MongoDB's driver sessions spec, as a
/// single-node server sees them):
///
/// - no `lsid`: the command just runs;
/// - `lsid` + `txnNumber` on a write (insert, update, delete, findAndModify), no `autocommit`:
///   a retryable write, applied once. The reply is recorded in the session; the same
///   (lsid, txnNumber) again gets the recorded reply without running, a lower txnNumber is
///   TransactionTooOld (225);
/// - `autocommit: false`: a statement of the transaction `txnNumber`, which `startTransaction:
///   true` opens. `commitTransaction`/`abortTransaction` end it. Statements see the
///   transaction's snapshot plus its own writes; a statement that fails (a write error
///   included, which fails the whole command) aborts the transaction; a conflicting commit is
///   WriteConflict (112),
///   an unknown or ended transaction NoSuchTransaction (251), both labelled
///   TransientTransactionError so drivers retry the whole transaction.
///
/// The session's lock is held for the whole command (see `ServerSession`).
enum SessionGate {
    static let noSuchTransaction = OsmanthusError.Code(251, "NoSuchTransaction")
    static let transactionTooOld = OsmanthusError.Code(225, "TransactionTooOld")
    static let transactionCommitted = OsmanthusError.Code(256, "TransactionCommitted")
    static let notSupportedInTransaction = OsmanthusError.Code(263, "OperationNotSupportedInTransaction")

    static let retryableWrites: Set<String> = ["insert", "update", "delete", "findAndModify"]
    /// Commands a transaction's statements may be. `count` is not one, as in MongoDB since 4.0.2
    /// (drivers count inside transactions with an aggregation).
    static let transactionCommands: Set<String> = [
        "insert", "update", "delete", "findAndModify", "findandmodify", "find", "getMore", "killCursors",
        "distinct", "aggregate", "commitTransaction", "abortTransaction",
    ]
    static let transientLabel: BSONValue = "TransientTransactionError"

    /// Runs `command` under the session rules.
    static func run(_ command: Command, _ request: CommandRequest, _ context: CommandContext) throws -> CommandReply {
        let fields = request.fields
        let autocommit = try CommandFields.bool(fields.autocommit, "autocommit", in: request.name)
        let startTransaction = try CommandFields.bool(fields.startTransaction, "startTransaction", in: request.name) ?? false
        let txnNumber = try self.txnNumber(fields.txnNumber)
        let found: ServerSession?
        if let cache = context.sessionCache {
            found = try context.server.sessions.session(for: fields.lsid, reusing: cache.session)
            if let found { cache.session = found }
        } else {
            found = try context.server.sessions.session(for: fields.lsid)
        }
        guard let session = found else {
            if autocommit != nil || startTransaction || txnNumber != nil {
                throw OsmanthusError(.invalidOptions, "txnNumber, autocommit and startTransaction need an lsid")
            }
            return try runPlain(command, request, context)
        }
        defer { session.touch() }
        guard let autocommit else {
            if command.endsTransaction {
                throw OsmanthusError(.invalidOptions, "\(request.name) must be run within a transaction (autocommit: false)")
            }
            guard let txnNumber, retryableWrites.contains(request.name) else {
                // Needs nothing of the session's state, so takes no lock: endSessions may end
                // the very session it is sent in.
                return try runPlain(command, request, context)
            }
            return try session.withState { state in
                try retryableWrite(command, request, context, txnNumber: txnNumber, state: &state)
            }
        }
        return try session.withState { state in
            guard !autocommit else {
                throw OsmanthusError(.invalidOptions, "autocommit may only be false")
            }
            guard let txnNumber else {
                throw OsmanthusError(.invalidOptions, "a transaction statement needs a txnNumber")
            }
            do {
                return try transactionStatement(
                    command, request, context, txnNumber: txnNumber, start: startTransaction, state: &state)
            } catch let error as OsmanthusError
                where error.code == .writeConflict || error.code == noSuchTransaction
            {
                throw LabeledError(error: error, labels: [transientLabel])
            }
        }
    }

    private static func runPlain(_ command: Command, _ request: CommandRequest, _ context: CommandContext) throws
        -> CommandReply
    {
        let reply = try command.run(request, context)
        guard case .document(var document) = reply else { return reply }  // the fixed shapes carry ok
        if !document.contains("ok") { document.append("ok", 1.0) }
        return .document(document)
    }

    private static func txnNumber(_ value: BSONValue?) throws -> Int64? {
        guard let value else { return nil }
        guard case .int64(let number) = value, number >= 0 else {
            throw OsmanthusError(.typeMismatch, "txnNumber must be a non-negative long, got \(value.type.name)")
        }
        return number
    }

    private static func retryableWrite(
        _ command: Command, _ request: CommandRequest, _ context: CommandContext, txnNumber: Int64,
        state: inout ServerSession.State
    ) throws -> CommandReply {
        if txnNumber < state.txnNumber {
            throw OsmanthusError(
                transactionTooOld, "txnNumber \(txnNumber) is less than last txnNumber \(state.txnNumber) seen in this session")
        }
        if txnNumber == state.txnNumber {
            if let recorded = state.recordedReply {
                context.server.statistics.count(.retriedWrite)
                return .document(recorded)
            }
            if state.phase != .none {
                throw OsmanthusError(
                    .invalidOptions, "txnNumber \(txnNumber) was used for a transaction; a retryable write needs a new one")
            }
        }
        state.abortOpenTransaction()
        state.txnNumber = txnNumber
        state.phase = .none
        state.recordedReply = nil
        let reply = try runPlain(command, request, context)
        // Only a reply reached here is recorded: a command that threw changed nothing, and a
        // retry runs it afresh.
        state.recordedReply = reply.document
        return reply
    }

    private static func transactionStatement(
        _ command: Command, _ request: CommandRequest, _ context: CommandContext, txnNumber: Int64, start: Bool,
        state: inout ServerSession.State
    ) throws -> CommandReply {
        // Refused before the session's state is touched, as MongoDB does: the command neither
        // starts a transaction (with startTransaction) nor aborts the one in progress, which
        // stays usable.
        guard transactionCommands.contains(request.name) else {
            throw OsmanthusError(notSupportedInTransaction, "Cannot run '\(request.name)' in a multi-document transaction.")
        }
        if txnNumber < state.txnNumber {
            throw OsmanthusError(
                transactionTooOld, "txnNumber \(txnNumber) is less than last txnNumber \(state.txnNumber) seen in this session")
        }
        if start {
            if txnNumber == state.txnNumber {
                throw OsmanthusError(
                    .conflictingOperationInProgress, "transaction \(txnNumber) has already been started in this session")
            }
            state.abortOpenTransaction()
            state.txnNumber = txnNumber
            state.recordedReply = nil
            state.transaction = context.server.database.startTransaction()
            state.phase = .inProgress
            context.server.statistics.count(.transactionStarted)
        } else if txnNumber != state.txnNumber || state.phase == .none {
            throw OsmanthusError(noSuchTransaction, "Transaction \(txnNumber) has not been started")
        }
        switch (request.name, state.phase) {
        case ("commitTransaction", .committed):
            return .document(["ok": 1.0])  // a retried commit
        case ("commitTransaction", .inProgress):
            guard let transaction = state.transaction else { break }
            defer { state.transaction = nil }
            do {
                try transaction.commit()
            } catch {
                state.phase = .aborted
                throw error
            }
            state.phase = .committed
            context.server.statistics.count(.transactionCommitted)
            return .document(["ok": 1.0])
        case ("abortTransaction", .inProgress):
            state.abortOpenTransaction()
            context.server.statistics.count(.transactionAborted)
            return .document(["ok": 1.0])
        case (_, .committed):
            throw OsmanthusError(transactionCommitted, "Transaction \(txnNumber) has been committed.")
        case (_, .aborted):
            throw OsmanthusError(noSuchTransaction, "Transaction \(txnNumber) has been aborted.")
        default:
            break
        }
        guard state.phase == .inProgress, let transaction = state.transaction else {
            throw OsmanthusError(noSuchTransaction, "Transaction \(txnNumber) is not in progress")
        }
        var inTransaction = context
        inTransaction.transaction = transaction
        let reply: CommandReply
        do {
            reply = try runPlain(command, request, inTransaction)
        } catch {
            abortAfterFailure(&state, context)
            throw error
        }
        // In a transaction a write error fails the whole command, as MongoDB's does.
        if case .document(let document) = reply, case .array(let errors)? = document["writeErrors"],
            case .document(let first)? = errors.first
        {
            abortAfterFailure(&state, context)
            throw commandError(fromWriteError: first)
        }
        return reply
    }

    /// A statement that failed aborts its transaction (MongoDB's rule): the statements after it,
    /// and commitTransaction, get NoSuchTransaction labelled TransientTransactionError.
    private static func abortAfterFailure(_ state: inout ServerSession.State, _ context: CommandContext) {
        guard state.phase == .inProgress else { return }
        state.abortOpenTransaction()
        context.server.statistics.count(.transactionAborted)
    }

    /// The command error for a `writeErrors` entry: its code, name, message and extra fields
    /// (DuplicateKey's keyPattern and keyValue).
    static func commandError(fromWriteError entry: Document) -> OsmanthusError {
        let value = entry["code"]?.exactInt64.flatMap { Int32(exactly: $0) } ?? OsmanthusError.Code.internalError.value
        let code = OsmanthusError.Code(value, entry["codeName"]?.stringValue ?? "UnknownError")
        var info = Document()
        for (key, field) in entry where !["index", "code", "codeName", "errmsg"].contains(key) {
            info.append(key, field)
        }
        return OsmanthusError(code, entry["errmsg"]?.stringValue ?? "write error", info: info.isEmpty ? nil : info)
    }
}

/// An error with MongoDB `errorLabels` for the reply (drivers decide retries by label).
struct LabeledError: Error {
    var error: OsmanthusError
    var labels: [BSONValue]
}
