import Foundation
import TallyTestKit
import Testing

/// tally forwarding every stored sample over remote_write to real receivers
/// (Debian's VictoriaMetrics and Prometheus on loopback), through a receiver
/// outage and a kill -9 of tally: each receiver ends up with exactly the
/// samples tally stored, compared through its own query API.
@Suite("remote_write forwarding to VictoriaMetrics and Prometheus", .serialized)
struct RemoteWriteForwardingTests {
    static let selector = #"{__name__=~"fwd_.+"}"#

    /// A tally.yaml with one remote_write entry per URL; `capacity` (samples
    /// per shard in flight) is the default unless given.
    static func config(_ directory: String, urls: [String], capacity: Int? = nil) throws -> String {
        let path = directory + "/forward.yaml"
        let entries = urls.enumerated().map { i, url in
            """
              - url: \(url)
                name: dest\(i)
                queue_config: {batch_send_deadline: 200ms, min_backoff: 100ms, max_backoff: 1s, max_samples_per_send: 500\(capacity.map { ", capacity: \($0)" } ?? "")}
            """
        }
        try ("remote_write:\n" + entries.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Counters, gauges and timers with tags, one round per flush.
    static func sendRound(_ round: Int, to tally: TallyProcess) throws {
        var lines: [String] = []
        for s in 0..<10 {
            lines.append("fwd.requests:\(s + 1)|c|#service:svc\(s),env:ci")
            lines.append("fwd.queue_depth:\(round * 10 + s)|g|#service:svc\(s)")
            lines.append("fwd.latency:\(Double(round % 7) + Double(s) / 10)|ms|#service:svc\(s)")
        }
        try sendUDP(datagram(lines), port: tally.statsdPort)
    }

    /// Every stored sample of tally's fwd_ series, by series.
    static func stored(_ tally: TallyProcess) async throws -> [String: [SeriesSample]] {
        let now = Date().timeIntervalSince1970 + 60
        return try rangeSamples(try await tally.get("/api/v1/query?query=" + urlEncoded(selector + "[1h]") + "&time=\(now)").body)
    }

    /// Whether two answers hold the same series and timestamps, and values
    /// equal within `tolerance` (relative): VictoriaMetrics keeps about 12
    /// significant digits of a float, Prometheus and tally all of its bits.
    static func same(_ a: [String: [SeriesSample]], _ b: [String: [SeriesSample]], tolerance: Double) -> Bool {
        guard a.keys.sorted() == b.keys.sorted() else { return false }
        return a.allSatisfy { key, samples in
            let other = b[key]!
            return samples.count == other.count && zip(samples, other).allSatisfy { x, y in
                x.timestamp == y.timestamp && (x.value == y.value || abs(x.value - y.value) <= tolerance * max(abs(x.value), abs(y.value)))
            }
        }
    }

    /// Waits until `received` answers what tally stored, or says how they differ.
    static func converge(
        _ tally: TallyProcess, timeout: Duration = .seconds(60), tolerance: Double = 1e-9,
        _ received: () async throws -> [String: [SeriesSample]]
    ) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var difference = "nothing compared"
        // Flushes go on while this waits (counters and gauges are flushed every interval): compare
        // what was stored up to a moment ago, which the receivers must end up holding whole.
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - 1_000
        // Staleness markers (a timer's quantiles after an interval without values) are forwarded too, and the
        // receivers return them as NaN where tally's range selectors leave them out: compare the values.
        func upToCutoff(_ answer: [String: [SeriesSample]]) -> [String: [SeriesSample]] {
            answer.mapValues { $0.filter { $0.timestamp <= cutoff && !$0.value.isNaN } }.filter { !$0.value.isEmpty }
        }
        while ContinuousClock.now < deadline {
            let expected = upToCutoff(try await stored(tally))
            let got = upToCutoff(try await received())
            if !expected.isEmpty, same(expected, got, tolerance: tolerance) { return nil }
            let missing = Set(expected.keys).subtracting(got.keys).sorted()
            let unequal = expected.keys.filter { got[$0] != nil && got[$0] != expected[$0] }.sorted()
            difference = "\(expected.count) series stored, \(got.count) received; missing \(missing.prefix(2)); unequal "
                + unequal.prefix(2).map { "\($0): stored \(expected[$0]!.count) \(expected[$0]!.suffix(2)) received \(got[$0]!.count) \(got[$0]!.suffix(2))" }
                .joined(separator: "; ")
            try await Task.sleep(for: .milliseconds(500))
        }
        return difference
    }

    @Test func everyStoredSampleReachesVictoriaMetricsAndPrometheus() async throws {
        let vm = try VictoriaMetricsServer()
        let prometheus = try PrometheusServer(extraArguments: ["--web.enable-remote-write-receiver"])
        try await vm.waitReady()
        try await prometheus.waitReady()
        let scratch = try TemporaryDirectory(prefix: "tally-fwd")
        defer { scratch.remove() }
        let config = try Self.config(scratch.path, urls: [
            "http://127.0.0.1:\(vm.port)/api/v1/write", "http://127.0.0.1:\(prometheus.port)/api/v1/write",
        ])
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<15 {
            try Self.sendRound(round, to: tally)
            try await Task.sleep(for: .milliseconds(250))
        }
        let vmDifference = try await Self.converge(tally) { try await vm.export(Self.selector) }
        #expect(vmDifference == nil, "VictoriaMetrics: \(vmDifference ?? "")")
        let promDifference = try await Self.converge(tally, tolerance: 0) {
            let now = Date().timeIntervalSince1970 + 60
            return try rangeSamples(try await prometheus.get("/api/v1/query?query=" + urlEncoded(Self.selector + "[1h]") + "&time=\(now)").body)
        }
        #expect(promDifference == nil, "Prometheus: \(promDifference ?? "")")
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains(#"tally_remote_storage_samples_total{remote_name="dest0""#))
        #expect(!metrics.contains(#"tally_remote_storage_samples_failed_total{remote_name="dest0",url="http://127.0.0.1:\#(vm.port)/api/v1/write"} 1"#))
        #expect(await tally.stop() == 0)
    }

    @Test func aReceiverDownForThirtySecondsMissesNothing() async throws {
        let vm = try VictoriaMetricsServer()
        try await vm.waitReady()
        let scratch = try TemporaryDirectory(prefix: "tally-fwd")
        defer { scratch.remove() }
        // Each shard holds one request in flight (capacity = max_samples_per_send), so the backlog
        // left by the outage drains through chunks that fill the room exactly.
        let config = try Self.config(scratch.path, urls: ["http://127.0.0.1:\(vm.port)/api/v1/write"], capacity: 500)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        var round = 0
        func traffic(for duration: Duration) async throws {
            let end = ContinuousClock.now + duration
            while ContinuousClock.now < end {
                try Self.sendRound(round, to: tally)
                round += 1
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        try await traffic(for: .seconds(3))
        // Stopped, not killed: VictoriaMetrics itself loses the samples it
        // acknowledged in the last second when it is killed with SIGKILL.
        vm.stop()
        try await traffic(for: .seconds(30))
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains("tally_remote_storage_samples_retried_total{remote_name=\"dest0\""), "retries are counted")
        try vm.start()
        try await vm.waitReady()
        try await traffic(for: .seconds(3))
        let difference = try await Self.converge(tally) { try await vm.export(Self.selector) }
        #expect(difference == nil, "\(difference ?? "")")
        #expect(await tally.stop() == 0)
    }

    @Test func tallyKilledWhileSendingResumesAndMissesNothing() async throws {
        let vm = try VictoriaMetricsServer()
        try await vm.waitReady()
        let scratch = try TemporaryDirectory(prefix: "tally-fwd")
        defer { scratch.remove() }
        let config = try Self.config(scratch.path, urls: ["http://127.0.0.1:\(vm.port)/api/v1/write"])
        let first = try TallyProcess(extraArguments: ["--config", config])
        _ = try await first.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<12 {
            try Self.sendRound(round, to: first)
            try await Task.sleep(for: .milliseconds(250))
        }
        // Stop the receiver so that what follows piles up unsent, then kill tally mid-send.
        vm.stop()
        for round in 12..<20 {
            try Self.sendRound(round, to: first)
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(await first.stop(signal: SIGKILL) != nil)
        try vm.start()
        try await vm.waitReady()
        let second = try TallyProcess(reusing: first, extraArguments: ["--config", config])
        _ = try await second.waitFor("/readyz") { status, _ in status == 200 }
        #expect(second.log.contains("resumes from its saved WAL position"), "\(second.log)")
        for round in 20..<28 {
            try Self.sendRound(round, to: second)
            try await Task.sleep(for: .milliseconds(250))
        }
        let difference = try await Self.converge(second) { try await vm.export(Self.selector) }
        #expect(difference == nil, "\(difference ?? "")")
        #expect(await second.stop() == 0)
    }
}
