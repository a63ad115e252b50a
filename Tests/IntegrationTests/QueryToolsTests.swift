import Foundation
import TallyTestKit
import Testing

/// promtool (Prometheus's own client, from Debian's `prometheus` package) and
/// `tally query` against a running tally.
@Suite("Query tools against tally serve", .serialized)
struct QueryToolsTests {
    private func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runProcess(executable, arguments)
    }

    @Test func promtoolAndTallyQueryReadTheCollector() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // Two flushes of the same counter, so rate() has two points.
        for round in 0..<2 {
            try sendUDP(datagram((0..<10).map { _ in "tools.requests:3|c|#env:ci" }), port: tally.statsdPort)
            _ = try await tally.waitFor("/api/v1/query?query=tools_requests_total") { _, body in body.contains(#""\#(30 * (round + 1))""#) }
            try await Task.sleep(for: .milliseconds(300))
        }
        let server = "http://127.0.0.1:\(tally.httpPort)"

        let promtool = try #require(PrometheusServer.tool("promtool"), "promtool is installed by .ci/deps (apt-get install prometheus)")
        let instant = try await run(promtool, ["query", "instant", server, "sum(rate(tools_requests_total[5m]))"])
        #expect(instant.status == 0, "\(instant.output)")
        #expect(instant.output.contains("{} =>"), "\(instant.output)")
        let labels = try await run(promtool, ["query", "labels", server, "env"])
        #expect(labels.status == 0 && labels.output.contains("ci"), "\(labels.output)")
        let series = try await run(promtool, ["query", "series", server, "--match=tools_requests_total"])
        #expect(series.status == 0 && series.output.contains(#"__name__="tools_requests_total""#), "\(series.output)")
        let bad = try await run(promtool, ["query", "instant", server, "sum(rate(tools_requests_total))"])
        #expect(bad.status != 0 && bad.output.contains("bad_data"), "\(bad.output)")

        let binary = try TallyProcess.binaryPath()
        let table = try await run(binary, ["query", "sum by (env) (tools_requests_total)", "--server", server])
        #expect(table.status == 0, "\(table.output)")
        #expect(table.output.contains("SERIES") && table.output.contains(#"{env="ci"}"#) && table.output.contains("60"), "\(table.output)")
        let now = Int(Date().timeIntervalSince1970)
        let range = try await run(binary, ["query", "tools_requests_total", "--start", "\(now - 60)", "--end", "\(now)", "--step", "10s", "--server", server])
        #expect(range.status == 0 && range.output.contains("TIME"), "\(range.output)")
        let raw = try await run(binary, ["query", "1+1", "--json", "--server", server])
        #expect(raw.output.contains(#""resultType":"scalar""#), "\(raw.output)")
        let failing = try await run(binary, ["query", "rate(x)", "--server", server])
        #expect(failing.status == 1 && failing.output.contains("bad_data"), "\(failing.output)")

        #expect(await tally.stop() == 0)
    }
}

extension QueryToolsTests {
    /// `tally health`, the container image's HEALTHCHECK: 0 while tally is ready, 1 with the reason otherwise.
    @Test func tallyHealthAnswersWhetherTheServerIsReady() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let binary = try TallyProcess.binaryPath()
        let server = "http://127.0.0.1:\(tally.httpPort)"
        let ready = try await run(binary, ["health", "--server", server])
        #expect(ready.status == 0 && ready.output.isEmpty, "\(ready.output)")
        let live = try await run(binary, ["health", "--live", "--server", server])
        #expect(live.status == 0, "\(live.output)")
        #expect(await tally.stop() == 0)
        let gone = try await run(binary, ["health", "--server", server, "--timeout", "2"])
        #expect(gone.status == 1 && gone.output.contains("tally health: cannot reach \(server)"), "\(gone.output)")
        let notTally = try await run(binary, ["health", "--server", "http://127.0.0.1:\(tally.httpPort)/nothing", "--timeout", "2"])
        #expect(notTally.status == 1)
    }
}
