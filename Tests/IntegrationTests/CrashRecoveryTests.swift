import Foundation
import TallyTestKit
import Testing

/// kill -9 while tally writes, restart on the same data directory, and check
/// that every sample a query had returned before the kill is still there.
@Suite("Crash recovery, end to end", .serialized)
struct CrashRecoveryTests {
    /// Every log push answered 204 is still there after kill -9, three times over,
    /// with segments written in between (every second here).
    @Test func everyAcknowledgedLogPushSurvivesKillNine() async throws {
        let shared = try TemporaryDirectory(prefix: "tally-crash-logs")
        defer { shared.remove() }
        let config = shared.path + "/tally.yaml"
        try "logs:\n  storage:\n    segment_duration: 1s\n".write(toFile: config, atomically: true, encoding: .utf8)
        let dataDir = shared.path + "/data"
        var acknowledged = 0
        for round in 0..<3 {
            let tally = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir])
            _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
            if acknowledged > 0 {
                let expected = acknowledged
                _ = try await tally.waitFor("/loki/api/v1/query?query=" + ("sum(count_over_time({service=\"crash\"}[1h]))"
                    .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), timeout: .seconds(20)) { _, body in
                    body.contains(#","\#(expected)"]"#)
                }
            }
            // For a while and at least 5 pushes a round: on a loaded CI machine one push can take a second.
            let until = ContinuousClock.now + .milliseconds(1_500 + 500 * round)
            let before = acknowledged
            while (ContinuousClock.now < until || acknowledged - before < 5) && ContinuousClock.now < until + .seconds(30) {
                let nanos = Int64(Date().timeIntervalSince1970 * 1e9)
                let body = #"{"streams":[{"stream":{"service":"crash"},"values":[["\#(nanos)","push \#(acknowledged)"]]}]}"#
                let answer = try await tally.post("/loki/api/v1/push", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
                if answer.status == 204 { acknowledged += 1 }
            }
            kill(tally.pid, SIGKILL)
            _ = await tally.waitForExit(timeout: .seconds(10))
        }
        #expect(acknowledged > 10)
        let last = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir])
        _ = try await last.waitFor("/readyz") { status, _ in status == 200 }
        let total = acknowledged
        let answer = try await last.waitFor("/loki/api/v1/query?query=" + ("sum(count_over_time({service=\"crash\"}[1h]))"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""), timeout: .seconds(20)) { _, body in
            body.contains(#","\#(total)"]"#)
        }
        #expect(answer.contains(#","\#(total)"]"#))
        #expect(await last.stop() == 0)
    }

    @Test func everyAcknowledgedSampleSurvivesKillNine() async throws {
        let shared = try TemporaryDirectory(prefix: "tally-crash")
        defer { shared.remove() }
        let config = shared.path + "/tally.yaml"
        try "storage:\n  wal_fsync: always\n".write(toFile: config, atomically: true, encoding: .utf8)
        let dataDir = shared.path + "/data"
        var observed: [String: String] = [:] // step time -> value, as answered before each kill
        var sequence = 0
        var firstStep: Int64?

        for round in 0..<3 {
            let tally = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir], flushInterval: "100ms")
            _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
            // After a restart, everything seen before must be there, unchanged.
            if let firstStep, !observed.isEmpty {
                let now = try await query(tally, from: firstStep)
                for (time, value) in observed {
                    #expect(now[time] == value, "round \(round): the sample at \(time) was \(value) before the kill, now \(now[time] ?? "missing")")
                }
            }
            // Write for a while, reading back what has been stored.
            let until = ContinuousClock.now + .milliseconds(600 + 300 * round)
            while ContinuousClock.now < until {
                sequence += 1
                try sendUDP(Array("crash.seq:\(sequence)|g\ncrash.hits:1|c\n".utf8), port: tally.statsdPort)
                try await Task.sleep(for: .milliseconds(5))
            }
            _ = try await tally.waitFor("/api/v1/query?query=crash_seq") { _, body in body.contains("crash_seq") }
            if firstStep == nil {
                let answer = try await query(tally, from: 0, lookForFirst: true)
                firstStep = answer.keys.compactMap { Int64($0) }.min()
            }
            for (time, value) in try await query(tally, from: firstStep ?? 0) { observed[time] = value }
            // Keep writing while the process is killed.
            try sendUDP(Array("crash.seq:\(sequence + 1)|g\n".utf8), port: tally.statsdPort)
            kill(tally.pid, SIGKILL)
            _ = await tally.waitForExit(timeout: .seconds(10))
        }
        #expect(observed.count > 10)

        // The store is whole: a clean start serves it and `tally tsdb verify` passes.
        let last = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir], flushInterval: "100ms")
        _ = try await last.waitFor("/readyz") { status, _ in status == 200 }
        let final = try await query(last, from: firstStep ?? 0)
        for (time, value) in observed { #expect(final[time] == value) }
        #expect(await last.stop() == 0)
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: try TallyProcess.binaryPath())
        verify.arguments = ["tsdb", "verify", dataDir]
        verify.standardOutput = FileHandle.nullDevice
        try verify.run()
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0)
    }

    /// The stored `crash_seq` samples from `from` (ms) on, by step time: a
    /// range query at the flush interval, whose steps land on the flush times.
    private func query(_ tally: TallyProcess, from: Int64, lookForFirst: Bool = false) async throws -> [String: String] {
        // Steps stop well before now: a flush for a time just past may not have run yet.
        let end = Int64(Date().timeIntervalSince1970 * 1000) - 300
        let start = lookForFirst ? end - 60_000 : from
        let path = "/api/v1/query_range?query=crash_seq&start=\(Double(start) / 1000)&end=\(Double(end) / 1000)&step=0.1"
        let (status, body) = try await tally.get(path)
        try #require(status == 200, "query failed: \(status) \(body)")
        // "values":[[1700000000.1,"5"],…]
        var points: [String: String] = [:]
        guard let values = body.range(of: "\"values\":[") else { return points }
        let scanner = Scanner(string: String(body[values.upperBound...]))
        while scanner.scanString("[") != nil {
            guard let time = scanner.scanDouble(), scanner.scanString(",\"") != nil,
                  let value = scanner.scanUpToString("\"") else { break }
            _ = scanner.scanString("\"]")
            _ = scanner.scanString(",")
            points[String(Int64((time * 1000).rounded()))] = value
        }
        return points
    }
}
