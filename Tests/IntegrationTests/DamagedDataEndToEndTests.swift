import Foundation
import TallyTestKit
import Testing

/// A flipped byte in a block and in a log segment: `tally verify` names each
/// file and offset and exits 1, and the queries that would read the damage
/// answer 500 with Prometheus's `internal` error naming it, while the others
/// still answer.
@Suite("Damaged data, end to end", .serialized)
struct DamagedDataEndToEndTests {
    @Test func verifyNamesTheDamageAndQueriesOverItFailClearly() async throws {
        let shared = try TemporaryDirectory(prefix: "tally-damage")
        defer { shared.remove() }
        let dataDir = shared.path + "/data"
        let config = shared.path + "/tally.yaml"
        try "logs:\n  storage:\n    segment_duration: 1s\n".write(toFile: config, atomically: true, encoding: .utf8)
        // Four hours of one series, two days ago, imported as blocks.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let first = (now - 2 * 86_400_000) / 60_000 * 60_000
        let samples = (0..<240).map { i in #"{"name":"imported","labels":{"job":"a"},"ts_ms":\#(first + Int64(i) * 60_000),"value":\#(i)}"# }
        try (samples.joined(separator: "\n") + "\n").write(toFile: shared.path + "/samples.jsonl", atomically: true, encoding: .utf8)
        #expect(try run(["tsdb", "import", shared.path + "/samples.jsonl", "--data-dir", dataDir]).status == 0)

        // A log line, written out as a segment.
        do {
            let tally = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir])
            _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
            let nanos = Int64(Date().timeIntervalSince1970 * 1e9)
            let body = #"{"streams":[{"stream":{"service":"damage"},"values":[["\#(nanos)","a line in a segment"]]}]}"#
            #expect(try await tally.post("/loki/api/v1/push", body: Array(body.utf8), headers: [("Content-Type", "application/json")]).status == 204)
            let segments = dataDir + "/logs/segments"
            let until = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < until, ((try? FileManager.default.contentsOfDirectory(atPath: segments)) ?? []).isEmpty {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await tally.stop() == 0)
        }
        #expect(try run(["verify", dataDir]).status == 0)

        // One byte flipped in the oldest block's chunks, one in the segment's first chunk.
        let blocks = try FileManager.default.contentsOfDirectory(atPath: dataDir).filter { $0.count == 26 }.sorted()
        let chunks = dataDir + "/" + (try #require(blocks.first)) + "/chunks"
        try flip(chunks, at: try size(of: chunks) / 2)
        let segment = dataDir + "/logs/segments/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: dataDir + "/logs/segments").sorted().first))
        try flip(segment, at: 8 + 3)

        let verify = try run(["verify", dataDir])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains(chunks + " at byte "), "\(verify.stderr)")
        #expect(verify.stderr.contains(segment + " at byte 8: corrupt: chunk"), "\(verify.stderr)")

        let tally = try TallyProcess(extraArguments: ["--config", config, "--data-dir", dataDir])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let start = Double(first) / 1000
        let over = try await tally.get("/api/v1/query_range?query=imported&start=\(start)&end=\(start + 14_400)&step=60")
        #expect(over.status == 500, "\(over.body)")
        #expect(over.body.contains(#""errorType":"internal""#) && over.body.contains("/chunks at byte ") && over.body.contains("tally verify"), "\(over.body)")
        // A query that reads none of it answers.
        let after = try await tally.get("/api/v1/query?query=vector(1)")
        #expect(after.status == 200)
        let logs = try await tally.get("/loki/api/v1/query_range?query=" + ("{service=\"damage\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            + "&start=\(Int64(Date().timeIntervalSince1970 - 3_600))000000000")
        #expect(logs.status == 500)
        #expect(logs.body.contains(segment) && logs.body.contains("corrupt: chunk"), "\(logs.body)")
        #expect(await tally.stop() == 0)
    }

    private func flip(_ path: String, at offset: Int) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func size(of path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }

    /// Runs the tally binary to its end: exit status and standard error.
    private func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TallyProcess.binaryPath())
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
