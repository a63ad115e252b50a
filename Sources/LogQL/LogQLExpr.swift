import TelemetryModel

/// A parsed LogQL query: a log query (a stream selector and a pipeline) or a
/// metric query built on one.
public indirect enum LogQLExpr: Sendable {
    case logs(LogSelector)
    case range(RangeAggregation)
    case vector(VectorAggregation)
    case binary(BinaryOperation)
    case number(Double)
    /// `label_replace(query, "dst", "replacement", "src", "regex")`.
    case labelReplace(LabelReplace)
    /// `vector(n)`: one series without labels, `n` at every step.
    case vectorOf(Double)

    /// Whether the query gives log lines (rather than numbers).
    public var isLogQuery: Bool {
        if case .logs = self { return true }
        return false
    }
}

/// `{matchers} | stage | stage ...`
public struct LogSelector: Sendable {
    public var matchers: [LabelMatcher]
    public var stages: [PipelineStage]
}

/// One step of a log pipeline.
public enum PipelineStage: Sendable {
    /// `|= "a"`, `!= "a"`, `|~ "re"`, `!~ "re"`, with `or` alternatives.
    case lineFilter(LineFilter)
    case json([(label: String, path: [String])])
    /// `| unpack`: the top-level string fields of a JSON line become labels, and
    /// `_entry` (where Promtail's `pack` stage put the original line) replaces the line.
    case unpack
    /// `| logfmt`; only `--strict` flags a malformed line with `__error__`.
    case logfmt(strict: Bool)
    case pattern(LinePattern)
    case regexp(LineRegex)
    case labelFilter(LabelFilter)
    case lineFormat(LineTemplate)
    /// `| label_format dst=src, dst="{{template}}"`.
    case labelFormat([(label: String, value: LabelFormatValue)])
    case drop([String])
    case keep([String])
    case decolorize
}

public enum LabelFormatValue: Sendable {
    case rename(String)
    case template(LineTemplate)
}

public enum LineFilterOp: Sendable {
    case contains, notContains, matches, notMatches
}

public struct LineFilter: Sendable {
    public var op: LineFilterOp
    public var patterns: [String]
    // `Regex<AnyRegexOutput>` is not Sendable; the compiled forms are only read.
    nonisolated(unsafe) var regexes: [Regex<AnyRegexOutput>]
    /// The UTF-8 of each pattern, for the substring search.
    var needles: [[UInt8]]
}

/// A tree of label conditions joined with `and` (also `,` and a space) and `or`.
public indirect enum LabelFilter: Sendable {
    case and(LabelFilter, LabelFilter)
    case or(LabelFilter, LabelFilter)
    case matcher(LabelMatcher)
    case number(name: String, op: ComparisonOp, value: Double)
    case duration(name: String, op: ComparisonOp, nanos: Int64)
    case bytes(name: String, op: ComparisonOp, value: Double)
}

public enum ComparisonOp: String, Sendable {
    case equal = "=="
    case notEqual = "!="
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="

    func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .equal: a == b
        case .notEqual: a != b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        case .less: a < b
        case .lessOrEqual: a <= b
        }
    }
}

/// `count_over_time(selector [5m])`, `sum_over_time(selector | unwrap x [5m]) by (a)`, …
public struct RangeAggregation: Sendable {
    public enum Op: String, Sendable, CaseIterable {
        case countOverTime = "count_over_time"
        case rate
        case bytesOverTime = "bytes_over_time"
        case bytesRate = "bytes_rate"
        case absentOverTime = "absent_over_time"
        case sumOverTime = "sum_over_time"
        case avgOverTime = "avg_over_time"
        case minOverTime = "min_over_time"
        case maxOverTime = "max_over_time"
        case firstOverTime = "first_over_time"
        case lastOverTime = "last_over_time"
        case stddevOverTime = "stddev_over_time"
        case stdvarOverTime = "stdvar_over_time"
        case quantileOverTime = "quantile_over_time"
        case rateCounter = "rate_counter"

        /// Whether the operation reads an unwrapped value (rather than counting lines or bytes).
        var needsUnwrap: Bool {
            switch self {
            case .countOverTime, .rate, .bytesOverTime, .bytesRate, .absentOverTime: false
            default: true
            }
        }
    }

    public var op: Op
    public var selector: LogSelector
    /// Nanoseconds.
    public var range: Int64
    public var offset: Int64
    public var unwrap: Unwrap?
    /// `quantile_over_time`'s φ.
    public var parameter: Double?
    public var grouping: Grouping?
}

/// `| unwrap latency`, `| unwrap duration(latency)`, `| unwrap bytes(size)`.
public struct Unwrap: Sendable {
    public enum Conversion: Sendable {
        case number, duration, bytes
    }

    public var label: String
    public var conversion: Conversion
    /// Label filters after the unwrap (`| unwrap x | __error__=""`).
    public var filters: [LabelFilter]
}

/// `by (a, b)` or `without (a)`.
public struct Grouping: Sendable {
    public var without: Bool
    public var labels: [String]
}

/// `sum by (a) (…)`, `topk(5, …)`, …
public struct VectorAggregation: Sendable {
    public enum Op: String, Sendable, CaseIterable {
        case sum, avg, min, max, count, stddev, stdvar, topk, bottomk
        /// The series unchanged; an instant query's answer ordered by value.
        case sort
        case sortDesc = "sort_desc"
    }

    public var op: Op
    public var parameter: Int?
    public var grouping: Grouping?
    public var inner: LogQLExpr
}

/// Arithmetic and comparisons between metric queries and numbers.
public struct BinaryOperation: Sendable {
    public enum Op: String, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "^"
        case equal = "==", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="
        case and, or, unless
    }

    public var op: Op
    public var lhs: LogQLExpr
    public var rhs: LogQLExpr
    /// `bool` after a comparison: 0 or 1 rather than a filter.
    public var returnBool: Bool
    /// `on(…)`/`ignoring(…)` and a group modifier; nil matches whole label sets.
    public var matching: VectorMatching? = nil
}

extension BinaryOperation.Op {
    var isSetOperation: Bool { self == .and || self == .or || self == .unless }

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .greater, .greaterOrEqual, .less, .lessOrEqual: true
        default: false
        }
    }
}

/// How the series of two metric queries pair up, as in PromQL.
public struct VectorMatching: Sendable {
    public enum Cardinality: Sendable {
        case oneToOne
        /// `group_left`: many series on the left meet one on the right.
        case manyToOne
        /// `group_right`: one on the left meets many on the right.
        case oneToMany
    }

    /// `on(labels)` when true, `ignoring(labels)` when false.
    public var on: Bool
    public var labels: [String]
    public var cardinality: Cardinality = .oneToOne
    /// Labels a group modifier copies from the "one" side.
    public var include: [String] = []
}

/// `label_replace`, as in PromQL: where the `source` label's whole value
/// matches `regex`, `destination` is set to `replacement` with `$1`, `${name}`
/// expanded (an empty result removes the label).
public struct LabelReplace: Sendable {
    public var inner: LogQLExpr
    public var destination: String
    public var replacement: String
    public var source: String
    public var pattern: String
    // `Regex<AnyRegexOutput>` is not Sendable; the compiled form is only read.
    nonisolated(unsafe) var regex: Regex<AnyRegexOutput>
}
