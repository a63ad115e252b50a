import Prometheus

/// The remote_write receiver's figures in `/metrics`: samples stored,
/// samples refused by reason, and requests refused whole by reason.
struct RemoteWriteMetrics: Sendable {
    /// Why a sample of an accepted request was refused.
    enum SampleReason: String, CaseIterable, Sendable {
        case outOfOrder = "out_of_order"
        case duplicateTimestamp = "duplicate_timestamp"
        case tooOld = "too_old"
        case unknownSeries = "unknown_series"
        case invalidLabels = "invalid_labels"
        case duplicateLabel = "duplicate_label_name"
        case missingMetricName = "missing_metric_name"
        case nativeHistogram = "native_histogram"
        case tooManyLabels = "too_many_labels"
        case labelNameTooLong = "label_name_too_long"
        case labelValueTooLong = "label_value_too_long"
        case seriesLimit = "series_limit"
        case seriesPerMetricLimit = "series_per_metric_limit"
    }

    /// Why a whole request was refused.
    enum RequestReason: String, CaseIterable, Sendable {
        case tooLarge = "too_large"
        case badSnappy = "bad_snappy"
        case badProtobuf = "bad_protobuf"
        case unsupportedEncoding = "unsupported_encoding"
        case unsupportedVersion = "unsupported_version"
        case overloaded
        case empty
    }

    let samplesReceived: Counter
    let seriesReceived: Counter
    let exemplarsDropped: Counter
    let samplesRejected: [SampleReason: Counter]
    let requestsRejected: [RequestReason: Counter]

    init(registry: PrometheusCollectorRegistry) {
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help), labels: labels)
        }
        samplesReceived = counter("tally_remote_write_received_samples", "Samples stored from remote_write requests (POST /api/v1/write).")
        seriesReceived = counter("tally_remote_write_received_series", "TimeSeries entries read from remote_write requests.")
        exemplarsDropped = counter("tally_remote_write_dropped_exemplars", "Exemplars in remote_write requests, which tally does not store.")
        var samples: [SampleReason: Counter] = [:]
        for reason in SampleReason.allCases {
            samples[reason] = counter(
                "tally_remote_write_rejected_samples", "Samples of remote_write requests refused (the rest of the request is kept), by reason.",
                [("reason", reason.rawValue)])
        }
        samplesRejected = samples
        var requests: [RequestReason: Counter] = [:]
        for reason in RequestReason.allCases {
            requests[reason] = counter(
                "tally_remote_write_rejected_requests", "remote_write requests refused whole, by reason.", [("reason", reason.rawValue)])
        }
        requestsRejected = requests
    }
}
