import TelemetryModel

/// A parsed PromQL expression. The parser has checked it: every function
/// has the arguments it takes, every operator operands of the right types.
public indirect enum Expr: Sendable {
    case number(Double)
    case string(String)
    /// `name{matchers}`, with its offset and `@` modifiers.
    case selector(Selector)
    /// `selector[range]`.
    case matrix(Selector, range: Int64)
    /// `expr[range:step]` (step nil: the evaluation's default).
    case subquery(Subquery)
    case call(Function, [Expr])
    case aggregate(Aggregation)
    case binary(Binary)
    /// `-expr` (a `+` sign leaves the expression as it is).
    case negate(Expr)
    case paren(Expr)

    /// The type of the value the expression yields.
    public var type: ValueType {
        switch self {
        case .number: .scalar
        case .string: .string
        case .selector: .vector
        case .matrix, .subquery: .matrix
        case .call(let function, _): function.returns
        case .aggregate: .vector
        case .binary(let b): b.lhs.type == .scalar && b.rhs.type == .scalar ? .scalar : .vector
        case .negate(let e), .paren(let e): e.type
        }
    }
}

/// The `@` modifier: a fixed evaluation time, or the query's start or end.
public enum AtModifier: Sendable, Equatable {
    /// Milliseconds since the epoch.
    case time(Int64)
    case start
    case end
}

/// An instant vector selector and its time modifiers.
public struct Selector: Sendable {
    /// The metric name, when written as one (it is also the first matcher).
    public var name: String?
    /// Every matcher, `__name__` included.
    public var matchers: [LabelMatcher]
    /// Milliseconds to look back (negative: forward).
    public var offset: Int64 = 0
    public var at: AtModifier?

    public init(name: String?, matchers: [LabelMatcher]) {
        self.name = name
        self.matchers = matchers
    }
}

/// `expr[range:step] offset … @ …`.
public struct Subquery: Sendable {
    public var expr: Expr
    public var range: Int64
    public var step: Int64?
    public var offset: Int64 = 0
    public var at: AtModifier?
}

/// The aggregation operators.
public enum AggregationOp: String, Sendable, CaseIterable {
    case sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"

    /// The type of the parameter before the expression, for those that take one.
    public var parameter: ValueType? {
        switch self {
        case .topk, .bottomk, .quantile: .scalar
        case .countValues: .string
        default: nil
        }
    }
}

/// `op by|without (labels) ([param,] expr)`.
public struct Aggregation: Sendable {
    public var op: AggregationOp
    public var expr: Expr
    public var parameter: Expr?
    public var grouping: [String]
    /// `without` instead of `by`.
    public var without: Bool
}

/// The binary operators, in Prometheus's spelling.
public enum BinaryOp: String, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "^"
    case atan2
    case equal = "==", notEqual = "!=", greater = ">", less = "<", greaterEqual = ">=", lessEqual = "<="
    case and, or, unless

    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .greater, .less, .greaterEqual, .lessEqual: true
        default: false
        }
    }

    public var isSetOperator: Bool { self == .and || self == .or || self == .unless }

    /// Binding strength, higher binds tighter (Prometheus's order).
    var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .equal, .notEqual, .greater, .less, .greaterEqual, .lessEqual: 3
        case .add, .subtract: 4
        case .multiply, .divide, .modulo, .atan2: 5
        case .power: 6
        }
    }

    var rightAssociative: Bool { self == .power }
}

/// How the series of two vectors pair up in a binary operation.
public struct VectorMatching: Sendable {
    public enum Cardinality: Sendable {
        case oneToOne, manyToOne, oneToMany, manyToMany
    }

    public var cardinality: Cardinality
    /// The labels of `on(…)` or `ignoring(…)`.
    public var labels: [String]
    /// `on` (match on `labels`) rather than `ignoring` them.
    public var on: Bool
    /// The labels of `group_left(…)` / `group_right(…)` copied from the "one" side.
    public var include: [String]

    public init(cardinality: Cardinality, labels: [String] = [], on: Bool = false, include: [String] = []) {
        self.cardinality = cardinality
        self.labels = labels
        self.on = on
        self.include = include
    }
}

/// `lhs op [bool] [on|ignoring(…)] [group_left|group_right(…)] rhs`.
public struct Binary: Sendable {
    public var op: BinaryOp
    public var lhs: Expr
    public var rhs: Expr
    /// Present when both sides are vectors.
    public var matching: VectorMatching?
    /// `bool`: comparisons yield 0 or 1 instead of filtering.
    public var returnBool: Bool
}
