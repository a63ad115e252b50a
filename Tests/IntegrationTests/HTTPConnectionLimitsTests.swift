import Foundation
import TallyTestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `http.max_connections` and `http.idle_timeout` against a running tally,
/// over raw sockets so that the client holds connections open as it pleases.
@Suite("HTTP connection limits")
struct HTTPConnectionLimitsTests {
    @Test func idleConnectionsAreClosedAfterTheTimeout() async throws {
        let config = try ConfigFile("http:\n  idle_timeout: 1s\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let connection = try RawConnection(port: tally.httpPort)
        connection.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        #expect(connection.receive(waiting: 5).hasPrefix("HTTP/1.1 200"))
        // Kept alive, then idle: the server closes it (the read sees the end).
        #expect(connection.waitForClose(within: 5))
        #expect(await tally.stop() == 0)
    }

    /// A stop does not wait for connections with no request under way: one
    /// that connected and sent nothing, one halfway through a request head,
    /// and a keep-alive one idle after its answer all close at once (the
    /// first two used to hold the stop for the 30 s header timeout).
    @Test func aStopClosesConnectionsWithNoRequestUnderWay() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let silent = try RawConnection(port: tally.httpPort)
        let partial = try RawConnection(port: tally.httpPort)
        partial.send("GET /healthz HTTP/1.1\r\nHost: ta")
        let kept = try RawConnection(port: tally.httpPort)
        kept.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        #expect(kept.receive(waiting: 5).hasPrefix("HTTP/1.1 200"))
        // The server has read the partial head before the stop begins.
        try await Task.sleep(for: .milliseconds(300))
        #expect(await tally.stop(timeout: .seconds(60)) == 0)
        #expect(silent.waitForClose(within: 1) && partial.waitForClose(within: 1) && kept.waitForClose(within: 1))
        // Not cut off by the 10 s grace after which the server closes what is left, with a warning.
        #expect(!tally.log.contains("grace period"), "\(tally.log)")
    }

    /// Past `max_connections` tally stops accepting: a new connection waits,
    /// unanswered, until open ones close. (The count is checked per accept
    /// batch, so a burst can pass the limit by a few; the test allows that.)
    @Test func connectionsBeyondTheLimitWaitUntilOthersClose() async throws {
        let config = try ConfigFile("http:\n  max_connections: 2\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        var served: [RawConnection] = []
        var waiting: RawConnection?
        for _ in 0..<8 {
            let connection = try RawConnection(port: tally.httpPort)
            connection.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
            guard connection.receive(waiting: 3).hasPrefix("HTTP/1.1 200") else {
                waiting = connection
                break
            }
            served.append(connection)
        }
        let blocked = try #require(waiting, "eight connections were all served under max_connections: 2")
        #expect(served.count >= 1 && served.count <= 4)
        for connection in served { connection.close() }
        #expect(blocked.receive(waiting: 10).hasPrefix("HTTP/1.1 200"))
        #expect(await tally.stop() == 0)
    }

    /// Slowloris: clients that take every connection tally allows and trickle
    /// heads a byte at a time give way while the listener is full (a head
    /// arriving for a second or more is closed to make room), long before
    /// `read_header_timeout`, so everyone else is still served; a keep-alive
    /// connection idle between requests is never the one closed.
    @Test func slowHeadsGiveWayWhenTheListenerIsFull() async throws {
        let config = try ConfigFile("http:\n  max_connections: 8\n  read_header_timeout: 5m\n  idle_timeout: 5m\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        // A keep-alive connection, served once, then idle while the listener fills up.
        let keptAlive = try RawConnection(port: tally.httpPort)
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        #expect(keptAlive.receive(waiting: 5).hasPrefix("HTTP/1.1 200"))
        // Twenty slow clients, more than the eight connections allowed, each sending part of a head.
        var slow: [RawConnection] = []
        for _ in 0..<20 {
            let connection = try RawConnection(port: tally.httpPort)
            connection.send("GET /api/v1/labels HTTP/1.1\r\nHost: ta")
            slow.append(connection)
        }
        try await Task.sleep(for: .milliseconds(500))
        for connection in slow { connection.send("l") }
        // A well-behaved client is answered, though the header timeout is five minutes away.
        let answer = try await runProcess("/usr/bin/curl", ["-s", "--max-time", "20", "http://127.0.0.1:\(tally.httpPort)/healthz"]).output
        #expect(answer == "ok\n")
        #expect(slow[0].waitForClose(within: 10), "the oldest slow head gave way")
        keptAlive.send("GET /metrics HTTP/1.1\r\nHost: tally\r\n\r\n")
        let scrape = keptAlive.receive(waiting: 5)
        #expect(scrape.hasPrefix("HTTP/1.1 200"), "the idle keep-alive connection was kept")
        for connection in slow { connection.close() }
        let metrics = try await tally.get("/metrics").body
        #expect(value(of: #"tally_http_slow_request_heads_closed_total{listener="http",reason="displaced"}"#, in: metrics) >= 7)
        #expect(value(of: #"tally_http_slow_request_heads_closed_total{listener="http",reason="read_header_timeout"}"#, in: metrics) == 0)
        #expect(await tally.stop() == 0)
    }

    /// A head not whole within `read_header_timeout` closes its connection and
    /// is counted; a keep-alive connection idle for longer than the timeout
    /// between requests is not cut off by it.
    @Test func aHeadNotWholeWithinTheTimeoutIsClosedAndCounted() async throws {
        let config = try ConfigFile("http:\n  read_header_timeout: 1s\n  idle_timeout: 1m\n")
        let tally = try TallyProcess(extraArguments: ["--config", config.path])
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let keptAlive = try RawConnection(port: tally.httpPort)
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        #expect(keptAlive.receive(waiting: 5).hasPrefix("HTTP/1.1 200"))
        let slow = try RawConnection(port: tally.httpPort)
        slow.send("GET /api/v1/labels HTTP/1.1\r\nHost: ta")
        #expect(slow.waitForClose(within: 5), "a slow head is cut off")
        try await Task.sleep(for: .milliseconds(200))
        keptAlive.send("GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        #expect(keptAlive.receive(waiting: 5).hasPrefix("HTTP/1.1 200"))
        let metrics = try await tally.get("/metrics").body
        #expect(value(of: #"tally_http_slow_request_heads_closed_total{listener="http",reason="read_header_timeout"}"#, in: metrics) == 1)
        #expect(value(of: #"tally_http_connections{listener="http"}"#, in: metrics) >= 1)
        #expect(await tally.stop() == 0)
    }
}

private struct ConnectFailed: Error {
    let port: Int
    let errno: Int32
}

/// A blocking TCP connection to 127.0.0.1, closed when released.
final class RawConnection {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw ConnectFailed(port: port, errno: errno)
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What arrives within `seconds` (empty when nothing does).
    func receive(waiting seconds: Double) -> String {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, Int32(seconds * 1000)) == 1 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
    }

    /// Whether the peer closes the connection within `seconds`.
    func waitForClose(within seconds: Double) -> Bool {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, Int32(seconds * 1000)) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) <= 0
    }
}
