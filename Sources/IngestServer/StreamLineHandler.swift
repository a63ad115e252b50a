import Aggregation
import NIOCore
import TelemetryModel

/// Reads newline-delimited StatsD from a TCP connection. Complete lines are
/// parsed straight from the received buffer; only the unfinished tail of a
/// read is kept, and never more than `maxLineBytes` of it: a longer line is
/// counted as `line_too_long` and skipped up to its newline.
///
/// Backpressure: when a shard's ring is full the batches stay with the
/// connection and reading stops (so TCP's window slows the sender) until
/// they have gone; nothing accepted is dropped and memory stays bounded.
final class StreamLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let router: LineRouter
    private let metrics: TransportMetrics
    private let ingestMetrics: IngestMetrics
    private let clock: any WallClock
    private let maxLineBytes: Int
    private let backlog: ClosingBacklog
    /// The start of a line whose newline has not arrived yet.
    private var partial: ByteBuffer?
    /// True while skipping the rest of an over-long line.
    private var discarding = false
    private let pause: ReadPause
    private var tally = TransportTally()

    init(factory: RouterFactory, metrics: IngestMetrics, clock: any WallClock, backlog: ClosingBacklog) {
        router = factory.makeRouter(policy: .keep)
        self.metrics = metrics.tcp
        ingestMetrics = metrics
        self.clock = clock
        maxLineBytes = factory.maxLineBytes
        self.backlog = backlog
        pause = ReadPause(pauses: metrics.tcpBackpressurePauses)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishStream()
        if router.pendingRecords > 0 {
            backlog.started()
            ReadPause.retryAfterClose(on: context.eventLoop, backlog: backlog) { [router] in router.flush() }
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            finishStream()
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        tally.record(bytes: buffer.readableBytes)
        let now = clock.nowMillis()
        consume(&buffer, now: now)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        pause.flushOrPause(context: context) { [router] in router.flush() }
        publish()
        context.fireChannelReadComplete()
    }

    /// Parses what can be parsed of `buffer`, keeping an unfinished line.
    private func consume(_ buffer: inout ByteBuffer, now: Int64) {
        if discarding {
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return }
            buffer.moveReaderIndex(to: newline + 1)
            discarding = false
        }
        if var head = partial {
            // Complete the pending line first.
            guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                head.writeImmutableBuffer(buffer)
                if head.readableBytes > maxLineBytes {
                    head.withUnsafeReadableBytes { router.rejectTooLong($0) }
                    partial = nil
                    discarding = true
                } else {
                    partial = head
                }
                return
            }
            // The newline lies within the readable bytes, so the slice exists.
            let piece = buffer.readSlice(length: newline - buffer.readerIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            head.writeImmutableBuffer(piece)
            partial = nil
            head.withUnsafeReadableBytes { router.ingest(line: $0, now: now) }
        }
        // Every complete line straight from the buffer.
        let view = buffer.readableBytesView
        guard let lastNewline = view.lastIndex(of: UInt8(ascii: "\n")) else {
            keepTail(buffer)
            return
        }
        let completeLength = lastNewline - buffer.readerIndex
        buffer.withUnsafeReadableBytes { bytes in
            router.ingest(lines: UnsafeRawBufferPointer(rebasing: bytes[0..<completeLength]), now: now)
        }
        buffer.moveReaderIndex(forwardBy: completeLength + 1)
        keepTail(buffer)
    }

    private func keepTail(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        if buffer.readableBytes > maxLineBytes {
            buffer.withUnsafeReadableBytes { router.rejectTooLong($0) }
            discarding = true
            return
        }
        // Copy: the tail is small, and holding a slice would pin the whole read buffer.
        var copy = ByteBufferAllocator().buffer(capacity: buffer.readableBytes + 512)
        copy.writeImmutableBuffer(buffer)
        partial = copy
    }

    /// At end of stream a final line without a newline still counts.
    private func finishStream() {
        if let head = partial {
            partial = nil
            head.withUnsafeReadableBytes { router.ingest(line: $0, now: clock.nowMillis()) }
        }
        router.flush()
        publish()
    }

    private func publish() {
        tally.publish(to: metrics, router: router)
    }
}
