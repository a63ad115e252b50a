import Foundation
import TallyTestKit
import Testing

/// Times and durations at the ends of what Int64 holds, sent to every query
/// endpoint: each answers (a 400 where it cannot read them), none traps on an
/// overflow and takes the server down, as `since=99999999999d` and
/// `start=9999-12-31T23:59:59Z` once did.
@Suite("Query endpoints at the ends of time")
struct BoundaryTimesTests {
    static let values = [
        "9223372036854775807", "-9223372036854775808", "9223372036", "-9223372036", "9999999999", "-9999999999",
        "1e18", "-1e18", "292y", "99999999999d", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "NaN", "-Inf",
    ]

    static let requests: [(path: String, parameters: [String])] = [
        ("/api/v1/query?query=up", ["time"]),
        ("/api/v1/query?query=" + escaped("sum(rate(up[5m] offset 1h))"), ["time"]),
        ("/api/v1/query_range?query=up&step=60", ["start", "end"]),
        ("/api/v1/series?match[]=up", ["start", "end"]),
        ("/api/v1/labels?", ["start", "end"]),
        ("/api/v1/label/job/values?", ["start", "end"]),
        ("/api/v1/events?", ["start", "end"]),
        ("/loki/api/v1/query_range?query=" + escaped(#"{service="api"}"#), ["start", "end", "since"]),
        ("/loki/api/v1/query_range?query=" + escaped(#"count_over_time({service="api"}[5m] offset 1h)"#) + "&step=60", ["start", "end"]),
        ("/loki/api/v1/query?query=" + escaped(#"count_over_time({service="api"}[1m])"#), ["time"]),
        ("/loki/api/v1/labels?", ["start", "end", "since"]),
        ("/loki/api/v1/label/service/values?", ["start", "end", "since"]),
        ("/loki/api/v1/series?match[]=" + escaped(#"{service="api"}"#), ["start", "end"]),
        ("/loki/api/v1/index/stats?query=" + escaped(#"{service="api"}"#), ["start", "end"]),
        ("/api/v1/status/top_queries?topN=5", ["maxLifetime"]),
    ]

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test func everyEndpointAnswersAndTheServerStaysUp() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        _ = try await tally.post("/api/v1/logs", body: Array(#"{"service":"api","level":"info","msg":"hello"}"#.utf8))
        // A DogStatsD event dated at the end of what milliseconds hold: stored as a log record, it once trapped.
        try sendUDP(Array("_e{1,1}:a|b|d:9223372036854775\n_e{1,1}:c|d|d:0".utf8), port: tally.statsdPort)
        for date in ["0001-01-01", "1969-12-31", "9999-12-31"] {
            #expect(try await tally.get("/api/v1/report/daily?date=\(date)").status == 400)
        }
        for request in Self.requests {
            for parameter in request.parameters {
                for value in Self.values {
                    let path = request.path + (request.path.hasSuffix("?") ? "" : "&") + parameter + "=" + Self.escaped(value)
                    let answer = try await tally.get(path)
                    #expect(answer.status < 500 || answer.status == 503, "\(path): \(answer.status) \(answer.body.prefix(200))")
                    try #require(tally.isRunning, "tally serve exited on \(path)")
                }
            }
        }
        #expect(await tally.stop() == 0)
    }
}
