import ConnectionAdmission
import Prometheus

/// One HTTP listener's connections in `/metrics`: how many are open, and
/// the slow request heads closed (by `http.read_header_timeout`, or to make
/// room while the listener was full).
public struct HTTPConnectionMetrics: Sendable {
    private let open: Gauge
    private let timedOut: Counter
    private let displaced: Counter

    /// `listener`: `http` for the API port, `otlp` for OTLP/HTTP's.
    public init(registry: PrometheusCollectorRegistry, listener: String) {
        open = registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "tally_http_connections", unitName: "", helpText: "Open HTTP connections, by listener."),
            labels: [("listener", listener)])
        let closed = MetricNameDescriptor(
            metricName: "tally_http_slow_request_heads_closed", unitName: "total",
            helpText: "Connections closed because their request head was slow: not whole within http.read_header_timeout, "
                + "or arriving for a second or more while the listener was full (displaced), by listener and reason.")
        timedOut = registry.makeCounter(descriptor: closed, labels: [("listener", listener), ("reason", "read_header_timeout")])
        displaced = registry.makeCounter(descriptor: closed, labels: [("listener", listener), ("reason", "displaced")])
    }

    /// What the listener's `ConnectionLimiter` reports.
    public var admission: AdmissionObserver {
        let (open, displaced) = (open, displaced)
        return AdmissionObserver(openChanged: { open.set(Int64($0)) }, evicted: { displaced.increment() })
    }

    /// A head not whole within `http.read_header_timeout`.
    public func headTimedOut() {
        timedOut.increment()
    }
}
