import Foundation
import TallyTestKit
import Testing

/// What a log flood gets on each way in, with writer rings of two batches so
/// that the flood may outrun the writer: a TCP sender loses nothing (it is
/// slowed when the writer is behind); every UDP line is stored or counted as dropped; HTTP pushes past
/// `max_concurrent_pushes` get 429 and the others are stored whole. And
/// `tally logs` reads the result back as a client.
@Suite("Log floods")
struct LogFloodTests {
    /// One writer, a two-batch ring, and an fsync after every batch: the writer is slower than loopback.
    static let config = "logs:\n  writers: 1\n  ring_capacity: 2\n  max_concurrent_pushes: 1\n  storage:\n    wal_fsync: always\n"

    static func count(_ tally: TallyProcess, _ selector: String) async throws -> Int {
        let query = "sum(count_over_time(\(selector)[1h]))".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let body = try await tally.get("/loki/api/v1/query?query=\(query)").body
        let answer = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let result = (answer?["data"] as? [String: Any])?["result"] as? [[String: Any]]
        return (result?.first?["value"] as? [Any])?.last.flatMap { Int($0 as? String ?? "") } ?? 0
    }

    @Test func aFloodIsSlowedRefusedOrCountedNeverLostUnseen() async throws {
        let config = try ConfigFile(Self.config)
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }

        // TCP: 100,000 lines (about 42 MB) in one connection, far more than two batches.
        let line = #"{"service":"tcpflood","msg":"\#(String(repeating: "x", count: 400))"}"# + "\n"
        try sendTCP(Array(String(repeating: line, count: 100_000).utf8), port: tally.logsPort)
        _ = try await tally.waitFor("/metrics", timeout: .seconds(60)) { _, body in
            value(of: #"tally_logs_received_lines_total{listener="logs_tcp"}"#, in: body) == 100_000
        }
        var stored = 0
        for _ in 0..<100 where stored < 100_000 {
            stored = try await Self.count(tally, #"{service="tcpflood"}"#)
            if stored < 100_000 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(stored == 100_000, "every line sent over TCP is stored")
        // (Whether the sender was slowed depends on which is slower here, decoding or the writer;
        // LogStreamHandlerTests pins the pause itself with a stopped writer.)
        var metrics = try await tally.get("/metrics").body

        // UDP: 50,000 datagrams as fast as Python sends them; each line read is stored or counted.
        let flood = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            line = b'{"service":"udpflood","msg":"' + b"y" * 80 + b'"}'
            for _ in range(50000):
                s.sendto(line, ("127.0.0.1", int(sys.argv[1])))
            """
        let sent = try await runProcess("/usr/bin/env", ["python3", "-c", flood, "\(tally.logsPort)"])
        #expect(sent.status == 0)
        var (received, dropped, udpStored) = (0.0, 0.0, 0)
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(200))
            metrics = try await tally.get("/metrics").body
            received = value(of: #"tally_logs_received_lines_total{listener="logs_udp"}"#, in: metrics)
            dropped = value(of: #"tally_logs_dropped_lines_total{reason="ring_full"}"#, in: metrics)
            udpStored = try await Self.count(tally, #"{service="udpflood"}"#)
            if Double(udpStored) + dropped == received { break }
        }
        #expect(received > 0 && received <= 50_000)
        #expect(Double(udpStored) + dropped == received, "received \(received) = stored \(udpStored) + dropped \(dropped)")

        // HTTP: sixteen pushes at once with one allowed at a time: 204 or 429, and the 204s are stored whole.
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        @Sendable func body(_ push: Int) -> [UInt8] {
            let entries = (0..<20_000).map { #"["\#(now + Int64($0))","push \#(push) line \#($0) \#(String(repeating: "z", count: 60))"]"# }
            return Array(#"{"streams":[{"stream":{"service":"pushflood"},"values":[\#(entries.joined(separator: ","))]}]}"#.utf8)
        }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for push in 0..<16 {
                group.addTask { try await tally.post("/loki/api/v1/push", body: body(push), headers: [("Content-Type", "application/json")]).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 204 || $0 == 429 }, "\(statuses)")
        #expect(statuses.contains(429) && statuses.contains(204), "\(statuses)")
        let taken = statuses.filter { $0 == 204 }.count
        let pushed = try await Self.count(tally, #"{service="pushflood"}"#)
        #expect(pushed == taken * 20_000, "\(taken) pushes taken, \(pushed) entries stored")

        // `tally logs` as a client: the newest lines, and a metric, in the terminal's format.
        let binary = try TallyProcess.binaryPath()
        let server = "http://127.0.0.1:\(tally.httpPort)"
        let lines = try await runProcess(binary, ["logs", #"{service="tcpflood"}"#, "--since", "1h", "--limit", "3", "--server", server])
        #expect(lines.status == 0)
        let printed = lines.output.split(separator: "\n")
        #expect(printed.count == 3 && printed.allSatisfy { $0.contains(#"service="tcpflood""#) && $0.contains("xxxx") }, "\(lines.output)")
        let metric = try await runProcess(binary, ["logs", #"sum(count_over_time({service="tcpflood"}[1h]))"#, "--server", server])
        #expect(metric.status == 0 && metric.output == "{} 100000\n", "\(metric.output)")
        let bad = try await runProcess(binary, ["logs", #"{service="#, "--server", server])
        #expect(bad.status == 1 && bad.output.contains("parse error"), "\(bad.output)")
        withExtendedLifetime(config) {}
    }
}
