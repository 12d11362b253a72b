import NIOCore
import Synchronization

/// The open connections, so shutdown can close them all (a client's awaitable hello would
/// otherwise keep its channel open), and so the connection cap can be enforced.
final class ConnectionRegistry: Sendable {
    /// Protects the table of channels by connection id.
    private let channels = Mutex<[Int64: any Channel]>([:])
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Records a channel; false when the server already has `limit` connections.
    func add(id: Int64, channel: any Channel) -> Bool {
        channels.withLock { channels in
            guard channels.count < limit else { return false }
            channels[id] = channel
            return true
        }
    }

    func remove(id: Int64) {
        _ = channels.withLock { $0.removeValue(forKey: id) }
    }

    var all: [any Channel] { channels.withLock { Array($0.values) } }
}
