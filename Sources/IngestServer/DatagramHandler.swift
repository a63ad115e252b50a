import Aggregation
import NIOCore
import TelemetryModel

/// Receives StatsD datagrams over UDP: every line of every datagram goes
/// through the channel's own router. Batches are pushed to the shards once
/// they hold `pushThreshold` records, or at the latest `pushDelay` after the
/// first record of a quiet spell: a read burst can be a single datagram, and
/// pushing hundreds of nearly empty batches a second would fill the rings
/// while a shard flushes. A full ring drops (and counts) the batch: a
/// datagram sender cannot be slowed down, and the event loop must never wait.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let router: LineRouter
    private let metrics: TransportMetrics
    private let clock: any WallClock
    private var now: Int64 = 0
    private var tally = TransportTally()
    private var pushScheduled = false
    /// Records that make a batch worth pushing at once.
    static let pushThreshold = 2048
    /// The longest a record waits in a partly filled batch.
    static let pushDelay = TimeAmount.milliseconds(1)

    init(factory: RouterFactory, metrics: TransportMetrics, clock: any WallClock) {
        router = factory.makeRouter(policy: .drop)
        self.metrics = metrics
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if tally.isIdle { now = clock.nowMillis() }
        tally.record(bytes: envelope.data.readableBytes)
        envelope.data.withUnsafeReadableBytes { router.ingest(lines: $0, now: now) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if router.recordsSinceFlush >= Self.pushThreshold {
            push()
        } else if !pushScheduled, router.recordsSinceFlush > 0 || !tally.isIdle {
            pushScheduled = true
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: Self.pushDelay) {
                let handler = loopBound.value
                handler.pushScheduled = false
                handler.push()
            }
        }
        context.fireChannelReadComplete()
    }

    private func push() {
        router.flush()
        publish()
    }

    func channelInactive(context: ChannelHandlerContext) {
        push()
        context.fireChannelInactive()
    }

    private func publish() {
        tally.publish(to: metrics, router: router)
    }
}
