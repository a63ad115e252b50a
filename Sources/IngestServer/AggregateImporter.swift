import Aggregation
import Prometheus
import TelemetryModel

/// Takes agents' `AggregateRequest`s at the central tally: each request is
/// decoded and checked whole, then its aggregates go to the shards as the
/// lines they summarise would (sketches and estimated sets merged), so the
/// quantiles and distinct counts flushed here are those of every agent's
/// data together. Waits for room in the shards' rings rather than drop
/// anything an agent was told was taken (a request cut short by shutdown is
/// answered 503, so the agent sends it again).
public final class AggregateImporter: AggregateIntake {
    private let factory: RouterFactory
    private let config: AggregationConfig
    private let imported: Counter
    private let refused: Counter

    public init(factory: RouterFactory, config: AggregationConfig, registry: PrometheusCollectorRegistry) {
        self.factory = factory
        self.config = config
        imported = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_aggregates_imported", unitName: "total",
            helpText: "Aggregates (one series' interval of StatsD state) taken from agents at POST /api/v1/aggregates."))
        refused = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "tally_aggregate_requests_refused", unitName: "total",
            helpText: "Agents' aggregate requests refused whole (malformed, or other sketch settings)."))
    }

    public func importAggregates(_ request: [UInt8]) async -> Result<Int, AggregateIntakeRefusal> {
        let router = factory.makeRouter(policy: .keep)
        let routed = request.withUnsafeBytes { raw in
            Result { () throws(AggregateWire.Refusal) -> Int in
                try router.route(
                    aggregateRequest: raw, relativeAccuracy: config.sketchRelativeAccuracy, hllPrecision: config.hllPrecision)
            }
        }
        let count: Int
        switch routed {
        case .success(let taken):
            count = taken
        case .failure(let refusal):
            refused.increment()
            return .failure(AggregateIntakeRefusal(refusal.description))
        }
        while !router.flush() {
            do {
                try await Task.sleep(for: .milliseconds(1))
            } catch {
                // Shutting down with part of the request still waiting for the rings: the agent sends it
                // again to the next tally up (what went in is then counted twice, as for any resend).
                return .failure(AggregateIntakeRefusal("tally is shutting down; send again", retryable: true))
            }
        }
        imported.increment(by: Int64(count))
        return .success(count)
    }
}
