import TelemetryModel

/// Which of a record's fields become its stream labels. Every other field
/// stays structured data beside the line. `source` is always a label, set
/// from the path the record came by, so listing it here changes nothing.
public struct LogLabelConfig: Sendable, Equatable {
    /// Labels a stream may carry at most, `source` and `parse_error` included (Loki's default).
    public static let maxLabels = 15

    /// Field names taken as labels, when a record has them.
    public var labelFields: [String]
    /// A label value longer than this stays a field instead (Loki's default limit).
    public var maxLabelValueBytes: Int

    public static let defaultLabelFields = ["service", "level", "host", "env"]

    public init(labelFields: [String] = LogLabelConfig.defaultLabelFields, maxLabelValueBytes: Int = 2048) {
        self.labelFields = labelFields
        self.maxLabelValueBytes = maxLabelValueBytes
    }

    /// Why the configuration cannot be used, or nil.
    public var problem: String? {
        for name in labelFields where !Labels.isValidName(name) || name.hasPrefix("__") {
            return "log label field \"\(name)\" is not a valid label name"
        }
        let extra = labelFields.filter { $0 != "source" && $0 != "parse_error" }
        if extra.count > Self.maxLabels - 2 {
            return "at most \(Self.maxLabels - 2) log label fields (besides source and parse_error), got \(extra.count)"
        }
        return nil
    }
}
