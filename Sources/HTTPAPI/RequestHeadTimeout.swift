import ConnectionAdmission
import HummingbirdCore
import Logging
import NIOCore

/// Closes a connection whose request head does not arrive whole within
/// `http.read_header_timeout`: counted from the connection's start, and
/// from the first byte of each later request on a keep-alive connection
/// (a connection idle between requests is the idle timeout's concern). A
/// client that trickles a header a byte at a time (slowloris) then holds a
/// connection for this long instead of for the whole idle timeout.
///
/// Every connection is also counted by the listener's `ConnectionLimiter`:
/// while the listener is full (`http.max_connections`, when the server stops
/// accepting), a connection whose head has been arriving for a second or
/// more is closed to make room, so slow clients cannot keep `max_connections`
/// full even for the header timeout. A connection whose head has arrived,
/// or idle between requests, is never closed for room.
///
/// When the server stops, a connection with no request under way (none
/// begun yet, or a head still arriving) is closed at once: the HTTP layer
/// closes idle keep-alive connections and those that finish their response,
/// but with the WebSocket upgrade in the pipeline it does not see a
/// connection before its first request head, and a client that connected
/// and sent nothing (a health checker, a port scan) held the stop for the
/// whole header timeout.
public struct RequestHeadTimeoutChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let timeout: TimeAmount
    let limiter: ConnectionLimiter
    let timedOut: @Sendable () -> Void

    public init(_ base: Base, timeout: TimeAmount, limiter: ConnectionLimiter, timedOut: @escaping @Sendable () -> Void) {
        self.base = base
        self.timeout = timeout
        self.limiter = limiter
        self.timedOut = timedOut
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                RequestHeadTimeoutHandler(timeout: timeout, ticket: limiter.track(channel), limiter: limiter, timedOut: timedOut))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension RequestHeadTimeoutChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Sits before the HTTP decoder and watches raw bytes: a head ends at the
/// first blank line (CR LF CR LF) after a request starts; a response going
/// out ends the request.
final class RequestHeadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData

    private enum State {
        /// Waiting for the first byte of a request (after a response); no timer.
        case idle
        /// A head is on its way; the timer runs. `tail` holds the last bytes seen, for a CR LF CR LF cut across reads.
        case readingHead(tail: UInt32)
        /// The head arrived; the body and the response are the HTTP layer's.
        case inRequest
    }

    private let timeout: TimeAmount
    private let limiter: ConnectionLimiter
    private let timedOut: @Sendable () -> Void
    /// Counts the connection against the listener's limit until it closes; says when it may give way.
    private var ticket: ConnectionLimiter.Ticket?
    private var state = State.readingHead(tail: 0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, ticket: ConnectionLimiter.Ticket, limiter: ConnectionLimiter, timedOut: @escaping @Sendable () -> Void) {
        self.timeout = timeout
        self.ticket = ticket
        self.limiter = limiter
        self.timedOut = timedOut
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        leave()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        leave()
        context.fireChannelInactive()
    }

    private func leave() {
        if let ticket {
            limiter.leave(ticket)
            self.ticket = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if case .idle = state, buffer.readableBytes > 0 {
            state = .readingHead(tail: 0)
            ticket?.progressed()
            arm(context)
        }
        if case .readingHead(var tail) = state {
            var found = false
            for byte in buffer.readableBytesView {
                tail = tail << 8 | UInt32(byte)
                if tail == 0x0D0A_0D0A {
                    found = true
                    break
                }
            }
            if found {
                timer?.cancel()
                ticket?.working()
                state = .inRequest
            } else {
                state = .readingHead(tail: tail)
            }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .readingHead = state {
            Self.end(context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Responses follow whole requests (pipelining is off): once one goes out, the next byte starts a request
        // (also when the head ended otherwise than with CR LF CR LF, as a bare-LF client's does).
        switch state {
        case .inRequest: state = .idle
        case .readingHead:
            timer?.cancel()
            ticket?.working()
            state = .idle
        case .idle: break
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let timedOut = self.timedOut
        timer = context.eventLoop.scheduleTask(in: timeout) {
            timedOut()
            Self.end(loopBound.value)
        }
    }

    /// Closes a connection whose request has not begun, telling the HTTP
    /// layer first that no more input comes: it then ends the connection as
    /// one the client left (the WebSocket upgrade handler, still waiting for
    /// a first head, would otherwise log the close as an error).
    private static func end(_ context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        context.close(promise: nil)
    }
}
