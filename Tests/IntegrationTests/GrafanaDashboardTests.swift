import Foundation
import TallyTestKit
import Testing

/// Deploy/grafana/tally.json, the dashboard of tally's own figures, with
/// tally as its Prometheus data source: its variables list the running
/// tally, and every panel's every query, with the variables replaced as
/// Grafana replaces them, answers a range query with data. The tally
/// measured forwards to a second one (agent, remote_write, Loki push) so that
/// the forwarding panels have figures too.
@Suite("Grafana dashboard against tally", .serialized)
struct GrafanaDashboardTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Deploy/grafana/tally.json").path

    /// Every (panel title, query) of the dashboard.
    static func queries() throws -> [(panel: String, expr: String)] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        let panels = try #require(root["panels"] as? [[String: Any]])
        return panels.flatMap { panel in
            ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { target in
                (target["expr"] as? String).map { (panel["title"] as? String ?? "?", $0) }
            }
        }
    }

    @Test func theDashboardIsGrafanaShaped() throws {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.file))) as? [String: Any])
        #expect(root["uid"] as? String == "tally-self")
        #expect((root["schemaVersion"] as? Int ?? 0) >= 36)
        let variables = ((root["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(variables == ["datasource", "job", "instance"])
        let panels = root["panels"] as? [[String: Any]] ?? []
        // Panels do not overlap on Grafana's 24-column grid.
        var taken = Set<[Int]>()
        for panel in panels {
            let grid = try #require(panel["gridPos"] as? [String: Int])
            for x in grid["x"]!..<(grid["x"]! + grid["w"]!) {
                for y in grid["y"]!..<(grid["y"]! + grid["h"]!) {
                    #expect(taken.insert([x, y]).inserted, "\(panel["title"] ?? "?") overlaps another panel")
                }
            }
            #expect(grid["x"]! + grid["w"]! <= 24)
        }
        #expect(try Self.queries().count >= 25)
    }

    @Test func everyQueryReturnsDataFromTally() async throws {
        let central = try TallyProcess()
        _ = try await central.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-grafana")
        defer { scratch.remove() }
        let config = scratch.path + "/tally.yaml"
        let centralURL = "http://127.0.0.1:\(central.httpPort)"
        try """
        agent:
          url: \(centralURL)/api/v1/aggregates
        remote_write:
          - url: \(centralURL)/api/v1/write
            name: central
        loki_push:
          - url: \(centralURL)/loki/api/v1/push
            name: central
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config, "--self-monitoring-interval", "500ms"])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        try sendUDP(Array("dash.requests:1|c|#route:/\ndash.latency:12|ms\ndash.bad\n".utf8), port: tally.statsdPort)
        try sendUDP(Array(#"{"service":"dash","level":"info","msg":"hello"}"#.utf8), port: tally.logsPort)
        // Rates need two stored rounds of the figures that counted the lines; then a few more
        // rounds, so that the range query's last steps have them in their window.
        _ = try await tally.waitFor("/api/v1/query?query=" + urlEncoded("rate(tally_statsd_received_lines_total[1m]) > 0"), timeout: .seconds(60)) {
            _, body in body.contains(#""transport":"udp""#)
        }
        try await Task.sleep(for: .seconds(3))

        // The variables, as Grafana's label_values() asks for them.
        let jobs = try await tally.get("/api/v1/label/job/values?match%5B%5D=" + urlEncoded(#"up{job=~"tally.*"}"#)).body
        #expect(jobs.contains(#""tally""#), "\(jobs)")
        let instances = try await tally.get("/api/v1/label/instance/values?match%5B%5D=" + urlEncoded(#"up{job=~"tally"}"#)).body
        #expect(instances.contains(":\(tally.httpPort)\""), "\(instances)")

        let end = Int(Date().timeIntervalSince1970.rounded(.down))
        for (panel, template) in try Self.queries() {
            let expr = template.replacingOccurrences(of: "$__rate_interval", with: "1m")
                .replacingOccurrences(of: "$job", with: "tally").replacingOccurrences(of: "$instance", with: ".*")
            #expect(!expr.contains("$"), "\(panel): a variable the test does not replace: \(expr)")
            let answer = try await tally.get("/api/v1/query_range?query=\(urlEncoded(expr))&start=\(end - 120)&end=\(end)&step=2")
            #expect(answer.status == 200 && answer.body.contains(#""resultType":"matrix""#), "\(panel): \(expr): \(answer.body)")
            #expect(!answer.body.contains(#""result":[]"#), "\(panel): \(expr) returned no data")
        }
        #expect(await tally.stop() == 0)
        #expect(await central.stop() == 0)
    }
}
