import Prometheus

/// Per-transport traffic counters for `/metrics`.
public struct TransportMetrics: Sendable {
    public let lines: Counter
    public let datagrams: Counter
    public let bytes: Counter

    init(registry: PrometheusCollectorRegistry, transport: String) {
        lines = registry.makeCounter(
            name: "tally_statsd_received_lines_total", labels: [("transport", transport)],
            help: "Non-empty StatsD lines received, accepted or not.")
        datagrams = registry.makeCounter(
            name: "tally_statsd_received_datagrams_total", labels: [("transport", transport)],
            help: "Datagrams (UDP, Unix) or reads (TCP) received.")
        bytes = registry.makeCounter(
            name: "tally_statsd_received_bytes_total", labels: [("transport", transport)],
            help: "Bytes received.")
    }
}

/// The ingest server's own counters.
public struct IngestMetrics: Sendable {
    public let udp: TransportMetrics
    public let tcp: TransportMetrics
    public let unix: TransportMetrics
    public let tcpConnections: Gauge
    public let tcpRejectedConnections: Counter
    public let tcpBackpressurePauses: Counter

    public init(registry: PrometheusCollectorRegistry) {
        udp = TransportMetrics(registry: registry, transport: "udp")
        tcp = TransportMetrics(registry: registry, transport: "tcp")
        unix = TransportMetrics(registry: registry, transport: "unix")
        tcpConnections = registry.makeGauge(name: "tally_statsd_tcp_connections", help: "Open StatsD TCP connections.")
        tcpRejectedConnections = registry.makeCounter(
            name: "tally_statsd_tcp_rejected_connections_total",
            help: "TCP connections closed on accept because max_tcp_connections was reached.")
        tcpBackpressurePauses = registry.makeCounter(
            name: "tally_statsd_tcp_backpressure_pauses_total",
            help: "Times a TCP connection stopped reading because a shard's ring was full.")
    }
}
