import Testing
@testable import LogQL
import LogStorage
import TallyTestKit

/// Damaged queries are refused with an error or, when they still parse, answered:
/// never a crash or a hang, whatever the bytes.
@Suite("LogQL on damaged queries")
struct LogQLGarbageTests {
    static let corpus = [
        #"{service="api", level=~"error|warn"} |= "timeout" != "retry" |~ "t[io]+meout" !~ "x""#,
        #"{service="api"} | json | status >= 500 and took > 1.5s or size > 20MB"#,
        #"{service="api"} | logfmt | line_format "{{.method}} {{.path | ToUpper}}""#,
        #"{service="api"} | pattern "<ip> - <_> \"<method> <path>\"" | label_format m=method, p="{{.path}}""#,
        #"{service="api"} | regexp "(?P<verb>\\w+) (?P<path>\\S+)" | drop verb | keep path"#,
        #"{service="api"} | json first="servers[0]", ua="request.headers[\"User-Agent\"]""#,
        #"sum by (service) (count_over_time({level="error"}[5m]))"#,
        #"topk(3, sum by (service) (bytes_rate({service=~".+"}[5m])))"#,
        #"quantile_over_time(0.99, {service="api"} | json | unwrap duration(took) | __error__="" [5m]) by (service)"#,
        #"sum(count_over_time({service="api"}[1m])) / sum(count_over_time({service=~".+"}[1m])) * 100"#,
        #"absent_over_time({service="gone"}[10m])"#,
        #"count_over_time({service="api"} | status = 500 [1m]) > bool 3"#,
    ]

    @Test(arguments: corpus.indices)
    func damagedQueriesAreRefusedOrAnswered(_ index: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith([
            json("api", 1, #""msg":"GET /a","status":200,"took":"120ms","size":"3KB""#),
            json("api", 2, level: "error", #""msg":"upstream timeout","status":504,"took":"2.5s""#),
            "service=web level=warn msg=\"slow page\" took=900ms ts=\((day + 5 * second) / 1_000_000)",
            "not json, not logfmt: \u{1}\u{7f} ünïcödé",
        ], in: dir)
        let engine = LogQLEngine(store: store)
        var mutator = Mutator(seed: UInt64(index) + 5001)
        var parsed = 0
        for _ in 0..<1_500 {
            let query = mutator.mutate(Self.corpus[index])
            guard let expr = try? LogQLParser.parse(query) else { continue }
            parsed += 1
            if case .logs(let selector) = expr {
                _ = try? engine.logs(selector, start: day, end: day + 600 * second, limit: 50, backward: true)
            }
            _ = try? engine.range(expr, start: day, end: day + 600 * second, step: 60 * second)
            _ = try? engine.instant(expr, at: day + 300 * second)
        }
        // Some damage leaves a valid query (a digit changed, a space added): those ran too.
        #expect(parsed > 0)
    }
}

@Suite("LogQL nesting bound")
struct LogQLNestingTests {
    static func deep(_ kind: Int) -> String {
        let metric = #"count_over_time({a="b"}[1m])"#
        return switch kind {
        case 0: String(repeating: "(", count: 100_000) + metric + String(repeating: ")", count: 100_000)
        case 1: metric + String(repeating: " + " + metric, count: 5_000)
        case 2: String(repeating: "sum(", count: 50_000) + metric + String(repeating: ")", count: 50_000)
        case 3: #"{a="b"} | x=1"# + String(repeating: ", x=1", count: 100_000)
        case 4: #"{a="b"} | x=1"# + String(repeating: " or x=1", count: 100_000)
        default: #"{a="b"} | "# + String(repeating: "(", count: 100_000) + "x=1" + String(repeating: ")", count: 100_000)
        }
    }

    @Test(arguments: 0..<6)
    func deepQueriesAreRefused(_ kind: Int) {
        let message = onLargeStack { () -> String? in
            do throws(LogQLError) {
                _ = try LogQLParser.parse(Self.deep(kind))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message?.contains("more than 1000") == true, "\(message ?? "parsed")")
    }

    /// A log line nested far deeper than any parser would recurse is stored,
    /// and `| json` answers with an error label, not a crash.
    @Test func deeplyNestedJSONLinesAreQueried() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let deep = String(repeating: #"{"a":["#, count: 50_000) + "1" + String(repeating: "]}", count: 50_000)
        let line = #"{"ts":\#((day + 1 * second) / 1_000_000),"service":"api","deep":"# + deep + "}"
        let store = try storeWith([line, String(repeating: "[", count: 200_000)], in: dir)
        guard case .logs(let selector) = try LogQLParser.parse(#"{service=~".+"} | json | line_format "{{.deep}}""#) else { return }
        _ = try LogQLEngine(store: store).logs(selector, start: day, end: day + 600 * second, limit: 10, backward: true)
    }
}
