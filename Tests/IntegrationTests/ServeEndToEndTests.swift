import Foundation
import TallyTestKit
import Testing

/// `tally serve` as a child process, over real sockets.
@Suite("tally serve, end to end", .serialized)
struct ServeEndToEndTests {
    @Test func udpTcpAndUnixTrafficIsAggregatedAndQueryable() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }

        // UDP: many multi-line datagrams (a truncating receive path would lose lines).
        let perDatagram = 60
        for d in 0..<50 {
            var lines: [String] = []
            for k in 0..<perDatagram { lines.append("e2e.udp.hits:\(1 + (d + k) % 3)|c|#env:test") }
            lines.append("e2e.udp.level:\(d)|g")
            lines.append("e2e.lat:\(d * 10)|ms|@0.5")
            lines.append("bogus:line|c")
            try sendUDP(datagram(lines), port: tally.statsdPort)
        }
        var expectedUDP = 0
        for d in 0..<50 { for k in 0..<perDatagram { expectedUDP += 1 + (d + k) % 3 } }

        // TCP: one stream whose last line has no newline.
        let tcpLines = (0..<1000).map { _ in "e2e.tcp.hits:2|c" }.joined(separator: "\n")
        try sendTCP(Array(tcpLines.utf8), port: tally.statsdPort)

        // Unix datagram socket (DogStatsD's default transport), an event and a service check. Any user
        // may send to it (mode 0722, as the Datadog agent's), as to UDP on 127.0.0.1.
        var socketInfo = stat()
        #expect(stat(tally.unixSocket, &socketInfo) == 0 && socketInfo.st_mode & 0o777 == 0o722)
        try sendUnixDatagram(datagram(["e2e.unix.hits:5|c|#via:uds", "_e{6,7}:Deploy|api 1.2|t:success|#service:api", "_sc|db.up|0"]),
                             path: tally.unixSocket)

        _ = try await tally.waitFor("/api/v1/query?query=e2e_udp_hits_total") { _, body in
            body.contains(#""env":"test""#) && body.contains(#""\#(expectedUDP)""#)
        }
        _ = try await tally.waitFor("/api/v1/query?query=e2e_tcp_hits_total") { _, body in body.contains(#""2000""#) }
        _ = try await tally.waitFor("/api/v1/query?query=e2e_unix_hits_total%7Bvia%3D%22uds%22%7D") { _, body in
            body.contains(#""5""#)
        }
        // Datagrams from different client sockets may be read by different
        // SO_REUSEPORT sockets, so the last gauge is set once the rest is in.
        try sendUDP(datagram(["e2e.udp.level:99|g"]), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=e2e_udp_level") { _, body in body.contains(#""99""#) }
        _ = try await tally.waitFor("/api/v1/query?query=e2e_lat_seconds_count") { _, body in body.contains(#""100""#) }
        _ = try await tally.waitFor("/api/v1/events") { _, body in
            body.contains(#""title":"Deploy""#) && body.contains(#""type":"service_check""#)
        }

        let metrics = try await tally.get("/metrics").body
        #expect(value(of: #"tally_statsd_received_lines_total{transport="udp"}"#, in: metrics) == Double(50 * (perDatagram + 3) + 1))
        #expect(metrics.contains(#"tally_statsd_received_lines_total{transport="tcp"} 1000"#))
        #expect(metrics.contains(#"tally_statsd_received_lines_total{transport="unix"} 3"#))
        #expect(metrics.contains(#"tally_statsd_bad_lines_total{reason="invalid_value"} 50"#))
        // Flushes have run and the longest is reported (the soak's measure of ingest pauses).
        let longestFlush = value(of: "tally_flush_duration_max_seconds", in: metrics)
        #expect(longestFlush > 0 && longestFlush < 60)

        let series = try await tally.get("/api/v1/series?match%5B%5D=%7B__name__%3D~%22e2e_.*%22%7D").body
        #expect(series.contains(#""__name__":"e2e_lat_seconds_sum""#))

        #expect(await tally.stop() == 0)
        #expect(tally.log.contains("drained the shards and flushed the open interval"))
    }

    @Test func theMalformedSuiteNeverCostsTheNextLine() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let cases: [[UInt8]] = [
            Array("foo:bar|c".utf8), Array(":1|c".utf8), Array("m03:1|zz".utf8), Array("m07:|c".utf8),
            Array("m08:1|c|@abc".utf8), Array("m09:1|c|@0".utf8), Array("m12:1e309|ms".utf8),
            [0xFF, 0xFE, 0xFD] + Array(":1|c".utf8), Array("m22:1|c".utf8) + [0] + Array("hidden:1|c".utf8),
            Array(repeating: UInt8(ascii: "a"), count: 65_000 - 4) + Array(":1|c".utf8),
            (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) },
        ]
        for body in cases {
            try sendUDP(body + Array("\ne2e.sentinel:1|c\n".utf8), port: tally.statsdPort)
        }
        // Over TCP, a 70 KiB line is cut off and skipped; the next line still counts.
        try sendTCP(Array(repeating: UInt8(ascii: "b"), count: 70 * 1024) + Array(":1|c\ne2e.sentinel:1|c\n".utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=e2e_sentinel_total") { _, body in
            body.contains(#""\#(cases.count + 1)""#)
        }
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains(#"tally_statsd_bad_lines_total{reason="line_too_long"} 1"#))
        #expect(value(of: #"tally_statsd_bad_lines_total{reason="nul_byte"}"#, in: metrics) >= 1)
        #expect(metrics.contains(#"tally_statsd_bad_lines_total{reason="name_too_long"} 1"#))
        let status = await tally.stop(signal: SIGINT)
        #expect(status == 0, "exit \(status.map(String.init) ?? "none: still running after 20 s"); log:\n\(tally.log.suffix(3_000))")
        // Junk is logged at most once a second, not once per line.
        let warnings = tally.log.split(separator: "\n").filter { $0.contains("rejected StatsD line") }
        #expect(warnings.count <= 3, "\(warnings.count) warnings")
    }

    @Test func aPortInUseFailsAtOnceWithOneClearLine() async throws {
        let blocker = try PortBlocker(port: freePort())
        let tally = try TallyProcess(extraArguments: ["--http", "127.0.0.1:\(blocker.port)"])
        let status = await tally.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        let lines = tally.log.split(separator: "\n")
        #expect(lines.count == 1, "\(tally.log)")
        #expect(tally.log.hasPrefix("tally: error: cannot listen for HTTP on 127.0.0.1:\(blocker.port)"))
    }

    @Test func anUnknownConfigKeyFailsBeforeStarting() async throws {
        let config = try ConfigFile("statsd:\n  udp: 127.0.0.1:0\n  recieve_buffer: 8MiB\n")
        let file = config.path
        let tally = try TallyProcess(extraArguments: ["--config", file])
        let status = await tally.waitForExit(timeout: .seconds(20))
        #expect(status == 1)
        // `config` is used here, so its file lives until tally has read it.
        #expect(tally.log == "tally: error: \(config.path):3: statsd.recieve_buffer: unknown key\n")
    }
}

/// The value of one series in the Prometheus text format, or -1.
func value(of series: String, in text: String) -> Double {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1)) ?? -1
    }
    return -1
}

@Suite("tally serve, start-up errors")
struct StartupErrorTests {
    @Test func anUnreadableConfigFileFailsWithOneLine() async throws {
        let tally = try TallyProcess(extraArguments: ["--config", "/nonexistent/tally.yaml"])
        let status = await tally.waitForExit(timeout: .seconds(20))
        #expect(status == 1)
        #expect(tally.log == "tally: error: cannot read config file /nonexistent/tally.yaml: No such file or directory\n")
    }

    @Test func badFlagValuesAreRejected() async throws {
        let tally = try TallyProcess(extraArguments: ["--flush-interval", "soon"])
        let status = await tally.waitForExit(timeout: .seconds(20))
        #expect(status == 1)
        #expect(tally.log.hasPrefix("tally: error: --flush-interval: cannot parse \"soon\""))
    }
}

@Suite("tally serve, backpressure")
struct BackpressureTests {
    /// With two-batch rings, a fast TCP sender must be slowed down, not dropped:
    /// every line of a large stream is counted, and no ring drop is reported.
    @Test func aFastTCPSenderIsSlowedNotDropped() async throws {
        let config = try ConfigFile("aggregation:\n  ring_capacity: 2\n  shards: 1\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // About 12 MB in one stream: far more than two 64 KiB batches.
        let line = "bp.hits:1|c|#pad:" + String(repeating: "x", count: 100) + "\n"
        let count = 100_000
        try sendTCP(Array(String(repeating: line, count: count).utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=bp_hits_total", timeout: .seconds(60)) { _, body in
            body.contains(#""\#(count)""#)
        }
        let metrics = try await tally.get("/metrics").body
        #expect(value(of: #"tally_ring_dropped_lines_total{shard="0"}"#, in: metrics) == 0)
        #expect(value(of: "tally_statsd_tcp_backpressure_pauses_total", in: metrics) >= 1)
        #expect(await tally.stop() == 0)
        withExtendedLifetime(config) {}
    }
}

@Suite("tally serve, stopped under load")
struct StopUnderLoadTests {
    /// SIGTERM while StatsD datagrams, TCP lines, log lines and queries keep
    /// arriving: every process drains and exits 0. (A tally whose task
    /// executor had deadlocked once ignored SIGTERM under such load.)
    @Test func everyProcessExitsZeroWhenStoppedMidTraffic() async throws {
        let processes = try (0..<3).map { _ in try TallyProcess() }
        for tally in processes { _ = try await tally.waitFor("/readyz") { status, _ in status == 200 } }
        let lines = datagram((0..<40).map { "load.k\($0 % 8):\($0)|\(["c", "g", "ms", "h", "s"][$0 % 5])|#n:\($0 % 4)" })
        let logLine = Array(#"{"level":"info","msg":"under load"}"#.utf8) + [10]
        let traffic = processes.map { tally in
            Task.detached {
                while !Task.isCancelled {
                    try? sendUDP(lines, port: tally.statsdPort)
                    try? sendTCP(lines, port: tally.statsdPort)
                    try? sendTCP(logLine, port: tally.logsPort)
                    _ = try? await tally.get("/api/v1/query?query=sum(load_k1_total)")
                    // Steady, not flat out: the rest of the suite (real Prometheus servers starting) shares two cores.
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        // Some traffic in, then stop all of them while it goes on.
        for tally in processes {
            _ = try await tally.waitFor("/api/v1/query?query=load_k0_total", timeout: .seconds(60)) { _, body in
                body.contains("load_k0_total")
            }
        }
        for tally in processes { kill(tally.pid, SIGTERM) }
        for tally in processes {
            let status = await tally.waitForExit(timeout: .seconds(60))
            #expect(status == 0, "exit status \(String(describing: status)); log:\n\(tally.log.suffix(2000))")
        }
        for task in traffic { task.cancel() }
    }
}

/// A tally.yaml in a temporary directory, removed with the value.
final class ConfigFile {
    let directory: URL
    let path: String

    init(_ yaml: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tally-config-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("tally.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
