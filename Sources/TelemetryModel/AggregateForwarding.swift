/// Where an agent's aggregation shards hand each interval's StatsD state
/// (an encoded `AggregateRequest`, docs/scale-out.md) on its way to the
/// central tally: the agent's durable queue.
public protocol AggregateExportSink: Sendable {
    func exportAggregates(_ request: [UInt8])
}

/// What takes an agent's `AggregateRequest` at the central tally and merges
/// it into the aggregation, as if the lines it summarises had arrived.
public protocol AggregateIntake: Sendable {
    /// Merges a whole request (after snappy) and returns the aggregates
    /// taken, or refuses the request whole with the reason.
    func importAggregates(_ request: [UInt8]) async -> Result<Int, AggregateIntakeRefusal>
}

/// Why an `AggregateRequest` was refused: for good (400, the agent drops
/// it), or for now (503, the agent sends it again).
public struct AggregateIntakeRefusal: Error, Sendable, CustomStringConvertible {
    public let description: String
    public let retryable: Bool

    public init(_ description: String, retryable: Bool = false) {
        self.description = description
        self.retryable = retryable
    }
}
