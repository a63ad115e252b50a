import Foundation
import TallyTestKit
import Testing

/// What tally's remote_write does with each kind of answer, against stub
/// receivers that answer from a script: 500 is retried until accepted, 429
/// waits for its Retry-After, 400 drops the batch (counted) and sending
/// goes on; a queue whose shards hold one sample each still sends all.
@Suite("remote_write retries, waits and drops", .serialized)
struct RemoteWriteRetryTests {
    /// A stub receiver (Stubs/remote_write_stub.py) as a child process.
    final class Stub: @unchecked Sendable {
        // Unchecked: set in init, read after; Process is thread-safe for terminate.
        let process = Process()
        let port: Int
        let logPath: String

        init(script: String, in directory: String, name: String) throws {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Stubs/remote_write_stub.py").path
            let portFile = directory + "/\(name).port"
            logPath = directory + "/\(name).log"
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", source, portFile, logPath, script]
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: portFile) {
                guard Date() < deadline else { throw StubError() }
                Thread.sleep(forTimeInterval: 0.05)
            }
            port = Int(try String(contentsOfFile: portFile, encoding: .utf8)) ?? 0
        }

        /// (time, status) of every request so far.
        var requests: [(Double, Int)] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count == 3, let time = Double(fields[0]), let status = Int(fields[1]) else { return nil }
                return (time, status)
            }
        }

        deinit {
            // SIGKILL: the test process's blocked signals are inherited, SIGTERM may never arrive.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func value(_ metrics: String, _ prefix: String) -> Double {
        metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }

    @Test func serverErrorsAreRetriedRetryAfterIsHonouredAndClientErrorsDropped() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-stub")
        defer { scratch.remove() }
        let flaky = try Stub(script: "500,500,200", in: scratch.path, name: "flaky")
        let busy = try Stub(script: "429:2,200", in: scratch.path, name: "busy")
        let strict = try Stub(script: "400,200", in: scratch.path, name: "strict")
        // One flush of stub.hits (five samples) per request and per shard in flight (each part fills the room alone), and a
        // backlog to drain once the destination answers.
        let tight = try Stub(script: "503,503,503,503,503,503,503,503,200", in: scratch.path, name: "tight")
        let config = scratch.path + "/stubs.yaml"
        let entries = [("flaky", flaky, ""), ("busy", busy, ""), ("strict", strict, ""), ("tight", tight, ", capacity: 5, max_samples_per_send: 5")]
            .map { name, stub, extra in
                "  - url: http://127.0.0.1:\(stub.port)/api/v1/write\n    name: \(name)\n"
                    + "    queue_config: {batch_send_deadline: 100ms, min_backoff: 50ms, max_backoff: 200ms\(extra)}\n"
            }
        try ("remote_write:\n" + entries.joined()).write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<12 {
            try sendUDP(datagram((0..<5).map { "stub.hits:\(round + $0)|c|#k:v\($0)" }), port: tally.statsdPort)
            try await Task.sleep(for: .milliseconds(250))
        }
        // Every sample stored by now is settled at every destination: sent, or (400) refused for
        // good. Flushes go on (counters are flushed every interval), so the counts only grow past it.
        let stored = try await tally.waitFor("/api/v1/query?query=" + urlEncoded("sum(count_over_time(stub_hits_total[1h]))")) { _, body in
            body.contains(#""value""#)
        }
        let total = Double(try #require(stored.split(separator: "\"").dropLast().last.map(String.init))) ?? 0
        #expect(total >= 50)
        let metrics = try await tally.waitFor("/metrics", timeout: .seconds(60)) { _, body in
            ["flaky", "busy", "tight"].allSatisfy { Self.value(body, "tally_remote_storage_samples_total{remote_name=\"\($0)\"") >= total }
                && Self.value(body, "tally_remote_storage_samples_total{remote_name=\"strict\"")
                + Self.value(body, "tally_remote_storage_samples_failed_total{remote_name=\"strict\"") >= total
        }
        // 500s: retried, nothing failed.
        #expect(flaky.requests.prefix(3).map(\.1) == [500, 500, 200])
        #expect(Self.value(metrics, "tally_remote_storage_samples_retried_total{remote_name=\"flaky\"") > 0)
        #expect(Self.value(metrics, "tally_remote_storage_samples_failed_total{remote_name=\"flaky\"") == 0)
        // 429 with Retry-After: 2: the second attempt waited for it.
        let attempts = busy.requests
        #expect(attempts.count >= 2)
        if attempts.count >= 2 { #expect(attempts[1].0 - attempts[0].0 >= 1.9, "\(attempts.prefix(2))") }
        // 400: that batch is dropped and counted, later ones are sent.
        #expect(Self.value(metrics, "tally_remote_storage_samples_failed_total{remote_name=\"strict\"") > 0)
        #expect(Self.value(metrics, "tally_remote_storage_samples_total{remote_name=\"strict\"") > 0)
        #expect(strict.requests.dropFirst().allSatisfy { $0.1 == 200 })
        #expect(tally.log.contains("the destination refused a request"), "the 400's answer is logged")
        #expect(tally.log.contains("stub answers 400"))
        #expect(await tally.stop() == 0)
    }
}

extension RemoteWriteRetryTests {
    @Test func pastMaxDiskUsageTheOldestUnsentSamplesAreDroppedAndCounted() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-stub")
        defer { scratch.remove() }
        let down = try Stub(script: "503", in: scratch.path, name: "down")
        let config = scratch.path + "/cap.yaml"
        try ("remote_write:\n  - url: http://127.0.0.1:\(down.port)/api/v1/write\n    name: down\n    max_disk_usage: 64KiB\n"
            + "    queue_config: {batch_send_deadline: 100ms, min_backoff: 50ms, max_backoff: 100ms}\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<16 {
            try sendUDP(datagram((0..<300).map { "cap.metric_\($0):\(round)|g|#host:h\($0 % 7)" }), port: tally.statsdPort)
            try await Task.sleep(for: .milliseconds(250))
        }
        let metrics = try await tally.waitFor("/metrics", timeout: .seconds(30)) { _, body in
            Self.value(body, "tally_remote_storage_samples_dropped_total{remote_name=\"down\",url=\"http://127.0.0.1:\(down.port)/api/v1/write\",reason=\"max_disk_usage\"}") > 0
        }
        #expect(Self.value(metrics, "tally_remote_storage_samples_total{remote_name=\"down\"") == 0)
        #expect(tally.log.contains("passed max_disk_usage"), "\(tally.log)")
        // The WAL kept behind stays near the cap while the destination is down.
        let behind = Self.value(metrics, "tally_remote_storage_wal_bytes_behind{remote_name=\"down\"")
        #expect(behind >= 0 && behind <= 3 * 65_536, "\(behind)")
        #expect(await tally.stop() == 0)
    }
}

struct StubError: Error, CustomStringConvertible {
    var description: String { "the stub receiver did not start (python3 missing?)" }
}
