/// One remote_write destination, as the `remote_write:` list of tally.yaml
/// gives it (shaped like Prometheus's). Only `url` is required.
public struct RemoteWriteConfig: Sendable {
    /// Where to POST, e.g. `http://vm:8428/api/v1/write`.
    public var url: String
    /// Names the destination in `/metrics` and its position file; derived from the URL when empty.
    public var name = ""
    /// Extra request headers.
    public var headers: [String: String] = [:]
    public var basicAuth: BasicAuth?
    public var bearerToken: String?
    /// A file holding the bearer token, read at each request (so it can rotate).
    public var bearerTokenFile: String?
    public var tls = TLSSettings()
    public var relabel: [RelabelRule] = []
    public var queue = QueueSettings()
    /// How long one request may take before it counts as failed and is retried (milliseconds).
    public var remoteTimeoutMillis: Int64 = 30_000
    /// The most WAL this destination keeps behind it on disk; past it the
    /// oldest unsent samples are dropped (counted). 0: no cap.
    public var maxDiskUsageBytes: Int64 = 1 << 30

    public init(url: String) {
        self.url = url
    }

    public struct BasicAuth: Sendable {
        public var username: String
        public var password: String?
        public var passwordFile: String?

        public init(username: String, password: String? = nil, passwordFile: String? = nil) {
            self.username = username
            self.password = password
            self.passwordFile = passwordFile
        }
    }

    public struct TLSSettings: Sendable {
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var serverName: String?
        public var insecureSkipVerify = false

        public init() {}
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

    /// The name used when none is given: the URL's host, port and path with
    /// every other byte made `_`.
    public var effectiveName: String {
        if !name.isEmpty { return name }
        var text = Substring(url)
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        return String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }
}
