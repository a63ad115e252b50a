import HummingbirdCore
import Logging
import NIOCore

/// Closes a connection whose request head does not arrive whole within
/// `http.read_header_timeout`: counted from the connection's start, and
/// from the first byte of each later request on a keep-alive connection
/// (a connection idle between requests is the idle timeout's concern). A
/// client that trickles a header a byte at a time (slowloris) then holds a
/// connection for this long instead of for the whole idle timeout, so it
/// cannot keep `http.max_connections` full.
public struct RequestHeadTimeoutChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let timeout: TimeAmount

    public init(_ base: Base, timeout: TimeAmount) {
        self.base = base
        self.timeout = timeout
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestHeadTimeoutHandler(timeout: timeout))
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
    private var state = State.readingHead(tail: 0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if case .idle = state, buffer.readableBytes > 0 {
            state = .readingHead(tail: 0)
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
                state = .inRequest
            } else {
                state = .readingHead(tail: tail)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Responses follow whole requests (pipelining is off): once one goes out, the next byte starts a request
        // (also when the head ended otherwise than with CR LF CR LF, as a bare-LF client's does).
        switch state {
        case .inRequest: state = .idle
        case .readingHead:
            timer?.cancel()
            state = .idle
        case .idle: break
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }
}
