/// A query that does not parse or cannot run, with where in the query it went
/// wrong. Its description has Prometheus's shape: `1:12: parse error: …`.
public struct PromQLError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The text is not valid PromQL (HTTP 400, `bad_data`).
        case parse
        /// Valid PromQL that this version does not evaluate yet (HTTP 400, `bad_data`).
        case unsupported
        /// The query parsed but failed while it ran (HTTP 422, `execution`):
        /// duplicate series, too many samples, a bad regular expression.
        case execution
        /// The query ran longer than the timeout (HTTP 503, `timeout`).
        case timeout
        /// Stored data the query needs is damaged or unreadable (HTTP 500,
        /// `internal`, as Prometheus answers a storage error).
        case storage
    }

    public var kind: Kind
    /// The 0-based byte offset in the query.
    public var offset: Int
    public var message: String
    /// The 1-based line and column of the offset.
    public var line: Int
    public var column: Int

    /// An error of a running query, which has no position.
    public static func execution(_ message: String) -> PromQLError {
        PromQLError(.execution, message, at: 0, in: "")
    }

    public init(_ kind: Kind, _ message: String, at offset: Int, in query: String) {
        self.kind = kind
        self.offset = offset
        self.message = message
        var line = 1
        var column = 1
        for (i, byte) in query.utf8.enumerated() {
            if i >= offset { break }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        self.line = line
        self.column = column
    }

    public var description: String {
        switch kind {
        case .parse: "\(line):\(column): parse error: \(message)"
        case .unsupported: "\(line):\(column): \(message)"
        case .execution, .timeout, .storage: message
        }
    }
}
