import ConnectionAdmission
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization
import TelemetryModel

/// The StatsD listeners: UDP (several SO_REUSEPORT sockets, vectored reads),
/// TCP and an optional Unix datagram socket. `bind()` runs before the
/// service group starts, so a port in use stops tally before anything else;
/// `run()` waits for shutdown, then closes every channel, whose handlers push
/// their last batches to the shards.
public final class StatsDIngestService: Service {
    private let config: StatsDListenerConfig
    private let factory: RouterFactory
    private let metrics: IngestMetrics
    private let clock: any WallClock
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let limiter: ConnectionLimiter
    private let backlog = ClosingBacklog()
    private let channels = Mutex<[any Channel]>([])
    private let unixReceiver = Mutex<UnixDatagramReceiver?>(nil)
    private let bound = Atomic<Bool>(false)

    /// The addresses actually bound (ports resolved when 0 was asked).
    public struct BoundAddresses: Sendable {
        public var udp: HostPort?
        public var tcp: HostPort?
        public var unixPath: String?
    }

    public init(config: StatsDListenerConfig, factory: RouterFactory, metrics: IngestMetrics,
                clock: any WallClock, logger: Logger) {
        self.config = config
        self.factory = factory
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, config.udpSockets))
        limiter = ConnectionLimiter(limit: config.maxTCPConnections, minimumWait: .seconds(10), observer: metrics.admission)
    }

    /// True once every configured listener is bound.
    public var isReady: Bool { bound.load(ordering: .acquiring) }

    /// Binds every configured listener; throws `ListenerError` naming the one that failed.
    @discardableResult
    public func bind() async throws -> BoundAddresses {
        var addresses = BoundAddresses()
        do {
            if let udp = config.udp {
                addresses.udp = try await bindUDP(udp)
            }
            if let tcp = config.tcp {
                addresses.tcp = try await bindTCP(tcp)
            }
            if let path = config.unixPath {
                try await bindUnix(path)
                addresses.unixPath = path
            }
        } catch {
            await closeAll()
            try? await group.shutdownGracefully()
            throw error
        }
        bound.store(true, ordering: .releasing)
        return addresses
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await closeAll()
        // Closed TCP connections may still hold lines a full ring refused;
        // the shards are still running, so give those lines time to go.
        if await !backlog.wait(timeout: .seconds(10)) {
            logger.error("lines of closed TCP connections could not be handed to the shards before shutdown")
        }
        try await group.shutdownGracefully()
    }

    private func closeAll() async {
        let open = channels.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in open {
            try? await channel.close()
        }
        let receiver = unixReceiver.withLock { receiver in
            defer { receiver = nil }
            return receiver
        }
        await receiver?.stop()
    }

    private func remember(_ channel: any Channel) {
        channels.withLock { $0.append(channel) }
    }

    private func bindUDP(_ address: HostPort) async throws -> HostPort {
        var port = address.port
        let sockets = max(1, config.udpSockets)
        for index in 0..<sockets {
            let channel = try await withListenerError("StatsD UDP", HostPort(host: address.host, port: port)) {
                try await self.datagramBootstrap(transport: self.metrics.udp, reusePort: sockets > 1)
                    .bind(host: address.host, port: port).get()
            }
            remember(channel)
            if index == 0, let actual = channel.localAddress?.port { port = actual }
            await ensureReceiveBuffer(channel)
        }
        logger.info("listening for StatsD over UDP", metadata: [
            "address": "\(HostPort(host: address.host, port: port))", "sockets": "\(sockets)"])
        return HostPort(host: address.host, port: port)
    }

    private func bindUnix(_ path: String) async throws {
        let receiver = try await withListenerError("StatsD Unix datagram socket", nil, path: path) {
            try UnixDatagramReceiver(
                path: path, receiveBufferBytes: self.config.receiveBufferBytes,
                maxDatagramBytes: self.config.maxDatagramBytes, factory: self.factory,
                metrics: self.metrics.unix, clock: self.clock)
        }
        receiver.start()
        unixReceiver.withLock { $0 = receiver }
        logger.info("listening for StatsD on a Unix datagram socket", metadata: ["path": "\(path)"])
    }

    private func datagramBootstrap(transport: TransportMetrics, reusePort: Bool) -> DatagramBootstrap {
        let factory = self.factory
        let clock = self.clock
        let perRead = max(1, config.datagramsPerRead)
        var bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(clamping: config.receiveBufferBytes))
            .channelOption(.datagramVectorReadMessageCount, value: perRead)
            // Each of the `perRead` datagrams gets `maxDatagramBytes`: without
            // this fixed allocator NIO hands out small slices and datagrams
            // are truncated silently (SWIFT-NOTES.md).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: perRead * config.maxDatagramBytes))
            .channelOption(.maxMessagesPerRead, value: 4)
        if reusePort {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_REUSEPORT)), value: 1)
        }
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    DatagramHandler(factory: factory, metrics: transport, clock: clock))
            }
        }
    }

    /// Linux caps SO_RCVBUF at net.core.rmem_max; as root, SO_RCVBUFFORCE
    /// passes the cap. Either way the size in force is logged.
    private func ensureReceiveBuffer(_ channel: any Channel) async {
        let wanted = config.receiveBufferBytes
        // The kernel reports twice the size it was asked for (bookkeeping overhead).
        var actual = (try? await channel.getOption(.socketOption(.so_rcvbuf)).get()).map { Int($0) / 2 } ?? 0
        #if os(Linux)
        if actual < wanted {
            let force = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: 33 /* SO_RCVBUFFORCE */)
            if (try? await channel.setOption(force, value: SocketOptionValue(clamping: wanted)).get()) != nil {
                actual = (try? await channel.getOption(.socketOption(.so_rcvbuf)).get()).map { Int($0) / 2 } ?? actual
            }
        }
        #endif
        if actual < wanted {
            logger.warning("UDP receive buffer is smaller than configured; raise net.core.rmem_max or run with CAP_NET_ADMIN", metadata: [
                "configured_bytes": "\(wanted)", "actual_bytes": "\(actual)"])
        } else {
            logger.info("UDP receive buffer in force", metadata: ["bytes": "\(actual)"])
        }
    }

    private func bindTCP(_ address: HostPort) async throws -> HostPort {
        let factory = self.factory
        let metrics = self.metrics
        let clock = self.clock
        let (limiter, backlog) = (self.limiter, self.backlog)
        let channel = try await withListenerError("StatsD TCP", address) {
            try await ServerBootstrap(group: self.group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                // Reads of up to 1 MiB: fewer trips through the pipeline per line.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65_536, maximum: 1 << 20))
                .childChannelInitializer { [tls = config.tcpTLS] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AdmissionHandler(limiter: limiter))
                        try tls?.secure(channel)
                        try channel.pipeline.syncOperations.addHandler(
                            StreamLineHandler(factory: factory, metrics: metrics, clock: clock, backlog: backlog))
                    }
                }
                .bind(host: address.host, port: address.port).get()
        }
        remember(channel)
        let port = channel.localAddress?.port ?? address.port
        logger.info("listening for StatsD over TCP", metadata: ["address": "\(HostPort(host: address.host, port: port))"])
        return HostPort(host: address.host, port: port)
    }

    private func withListenerError<T>(
        _ what: String, _ address: HostPort?, path: String? = nil, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch {
            throw ListenerError(listener: what, address: address?.description ?? path ?? "?", underlying: "\(error)")
        }
    }
}

/// A listener that could not be bound: which one, where, and why.
public struct ListenerError: Error, CustomStringConvertible, Sendable {
    public var listener: String
    public var address: String
    public var underlying: String
    public var description: String { "cannot listen for \(listener) on \(address): \(underlying)" }

    public init(listener: String, address: String, underlying: String) {
        self.listener = listener
        self.address = address
        self.underlying = underlying
    }
}

extension SocketOptionValue {
    init(clamping value: Int) {
        self = SocketOptionValue(Swift.min(value, Int(Int32.max)))
    }
}
