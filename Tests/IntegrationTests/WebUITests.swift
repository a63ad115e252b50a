import Foundation
import TallyTestKit
import Testing

/// The built-in web UI in a real Chromium (Debian's `chromium` and
/// `chromium-driver`, driven by Selenium from PyPI): each page is loaded
/// against a tally fed known data, used as a person would, and what it
/// shows is checked. `Browser/ui_check.py` drives the browser and reports
/// what it saw; `TALLY_UI_SCREENSHOTS=docs/ui` keeps its screenshots there.
@Suite("Web UI in Chromium", .serialized)
struct WebUITests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/ui_check.py").path

    /// Runs the browser on one page; returns what it saw.
    static func look(at page: String, on tally: TallyProcess, expr: String = "") async throws -> [String: Any] {
        let scratch = try TemporaryDirectory(prefix: "tally-ui")
        defer { scratch.remove() }
        let shots = ProcessInfo.processInfo.environment["TALLY_UI_SCREENSHOTS"] ?? scratch.path
        let out = scratch.path + "/seen.json"
        let (status, output) = try await runProcess("/usr/bin/env", [
            "python3", script, "http://127.0.0.1:\(tally.httpPort)", page, "--out", out, "--screenshots", shots, "--expr", expr,
        ])
        try #require(status == 0, "ui_check.py exited \(status): \(output.suffix(3_000))")
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The first two columns of a table's rows: name and count as shown.
    static func rows(_ seen: [String: Any], _ table: String) -> [[String]] {
        (seen[table] as? [[String]] ?? []).map { Array($0.prefix(2)) }
    }

    @Test func theCardinalityPageShowsTheHeadAndWhatTheLimitsRefused() async throws {
        let config = try ConfigFile("limits:\n  max_series: 40\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // 30 gauge series and 7 counters; then 20 more gauges, of which 3 fit under max_series and 17 are dropped.
        var lines: [String] = []
        for i in 0..<30 { lines.append("queue.depth:\(i)|g|#host:h\(i)") }
        for i in 0..<7 { lines.append("checkout.orders:1|c|#env:prod,host:h\(i)") }
        try sendTCP(Array((lines.joined(separator: "\n") + "\n").utf8), port: tally.statsdPort)
        // Generous waits: on a loaded 2-core CI machine the rest of the suite can hold flushes up for tens of seconds.
        _ = try await tally.waitFor("/api/v1/status/tsdb", timeout: .seconds(120)) { _, body in body.contains(#""numSeries":37,"#) }
        let extra = (40..<60).map { "queue.depth:\($0)|g|#host:h\($0)" }.joined(separator: "\n") + "\n"
        try sendTCP(Array(extra.utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/metrics", timeout: .seconds(120)) { _, body in
            body.contains(#"tally_statsd_store_limit_dropped_lines_total{reason="series_limit"} 17"#)
        }
        _ = try await tally.waitFor("/api/v1/status/tsdb", timeout: .seconds(120)) { _, body in body.contains(#""numSeries":40,"#) }
        // The head's growth: a point per maintenance round (every 15 s), then now.
        _ = try await tally.waitFor("/api/v1/status/head_series", timeout: .seconds(60)) { _, body in body.contains("],[") }

        let seen = try await Self.look(at: "cardinality", on: tally)
        #expect(seen["title"] as? String == "Cardinality · tally")
        let nav = seen["nav"] as? [[Any]] ?? []
        #expect(nav.contains { $0.first as? String == "Cardinality" && $0.last as? String == "page" }, "the current page is marked in the navigation: \(nav)")
        #expect(nav.contains { $0.first as? String == "Graph" && !($0.last is String) })
        let cards = seen["cards"] as? [String: String] ?? [:]
        #expect(cards["Series"] == "40", "\(cards)")
        #expect(cards["Label pairs"] == "36", "__name__ ×2, host ×33, env ×1: \(cards)")
        #expect(Self.rows(seen, "by-metric") == [["queue_depth", "33"], ["checkout_orders_total", "7"]])
        #expect(Self.rows(seen, "by-pair").prefix(3) == [["__name__=queue_depth", "33"], ["__name__=checkout_orders_total", "7"], ["env=prod", "7"]])
        #expect(Self.rows(seen, "by-label") == [["host", "33"], ["__name__", "2"], ["env", "1"]])
        let growth = seen["growth_lines"] as? [[Any]] ?? []
        #expect(growth.count == 1 && growth.first?.first as? String == "tally_storage_head_series" && (growth.first?.last as? Int ?? 0) >= 2, "\(growth)")
        #expect(seen["growth_legend"] as? [String] == ["tally_storage_head_series"])
        // The refusal, with the counter's own description.
        let limits = seen["limits"] as? [[String]] ?? []
        #expect(limits.contains {
            $0.first?.contains("tally_statsd_store_limit_dropped_lines_total") == true && $0.dropFirst().first == #"reason="series_limit""# && $0.last == "17"
        }, "\(limits)")
        // Twenty entries per list, chosen with the keyboard; the URL keeps the choice.
        #expect((seen["tabs_to_limit"] as? Int ?? 99) <= 6, "past the five links of the navigation bar")
        #expect((seen["url_after_limit"] as? String)?.hasSuffix("/cardinality?limit=20") == true)
        #expect(seen["limit_after_reload"] as? String == "20")
        #expect(Self.rows(seen, "by-pair-after-reload").count == 20 && Self.rows(seen, "by-pair-after-limit").count == 20)
        // A dark scheme, a phone's width, nothing from elsewhere, no console error.
        let background = seen["background"] as? [String: String] ?? [:]
        #expect(background["light"] != nil && background["light"] != background["dark"])
        #expect(seen["overflow_on_phone"] as? Int == 0)
        #expect((seen["foreign_requests"] as? [String])?.isEmpty == true, "\(seen["foreign_requests"] ?? "")")
        #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
        #expect(seen["error"] as? String == "")
        #expect(await tally.stop() == 0)
    }
}

extension WebUITests {
    @Test func theGraphPageDrawsTabulatesZoomsAndShowsParseErrors() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // Two series, three values each, a second apart: the last ones are 23 and 16.
        for (a, b) in [(21, 12), (22, 14), (23, 16)] {
            try sendTCP(Array("ui.temp:\(a)|g|#room:a\nui.temp:\(b)|g|#room:b\n".utf8), port: tally.statsdPort)
            try await Task.sleep(for: .milliseconds(1_100))
        }
        _ = try await tally.waitFor("/api/v1/query?query=ui_temp", timeout: .seconds(120)) { _, body in body.contains(#""23"]"#) && body.contains(#""16"]"#) }
        // A deploy while the values came in: a marker on the time axis.
        let deploy = #"{"event":"deployment","service":"checkout","version":"v42","commit_sha":"c0ffee","commit_time":"2026-01-01T00:00:00Z","status":"success"}"#
        #expect(try await tally.post("/api/v1/events", body: Array(deploy.utf8), headers: [("Content-Type", "application/json")]).status == 200)

        let seen = try await Self.look(at: "graph", on: tally, expr: "ui_temp")
        #expect((seen["home"] as? String)?.hasSuffix("/graph") == true, "/ goes to /graph")
        #expect(seen["title"] as? String == "Graph · tally")
        // One line per series, named as Prometheus prints series, in the legend too.
        let lines = seen["lines"] as? [[Any]] ?? []
        #expect(lines.map { $0.first as? String ?? "" } == [#"ui_temp{room="a"}"#, #"ui_temp{room="b"}"#], "\(lines)")
        #expect(lines.allSatisfy { ($0.last as? Int ?? 0) >= 2 })
        #expect(seen["legend"] as? [String] == [#"ui_temp{room="a"}"#, #"ui_temp{room="b"}"#])
        #expect(seen["markers"] as? [String] == ["deployment checkout v42 success"], "\(seen["markers"] ?? "")")
        // Hovering shows values that were sent.
        let hover = seen["hover_values"] as? [String] ?? []
        #expect(hover.count == 2 && ["21", "22", "23"].contains(hover[0]) && ["12", "14", "16"].contains(hover[1]), "\(hover)")
        // The legend isolates a series and brings the others back.
        #expect((seen["isolated_lines"] as? [[Any]] ?? []).map { $0.first as? String ?? "" } == [#"ui_temp{room="b"}"#], "\(seen["isolated_lines"] ?? "")")
        #expect(seen["lines_after_isolation"] as? Int == 2)
        #expect((seen["stacked_url"] as? String)?.contains("stacked=1") == true && seen["stacked_lines"] as? Int == 2)
        // A drag zooms in: the URL holds the new end and a range under the five minutes asked.
        let zoomed = URLComponents(string: seen["zoom_url"] as? String ?? "")?.queryItems ?? []
        let range = zoomed.first { $0.name == "range" }?.value ?? ""
        #expect(zoomed.contains { $0.name == "end" } && !range.isEmpty && range != "5m", "\(zoomed)")
        // The table: the exact last values, the same after reopening the URL.
        let expected = [[#"ui_temp{room="a"}"#, "23"], [#"ui_temp{room="b"}"#, "16"]]
        #expect((seen["table_url"] as? String)?.contains("tab=table") == true)
        #expect(seen["table"] as? [[String]] == expected, "\(seen["table"] ?? "")")
        #expect(seen["table_after_reload"] as? [[String]] == expected)
        // Completion offers the fed names and PromQL's functions; Tab takes the first offer.
        let completions = seen["completions"] as? [String: [String]] ?? [:]
        #expect(completions["ui_t"]?.first == "ui_temp", "\(completions)")
        #expect(completions["ui_temp{r"] == ["room"], "\(completions)")
        #expect(completions[#"ui_temp{room=""#] == ["a", "b"], "\(completions)")
        #expect(completions["rat"]?.contains("rate") == true, "\(completions)")
        #expect(seen["accepted"] as? String == "ui_temp")
        // A query that does not parse: the server's error, and a caret under column 22.
        #expect((seen["error"] as? String)?.contains("1:22: parse error") == true, "\(seen["error"] ?? "")")
        #expect(seen["position"] as? String == "sum(rate(ui_temp[5m])\n" + String(repeating: " ", count: 21) + "^")
        #expect((seen["console_errors_before_bad_query"] as? [String])?.isEmpty == true, "\(seen["console_errors_before_bad_query"] ?? "")")
        // A second query on the page: its own chart, kept in the URL, removable.
        #expect(seen["second_focused"] as? String == "expr-1")
        #expect((seen["panels_url"] as? String)?.contains("g1.expr=sum%28ui_temp%29") == true, "\(seen["panels_url"] ?? "")")
        #expect(seen["panel_lines"] as? [[String]] == [[#"ui_temp{room="a"}"#, #"ui_temp{room="b"}"#], ["{}"]], "\(seen["panel_lines"] ?? "")")
        #expect(seen["panels_after_reload"] as? [String] == ["ui_temp", "sum(ui_temp)"])
        #expect(seen["panels_after_remove"] as? Int == 1)
        // Prometheus's own link form: g0.expr, g0.tab=1 (table), g0.range_input.
        #expect(seen["prometheus_link_table"] as? [[String]] == expected, "\(seen["prometheus_link_table"] ?? "")")
        #expect(seen["overflow_on_phone"] as? Int == 0)
        #expect((seen["foreign_requests"] as? [String])?.isEmpty == true)
        #expect(await tally.stop() == 0)
    }
}

extension WebUITests {
    @Test func theLogsPageListsCountsExpandsChartsAndTailsLines() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // A minute ago: five info lines in logfmt, two seconds apart, then three errors in JSON; a warning elsewhere.
        let base = (Int64(Date().timeIntervalSince1970) - 60) * 1_000_000_000
        let at = { (seconds: Int64) in "\(base + seconds * 1_000_000_000)" }
        let info = (0..<5).map { i in #"["\#(at(Int64(i) * 2))","msg=\"order placed\" order=\#(i) duration=12ms"]"# }
        let errors = (0..<3).map { j in #"["\#(at(10 + Int64(j) * 2))","{\"msg\":\"payment declined\",\"order\":\#(j),\"card\":{\"brand\":\"visa\"}}"]"# }
        let body = """
            {"streams":[{"stream":{"service":"checkout","level":"info"},"values":[\(info.joined(separator: ","))]},\
            {"stream":{"service":"checkout","level":"error"},"values":[\(errors.joined(separator: ","))]},\
            {"stream":{"service":"search","level":"warn"},"values":[["\(at(20))","slow query"]]}]}
            """
        #expect(try await tally.post("/loki/api/v1/push", body: Array(body.utf8), headers: [("Content-Type", "application/json")]).status == 204)

        let query = #"{service="checkout"}"#
        let seen = try await Self.look(at: "logs", on: tally, expr: query)
        #expect(seen["title"] as? String == "Logs · tally")
        // Newest first: the three errors, then the five info lines, each coloured by its level.
        let lines = (seen["lines"] as? [[String: String]] ?? [])
        let expectedTexts = (0..<3).reversed().map { #"{"msg":"payment declined","order":\#($0),"card":{"brand":"visa"}}"# }
            + (0..<5).reversed().map { #"msg="order placed" order=\#($0) duration=12ms"# }
        #expect(lines.map { $0["text"] ?? "" } == expectedTexts, "\(lines)")
        #expect(lines.map { $0["level"] ?? "" } == Array(repeating: "error", count: 3) + Array(repeating: "info", count: 5))
        #expect(lines.allSatisfy { $0["level"] == $0["data_level"] })
        #expect((seen["summary"] as? String)?.hasPrefix("8 lines") == true, "\(seen["summary"] ?? "")")
        // The volume histogram counts the fed lines by level.
        #expect(seen["volume"] as? [String: Int] == ["error": 3, "info": 5], "\(seen["volume"] ?? "")")
        #expect(seen["volume_legend"] as? [String] == ["error 3", "info 5"], "\(seen["volume_legend"] ?? "")")
        // The newest line, opened with the keyboard: its stream's labels and its JSON's fields.
        let opened = seen["opened"] as? [[String]] ?? []
        for row in [["Labels"], ["level", "error"], ["service", "checkout"], ["Fields"], ["msg", "payment declined"], ["order", "2"], ["card_brand", "visa"]] {
            #expect(opened.contains(row), "\(row) not in \(opened)")
        }
        // The URL keeps the list's size, and reopening it lists the same lines.
        #expect((seen["limit_url"] as? String)?.contains("limit=100") == true)
        #expect((seen["lines_after_reload"] as? [[String: String]] ?? []).map { $0["text"] ?? "" } == expectedTexts)
        // Completion: stream labels and values from the store, LogQL's functions.
        let completions = seen["completions"] as? [String: [String]] ?? [:]
        #expect(completions["{ser"] == ["service"], "\(completions)")
        #expect(completions[#"{service=""#] == ["checkout", "search"], "\(completions)")
        #expect(completions["count_o"]?.contains("count_over_time") == true, "\(completions)")
        // A metric query is a chart, one line per level, and no list.
        #expect(Set(seen["metric_lines"] as? [String] ?? []) == [#"{level="error"}"#, #"{level="info"}"#], "\(seen["metric_lines"] ?? "")")
        #expect(seen["metric_lines_listed"] as? Int == 0)
        #expect((seen["console_errors_before_bad_query"] as? [String])?.isEmpty == true, "\(seen["console_errors_before_bad_query"] ?? "")")
        // A query that does not parse: the server's message and a caret under the column it names.
        let error = seen["error"] as? String ?? ""
        #expect(error.contains("parse error at line 1, col"), "\(error)")
        let column = Int(error.split(separator: "col ").last?.prefix { $0.isNumber } ?? "") ?? 0
        #expect(seen["position"] as? String == #"{service="checkout""# + "\n" + String(repeating: " ", count: max(0, column - 1)) + "^", "\(seen["position"] ?? "")")
        // Live tail: a line pushed after the page opened comes first, coloured as a warning.
        #expect(seen["push_status"] as? Int == 204)
        let live = (seen["live_first"] as? [[String: String]] ?? []).first ?? [:]
        #expect(live["text"]?.hasPrefix("sent after the page opened") == true && live["data_level"] == "warn", "\(live) \(seen["live_summary"] ?? "")")
        #expect((seen["live_url"] as? String)?.contains("live=1") == true)
        #expect(seen["overflow_on_phone"] as? Int == 0)
        #expect((seen["foreign_requests"] as? [String])?.isEmpty == true, "\(seen["foreign_requests"] ?? "")")
        #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
        #expect(await tally.stop() == 0)
    }
}

extension WebUITests {
    @Test func theStatusPageShowsRuntimeListenersCountersStorageQueuesQueriesAndConfig() async throws {
        let config = try ConfigFile("""
            remote_write:
              - url: http://127.0.0.1:1/api/v1/write
                basic_auth:
                  username: tally
                  password: hunter2-status-page
            """)
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // Twelve good lines over TCP and two that are not StatsD.
        let lines = (0..<12).map { "status.page.hits:1|c|#route:r\($0)" } + ["not a statsd line", "status.page.hits:x|c"]
        try sendTCP(Array((lines.joined(separator: "\n") + "\n").utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/status/tsdb", timeout: .seconds(120)) { _, body in body.contains(#""numSeries":12,"#) }
        // One PromQL and one LogQL query for the query log.
        _ = try await tally.waitFor("/api/v1/query_range?query=sum(status_page_hits_total)&start=\(Int(Date().timeIntervalSince1970) - 600)&end=\(Int(Date().timeIntervalSince1970))&step=15") { status, _ in status == 200 }
        _ = try await tally.waitFor("/loki/api/v1/query_range?query=%7Bservice%3D%22none%22%7D") { status, _ in status == 200 }

        let seen = try await Self.look(at: "status", on: tally)
        #expect(seen["title"] as? String == "Status · tally")
        #expect((seen["nav"] as? [[Any]] ?? []).contains { $0.first as? String == "Status" && $0.last as? String == "page" })
        let runtime = seen["runtime"] as? [String: String] ?? [:]
        #expect(runtime["Version"]?.isEmpty == false && runtime["Data directory"]?.hasSuffix("/data") == true, "\(runtime)")
        #expect(runtime["Damaged blocks at start"] == "0")
        // Every listener TallyProcess asked for.
        let listeners = seen["listeners"] as? [[String]] ?? []
        for expected in [["statsd", "udp", "127.0.0.1:\(tally.statsdPort)", "no"], ["statsd", "tcp", "127.0.0.1:\(tally.statsdPort)", "no"],
                         ["http", "http", "127.0.0.1:\(tally.httpPort)", "no"], ["logs", "tcp", "127.0.0.1:\(tally.logsPort)", "no"]] {
            #expect(listeners.contains(expected), "\(expected) not in \(listeners)")
        }
        // The counters: the lines received, the bad ones marked as refused.
        let ingest = seen["ingest"] as? [[String]] ?? []
        #expect(ingest.contains { $0[1] == "tally_statsd_received_lines_total" && $0.last == "14" }, "\(ingest)")
        let refused = seen["refused_rows"] as? [[String]] ?? []
        #expect(refused.contains { $0[1] == "tally_statsd_bad_lines_total" && $0.last != "0" }, "\(refused)")
        #expect(!refused.contains { $0[1] == "tally_statsd_received_lines_total" })
        // The storage: the head's series, the WAL, no block yet.
        let storage = seen["storage"] as? [String: String] ?? [:]
        #expect(storage["Head series"] == "12", "\(storage)")
        #expect(storage["WAL"]?.contains("segment") == true && storage["Blocks"] == "0, 0 B", "\(storage)")
        #expect((seen["blocks"] as? [[String]])?.first?.first?.hasPrefix("No block yet") == true)
        // The remote_write queue.
        let forwarding = seen["forwarding"] as? [[String]] ?? []
        #expect(forwarding.contains { $0.first == "remote_storage" }, "\(forwarding)")
        // The queries run above, each linked to its page.
        let queries = seen["queries"] as? [[String]] ?? []
        #expect(queries.contains { $0.first == "promql" && $0[1] == "sum(status_page_hits_total)" && $0[2] == "600 s" }, "\(queries)")
        #expect(queries.contains { $0.first == "logql" && $0[1] == #"{service="none"}"# }, "\(queries)")
        let links = seen["query_links"] as? [String] ?? []
        #expect(links.contains { $0.contains("/graph?expr=sum%28status_page_hits_total%29&range=600s") }, "\(links)")
        #expect(links.contains { $0.contains("/logs?query=") }, "\(links)")
        // The config in force: the file without its password, the flags.
        #expect((seen["config_source"] as? String)?.contains(config.path) == true)
        let yaml = seen["config"] as? String ?? ""
        #expect(yaml.contains("password: <secret>") && !yaml.contains("hunter2") && yaml.contains("username: tally"), "\(yaml)")
        #expect((seen["flags"] as? [[String]] ?? []).contains(["--config", config.path]))
        #expect(seen["error"] as? String == "")
        #expect(seen["overflow_on_phone"] as? Int == 0)
        #expect((seen["foreign_requests"] as? [String])?.isEmpty == true, "\(seen["foreign_requests"] ?? "")")
        #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
        #expect(await tally.stop() == 0)
    }
}

extension WebUITests {
    @Test func theReportPageShowsTheDaysKeysServicesAndLinksEachFigureToItsQuery() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // Yesterday (UTC), backfilled: two successful deploys (lead times 2 h and 30 min), one failed
        // deploy, and an incident of another service resolved after an hour.
        let midnight = (Int64(Date().timeIntervalSince1970) / 86_400 - 1) * 86_400
        let day = ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: Double(midnight)), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let at = { (hour: Double) in Int64(Double(midnight) + hour * 3_600) }
        let events = """
            [{"event":"deployment","service":"checkout","version":"v1","commit_sha":"a1","commit_time":\(at(8)),"status":"success","time":\(at(10))},
             {"event":"deployment","service":"checkout","version":"v2","commit_sha":"a2","commit_time":\(at(11)),"status":"failure","time":\(at(12))},
             {"event":"deployment","service":"search","version":"v7","commit_sha":"b7","commit_time":\(at(12.5)),"status":"success","time":\(at(13))},
             {"event":"incident","service":"billing","incident_id":"INC-1","state":"opened","time":\(at(14))},
             {"event":"incident","service":"billing","incident_id":"INC-1","state":"resolved","time":\(at(15))}]
            """
        let posted = try await tally.post("/api/v1/events", body: Array(events.utf8), headers: [("Content-Type", "application/json")])
        #expect(posted.status == 200, "\(posted.body)")

        let seen = try await Self.look(at: "report", on: tally, expr: day)
        #expect(seen["title"] as? String == "Report · tally")
        #expect(seen["date_input"] as? String == day)
        let keys = seen["keys"] as? [String: [String: String]] ?? [:]
        #expect(keys["Deployment frequency"]?["value"]?.hasPrefix("2 deploys") == true, "\(keys)")
        #expect(keys["Lead time for changes"]?["value"] == "1h 15m median, p90 2h 0m", "\(keys)")
        #expect(keys["Change failure rate"]?["value"] == "33.3% (1 of 3)", "\(keys)")
        #expect(keys["Time to restore service"]?["value"] == "1h 0m median, 0 open", "\(keys)")
        #expect(keys["Time to restore service"]?["tier"] == "high", "an hour is under a day: \(keys)")
        // Each key's figure opens its events in /logs over the report's day.
        let link = URLComponents(string: keys["Deployment frequency"]?["link"] ?? "")
        #expect(link?.path == "/logs" && link?.queryItems?.first { $0.name == "query" }?.value == #"{event="deployment"}"#, "\(String(describing: link))")
        #expect(link?.queryItems?.first { $0.name == "end" }?.value == String(midnight + 86_400))
        #expect((seen["linked_lines"] as? [String] ?? []).count == 3, "\(seen["linked_lines"] ?? "")")
        // The services, each figure a link; the deploys chart's last day.
        let services = seen["services"] as? [[String]] ?? []
        #expect(services.contains { $0.prefix(5) == ["billing", "0", "—", "—", "1h 0m"] }, "\(services)")
        #expect(services.contains { $0.prefix(4) == ["checkout", "1", "2h 0m", "50.0%"] }, "\(services)")
        #expect(services.contains { $0.prefix(4) == ["search", "1", "30m", "0.0%"] }, "\(services)")
        let links = seen["service_links"] as? [String] ?? []
        #expect(links.contains { $0.contains("/graph?expr=sum%28rate%28checkout_requests_total%5B1d%5D%29%29") }, "\(links)")
        #expect(seen["deploy_bars"] as? [String: Int] == ["successful": 2, "failed": 1], "\(seen["deploy_bars"] ?? "")")
        #expect((seen["quality"] as? [[String]])?.first?.first?.hasPrefix("Every delivery event") == true)
        #expect((seen["page_link"] as? String)?.hasSuffix("/report/daily?date=\(day)") == true)
        // The day before: the URL follows the button, and it had no deploy.
        #expect((seen["previous_url"] as? String)?.hasSuffix("/report?date=\(Self.dayBefore(day))") == true, "\(seen["previous_url"] ?? "")")
        #expect((seen["previous_keys"] as? [String: String])?["Deployment frequency"]?.hasPrefix("0 deploys") == true)
        #expect(seen["overflow_on_phone"] as? Int == 0)
        #expect((seen["foreign_requests"] as? [String])?.isEmpty == true, "\(seen["foreign_requests"] ?? "")")
        #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
        #expect(await tally.stop() == 0)
    }

    static func dayBefore(_ day: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let date = formatter.date(from: day) ?? Date()
        return formatter.string(from: date.addingTimeInterval(-86_400))
    }
}
