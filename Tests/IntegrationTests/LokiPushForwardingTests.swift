import Foundation
import TallyTestKit
import Testing

/// tally forwarding every stored log entry over Loki's push API (protobuf,
/// snappy) to a second tally standing in for Loki, which cannot be
/// installed here: through a receiver outage and a kill -9 of the sender,
/// the receiver ends up with exactly the entries the sender stored (time
/// and line), under the stream labels plus the external labels, with
/// structured metadata kept.
@Suite("Loki push forwarding to a second tally", .serialized)
struct LokiPushForwardingTests {
    /// A tally.yaml forwarding logs to `port`'s push endpoint.
    static func config(_ directory: String, port: Int) throws -> String {
        let path = directory + "/loki-push.yaml"
        try """
        loki_push:
          - url: http://127.0.0.1:\(port)/loki/api/v1/push
            name: central
            batch_wait: 200ms
            batch_size: 64KiB
            min_backoff: 100ms
            max_backoff: 1s
            external_labels: {agent: edge1}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// JSON lines over TCP, `count` of them numbered from `first`, spread over five services.
    static func sendLines(_ first: Int, count: Int, to tally: TallyProcess) throws {
        var text = ""
        for n in first..<(first + count) {
            let level = ["info", "warn", "error"][n % 3]
            text += #"{"level":"\#(level)","service":"svc\#(n % 5)","msg":"request \#(n) served","n":\#(n)}"# + "\n"
        }
        try sendTCP(Array(text.utf8), port: tally.logsPort)
    }

    /// Every entry a query returns, as "NANOS LINE", with the streams' label sets.
    static func entries(_ tally: TallyProcess, _ query: String) async throws -> (entries: Set<String>, streams: [[String: String]]) {
        let now = UInt64(Date().timeIntervalSince1970 + 60) * 1_000_000_000
        let start = now - 3_600 * 1_000_000_000
        let path = "/loki/api/v1/query_range?limit=5000&direction=forward&start=\(start)&end=\(now)&query=" + urlEncoded(query)
        let body = try await tally.get(path).body
        guard let root = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let data = root["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { return ([], []) }
        var out: Set<String> = []
        var streams: [[String: String]] = []
        for stream in result {
            streams.append(stream["stream"] as? [String: String] ?? [:])
            for value in stream["values"] as? [[Any]] ?? [] {
                if let time = value.first as? String, let line = value.dropFirst().first as? String { out.insert(time + " " + line) }
            }
        }
        return (out, streams)
    }

    /// The value of the first /metrics line starting with `prefix`.
    static func metric(_ tally: TallyProcess, _ prefix: String) async throws -> Double {
        RemoteWriteRetryTests.value(try await tally.get("/metrics").body, prefix)
    }

    /// Waits until the receiver holds every entry the sender stored; nil, or how they differ.
    static func converge(sender: TallyProcess, receiver: TallyProcess, timeout: Duration = .seconds(60)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        var difference = "nothing compared"
        while ContinuousClock.now < deadline {
            let stored = try await entries(sender, #"{source="json"}"#).entries
            let received = try await entries(receiver, #"{agent="edge1", service=~"svc.+"}"#).entries
            if !stored.isEmpty, stored == received { return nil }
            let missing = stored.subtracting(received)
            difference = "\(stored.count) stored, \(received.count) received, \(missing.count) missing (\(missing.sorted().prefix(2))), "
                + "\(received.subtracting(stored).count) extra"
            try await Task.sleep(for: .milliseconds(500))
        }
        return difference
    }

    @Test func everyStoredEntryReachesTheReceiverWithItsLabelsAndMetadata() async throws {
        let receiver = try TallyProcess()
        _ = try await receiver.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-loki-push")
        defer { scratch.remove() }
        let sender = try TallyProcess(extraArguments: ["--config", try Self.config(scratch.path, port: receiver.httpPort)])
        _ = try await sender.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<6 {
            try Self.sendLines(round * 50, count: 50, to: sender)
            try await Task.sleep(for: .milliseconds(100))
        }
        // A push with structured metadata: kept beside the line, queryable at the receiver.
        let nanos = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
        let push = #"{"streams":[{"stream":{"service":"traced"},"values":[["\#(nanos)","checkout done",{"trace_id":"4bf92f3577b34da6"}]]}]}"#
        let pushed = try await sender.post("/loki/api/v1/push", body: Array(push.utf8), headers: [("Content-Type", "application/json")])
        #expect(pushed.status == 204, "\(pushed.body)")

        let difference = try await Self.converge(sender: sender, receiver: receiver)
        #expect(difference == nil, "\(difference ?? "")")
        let received = try await Self.entries(receiver, #"{agent="edge1", service="svc3", level="error"}"#)
        #expect(received.entries.count == 20, "svc3's error lines: n = 3 mod 5 and 2 mod 3 below 300")
        #expect(received.streams.allSatisfy { $0["agent"] == "edge1" && $0["service"] == "svc3" })
        let traced = try await receiver.waitFor("/loki/api/v1/query_range?limit=10&query=" + urlEncoded(#"{agent="edge1", service="traced"} | trace_id="4bf92f3577b34da6""#)) { _, body in
            body.contains("checkout done")
        }
        #expect(traced.contains("checkout done"))

        let metrics = try await sender.get("/metrics").body
        let sent = RemoteWriteRetryTests.value(metrics, #"tally_loki_push_sent_entries_total{name="central""#)
        #expect(sent >= 301, "\(sent) entries acknowledged")
        #expect(RemoteWriteRetryTests.value(metrics, #"tally_loki_push_dropped_entries_total{name="central",url="http://127.0.0.1:\#(receiver.httpPort)/loki/api/v1/push",reason="refused"}"#) == 0)
        #expect(await sender.stop() == 0)
        #expect(await receiver.stop() == 0)
    }

    @Test func aReceiverDownForAWhileMissesNothing() async throws {
        let receiver = try TallyProcess()
        _ = try await receiver.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-loki-push")
        defer { scratch.remove() }
        let sender = try TallyProcess(extraArguments: ["--config", try Self.config(scratch.path, port: receiver.httpPort)])
        _ = try await sender.waitFor("/readyz") { status, _ in status == 200 }
        var next = 0
        func traffic(rounds: Int, to tally: TallyProcess) async throws {
            for _ in 0..<rounds {
                try Self.sendLines(next, count: 40, to: tally)
                next += 40
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        try await traffic(rounds: 8, to: sender)
        // The receiver dies (kill -9: what it acknowledged is in its WAL already) and stays down.
        #expect(await receiver.stop(signal: SIGKILL) != nil)
        try await traffic(rounds: 40, to: sender)
        // A request in flight when the receiver died may take up to the 10 s timeout to fail.
        var failures = 0.0
        let deadline = ContinuousClock.now + .seconds(20)
        while failures == 0, ContinuousClock.now < deadline {
            failures = try await Self.metric(sender, #"tally_loki_push_failed_requests_total{name="central""#)
            if failures == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(failures > 0, "failures are counted")
        #expect(try await Self.metric(sender, #"tally_loki_push_pending_entries{name="central""#) > 0, "entries wait")
        let restarted = try TallyProcess(reusing: receiver)
        _ = try await restarted.waitFor("/readyz") { status, _ in status == 200 }
        try await traffic(rounds: 4, to: sender)
        let difference = try await Self.converge(sender: sender, receiver: restarted)
        #expect(difference == nil, "\(difference ?? "")")
        #expect(try await Self.entries(restarted, #"{agent="edge1"}"#).entries.count == next)
        #expect(await sender.stop() == 0)
        #expect(await restarted.stop() == 0)
    }

    @Test func aSenderKilledWhileSendingResumesAndMissesNothing() async throws {
        let receiver = try TallyProcess()
        _ = try await receiver.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-loki-push")
        defer { scratch.remove() }
        let config = try Self.config(scratch.path, port: receiver.httpPort)
        let first = try TallyProcess(extraArguments: ["--config", config])
        _ = try await first.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<5 {
            try Self.sendLines(round * 40, count: 40, to: first)
            try await Task.sleep(for: .milliseconds(200))
        }
        // The receiver goes away so that what follows piles up unsent; then the sender is killed mid-retry.
        #expect(await receiver.stop(signal: SIGKILL) != nil)
        for round in 5..<15 {
            try Self.sendLines(round * 40, count: 40, to: first)
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(await first.stop(signal: SIGKILL) != nil)
        let restartedReceiver = try TallyProcess(reusing: receiver)
        _ = try await restartedReceiver.waitFor("/readyz") { status, _ in status == 200 }
        let second = try TallyProcess(reusing: first, extraArguments: ["--config", config])
        _ = try await second.waitFor("/readyz") { status, _ in status == 200 }
        #expect(second.log.contains("loki_push resumes from its saved WAL position"), "\(second.log)")
        for round in 15..<20 {
            try Self.sendLines(round * 40, count: 40, to: second)
            try await Task.sleep(for: .milliseconds(200))
        }
        let difference = try await Self.converge(sender: second, receiver: restartedReceiver)
        #expect(difference == nil, "\(difference ?? "")")
        #expect(try await Self.entries(restartedReceiver, #"{agent="edge1"}"#).entries.count == 800)
        #expect(await second.stop() == 0)
        #expect(await restartedReceiver.stop() == 0)
    }

    @Test func serverErrorsAreRetriedRetryAfterIsHonouredAndClientErrorsDropped() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-loki-stub")
        defer { scratch.remove() }
        typealias Stub = RemoteWriteRetryTests.Stub
        let flaky = try Stub(script: "500,500,200", in: scratch.path, name: "flaky")
        let busy = try Stub(script: "429:2,200", in: scratch.path, name: "busy")
        let strict = try Stub(script: "400,200", in: scratch.path, name: "strict")
        let config = scratch.path + "/stubs.yaml"
        let entries = [("flaky", flaky), ("busy", busy), ("strict", strict)].map { name, stub in
            "  - {url: http://127.0.0.1:\(stub.port)/loki/api/v1/push, name: \(name), batch_wait: 100ms, min_backoff: 50ms, max_backoff: 200ms}\n"
        }
        try ("loki_push:\n" + entries.joined()).write(toFile: config, atomically: true, encoding: .utf8)
        let tally = try TallyProcess(extraArguments: ["--config", config])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        for round in 0..<8 {
            try Self.sendLines(round * 10, count: 10, to: tally)
            try await Task.sleep(for: .milliseconds(300))
        }
        func value(_ metric: String, _ name: String, _ extra: String = "") async throws -> Double {
            try await Self.metric(tally, "\(metric){name=\"\(name)\"" + extra)
        }
        // Every entry is settled at every destination: acknowledged, or (400) refused for good.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var settled = true
            for name in ["flaky", "busy", "strict"] {
                let sent = try await value("tally_loki_push_sent_entries_total", name)
                let dropped = try await value("tally_loki_push_dropped_entries_total", name, ",url=\"http://127.0.0.1:\(name == "flaky" ? flaky.port : name == "busy" ? busy.port : strict.port)/loki/api/v1/push\",reason=\"refused\"}")
                if sent + dropped < 80 { settled = false }
            }
            if settled { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await value("tally_loki_push_sent_entries_total", "flaky") == 80)
        #expect(flaky.requests.prefix(3).map(\.1) == [500, 500, 200], "500s retried until accepted")
        #expect(try await value("tally_loki_push_sent_entries_total", "busy") == 80)
        let busyRequests = busy.requests
        #expect(busyRequests.count >= 2 && busyRequests[1].0 - busyRequests[0].0 >= 1.9, "429 waits for its Retry-After: \(busyRequests)")
        let strictSent = try await value("tally_loki_push_sent_entries_total", "strict")
        let strictDropped = try await value(
            "tally_loki_push_dropped_entries_total", "strict", ",url=\"http://127.0.0.1:\(strict.port)/loki/api/v1/push\",reason=\"refused\"}")
        #expect(strictDropped > 0 && strictDropped < 80 && strictSent + strictDropped == 80, "the refused batch is dropped, the rest sent")
        #expect(strict.requests.count >= 2 && strict.requests[0].1 == 400)
        #expect(tally.log.contains("refused a push"), "the refusal is logged")
        #expect(await tally.stop() == 0)
    }
}
