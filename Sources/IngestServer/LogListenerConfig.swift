import LogWire

/// Where and how tally listens for logs (the `logs:` section of tally.yaml).
/// A nil address disables that listener.
public struct LogListenerConfig: Sendable {
    /// JSON lines and logfmt over TCP and UDP.
    public var tcp: HostPort? = HostPort(host: "0.0.0.0", port: 5170)
    public var udp: HostPort? = HostPort(host: "0.0.0.0", port: 5170)
    /// Syslog (RFC 5424 and 3164) over TCP (octet-counted or newline-framed) and UDP.
    public var syslogTCP: HostPort? = HostPort(host: "0.0.0.0", port: 5514)
    public var syslogUDP: HostPort? = HostPort(host: "0.0.0.0", port: 5514)
    /// Longer lines are cut there, with a marker, and counted.
    public var maxLineBytes = 256 << 10
    /// Simultaneous TCP connections (logs and syslog together); more are closed on accept and counted.
    public var maxTCPConnections = 1024
    /// TLS on the logs and syslog TCP listeners (the web config's certificate); nil: plain TCP.
    public var tcpTLS: StreamTLS?
    /// Requested SO_RCVBUF of each UDP socket, in bytes.
    public var receiveBufferBytes = 8 << 20
    /// Writer shards, each with its ring and thread.
    public var writers = 2
    /// Batches (of up to 64 KiB) each writer's ring holds.
    public var ringCapacity = 1024
    /// Which fields become stream labels.
    public var labels = LogLabelConfig()

    public init() {}
}
