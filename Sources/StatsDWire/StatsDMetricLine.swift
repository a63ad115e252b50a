import TelemetryModel

/// One parsed metric line, as byte ranges into the line it came from, so
/// parsing allocates nothing. Valid only while the line's bytes are.
public struct StatsDMetricLine: Sendable {
    /// The metric name, as sent.
    public var name: Range<Int>
    /// The value field: one value, or several separated by `:` (not for sets,
    /// whose member is the whole field).
    public var values: Range<Int>
    public var kind: MetricKind
    /// The first value (0 for sets); a gauge's `+N`/`-N` is a delta.
    public var firstValue: Double
    /// Whether the first value of a gauge was a `+N`/`-N` delta.
    public var firstIsDelta: Bool
    /// How many values the line carries (`x:1:2:3|ms` carries three).
    public var valueCount: Int
    /// The sample rate, in (0, 1]; 1 when absent.
    public var sampleRate: Double
    /// The tags without the leading `#` (empty when absent).
    public var tags: Range<Int>
    /// The DogStatsD container id (`|c:…`), empty when absent.
    public var container: Range<Int>
    /// The DogStatsD `|T` timestamp in Unix seconds, or nil.
    public var timestamp: Int64?

    public init(
        name: Range<Int>, values: Range<Int>, kind: MetricKind, firstValue: Double,
        firstIsDelta: Bool, valueCount: Int, sampleRate: Double, tags: Range<Int>,
        container: Range<Int>, timestamp: Int64?
    ) {
        self.name = name
        self.values = values
        self.kind = kind
        self.firstValue = firstValue
        self.firstIsDelta = firstIsDelta
        self.valueCount = valueCount
        self.sampleRate = sampleRate
        self.tags = tags
        self.container = container
        self.timestamp = timestamp
    }
}

/// What one line turned out to be.
public enum StatsDLineOutcome: Sendable {
    case metric(StatsDMetricLine)
    case event(TelemetryEvent)
    /// An empty line (or one of only `\r`): skipped, not an error.
    case empty
    case failure(StatsDParseError)
}
