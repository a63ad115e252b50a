import Prometheus
import Synchronization
import TelemetryModel

/// tally watching itself, as Prometheus scrapes itself: each round stores
/// every sample of tally's own `/metrics` in its own store, with the
/// scrape's labels (`job`, `instance`) and an `up` of 1, so that dashboards
/// and rules on tally's figures run against tally itself and the figures are
/// forwarded with everything else. The set of series is small and lasts as
/// long as the process: references are kept, never released.
public final class SelfScrape: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let sink: any SampleSink
    private let targetLabels: [Label]
    private let references = Mutex<[Labels: SeriesRef]>([:])

    /// `targetLabels` are added to every sample (they win over a label of the same name).
    public init(registry: PrometheusCollectorRegistry, sink: any SampleSink, targetLabels: [String: String]) {
        self.registry = registry
        self.sink = sink
        self.targetLabels = targetLabels.sorted { $0.key < $1.key }.map { Label($0.key, $0.value) }
    }

    /// Stores one round, stamped `nowMillis`; returns the number of samples stored.
    @discardableResult
    public func scrape(nowMillis: Int64) throws(ExpositionText.ParseError) -> Int {
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        var samples = try ExpositionText.samples(text)
        samples.append(ExpositionText.Sample(labels: Labels(name: "up"), value: 1))
        let series = samples.map { Labels($0.labels.pairs + targetLabels) }
        let refs: [SeriesRef] = references.withLock { known in
            series.map { labels in
                if let ref = known[labels] { return ref }
                let ref = sink.register(labels)
                known[labels] = ref
                return ref
            }
        }
        sink.append(zip(refs, samples).map { RefSample(ref: $0, timestamp: nowMillis, value: $1.value) })
        return samples.count
    }
}
