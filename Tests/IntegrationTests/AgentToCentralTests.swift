import Foundation
import TallyTestKit
import Testing

/// Two tallies in agent mode forwarding their StatsD state to a central
/// tally (`agent:` → `POST /api/v1/aggregates`): the central's p99 is the
/// p99 of the union of the agents' timings within the sketch's accuracy,
/// where the mean of the agents' own p99s is far off; counters are summed
/// exactly, distinct counts are of the union; and an agent killed with -9
/// while the central is down loses nothing once both are back.
@Suite("Agents forwarding StatsD state to a central tally", .serialized)
struct AgentToCentralTests {
    static func agentConfig(_ directory: String, name: String, central: Int) throws -> String {
        let path = directory + "/\(name).yaml"
        try """
        agent:
          url: http://127.0.0.1:\(central)/api/v1/aggregates
          min_backoff: 50ms
          max_backoff: 500ms
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The value of an instant query's first series, or nil.
    static func value(_ tally: TallyProcess, _ query: String) async throws -> Double? {
        let body = try await tally.get("/api/v1/query?query=" + urlEncoded(query)).body
        guard let root = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let result = (root["data"] as? [String: Any])?["result"] as? [[String: Any]], let first = result.first,
            let pair = first["value"] as? [Any], let text = pair.last as? String
        else { return nil }
        return Double(text)
    }

    static func waitValue(_ tally: TallyProcess, _ query: String, timeout: Duration = .seconds(20), until: (Double) -> Bool) async throws -> Double? {
        let deadline = ContinuousClock.now + timeout
        var last: Double?
        while ContinuousClock.now < deadline {
            last = try await value(tally, query)
            if let last, until(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    /// Sends lines over UDP, 40 to a datagram.
    static func send(_ lines: [String], to tally: TallyProcess) throws {
        for start in stride(from: 0, to: lines.count, by: 40) {
            try sendUDP(datagram(Array(lines[start..<min(lines.count, start + 40)])), port: tally.statsdPort)
        }
    }

    @Test func theCentralP99IsThatOfTheUnionOfTheAgentsTimings() async throws {
        // The central flushes every 3 s; the agents every 200 ms, forwarding each interval's sketches.
        let central = try TallyProcess(flushInterval: "3s")
        _ = try await central.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-agents")
        defer { scratch.remove() }
        let fast = try TallyProcess(extraArguments: ["--config", try Self.agentConfig(scratch.path, name: "a", central: central.httpPort)])
        let slow = try TallyProcess(extraArguments: ["--config", try Self.agentConfig(scratch.path, name: "b", central: central.httpPort)])
        _ = try await fast.waitFor("/readyz") { status, _ in status == 200 }
        _ = try await slow.waitFor("/readyz") { status, _ in status == 200 }
        try Self.send(["agents.warm:1|c"], to: fast)
        #expect(try await Self.waitValue(central, "agents_warm_total") { $0 == 1 } == 1, "the path from agent to central works")

        // Both agents' data lands in one central interval: start just after a 3 s boundary.
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        try await Task.sleep(for: .milliseconds(3_000 - millis % 3_000 + 150))
        // Agent a sees fast requests (10-110 ms), agent b slow ones (900-1000 ms).
        let fastTimings = (0..<1000).map { 10 + Double($0) / 10 }
        let slowTimings = (0..<1000).map { 900 + Double($0) / 10 }
        try Self.send(fastTimings.map { "agents.latency:\($0)|ms|#service:api" } + (0..<10).map { _ in "agents.hits:3|c" }
            + (1...60).map { "agents.users:u\($0)|s" }, to: fast)
        try Self.send(slowTimings.map { "agents.latency:\($0)|ms|#service:api" } + (0..<10).map { _ in "agents.hits:5|c" }
            + (41...100).map { "agents.users:u\($0)|s" }, to: slow)

        let union = (fastTimings + slowTimings).sorted()
        let exact = union[Int((0.99 * Double(union.count - 1)).rounded(.down))] / 1000
        let query = #"agents_latency_seconds{service="api",quantile="0.99"}"#
        let centralP99 = try #require(try await Self.waitValue(central, #"agents_latency_seconds_count{service="api"}"#) { $0 == 2000 } == 2000
            ? try await Self.value(central, "max_over_time(\(query)[5m])") : nil, "the central counted all 2,000 timings")
        #expect(abs(centralP99 - exact) <= 0.01 * exact, "central p99 \(centralP99) vs the union's \(exact)")
        // An agent's own p99 holds for the interval that had the values (then a staleness marker ends it).
        let fastP99 = try #require(try await Self.waitValue(fast, "max_over_time(\(query)[5m])") { $0 > 0 })
        let slowP99 = try #require(try await Self.waitValue(slow, "max_over_time(\(query)[5m])") { $0 > 0 })
        let mean = (fastP99 + slowP99) / 2
        #expect(abs(mean - exact) > 0.4 * exact, "averaging the agents' p99s (\(fastP99), \(slowP99)) would say \(mean)")
        let sum = try #require(try await Self.value(central, #"agents_latency_seconds_sum{service="api"}"#))
        #expect(abs(sum - union.reduce(0, +) / 1000) < 1e-6, "the sum is exact")
        #expect(try await Self.waitValue(central, "agents_hits_total") { $0 == 80 } == 80, "counters are summed: 10×3 + 10×5")
        // A set's value stands for the interval that had the members (then a staleness marker ends it), and this
        // line may come several intervals later on a loaded machine: read the highest of the last minutes.
        #expect(try await Self.waitValue(central, "max_over_time(agents_users[5m])") { $0 == 100 } == 100, "distinct users of the union: 1-60 ∪ 41-100")
        let metrics = try await fast.get("/metrics").body
        #expect(RemoteWriteRetryTests.value(metrics, "tally_agent_sent_exports_total") > 0)
        #expect(await fast.stop() == 0)
        #expect(await slow.stop() == 0)
        #expect(await central.stop() == 0)
    }

    @Test func anAgentKilledWhileTheCentralIsDownLosesNothing() async throws {
        let central = try TallyProcess(flushInterval: "500ms")
        _ = try await central.waitFor("/readyz") { status, _ in status == 200 }
        let scratch = try TemporaryDirectory(prefix: "tally-agents")
        defer { scratch.remove() }
        let config = try Self.agentConfig(scratch.path, name: "a", central: central.httpPort)
        let agent = try TallyProcess(extraArguments: ["--config", config])
        _ = try await agent.waitFor("/readyz") { status, _ in status == 200 }
        var sent = 0.0
        func round(_ tally: TallyProcess, _ n: Int) async throws {
            try Self.send((0..<5).map { _ in "agents.orders:\(n % 7 + 1)|c" }, to: tally)
            sent += Double(5 * (n % 7 + 1))
            try await Task.sleep(for: .milliseconds(250))
        }
        for n in 0..<8 { try await round(agent, n) }
        #expect(try await Self.waitValue(central, "agents_orders_total") { $0 == sent } == sent)
        // The central goes down; what follows piles up in the agent's queue; then the agent is killed.
        #expect(await central.stop() == 0)
        for n in 8..<20 { try await round(agent, n) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(await agent.stop(signal: SIGKILL) != nil)
        let restartMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let centralAgain = try TallyProcess(reusing: central, flushInterval: "500ms")
        _ = try await centralAgain.waitFor("/readyz") { status, _ in status == 200 }
        let agentAgain = try TallyProcess(reusing: agent, extraArguments: ["--config", config])
        _ = try await agentAgain.waitFor("/readyz") { status, _ in status == 200 }
        for n in 20..<24 { try await round(agentAgain, n) }
        // The central's counter restarted with it (from 0, so the backlog alone may exceed the old value and hide
        // the reset): its total is the last value stored before the restart plus the last one after.
        let deadline = ContinuousClock.now + .seconds(30)
        var total = 0.0
        while ContinuousClock.now < deadline {
            let now = Date().timeIntervalSince1970 + 60
            let samples = try rangeSamples(try await centralAgain.get("/api/v1/query?query=" + urlEncoded("agents_orders_total[1h]") + "&time=\(now)").body)
            let series = samples.values.first ?? []
            total = (series.last { $0.timestamp < restartMillis }?.value ?? 0) + (series.last { $0.timestamp > restartMillis }?.value ?? 0)
            if total == sent { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(total == sent, "every increment reached the central once: \(total) of \(sent)")
        #expect(await agentAgain.stop() == 0)
        #expect(await centralAgain.stop() == 0)
    }

    @Test func badAggregateRequestsGetAClear400AndChangeNothing() async throws {
        let central = try TallyProcess()
        _ = try await central.waitFor("/readyz") { status, _ in status == 200 }
        let headers = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")]
        let empty = try await central.post("/api/v1/aggregates", body: [], headers: headers)
        #expect(empty.status == 400 && empty.body.contains("empty request body"), "\(empty)")
        let notSnappy = try await central.post("/api/v1/aggregates", body: Array("hello".utf8), headers: headers)
        #expect(notSnappy.status == 400 && notSnappy.body.contains("snappy"), "\(notSnappy)")
        // Snappy of a protobuf field 1 cut short: "0a 05 0a" (a message of 5 bytes holding 1).
        let truncated = try await central.post("/api/v1/aggregates", body: [0x03, 0x08, 0x0A, 0x05, 0x0A], headers: headers)
        #expect(truncated.status == 400 && truncated.body.contains("not an AggregateRequest"), "\(truncated)")
        let metrics = try await central.get("/metrics").body
        #expect(RemoteWriteRetryTests.value(metrics, "tally_aggregate_requests_refused_total") == 1)
        #expect(RemoteWriteRetryTests.value(metrics, "tally_aggregates_imported_total") == 0)
        #expect(await central.stop() == 0)
    }
}
