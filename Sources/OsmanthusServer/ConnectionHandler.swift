import Logging
import NIOCore
import NIOPosix
import Osmanthus
import OsmanthusBSON
import OsmanthusWire

/// One client connection: frames the bytes read into messages (`MessageFramer`), runs each command on the thread pool (engine
/// calls block) — except the few `InlinePolicy` runs on the event loop because they are
/// short — and writes the reply. Commands of one connection
/// run one at a time, in order, as a client that waits for each reply expects; an awaitable
/// hello waits on a scheduled task, and a change-stream getMore with nothing to send parks
/// (`ChangeStreamWait`), neither holding a thread. Replies are encoded here, one write and
/// flush each. A client that pipelines more than
/// `maxPending` messages is not read from until the backlog drains.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxPending = 16

    private let server: ServerCore
    private let threadPool: NIOThreadPool
    private let registry: ConnectionRegistry
    private var info = ConnectionInfo(id: 0, remoteAddress: "")
    private var logger: Logger

    // The state read on every request is `@exclusivity(unchecked)`: the handler runs on its
    // channel's event loop only, one call at a time, and no access to one of these overlaps
    // another access to the same one; the run-time check the compiler would otherwise add
    // to each read and write of a class's property (swift_beginAccess) cost about 700
    // instructions per find by `_id`.

    /// Bytes read but not yet a whole message.
    @exclusivity(unchecked) private var framer = MessageFramer()
    /// Messages received while a command runs.
    @exclusivity(unchecked) private var pending = CircularBuffer<WireMessage>()
    @exclusivity(unchecked) private var busy = false
    /// Set once the channel is gone: late completions must not touch the context.
    @exclusivity(unchecked) private var closed = false
    private var awaitingHello: Scheduled<Void>?
    @exclusivity(unchecked) private var nextRequestID: Int32 = 1
    /// A read the channel asked for while the backlog was full; issued once it drains.
    @exclusivity(unchecked) private var readHeld = false
    /// The collections this connection's inline point reads used last (their catalog lookups
    /// are cached in them).
    @exclusivity(unchecked) private var collections = CollectionCache()
    /// The session this connection's inline commands used last.
    private let sessionCache = SessionCache()
    /// The buffer replies are encoded into, reused once the socket has written the last one
    /// (as NIO's MessageToByteHandler does): replies are encoded here, not by a handler
    /// further down the pipeline, so a fixed-shape reply goes straight into it.
    @exclusivity(unchecked) private var outbound = ByteBuffer()
    /// The parked getMore of this connection, if any (cancelled when the connection closes).
    private var parked: ChangeStreamWait?

    init(server: ServerCore, threadPool: NIOThreadPool, registry: ConnectionRegistry) {
        self.server = server
        self.threadPool = threadPool
        self.registry = registry
        self.logger = server.logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        outbound = context.channel.allocator.buffer(capacity: 256)
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
        parked?.cancel()
        pending.removeAll()
        registry.remove(id: info.id)
        // A client that hung up no longer waits for its command: stop it at its next check.
        server.operations.kill(connectionID: info.id)
        let open = server.statistics.currentConnections.add(-1, ordering: .relaxed).newValue
        server.metrics.openConnections.record(open)
        logger.debug("connection closed")
        context.fireChannelInactive()
    }

    /// Frames the read here rather than in a `ByteToMessageHandler` before this handler: one
    /// pipeline hop and one `NIOAny` box per message fewer (SPEC.md §13). An undecodable
    /// message closes the connection, after the messages before it were queued, as before.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var failure: (any Error)?
        do {
            try framer.feed(unwrapInboundIn(data)) { pending.append($0) }
        } catch {
            failure = error
        }
        processNext(context: context)
        if let failure { errorCaught(context: context, error: failure) }
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
                send(.document(failure), to: request, context: context)
            case .failed(let error):
                send(.document(ErrorMapping.reply(for: error)), to: request, context: context)
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
            send(.document(failure), to: request, context: context)
            finish(context: context)
            return
        case .afterRunning(let extra)?:
            addToReply = extra
        case nil:
            addToReply = nil
        }
        let info = self.info
        if InlinePolicy.runsInline(command, server: server, collections: &collections) {
            // Short by construction (SPEC.md §13.6): saves two thread hand-offs per request.
            // Not entered in the operation table: nothing could see or kill it while it runs,
            // since it holds this event loop from start to end. The caller's loop (processNext)
            // goes on with the next message.
            var commandContext = CommandContext(server: server, connection: info)
            commandContext.collections = collections
            commandContext.isInlinePointRead = command.name == "find"
            commandContext.sessionCache = sessionCache
            deliver(server.dispatcher.run(command, context: commandContext), adding: addToReply, to: request, context: context)
            busy = false
            return
        }
        let operation = server.operations.start(command, connection: info)
        let run: @Sendable () -> CommandReply = {
            var commandContext = CommandContext(server: server, connection: info)
            commandContext.operation = operation
            commandContext.canPark = true
            return server.dispatcher.run(command, context: commandContext)
        }
        threadPool.runIfActive(eventLoop: context.eventLoop, run).assumeIsolated().whenComplete { result in
            switch result {
            case .success(.parked(let wait)):
                // Answered when the wait ends; the operation stays listed (and killable) meanwhile.
                self.park(Parked(wait: wait, operation: operation, request: request, addToReply: addToReply), context: context)
                return
            case .success(let reply):
                server.operations.finish(operation)
                self.deliver(reply, adding: addToReply, to: request, context: context)
            case .failure(let error):
                server.operations.finish(operation)
                self.send(.document(ErrorMapping.reply(for: error)), to: request, context: context)
            }
            self.finish(context: context)
        }
    }

    /// A change-stream getMore waiting for commits (`CommandReply.parked`). The connection
    /// stays busy (its next commands wait, in order) but no thread is held: a task sleeps on
    /// the change notifier, then the getMore polls again on the pool.
    private struct Parked {
        var wait: ChangeStreamWait
        var operation: RunningOperation
        var request: InboundRequest
        var addToReply: Document?
    }

    private func park(_ parked: Parked, context: ChannelHandlerContext) {
        guard !closed else { return abandon(parked) }
        self.parked = parked.wait
        let wait = parked.wait
        let operation = parked.operation
        let database = server.database
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((self, context, parked), eventLoop: eventLoop)
        wait.attach(
            Task {
                await wait.sleep(database: database, operation: operation)
                eventLoop.execute {
                    let (handler, context, parked) = bound.value
                    handler.wake(parked, context: context)
                }
            })
    }

    /// The wait ended (a commit, the deadline, a kill): poll again on the pool, then answer or
    /// park again.
    private func wake(_ parked: Parked, context: ChannelHandlerContext) {
        self.parked = nil
        guard !closed else { return abandon(parked) }
        let server = self.server
        let wait = parked.wait
        let operation = parked.operation
        threadPool.runIfActive(eventLoop: context.eventLoop) {
            try ChangeStreamCommands.resume(wait, server: server, operation: operation)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(nil):
                return self.park(parked, context: context)
            case .success(let reply?):
                server.operations.finish(operation)
                self.deliver(.document(reply), adding: parked.addToReply, to: parked.request, context: context)
            case .failure(let error):
                server.operations.finish(operation)
                self.send(.document(ErrorMapping.reply(for: error)), to: parked.request, context: context)
            }
            self.finish(context: context)
        }
    }

    /// The client went away while its getMore waited: the stream is closed, as it is when a
    /// waiting getMore is interrupted.
    private func abandon(_ parked: Parked) {
        _ = server.changeStreams.kill(ids: [parked.wait.id], namespace: parked.wait.namespace)
        server.operations.finish(parked.operation)
    }

    /// Sends a command's reply, with a fail point's extra fields when one asks for them.
    private func deliver(
        _ reply: CommandReply, adding extra: Document?, to request: InboundRequest, context: ChannelHandlerContext
    ) {
        guard let extra else { return send(reply, to: request, context: context) }
        var document = reply.document
        for (key, value) in extra { document.set(key, value) }
        send(.document(document), to: request, context: context)
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

    /// Encodes the reply into the connection's buffer and writes it, one write and flush per
    /// reply. An OP_MSG reply sent uncompressed is written straight from `reply`; OP_REPLY and
    /// compressed replies go through `WireMessage`.
    private func send(_ reply: CommandReply, to request: InboundRequest, context: ChannelHandlerContext) {
        guard !closed, !request.moreToCome else { return }
        let requestID = nextRequestID
        nextRequestID = nextRequestID == Int32.max ? 1 : nextRequestID + 1
        outbound.clear()
        do {
            switch (request.style, request.compressor) {
            case (.msg, nil):
                try OpMsg.writeReply(
                    requestID: requestID, responseTo: request.requestID, bodySize: reply.bodySize, to: &outbound
                ) { reply.write(body: &$0) }
            case (.msg, _):
                try WireMessage(
                    requestID: requestID, responseTo: request.requestID, body: .msg(OpMsg(body: reply.document)),
                    compressor: request.compressor
                ).write(to: &outbound)
            case (.reply(let flags), _):
                try WireMessage(
                    requestID: requestID, responseTo: request.requestID,
                    body: .reply(OpReply(responseFlags: flags, documents: [reply.document])),
                    compressor: request.compressor
                ).write(to: &outbound)
            }
        } catch {
            // A reply that cannot be encoded (over the size limit): the client waits for an
            // answer it will never get, so the connection closes, as it did when a pipeline
            // encoder failed.
            logger.error("reply to request \(request.requestID) not sent: \(error)")
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
    }

    private static func format(_ address: SocketAddress) -> String {
        switch address {
        case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}
