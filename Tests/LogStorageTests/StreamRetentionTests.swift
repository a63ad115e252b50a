import Foundation
import Testing
import DurableFiles
@testable import LogStorage
import LogWire
import TallyTestKit
import TelemetryModel

/// Streams a `retention_stream` rule selects (delivery events, by default)
/// keep their own period and out-of-order window, in segments of their own.
@Suite("Log store: retention by stream")
struct StreamRetentionTests {
    let now = day + 60 * 86_400 * second
    let hour = 3_600 * second

    /// The rule Config/tally.yaml ships: events for 400 days, at any age within them.
    func options() throws -> LogStoreOptions {
        var options = LogStoreOptions()
        let period: Int64 = 400 * 86_400 * second
        options.retentionStreams = [
            StreamRetention(matchers: [try LabelMatcher("event", .regexMatch, "deployment|incident")], periodNanos: period, outOfOrderWindowNanos: period),
        ]
        return options
    }

    /// A deployment event line, `daysAgo` days before `now`.
    func deploy(_ service: String, daysAgo: Int64, version: String) -> String {
        let millis = (now - daysAgo * 86_400 * second) / 1_000_000
        return #"{"ts":\#(millis),"event":"deployment","service":"\#(service)","version":"\#(version)","commit_times":[\#(millis - 3_600_000)]}"#
    }

    func plainLine(_ service: String, daysAgo: Int64, _ message: String) -> String {
        let millis = (now - daysAgo * 86_400 * second) / 1_000_000
        return #"{"ts":\#(millis),"service":"\#(service)","level":"info","msg":"\#(message)"}"#
    }

    func segmentFiles(_ dir: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").filter { $0.hasSuffix(".seg") }.sorted()
    }

    @Test func aMonthOfEventsCanBeImportedAfterToday() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStore(directory: dir.path, options: try options(), now: now)
        #expect(try store.append(batch([deploy("api", daysAgo: 0, version: "v31")]), now: now).accepted == 1)
        // A month of history arrives after today's deploy, newest first as `git log` prints it.
        let history = (1...30).map { deploy("api", daysAgo: Int64($0), version: "v\(31 - $0)") }
        let result = try store.append(batch(history), now: now)
        #expect(result.accepted == 30)
        #expect(result.rejected.isEmpty)
        let events = try readAll(store, [try matcher("event", "deployment")])
        #expect(events.count == 31)
        #expect(events.map(\.time) == events.map(\.time).sorted())
        #expect(events.first?.line.contains("\"v1\"") == true)
        // A plain log stream keeps the store's window and retention.
        try store.append(batch([plainLine("api", daysAgo: 0, "now")]), now: now)
        let late = try store.append(batch([plainLine("api", daysAgo: 1, "yesterday"), plainLine("api", daysAgo: 20, "too old")]), now: now)
        #expect(late.rejected[.outOfOrder] == 1)
        #expect(late.rejected[.tooOld] == 1)
        // Events beyond their own period are refused.
        let ancient = try store.append(batch([deploy("api", daysAgo: 401, version: "v0")]), now: now)
        #expect(ancient.rejected[.tooOld] == 1)
        #expect(ancient.firstRejection?.contains("retention period") == true)
    }

    @Test func eventsOutliveTheLogsBesideThem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let later = now + 20 * 86_400 * second
        do {
            let store = try LogStore(directory: dir.path, options: try options(), now: now)
            try store.append(batch([deploy("api", daysAgo: 0, version: "v1"), plainLine("api", daysAgo: 0, "started")]), now: now)
            store.writeSegment(now: now)
            // One segment for the logs, one for the events.
            #expect(try segmentFiles(dir).count == 2)
            // Twenty days on, the logs' segment (15 days) is gone and the events' is kept.
            store.maintain(now: later)
            #expect(try segmentFiles(dir).count == 1)
            #expect(try readAll(store).map(\.labels["event"]) == ["deployment"])
        }
        // After a restart, the kept segment is still known as the events'.
        let reopened = try LogStore(directory: dir.path, options: try options(), now: later)
        reopened.maintain(now: later + 100 * 86_400 * second)
        #expect(try readAll(reopened).count == 1)
        reopened.maintain(now: now + 401 * 86_400 * second)
        #expect(try readAll(reopened).isEmpty)
        #expect(try segmentFiles(dir).isEmpty)
    }

    @Test func maxBytesLeavesRuleSegmentsAlone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var options = try options()
        options.maxBytes = 1
        let store = try LogStore(directory: dir.path, options: options, now: now)
        try store.append(batch([deploy("api", daysAgo: 0, version: "v1"), plainLine("api", daysAgo: 0, "started")]), now: now)
        store.writeSegment(now: now)
        store.maintain(now: now + second)
        #expect(try readAll(store).map(\.labels["event"]) == ["deployment"])
    }

    @Test func smallEventSegmentsAreMergedWithoutLosingAnEntry() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var sent: [String] = []
        var files: [String] = []
        do {
            let store = try LogStore(directory: dir.path, options: try options(), now: now)
            // Nine hours with a deploy each (and logs beside them), each written out as its own segment;
            // the first also holds a backfilled deploy of another service from 399 days ago.
            for h in 0..<Int64(Self.segments) {
                let line = deploy(h % 2 == 0 ? "api" : "web", daysAgo: 0, version: "v\(h)")
                sent.append(line)
                var lines = [line, plainLine("api", daysAgo: 0, "hour \(h)")]
                if h == 0 { lines.append(deploy("legacy", daysAgo: 399, version: "v-old")) }
                #expect(try store.append(batch(lines), now: now + h * hour).accepted == lines.count)
                store.writeSegment(now: now + h * hour)
            }
            #expect(try segmentFiles(dir).count == 2 * Self.segments)
            // Two days on, the nine small segments of events are one, without the expired deploy.
            store.maintain(now: now + 2 * 86_400 * second)
            files = try segmentFiles(dir)
            #expect(files.count == Self.segments + 1)
            let events = try readAll(store, [try LabelMatcher("event", .equal, "deployment")])
            #expect(Set(events.map(\.line)) == Set(sent))
            #expect(events.count == sent.count)
            // Merging again finds nothing to do.
            store.maintain(now: now + 2 * 86_400 * second + second)
            #expect(try segmentFiles(dir) == files)
        }
        // The merged segment survives a restart and passes `tally verify`.
        let reopened = try LogStore(directory: dir.path, options: try options(), now: now)
        #expect(try readAll(reopened, [try LabelMatcher("event", .equal, "deployment")]).count == sent.count)
        #expect(try LogStoreInspection.verify(directory: dir.path).problems.isEmpty)
    }

    static let segments = LogStore.mergeThreshold + 1
}
