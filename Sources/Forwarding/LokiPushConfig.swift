/// One Loki push destination, as the `loki_push:` list of tally.yaml gives
/// it (shaped like Promtail's `clients:`). Only the endpoint's `url` is required.
public struct LokiPushConfig: Sendable {
    public var endpoint: PushEndpoint
    /// Sent as `X-Scope-OrgID` (Loki's tenant), when set.
    public var tenantID: String?
    /// A request is sent once this many bytes of lines are waiting (Promtail's `batchsize`).
    public var batchBytes = 1 << 20
    /// The longest a line waits for its request to fill (milliseconds; Promtail's `batchwait`).
    public var batchWaitMillis: Int64 = 1_000
    public var minBackoffMillis: Int64 = 500
    public var maxBackoffMillis: Int64 = 300_000
    /// Labels added to every stream sent (a stream's own label of the same name wins).
    public var externalLabels: [String: String] = [:]

    public init(url: String) {
        endpoint = PushEndpoint(url: url)
        endpoint.timeoutMillis = 10_000
    }
}
