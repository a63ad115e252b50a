import Testing
import TelemetryModel
@testable import PromQL

@Suite("PromQL parser")
struct ParserTests {
    private func parse(_ query: String) throws(PromQLError) -> Expr { try Parser.parse(query) }

    @Test func selectorsKeepEveryMatcherWithTheNameFirst() throws {
        guard case .selector(let s) = try parse(#"up{job="api", env!="dev",instance=~"web-.*", zone!~'eu.*',}"#) else {
            Issue.record("not a selector")
            return
        }
        #expect(s.name == "up")
        #expect(s.matchers.map(\.op) == [.equal, .equal, .notEqual, .regexMatch, .regexNoMatch])
        #expect(s.matchers[0].description == #"__name__="up""#)
        #expect(s.matchers[3].matches("web-1") && !s.matchers[3].matches("xweb-1"))
    }

    @Test func escapesInStringsAreUnescapedButRegexEscapesKept() throws {
        let s = try Parser.parseSelector(#"x{path="a\"b\\c", re=~"\d+\.ok"}"#)
        #expect(s.matchers[1].value == #"a"b\c"#)
        #expect(s.matchers[2].value == #"\d+\.ok"#)
        #expect(s.matchers[2].matches("12.ok"))
    }

    @Test(arguments: [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"),
        ("a - b - c", "((a - b) - c)"),
        ("-a ^ b", "-(a ^ b)"),
        ("-a * b", "(-a * b)"),
        ("a or b and c unless d", "(a or ((b and c) unless d))"),
        ("a > b + 1", "(a > (b + 1))"),
        ("a == bool b or c", "((a == bool b) or c)"),
        ("a atan2 b * c", "((a atan2 b) * c)"),
    ])
    func operatorsBindAsInPrometheus(_ query: String, _ grouped: String) throws {
        #expect(bracketed(try parse(query)) == grouped)
    }

    /// Every binary operation in parentheses, to show the tree.
    private func bracketed(_ expr: Expr) -> String {
        switch expr {
        case .binary(let b):
            return "(" + bracketed(b.lhs) + " " + b.op.rawValue + (b.returnBool ? " bool" : "") + " " + bracketed(b.rhs) + ")"
        case .negate(let e):
            return "-" + bracketed(e)
        default:
            return expr.description
        }
    }

    @Test func typesFollowTheOperands() throws {
        #expect(try parse("1 + 2").type == .scalar)
        #expect(try parse("x + 2").type == .vector)
        #expect(try parse("x[5m]").type == .matrix)
        #expect(try parse("rate(x[5m])[30m:1m]").type == .matrix)
        #expect(try parse("scalar(x)").type == .scalar)
        #expect(try parse(#""text""#).type == .string)
        #expect(try parse("-1").description == "-1")
    }

    @Test func modifiersAttachToSelectorsAndSubqueries() throws {
        guard case .matrix(let s, let range) = try parse("x[5m] offset -1h @ 1700000000.5") else {
            Issue.record("not a range selector")
            return
        }
        #expect(range == 300_000 && s.offset == -3_600_000 && s.at == .time(1_700_000_000_500))
        guard case .subquery(let q) = try parse("sum(x)[1h:] @ end()") else {
            Issue.record("not a subquery")
            return
        }
        #expect(q.range == 3_600_000 && q.step == nil && q.at == .end)
    }

    @Test func vectorMatchingIsRecorded() throws {
        guard case .binary(let b) = try parse("a * on(x, y) group_left(z) b") else {
            Issue.record("not binary")
            return
        }
        #expect(b.matching?.cardinality == .manyToOne && b.matching?.labels == ["x", "y"] && b.matching?.on == true)
        #expect(b.matching?.include == ["z"])
        guard case .binary(let set) = try parse("a and b"), case .binary(let scalar) = try parse("a + 1") else {
            Issue.record("not binary")
            return
        }
        #expect(set.matching?.cardinality == .manyToMany)
        #expect(scalar.matching == nil)
    }

    @Test(arguments: [
        ("", "1:1: parse error: no expression found in input"),
        ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        (#"{a=""}"#, "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        ("up{job}", #"1:7: parse error: unexpected "}" in label matching, expected label matching operator"#),
        ("up{job=api}", #"1:8: parse error: unexpected identifier "api" in label matching, expected string"#),
        (#"up{job="a" env="b"}"#, #"1:12: parse error: unexpected identifier "env" in label matching, expected "," or "}""#),
        (#"up{job="a"#, "1:8: parse error: unterminated quoted string"),
        ("up{", "1:4: parse error: unexpected end of input in label matching, expected label name"),
        (#"up{x=~"("}"#, #"1:7: parse error: invalid regular expression "(""#),
        (#"up{__name__="x"}"#, #"1:4: parse error: metric name must not be set twice: "up" or "x""#),
        ("up $", "1:4: parse error: unexpected character: '$'"),
        ("rate(x)", #"1:1: parse error: expected type range vector in call to function "rate", got instant vector"#),
        ("foo(x)", #"1:1: parse error: unknown function with name "foo""#),
        ("rate(x[5m], 1)", #"1:1: parse error: expected 1 argument(s) in call to "rate", got 2"#),
        ("round()", #"1:1: parse error: expected at least 1 argument(s) in call to "round", got 0"#),
        ("1 > 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
        ("x + bool y", "1:5: parse error: bool modifier can only be used on comparison operators"),
        ("1 and x", #"1:3: parse error: set operator "and" not allowed in binary scalar expression"#),
        ("x and on(a) group_left y", #"1:13: parse error: no grouping allowed for "and" operation"#),
        ("x[5m] + 1", "1:7: parse error: binary expression must contain only scalar and instant vector types"),
        ("sum(x[5m])", "1:1: parse error: expected type instant vector in aggregation expression, got range vector"),
        ("topk(x)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
        ("rate(x[5m])[5m]", "1:12: parse error: ranges only allowed for vector selectors"),
        ("x offset 5m[5m]", "1:12: parse error: no offset modifiers allowed before range"),
        ("sum(x) offset 5m", "1:8: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("x offset 1m offset 2m", "1:13: parse error: offset may not be set multiple times"),
        ("x[5m][1h:]", "1:6: parse error: subquery is only allowed on instant vector, got range vector instead"),
        ("x[5]", #"1:3: parse error: unexpected number "5" in subquery or range selector, expected duration"#),
        ("(x", #"1:3: parse error: unexpected end of input in parenthesized expression, expected ")""#),
        ("x y", #"1:3: parse error: unexpected identifier "y""#),
        ("-x[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got range vector"),
        ("x * on(a) group_left(a) y", #"1:11: parse error: label "a" must not occur in ON and GROUP clause at once"#),
    ])
    func errorsSayWhereAndWhy(_ query: String, _ message: String) {
        do {
            _ = try parse(query)
            Issue.record("\(query) should not parse")
        } catch {
            #expect(error.description.hasPrefix(message), "\(query): \(error.description)")
        }
    }

    @Test func seriesSelectorsRefuseOtherExpressions() {
        #expect(throws: PromQLError.self) { try Parser.parseSelector("rate(x[5m])") }
        #expect(throws: PromQLError.self) { try Parser.parseSelector("x offset 5m") }
        #expect(throws: PromQLError.self) { try Parser.parseSelector("x + 1") }
    }

    @Test(arguments: [
        (1e21, "1e+21"), (1_000_000, "1e+06"), (100_000, "100000"), (123_456.5, "123456.5"), (0.0001, "0.0001"),
        (0.00001, "1e-05"), (1.5e-7, "1.5e-07"), (-0.0, "-0"), (123_456_789, "1.23456789e+08"), (2.5, "2.5"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (0.1 + 0.2, "0.30000000000000004"), (1e100, "1e+100"),
    ])
    func numbersPrintAsGoPrintsThem(_ value: Double, _ text: String) {
        #expect(formatNumber(value) == text)
    }
}
