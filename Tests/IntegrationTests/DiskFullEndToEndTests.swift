import Foundation
import TallyTestKit
import Testing

/// The whole process on a small file system that fills up: pushes are
/// refused with the system's reason, StatsD flushes wait in memory, queries
/// keep answering, nothing stored before is damaged, and everything resumes
/// when space returns, across a restart too.
@Suite("A full disk, end to end", .serialized, .enabled(if: SmallDisk.available, "mounting tmpfs needs root"))
struct DiskFullEndToEndTests {
    @Test func aFullDiskRefusesPushesDelaysFlushesAndEverythingResumes() async throws {
        let disk = try SmallDisk(bytes: 64 << 20)
        defer { disk.unmount() }
        let dataDir = disk.path + "/data"
        let tally = try TallyProcess(extraArguments: ["--data-dir", dataDir], flushInterval: "100ms")
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        var sent = 0
        var acknowledged = 0
        var refusals: [String] = []
        // Lines of 16 KiB, so that each push needs new pages of the file system.
        let padding = String(repeating: "x", count: 16 << 10)
        func push() async throws -> Int {
            let body = #"{"streams":[{"stream":{"service":"disk"},"values":[["\#(Int64(Date().timeIntervalSince1970 * 1e9))","line \#(acknowledged) \#(padding)"]]}]}"#
            let answer = try await tally.post("/loki/api/v1/push", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
            if answer.status == 204 { acknowledged += 1 } else { refusals.append("\(answer.status) \(answer.body)") }
            return answer.status
        }
        func send(_ lines: Int) throws {
            try sendTCP(Array(String(repeating: "disk.hits:1|c\n", count: lines).utf8), port: tally.statsdPort)
            sent += lines
        }
        func counterIs(_ value: Int) async throws {
            _ = try await tally.waitFor("/api/v1/query?query=disk_hits_total", timeout: .seconds(30)) { _, body in body.contains(#","\#(value)"]"#) }
        }
        for _ in 0..<10 {
            try send(100)
            _ = try await push()
        }
        try await counterIs(sent)

        disk.fill()
        var refused = 0
        for _ in 0..<10 {
            try send(100)
            if try await push() != 204 { refused += 1 }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Pushes are refused with the reason; flushes are stored in the head and queries answer.
        #expect(refused > 0)
        #expect(refusals.contains { $0.hasPrefix("500") && $0.contains("No space left on device") }, "\(refusals)")
        try await counterIs(sent)
        let during = try await tally.get("/metrics").body
        #expect(value(of: "tally_storage_wal_errors_total", in: during) >= 1 || value(of: "tally_logs_wal_errors_total", in: during) >= 1)

        disk.free()
        for _ in 0..<10 {
            try send(100)
            #expect(try await push() == 204)
        }
        try await counterIs(sent)
        _ = try await tally.waitFor("/metrics") { _, body in value(of: "tally_storage_wal_pending_batches", in: body) == 0 }
        #expect(await tally.stop() == 0)

        // Nothing is damaged, and everything flushed or acknowledged survives a restart.
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: try TallyProcess.binaryPath())
        verify.arguments = ["verify", dataDir]
        verify.standardOutput = FileHandle.nullDevice
        try verify.run()
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0)
        let restarted = try TallyProcess(reusing: tally, extraArguments: ["--data-dir", dataDir])
        _ = try await restarted.waitFor("/readyz") { status, _ in status == 200 }
        // (An instant query finds the staleness marker the clean stop wrote: the range is read instead.)
        let stored = try await restarted.get("/api/v1/query?query=" + ("max_over_time(disk_hits_total[10m])"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")).body
        #expect(stored.contains(#","\#(sent)"]"#), "\(stored)")
        let expected = acknowledged
        _ = try await restarted.waitFor("/loki/api/v1/query?query=" + ("sum(count_over_time({service=\"disk\"}[1h]))"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) { _, body in body.contains(#","\#(expected)"]"#) }
        #expect(await restarted.stop() == 0)
    }
}
