/// Why a StatsD line was rejected. Each reason is a label value of
/// `tally_statsd_bad_lines_total{reason=…}`, documented in docs/naming.md.
public struct StatsDParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: UInt8, CaseIterable, Sendable {
        case missingColon
        case emptyName
        case invalidName
        case nameTooLong
        case missingValue
        case invalidValue
        case missingType
        case unknownType
        case invalidSampleRate
        case invalidTags
        case invalidTimestamp
        case invalidField
        case nulByte
        case lineTooLong
        case invalidEvent
        case invalidServiceCheck

        /// The label value used in `/metrics`.
        public var label: String {
            switch self {
            case .missingColon: "missing_colon"
            case .emptyName: "empty_name"
            case .invalidName: "invalid_name"
            case .nameTooLong: "name_too_long"
            case .missingValue: "missing_value"
            case .invalidValue: "invalid_value"
            case .missingType: "missing_type"
            case .unknownType: "unknown_type"
            case .invalidSampleRate: "invalid_sample_rate"
            case .invalidTags: "invalid_tags"
            case .invalidTimestamp: "invalid_timestamp"
            case .invalidField: "invalid_field"
            case .nulByte: "nul_byte"
            case .lineTooLong: "line_too_long"
            case .invalidEvent: "invalid_event"
            case .invalidServiceCheck: "invalid_service_check"
            }
        }

        /// A sentence for the log.
        public var explanation: String {
            switch self {
            case .missingColon: "no ':' between name and value"
            case .emptyName: "the metric name is empty"
            case .invalidName: "the name is not valid UTF-8 or holds a control character"
            case .nameTooLong: "the name is longer than the configured limit"
            case .missingValue: "the value is empty"
            case .invalidValue: "the value is not a finite decimal number"
            case .missingType: "no '|type' after the value"
            case .unknownType: "the type is not one of c, g, ms, h, d, s"
            case .invalidSampleRate: "the sample rate is not a number in (0, 1]"
            case .invalidTags: "the tags are not valid UTF-8 or hold a control character"
            case .invalidTimestamp: "the |T timestamp is not a whole number of Unix seconds"
            case .invalidField: "a field after the type is neither @rate, #tags, c:, T nor an extension 'x:…'"
            case .nulByte: "the line holds a NUL byte"
            case .lineTooLong: "the line is longer than the configured limit"
            case .invalidEvent: "the _e{…} event is malformed"
            case .invalidServiceCheck: "the _sc service check is malformed"
            }
        }
    }

    public var reason: Reason
    /// The byte offset within the line where the problem was found.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason.label) at byte \(offset): \(reason.explanation)" }
}
