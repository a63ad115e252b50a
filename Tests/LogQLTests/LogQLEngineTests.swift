import Testing
@testable import LogQL
import LogStorage
import LogWire
import TallyTestKit
import TelemetryModel

/// 2026-11-28T00:00:00Z in nanoseconds.
let day: Int64 = 1_795_824_000_000_000_000
let second: Int64 = 1_000_000_000

/// A store holding `lines` (logs-port lines), with `now` an hour after `day`.
func storeWith(_ lines: [String], in dir: TemporaryDirectory) throws -> LogStore {
    let now = day + 3_600 * second
    let store = try LogStore(directory: dir.path, now: now)
    var batch = LogBatch()
    var log = DecodedLog()
    for line in lines {
        Array(line.utf8).withUnsafeBytes { LogDecoder().decodeLine($0, into: &log) }
        batch.append(log)
    }
    try store.append(batch, now: now)
    return store
}

/// A function giving a metric query's answer at `day` + 10 s over `store`,
/// by the printed label set.
func instantValues(over store: LogStore) -> (String) throws -> [String: Double] {
    let engine = LogQLEngine(store: store)
    return { query in
        guard case .vector(_, let samples) = try engine.instant(try LogQLParser.parse(query), at: day + 10 * second) else { return [:] }
        return Dictionary(uniqueKeysWithValues: samples.map { ($0.labels.description, $0.value) })
    }
}

func json(_ service: String, _ seconds: Int64, level: String = "info", _ extra: String = "") -> String {
    #"{"ts":\#((day + seconds * second) / 1_000_000),"service":"\#(service)","level":"\#(level)"\#(extra.isEmpty ? "" : "," + extra)}"#
}

@Suite("LogQL evaluation")
struct LogQLEngineTests {
    let lines = [
        json("api", 1, #""msg":"GET /a","status":200,"took":"120ms""#),
        json("api", 2, level: "error", #""msg":"upstream timeout","status":504,"took":"2.5s""#),
        json("api", 3, #""msg":"GET /b","status":200,"took":"80ms""#),
        json("db", 4, level: "error", #""msg":"timeout waiting for lock","status":500,"took":"1s""#),
        json("db", 65, #""msg":"vacuum done","status":200,"took":"3s""#),
        "service=web level=warn msg=\"slow page\" took=900ms ts=\((day + 5 * second) / 1_000_000)",
    ]

    func logs(_ query: String, _ store: LogStore, limit: Int = 100, backward: Bool = true) throws -> [String] {
        guard case .logs(let selector) = try LogQLParser.parse(query) else { return [] }
        let streams = try LogQLEngine(store: store).logs(selector, start: day, end: day + 3_600 * second, limit: limit, backward: backward)
        return streams.flatMap { stream in stream.entries.map { ($0.0, $0.1) } }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    @Test func lineFiltersAndLabelFilters() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        #expect(try logs(#"{level="error"} |= "timeout""#, store).count == 2)
        #expect(try logs(#"{service=~"api|db"} |= "timeout" != "lock""#, store).count == 1)
        #expect(try logs(#"{service="api"} |~ "GET /[ab]""#, store).count == 2)
        // Fields are there without a parser: they are the record's structured data.
        #expect(try logs(#"{service=~".+"} | status >= 500"#, store).count == 2)
        #expect(try logs(#"{service=~".+"} | took > 1s"#, store).count == 2)
        #expect(try logs(#"{service=~".+"} | took >= 1s"#, store).count == 3)
        // A comma joins everything after it: a, b or c is a and (b or c).
        #expect(try logs(#"{service=~".+"} | status == 200, took > 2s or took < 100ms"#, store).count == 2)
        #expect(try logs(#"{service=~".+"} | took > 1s and status == 200"#, store).count == 1)
        #expect(try logs(#"{service=~".+"} | msg =~ "GET.*" or status = 500"#, store).count == 3)
        #expect(try logs(#"{service="web"} | took < 1s"#, store).count == 1)
    }

    @Test func parsersAndFormats() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        #expect(try logs(#"{service="api"} | json | line_format "{{.status}} {{.msg | ToUpper}}""#, store)
            == ["200 GET /A", "504 UPSTREAM TIMEOUT", "200 GET /B"])
        #expect(try logs(#"{service="web"} | logfmt | line_format "{{.msg}}""#, store) == ["slow page"])
        #expect(try logs(#"{service="web"} | pattern "service=<svc> level=<lvl> <_>" | line_format "{{.svc}}/{{.lvl}}""#, store) == ["web/warn"])
        #expect(try logs(#"{service="api"} | regexp "(?P<verb>GET) (?P<path>/\w+)" | verb="GET" | line_format "{{.path}}""#, store) == ["/a", "/b"])
        #expect(try logs(#"{service="api"} | logfmt --strict | __error__="LogfmtParserErr""#, store).count == 3)
        #expect(try logs(#"{service="api"} | logfmt | __error__="""#, store).count == 3)
        #expect(try logs(#"{service="web"} | json | __error__="JSONParserErr""#, store).count == 1)
    }

    @Test func limitAndDirection() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        #expect(try logs(#"{service=~".+"}"#, store, limit: 2, backward: true).count == 2)
        let newest = try logs(#"{service=~".+"}"#, store, limit: 2, backward: true)
        #expect(newest.first?.contains("slow page") == true)
        #expect(newest.last?.contains("vacuum") == true)
        let oldest = try logs(#"{service=~".+"}"#, store, limit: 2, backward: false)
        #expect(oldest.first?.contains("GET /a") == true)
    }

    @Test func countOverTimeWindowsAreLeftOpen() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        let engine = LogQLEngine(store: store)
        let result = try engine.range(try LogQLParser.parse(#"sum by (service) (count_over_time({service=~".+"}[2s]))"#),
                                       start: day + second, end: day + 5 * second, step: second)
        guard case .matrix(let series) = result else { Issue.record("expected a matrix"); return }
        let api = series.first { $0.labels["service"] == "api" }
        // (t-2s, t]: at 1s → {1}, 2s → {1,2}, 3s → {2,3}, 4s → {3}, 5s → none.
        #expect(api?.points.map(\.1) == [1, 2, 2, 1])
        #expect(api?.points.map(\.0) == [day + second, day + 2 * second, day + 3 * second, day + 4 * second])
    }

    @Test func unwrapAggregations() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        let engine = LogQLEngine(store: store)
        let sum = try engine.instant(try LogQLParser.parse(#"sum(sum_over_time({service="api"} | unwrap status [10s]))"#), at: day + 10 * second)
        guard case .vector(_, let samples) = sum else { Issue.record("expected a vector"); return }
        #expect(samples.map(\.value) == [904])
        let took = try engine.instant(try LogQLParser.parse(#"max_over_time({service=~".+"} | unwrap duration(took) [10s]) by (service)"#), at: day + 10 * second)
        guard case .vector(_, let byService) = took else { Issue.record("expected a vector"); return }
        #expect(Dictionary(uniqueKeysWithValues: byService.map { ($0.labels["service"] ?? "", $0.value) }) == ["api": 2.5, "db": 1, "web": 0.9])
        let q = try engine.instant(try LogQLParser.parse(#"quantile_over_time(0.5, {service="api"} | unwrap status [10s]) by (service)"#), at: day + 10 * second)
        guard case .vector(_, let median) = q else { Issue.record("expected a vector"); return }
        #expect(median.map(\.value) == [200])
    }

    @Test func unwrapOfANonNumberIsAPipelineErrorUnlessFiltered() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith(lines, in: dir)
        let engine = LogQLEngine(store: store)
        #expect(throws: LogQLError.self) {
            _ = try engine.instant(try LogQLParser.parse(#"sum_over_time({service="api"} | unwrap msg [10s])"#), at: day + 10 * second)
        }
        let filtered = try engine.instant(
            try LogQLParser.parse(#"sum_over_time({service="api"} | unwrap msg | __error__="" [10s])"#), at: day + 10 * second)
        guard case .vector(_, let samples) = filtered else { Issue.record("expected a vector"); return }
        #expect(samples.isEmpty)
    }

    @Test func vectorAggregationsAndBinaryOperations() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let values = try instantValues(over: storeWith(lines, in: dir))
        #expect(try values(#"sum(count_over_time({service=~".+"}[10s]))"#) == ["{}": 5])
        #expect(try values(#"topk(1, sum by (service) (count_over_time({service=~".+"}[10s])))"#) == [#"{service="api"}"#: 3])
        #expect(try values(#"sum(count_over_time({level="error"}[10s])) / sum(count_over_time({service=~".+"}[10s]))"#) == ["{}": 0.4])
        #expect(abs((try values(#"sum by (service) (rate({service="api"}[10s]))"#)[#"{service="api"}"#] ?? 0) - 0.3) < 1e-12)
        #expect(try values(#"sum by (service) (bytes_over_time({service="db"}[10s]))"#).values.first ?? 0 > 50)
        #expect(try values(#"count_over_time({service="api"}[10s]) > 5"#).isEmpty)
        #expect(try values(#"absent_over_time({service="nope"}[10s])"#) == [#"{service="nope"}"#: 1])
    }

    /// `on`, `ignoring`, `group_left` and `group_right` pair series as PromQL does.
    @Test func vectorMatching() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let values = try instantValues(over: storeWith(lines, in: dir))
        let byLevel = #"sum by (service, level) (count_over_time({service=~".+"}[10s]))"#
        let byService = #"sum by (service) (count_over_time({service=~".+"}[10s]))"#
        let errors = #"sum by (service) (count_over_time({level="error"}[10s]))"#
        let share: [String: Double] = [
            #"{level="info", service="api"}"#: 2.0 / 3, #"{level="error", service="api"}"#: 1.0 / 3,
            #"{level="error", service="db"}"#: 1, #"{level="warn", service="web"}"#: 1,
        ]
        #expect(try values("\(byLevel) / on(service) group_left \(byService)") == share)
        #expect(try values("\(byLevel) / ignoring(level) group_left() \(byService)") == share)
        #expect(try values("\(byService) - on(service) group_right \(byLevel)") == [
            #"{level="info", service="api"}"#: 1, #"{level="error", service="api"}"#: 2,
            #"{level="error", service="db"}"#: 0, #"{level="warn", service="web"}"#: 0,
        ])
        // One-to-one on `service`: the result keeps only the matched labels.
        #expect(try values(#"\#(errors) / on(service) sum by (service, level) (count_over_time({level="error"}[10s]))"#) == [
            #"{service="api"}"#: 1, #"{service="db"}"#: 1,
        ])
        // A group modifier copies the labels it names from the "one" side.
        #expect(try values(#"\#(byService) * on(service) group_left(level) sum by (service, level) (count_over_time({level="error"}[10s]))"#) == [
            #"{level="error", service="api"}"#: 3, #"{level="error", service="db"}"#: 1,
        ])
        #expect(try values("\(byLevel) and on(service) \(errors)").keys.sorted() == [
            #"{level="error", service="api"}"#, #"{level="error", service="db"}"#, #"{level="info", service="api"}"#,
        ])
        #expect(try values("\(byLevel) unless on(service) \(errors)") == [#"{level="warn", service="web"}"#: 1])
        #expect(try values("\(errors) or on(service) \(byService)") == [
            #"{service="api"}"#: 1, #"{service="db"}"#: 1, #"{service="web"}"#: 1,
        ])
        #expect {
            _ = try values("\(byService) / on(service) \(byLevel)")
        } throws: { error in
            (error as? LogQLError)?.message.hasPrefix("found duplicate series for the match group {service=\"api\"}") == true
        }
    }

    /// Field values no duration fits (`1e300`, `NaN`) compare or fail the filter; they once trapped.
    @Test func durationFiltersOnExtremeValues() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try storeWith([
            json("api", 1, #""took":"1e300""#), json("api", 2, #""took":"NaN""#), json("api", 3, #""took":"-1e300""#),
        ], in: dir)
        let found = try logs(#"{service="api"} | took > 1s"#, store)
        #expect(found.count == 2) // 1e300 s, and NaN kept with __error__
        let values = instantValues(over: store)
        #expect(try values(#"sum(count_over_time({service="api"} | took > 1s | __error__="" [10s]))"#) == ["{}": 1])
    }

    @Test func sortOrdersAnInstantAnswerByValue() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let engine = LogQLEngine(store: try storeWith(lines, in: dir))
        func order(_ query: String) throws -> [String] {
            guard case .vector(_, let samples) = try engine.instant(try LogQLParser.parse(query), at: day + 10 * second) else { return [] }
            return samples.map { $0.labels["service"] ?? "" }
        }
        let byService = #"sum by (service) (count_over_time({service=~".+"}[10s]))"#
        #expect(try order(byService) == ["api", "db", "web"])
        #expect(try order("sort_desc(\(byService))") == ["api", "db", "web"]) // 3, 1, 1: ties by labels
        #expect(try order("sort(\(byService))") == ["db", "web", "api"])
    }

    @Test func labelReplaceAndVector() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let values = try instantValues(over: storeWith(lines, in: dir))
        let byService = #"sum by (service) (count_over_time({service=~".+"}[10s]))"#
        #expect(try values(#"label_replace(\#(byService), "team", "team-$1", "service", "(a|d).*")"#) == [
            #"{service="api", team="team-a"}"#: 3, #"{service="db", team="team-d"}"#: 1, #"{service="web"}"#: 1,
        ])
        #expect(try values(#"label_replace(\#(byService), "service", "", "service", "web")"#) == [
            #"{service="api"}"#: 3, #"{service="db"}"#: 1, "{}": 1,
        ])
        #expect(throws: LogQLError.self) { _ = try values(#"label_replace(\#(byService), "service", "all", "service", ".*")"#) }
        #expect(try values("vector(2)") == ["{}": 2])
        #expect(try values(#"sum(count_over_time({service=~".+"}[10s])) + vector(1)"#) == ["{}": 6])
        #expect(try values(#"sum(count_over_time({service="nope"}[10s])) or vector(0)"#) == ["{}": 0])
    }

    @Test(arguments: [
        (#"label_replace(count_over_time({a="b"}[1m]), "x", "y", "a", "(")"#, "invalid regular expression in label_replace(): ("),
        (#"label_replace(count_over_time({a="b"}[1m]), "1x", "y", "a", ".*")"#, "invalid destination label name in label_replace(): 1x"),
        (#"label_replace({a="b"}, "x", "y", "a", ".*")"#, "label_replace needs a metric query"),
        (#"sum(count_over_time({a="b"}[1m])) / group_left sum(count_over_time({a="b"}[1m]))"#, "group modifiers need on(…) or ignoring(…)"),
        (#"sum(count_over_time({a="b"}[1m])) and on(a) group_left sum(count_over_time({a="b"}[1m]))"#, #"no grouping allowed for "and" operation"#),
        (#"sum(count_over_time({a="b"}[1m])) + bool sum(count_over_time({a="b"}[1m]))"#, "bool modifier can only be used on comparison operators"),
        (#"sum(count_over_time({a="b"}[1m])) / on(a) group_left(a) sum(count_over_time({a="b"}[1m]))"#, #"label "a" must not occur in ON and GROUP clause at once"#),
    ])
    func vectorMatchingMistakesAreRefused(_ query: String, _ message: String) {
        #expect {
            _ = try LogQLParser.parse(query)
        } throws: { error in
            (error as? LogQLError)?.message.contains(message) == true
        }
    }
}
