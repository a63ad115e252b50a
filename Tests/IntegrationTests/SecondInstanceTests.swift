import Foundation
import TallyTestKit
import Testing

/// A second tally started by mistake, on the same ports or on the same data
/// directory, exits at once with one line naming the conflict, before it
/// opens any store; the first keeps receiving everything (a UDP port shared
/// through SO_REUSEPORT would have split the traffic between them).
@Suite("A second instance", .serialized)
struct SecondInstanceTests {
    /// Sends `count` increments of `name` to the running tally and returns the total it reports.
    static func deliver(_ count: Int, of name: String, to tally: TallyProcess) async throws -> String {
        for start in stride(from: 0, to: count, by: 50) {
            try sendUDP(datagram(Array(repeating: "\(name):1|c", count: min(50, count - start))), port: tally.statsdPort)
        }
        return try await tally.waitFor("/api/v1/query?query=\(name)_total", timeout: .seconds(60)) { _, body in
            body.contains(#""\#(count)""#)
        }
    }

    @Test func onTheSamePortsItExitsWithOneLineAndTheFirstKeepsEveryPacket() async throws {
        let first = try TallyProcess()
        _ = try await first.waitFor("/readyz") { status, _ in status == 200 }
        // Every listener is tried before any store is opened; HTTP comes first.
        let second = try TallyProcess(sharingPortsOf: first)
        let status = await second.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        let lines = second.log.split(separator: "\n")
        #expect(lines.count == 1, "\(second.log)")
        #expect(second.log.hasPrefix("tally: error: cannot listen for HTTP on 127.0.0.1:\(first.httpPort): the port is in use"), "\(second.log)")
        #expect(!FileManager.default.fileExists(atPath: second.directory + "/data/wal"), "no store was opened")

        // With the HTTP port free, the StatsD UDP port (held with SO_REUSEPORT) is what stops it.
        let udpOnly = try TallyProcess(sharingPortsOf: first, extraArguments: [
            "--http", "127.0.0.1:\(freePort())", "--statsd-tcp", "off", "--logs-tcp", "off", "--logs-udp", "off",
            "--syslog-tcp", "off", "--syslog-udp", "off", "--otlp", "off", "--statsd-unix", "",
        ])
        #expect(await udpOnly.waitForExit(timeout: .seconds(20)).map { $0 != 0 } == true)
        #expect(udpOnly.log.hasPrefix("tally: error: cannot listen for StatsD over UDP on 127.0.0.1:\(first.statsdPort): the port is in use"),
                "\(udpOnly.log)")
        #expect(udpOnly.log.split(separator: "\n").count == 1)

        _ = try await Self.deliver(2_000, of: "second_ports", to: first)
        #expect(await first.stop() == 0)
    }

    @Test func onTheSameDataDirectoryItExitsWithOneLineNamingThePid() async throws {
        let first = try TallyProcess()
        _ = try await first.waitFor("/readyz") { status, _ in status == 200 }
        let second = try TallyProcess(extraArguments: ["--data-dir", first.directory + "/data"])
        let status = await second.waitForExit(timeout: .seconds(20))
        #expect(status != nil && status != 0)
        #expect(second.log.split(separator: "\n").count == 1, "\(second.log)")
        #expect(second.log.contains("in use by another tally (pid \(first.pid))"), "\(second.log)")
        _ = try await Self.deliver(1_000, of: "second_dir", to: first)
        #expect(await first.stop() == 0)
    }
}
