import ConnectionAdmission
import Logging
import LogWire
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TelemetryModel

/// The log listeners: JSON lines and logfmt, and syslog, each over TCP and
/// UDP, feeding the log writers. `bind()` runs before the service group
/// starts, so a port in use stops tally before anything else; `run()` starts
/// the writers, waits for shutdown, closes the listeners and stores what the
/// rings still hold.
public final class LogIngestService: Service {
    private let config: LogListenerConfig
    private let writers: LogWriters
    private let metrics: LogIngestMetrics
    private let clock: any WallClock
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let limiter: ConnectionLimiter
    private let backlog = ClosingBacklog()
    private let decoder: LogDecoder
    private let channels = Mutex<[any Channel]>([])
    private let bound = Atomic<Bool>(false)

    /// The addresses actually bound (ports resolved when 0 was asked).
    public struct BoundAddresses: Sendable {
        public var tcp: HostPort?
        public var udp: HostPort?
        public var syslogTCP: HostPort?
        public var syslogUDP: HostPort?
    }

    public init(config: LogListenerConfig, writers: LogWriters, metrics: LogIngestMetrics, clock: any WallClock, logger: Logger) {
        self.config = config
        self.writers = writers
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        limiter = ConnectionLimiter(limit: config.maxTCPConnections, minimumWait: .seconds(10), observer: metrics.admission)
        decoder = LogDecoder(config: config.labels)
    }

    public var isReady: Bool { bound.load(ordering: .acquiring) }

    @discardableResult
    public func bind() async throws -> BoundAddresses {
        var addresses = BoundAddresses()
        do {
            if let tcp = config.tcp { addresses.tcp = try await bindTCP(tcp, syslog: false) }
            if let udp = config.udp { addresses.udp = try await bindUDP(udp, syslog: false) }
            if let tcp = config.syslogTCP { addresses.syslogTCP = try await bindTCP(tcp, syslog: true) }
            if let udp = config.syslogUDP { addresses.syslogUDP = try await bindUDP(udp, syslog: true) }
        } catch {
            await closeAll()
            try? await group.shutdownGracefully()
            throw error
        }
        bound.store(true, ordering: .releasing)
        return addresses
    }

    public func run() async throws {
        writers.start()
        try? await gracefulShutdown()
        await closeAll()
        if await !backlog.wait(timeout: .seconds(10)) {
            logger.error("lines of closed log connections could not be handed to the writers before shutdown")
        }
        await writers.stop()
        try await group.shutdownGracefully()
    }

    private func closeAll() async {
        let open = channels.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in open { try? await channel.close() }
    }

    private func router(listener: String, syslog: Bool, policy: LogLineRouter.Policy) -> LogLineRouter {
        LogLineRouter(
            decoder: decoder, writers: writers, metrics: metrics, listener: listener,
            format: syslog ? .syslog : .lines, policy: policy)
    }

    private func bindTCP(_ address: HostPort, syslog: Bool) async throws -> HostPort {
        let what = syslog ? "syslog TCP" : "logs TCP"
        let maxLine = config.maxLineBytes
        let clock = self.clock
        let metrics = self.metrics
        let (limiter, backlog) = (self.limiter, self.backlog)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65_536, maximum: 1 << 20))
                .childChannelInitializer { [tls = config.tcpTLS] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AdmissionHandler(limiter: limiter))
                        try tls?.secure(channel)
                        let router = self.router(listener: syslog ? "syslog_tcp" : "logs_tcp", syslog: syslog, policy: .keep)
                        try channel.pipeline.syncOperations.addHandler(LogStreamHandler(
                            framer: MessageFramer(mode: syslog ? .syslog : .lines, maxBytes: maxLine),
                            router: router, clock: clock, metrics: metrics, backlog: backlog))
                    }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            throw ListenerError(listener: what, address: address.description, underlying: "\(error)")
        }
        channels.withLock { $0.append(channel) }
        let actual = HostPort(host: address.host, port: channel.localAddress?.port ?? address.port)
        logger.info("listening for \(syslog ? "syslog" : "logs") over TCP", metadata: ["address": "\(actual)"])
        return actual
    }

    private func bindUDP(_ address: HostPort, syslog: Bool) async throws -> HostPort {
        let what = syslog ? "syslog UDP" : "logs UDP"
        let maxLine = config.maxLineBytes
        let clock = self.clock
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(clamping: config.receiveBufferBytes))
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let router = self.router(listener: syslog ? "syslog_udp" : "logs_udp", syslog: syslog, policy: .drop)
                        try channel.pipeline.syncOperations.addHandler(
                            LogDatagramHandler(router: router, clock: clock, syslog: syslog, maxBytes: maxLine))
                    }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            throw ListenerError(listener: what, address: address.description, underlying: "\(error)")
        }
        channels.withLock { $0.append(channel) }
        let actual = HostPort(host: address.host, port: channel.localAddress?.port ?? address.port)
        logger.info("listening for \(syslog ? "syslog" : "logs") over UDP", metadata: ["address": "\(actual)"])
        return actual
    }
}
