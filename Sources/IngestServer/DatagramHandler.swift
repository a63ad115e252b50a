import Aggregation
import NIOCore
import TelemetryModel

/// Receives StatsD datagrams (UDP or a Unix datagram socket): every line of
/// every datagram goes through the channel's own router; batches are pushed
/// to the shards once per read burst. A full ring drops (and counts) the
/// batch: a datagram sender cannot be slowed down, and the event loop must
/// never wait.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let router: LineRouter
    private let metrics: TransportMetrics
    private let clock: any WallClock
    private var now: Int64 = 0
    private var tally = TransportTally()

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
        router.flush()
        publish()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        router.flush()
        publish()
        context.fireChannelInactive()
    }

    private func publish() {
        tally.publish(to: metrics, router: router)
    }
}
