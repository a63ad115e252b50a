import TelemetryModel

/// Parses PromQL into a checked `Expr`: Prometheus's grammar, operator
/// precedence and parse-time type checks, with the byte offset of every
/// error. `Parser.parse("sum by (job) (rate(x[5m]))")`.
public struct Parser {
    private let query: String
    private let tokens: [Token]
    private var position = 0
    /// How many `expression` calls are open (each is a level of the tree), and
    /// the depth of the tree the last parse function returned.
    private var nesting = 0
    private var depth = 0

    /// The deepest expression tree accepted. The parser, the evaluator and
    /// the printers recurse once per level, so this bounds their stack: a
    /// thread's 8 MiB ran out near 8,000 levels before the bound existed
    /// (`((((…1))))`, or `1+1+…+1` with as many terms). Prometheus sets none;
    /// real queries stay under 50.
    public static let maxDepth = 1_000

    /// Parses a whole query.
    public static func parse(_ query: String) throws(PromQLError) -> Expr {
        var parser = try Parser(query)
        guard parser.peek.kind != .end else { throw parser.fail("no expression found in input", parser.peek) }
        let expr = try parser.expression(minimum: 0)
        guard parser.peek.kind == .end else { throw parser.fail("unexpected \(describe(parser.peek))", parser.peek) }
        return expr
    }

    /// Parses a series selector (`match[]` of the series and label
    /// endpoints): a vector selector and nothing else.
    public static func parseSelector(_ query: String) throws(PromQLError) -> Selector {
        let expr = try parse(query)
        guard case .selector(let selector) = expr, selector.offset == 0, selector.at == nil else {
            throw PromQLError(.parse, "expected a series selector, got \(expr.type)", at: 0, in: query)
        }
        return selector
    }

    private init(_ query: String) throws(PromQLError) {
        self.query = query
        var lexer = Lexer(query)
        tokens = try lexer.tokenize()
    }

    // MARK: Tokens

    private var peek: Token { tokens[position] }
    private var next: Token { tokens[min(position + 1, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func fail(_ message: String, _ token: Token) -> PromQLError {
        PromQLError(.parse, message, at: token.offset, in: query)
    }

    private func fail(_ message: String, at offset: Int) -> PromQLError {
        PromQLError(.parse, message, at: offset, in: query)
    }

    private static func describe(_ token: Token) -> String {
        switch token.kind {
        case .end: "end of input"
        case .identifier: "identifier \"\(token.text)\""
        case .number: "number \"\(token.text)\""
        case .duration: "duration \"\(token.text)\""
        case .string: "string"
        default: "\"\(token.text)\""
        }
    }

    private func isKeyword(_ token: Token, _ word: String) -> Bool {
        token.kind == .identifier && token.text.lowercased() == word
    }

    private mutating func expect(_ kind: Token.Kind, _ what: String, context: String) throws(PromQLError) -> Token {
        guard peek.kind == kind else { throw fail("unexpected \(Parser.describe(peek)) \(context), expected \(what)", peek) }
        return advance()
    }

    // MARK: Expressions

    /// Binary operators climb by precedence; `^` is right-associative.
    /// Records the depth of the tree just built, refusing one past `maxDepth`.
    private mutating func setDepth(_ value: Int) throws(PromQLError) {
        guard value <= Self.maxDepth else {
            throw fail("expression is nested more than \(Self.maxDepth) levels deep", peek)
        }
        depth = value
    }

    private mutating func expression(minimum: Int) throws(PromQLError) -> Expr {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxDepth else { throw fail("expression is nested more than \(Self.maxDepth) levels deep", peek) }
        var lhs = try unary()
        var lhsDepth = depth
        while let op = binaryOperator(peek), op.precedence >= minimum {
            let opToken = advance()
            var returnBool = false
            if isKeyword(peek, "bool") {
                let boolToken = advance()
                guard op.isComparison else { throw fail("bool modifier can only be used on comparison operators", boolToken) }
                returnBool = true
            }
            var matching: VectorMatching?
            if isKeyword(peek, "on") || isKeyword(peek, "ignoring") {
                let on = advance().text.lowercased() == "on"
                var m = VectorMatching(cardinality: op.isSetOperator ? .manyToMany : .oneToOne, labels: try labelList(), on: on)
                if isKeyword(peek, "group_left") || isKeyword(peek, "group_right") {
                    let groupToken = advance()
                    if op.isSetOperator { throw fail("no grouping allowed for \"\(op.rawValue)\" operation", groupToken) }
                    m.cardinality = groupToken.text.lowercased() == "group_left" ? .manyToOne : .oneToMany
                    if peek.kind == .leftParen { m.include = try labelList() }
                    for label in m.include where m.on && m.labels.contains(label) {
                        throw fail("label \"\(label)\" must not occur in ON and GROUP clause at once", groupToken)
                    }
                }
                matching = m
            } else if isKeyword(peek, "group_left") || isKeyword(peek, "group_right") {
                throw fail("unexpected \(Parser.describe(peek)), group modifiers need on(…) or ignoring(…) before them", peek)
            }
            let rhs = try expression(minimum: op.rightAssociative ? op.precedence : op.precedence + 1)
            try setDepth(max(lhsDepth, depth) + 1)
            lhsDepth = depth
            lhs = try binary(op, lhs, rhs, matching: matching, returnBool: returnBool, at: opToken)
        }
        depth = lhsDepth
        return lhs
    }

    private func binaryOperator(_ token: Token) -> BinaryOp? {
        switch token.kind {
        case .plus: .add
        case .minus: .subtract
        case .star: .multiply
        case .slash: .divide
        case .percent: .modulo
        case .caret: .power
        case .eqlEql: .equal
        case .notEqual: .notEqual
        case .greater: .greater
        case .less: .less
        case .greaterEqual: .greaterEqual
        case .lessEqual: .lessEqual
        case .identifier:
            switch token.text.lowercased() {
            case "and": .and
            case "or": .or
            case "unless": .unless
            case "atan2": .atan2
            default: nil
            }
        default: nil
        }
    }

    private func binary(
        _ op: BinaryOp, _ lhs: Expr, _ rhs: Expr, matching: VectorMatching?, returnBool: Bool, at token: Token
    ) throws(PromQLError) -> Expr {
        let types = (lhs.type, rhs.type)
        for type in [types.0, types.1] where type != .scalar && type != .vector {
            throw fail("binary expression must contain only scalar and instant vector types", token)
        }
        let bothVectors = types.0 == .vector && types.1 == .vector
        if op.isComparison && !returnBool && types.0 == .scalar && types.1 == .scalar {
            throw fail("comparisons between scalars must use BOOL modifier", token)
        }
        if op.isSetOperator && !bothVectors {
            throw fail("set operator \"\(op.rawValue)\" not allowed in binary scalar expression", token)
        }
        if let matching, !bothVectors, !matching.labels.isEmpty || matching.on || !matching.include.isEmpty
            || matching.cardinality == .manyToOne || matching.cardinality == .oneToMany {
            throw fail("vector matching only allowed between instant vectors", token)
        }
        var vectorMatching = matching
        if bothVectors && vectorMatching == nil {
            vectorMatching = VectorMatching(cardinality: op.isSetOperator ? .manyToMany : .oneToOne)
        }
        if !bothVectors { vectorMatching = nil }
        return .binary(Binary(op: op, lhs: lhs, rhs: rhs, matching: vectorMatching, returnBool: returnBool))
    }

    /// A sign binds like `*`: `-a ^ b` is `-(a ^ b)`, `-a * b` is `(-a) * b`.
    /// A run of signs is read in a loop rather than by recursion, so that
    /// `- - - … x` costs no stack per sign; each still counts as a level.
    private mutating func unary() throws(PromQLError) -> Expr {
        var signs: [Token] = []
        while peek.kind == .minus || peek.kind == .plus {
            signs.append(advance())
            guard nesting + signs.count <= Self.maxDepth else {
                throw fail("expression is nested more than \(Self.maxDepth) levels deep", peek)
            }
        }
        guard !signs.isEmpty else { return try postfix(try primary()) }
        var operand = try expression(minimum: BinaryOp.power.precedence)
        // The sign nearest the operand applies first, as the grammar nests them.
        for sign in signs.reversed() {
            try setDepth(depth + 1)
            guard operand.type == .scalar || operand.type == .vector else {
                throw fail("unary expression only allowed on expressions of type scalar or instant vector, got \(operand.type)", sign)
            }
            guard sign.kind == .minus else { continue }
            if case .number(let value) = operand {
                operand = .number(-value)
            } else {
                operand = .negate(operand)
            }
        }
        return operand
    }

    // MARK: Postfix: ranges, subqueries, offset, @

    private mutating func postfix(_ base: Expr) throws(PromQLError) -> Expr {
        var expr = base
        while true {
            if peek.kind == .leftBracket {
                expr = try rangeOrSubquery(expr)
            } else if isKeyword(peek, "offset") {
                let token = advance()
                var negative = false
                if peek.kind == .minus || peek.kind == .plus { negative = advance().kind == .minus }
                let amount = try duration(context: "in offset")
                expr = try modify(expr, at: token) { offset, _ throws(PromQLError) in
                    guard offset == 0 else { throw fail("offset may not be set multiple times", token) }
                    offset = negative ? -amount : amount
                }
            } else if peek.kind == .at {
                let token = advance()
                let at = try atModifier()
                expr = try modify(expr, at: token) { _, current throws(PromQLError) in
                    guard current == nil else { throw fail("@ <timestamp> may not be set multiple times", token) }
                    current = at
                }
            } else {
                return expr
            }
        }
    }

    private mutating func rangeOrSubquery(_ base: Expr) throws(PromQLError) -> Expr {
        let open = advance()
        let range = try duration(context: "in subquery or range selector")
        if peek.kind == .colon {
            _ = advance()
            var step: Int64?
            if peek.kind != .rightBracket { step = try duration(context: "in subquery step") }
            _ = try expect(.rightBracket, "\"]\"", context: "in subquery")
            guard base.type == .vector else {
                throw fail("subquery is only allowed on instant vector, got \(base.type) instead", open)
            }
            try setDepth(depth + 1)
            return .subquery(Subquery(expr: base, range: range, step: step))
        }
        _ = try expect(.rightBracket, "\"]\"", context: "in range selector")
        guard case .selector(let selector) = base else {
            throw fail("ranges only allowed for vector selectors", open)
        }
        guard selector.offset == 0 else { throw fail("no offset modifiers allowed before range", open) }
        guard selector.at == nil else { throw fail("no @ modifiers allowed before range", open) }
        return .matrix(selector, range: range)
    }

    /// Applies an offset or `@` change to the selector or subquery it follows.
    private func modify(
        _ expr: Expr, at token: Token, _ change: (inout Int64, inout AtModifier?) throws(PromQLError) -> Void
    ) throws(PromQLError) -> Expr {
        switch expr {
        case .selector(var s):
            try change(&s.offset, &s.at)
            return .selector(s)
        case .matrix(var s, let range):
            try change(&s.offset, &s.at)
            return .matrix(s, range: range)
        case .subquery(var s):
            try change(&s.offset, &s.at)
            return .subquery(s)
        default:
            let what = token.kind == .at ? "@ modifier" : "offset modifier"
            throw fail("\(what) must be preceded by an instant vector selector or range vector selector or a subquery", token)
        }
    }

    private mutating func atModifier() throws(PromQLError) -> AtModifier {
        if isKeyword(peek, "start") || isKeyword(peek, "end") {
            let which = advance().text.lowercased()
            _ = try expect(.leftParen, "\"(\"", context: "in @ modifier")
            _ = try expect(.rightParen, "\")\"", context: "in @ modifier")
            return which == "start" ? .start : .end
        }
        var sign = 1.0
        if peek.kind == .minus || peek.kind == .plus { sign = advance().kind == .minus ? -1 : 1 }
        let token = peek
        guard token.kind == .number, let value = Parser.number(token.text) else {
            throw fail("unexpected \(Parser.describe(token)) in @, expected timestamp", token)
        }
        let millis = sign * value * 1000
        guard millis.isFinite, abs(millis) < 9.2e18 else { throw fail("timestamp out of bounds for @ modifier: \(sign * value)", token) }
        _ = advance()
        return .time(Int64(millis.rounded()))
    }

    private mutating func duration(context: String) throws(PromQLError) -> Int64 {
        let token = peek
        guard token.kind == .duration else {
            throw fail("unexpected \(Parser.describe(token)) \(context), expected duration", token)
        }
        _ = advance()
        do {
            return try parseDuration(token.text)
        } catch {
            throw fail("bad duration \"\(token.text)\": \(error.reason)", token)
        }
    }

    // MARK: Primaries

    private mutating func primary() throws(PromQLError) -> Expr {
        let token = peek
        switch token.kind {
        case .number:
            _ = advance()
            guard let value = Parser.number(token.text) else { throw fail("bad number \"\(token.text)\"", token) }
            depth = 1
            return .number(value)
        case .string:
            _ = advance()
            depth = 1
            return .string(token.text)
        case .leftParen:
            _ = advance()
            let inner = try expression(minimum: 0)
            _ = try expect(.rightParen, "\")\"", context: "in parenthesized expression")
            try setDepth(depth + 1)
            return .paren(inner)
        case .leftBrace:
            depth = 1
            return .selector(try selector(name: nil, at: token))
        case .identifier:
            let word = token.text.lowercased()
            if word == "inf" || word == "nan" {
                _ = advance()
                depth = 1
                return .number(word == "inf" ? .infinity : .nan)
            }
            if let op = AggregationOp(rawValue: word),
               next.kind == .leftParen || isKeyword(next, "by") || isKeyword(next, "without") {
                return try aggregation(op)
            }
            if next.kind == .leftParen {
                return try call()
            }
            // Matching modifiers cannot start an expression (other keywords can be metric names).
            if ["bool", "on", "ignoring", "group_left", "group_right"].contains(word) {
                throw fail("unexpected \(word)", token)
            }
            _ = advance()
            depth = 1
            return .selector(try selector(name: token.text, at: token))
        case .end:
            throw fail("unexpected end of input", token)
        default:
            throw fail("unexpected \(Parser.describe(token))", token)
        }
    }

    /// Decimal, hexadecimal (`0x1f`), `Inf` and `NaN` literals.
    static func number(_ text: String) -> Double? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16).map { Double($0) } }
        if lower == "inf" || lower == "+inf" { return .infinity }
        if lower == "-inf" { return -.infinity }
        if lower == "nan" { return .nan }
        return Double(text)
    }

    private mutating func call() throws(PromQLError) -> Expr {
        let nameToken = advance()
        guard let function = Function.all[nameToken.text] else {
            throw fail("unknown function with name \"\(nameToken.text)\"", nameToken)
        }
        _ = advance() // (
        let arguments = try argumentList(context: "in call to function \"\(function.name)\"")
        let declared = function.arguments.count
        if function.optional == 0 {
            guard arguments.count == declared else {
                throw fail("expected \(declared) argument(s) in call to \"\(function.name)\", got \(arguments.count)", nameToken)
            }
        } else {
            guard arguments.count >= declared - 1 else {
                throw fail("expected at least \(declared - 1) argument(s) in call to \"\(function.name)\", got \(arguments.count)", nameToken)
            }
            if function.optional > 0, arguments.count > declared - 1 + function.optional {
                throw fail("expected at most \(declared - 1 + function.optional) argument(s) in call to \"\(function.name)\", got \(arguments.count)", nameToken)
            }
        }
        for (i, argument) in arguments.enumerated() {
            let expected = function.arguments[min(i, declared - 1)]
            guard argument.type == expected else {
                throw fail("expected type \(expected) in call to function \"\(function.name)\", got \(argument.type)", nameToken)
            }
        }
        return .call(function, arguments)
    }

    private mutating func aggregation(_ op: AggregationOp) throws(PromQLError) -> Expr {
        let opToken = advance()
        var grouping: [String] = []
        var without = false
        var grouped = false
        if isKeyword(peek, "by") || isKeyword(peek, "without") {
            without = advance().text.lowercased() == "without"
            grouping = try labelList()
            grouped = true
        }
        _ = try expect(.leftParen, "\"(\"", context: "in aggregation")
        let arguments = try argumentList(context: "in aggregation")
        let wanted = op.parameter == nil ? 1 : 2
        guard arguments.count == wanted else {
            throw fail("wrong number of arguments for aggregate expression provided, expected \(wanted), got \(arguments.count)", opToken)
        }
        if !grouped && (isKeyword(peek, "by") || isKeyword(peek, "without")) {
            without = advance().text.lowercased() == "without"
            grouping = try labelList()
        }
        let expr = arguments[arguments.count - 1]
        guard expr.type == .vector else {
            throw fail("expected type instant vector in aggregation expression, got \(expr.type)", opToken)
        }
        var parameter: Expr?
        if let wantedType = op.parameter {
            parameter = arguments[0]
            guard arguments[0].type == wantedType else {
                throw fail("expected type \(wantedType) in aggregation parameter, got \(arguments[0].type)", opToken)
            }
        }
        return .aggregate(Aggregation(op: op, expr: expr, parameter: parameter, grouping: grouping, without: without))
    }

    /// Expressions up to the closing parenthesis (consumed), comma-separated,
    /// a trailing comma allowed; the depth is then that of the call holding them.
    private mutating func argumentList(context: String) throws(PromQLError) -> [Expr] {
        var arguments: [Expr] = []
        var deepest = 0
        while peek.kind != .rightParen {
            arguments.append(try expression(minimum: 0))
            deepest = max(deepest, depth)
            if peek.kind == .comma {
                _ = advance()
            } else if peek.kind != .rightParen {
                throw fail("unexpected \(Parser.describe(peek)) \(context), expected \",\" or \")\"", peek)
            }
        }
        _ = advance()
        try setDepth(deepest + 1)
        return arguments
    }

    /// `(label, …)`, possibly empty, a trailing comma allowed.
    private mutating func labelList() throws(PromQLError) -> [String] {
        _ = try expect(.leftParen, "\"(\"", context: "in grouping opts")
        var labels: [String] = []
        while peek.kind != .rightParen {
            let token = peek
            guard token.kind == .identifier, Labels.isValidName(token.text) else {
                throw fail("unexpected \(Parser.describe(token)) in grouping opts, expected label", token)
            }
            labels.append(advance().text)
            if peek.kind == .comma {
                _ = advance()
            } else if peek.kind != .rightParen {
                throw fail("unexpected \(Parser.describe(peek)) in grouping opts, expected \",\" or \")\"", peek)
            }
        }
        _ = advance()
        return labels
    }

    /// `{matchers}` after an optional metric name; at least one matcher
    /// must not match the empty string.
    private mutating func selector(name: String?, at start: Token) throws(PromQLError) -> Selector {
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(try matcher(Labels.metricName, .equal, name, at: start)) }
        if peek.kind == .leftBrace {
            _ = advance()
            while peek.kind != .rightBrace {
                let nameToken = peek
                guard nameToken.kind == .identifier && Labels.isValidName(nameToken.text) || nameToken.kind == .string else {
                    throw fail("unexpected \(Parser.describe(nameToken)) in label matching, expected label name", nameToken)
                }
                _ = advance()
                let op: MatchOperator
                switch peek.kind {
                case .equal: op = .equal
                case .notEqual: op = .notEqual
                case .regexMatch: op = .regexMatch
                case .regexNoMatch: op = .regexNoMatch
                default:
                    throw fail("unexpected \(Parser.describe(peek)) in label matching, expected label matching operator", peek)
                }
                _ = advance()
                let valueToken = peek
                guard valueToken.kind == .string else {
                    throw fail("unexpected \(Parser.describe(valueToken)) in label matching, expected string", valueToken)
                }
                _ = advance()
                if nameToken.text == Labels.metricName, name != nil {
                    throw fail("metric name must not be set twice: \"\(name!)\" or \"\(valueToken.text)\"", nameToken)
                }
                matchers.append(try matcher(nameToken.text, op, valueToken.text, at: valueToken))
                if peek.kind == .comma {
                    _ = advance()
                } else if peek.kind != .rightBrace {
                    throw fail("unexpected \(Parser.describe(peek)) in label matching, expected \",\" or \"}\"", peek)
                }
            }
            _ = advance()
        }
        guard matchers.contains(where: { !$0.matchesEmpty }) else {
            throw fail("vector selector must contain at least one non-empty matcher", start)
        }
        return Selector(name: name, matchers: matchers)
    }

    private func matcher(_ name: String, _ op: MatchOperator, _ value: String, at token: Token) throws(PromQLError) -> LabelMatcher {
        do {
            return try LabelMatcher(name, op, value)
        } catch {
            throw fail(error.description, token)
        }
    }
}
