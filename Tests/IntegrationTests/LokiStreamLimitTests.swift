import Foundation
import TallyTestKit
import Testing

/// `logs.storage.max_streams` on the Loki push path, as Loki answers its
/// stream limit: a push of new streams only, none stored, gets 429 (retry
/// later, nothing is sent twice); a push that stored some entries gets 400
/// listing the refusals (a retry would store those twice). The streams held
/// carry on, and the refusals are counted.
@Suite("Loki push at the stream limit")
struct LokiStreamLimitTests {
    @Test func newStreamsPastTheLimitGet429AndHeldStreamsCarryOn() async throws {
        let config = try ConfigFile("logs:\n  storage:\n    max_streams: 2\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        func push(_ jobs: [String], offset: Int64) async throws -> (status: Int, body: String) {
            let streams = jobs.map { #"{"stream":{"job":"\#($0)"},"values":[["\#(now + offset)","line of \#($0)"]]}"# }
            return try await tally.post(
                "/loki/api/v1/push", body: Array(#"{"streams":[\#(streams.joined(separator: ","))]}"#.utf8),
                headers: [("Content-Type", "application/json")])
        }
        #expect(try await push(["a", "b"], offset: 0).status == 204)
        let refused = try await push(["c"], offset: 1)
        #expect(refused.status == 429, "\(refused)")
        #expect(refused.body.contains("max_streams") && refused.body.contains("0 entries stored"), "\(refused.body)")
        let mixed = try await push(["a", "d"], offset: 2)
        #expect(mixed.status == 400 && mixed.body.contains("1 stream_limit") && mixed.body.contains("1 entries stored"), "\(mixed)")
        let metrics = try await tally.get("/metrics").body
        #expect(value(of: #"tally_logs_rejected_entries_total{reason="stream_limit"}"#, in: metrics) == 2)
        let start = now - 60_000_000_000
        let lines = try await tally.get("/loki/api/v1/query_range?query=%7Bjob%3D%22a%22%7D&start=\(start)&limit=10").body
        #expect(lines.contains("line of a") && lines.components(separatedBy: "line of a").count == 3, "both of a's lines: \(lines)")
    }
}
