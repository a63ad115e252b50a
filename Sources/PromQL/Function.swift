/// A PromQL function's signature: what the parser checks calls against.
public struct Function: Sendable, Equatable {
    public let name: String
    /// The argument types, in order.
    public let arguments: [ValueType]
    /// How many trailing arguments may be left out; -1: the last one may
    /// repeat any number of times (`label_join`).
    public let optional: Int
    public let returns: ValueType

    /// The functions tally evaluates, by name (Prometheus 2.x's set, without
    /// the native-histogram ones).
    public static let all: [String: Function] = {
        var table: [String: Function] = [:]
        func add(_ name: String, _ arguments: [ValueType], optional: Int = 0, returns: ValueType = .vector) {
            table[name] = Function(name: name, arguments: arguments, optional: optional, returns: returns)
        }
        for name in ["abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "timestamp", "sort", "sort_desc",
                     "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh",
                     "deg", "rad", "absent"] {
            add(name, [.vector])
        }
        for name in ["rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes",
                     "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
                     "last_over_time", "stddev_over_time", "stdvar_over_time", "present_over_time", "absent_over_time"] {
            add(name, [.matrix])
        }
        for name in ["minute", "hour", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year"] {
            add(name, [.vector], optional: 1)
        }
        add("quantile_over_time", [.scalar, .matrix])
        add("predict_linear", [.matrix, .scalar])
        add("holt_winters", [.matrix, .scalar, .scalar])
        add("histogram_quantile", [.scalar, .vector])
        add("clamp", [.vector, .scalar, .scalar])
        add("clamp_min", [.vector, .scalar])
        add("clamp_max", [.vector, .scalar])
        add("round", [.vector, .scalar], optional: 1)
        add("label_replace", [.vector, .string, .string, .string, .string])
        add("label_join", [.vector, .string, .string, .string], optional: -1)
        add("scalar", [.vector], returns: .scalar)
        add("vector", [.scalar])
        add("time", [], returns: .scalar)
        add("pi", [], returns: .scalar)
        return table
    }()
}
