/// Agent mode (`agent:` in tally.yaml): where this tally forwards its StatsD
/// state (`POST /api/v1/aggregates` of a central tally) so that quantiles
/// and distinct counts are computed over every agent's data together.
public struct AgentConfig: Sendable {
    /// The central tally's aggregates endpoint, e.g. `http://central:9470/api/v1/aggregates`.
    public var endpoint: PushEndpoint
    /// Most bytes of state (before snappy) in one request.
    public var batchBytes = 4 << 20
    public var minBackoffMillis: Int64 = 100
    public var maxBackoffMillis: Int64 = 30_000

    public init(url: String) {
        endpoint = PushEndpoint(url: url)
        endpoint.name = "central"
    }
}
