import Testing
@testable import LogQL
import LogStorage
import TallyTestKit

/// Every LogQL feature the parser takes, evaluated and checked against what
/// Loki answers for the same lines: label_format, drop, keep, decolorize,
/// bytes_rate, unwrap bytes() and duration(), byte and duration filters,
/// avg/min_over_time, bottomk and unpack.
@Suite("LogQL features, evaluated")
struct LogQLFeatureTests {
    /// Lines at day + 1…6 s; the instant queries look at (day, day + 10 s].
    let lines = [
        json("api", 1, #""msg":"GET /a","status":200,"took":"120ms","size":"1.5KB""#),
        json("api", 2, level: "error", #""msg":"upstream timeout","status":504,"took":"2.5s","size":"2KiB""#),
        json("api", 3, #""msg":"GET /b","status":200,"took":"80ms","size":"512B""#),
        json("db", 4, level: "error", #""msg":"timeout waiting for lock","status":500,"took":"1s","size":"1MB""#),
        // What Promtail's `pack` stage writes: the original line under `_entry`, labels beside it.
        #"{"ts":\#((day + 5 * second) / 1_000_000),"service":"packed","_entry":"GET /c 200","pod":"p-1","attempt":3}"#,
        // A line coloured by ANSI escape sequences, as a terminal logger writes it.
        "service=color level=info ts=\((day + 6 * second) / 1_000_000) msg=\"\u{1B}[31mred\u{1B}[0m and \u{1B}[1;32mbold green\u{1B}[0m\"",
    ]

    func fixture() throws -> (TemporaryDirectory, LogStore) {
        let dir = try TemporaryDirectory()
        return (dir, try storeWith(lines, in: dir))
    }

    func logs(_ query: String, _ store: LogStore) throws -> [String] {
        guard case .logs(let selector) = try LogQLParser.parse(query) else { return [] }
        let streams = try LogQLEngine(store: store).logs(selector, start: day, end: day + 3_600 * second, limit: 100, backward: false)
        return streams.flatMap { stream in stream.entries.map { ($0.0, $0.1) } }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The labels of each stream a log query answers, printed.
    func streamLabels(_ query: String, _ store: LogStore) throws -> [String] {
        guard case .logs(let selector) = try LogQLParser.parse(query) else { return [] }
        return try LogQLEngine(store: store).logs(selector, start: day, end: day + 3_600 * second, limit: 100, backward: false)
            .map { $0.labels.description }.sorted()
    }

    @Test func labelFormatRenamesAndTemplates() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        // A rename moves the value and removes the source, as in Loki.
        #expect(try logs(#"{service="api"} | json | label_format code=status | line_format "{{.code}}/{{.status}}""#, store)
            == ["200/", "504/", "200/"])
        // A template may use any label, stream or extracted.
        let values = instantValues(over: store)
        #expect(try values(#"sum by (who) (count_over_time({service=~"api|db"} | label_format who="{{.service}}-{{.level}}" [10s]))"#) == [
            #"{who="api-info"}"#: 2, #"{who="api-error"}"#: 1, #"{who="db-error"}"#: 1,
        ])
        // Assigning to a stream label overrides it.
        #expect(try values(#"sum by (service) (count_over_time({service="db"} | label_format service="database" [10s]))"#) == [
            #"{service="database"}"#: 1,
        ])
    }

    @Test func dropAndKeepChooseTheLabelsOfTheResult() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let values = instantValues(over: store)
        // The streams' labels: service, level, and source (the format the line was read as).
        #expect(try values(#"count_over_time({service="api"} | drop level [10s])"#) == [#"{service="api", source="json"}"#: 3])
        #expect(try values(#"count_over_time({service="api"} | keep service [10s])"#) == [#"{service="api"}"#: 3])
        #expect(try values(#"count_over_time({service="api"} | keep level [10s])"#) == [#"{level="info"}"#: 2, #"{level="error"}"#: 1])
        // Extracted labels too: keep the parsed status and nothing else.
        #expect(try values(#"count_over_time({service="api"} | json | keep status [10s])"#) == [#"{status="200"}"#: 2, #"{status="504"}"#: 1])
        // json's labels that clash with the stream's get `_extracted`, as in Loki; drop takes those names too.
        #expect(try streamLabels(#"{service="db"} | json | drop msg, took, size, ts, status"#, store)
            == [#"{level="error", level_extracted="error", service="db", service_extracted="db", source="json"}"#])
        #expect(try streamLabels(#"{service="db"} | json | drop msg, took, size, ts, status, level_extracted, service_extracted, source"#, store)
            == [#"{level="error", service="db"}"#])
        // Dropping __error__ keeps lines a parser flagged.
        #expect(try logs(#"{service="color"} | json | drop __error__ | __error__="""#, store).count == 1)
    }

    @Test func decolorizeStripsANSIEscapes() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let plain = try logs(#"{service="color"} | decolorize"#, store)
        #expect(plain.count == 1)
        #expect(!(plain.first ?? "").contains("\u{1B}"), "\(plain)")
        #expect((plain.first ?? "").contains(#"msg="red and bold green""#), "\(plain)")
        // Without it the escapes are there.
        #expect((try logs(#"{service="color"}"#, store).first ?? "").contains("\u{1B}[31m"))
        #expect(try logs(#"{service="color"} | decolorize |= "red and bold""#, store).count == 1)
    }

    @Test func bytesRateIsTheBytesOfTheLinesPerSecond() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let values = instantValues(over: store)
        let apiBytes = Double(lines[0...2].map(\.utf8.count).reduce(0, +))
        #expect(try values(#"sum(bytes_over_time({service="api"}[10s]))"#) == ["{}": apiBytes])
        let rate = try values(#"sum(bytes_rate({service="api"}[10s]))"#)["{}"] ?? 0
        #expect(abs(rate - apiBytes / 10) < 1e-9, "\(rate) vs \(apiBytes / 10)")
    }

    @Test func unwrapBytesAndDurationAndTheirFilters() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let values = instantValues(over: store)
        // Loki's units: KB is 1,000 bytes, KiB 1,024, MB 1,000,000.
        #expect(try values(#"sum(sum_over_time({service=~"api|db"} | unwrap bytes(size) [10s]))"#) == ["{}": 1_500 + 2_048 + 512 + 1_000_000])
        #expect(try values(#"max_over_time({service="api"} | unwrap bytes(size) [10s]) by (service)"#) == [#"{service="api"}"#: 2_048])
        // Durations unwrap to seconds.
        #expect(try values(#"sum by (service) (sum_over_time({service="api"} | unwrap duration(took) [10s]))"#) == [#"{service="api"}"#: 2.7])
        // As in Loki, sum_over_time takes no grouping of its own.
        #expect(throws: LogQLError.self) { _ = try values(#"sum_over_time({service="api"} | unwrap took [10s]) by (service)"#) }
        #expect(try values(#"min_over_time({service="api"} | unwrap duration_seconds(took) [10s]) by (service)"#) == [#"{service="api"}"#: 0.08])
        // Byte and duration filters compare with units.
        #expect(try logs(#"{service=~"api|db"} | size > 1KB"#, store).count == 3)
        #expect(try logs(#"{service=~"api|db"} | size >= 2KiB"#, store).count == 2)
        #expect(try logs(#"{service=~"api|db"} | size < 1kB"#, store).count == 1)
        #expect(try logs(#"{service=~"api|db"} | took <= 120ms"#, store).count == 2)
        #expect(try logs(#"{service=~"api|db"} | took > 1s or size > 1MiB"#, store).count == 1)
    }

    @Test func avgAndMinOverTime() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let values = instantValues(over: store)
        let average = try values(#"avg_over_time({service="api"} | unwrap status [10s]) by (service)"#)
        #expect(abs((average[#"{service="api"}"#] ?? 0) - 904.0 / 3) < 1e-9, "\(average)")
        #expect(try values(#"min_over_time({service=~"api|db"} | unwrap status [10s]) by (service)"#) == [
            #"{service="api"}"#: 200, #"{service="db"}"#: 500,
        ])
        // Without `by`, each stream is its own series (its labels kept, as Loki does for min and max).
        #expect(try values(#"min_over_time({service="api"} | unwrap status [10s])"#) == [
            #"{level="info", service="api", source="json"}"#: 200, #"{level="error", service="api", source="json"}"#: 504,
        ])
    }

    @Test func bottomkKeepsTheSmallest() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        let values = instantValues(over: store)
        let counts = #"sum by (service) (count_over_time({service=~".+"}[10s]))"#
        #expect(try values("bottomk(4, \(counts))") == [
            #"{service="db"}"#: 1, #"{service="packed"}"#: 1, #"{service="color"}"#: 1, #"{service="api"}"#: 3,
        ])
        #expect(try values("bottomk(1, \(counts))").count == 1)
        #expect(try values("bottomk(1, \(counts))").values.first == 1)
        #expect(try values("topk(1, \(counts))") == [#"{service="api"}"#: 3])
        // By group: the smallest of each level.
        #expect(try values(#"bottomk by (level) (1, sum by (service, level) (count_over_time({service=~"api|db"}[10s])))"#).count == 2)
    }

    /// `unpack` is not `json`: it takes the string fields as labels and puts `_entry` back as the line.
    @Test func unpackRestoresThePackedLine() throws {
        let (dir, store) = try fixture()
        defer { dir.remove() }
        #expect(try logs(#"{service="packed"} | unpack"#, store) == ["GET /c 200"])
        #expect(try logs(#"{service="packed"} | unpack | pod="p-1" | line_format "{{.pod}}: {{__line__}}""#, store) == ["p-1: GET /c 200"])
        // Filters after unpack see the unpacked line.
        #expect(try logs(#"{service="packed"} | unpack |= "GET /c""#, store).count == 1)
        #expect(try logs(#"{service="packed"} | unpack |= "_entry""#, store).isEmpty)
        // json keeps the packed line and makes `_entry` a label of its own.
        #expect(try logs(#"{service="packed"} | json | line_format "{{._entry}}""#, store) == ["GET /c 200"])
        #expect((try logs(#"{service="packed"} | json"#, store).first ?? "").hasPrefix("{"))
        // Only string fields are unpacked: attempt (a number) is not a label.
        let values = instantValues(over: store)
        #expect(try values(#"sum by (pod, attempt) (count_over_time({service="packed"} | unpack [10s]))"#) == [#"{pod="p-1"}"#: 1])
        // A line that is not a JSON object is flagged as json flags it.
        #expect(try logs(#"{service="color"} | unpack | __error__="JSONParserErr""#, store).count == 1)
    }
}
