/// A LogQL token and where it starts (1-based line and column, as Loki reports them).
struct LogQLToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case string(String)
        case number(Double)
        /// A duration literal such as `5m` or `1.5s`, in nanoseconds.
        case duration(Int64)
        /// A byte-size literal such as `20MB` or `1KiB`, in bytes.
        case bytes(Double)
        case leftBrace, rightBrace, leftParen, rightParen, leftBracket, rightBracket, comma
        case pipe
        /// `|=`, `!=`, `|~`, `!~`: line filters (and `!=`, `!~` label matchers).
        case pipeExact, notEqual, pipeMatch, notMatch
        case equal, equalMatch, equalEqual
        case greater, greaterEqual, less, lessEqual
        case plus, minus, star, slash, percent, caret
        case end
    }

    let kind: Kind
    let line: Int
    let column: Int
}
