import Logging
import NIOCore
import NIOPosix
import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// One client connection: takes decoded messages, runs each command on the thread pool (engine
/// calls block) — except the few `InlinePolicy` runs on the event loop because they are
/// short — and writes the reply. Commands of one connection
/// run one at a time, in order, as a client that waits for each reply expects; an awaitable
/// hello waits on a scheduled task, holding no thread. A client that pipelines more than
/// `maxPending` messages is not read from until the backlog drains.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = WireMessage
    typealias OutboundIn = WireMessage
    typealias OutboundOut = WireMessage

    static let maxPending = 16

    private let server: ServerCore
    private let threadPool: NIOThreadPool
    private let registry: ConnectionRegistry
    private var info = ConnectionInfo(id: 0, remoteAddress: "")
    private var logger: Logger

    /// Messages received while a command runs.
    private var pending = CircularBuffer<WireMessage>()
    private var busy = false
    /// Set once the channel is gone: late completions must not touch the context.
    private var closed = false
    private var awaitingHello: Scheduled<Void>?
    private var nextRequestID: Int32 = 1
    /// A read the channel asked for while the backlog was full; issued once it drains.
    private var readHeld = false
    /// The collections this connection's inline point reads used last (their catalog lookups
    /// are cached in them).
    private var collections = CollectionCache()

    init(server: ServerCore, threadPool: NIOThreadPool, registry: ConnectionRegistry) {
        self.server = server
        self.threadPool = threadPool
        self.registry = registry
        self.logger = server.logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let id = server.nextConnectionID()
        let remote = context.channel.remoteAddress.map(Self.format) ?? "unknown"
        info = ConnectionInfo(id: id, remoteAddress: remote)
        logger[metadataKey: "conn"] = "\(id)"
        let open = server.statistics.currentConnections.add(1, ordering: .relaxed).newValue
        server.metrics.openConnections.record(open)
        server.statistics.totalConnections.add(1, ordering: .relaxed)
        guard registry.add(id: id, channel: context.channel) else {
            logger.warning("too many connections; closing \(remote)")
            context.close(promise: nil)
            return
        }
        logger.debug("connection from \(remote)")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        awaitingHello?.cancel()
        awaitingHello = nil
        pending.removeAll()
        registry.remove(id: info.id)
        // A client that hung up no longer waits for its command: stop it at its next check.
        server.operations.kill(connectionID: info.id)
        let open = server.statistics.currentConnections.add(-1, ordering: .relaxed).newValue
        server.metrics.openConnections.record(open)
        logger.debug("connection closed")
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
        processNext(context: context)
    }

    /// Undecodable input cannot be resynchronised: log it and close.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? WireError {
            logger.error("closing connection \(info.id) from \(info.remoteAddress): \(error)")
        } else if !(error is ChannelError), (error as? IOError)?.errnoCode != ECONNRESET {
            logger.error("connection \(info.id): \(error)")
        }
        context.close(promise: nil)
    }

    /// Starts the next waiting command, answering at once (in a loop, not recursively) the
    /// messages that need no command thread.
    private func processNext(context: ChannelHandlerContext) {
        while !busy, !closed, let message = pending.popFirst() {
            let request: InboundRequest
            do {
                request = try InboundRequest(message)
            } catch {
                logger.error("closing connection \(info.id): \(error)")
                context.close(promise: nil)
                return
            }
            switch request.kind {
            case .unsupportedQuery(let failure):
                send(failure, to: request, context: context)
            case .failed(let error):
                send(ErrorMapping.reply(for: error), to: request, context: context)
            case .command(let command):
                busy = true
                if let wait = HandshakeCommands.awaitTime(for: command, server: server) {
                    awaitingHello = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
                        self.awaitingHello = nil
                        self.execute(command, for: request, context: context)
                        self.processNext(context: context)  // when it ran inline
                    }
                } else {
                    execute(command, for: request, context: context)
                }
            }
        }
        if readHeld, !closed, pending.count < Self.maxPending {
            readHeld = false
            context.read()
        }
    }

    private func execute(_ command: CommandRequest, for request: InboundRequest, context: ChannelHandlerContext) {
        guard !closed else { return }
        let server = self.server
        let addToReply: Document?
        switch server.failPoints.action(for: command.name) {
        case .closeConnection?:
            context.close(promise: nil)
            return
        case .reply(let failure)?:
            send(failure, to: request, context: context)
            finish(context: context)
            return
        case .afterRunning(let extra)?:
            addToReply = extra
        case nil:
            addToReply = nil
        }
        let info = self.info
        let deliver = { (result: Result<Document, any Error>) in
            switch result {
            case .success(var reply):
                for (key, value) in addToReply ?? [:] { reply.set(key, value) }
                self.send(reply, to: request, context: context)
            case .failure(let error): self.send(ErrorMapping.reply(for: error), to: request, context: context)
            }
        }
        if InlinePolicy.runsInline(command, server: server, collections: &collections) {
            // Short by construction (SPEC.md §13.6): saves two thread hand-offs per request.
            // Not entered in the operation table: nothing could see or kill it while it runs,
            // since it holds this event loop from start to end. The caller's loop (processNext)
            // goes on with the next message.
            var commandContext = CommandContext(server: server, connection: info)
            commandContext.collections = collections
            deliver(.success(server.dispatcher.run(command, context: commandContext)))
            busy = false
            return
        }
        let operation = server.operations.start(command, connection: info)
        let run: @Sendable () -> Document = {
            var commandContext = CommandContext(server: server, connection: info)
            commandContext.operation = operation
            return server.dispatcher.run(command, context: commandContext)
        }
        threadPool.runIfActive(eventLoop: context.eventLoop, run).assumeIsolated().whenComplete { result in
            server.operations.finish(operation)
            deliver(result)
            self.finish(context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        busy = false
        processNext(context: context)
    }

    /// Backpressure: no new reads while `maxPending` messages wait.
    func read(context: ChannelHandlerContext) {
        if pending.count >= Self.maxPending {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func send(_ reply: Document, to request: InboundRequest, context: ChannelHandlerContext) {
        guard !closed, !request.moreToCome else { return }
        let body: WireMessage.Body
        switch request.style {
        case .msg: body = .msg(OpMsg(body: reply))
        case .reply(let flags): body = .reply(OpReply(responseFlags: flags, documents: [reply]))
        }
        let message = WireMessage(
            requestID: nextRequestID, responseTo: request.requestID, body: body, compressor: request.compressor)
        nextRequestID = nextRequestID == Int32.max ? 1 : nextRequestID + 1
        context.writeAndFlush(wrapOutboundOut(message)).assumeIsolated().whenFailure { error in
            if !(error is ChannelError) { self.logger.error("reply to request \(request.requestID) not sent: \(error)") }
        }
    }

    private static func format(_ address: SocketAddress) -> String {
        switch address {
        case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}
