import ConnectionAdmission
import Prometheus

/// Per-transport traffic counters for `/metrics`.
public struct TransportMetrics: Sendable {
    public let lines: Counter
    public let datagrams: Counter
    public let bytes: Counter

    init(registry: PrometheusCollectorRegistry, transport: String) {
        lines = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_received_lines", unitName: "total",
            helpText: "Non-empty StatsD lines received, accepted or not."), labels: [("transport", transport)])
        datagrams = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_received_datagrams", unitName: "total",
            helpText: "Datagrams (UDP, Unix) or reads (TCP) received."), labels: [("transport", transport)])
        bytes = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_received_bytes", unitName: "total",
            helpText: "Bytes received."), labels: [("transport", transport)])
    }
}

/// The ingest server's own counters.
public struct IngestMetrics: Sendable {
    public let udp: TransportMetrics
    public let tcp: TransportMetrics
    public let unix: TransportMetrics
    public let tcpConnections: Gauge
    public let tcpRejectedConnections: Counter
    public let tcpEvictedConnections: Counter
    public let tcpBackpressurePauses: Counter

    public init(registry: PrometheusCollectorRegistry) {
        udp = TransportMetrics(registry: registry, transport: "udp")
        tcp = TransportMetrics(registry: registry, transport: "tcp")
        unix = TransportMetrics(registry: registry, transport: "unix")
        tcpConnections = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_tcp_connections", unitName: "",
            helpText: "Open StatsD TCP connections."))
        tcpRejectedConnections = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_tcp_rejected_connections", unitName: "total",
            helpText: "TCP connections closed on accept because max_tcp_connections was reached and none had been silent 10 s."))
        tcpEvictedConnections = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_tcp_evicted_connections", unitName: "total",
            helpText: "TCP connections silent 10 s or more, closed to make room for a new one at max_tcp_connections."))
        tcpBackpressurePauses = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_statsd_tcp_backpressure_pauses", unitName: "total",
            helpText: "Times a TCP connection stopped reading because a shard's ring was full."))
    }
}

extension IngestMetrics {
    /// The StatsD TCP listener's connection figures, as its limiter reports them.
    var admission: AdmissionObserver {
        let (open, refused, evicted) = (tcpConnections, tcpRejectedConnections, tcpEvictedConnections)
        return AdmissionObserver(
            openChanged: { open.set(Int64($0)) }, refused: { refused.increment() }, evicted: { evicted.increment() })
    }
}
