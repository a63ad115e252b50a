import Foundation
import TallyTestKit
import Testing

/// Connections opened and left silent on the StatsD TCP listener, many more
/// than `statsd.max_tcp_connections`, do not keep a real sender out: at the
/// limit a new connection takes the place of the one idle longest (10 s or more).
@Suite("Idle TCP connections")
struct IdleConnectionTests {
    @Test func aThousandIdleConnectionsDoNotKeepASenderOut() async throws {
        let config = try ConfigFile("statsd:\n  max_tcp_connections: 50\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        var idle: [RawConnection] = []
        for _ in 0..<1_000 { idle.append(try RawConnection(port: tally.statsdPort)) }
        let refused = try await tally.waitFor("/metrics") { _, body in
            body.contains("tally_statsd_tcp_rejected_connections_total 950")
        }
        #expect(refused.contains("tally_statsd_tcp_connections 50"))
        // Once the held ones have been silent for the minimum, a sender gets in and is counted.
        try await Task.sleep(for: .seconds(11))
        try sendTCP(Array("idle_test:3|c\nidle_test:4|c\n".utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/query?query=idle_test_total", timeout: .seconds(10)) { _, body in body.contains(#""7""#) }
        for connection in idle { connection.close() }
        #expect(await tally.stop() == 0)
    }
}
