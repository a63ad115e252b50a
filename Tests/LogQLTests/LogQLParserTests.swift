import Testing
@testable import LogQL

@Suite("LogQL parser")
struct LogQLParserTests {
    @Test(arguments: [
        #"{service="api"}"#,
        #"{service="api", level=~"error|warn"} |= "timeout" != "retry" |~ "t[io]+meout" !~ "x""#,
        #"{service="api"} | json | status >= 500 and duration > 1.5s or size > 20MB"#,
        #"{service="api"} | logfmt | line_format "{{.method}} {{.path | ToUpper}}""#,
        #"{service="api"} | pattern "<ip> - <_> \"<method> <path>\"" | label_format m=method, p="{{.path}}""#,
        #"{service="api"} | regexp "(?P<verb>\\w+) (?P<path>\\S+)" | drop verb | keep path"#,
        #"{service="api"} | json first="servers[0]", ua="request.headers[\"User-Agent\"]""#,
        #"count_over_time({service="api"} |= "x" [5m])"#,
        #"count_over_time({service="api"}[5m] |= "x")"#,
        #"sum by (service) (count_over_time({level="error"}[5m]))"#,
        #"sum(rate({service="api"}[1m])) by (level)"#,
        #"topk(3, sum by (service) (bytes_rate({env="prod"}[5m])))"#,
        #"quantile_over_time(0.99, {service="api"} | json | unwrap duration(latency) | __error__="" [5m]) by (route)"#,
        #"avg_over_time({service="api"} | logfmt | unwrap bytes(size) [1h] offset 1h)"#,
        #"sum(count_over_time({a="b"}[1m])) / sum(count_over_time({a=~".+"}[1m])) * 100"#,
        #"absent_over_time({service="gone"}[10m])"#,
        #"count_over_time({a="b"} | status = 500 [1m]) > bool 3"#,
    ])
    func parses(_ query: String) throws {
        _ = try LogQLParser.parse(query)
    }

    @Test(arguments: [
        (#"{service="api""#, "parse error at line 1, col 15: syntax error: unexpected end of input, expecting }"),
        (#"{service=~".*"}"#, "parse error at line 1, col 1: queries require at least one regexp or equality matcher"),
        (#"count_over_time({a="b"})"#, "parse error at line 1, col 24: syntax error: unexpected ), expecting ["),
        (#"sum_over_time({a="b"}[5m])"#, "parse error at line 1, col 1: sum_over_time needs an unwrapped value"),
        (#"{a="b"} |= 5"#, "parse error at line 1, col 12: syntax error: unexpected NUMBER 5.0, expecting STRING"),
        (#"{a="b"} | line_format "{{.a""#, "parse error at line 1, col 11: invalid template"),
        ("{a=\"b\"}\n | status > \"x\"", "parse error at line 2, col 11: syntax error: a string is compared"),
        (#"count_over_time({a="b"}[5x])"#, "parse error at line 1, col 25: invalid duration or size \"5x\""),
        (#"sum({a="b"})"#, "parse error at line 1, col 1: sum aggregates a metric query, not a log query"),
        (#"{a="b"} + 1"#, "parse error at line 1, col 9: binary operations need metric queries"),
    ])
    func refusesWithPosition(_ query: String, _ message: String) {
        #expect {
            _ = try LogQLParser.parse(query)
        } throws: { error in
            guard let error = error as? LogQLError else { return false }
            return error.kind == .parse && error.message.hasPrefix(message)
        }
    }

    @Test func durationsAndSizes() {
        #expect(LogQLLexer.duration("1h30m") == 5_400_000_000_000)
        #expect(LogQLLexer.duration("1.5s") == 1_500_000_000)
        #expect(LogQLLexer.duration("250ms") == 250_000_000)
        #expect(LogQLLexer.duration("10us") == 10_000)
        #expect(LogQLLexer.byteSize("20MB") == 20_000_000)
        #expect(LogQLLexer.byteSize("1KiB") == 1024)
        #expect(LogQLLexer.byteSize("3b") == 3)
    }
}
