/// Why a store refused a sample, as Prometheus's TSDB names its append errors.
public enum SampleRejection: String, CaseIterable, Sendable {
    /// Older than the series' newest sample.
    case outOfOrder = "out_of_order"
    /// The same timestamp as the series' newest sample, with another value.
    case duplicateTimestamp = "duplicate_timestamp"
    /// Older than data already written to a block.
    case tooOld = "too_old"
    /// A reference the store does not know.
    case unknownSeries = "unknown_series"

    /// The words an error message uses for it.
    public var phrase: String {
        switch self {
        case .outOfOrder: "out of order sample"
        case .duplicateTimestamp: "duplicate sample for timestamp"
        case .tooOld: "out of bounds (older than the stored blocks)"
        case .unknownSeries: "unknown series reference"
        }
    }
}

/// What a sink did with one batch: how many samples it took, and why it
/// refused the others. A receiver that must answer its sender (remote_write)
/// needs this; aggregation, whose samples are always new, ignores it.
public struct SampleAppendReport: Sendable, Equatable {
    /// Samples stored (an exact duplicate of a stored sample counts as stored).
    public var accepted = 0
    /// Refused samples by reason.
    public var rejected: [SampleRejection: Int] = [:]
    /// The first refused sample: its position in the batch, and why.
    public var first: (index: Int, reason: SampleRejection)? {
        firstIndex.flatMap { index in firstReason.map { (index, $0) } }
    }

    private var firstIndex: Int?
    private var firstReason: SampleRejection?

    public init() {}

    /// Samples refused, all reasons together.
    public var rejectedCount: Int { rejected.values.reduce(0, +) }

    /// Counts one refusal of the sample at `index`.
    public mutating func reject(_ index: Int, _ reason: SampleRejection) {
        rejected[reason, default: 0] += 1
        if firstIndex == nil {
            firstIndex = index
            firstReason = reason
        }
    }
}
