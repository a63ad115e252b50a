import TelemetryModel

/// A rule that gives the streams its matchers select their own retention
/// period and out-of-order window, as Loki's `retention_stream` does. Tally's
/// defaults keep delivery events (`{event=~"deployment|incident"}`) for over
/// a year and accept them at any age within it, so history can be imported
/// and the report can look back further than the logs are kept.
///
/// The chunks of streams a rule selects are written to segments of their
/// own, so that each segment expires as a whole; small ones are merged as
/// they accumulate.
public struct StreamRetention: Sendable {
    /// Every matcher must match the stream's labels.
    public var matchers: [LabelMatcher]
    /// Segments of these streams wholly older than this are deleted (nanoseconds).
    public var periodNanos: Int64
    /// How far behind its stream's newest entry an entry may be; nil: the store's window.
    public var outOfOrderWindowNanos: Int64?

    public init(matchers: [LabelMatcher], periodNanos: Int64, outOfOrderWindowNanos: Int64? = nil) {
        self.matchers = matchers
        self.periodNanos = periodNanos
        self.outOfOrderWindowNanos = outOfOrderWindowNanos
    }
}

/// What a stream's labels give it: its retention, its out-of-order window,
/// and which segments its chunks are written to.
struct StreamPolicy: Sendable, Equatable {
    /// Index of the first rule that matched, or -1 for the store's defaults.
    let rule: Int
    let retentionNanos: Int64
    let outOfOrderWindowNanos: Int64

    init(_ labels: Labels, options: LogStoreOptions) {
        for (index, rule) in options.retentionStreams.enumerated() where rule.matchers.allSatisfy({ $0.matches(labels) }) {
            self.rule = index
            retentionNanos = rule.periodNanos
            outOfOrderWindowNanos = rule.outOfOrderWindowNanos ?? options.outOfOrderWindowNanos
            return
        }
        rule = -1
        retentionNanos = options.retentionNanos
        outOfOrderWindowNanos = options.outOfOrderWindowNanos
    }
}
