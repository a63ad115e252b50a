/// A DogStatsD event (`_e{…}`) or service check (`_sc|…`), kept so that the
/// retrospective can read deployments and incidents from it.
public struct TelemetryEvent: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case event
        case serviceCheck = "service_check"
    }

    public var kind: Kind
    /// The event title, or the service check name.
    public var title: String
    /// The event text, or the service check message.
    public var text: String
    /// Milliseconds since the epoch: the sender's (`d:`) or the arrival time.
    public var timestamp: Int64
    public var hostname: String?
    public var aggregationKey: String?
    /// `normal` or `low`.
    public var priority: String?
    public var sourceType: String?
    /// `error`, `warning`, `info` or `success`.
    public var alertType: String?
    /// A service check's status: 0 OK, 1 warning, 2 critical, 3 unknown.
    public var status: Int?
    /// DogStatsD tags, as labels (see docs/naming.md).
    public var tags: [Label]

    public init(
        kind: Kind, title: String, text: String, timestamp: Int64,
        hostname: String? = nil, aggregationKey: String? = nil, priority: String? = nil,
        sourceType: String? = nil, alertType: String? = nil, status: Int? = nil, tags: [Label] = []
    ) {
        self.kind = kind
        self.title = title
        self.text = text
        self.timestamp = timestamp
        self.hostname = hostname
        self.aggregationKey = aggregationKey
        self.priority = priority
        self.sourceType = sourceType
        self.alertType = alertType
        self.status = status
        self.tags = tags
    }
}

/// Where parsed events and service checks go. Implementations are called from
/// the receive event loops, so they must be quick and must not block.
public protocol EventSink: Sendable {
    func record(_ event: TelemetryEvent)
}

/// Reads stored events back, oldest first.
public protocol EventQuerier: Sendable {
    /// Fails when events in the range are in damaged or unreadable data.
    func events(start: Int64, end: Int64, limit: Int) throws(StoredDataError) -> [TelemetryEvent]
}
