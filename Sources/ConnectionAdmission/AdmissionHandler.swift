import NIOCore

/// The first handler of a stream listener's connection (StatsD, logs,
/// syslog): admits it through the listener's `ConnectionLimiter` or closes it
/// at once, counts every read as progress, and stops counting it when it
/// closes. What follows it in the pipeline sees only admitted connections.
public final class AdmissionHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer

    private let limiter: ConnectionLimiter
    /// Set while the connection counts against the limit.
    private var ticket: ConnectionLimiter.Ticket?

    public init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    public func channelActive(context: ChannelHandlerContext) {
        guard let ticket = limiter.admit(context.channel) else {
            context.close(promise: nil)
            return
        }
        self.ticket = ticket
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        ticket?.progressed()
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if let ticket {
            limiter.leave(ticket)
            self.ticket = nil
        }
        context.fireChannelInactive()
    }
}
