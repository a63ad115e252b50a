import Prometheus
import Synchronization

/// A counter per metric name, made on first use, for the first `maxNames`
/// names; later names share one counter labelled `_other`, so that an attack
/// with endless names cannot grow `/metrics` without bound. Used where a
/// refusal is worth knowing by name (the per-name series limit on every path).
public final class CountersByName: Sendable {
    public static let maxNames = 200
    private let registry: PrometheusCollectorRegistry
    private let metricName: String
    private let help: String
    private let counters = Mutex<[String: Counter]>([:])

    /// `metricName` without `_total`, which is added.
    public init(registry: PrometheusCollectorRegistry, metricName: String, help: String) {
        self.registry = registry
        self.metricName = metricName
        self.help = help
    }

    public func increment(_ name: String, by amount: Int = 1) {
        let counter = counters.withLock { counters -> Counter in
            if let known = counters[name] { return known }
            let key = counters.count < Self.maxNames ? name : "_other"
            if let other = counters[key] { return other }
            let made = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: metricName, unitName: "total", helpText: help), labels: [("name", key)])
            counters[key] = made
            return made
        }
        counter.increment(by: Int64(amount))
    }
}
