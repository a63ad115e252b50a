import NIOCore
import Prometheus

/// Backpressure for a TCP connection whose batches a full ring refused: it
/// stops reading (the TCP window then slows the sender) and retries every
/// millisecond until the batches are handed over, then reads again. Lives on
/// the connection's event loop, like its handler.
final class ReadPause {
    private var paused = false
    private let pauses: Counter

    init(pauses: Counter) {
        self.pauses = pauses
    }

    /// Hands the batches over with `flush` (true when all went), pausing the
    /// connection until it succeeds.
    func flushOrPause(context: ChannelHandlerContext, _ flush: @escaping () -> Bool) {
        guard context.channel.isActive else { return }
        if flush() {
            if paused {
                paused = false
                context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                context.read()
            }
            return
        }
        if !paused {
            paused = true
            pauses.increment()
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
        let bound = NIOLoopBound((self, context, flush), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(1)) {
            let (pause, context, flush) = bound.value
            pause.flushOrPause(context: context, flush)
        }
    }

    /// A closed connection's last batches still go once there is room;
    /// shutdown waits for them (`ClosingBacklog`).
    static func retryAfterClose(on eventLoop: any EventLoop, backlog: ClosingBacklog, _ flush: @escaping () -> Bool) {
        let bound = NIOLoopBound(flush, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .milliseconds(1)) {
            if bound.value() {
                backlog.cleared()
            } else {
                retryAfterClose(on: eventLoop, backlog: backlog, bound.value)
            }
        }
    }
}
