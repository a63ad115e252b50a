import Foundation
import Testing
@testable import Retrospective
import TelemetryModel

/// Milliseconds of an RFC 3339 time.
func at(_ text: String) -> Int64 {
    (try? parseRFC3339(text)) ?? 0
}

func deploy(_ service: String, _ version: String, commit: String, _ time: String, _ status: Deployment.Status = .success, environment: String = "production") -> DeliveryEvent {
    .deployment(Deployment(
        service: service, version: version, commitSHA: "sha-\(version)", commitTime: at(commit), status: status,
        environment: environment, time: at(time)))
}

func incident(_ id: String, _ service: String, _ state: Incident.State, _ time: String, causedBy: String? = nil) -> DeliveryEvent {
    .incident(Incident(id: id, service: service, state: state, severity: "sev2", causedBy: causedBy, time: at(time)))
}

/// A small history whose four keys are worked out by hand in the tests.
let history: [DeliveryEvent] = [
    deploy("api", "v0", commit: "2026-11-19T09:00:00Z", "2026-11-19T10:00:00Z"),
    deploy("api", "v1", commit: "2026-11-20T08:00:00Z", "2026-11-20T10:00:00Z"),
    deploy("api", "v2", commit: "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z"),
    deploy("api", "v3", commit: "2026-11-20T09:00:00Z", "2026-11-20T15:00:00Z", .failure),
    deploy("web", "w1", commit: "2026-11-19T20:00:00Z", "2026-11-20T06:00:00Z"),
    deploy("web", "w1", commit: "2026-11-19T20:00:00Z", "2026-11-20T06:05:00Z"), // a duplicate
    deploy("api", "v2s", commit: "2026-11-20T11:00:00Z", "2026-11-20T11:30:00Z", environment: "staging"),
    incident("INC-1", "api", .opened, "2026-11-20T13:00:00Z"),
    incident("INC-1", "api", .opened, "2026-11-20T13:01:00Z"), // a duplicate
    incident("INC-1", "api", .resolved, "2026-11-20T14:30:00Z"),
    incident("INC-2", "web", .opened, "2026-11-20T20:00:00Z"),
]

let utc = TimeZone(identifier: "UTC")!
let reportNow = at("2026-11-21T07:00:00Z")

/// A record filed as a deploy on the day, one the day before, both not valid events.
let refused = [
    RefusedEvent(time: at("2026-11-20T09:30:00Z"), service: "api", event: "deployment", problems: "commit_time: missing; version: missing"),
    RefusedEvent(time: at("2026-11-19T09:30:00Z"), service: "api", event: "deployment", problems: "status: missing"),
]

@Suite("Four keys")
struct FourKeysTests {
    @Test func theDayOverallAsWorkedOutByHand() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        let report = DailyReportBuilder(events: history).build(day: day, now: reportNow)
        let keys = report.fourKeys.day
        // v1, v2 and w1 succeeded in production (v3 failed; the staging deploy and the duplicate do not count).
        #expect(keys.deploymentFrequency.deploys == 3)
        // Deploy days in the 7 days ending with the 20th: the 19th and the 20th.
        #expect(keys.deploymentFrequency.deployDaysPerWeek == 2)
        // Two deploy days a week is high, however many deploys they held (elite needs three, as DevLake counts).
        #expect(keys.deploymentFrequency.tier == .high)
        // Lead times 2 h, 1 h, 10 h: median 2 h, p90 (nearest rank 3 of 3) 10 h.
        #expect(keys.leadTimeSeconds.median == 7_200)
        #expect(keys.leadTimeSeconds.p90 == 36_000)
        #expect(keys.leadTimeSeconds.tier == .elite)
        // 4 production deploys; v3 failed by status, v1 and v2 by INC-1 opening within 24 h on api,
        // w1 by INC-2 opening 14 h later on web: 4/4.
        #expect(keys.changeFailureRate.deploys == 4)
        #expect(keys.changeFailureRate.failed == 4)
        #expect(keys.changeFailureRate.value == 1)
        #expect(keys.changeFailureRate.tier == .low)
        // INC-1: 13:00 → 14:30 = 5,400 s; INC-2 still open.
        #expect(keys.timeToRestoreSeconds.median == 5_400)
        #expect(keys.timeToRestoreSeconds.resolved == 1)
        #expect(keys.timeToRestoreSeconds.open == 1)
        #expect(keys.timeToRestoreSeconds.tier == .high)
        // The 19th: one deploy (v0, 1 h lead, not failed: INC-1 opened 27 h later).
        #expect(keys.previous.deploymentFrequency.deploys == 1)
        #expect(keys.previous.changeFailureRate.value == 0)
        #expect(keys.trend.deploymentFrequency == .better && keys.trend.leadTime == .worse)
        #expect(keys.trend.changeFailureRate == .worse && keys.trend.timeToRestore == nil)
        #expect(report.events == DailyReport.EventCounts(deployments: 5, incidents: 3))
        #expect(report.openIncidents == [DailyReport.OpenIncident(
            incidentID: "INC-2", service: "web", severity: "sev2", openedAt: "2026-11-20T20:00:00.000Z", ageSeconds: 14_400)])
        // 30 days: 4 successes on 2 days; 2 / (30/7) = 0.47 deploy days a week: medium.
        #expect(report.fourKeys.last30Days.deploymentFrequency.deploys == 4)
        #expect(report.fourKeys.last30Days.deploymentFrequency.deployDaysPerWeek == 0.47)
        #expect(report.fourKeys.last30Days.deploymentFrequency.tier == .medium)
    }

    @Test func perService() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        let report = DailyReportBuilder(events: history).build(day: day, now: reportNow)
        let api = try #require(report.services["api"]).fourKeys.day
        #expect(api.deploymentFrequency.deploys == 2)
        #expect(api.leadTimeSeconds.median == 5_400 && api.leadTimeSeconds.p90 == 7_200)
        #expect(api.changeFailureRate.value == 1 && api.changeFailureRate.deploys == 3)
        #expect(api.timeToRestoreSeconds.median == 5_400 && api.timeToRestoreSeconds.open == 0)
        let web = try #require(report.services["web"]).fourKeys.day
        #expect(web.deploymentFrequency.deploys == 1 && web.deploymentFrequency.deployDaysPerWeek == 1)
        #expect(web.leadTimeSeconds.median == 36_000)
        // INC-2 opened 14 h after w1.
        #expect(web.changeFailureRate.value == 1)
        #expect(web.timeToRestoreSeconds.median == nil && web.timeToRestoreSeconds.open == 1)
    }

    /// Past `report.max_services` the busiest are detailed (events first, then
    /// log lines); a note counts the rest, and the overall keys still include them.
    @Test func onlyTheBusiestServicesAreDetailedPastTheLimit() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        var quiet = DailyReportBuilder.ServiceSignals()
        quiet.logLines = ["info": 5]
        var loud = DailyReportBuilder.ServiceSignals()
        loud.logLines = ["info": 500]
        let builder = DailyReportBuilder(events: history)
        let all = builder.build(day: day, signals: ["quiet": quiet, "loud": loud], now: reportNow)
        let capped = builder.build(day: day, signals: ["quiet": quiet, "loud": loud], maxServices: 3, now: reportNow)
        #expect(Set(all.services.keys) == ["api", "web", "loud", "quiet"])
        #expect(Set(capped.services.keys) == ["api", "web", "loud"])
        #expect(capped.notes.contains("1 quieter service is not detailed (report.max_services is 3); the overall keys count them."))
        #expect(capped.fourKeys == all.fourKeys)
        #expect(DailyReportBuilder.busiest(["a": 1, "b": 1, "c": 2], limit: 2) == ["c", "a"])
    }

    @Test func anIncidentBlamingAVersionFailsThatDeployEvenLater() {
        let events = history + [incident("INC-3", "api", .opened, "2026-11-25T10:00:00Z", causedBy: "v0")]
        let calculator = FourKeysCalculator(events: events)
        let v0 = calculator.deployments.first { $0.version == "v0" }!
        #expect(calculator.failed(v0))
    }

    @Test func theJSONMatchesTheGoldenFile() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        let report = DailyReportBuilder(events: history).build(
            day: day, logLines: ["api": ["info": 120, "error": 3]], refusedEvents: refused, now: reportNow)
        let json = String(decoding: report.json(), as: UTF8.self)
        let path = #filePath.split(separator: "/").dropLast().joined(separator: "/")
        let goldenPath = "/" + path + "/Golden/daily-2026-11-20.json"
        // TALLY_RECORD_GOLDEN=1 rewrites the file (then read the diff before committing it).
        if ProcessInfo.processInfo.environment["TALLY_RECORD_GOLDEN"] == "1" { try (json + "\n").write(toFile: goldenPath, atomically: true, encoding: .utf8) }
        let golden = try String(contentsOfFile: goldenPath, encoding: .utf8)
        #expect(json == golden.trimmingCharacters(in: .newlines), "\(json)")
        // And it reads back.
        let decoded = try JSONDecoder().decode(DailyReport.self, from: Data(json.utf8))
        #expect(decoded == report)
    }

    @Test func theMarkdownMatchesTheGoldenFile() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        let report = DailyReportBuilder(events: history).build(
            day: day, logLines: ["api": ["info": 120, "error": 3]], refusedEvents: refused, now: reportNow)
        let markdown = MarkdownReport.render(report)
        let path = "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Golden/daily-2026-11-20.md"
        if ProcessInfo.processInfo.environment["TALLY_RECORD_GOLDEN"] == "1" { try markdown.write(toFile: path, atomically: true, encoding: .utf8) }
        #expect(markdown == (try String(contentsOfFile: path, encoding: .utf8)), "\(markdown)")
    }

    @Test func aDayWithoutEventsSaysSo() throws {
        let day = try ReportDay("2026-10-01", timeZone: utc, now: reportNow)
        let report = DailyReportBuilder(events: history).build(day: day, now: reportNow)
        #expect(report.notes == ["No deployments or incidents were reported on 2026-10-01."])
        #expect(report.fourKeys.day.deploymentFrequency.deploys == 0)
        #expect(report.fourKeys.day.leadTimeSeconds.median == nil && report.fourKeys.day.leadTimeSeconds.tier == nil)
    }
}

@Suite("Tiers")
struct TierTests {
    @Test(arguments: [
        (7.0, Tier.elite), (3.0, .elite), (2.99, .high), (1.0, .high), (0.99, .medium), (7.0 / 30.0, .medium), (0.2, .low), (0, .low),
    ])
    func deploymentFrequency(_ daysPerWeek: Double, _ tier: Tier) {
        #expect(Tier.deploymentFrequency(deployDaysPerWeek: daysPerWeek) == tier)
    }

    @Test(arguments: [
        (86_399.0, Tier.elite), (86_400, .high), (604_799, .high), (604_800, .medium), (2_591_999, .medium), (2_592_000, .low),
    ])
    func leadTime(_ seconds: Double, _ tier: Tier) {
        #expect(Tier.leadTime(seconds: seconds) == tier)
    }

    @Test(arguments: [(0.0, Tier.elite), (0.05, .elite), (0.0501, .high), (0.10, .high), (0.1001, .medium), (0.15, .medium), (0.1501, .low)])
    func changeFailureRate(_ rate: Double, _ tier: Tier) {
        #expect(Tier.changeFailureRate(rate) == tier)
    }

    @Test(arguments: [(3_599.0, Tier.elite), (3_600, .high), (86_399, .high), (86_400, .medium), (604_799, .medium), (604_800, .low)])
    func timeToRestore(_ seconds: Double, _ tier: Tier) {
        #expect(Tier.timeToRestore(seconds: seconds) == tier)
    }
}

@Suite("Report days and time zones")
struct ReportDayTests {
    @Test func dayBoundariesFollowTheTimeZone() throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let day = try ReportDay("2026-11-20", timeZone: berlin, now: reportNow)
        #expect(day.start == at("2026-11-19T23:00:00Z"))
        #expect(day.end == at("2026-11-20T23:00:00Z"))
        // A deploy at 23:30 UTC on the 20th is on the 21st in Berlin.
        let late = [deploy("api", "late", commit: "2026-11-20T22:00:00Z", "2026-11-20T23:30:00Z")]
        let report = DailyReportBuilder(events: late).build(day: day, now: reportNow)
        #expect(report.fourKeys.day.deploymentFrequency.deploys == 0)
        let utcReport = DailyReportBuilder(events: late).build(day: try ReportDay("2026-11-20", timeZone: utc, now: reportNow), now: reportNow)
        #expect(utcReport.fourKeys.day.deploymentFrequency.deploys == 1)
    }

    @Test func daylightSavingDaysAreNot24Hours() throws {
        let newYork = TimeZone(identifier: "America/New_York")!
        let day = try ReportDay("2026-11-01", timeZone: newYork, now: reportNow)
        #expect(day.end - day.start == 25 * 3_600_000)
    }

    @Test(arguments: ["2026-11-31", "2026-13-01", "20261120", "2026-1-2", "yesterday", "2026-11-22", "0001-01-01", "1969-12-31"])
    func badOrFutureDatesAreRefused(_ text: String) {
        #expect(throws: ReportDateError.self) { try ReportDay(text, timeZone: utc, now: reportNow) }
    }

    @Test func yesterday() {
        // 20:00 UTC on the 20th is 05:00 on the 21st in Tokyo: yesterday there is the 20th, in UTC the 19th.
        #expect(ReportDay(yesterdayOf: at("2026-11-20T20:00:00Z"), timeZone: TimeZone(identifier: "Asia/Tokyo")!).text == "2026-11-20")
        #expect(ReportDay(yesterdayOf: at("2026-11-20T20:00:00Z"), timeZone: utc).text == "2026-11-19")
    }
}

@Suite("Delivery events")
struct DeliveryEventTests {
    @Test func aDeploymentFromItsFields() {
        let fields = ["event": "deployment", "service": "api", "version": "v1", "commit_sha": "abc", "commit_time": "2026-11-20T08:00:00Z",
                      "status": "rolled_back", "time": "1795608000"]
        #expect(DeliveryEvent.parse(fields, time: 0) == .success(.deployment(Deployment(
            service: "api", version: "v1", commitSHA: "abc", commitTime: at("2026-11-20T08:00:00Z"), status: .rolledBack,
            environment: "production", time: 1_795_608_000_000))))
    }

    @Test(arguments: [
        (["event": "deployment", "service": "api", "version": "v1", "commit_sha": "abc", "status": "success"], "commit_time: missing"),
        (["event": "deployment", "service": "api", "version": "v1", "commit_sha": "abc", "commit_time": "2026-11-21T00:00:00Z",
          "status": "success", "time": "2026-11-20T00:00:00Z"], "commit_time: is after the deploy time"),
        (["event": "deployment", "service": "api", "version": "v1", "commit_sha": "abc", "commit_time": "soon", "status": "success"],
         "commit_time: not a time"),
        (["event": "deployment", "service": "api", "version": "v1", "commit_sha": "abc", "commit_time": "1", "status": "done"],
         "status: must be success, failure or rolled_back"),
        (["event": "incident", "service": "api", "incident_id": "I", "state": "closed"], "state: must be opened or resolved"),
        (["event": "incident", "service": "api", "state": "opened"], "incident_id: missing"),
        (["event": "release", "service": "api"], "event: must be deployment or incident"),
        (["service": "api"], "event: missing"),
    ])
    func badEventsAreRefusedWithTheReason(_ fields: [String: String], _ reason: String) {
        guard case .failure(let error) = DeliveryEvent.parse(fields, time: at("2026-11-20T12:00:00Z")) else {
            Issue.record("accepted \(fields)")
            return
        }
        #expect(error.description.hasPrefix(reason), "\(error)")
    }

    /// `caused_by` may blame a deploy of another service: by `SERVICE@VERSION`, or by its commit SHA;
    /// a bare version names the incident's own service only (versions repeat across services).
    @Test func causedByMayNameAnotherServicesDeploy() {
        let events: [DeliveryEvent] = [
            deploy("api", "v7", commit: "2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z"),
            deploy("db", "m3", commit: "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z"),
            deploy("web", "v7", commit: "2026-11-03T09:00:00Z", "2026-11-03T10:00:00Z"),
            deploy("cache", "c1", commit: "2026-11-04T09:00:00Z", "2026-11-04T10:00:00Z"),
            // Days later (outside the failure window), on other services.
            incident("I-1", "web", .opened, "2026-11-10T10:00:00Z", causedBy: "api@v7"),
            incident("I-2", "web", .opened, "2026-11-10T11:00:00Z", causedBy: "sha-m3"),
            incident("I-3", "search", .opened, "2026-11-10T12:00:00Z", causedBy: "c1"),
        ]
        let judge = FourKeysCalculator(events: events)
        func failed(_ service: String) -> Bool {
            judge.deployments.first { $0.service == service }.map(judge.failed) ?? false
        }
        #expect(failed("api"), "api@v7 names api's deploy from an incident on web")
        #expect(failed("db"), "a commit SHA names its deploy from any service")
        #expect(!failed("web"), "web's own v7 is not the api@v7 that was blamed")
        #expect(!failed("cache"), "a bare version blames the incident's own service (search), not cache")
    }

    /// A 400 names every problem of an event, not only the first.
    @Test func everyProblemOfAnEventIsListed() {
        let fields = ["event": "deployment", "service": "api", "status": "done", "commit_time": "soon", "time": "yesterday"]
        guard case .failure(let error) = DeliveryEvent.parse(fields, time: 0) else {
            Issue.record("accepted \(fields)")
            return
        }
        #expect(error.problems.map(\.field) == ["time", "status", "commit_time", "version", "commit_sha"], "\(error)")
        #expect(error.described(prefix: "events[3].").hasPrefix(#"events[3].time: not a time (RFC 3339 or Unix seconds): "yesterday"; events[3].status: must be"#), "\(error)")
        guard case .failure(let incident) = DeliveryEvent.parse(["event": "incident", "service": "api"], time: 0) else { return }
        #expect(incident.description == "state: missing; incident_id: missing")
        guard case .failure(let empty) = DeliveryEvent.parse([:], time: 0) else { return }
        #expect(empty.description == "event: missing; service: missing")
    }
}

@Suite("Service health")
struct ServiceHealthTests {
    @Test func healthFiguresSLOBurnAndMovers() throws {
        let day = try ReportDay("2026-11-20", timeZone: utc, now: reportNow)
        var api = DailyReportBuilder.ServiceSignals()
        api.logLines = ["info": 900, "error": 100]
        api.previousLogLines = ["info": 900, "error": 20]
        api.requestRate = 12.5
        api.previousRequestRate = 10
        api.errorRatio = 0.002
        api.p99Latency = 0.25
        api.sloObjective = 0.999
        api.errorTemplates = [LogTemplate(template: "timeout after <duration>", count: 100, example: "timeout after 3s")]
        var web = DailyReportBuilder.ServiceSignals()
        web.logLines = ["info": 50]
        web.previousLogLines = ["info": 0]
        let report = DailyReportBuilder(events: history).build(day: day, signals: ["api": api, "web": web], now: reportNow)
        let health = try #require(report.services["api"]).health
        #expect(health.requestRate == 12.5 && health.errorRatio == 0.002 && health.p99LatencySeconds == 0.25)
        // 0.2% errors against a 0.1% budget: burning at twice the allowed rate.
        #expect(health.slo == DailyReport.SLOBurn(objective: 0.999, burnRate: 2, status: "burning"))
        #expect(health.errorTemplates.first?.count == 100)
        // New lines on web come first (from nothing), then api's errors (+400%), then its rate (+25%).
        #expect(report.movers.map { "\($0.service) \($0.measure) \($0.changePercent.map { String($0) } ?? "new")" } == [
            "web log lines new", "api error log lines 400.0", "api request rate 25.0", "api log lines 8.7",
        ])
    }
}
