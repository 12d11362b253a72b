import NIOCore
import Synchronization

/// The commands running now, by opid (`currentOp`, `killOp`). Every command enters it when it
/// starts and leaves when it ends: two short lock holds per command.
final class OperationTable: Sendable {
    /// The running operations by id.
    private let running = Mutex<[Int64: RunningOperation]>([:])
    private let lastID = Atomic<Int64>(0)

    func start(_ request: CommandRequest, connection: ConnectionInfo) -> RunningOperation {
        let operation = RunningOperation(
            id: lastID.add(1, ordering: .relaxed).newValue, connectionID: connection.id,
            client: connection.remoteAddress, request: request)
        running.withLock { $0[operation.id] = operation }
        return operation
    }

    func finish(_ operation: RunningOperation) {
        _ = running.withLock { $0.removeValue(forKey: operation.id) }
    }

    /// The running operations, oldest first.
    var all: [RunningOperation] {
        running.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }

    /// Marks operation `id` killed; false when no such operation runs.
    func kill(id: Int64) -> Bool {
        guard let operation = running.withLock({ $0[id] }) else { return false }
        operation.kill()
        return true
    }

    /// Kills every operation of a connection (its client went away).
    func kill(connectionID: Int64) {
        for operation in running.withLock({ Array($0.values) }) where operation.connectionID == connectionID {
            operation.kill()
        }
    }
}
