/// The type of a PromQL expression's value, as Prometheus names them in
/// errors and in the API's `resultType`.
public enum ValueType: String, Sendable, CustomStringConvertible {
    case scalar
    case vector
    case matrix
    case string

    /// The name Prometheus uses in parse errors ("instant vector", "range vector").
    public var description: String {
        switch self {
        case .scalar: "scalar"
        case .vector: "instant vector"
        case .matrix: "range vector"
        case .string: "string"
        }
    }
}
