import NIOCore
import NIOHTTP1

/// The operations port: `GET /metrics` (the metrics backend's text exposition), `/healthz`
/// (200 while the process serves HTTP at all) and `/readyz` (200 once the database is open and
/// the wire listener bound, 503 before that and while shutting down). Anything else is 404.
/// Answered on the event loop: each reply is small and computed from counters.
final class HTTPEndpoint: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Routes: Sendable {
        var metrics: @Sendable () -> [UInt8]
        var ready: @Sendable () -> Bool
    }

    private let routes: Routes
    private var head: HTTPRequestHead?

    init(routes: Routes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        let body: [UInt8]
        var contentType = "text/plain; charset=utf-8"
        switch (head.method, path) {
        case (.GET, "/metrics"):
            status = .ok
            body = routes.metrics()
            contentType = "text/plain; version=0.0.4; charset=utf-8"
        case (.GET, "/healthz"):
            status = .ok
            body = Array("ok\n".utf8)
        case (.GET, "/readyz"):
            let ready = routes.ready()
            status = ready ? .ok : .serviceUnavailable
            body = Array((ready ? "ready\n" : "not ready\n").utf8)
        default:
            status = .notFound
            body = Array("not found\n".utf8)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
