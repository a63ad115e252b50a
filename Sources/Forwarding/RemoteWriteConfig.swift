/// One remote_write destination, as the `remote_write:` list of tally.yaml
/// gives it (shaped like Prometheus's). Only the endpoint's `url` is required.
public struct RemoteWriteConfig: Sendable {
    public var endpoint: PushEndpoint
    public var relabel: [RelabelRule] = []
    public var queue = QueueSettings()

    public init(url: String) {
        endpoint = PushEndpoint(url: url)
    }

    /// The queue's sizes and timings (Prometheus's `queue_config`).
    public struct QueueSettings: Sendable {
        /// Most samples read from the WAL and held for one round of sends.
        public var capacity = 10_000
        public var minShards = 1
        public var maxShards = 50
        public var maxSamplesPerSend = 2_000
        /// The longest a sample waits for a request to fill (milliseconds).
        public var batchSendDeadlineMillis: Int64 = 5_000
        public var minBackoffMillis: Int64 = 30
        public var maxBackoffMillis: Int64 = 5_000
        /// Retry on 429 (honouring Retry-After); false drops the batch as any other 4xx.
        public var retryOnHTTP429 = true

        public init() {}
    }
}
