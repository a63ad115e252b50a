import Foundation
import TallyTestKit
import Testing

/// tally storing its own /metrics in its own store (`self_monitoring`): its
/// figures answer PromQL with the scrape's job and instance labels.
@Suite("Self-monitoring, end to end")
struct SelfMonitoringTests {
    /// The first series' value of an instant query, with its labels.
    static func first(_ tally: TallyProcess, _ query: String) async throws -> (labels: [String: String], value: Double)? {
        let body = try await tally.get("/api/v1/query?query=" + urlEncoded(query)).body
        guard let root = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let result = (root["data"] as? [String: Any])?["result"] as? [[String: Any]], let series = result.first,
            let pair = series["value"] as? [Any], let text = pair.last as? String, let value = Double(text)
        else { return nil }
        return (series["metric"] as? [String: String] ?? [:], value)
    }

    static func wait(_ tally: TallyProcess, _ query: String, until: (Double) -> Bool) async throws -> (labels: [String: String], value: Double)? {
        var last: (labels: [String: String], value: Double)?
        for _ in 0..<150 {
            last = try await first(tally, query)
            if let last, until(last.value) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    @Test func tallysOwnFiguresAreQueryableWithJobAndInstance() async throws {
        let tally = try TallyProcess(extraArguments: ["--self-monitoring-interval", "500ms"])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        try sendUDP(Array("self.check:1|c\nself.check:2|c\nself.check|c\n".utf8), port: tally.statsdPort)

        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let instance = "\(String(cString: host)):\(tally.httpPort)"
        let up = try await Self.wait(tally, "up") { $0 == 1 }
        #expect(up?.labels == ["__name__": "up", "job": "tally", "instance": instance])
        // Two good lines, one malformed, as /metrics counts them.
        let received = try await Self.wait(tally, #"tally_statsd_received_lines_total{job="tally",transport="udp"}"#) { $0 == 3 }
        #expect(received?.value == 3)
        #expect(received?.labels["instance"] == instance)
        let bad = try await Self.wait(tally, #"sum(tally_statsd_bad_lines_total{job="tally"})"#) { $0 == 1 }
        #expect(bad?.value == 1)
        let free = try await Self.wait(tally, "tally_storage_filesystem_avail_bytes") { $0 > 0 }
        #expect((free?.value ?? 0) > 0)
        let size = try await Self.first(tally, "tally_storage_filesystem_size_bytes")
        #expect((size?.value ?? 0) >= (free?.value ?? .infinity))
        #expect(try await Self.first(tally, "tally_series_active_limit")?.value == 1_000_000)
        #expect(try await Self.first(tally, "tally_storage_head_series_limit")?.value == 2_000_000)
        // The stored counter grows with /metrics: a rate over it answers.
        let rate = try await Self.first(tally, #"rate(tally_statsd_received_lines_total{transport="udp"}[1m])"#)
        #expect(rate != nil)
        #expect(await tally.stop() == 0)
    }

    @Test func theConfiguredLabelsAndIntervalApply() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-self")
        defer { scratch.remove() }
        let config = scratch.path + "/tally.yaml"
        try "self_monitoring:\n  interval: 300ms\n  labels:\n    job: edge\n    instance: edge-1\n    team: infra\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        // (The harness turns self-monitoring off with the flag, which wins over the file: given again here.)
        let tally = try TallyProcess(extraArguments: ["--config", config, "--self-monitoring-interval", "300ms"])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let up = try await Self.wait(tally, #"up{team="infra"}"#) { $0 == 1 }
        #expect(up?.labels == ["__name__": "up", "job": "edge", "instance": "edge-1", "team": "infra"])
        #expect(await tally.stop() == 0)

        // Off: nothing of tally's own is stored.
        let quiet = try TallyProcess(extraArguments: ["--config", config, "--self-monitoring-interval", "0"])
        _ = try await quiet.waitFor("/readyz") { status, _ in status == 200 }
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.first(quiet, "up") == nil)
        #expect(await quiet.stop() == 0)
    }

    @Test func aWrongSelfMonitoringSettingIsNamed() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-self-bad")
        defer { scratch.remove() }
        let config = scratch.path + "/tally.yaml"
        try "self_monitoring:\n  interval: often\n  labels:\n    9bad: x\n".write(toFile: config, atomically: true, encoding: .utf8)
        let checked = try await runProcess(try TallyProcess.binaryPath(), ["check-config", config])
        #expect(checked.status != 0)
        #expect(checked.output.contains("self_monitoring.interval"), "\(checked.output)")
        #expect(checked.output.contains("9bad is not a valid label name"), "\(checked.output)")
    }
}
