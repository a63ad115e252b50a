import Aggregation
import StatsDWire
import TelemetryModel

/// Everything a receive handler needs to make its own `LineRouter`.
public struct RouterFactory: Sendable {
    public let inputs: [ShardInput]
    public let parser: StatsDParser
    public let metrics: AggregationMetrics
    public let events: any EventSink
    public let badLineLog: BadLineLog
    public let maxLineBytes: Int

    public init(inputs: [ShardInput], parser: StatsDParser, metrics: AggregationMetrics,
                events: any EventSink, badLineLog: BadLineLog, maxLineBytes: Int) {
        self.inputs = inputs
        self.parser = parser
        self.metrics = metrics
        self.events = events
        self.badLineLog = badLineLog
        self.maxLineBytes = maxLineBytes
    }

    func makeRouter(policy: LineRouter.FullRingPolicy) -> LineRouter {
        LineRouter(inputs: inputs, parser: parser, metrics: metrics, events: events,
                   badLineLog: badLineLog, policy: policy, maxLineLength: maxLineBytes)
    }
}
