import Testing
import TelemetryModel
@testable import PromQL

@Suite("Selector parser")
struct SelectorParserTests {
    @Test func plainName() throws {
        let selector = try SelectorParser.parse("http_requests_total")
        #expect(selector.matchers.map(\.description) == [#"__name__="http_requests_total""#])
    }

    @Test func nameWithMatchersOfEveryKind() throws {
        let selector = try SelectorParser.parse(#"up{job="api", env!="dev",instance=~"web-.*", zone!~'eu.*',}"#)
        #expect(selector.matchers.map(\.op) == [.equal, .equal, .notEqual, .regexMatch, .regexNoMatch])
        #expect(selector.matchers[3].value == "web-.*")
        #expect(selector.description == #"up{job="api", env!="dev", instance=~"web-.*", zone!~"eu.*"}"#)
    }

    @Test func bracesOnly() throws {
        let selector = try SelectorParser.parse(#"{__name__=~"api_.*"}"#)
        #expect(selector.matchers.count == 1)
    }

    @Test func escapesInStrings() throws {
        let selector = try SelectorParser.parse(#"x{path="a\"b\\c", re=~"\d+\.ok"}"#)
        #expect(selector.matchers[1].value == #"a"b\c"#)
        #expect(selector.matchers[2].value == #"\d+\.ok"#)
        #expect(selector.matchers[2].matches("12.ok"))
    }

    @Test(arguments: [
        ("", "1:1: parse error: no expression found in input"),
        ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        (#"{a=""}"#, "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        ("up{job}", #"1:7: parse error: unexpected "}" in label matching, expected label matching operator"#),
        ("up{job=api}", #"1:8: parse error: unexpected "api" in label matching, expected string"#),
        (#"up{job="a" env="b"}"#, #"1:12: parse error: unexpected "env" in label matching, expected "," or "}""#),
        (#"up{job="a"#, "1:8: parse error: unterminated quoted string"),
        ("up{", "1:4: parse error: unexpected end of input in label matching, expected label name"),
        (#"up{x=~"("}"#, #"1:7: parse error: invalid regular expression "(""#),
        (#"up{__name__="x"}"#, #"1:4: parse error: metric name must not be set twice: "up" or "x""#),
        ("up $", "1:4: parse error: unexpected character: '$'"),
    ])
    func errorsSayWhereAndWhy(_ query: String, _ message: String) {
        do {
            _ = try SelectorParser.parse(query)
            Issue.record("\(query) should not parse")
        } catch {
            #expect(error.description.hasPrefix(message), "\(query): \(error.description)")
        }
    }

    @Test(arguments: ["rate(x[5m])", "x[5m]", "1+1", "sum by (a) (x)", "x offset 5m", "x > 1", "-x"])
    func otherPromQLIsRefusedAsUnsupported(_ query: String) {
        do {
            _ = try SelectorParser.parse(query)
            Issue.record("\(query) should be refused")
        } catch {
            #expect(error.kind == .unsupported, "\(query): \(error)")
        }
    }
}
