/// A LogQL query that cannot be parsed or evaluated, with Loki's wording.
public struct LogQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The query does not parse (HTTP 400).
        case parse
        /// The query parses but cannot run as asked (HTTP 400).
        case invalid
        /// A limit was hit (HTTP 400 with the limit named) .
        case limit
        /// Reading the store failed (HTTP 500).
        case storage
    }

    public let kind: Kind
    public let message: String

    public var description: String { message }

    static func parse(line: Int, column: Int, _ message: String) -> LogQLError {
        LogQLError(kind: .parse, message: "parse error at line \(line), col \(column): \(message)")
    }

    static func invalid(_ message: String) -> LogQLError {
        LogQLError(kind: .invalid, message: message)
    }
}
