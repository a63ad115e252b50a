import DurableFiles

/// Where a forwarder sends and how it signs in: the part of a
/// `remote_write:` or `loki_push:` entry that is the same for both (shaped
/// like Prometheus's and Promtail's client settings). Only `url` is required.
public struct PushEndpoint: Sendable {
    /// Where to POST, e.g. `http://vm:8428/api/v1/write` or `http://loki:3100/loki/api/v1/push`.
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
    /// How long one request may take before it counts as failed and is retried (milliseconds).
    public var timeoutMillis: Int64 = 30_000
    /// The most WAL this destination keeps behind it on disk; past it the
    /// oldest unsent data is dropped (counted). 0: no cap.
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

    /// The name used when none is given: the URL's host, port and path with
    /// every other byte made `_`.
    public var effectiveName: String {
        if !name.isEmpty { return name }
        var text = Substring(url)
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        return String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }
}

extension PushEndpoint {
    /// Whether the WAL in `walDirectory` from `position` on (what this
    /// destination has still to send) is past `max_disk_usage`.
    func isOverDiskCap(from position: WALPosition, walDirectory: String) -> Bool {
        guard maxDiskUsageBytes > 0 else { return false }
        return ((try? WALTail.bytesFrom(position, directory: walDirectory)) ?? 0) > Int(maxDiskUsageBytes)
    }
}
