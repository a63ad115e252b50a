/// A lexical token of PromQL with its byte range in the query.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case identifier      // metric or label names, keywords, function names
        case string          // a quoted string; `text` holds the unescaped value
        case number
        case duration
        case leftBrace, rightBrace, leftParen, rightParen, leftBracket, rightBracket
        case comma, colon, at
        case equal, notEqual, regexMatch, regexNoMatch          // =, !=, =~, !~
        case eqlEql, less, lessEqual, greater, greaterEqual     // ==, <, <=, >, >=
        case plus, minus, star, slash, percent, caret
        case end
    }

    public var kind: Kind
    public var text: String
    public var offset: Int
    public var length: Int
}
