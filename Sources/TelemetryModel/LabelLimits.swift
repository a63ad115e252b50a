/// The most labels a series may carry and the longest label name and value,
/// checked on every path that creates series (StatsD tags, remote_write,
/// OTLP), so that one sender cannot make series of unbounded size. The
/// defaults are VictoriaMetrics's (40 labels, values of 4 KiB).
public struct LabelLimits: Sendable, Equatable {
    /// Labels per series, the metric name included.
    public var maxLabels = 40
    public var maxNameBytes = 1_024
    public var maxValueBytes = 4_096

    public init() {}

    /// Why a series with these labels is refused, or nil when it is within the limits.
    public enum Violation: String, Sendable, CaseIterable {
        case tooManyLabels = "too_many_labels"
        case labelNameTooLong = "label_name_too_long"
        case labelValueTooLong = "label_value_too_long"
    }

    /// The first limit `labels` passes, with the words for an error message.
    public func violation(_ labels: Labels) -> (Violation, String)? {
        if labels.count > maxLabels { return (.tooManyLabels, "\(labels.count) labels, more than the \(maxLabels) allowed") }
        for label in labels {
            if label.name.utf8.count > maxNameBytes {
                return (.labelNameTooLong, "label name \(label.name.prefix(64))… is \(label.name.utf8.count) bytes, more than \(maxNameBytes)")
            }
            if label.value.utf8.count > maxValueBytes {
                return (.labelValueTooLong, "the value of label \(label.name) is \(label.value.utf8.count) bytes, more than \(maxValueBytes)")
            }
        }
        return nil
    }
}
