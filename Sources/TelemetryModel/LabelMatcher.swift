/// How a label matcher compares, as in PromQL selectors.
public enum MatchOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case regexMatch = "=~"
    case regexNoMatch = "!~"
}

/// The error thrown when a matcher's regular expression does not compile.
public struct InvalidRegexError: Error, CustomStringConvertible, Sendable {
    public var pattern: String
    public var reason: String
    public var description: String { "invalid regular expression \"\(pattern)\": \(reason)" }

    public init(pattern: String, reason: String) {
        self.pattern = pattern
        self.reason = reason
    }
}

/// One label matcher of a selector: `name op "value"`. Regular expressions
/// are anchored at both ends, as Prometheus does. A label a series does not
/// carry matches as the empty string.
public struct LabelMatcher: Sendable, CustomStringConvertible {
    public let name: String
    public let op: MatchOperator
    public let value: String
    // `Regex<AnyRegexOutput>` is not Sendable; the compiled form is only read.
    nonisolated(unsafe) private let regex: Regex<AnyRegexOutput>?

    public init(_ name: String, _ op: MatchOperator, _ value: String) throws(InvalidRegexError) {
        self.name = name
        self.op = op
        self.value = value
        switch op {
        case .equal, .notEqual:
            regex = nil
        case .regexMatch, .regexNoMatch:
            do {
                regex = try Regex(value)
            } catch {
                throw InvalidRegexError(pattern: value, reason: "\(error)")
            }
        }
    }

    /// Whether a label value (empty when absent) satisfies the matcher.
    public func matches(_ candidate: String) -> Bool {
        switch op {
        case .equal: return candidate == value
        case .notEqual: return candidate != value
        case .regexMatch: return fullMatch(candidate)
        case .regexNoMatch: return !fullMatch(candidate)
        }
    }

    /// Whether a series satisfies the matcher.
    public func matches(_ labels: Labels) -> Bool {
        matches(labels[name] ?? "")
    }

    /// True when the matcher selects series that lack the label, so it cannot
    /// narrow a selection on its own (Prometheus requires one that does not).
    public var matchesEmpty: Bool { matches("") }

    private func fullMatch(_ candidate: String) -> Bool {
        guard let regex else { return false }
        return (try? regex.wholeMatch(in: candidate)) != nil
    }

    public var description: String {
        "\(name)\(op.rawValue)\"\(escapeLabelValue(value))\""
    }
}

extension Array where Element == LabelMatcher {
    /// Whether a series satisfies every matcher.
    public func allMatch(_ labels: Labels) -> Bool {
        allSatisfy { $0.matches(labels) }
    }
}
