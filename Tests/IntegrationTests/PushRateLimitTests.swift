import Foundation
import TallyTestKit
import Testing

/// limits.push_rate_per_client on a running tally: a client past its rate
/// gets 429 with Retry-After, as Loki answers a tenant past its ingestion
/// rate, and another client is not slowed.
@Suite("Push rate per client")
struct PushRateLimitTests {
    @Test func aClientPastItsRateGets429WithRetryAfterAndOthersCarryOn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-rate-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // One byte a second: no time a slow machine takes between requests refills the bucket.
        try "limits:\n  push_rate_per_client: 1\n  push_burst_per_client: 4KiB\n".write(
            toFile: directory + "/tally.yaml", atomically: true, encoding: .utf8)
        let token = "rate-test-token"
        let digest = String(try await runProcess("/usr/bin/sha256sum", [], input: token).output.prefix(64))
        let second = String(try await runProcess("/usr/bin/sha256sum", [], input: token + "-2").output.prefix(64))
        try "bearer_tokens:\n  - {name: one, sha256: \(digest), scopes: [write]}\n  - {name: two, sha256: \(second), scopes: [write]}\n".write(
            toFile: directory + "/web.yml", atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", directory + "/tally.yaml"])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }

        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let line = String(repeating: "x", count: 3_000)
        let body = Array(#"{"streams":[{"stream":{"job":"rate"},"values":[["\#(now)","\#(line)"]]}]}"#.utf8)
        let headers = [("Content-Type", "application/json")]
        #expect(try await tally.post("/loki/api/v1/push", body: body, headers: headers).status == 204, "within the burst")
        #expect(try await tally.post("/loki/api/v1/push", body: body, headers: headers).status == 204, "the burst's last bytes: let through, now in debt")
        let refused = try await runProcess("/usr/bin/curl", [
            "-s", "-i", "-XPOST", "-H", "Content-Type: application/json", "--data-binary", String(decoding: body, as: UTF8.self),
            "http://127.0.0.1:\(tally.httpPort)/loki/api/v1/push",
        ]).output
        #expect(refused.hasPrefix("HTTP/1.1 429"), "\(refused)")
        let wait = refused.split(separator: "\r\n").first { $0.hasPrefix("Retry-After: ") }.flatMap { Int($0.dropFirst(13)) } ?? 0
        #expect((1_900...2_200).contains(wait), "about 2,100 bytes of debt at 1 byte/s: \(refused)")
        #expect(refused.contains(#""errorType":"too_many_requests""#) && refused.contains("limits.push_rate_per_client"))
        // Queries are not pushes: never limited.
        #expect(try await tally.get("/api/v1/labels").status == 200)
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains("tally_http_push_rate_limited_requests_total 1"), "\(metrics)")
        #expect(await tally.stop() == 0)

        // Behind a web config a client is its credential: another token from the same address has its own bucket.
        let secured = try TallyProcess(extraArguments: ["--config", directory + "/tally.yaml", "--web-config", directory + "/web.yml"])
        defer { Task { _ = await secured.stop() } }
        _ = try await secured.waitFor("/readyz") { status, _ in status == 200 }
        let asOther = headers + [("Authorization", "Bearer \(token)")]
        #expect(try await secured.post("/loki/api/v1/push", body: body, headers: asOther).status == 204)
        #expect(try await secured.post("/loki/api/v1/push", body: body, headers: asOther).status == 204)
        #expect(try await secured.post("/loki/api/v1/push", body: body, headers: asOther).status == 429)
        let asSecond = headers + [("Authorization", "Bearer \(token)-2")]
        #expect(try await secured.post("/loki/api/v1/push", body: body, headers: asSecond).status == 204, "its own bucket")
        #expect(await secured.stop() == 0)
    }
}
