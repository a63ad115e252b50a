import Prometheus

/// Requests refused by the web config, by reason, in `/metrics`.
struct AccessMetrics: Sendable {
    enum Reason: String, CaseIterable, Sendable {
        case missingCredentials = "missing_credentials"
        case wrongCredentials = "wrong_credentials"
        case forbidden = "missing_scope"
        case busy = "too_many_password_checks"
    }

    private let counters: [Reason: Counter]
    private let rateLimitedPushes: Counter

    init(registry: PrometheusCollectorRegistry) {
        var counters: [Reason: Counter] = [:]
        for reason in Reason.allCases {
            counters[reason] = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "tally_http_requests_refused", unitName: "total",
                    helpText: "HTTP requests refused by the web config (401, 403, 503), by reason."),
                labels: [("reason", reason.rawValue)])
        }
        self.counters = counters
        rateLimitedPushes = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_http_push_rate_limited_requests", unitName: "total",
            helpText: "Pushes answered 429 because their client exceeded limits.push_rate_per_client."))
    }

    func rateLimited() {
        rateLimitedPushes.increment()
    }

    func refused(_ reason: Reason) {
        counters[reason]?.increment()
    }
}
