import TelemetryModel

/// Where and how tally listens for StatsD traffic (the `statsd:` section of
/// tally.yaml). A nil address disables that listener.
public struct StatsDListenerConfig: Sendable {
    public var udp: HostPort? = HostPort(host: "0.0.0.0", port: 8125)
    public var tcp: HostPort? = HostPort(host: "0.0.0.0", port: 8125)
    /// A Unix datagram socket path (DogStatsD's default transport), or nil.
    public var unixPath: String?
    /// UDP sockets bound with SO_REUSEPORT, each on its own event loop.
    public var udpSockets: Int = max(1, System.coreCount)
    /// Requested SO_RCVBUF of each UDP socket, in bytes.
    public var receiveBufferBytes: Int = 8 << 20
    /// The largest datagram accepted whole; larger ones are truncated by the kernel.
    public var maxDatagramBytes: Int = 65_536
    /// Datagrams read per recvmmsg call.
    public var datagramsPerRead: Int = 32
    /// Longest accepted line, in bytes (TCP and UDP).
    public var maxLineBytes: Int = 65_536
    /// Simultaneous TCP connections; more are closed on accept and counted.
    public var maxTCPConnections: Int = 1024
    /// TLS on the TCP listener (the web config's certificate); nil: plain TCP.
    public var tcpTLS: StreamTLS?

    public init() {}
}

/// A host and port, as written in tally.yaml and on the command line (`HOST:PORT`, `[::1]:PORT`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `:PORT` (all interfaces) or `[IPv6]:PORT`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
