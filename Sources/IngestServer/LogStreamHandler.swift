import NIOCore
import TelemetryModel

/// Reads log lines (or syslog messages) from a TCP connection: the framer
/// cuts them, the router decodes them into batches. When a writer's ring is
/// full, reading stops until the batches have gone, so TCP's window slows
/// the sender; memory stays bounded and nothing read is dropped.
final class LogStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var framer: MessageFramer
    private let router: LogLineRouter
    private let clock: any WallClock
    private let metrics: LogIngestMetrics
    private let backlog: ClosingBacklog
    private let pause: ReadPause

    init(framer: MessageFramer, router: LogLineRouter, clock: any WallClock, metrics: LogIngestMetrics, backlog: ClosingBacklog) {
        self.framer = framer
        self.router = router
        self.clock = clock
        self.metrics = metrics
        self.backlog = backlog
        pause = ReadPause(pauses: metrics.tcpBackpressurePauses)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let now = clock.nowNanos()
        let router = self.router
        buffer.withUnsafeReadableBytes { bytes in
            framer.feed(bytes) { message, truncated in router.ingest(message, truncated: truncated, now: now) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pause.flushOrPause(context: context) { [router] in router.flush() }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            finishStream()
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishStream()
        if router.hasPending {
            backlog.started()
            ReadPause.retryAfterClose(on: context.eventLoop, backlog: backlog) { [router] in router.flush() }
        }
        context.fireChannelInactive()
    }

    private func finishStream() {
        let now = clock.nowNanos()
        let router = self.router
        framer.finish { message, truncated in router.ingest(message, truncated: truncated, now: now) }
        router.flush()
    }

}

/// Receives log lines or syslog messages over UDP: each datagram is one
/// syslog message, or one or more newline-separated log lines. A full ring
/// drops the batch and counts its lines: a datagram sender cannot be slowed.
final class LogDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let router: LogLineRouter
    private let clock: any WallClock
    private let syslog: Bool
    private let maxBytes: Int
    private var flushScheduled = false

    init(router: LogLineRouter, clock: any WallClock, syslog: Bool, maxBytes: Int) {
        self.router = router
        self.clock = clock
        self.syslog = syslog
        self.maxBytes = maxBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let now = clock.nowNanos()
        envelope.data.withUnsafeReadableBytes { bytes in
            if syslog {
                var message = bytes
                while let last = message.last, last == 0x0A || last == 0x0D || last == 0 {
                    message = UnsafeRawBufferPointer(rebasing: message.dropLast())
                }
                if !message.isEmpty { ingest(message, now: now) }
            } else {
                var start = 0
                for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
                    var line = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                    if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
                    if !line.isEmpty { ingest(line, now: now) }
                    start = i + 1
                }
            }
        }
    }

    private func ingest(_ message: UnsafeRawBufferPointer, now: Int64) {
        let cut = max(0, message.count - maxBytes)
        router.ingest(UnsafeRawBufferPointer(rebasing: message.prefix(maxBytes)), truncated: cut, now: now)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // A burst is handed over at once; a trickle within a millisecond.
        if !flushScheduled {
            flushScheduled = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(1)) {
                let handler = loopBound.value
                handler.flushScheduled = false
                handler.router.flush()
            }
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        router.flush()
        context.fireChannelInactive()
    }
}
