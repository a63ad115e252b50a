/// Why the store refused an entry; each is a `reason` of
/// `tally_logs_rejected_entries_total`.
public enum LogRejectReason: String, Sendable, CaseIterable {
    /// Older than its stream's newest entry by more than the out-of-order window.
    case outOfOrder = "out_of_order"
    /// Older than the retention period.
    case tooOld = "too_old"
    /// Further ahead of the clock than `max_future` allows.
    case tooFarInFuture = "too_far_in_future"
    /// A new stream beyond `max_streams`.
    case streamLimit = "stream_limit"
    /// A stream with more labels than `max_labels_per_stream`.
    case tooManyLabels = "too_many_labels"
}

/// What became of a batch: how many entries were stored, how many refused
/// and why, with the first refusal spelled out for an HTTP answer.
public struct LogAppendResult: Sendable, Equatable {
    public var accepted = 0
    public var rejected: [LogRejectReason: Int] = [:]
    /// The first refusal, described for the sender.
    public var firstRejection: String?

    public init() {}

    public var rejectedCount: Int { rejected.values.reduce(0, +) }
}
