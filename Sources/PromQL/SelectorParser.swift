import TelemetryModel

/// Parses series selectors: the query form of this version of tally's API,
/// and the `match[]` form of the series and label endpoints. Other PromQL
/// (functions, operators, range vectors) is recognised and refused with a
/// clear message until the full engine lands.
public enum SelectorParser {
    /// Parses `name`, `name{…}` or `{…}`, requiring (as Prometheus does) at
    /// least one matcher that does not match the empty string.
    public static func parse(_ query: String) throws(PromQLError) -> VectorSelector {
        var lexer = Lexer(query)
        let tokens = try lexer.tokenize()
        var position = 0
        func peek() -> Token { tokens[position] }
        func fail(_ message: String, _ token: Token) -> PromQLError {
            PromQLError(.parse, message, at: token.offset, in: query)
        }
        func describe(_ token: Token) -> String {
            token.kind == .end ? "end of input" : "\"\(token.text)\""
        }

        var matchers: [LabelMatcher] = []
        let first = peek()
        switch first.kind {
        case .identifier:
            position += 1
            if peek().kind == .leftParen {
                throw PromQLError(.unsupported, "functions and aggregations are not supported by this version of tally yet; only series selectors are", at: first.offset, in: query)
            }
            matchers.append(try matcher(Labels.metricName, .equal, first.text, at: first, in: query))
        case .leftBrace:
            break
        case .end:
            throw fail("no expression found in input", first)
        case .number, .string, .minus, .plus, .leftParen:
            throw PromQLError(.unsupported, "only series selectors are supported by this version of tally yet", at: first.offset, in: query)
        default:
            throw fail("unexpected \(describe(first))", first)
        }

        if peek().kind == .leftBrace {
            position += 1
            while peek().kind != .rightBrace {
                let nameToken = peek()
                guard nameToken.kind == .identifier || nameToken.kind == .string else {
                    throw fail("unexpected \(describe(nameToken)) in label matching, expected label name", nameToken)
                }
                position += 1
                let opToken = peek()
                let op: MatchOperator
                switch opToken.kind {
                case .equal: op = .equal
                case .notEqual: op = .notEqual
                case .regexMatch: op = .regexMatch
                case .regexNoMatch: op = .regexNoMatch
                default:
                    throw fail("unexpected \(describe(opToken)) in label matching, expected label matching operator", opToken)
                }
                position += 1
                let valueToken = peek()
                guard valueToken.kind == .string else {
                    throw fail("unexpected \(describe(valueToken)) in label matching, expected string", valueToken)
                }
                position += 1
                if nameToken.text == Labels.metricName, !matchers.isEmpty, matchers[0].name == Labels.metricName, first.kind == .identifier {
                    throw fail("metric name must not be set twice: \"\(first.text)\" or \"\(valueToken.text)\"", nameToken)
                }
                matchers.append(try matcher(nameToken.text, op, valueToken.text, at: valueToken, in: query))
                if peek().kind == .comma {
                    position += 1
                } else if peek().kind != .rightBrace {
                    throw fail("unexpected \(describe(peek())) in label matching, expected \",\" or \"}\"", peek())
                }
            }
            position += 1
        }

        let trailing = peek()
        switch trailing.kind {
        case .end:
            break
        case .leftBracket, .identifier, .at, .plus, .minus, .star, .slash, .percent, .caret,
             .eqlEql, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            throw PromQLError(.unsupported, "range vectors, offsets and operators are not supported by this version of tally yet; only series selectors are", at: trailing.offset, in: query)
        default:
            throw fail("unexpected \(describe(trailing))", trailing)
        }
        guard matchers.contains(where: { !$0.matchesEmpty }) else {
            throw PromQLError(.parse, "vector selector must contain at least one non-empty matcher", at: 0, in: query)
        }
        return VectorSelector(matchers: matchers)
    }

    private static func matcher(_ name: String, _ op: MatchOperator, _ value: String, at token: Token, in query: String) throws(PromQLError) -> LabelMatcher {
        do {
            return try LabelMatcher(name, op, value)
        } catch {
            throw PromQLError(.parse, error.description, at: token.offset, in: query)
        }
    }
}
