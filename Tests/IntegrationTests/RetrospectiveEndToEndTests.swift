import Foundation
import TallyTestKit
import Testing

/// Deployments and incidents in through every path, the daily report out
/// through the API and `tally report daily`.
@Suite("Retrospective, end to end", .serialized)
struct RetrospectiveEndToEndTests {
    @Test func eventsInReportOut() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let now = Int(Date().timeIntervalSince1970)
        // Every event falls within the hour before t, all on one UTC day: today, or
        // yesterday's last hour when today is less than two hours old.
        let dayStart = now - now % 86_400
        let t = now - dayStart < 7_200 ? dayStart - 60 : now - 60
        func iso(_ seconds: Int) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
        }
        let today = String(iso(t).prefix(10))

        // 1. POST /api/v1/events: an array, checked whole.
        let events = """
            [{"event":"deployment","service":"api","version":"v1","commit_sha":"a1","commit_time":"\(iso(t - 7_200))","status":"success","time":"\(iso(t - 3_600))"},
             {"event":"deployment","service":"api","version":"v2","commit_sha":"a2","commit_time":\(t - 1_800),"status":"rolled_back","time":\(t - 900)},
             {"event":"incident","service":"api","incident_id":"INC-7","state":"opened","severity":"sev1","time":"\(iso(t - 600))"},
             {"event":"incident","service":"api","incident_id":"INC-7","state":"resolved","time":"\(iso(t - 60))"}]
            """
        let posted = try await tally.post("/api/v1/events", body: Array(events.utf8), headers: [("Content-Type", "application/json")])
        #expect(posted.status == 200 && posted.body.contains(#""accepted":4"#), "\(posted.body)")
        let bad = #"[{"event":"deployment","service":"api","version":"v3","commit_sha":"a3","status":"success"},{"event":"incident"}]"#
        let refused = try await tally.post("/api/v1/events", body: Array(bad.utf8), headers: [("Content-Type", "application/json")])
        #expect(refused.status == 400, "\(refused.body)")
        #expect(refused.body.contains("events[0].commit_time: missing") && refused.body.contains("events[1].service: missing"), "\(refused.body)")
        let late = """
            {"event":"deployment","service":"api","version":"v4","commit_sha":"a4","commit_time":"\(iso(t))","status":"success","time":"\(iso(t - 60))"}
            """
        let backwards = try await tally.post("/api/v1/events", body: Array(late.utf8), headers: [("Content-Type", "application/json")])
        #expect(backwards.status == 400 && backwards.body.contains("commit_time: is after the deploy time"), "\(backwards.body)")

        // 2. A structured log line with an event field, as gen-logs.py writes one (the duplicate counts once).
        let line = #"{"ts":"\#(iso(t - 300))","service":"web","level":"info","event":"deployment","version":"w1","commit_sha":"b1","commit_time":"\#(iso(t - 5_000))","status":"success","msg":"deployed web"}"#
        // And one filed as a deploy that misses fields: kept, left out of the keys, listed under data quality.
        let badDeploy = #"{"ts":"\#(iso(t - 250))","service":"web","level":"info","event":"deployment","version":"w2","status":"done","msg":"deployed web again"}"#
        try sendTCP(Array((line + "\n" + line + "\n" + badDeploy + "\n").utf8), port: tally.logsPort)

        // 3. Health: StatsD counters and a timer for api, and error lines to cluster.
        for _ in 0..<2 {
            try sendUDP(datagram(["api.requests:10|c", "api.errors:1|c", "api.latency:120|ms"]), port: tally.statsdPort)
            try await Task.sleep(for: .milliseconds(400))
        }
        _ = try await tally.waitFor("/api/v1/query?query=api_requests_total") { _, body in body.contains(#""20""#) }
        var errorLines = ""
        for (ms, dependency) in [(1200, "redis"), (3400, "postgres"), (800, "redis")] {
            errorLines += #"{"ts":"\#(iso(t - 200))","service":"api","level":"error","msg":"upstream timeout after \#(ms)ms calling \#(dependency)"}"# + "\n"
        }
        try sendTCP(Array(errorLines.utf8), port: tally.logsPort)
        _ = try await tally.waitFor("/loki/api/v1/query_range?query=%7Bservice%3D%22api%22%2Clevel%3D%22error%22%7D&start=\(t - 3_600)") { _, body in
            body.components(separatedBy: "upstream timeout").count == 4
        }

        let report = try await tally.waitFor("/api/v1/report/daily?date=\(today)") { status, body in
            // The log line reaches the store through a writer's ring: wait for its deployment.
            status == 200 && body.contains(#""deployments" : 3"#)
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let keys = try #require(json["four_keys"] as? [String: Any])
        let frequency = try #require(keys["deployment_frequency"] as? [String: Any])
        #expect(frequency["deploys"] as? Int == 2, "\(report)") // v1 and w1 succeeded; v2 rolled back
        let failure = try #require(keys["change_failure_rate"] as? [String: Any])
        // v2 rolled back; v1 preceded INC-7 by 50 minutes: both failed; w1 came after the incident opened.
        #expect(failure["deploys"] as? Int == 3 && failure["failed"] as? Int == 2, "\(report)")
        let restore = try #require(keys["time_to_restore_seconds"] as? [String: Any])
        #expect(restore["median"] as? Double == 540 && restore["resolved"] as? Int == 1, "\(report)")
        let lead = try #require(keys["lead_time_seconds"] as? [String: Any])
        #expect(lead["deploys"] as? Int == 2, "\(report)")
        #expect((json["services"] as? [String: Any])?.keys.sorted() == ["api", "web"], "\(report)")
        let quality = try #require(json["data_quality"] as? [String: Any], "\(report)")
        #expect(quality["refused_events"] as? Int == 1, "\(quality)")
        let listed = (quality["refused"] as? [[String: String]])?.first
        #expect(listed?["service"] == "web" && listed?["event"] == "deployment", "\(quality)")
        #expect(listed?["problems"] == #"status: must be success, failure or rolled_back, not "done"; commit_time: missing; commit_sha: missing"#, "\(quality)")
        let apiHealth = try #require(((json["services"] as? [String: Any])?["api"] as? [String: Any])?["health"] as? [String: Any])
        if t >= dayStart {
            #expect((apiHealth["request_rate"] as? Double).map { $0 > 0 } == true, "\(apiHealth)")
            #expect((apiHealth["error_ratio"] as? Double).map { abs($0 - 0.1) < 0.02 } == true, "\(apiHealth)")
            #expect((apiHealth["p99_latency_seconds"] as? Double).map { abs($0 - 0.12) < 0.01 } == true, "\(apiHealth)")
        } else {
            // Today is under two hours old, so the report is yesterday's: the StatsD values
            // sent just now (StatsD lines carry no time) belong to today, not to it.
            #expect(apiHealth["request_rate"] as? Double == nil && apiHealth["p99_latency_seconds"] as? Double == nil, "\(apiHealth)")
        }
        let templates = try #require(apiHealth["error_templates"] as? [[String: Any]])
        #expect(templates.first?["template"] as? String == "upstream timeout after <duration> calling <*>", "\(templates)")
        #expect(templates.first?["count"] as? Int == 3, "\(templates)")

        // 3. The CLI, as Markdown, and the date checks.
        let markdown = try await runProcess(try TallyProcess.binaryPath(), [
            "report", "daily", "--date", today, "--server", "http://127.0.0.1:\(tally.httpPort)",
        ])
        #expect(markdown.status == 0 && markdown.output.contains("# Retrospective for \(today) (UTC)"), "\(markdown.output)")
        #expect(markdown.output.contains("| Change failure rate | 66.67% (2/3)"), "\(markdown.output)")
        // 4. The page, opened in headless Chromium (Debian's, installed by .ci/deps): no console
        //    error, the four keys in its text, and a screenshot CI keeps in .ci/artifacts/.
        let page = try await tally.get("/report/daily?date=\(today)")
        #expect(page.status == 200 && page.body.hasPrefix("<!doctype html>"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-report-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("report.html")
        try page.body.write(to: file, atomically: true, encoding: .utf8)
        let chromium = "/usr/bin/chromium"
        #expect(FileManager.default.isExecutableFile(atPath: chromium), "chromium is installed by .ci/deps")
        let browser = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(directory.path)/profile"]
        let dom = try await runProcess(chromium, browser + ["--enable-logging=stderr", "--v=0", "--dump-dom", file.absoluteString])
        #expect(dom.status == 0, "\(dom.output.suffix(2_000))")
        #expect(!dom.output.contains("CONSOLE") && !dom.output.contains("Uncaught"), "console messages: \(dom.output.suffix(2_000))")
        for text in ["Deployment frequency", "2 deploys", "Lead time for changes", "Change failure rate", "66.67%", "Time to restore service", "9 min"] {
            #expect(dom.output.contains(text), "\(text) is not in the page")
        }
        let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let screenshot = root + "/.ci/artifacts/report-daily.png"
        try FileManager.default.createDirectory(atPath: root + "/.ci/artifacts", withIntermediateDirectories: true)
        let shot = try await runProcess(chromium, browser + ["--hide-scrollbars", "--window-size=1100,1900", "--screenshot=\(screenshot)", file.absoluteString])
        #expect(shot.status == 0, "\(shot.output.suffix(2_000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "the screenshot is \(size) bytes")

        let future = try await tally.get("/api/v1/report/daily?date=2999-01-01")
        #expect(future.status == 400 && future.body.contains("is in the future"), "\(future.body)")
        let malformed = try await tally.get("/api/v1/report/daily?date=01%2F02%2F2026")
        #expect(malformed.status == 400 && malformed.body.contains("YYYY-MM-DD"), "\(malformed.body)")
        #expect(await tally.stop() == 0)
    }

    /// History imported after today's events (the stream's newest), as a team adopting tally
    /// would replay git and CI: every event is kept, and the 30-day keys are computed from it.
    @Test func aMonthOfHistoryImportedAfterToday() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let now = Int(Date().timeIntervalSince1970)
        let reportDay = now - now % 86_400 - 86_400 // yesterday, 00:00 UTC
        let date = String(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(reportDay))).prefix(10))
        func post(_ body: String) async throws -> (status: Int, body: String) {
            try await tally.post("/api/v1/events", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
        }
        // Today's deploy first: the events' stream now has a newest entry.
        let todays = try await post(#"{"event":"deployment","service":"api","version":"today","commit_sha":"t0","commit_time":\#(now - 600),"status":"success","time":\#(now - 60)}"#)
        #expect(todays.status == 200, "\(todays.body)")
        // Then the 30 days ending yesterday: a deploy of api at noon every day (committed two hours
        // before), a failed one at 12:30 every fifth day, and three half-hour incidents of db.
        var history: [String] = []
        for i in 0..<30 {
            let noon = reportDay - i * 86_400 + 43_200
            history.append(#"{"event":"deployment","service":"api","version":"v\#(i)","commit_sha":"c\#(i)","commit_time":\#(noon - 7_200),"status":"success","time":\#(noon)}"#)
            if i % 5 == 0 {
                history.append(#"{"event":"deployment","service":"api","version":"f\#(i)","commit_sha":"f\#(i)","commit_time":\#(noon - 600),"status":"failure","time":\#(noon + 1_800)}"#)
            }
            if i % 10 == 3 {
                history.append(#"{"event":"incident","service":"db","incident_id":"DB-\#(i)","state":"opened","severity":"sev2","time":\#(noon - 36_000)}"#)
                history.append(#"{"event":"incident","service":"db","incident_id":"DB-\#(i)","state":"resolved","time":\#(noon - 34_200)}"#)
            }
        }
        let imported = try await post("[" + history.joined(separator: ",") + "]")
        #expect(imported.status == 200 && imported.body.contains(#""accepted":\#(history.count)"#), "\(imported.body)")
        let report = try await tally.waitFor("/api/v1/report/daily?date=\(date)") { status, _ in status == 200 }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let month = try #require((json["four_keys"] as? [String: Any])?["last_30_days"] as? [String: Any], "\(report)")
        let frequency = try #require(month["deployment_frequency"] as? [String: Any])
        #expect(frequency["deploys"] as? Int == 30 && frequency["deploy_days_per_week"] as? Double == 7, "\(frequency)")
        #expect(frequency["tier"] as? String == "elite", "\(frequency)")
        let failure = try #require(month["change_failure_rate"] as? [String: Any])
        #expect(failure["deploys"] as? Int == 36 && failure["failed"] as? Int == 6, "\(failure)")
        let lead = try #require(month["lead_time_seconds"] as? [String: Any])
        #expect(lead["median"] as? Double == 7_200 && lead["deploys"] as? Int == 30, "\(lead)")
        let restore = try #require(month["time_to_restore_seconds"] as? [String: Any])
        #expect(restore["median"] as? Double == 1_800 && restore["resolved"] as? Int == 3, "\(restore)")
        // The day itself: one success, one failure (i = 0).
        let day = try #require(json["four_keys"] as? [String: Any])
        #expect((day["change_failure_rate"] as? [String: Any])?["deploys"] as? Int == 2, "\(day)")
        #expect(await tally.stop() == 0)
    }

    /// The p99 comes from the day's merged sketches, which a restart keeps: one slow interval
    /// among fast ones does not make the day's p99 (as the largest interval p99 would).
    @Test func theP99IsTheDaysAndSurvivesARestart() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let now = Int(Date().timeIntervalSince1970)
        let today = String(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(now))).prefix(10))
        let deploy = #"{"event":"deployment","service":"pay","version":"v1","commit_sha":"p1","commit_time":\#(now - 600),"status":"success","time":\#(now - 60)}"#
        #expect(try await tally.post("/api/v1/events", body: Array(deploy.utf8), headers: [("Content-Type", "application/json")]).status == 200)
        // 990 fast values (10 ms) in one interval, then 10 slow ones (900 ms) alone in the next.
        for _ in 0..<10 { try sendUDP(datagram((0..<99).map { _ in "pay.latency:10|ms" }), port: tally.statsdPort) }
        _ = try await tally.waitFor("/api/v1/query?query=pay_latency_seconds_count") { _, body in body.contains(#""990""#) }
        try sendUDP(datagram((0..<10).map { _ in "pay.latency:900|ms" }), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=pay_latency_seconds_count") { _, body in body.contains(#""1000""#) }
        func p99() async throws -> Double? {
            let report = try await tally.get("/api/v1/report/daily?date=\(today)")
            let json = try JSONSerialization.jsonObject(with: Data(report.body.utf8)) as? [String: Any]
            let health = ((json?["services"] as? [String: Any])?["pay"] as? [String: Any])?["health"] as? [String: Any]
            return health?["p99_latency_seconds"] as? Double
        }
        // Rank 989 of 0...999 is a fast value; the slow interval's own p99 is 0.9 s.
        let before = try await p99()
        #expect(before.map { abs($0 - 0.01) <= 0.0001 } == true, "\(String(describing: before))")
        #expect(await tally.stop() == 0)
        let restarted = try TallyProcess(reusing: tally)
        _ = try await restarted.waitFor("/readyz") { status, _ in status == 200 }
        let files = try FileManager.default.contentsOfDirectory(atPath: tally.directory + "/data/sketches")
        #expect(files.contains { $0.hasSuffix(".part.sk") || $0.hasSuffix(".hour.sk") }, "\(files)")
        let report = try await restarted.get("/api/v1/report/daily?date=\(today)")
        let json = try JSONSerialization.jsonObject(with: Data(report.body.utf8)) as? [String: Any]
        let health = ((json?["services"] as? [String: Any])?["pay"] as? [String: Any])?["health"] as? [String: Any]
        #expect((health?["p99_latency_seconds"] as? Double).map { abs($0 - 0.01) <= 0.0001 } == true, "\(report.body.prefix(2_000))")
        #expect(await restarted.stop() == 0)
    }
}
