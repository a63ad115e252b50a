import TelemetryModel

/// Parses LogQL (Loki's query language): log queries and metric queries
/// over them. Errors read as Loki's: `parse error at line 1, col 7: …`.
public struct LogQLParser {
    private var tokens: [LogQLToken]
    private var position = 0
    /// Open recursive calls, and the operators, aggregations and filter terms built.
    private var nesting = 0
    private var nodes = 0

    /// The most levels a query may nest, and the most operators, aggregations
    /// and label-filter terms it may combine. The parser and the evaluator
    /// recurse once per level, so this bounds their stack; real queries use
    /// a handful.
    public static let maxDepth = 1_000

    public static func parse(_ text: String) throws(LogQLError) -> LogQLExpr {
        var parser = LogQLParser(tokens: try LogQLLexer.tokens(text))
        let expr = try parser.expression(minimumPrecedence: 0)
        guard parser.peek.kind == .end else { throw parser.unexpected() }
        return expr
    }

    private init(tokens: [LogQLToken]) {
        self.tokens = tokens
    }

    // MARK: Tokens

    private var peek: LogQLToken { tokens[position] }

    private mutating func advance() -> LogQLToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func unexpected(_ expecting: String? = nil) -> LogQLError {
        let token = peek
        let what: String
        switch token.kind {
        case .end: what = "end of input"
        case .identifier(let name): what = "IDENTIFIER \(name)"
        case .string(let text): what = "STRING \"\(text)\""
        case .number(let value): what = "NUMBER \(value)"
        case .duration: what = "DURATION"
        case .bytes: what = "BYTES"
        default: what = Self.spelling(token.kind)
        }
        let tail = expecting.map { ", expecting \($0)" } ?? ""
        return LogQLError.parse(line: token.line, column: token.column, "syntax error: unexpected \(what)\(tail)")
    }

    private static func spelling(_ kind: LogQLToken.Kind) -> String {
        switch kind {
        case .leftBrace: "{"
        case .rightBrace: "}"
        case .leftParen: "("
        case .rightParen: ")"
        case .leftBracket: "["
        case .rightBracket: "]"
        case .comma: ","
        case .pipe: "|"
        case .pipeExact: "|="
        case .notEqual: "!="
        case .pipeMatch: "|~"
        case .notMatch: "!~"
        case .equal: "="
        case .equalMatch: "=~"
        case .equalEqual: "=="
        case .greater: ">"
        case .greaterEqual: ">="
        case .less: "<"
        case .lessEqual: "<="
        case .plus: "+"
        case .minus: "-"
        case .star: "*"
        case .slash: "/"
        case .percent: "%"
        case .caret: "^"
        default: "token"
        }
    }

    private mutating func expect(_ kind: LogQLToken.Kind, _ what: String) throws(LogQLError) {
        guard peek.kind == kind else { throw unexpected(what) }
        _ = advance()
    }

    private mutating func identifier(_ what: String = "IDENTIFIER") throws(LogQLError) -> String {
        guard case .identifier(let name) = peek.kind else { throw unexpected(what) }
        _ = advance()
        return name
    }

    private mutating func string(_ what: String = "STRING") throws(LogQLError) -> String {
        guard case .string(let text) = peek.kind else { throw unexpected(what) }
        _ = advance()
        return text
    }

    private func isIdentifier(_ name: String) -> Bool {
        if case .identifier(let found) = peek.kind { return found == name }
        return false
    }

    // MARK: Expressions

    private static func binaryOp(_ token: LogQLToken) -> (BinaryOperation.Op, Int, Bool)? {
        switch token.kind {
        case .identifier("or"): (.or, 1, false)
        case .identifier("and"): (.and, 2, false)
        case .identifier("unless"): (.unless, 2, false)
        case .equalEqual: (.equal, 3, false)
        case .notEqual: (.notEqual, 3, false)
        case .greater: (.greater, 3, false)
        case .greaterEqual: (.greaterOrEqual, 3, false)
        case .less: (.less, 3, false)
        case .lessEqual: (.lessOrEqual, 3, false)
        case .plus: (.add, 4, false)
        case .minus: (.subtract, 4, false)
        case .star: (.multiply, 5, false)
        case .slash: (.divide, 5, false)
        case .percent: (.modulo, 5, false)
        case .caret: (.power, 6, true)
        default: nil
        }
    }

    /// Counts a level of recursion, refusing one past `maxDepth`.
    private mutating func enter() throws(LogQLError) {
        nesting += 1
        guard nesting <= Self.maxDepth else {
            throw LogQLError.parse(line: peek.line, column: peek.column, "query nests more than \(Self.maxDepth) levels deep")
        }
    }

    /// Counts an operator, aggregation or filter term, refusing one past `maxDepth`.
    private mutating func grow(_ token: LogQLToken) throws(LogQLError) {
        nodes += 1
        guard nodes <= Self.maxDepth else {
            throw LogQLError.parse(
                line: token.line, column: token.column, "query combines more than \(Self.maxDepth) operators, aggregations and filter terms")
        }
    }

    private mutating func expression(minimumPrecedence: Int) throws(LogQLError) -> LogQLExpr {
        try enter()
        defer { nesting -= 1 }
        var lhs = try primary()
        while let (op, precedence, rightAssociative) = Self.binaryOp(peek), precedence >= minimumPrecedence {
            let opToken = advance()
            try grow(opToken)
            var returnBool = false
            if isIdentifier("bool") {
                let token = advance()
                guard op.isComparison else {
                    throw LogQLError.parse(line: token.line, column: token.column, "bool modifier can only be used on comparison operators")
                }
                returnBool = true
            }
            let matching = try vectorMatching(op)
            let rhs = try expression(minimumPrecedence: rightAssociative ? precedence : precedence + 1)
            if lhs.isLogQuery || rhs.isLogQuery {
                throw LogQLError.parse(line: opToken.line, column: opToken.column, "binary operations need metric queries, not log queries")
            }
            lhs = .binary(BinaryOperation(op: op, lhs: lhs, rhs: rhs, returnBool: returnBool, matching: matching))
        }
        return lhs
    }

    private mutating func primary() throws(LogQLError) -> LogQLExpr {
        let token = peek
        switch token.kind {
        case .number(let value):
            _ = advance()
            return .number(value)
        case .minus:
            _ = advance()
            guard case .number(let value) = peek.kind else { throw unexpected("NUMBER") }
            _ = advance()
            return .number(-value)
        case .leftParen:
            _ = advance()
            let inner = try expression(minimumPrecedence: 0)
            try expect(.rightParen, ")")
            return inner
        case .leftBrace:
            return .logs(try selectorAndPipeline())
        case .identifier(let name):
            if name == "label_replace" { return try labelReplace() }
            if name == "vector" { return try vectorOf() }
            if let op = RangeAggregation.Op(rawValue: name) { return try rangeAggregation(op) }
            if let op = VectorAggregation.Op(rawValue: name) { return try vectorAggregation(op) }
            throw unexpected()
        default:
            throw unexpected()
        }
    }

    /// `label_replace(query, "dst", "replacement", "src", "regex")`.
    private mutating func labelReplace() throws(LogQLError) -> LogQLExpr {
        let start = advance()
        try grow(start)
        try expect(.leftParen, "(")
        let inner = try expression(minimumPrecedence: 0)
        if inner.isLogQuery {
            throw LogQLError.parse(line: start.line, column: start.column, "label_replace needs a metric query, not a log query")
        }
        var arguments: [String] = []
        for _ in 0..<4 {
            try expect(.comma, ",")
            arguments.append(try string())
        }
        try expect(.rightParen, ")")
        guard Labels.isValidName(arguments[0]) else {
            throw LogQLError.parse(line: start.line, column: start.column, "invalid destination label name in label_replace(): \(arguments[0])")
        }
        guard let regex = try? Regex("^(?:" + arguments[3] + ")$") else {
            throw LogQLError.parse(line: start.line, column: start.column, "invalid regular expression in label_replace(): \(arguments[3])")
        }
        return .labelReplace(LabelReplace(
            inner: inner, destination: arguments[0], replacement: arguments[1], source: arguments[2], pattern: arguments[3], regex: regex))
    }

    /// `vector(n)`.
    private mutating func vectorOf() throws(LogQLError) -> LogQLExpr {
        _ = advance()
        try expect(.leftParen, "(")
        var sign = 1.0
        if peek.kind == .minus {
            _ = advance()
            sign = -1
        }
        guard case .number(let value) = peek.kind else { throw unexpected("NUMBER") }
        _ = advance()
        try expect(.rightParen, ")")
        return .vectorOf(sign * value)
    }

    private mutating func grouping() throws(LogQLError) -> Grouping? {
        guard isIdentifier("by") || isIdentifier("without") else { return nil }
        let without = isIdentifier("without")
        _ = advance()
        return Grouping(without: without, labels: try labelList())
    }

    /// `(a, b)`, possibly empty.
    private mutating func labelList() throws(LogQLError) -> [String] {
        try expect(.leftParen, "(")
        var labels: [String] = []
        while peek.kind != .rightParen {
            labels.append(try identifier())
            if peek.kind == .comma { _ = advance() } else { break }
        }
        try expect(.rightParen, ")")
        return labels
    }

    /// `on(…)` or `ignoring(…)`, then `group_left(…)` or `group_right(…)`, after a binary operator.
    private mutating func vectorMatching(_ op: BinaryOperation.Op) throws(LogQLError) -> VectorMatching? {
        if isIdentifier("group_left") || isIdentifier("group_right") {
            throw LogQLError.parse(line: peek.line, column: peek.column, "group modifiers need on(…) or ignoring(…) before them")
        }
        guard isIdentifier("on") || isIdentifier("ignoring") else { return nil }
        var matching = VectorMatching(on: isIdentifier("on"), labels: [])
        _ = advance()
        matching.labels = try labelList()
        guard isIdentifier("group_left") || isIdentifier("group_right") else { return matching }
        let group = advance()
        guard !op.isSetOperation else {
            throw LogQLError.parse(line: group.line, column: group.column, "no grouping allowed for \"\(op.rawValue)\" operation")
        }
        matching.cardinality = isGroupLeft(group) ? .manyToOne : .oneToMany
        if peek.kind == .leftParen { matching.include = try labelList() }
        if matching.on, let both = matching.include.first(where: matching.labels.contains) {
            throw LogQLError.parse(line: group.line, column: group.column, "label \"\(both)\" must not occur in ON and GROUP clause at once")
        }
        return matching
    }

    private func isGroupLeft(_ token: LogQLToken) -> Bool {
        if case .identifier("group_left") = token.kind { return true }
        return false
    }

    private mutating func rangeAggregation(_ op: RangeAggregation.Op) throws(LogQLError) -> LogQLExpr {
        let start = advance()
        try expect(.leftParen, "(")
        var parameter: Double?
        if op == .quantileOverTime {
            guard case .number(let value) = peek.kind else { throw unexpected("NUMBER") }
            _ = advance()
            parameter = value
            try expect(.comma, ",")
        }
        // The log range: `{…} | … [5m]`, `{…}[5m] | …`, or either in parentheses.
        let parenthesised = peek.kind == .leftParen
        if parenthesised { _ = advance() }
        guard peek.kind == .leftBrace else { throw unexpected("{") }
        var selector = LogSelector(matchers: try matchers(), stages: [])
        var range: Int64?
        if peek.kind == .leftBracket { range = try rangeLiteral() }
        var unwrap: Unwrap?
        try pipeline(into: &selector, unwrap: &unwrap)
        if parenthesised { try expect(.rightParen, ")") }
        if range == nil {
            guard peek.kind == .leftBracket else { throw unexpected("[") }
            range = try rangeLiteral()
        }
        var offset: Int64 = 0
        if isIdentifier("offset") {
            _ = advance()
            guard case .duration(let nanos) = peek.kind else { throw unexpected("DURATION") }
            _ = advance()
            offset = nanos
        }
        try expect(.rightParen, ")")
        let grouping = try grouping()
        if op.needsUnwrap, op != .rate, unwrap == nil {
            throw LogQLError.parse(line: start.line, column: start.column, "\(op.rawValue) needs an unwrapped value: add | unwrap LABEL")
        }
        if !op.needsUnwrap, op != .rate, unwrap != nil {
            throw LogQLError.parse(line: start.line, column: start.column, "\(op.rawValue) counts lines: it takes no | unwrap")
        }
        let groupable: Set<RangeAggregation.Op> = [
            .avgOverTime, .stddevOverTime, .stdvarOverTime, .quantileOverTime, .maxOverTime, .minOverTime, .firstOverTime, .lastOverTime,
        ]
        if grouping != nil, !groupable.contains(op) {
            throw LogQLError.parse(line: start.line, column: start.column, "grouping not allowed for \(op.rawValue) aggregation")
        }
        return .range(RangeAggregation(
            op: op, selector: selector, range: range ?? 0, offset: offset, unwrap: unwrap, parameter: parameter, grouping: grouping))
    }

    private mutating func rangeLiteral() throws(LogQLError) -> Int64 {
        try expect(.leftBracket, "[")
        guard case .duration(let nanos) = peek.kind, nanos > 0 else { throw unexpected("DURATION") }
        _ = advance()
        try expect(.rightBracket, "]")
        return nanos
    }

    private mutating func vectorAggregation(_ op: VectorAggregation.Op) throws(LogQLError) -> LogQLExpr {
        let start = advance()
        try grow(start)
        var grouping = try grouping()
        try expect(.leftParen, "(")
        var parameter: Int?
        if op == .topk || op == .bottomk {
            guard case .number(let value) = peek.kind else { throw unexpected("NUMBER") }
            _ = advance()
            guard value >= 1, value == value.rounded(), value < 1e9 else {
                throw LogQLError.parse(line: start.line, column: start.column, "\(op.rawValue) needs a whole number above 0, got \(value)")
            }
            parameter = Int(value)
            try expect(.comma, ",")
        }
        let inner = try expression(minimumPrecedence: 0)
        if inner.isLogQuery {
            throw LogQLError.parse(line: start.line, column: start.column, "\(op.rawValue) aggregates a metric query, not a log query")
        }
        try expect(.rightParen, ")")
        if grouping == nil { grouping = try self.grouping() }
        return .vector(VectorAggregation(op: op, parameter: parameter, grouping: grouping, inner: inner))
    }

    // MARK: Log selectors

    private mutating func selectorAndPipeline() throws(LogQLError) -> LogSelector {
        var selector = LogSelector(matchers: try matchers(), stages: [])
        var unwrap: Unwrap?
        try pipeline(into: &selector, unwrap: &unwrap)
        if unwrap != nil { throw LogQLError.invalid("| unwrap is only allowed in a range aggregation") }
        return selector
    }

    private mutating func matchers() throws(LogQLError) -> [LabelMatcher] {
        let open = peek
        try expect(.leftBrace, "{")
        var matchers: [LabelMatcher] = []
        while peek.kind != .rightBrace {
            let name = try identifier()
            let op: MatchOperator
            switch advance().kind {
            case .equal: op = .equal
            case .notEqual: op = .notEqual
            case .equalMatch: op = .regexMatch
            case .notMatch: op = .regexNoMatch
            default:
                position -= 1
                throw unexpected("=, !=, =~ or !~")
            }
            let value = try string()
            do {
                matchers.append(try LabelMatcher(name, op, value))
            } catch {
                throw LogQLError.parse(line: open.line, column: open.column, "\(error)")
            }
            if peek.kind == .comma { _ = advance() } else { break }
        }
        try expect(.rightBrace, "}")
        guard matchers.contains(where: { !$0.matchesEmpty }) else {
            throw LogQLError.parse(line: open.line, column: open.column,
                "queries require at least one regexp or equality matcher that does not have an empty-compatible value. "
                + "For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will")
        }
        return matchers
    }

    private mutating func pipeline(into selector: inout LogSelector, unwrap: inout Unwrap?) throws(LogQLError) {
        while true {
            let token = peek
            switch token.kind {
            case .pipeExact, .notEqual, .pipeMatch, .notMatch:
                guard unwrap == nil else { throw unexpected() }
                _ = advance()
                selector.stages.append(.lineFilter(try lineFilter(token)))
            case .pipe:
                _ = advance()
                if unwrap != nil {
                    // After an unwrap only label filters may follow.
                    unwrap!.filters.append(try labelFilterOr())
                    continue
                }
                try stage(into: &selector, unwrap: &unwrap)
            default:
                return
            }
        }
    }

    private mutating func lineFilter(_ token: LogQLToken) throws(LogQLError) -> LineFilter {
        let op: LineFilterOp
        switch token.kind {
        case .pipeExact: op = .contains
        case .notEqual: op = .notContains
        case .pipeMatch: op = .matches
        default: op = .notMatches
        }
        var patterns = [try string()]
        while isIdentifier("or") {
            _ = advance()
            patterns.append(try string())
        }
        var regexes: [Regex<AnyRegexOutput>] = []
        if op == .matches || op == .notMatches {
            for pattern in patterns {
                do {
                    regexes.append(try Regex(pattern))
                } catch {
                    throw LogQLError.parse(line: token.line, column: token.column, "invalid regular expression \"\(pattern)\": \(error)")
                }
            }
        }
        return LineFilter(op: op, patterns: patterns, regexes: regexes, needles: patterns.map { Array($0.utf8) })
    }

    private mutating func stage(into selector: inout LogSelector, unwrap: inout Unwrap?) throws(LogQLError) {
        let token = peek
        guard case .identifier(let name) = token.kind else {
            selector.stages.append(.labelFilter(try labelFilterOr()))
            return
        }
        func invalid(_ error: LogQLError) -> LogQLError {
            LogQLError.parse(line: token.line, column: token.column, error.message)
        }
        switch name {
        case "unpack":
            _ = advance()
            selector.stages.append(.unpack)
        case "json":
            _ = advance()
            var params: [(label: String, path: [String])] = []
            while case .identifier(let label) = peek.kind, !["or", "and"].contains(label) {
                _ = advance()
                var expression = label
                if peek.kind == .equal {
                    _ = advance()
                    expression = try string()
                }
                guard let path = JSONPath.parse(expression) else {
                    throw LogQLError.parse(line: token.line, column: token.column, "invalid JSON expression \"\(expression)\"")
                }
                params.append((label, path))
                if peek.kind == .comma { _ = advance() } else { break }
            }
            selector.stages.append(.json(params))
        case "logfmt":
            _ = advance()
            var strict = false
            while case .minus = peek.kind { // `--strict` (errors are flagged), `--keep-empty` (accepted)
                _ = advance()
                _ = advance()
                if try identifier() == "strict" { strict = true }
            }
            selector.stages.append(.logfmt(strict: strict))
        case "pattern":
            _ = advance()
            switch LinePattern.parse(try string()) {
            case .success(let pattern): selector.stages.append(.pattern(pattern))
            case .failure(let error): throw invalid(error)
            }
        case "regexp":
            _ = advance()
            switch LineRegex.parse(try string()) {
            case .success(let regex): selector.stages.append(.regexp(regex))
            case .failure(let error): throw invalid(error)
            }
        case "line_format":
            _ = advance()
            switch LineTemplate.parse(try string()) {
            case .success(let template): selector.stages.append(.lineFormat(template))
            case .failure(let error): throw invalid(error)
            }
        case "label_format":
            _ = advance()
            var assignments: [(label: String, value: LabelFormatValue)] = []
            repeat {
                if peek.kind == .comma { _ = advance() }
                let label = try identifier()
                try expect(.equal, "=")
                switch peek.kind {
                case .identifier(let source):
                    _ = advance()
                    assignments.append((label, .rename(source)))
                case .string(let text):
                    _ = advance()
                    switch LineTemplate.parse(text) {
                    case .success(let template): assignments.append((label, .template(template)))
                    case .failure(let error): throw invalid(error)
                    }
                default:
                    throw unexpected("IDENTIFIER or STRING")
                }
            } while peek.kind == .comma
            selector.stages.append(.labelFormat(assignments))
        case "drop", "keep":
            _ = advance()
            var names: [String] = []
            repeat {
                if peek.kind == .comma { _ = advance() }
                names.append(try identifier())
                // `drop a="v"` (drop when equal) is read as dropping the label.
                if peek.kind == .equal {
                    _ = advance()
                    _ = try string()
                }
            } while peek.kind == .comma
            selector.stages.append(name == "drop" ? .drop(names) : .keep(names))
        case "decolorize":
            _ = advance()
            selector.stages.append(.decolorize)
        case "unwrap":
            _ = advance()
            var conversion = Unwrap.Conversion.number
            var label = try identifier()
            if (label == "duration" || label == "duration_seconds" || label == "bytes"), peek.kind == .leftParen {
                conversion = label == "bytes" ? .bytes : .duration
                _ = advance()
                label = try identifier()
                try expect(.rightParen, ")")
            }
            unwrap = Unwrap(label: label, conversion: conversion, filters: [])
        default:
            selector.stages.append(.labelFilter(try labelFilterOr()))
        }
    }

    // MARK: Label filters

    private mutating func labelFilterOr() throws(LogQLError) -> LabelFilter {
        try enter()
        defer { nesting -= 1 }
        var lhs = try labelFilterAnd()
        while isIdentifier("or") {
            try grow(advance())
            lhs = .or(lhs, try labelFilterAnd())
        }
        return lhs
    }

    /// `and` binds tighter than `or`; a comma (or a mere space) joins what
    /// is before it with everything after it, as Loki's grammar does:
    /// `a, b or c` is `a and (b or c)`.
    private mutating func labelFilterAnd() throws(LogQLError) -> LabelFilter {
        var lhs = try labelFilterAtom()
        while true {
            if isIdentifier("and") {
                try grow(advance())
                lhs = .and(lhs, try labelFilterAtom())
            } else if peek.kind == .comma {
                try grow(advance())
                return .and(lhs, try labelFilterOr())
            } else if case .identifier(let name) = peek.kind, !["or", "and", "unless", "offset", "by", "without"].contains(name),
                startsComparison(tokens[min(position + 1, tokens.count - 1)].kind)
            {
                try grow(peek)
                return .and(lhs, try labelFilterOr())
            } else {
                return lhs
            }
        }
    }

    private func startsComparison(_ kind: LogQLToken.Kind) -> Bool {
        switch kind {
        case .equal, .notEqual, .equalMatch, .notMatch, .equalEqual, .greater, .greaterEqual, .less, .lessEqual: true
        default: false
        }
    }

    private mutating func labelFilterAtom() throws(LogQLError) -> LabelFilter {
        if peek.kind == .leftParen {
            _ = advance()
            let inner = try labelFilterOr()
            try expect(.rightParen, ")")
            return inner
        }
        let start = peek
        let name = try identifier()
        let opToken = advance()
        func comparison() -> ComparisonOp? {
            switch opToken.kind {
            case .equal, .equalEqual: .equal
            case .notEqual: .notEqual
            case .greater: .greater
            case .greaterEqual: .greaterOrEqual
            case .less: .less
            case .lessEqual: .lessOrEqual
            default: nil
            }
        }
        switch peek.kind {
        case .string(let value):
            _ = advance()
            let op: MatchOperator
            switch opToken.kind {
            case .equal, .equalEqual: op = .equal
            case .notEqual: op = .notEqual
            case .equalMatch: op = .regexMatch
            case .notMatch: op = .regexNoMatch
            default:
                throw LogQLError.parse(line: opToken.line, column: opToken.column, "syntax error: a string is compared with =, !=, =~ or !~")
            }
            do {
                return .matcher(try LabelMatcher(name, op, value))
            } catch {
                throw LogQLError.parse(line: start.line, column: start.column, "\(error)")
            }
        case .number(let value):
            _ = advance()
            guard let op = comparison() else { throw LogQLError.parse(line: opToken.line, column: opToken.column, "syntax error: unexpected operator") }
            return .number(name: name, op: op, value: value)
        case .minus:
            _ = advance()
            guard case .number(let value) = peek.kind, let op = comparison() else { throw unexpected("NUMBER") }
            _ = advance()
            return .number(name: name, op: op, value: -value)
        case .duration(let nanos):
            _ = advance()
            guard let op = comparison() else { throw LogQLError.parse(line: opToken.line, column: opToken.column, "syntax error: unexpected operator") }
            return .duration(name: name, op: op, nanos: nanos)
        case .bytes(let value):
            _ = advance()
            guard let op = comparison() else { throw LogQLError.parse(line: opToken.line, column: opToken.column, "syntax error: unexpected operator") }
            return .bytes(name: name, op: op, value: value)
        default:
            throw unexpected("STRING, NUMBER, DURATION or BYTES")
        }
    }
}

/// A `| json label="a.b[0]"` expression, as a path of keys and indices.
enum JSONPath {
    static func parse(_ text: String) -> [String]? {
        var path: [String] = []
        var current = ""
        var chars = Array(text)
        var i = 0
        chars.append("\0")
        while i < chars.count - 1 {
            let c = chars[i]
            if c == "." {
                if !current.isEmpty { path.append(current) }
                current = ""
                i += 1
            } else if c == "[" {
                if !current.isEmpty { path.append(current) }
                current = ""
                guard let close = chars[(i + 1)...].firstIndex(of: "]") else { return nil }
                var inner = String(chars[(i + 1)..<close])
                if inner.hasPrefix("\""), inner.hasSuffix("\""), inner.count >= 2 { inner = String(inner.dropFirst().dropLast()) }
                path.append(inner)
                i = close + 1
            } else {
                current.append(c)
                i += 1
            }
        }
        if !current.isEmpty { path.append(current) }
        return path.isEmpty ? nil : path
    }
}
