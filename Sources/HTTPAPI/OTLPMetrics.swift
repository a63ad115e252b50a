import Prometheus

/// The OTLP receiver's figures in `/metrics`: data points and log records
/// stored and refused by reason, and requests refused whole by reason.
struct OTLPMetrics: Sendable {
    /// Why a whole request was refused.
    enum RequestReason: String, CaseIterable, Sendable {
        case tooLarge = "too_large"
        case badBody = "bad_body"
        case unsupportedMediaType = "unsupported_media_type"
        case unsupportedEncoding = "unsupported_encoding"
        case overloaded
        case empty
        case unavailable
    }

    /// Why a data point or log record of an accepted request was refused.
    static let itemReasons = [
        "invalid", "delta_series_limit", "out_of_order", "duplicate_timestamp", "too_old", "unknown_series", "store_refused",
        "too_many_labels", "label_name_too_long", "label_value_too_long", "series_limit", "series_per_metric_limit",
    ]

    let pointsReceived: Counter
    let recordsReceived: Counter
    let pointsRejected: [String: Counter]
    let recordsRejected: [String: Counter]
    let requestsRejected: [String: [RequestReason: Counter]]

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help), labels: labels)
        }
        pointsReceived = counter("tally_otlp_received_samples", "Samples stored from OTLP metrics (POST /v1/metrics), after translation.")
        recordsReceived = counter("tally_otlp_received_log_records", "Log records stored from OTLP logs (POST /v1/logs).")
        var points: [String: Counter] = [:]
        var records: [String: Counter] = [:]
        for reason in Self.itemReasons {
            points[reason] = counter(
                "tally_otlp_rejected_data_points", "OTLP data points (or samples translated from them) refused, by reason; the rest of the request is kept.",
                [("reason", reason)])
            records[reason] = counter(
                "tally_otlp_rejected_log_records", "OTLP log records refused, by reason; the rest of the request is kept.", [("reason", reason)])
        }
        pointsRejected = points
        recordsRejected = records
        var requests: [String: [RequestReason: Counter]] = [:]
        for signal in ["metrics", "logs"] {
            for reason in RequestReason.allCases {
                requests[signal, default: [:]][reason] = counter(
                    "tally_otlp_rejected_requests", "OTLP requests refused whole, by signal and reason.", [("signal", signal), ("reason", reason.rawValue)])
            }
        }
        requestsRejected = requests
    }
}
