import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import WebSecurity

/// Serves each new connection with TLS from the context in force when it
/// arrives, so a reloaded certificate, key or client CA applies to the
/// next connection while open ones carry on with theirs. (Hummingbird's
/// own TLS channel fixes its context when the server starts.)
public struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    /// The base channel's value and the outcome of the connection's handshake.
    public struct Value: ServerChildChannelValue {
        let base: Base.Value
        let handshake: EventLoopFuture<Void>
        public var channel: any Channel { base.channel }
    }

    let base: Base
    let access: WebAccess

    public init(_ base: Base, access: WebAccess) {
        self.base = base
        self.access = access
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard let context = access.tlsContext else {
            return channel.eventLoop.makeFailedFuture(WebSecurityError(file: "tls_server_config", message: "no TLS context in force"))
        }
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            try channel.pipeline.syncOperations.addHandler(HandshakeGate(done: handshake))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.map { value in
            Value(base: value, handshake: handshake.futureResult)
        }
    }

    /// A client that fails the handshake (no certificate, plain HTTP, an old TLS version) is
    /// logged once at debug level; the HTTP side, which then only sees a closed connection,
    /// is kept from logging that as an error of its own.
    public func handle(value: Value, logger: Logger) async {
        var httpLogger = logger
        do {
            try await value.handshake.get()
        } catch {
            logger.debug("TLS handshake failed", metadata: [
                "error": "\(error)", "peer": "\(value.channel.remoteAddress?.description ?? "?")",
            ])
            httpLogger.logLevel = .critical
        }
        await base.handle(value: value.base, logger: httpLogger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Completes its promise when the TLS handshake succeeds, fails it when the
/// connection errs or closes first, and then removes itself.
final class HandshakeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var done: EventLoopPromise<Void>?

    init(done: EventLoopPromise<Void>) {
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, let done {
            self.done = nil
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
            done.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done?.fail(error)
        done = nil
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done?.fail(ChannelError.inputClosed)
        done = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        done?.fail(ChannelError.inputClosed)
        done = nil
    }
}
