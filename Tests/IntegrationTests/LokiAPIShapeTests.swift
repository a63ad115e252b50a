import Foundation
import TallyTestKit
import Testing

/// The Loki HTTP API's answers, field by field, in the shapes of Loki's
/// documented examples (docs/sources/reference/loki-http-api.md), so that
/// Grafana, logcli and anything else written against Loki read them as
/// they read Loki's. The lines go in as a gzip-compressed JSON push.
@Suite("Loki API shapes")
struct LokiAPIShapeTests {
    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// A JSON answer's object, or an empty one.
    static func object(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    @Test func everyEndpointAnswersInLokisShape() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-loki-shapes")
        defer { scratch.remove() }
        let tally = try TallyProcess()
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }

        // Two streams, three lines, pushed gzip-compressed as Promtail and Alloy may send them.
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let push = #"{"streams":[{"stream":{"service":"shop","level":"info"},"values":[["\#(now - 3_000_000_000)","GET /cart 200"],["\#(now - 2_000_000_000)","GET /pay 200"]]},{"stream":{"service":"shop","level":"error"},"values":[["\#(now - 1_000_000_000)","POST /pay 500"]]}]}"#
        let file = scratch.path + "/push.json"
        try push.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try await runProcess("/usr/bin/env", ["gzip", "-f", file])
        let pushed = try await runProcess("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip",
            "--data-binary", "@\(file).gz", "http://127.0.0.1:\(tally.httpPort)/loki/api/v1/push",
        ]).output
        #expect(pushed == "204")
        let range = "start=\(now - 60_000_000_000)&end=\(now + 1_000_000_000)"

        // GET /loki/api/v1/labels: {"status":"success","data":["level","service",…]}
        let labels = Self.object(try await tally.get("/loki/api/v1/labels?\(range)").body)
        #expect(labels["status"] as? String == "success")
        let names = labels["data"] as? [String] ?? []
        #expect(names.contains("service") && names.contains("level") && names == names.sorted(), "\(names)")

        // GET /loki/api/v1/label/<name>/values: {"status":"success","data":["error","info"]}
        let values = Self.object(try await tally.get("/loki/api/v1/label/level/values?\(range)").body)
        #expect(values["status"] as? String == "success")
        #expect(values["data"] as? [String] == ["error", "info"])

        // GET /loki/api/v1/series: {"status":"success","data":[{"level":"error","service":"shop"},…]}
        let series = Self.object(try await tally.get("/loki/api/v1/series?match%5B%5D=\(Self.escaped(#"{service="shop"}"#))&\(range)").body)
        #expect(series["status"] as? String == "success")
        let sets = (series["data"] as? [[String: String]] ?? []).map { $0.filter { $0.key != "source" } }
        #expect(sets.count == 2 && sets.contains(["service": "shop", "level": "info"]) && sets.contains(["service": "shop", "level": "error"]), "\(sets)")

        // GET /loki/api/v1/index/stats: {"streams":2,"chunks":…,"entries":3,"bytes":…}, numbers, no envelope.
        let stats = Self.object(try await tally.get("/loki/api/v1/index/stats?query=\(Self.escaped(#"{service="shop"}"#))&\(range)").body)
        #expect(Set(stats.keys) == ["streams", "chunks", "entries", "bytes"], "\(stats)")
        #expect(stats["streams"] as? Int == 2 && stats["entries"] as? Int == 3)
        #expect((stats["bytes"] as? Int ?? 0) == "GET /cart 200".utf8.count + "GET /pay 200".utf8.count + "POST /pay 500".utf8.count)

        // A log query: resultType "streams", each {"stream":{labels},"values":[["<ns as string>","<line>"]]}.
        let logs = Self.object(try await tally.get("/loki/api/v1/query_range?query=\(Self.escaped(#"{service="shop"}"#))&\(range)&direction=forward").body)
        #expect(logs["status"] as? String == "success")
        let logData = logs["data"] as? [String: Any] ?? [:]
        #expect(logData["resultType"] as? String == "streams")
        let summary = (logData["stats"] as? [String: Any])?["summary"] as? [String: Any] ?? [:]
        #expect(summary["execTime"] is NSNumber && summary["queueTime"] is NSNumber, "Loki's answers carry data.stats.summary: \(logData)")
        #expect(summary["totalEntriesReturned"] as? Int == 3)
        let streams = logData["result"] as? [[String: Any]] ?? []
        #expect(streams.count == 2)
        for stream in streams {
            #expect(stream["stream"] is [String: String], "\(stream)")
            let entries = stream["values"] as? [[String]] ?? []
            #expect(!entries.isEmpty && entries.allSatisfy { $0.count == 2 && Int64($0[0]) != nil }, "\(stream)")
        }
        let info = streams.first { ($0["stream"] as? [String: String])?["level"] == "info" }
        #expect((info?["values"] as? [[String]])?.map { $0[1] } == ["GET /cart 200", "GET /pay 200"])
        #expect((info?["values"] as? [[String]])?.first?.first == "\(now - 3_000_000_000)")

        // A metric range query: resultType "matrix", {"metric":{…},"values":[[<seconds as number>,"<value as string>"]]}.
        let query = Self.escaped(#"sum by (level) (count_over_time({service="shop"}[1m]))"#)
        let matrix = Self.object(try await tally.get(
            "/loki/api/v1/query_range?query=\(query)&start=\(now - 10_000_000_000)&end=\(now)&step=5").body)
        let matrixData = matrix["data"] as? [String: Any] ?? [:]
        #expect(matrix["status"] as? String == "success" && matrixData["resultType"] as? String == "matrix", "\(matrix)")
        let rows = matrixData["result"] as? [[String: Any]] ?? []
        #expect(rows.count == 2)
        for row in rows {
            #expect(row["metric"] is [String: String])
            let points = row["values"] as? [[Any]] ?? []
            #expect(!points.isEmpty && points.allSatisfy { $0.count == 2 && $0[0] is NSNumber && Double($0[1] as? String ?? "") != nil }, "\(row)")
        }
        let lastError = rows.first { ($0["metric"] as? [String: String]) == ["level": "error"] }
        #expect(((lastError?["values"] as? [[Any]])?.last?[1] as? String) == "1")

        // A metric instant query: resultType "vector", {"metric":{…},"value":[<seconds>,"<value>"]}.
        let vector = Self.object(try await tally.get("/loki/api/v1/query?query=\(query)&time=\(now)").body)
        let vectorData = vector["data"] as? [String: Any] ?? [:]
        #expect(vectorData["resultType"] as? String == "vector", "\(vector)")
        let samples = vectorData["result"] as? [[String: Any]] ?? []
        let bySeries = Dictionary(uniqueKeysWithValues: samples.compactMap { sample -> (String, String)? in
            guard let metric = sample["metric"] as? [String: String], let value = sample["value"] as? [Any], value.count == 2,
                  value[0] is NSNumber, let text = value[1] as? String else { return nil }
            return (metric["level"] ?? "", text)
        })
        #expect(bySeries == ["info": "2", "error": "1"], "\(vector)")

        // A log query at an instant is refused with Loki 3's words.
        let instantLogs = try await tally.get("/loki/api/v1/query?query=\(Self.escaped(#"{service="shop"} |= "pay""#))&time=\(now)&limit=10")
        #expect(instantLogs.status == 400 && instantLogs.body.contains("log queries are not supported as an instant query type"), "\(instantLogs)")

        // Errors: a bad query is 400 with a plain-text reason, as Loki answers.
        let bad = try await tally.get("/loki/api/v1/query_range?query=\(Self.escaped("{service="))&\(range)")
        #expect(bad.status == 400 && bad.body.contains("parse error"), "\(bad)")
    }
}
