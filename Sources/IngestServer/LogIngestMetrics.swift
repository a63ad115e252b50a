import ConnectionAdmission
import LogWire
import Prometheus

/// The log listeners' own figures in `/metrics`: traffic per listener, and
/// every line that was not taken as it came, by reason.
public struct LogIngestMetrics: Sendable {
    /// Traffic of one listener.
    public struct Listener: Sendable {
        let lines: Counter
        let bytes: Counter
    }

    public let listeners: [String: Listener]
    let parseErrors: [LogSource: Counter]
    let truncated: Counter
    let invalidUTF8: Counter
    let droppedRingFull: Counter
    let tcpConnections: Gauge
    let tcpRejectedConnections: Counter
    let tcpEvictedConnections: Counter
    let tcpBackpressurePauses: Counter
    let writeFailures: Counter
    /// DogStatsD events tagged as deployments or incidents whose fields do not check out, by reason.
    let refusedDeliveryEvents: [String: Counter]

    public static let listenerNames = ["logs_tcp", "logs_udp", "syslog_tcp", "syslog_udp", "http"]

    public init(registry: PrometheusCollectorRegistry) {
        var listeners: [String: Listener] = [:]
        for name in Self.listenerNames {
            listeners[name] = Listener(
                lines: registry.makeCounter(descriptor: MetricNameDescriptor(
                    metricName: "tally_logs_received_lines", unitName: "total",
                    helpText: "Log lines (messages) received, taken or not."), labels: [("listener", name)]),
                bytes: registry.makeCounter(descriptor: MetricNameDescriptor(
                    metricName: "tally_logs_received_bytes", unitName: "total",
                    helpText: "Bytes of log lines received."), labels: [("listener", name)]))
        }
        self.listeners = listeners
        var parseErrors: [LogSource: Counter] = [:]
        for format in [LogSource.json, .logfmt, .syslog] {
            parseErrors[format] = registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_logs_parse_errors", unitName: "total",
                helpText: "Lines that were not the format they claimed, kept raw with a parse_error label."),
                labels: [("format", format.rawValue)])
        }
        self.parseErrors = parseErrors
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help))
        }
        truncated = counter("tally_logs_truncated_lines", "Lines longer than max_line_bytes, kept cut with a marker.")
        invalidUTF8 = counter("tally_logs_invalid_utf8_lines", "Lines whose invalid UTF-8 was replaced by U+FFFD.")
        droppedRingFull = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_logs_dropped_lines", unitName: "total",
            helpText: "Log lines dropped before storage, by reason."), labels: [("reason", "ring_full")])
        tcpConnections = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "tally_logs_tcp_connections", unitName: "", helpText: "Open log and syslog TCP connections."))
        tcpRejectedConnections = counter(
            "tally_logs_tcp_rejected_connections",
            "Log TCP connections closed on accept because max_tcp_connections was reached and none had been silent 10 s.")
        tcpEvictedConnections = counter(
            "tally_logs_tcp_evicted_connections",
            "Log TCP connections silent 10 s or more, closed to make room for a new one at max_tcp_connections.")
        tcpBackpressurePauses = counter(
            "tally_logs_tcp_backpressure_pauses", "Times a log TCP connection stopped reading because a writer's ring was full.")
        writeFailures = counter(
            "tally_logs_write_failures", "Batches a log writer could not store (WAL errors); retried until they go.")
        var refused: [String: Counter] = [:]
        for reason in ["missing_field", "bad_time", "bad_value"] {
            refused[reason] = registry.makeCounter(descriptor: MetricNameDescriptor(
                metricName: "tally_delivery_events_refused", unitName: "total",
                helpText: "DogStatsD deployment and incident events refused for a missing or malformed field (docs/events.md)."),
                labels: [("reason", reason)])
        }
        refusedDeliveryEvents = refused
    }
}

extension LogIngestMetrics {
    /// The log TCP listeners' connection figures, as their limiter reports them.
    var admission: AdmissionObserver {
        let (open, refused, evicted) = (tcpConnections, tcpRejectedConnections, tcpEvictedConnections)
        return AdmissionObserver(
            openChanged: { open.set(Int64($0)) }, refused: { refused.increment() }, evicted: { evicted.increment() })
    }
}
