import Foundation
import TallyTestKit
import Testing

/// The web config on a running `tally serve`, checked with curl: credentials
/// and scopes, TLS and mutual TLS with certificates openssl makes, and
/// reloads that keep open connections.
@Suite("Web config: credentials, scopes, TLS", .serialized)
struct WebConfigTests {
    static let token = "ci-token-4f1e9a"

    /// Runs curl and returns the status code it printed last and the whole output
    /// (status 0 when no HTTP answer came back, as curl's `%{http_code}`).
    static func curl(_ arguments: [String]) async throws -> (code: Int, output: String, exit: Int32) {
        let result = try await runProcess("/usr/bin/curl", ["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}"] + arguments)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, result.output, result.status)
    }

    /// A password hashed by `tally hash-password` and one by htpasswd (`$2y$`, as Prometheus's docs make them).
    static func hashes() async throws -> (tally: String, htpasswd: String?) {
        let made = try await runProcess(try TallyProcess.binaryPath(), ["hash-password", "--cost", "6"], input: "hunter2\n")
        #expect(made.status == 0, "\(made.output)")
        var htpasswd: String?
        if FileManager.default.fileExists(atPath: "/usr/bin/htpasswd") {
            let line = try await runProcess("/usr/bin/htpasswd", ["-nbBC", "6", "", "correct horse"]).output
            htpasswd = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").last.map(String.init)
        }
        return (made.output.trimmingCharacters(in: .whitespacesAndNewlines), htpasswd)
    }

    static func sha256(_ text: String) async throws -> String {
        let out = try await runProcess("/usr/bin/sha256sum", [], input: text).output
        return String(out.prefix(64))
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path + ".tmp", atomically: false, encoding: .utf8)
        _ = rename(path + ".tmp", path)
    }

    @Test func credentialsAndScopesDecideEveryEndpointAndHealthChecksStayOpen() async throws {
        let (hash, htpasswdHash) = try await Self.hashes()
        let scratch = try TemporaryDirectory(prefix: "tally-web")
        defer { scratch.remove() }
        let directory = scratch.path
        let webConfig = directory + "/web.yml"
        try Self.write("""
            basic_auth_users:
              alice: \(hash)
              reader: \(hash)
            \(htpasswdHash.map { "  carol: \($0)" } ?? "")
            basic_auth_scopes:
              reader: [read]
            bearer_tokens:
              - {name: ci, sha256: \(try await Self.sha256(Self.token)), scopes: [write]}
            http_server_config:
              headers: {X-Frame-Options: deny}
            """, to: webConfig)
        let tally = try TallyProcess(extraArguments: ["--web-config", webConfig])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let base = "http://127.0.0.1:\(tally.httpPort)"

        // No credentials: 401 with the challenges and the error JSON; health checks open.
        let bare = try await Self.curl(["-i", base + "/api/v1/labels"])
        #expect(bare.code == 401)
        #expect(bare.output.contains(#"WWW-Authenticate: Basic realm="tally""#), "\(bare.output)")
        #expect(bare.output.contains(#"Bearer realm="tally""#))
        #expect(bare.output.contains(#"{"status":"error","errorType":"unauthorized","error":"credentials are required"}"#))
        #expect(bare.output.contains("X-Frame-Options: deny"))
        #expect(try await Self.curl([base + "/healthz"]).code == 200)
        #expect(try await Self.curl([base + "/readyz"]).code == 200)
        #expect(try await Self.curl([base + "/metrics"]).code == 401)
        #expect(try await Self.curl([base + "/no/such/path"]).code == 401, "a path's existence is not told without credentials")

        // Wrong password, unknown user, unknown token, malformed header: 401.
        #expect(try await Self.curl(["-u", "alice:wrong", base + "/api/v1/labels"]).code == 401)
        #expect(try await Self.curl(["-u", "mallory:hunter2", base + "/api/v1/labels"]).code == 401)
        #expect(try await Self.curl(["-H", "Authorization: Bearer nope", base + "/api/v1/labels"]).code == 401)
        #expect(try await Self.curl(["-H", "Authorization: Basic %%%", base + "/api/v1/labels"]).code == 401)

        // Every scope for a user without basic_auth_scopes; only read for reader; only write for the token.
        #expect(try await Self.curl(["-u", "alice:hunter2", base + "/api/v1/labels"]).code == 200)
        #expect(try await Self.curl(["-u", "alice:hunter2", base + "/metrics"]).code == 200)
        if htpasswdHash != nil {
            #expect(try await Self.curl(["-u", "carol:correct horse", base + "/api/v1/labels"]).code == 200, "htpasswd's $2y$ hashes")
        }
        #expect(try await Self.curl(["-u", "reader:hunter2", base + "/api/v1/query?query=up"]).code == 200)
        // The client subcommands carry credentials from files.
        try "hunter2\n".write(toFile: directory + "/password", atomically: true, encoding: .utf8)
        let binary = try TallyProcess.binaryPath()
        let viaCLI = try await runProcess(binary, ["query", "vector(7)", "--server", base, "--user", "reader", "--password-file", directory + "/password"])
        #expect(viaCLI.status == 0 && viaCLI.output.contains("7"), "\(viaCLI.output)")
        let refusedCLI = try await runProcess(binary, ["query", "vector(7)", "--server", base])
        #expect(refusedCLI.status == 1 && refusedCLI.output.contains("credentials are required"), "\(refusedCLI.output)")
        let committed = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3_600))
        let event = #"[{"event":"deployment","service":"api","version":"v3","commit_sha":"a3","commit_time":"\#(committed)","status":"success"}]"#
        let forbidden = try await Self.curl(["-u", "reader:hunter2", "-XPOST", "-H", "Content-Type: application/json", "-d", event, base + "/api/v1/events"])
        #expect(forbidden.code == 403)
        #expect(forbidden.output.contains(#""errorType":"forbidden""#) && forbidden.output.contains("write scope"), "\(forbidden.output)")
        let bearer = ["-H", "Authorization: Bearer \(Self.token)"]
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let posted = try await Self.curl(bearer + ["-XPOST", "-H", "Content-Type: application/json", "-d", event, base + "/api/v1/events"])
        #expect(posted.code == 200, "\(posted.output)")
        #expect(try await Self.curl(bearer + [base + "/api/v1/events"]).code == 403, "reading events needs read")
        #expect(try await Self.curl(bearer + ["-XPOST", "-H", "Content-Type: application/json", "-d",
                                        #"{"streams":[{"stream":{"job":"t"},"values":[["\#(now)","x"]]}]}"#, base + "/loki/api/v1/push"]).code == 204)

        // The OTLP listener and the tail WebSocket ask for the same credentials.
        #expect(try await Self.curl(["-XPOST", "-H", "Content-Type: application/json", "-d", "{}", "http://127.0.0.1:\(tally.otlpPort)/v1/logs"]).code == 401)
        #expect(try await Self.curl(bearer + ["-XPOST", "-H", "Content-Type: application/json", "-d", "{}", "http://127.0.0.1:\(tally.otlpPort)/v1/logs"]).code == 200)
        let upgrade = ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
                       "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", base + "/loki/api/v1/tail?query=%7Bjob%3D%22t%22%7D"]
        // A refused upgrade could only be an empty 400: the socket is upgraded and closed with 1008 and the reason.
        let refusedTail = try await Self.curl(["--max-time", "2", "-o", directory + "/tail.bin"] + upgrade)
        #expect(refusedTail.code == 101)
        let frame = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/tail.bin"))) ?? Data()
        #expect(frame.prefix(4) == Data([0x88, UInt8(frame.count - 2), 0x03, 0xF0]), "a close frame with 1008: \(Array(frame))")
        #expect(String(decoding: frame.dropFirst(4), as: UTF8.self) == "unauthorized: credentials with the read scope are required")
        #expect(try await Self.curl(["-u", "reader:hunter2", "--max-time", "2"] + upgrade).code == 101, "read may tail")

        // Reload is admin's.
        #expect(try await Self.curl(["-u", "reader:hunter2", "-XPOST", base + "/-/reload"]).code == 403)
        #expect(try await Self.curl(["-u", "alice:hunter2", "-XPOST", base + "/-/reload"]).code == 200)

        let metrics = try await Self.curl(["-u", "alice:hunter2", base + "/metrics"]).output
        #expect(metrics.contains(#"tally_http_requests_refused_total{reason="missing_credentials"} 5"#), "\(metrics)")
        #expect(metrics.contains(#"tally_http_requests_refused_total{reason="missing_scope"} 3"#))
        #expect(metrics.contains(#"tally_web_config_reloads_total{result="success"} 1"#))
        #expect(await tally.stop() == 0)
    }

    @Test func aReloadAppliesToTheNextRequestOnAnOpenConnectionAndABadFileKeepsTheOldConfig() async throws {
        let (hash, _) = try await Self.hashes()
        let scratch = try TemporaryDirectory(prefix: "tally-web")
        defer { scratch.remove() }
        let directory = scratch.path
        let webConfig = directory + "/web.yml"
        try Self.write("basic_auth_users:\n  alice: \(hash)\n", to: webConfig)
        let tally = try TallyProcess(extraArguments: ["--web-config", webConfig])
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let base = "http://127.0.0.1:\(tally.httpPort)"
        let alice = "Basic " + Data("alice:hunter2".utf8).base64EncodedString()

        // A keep-alive connection opened under the first config...
        let go = directory + "/go"
        let client = try Self.startKeepAlive(["127.0.0.1", "\(tally.httpPort)", "/api/v1/labels", alice, go])
        try await Self.waitForLine(client.output, count: 1)
        // ...outlives a change of the file: alice gone, bob in, metrics open.
        try Self.write("basic_auth_users:\n  bob: \(hash)\nmetrics_open: true\n", to: webConfig)
        try await Self.waitUntil { try await Self.curl(["-u", "bob:hunter2", base + "/api/v1/labels"]).code == 200 }
        try alice.write(toFile: go, atomically: true, encoding: .utf8)
        client.process.waitUntilExit()
        let lines = String(decoding: client.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines == ["200", "401 same-connection"], "the open connection carried on under the new config: \(lines)")
        #expect(try await Self.curl([base + "/metrics"]).code == 200, "metrics_open")

        // A broken file is refused, logged and counted; bob still gets in.
        try Self.write("basic_auth_users:\n  bob: not-a-hash\n", to: webConfig)
        try await Self.waitUntil { tally.log.contains("web config not reloaded") }
        #expect(tally.log.contains("expected a bcrypt hash"), "\(tally.log)")
        #expect(try await Self.curl(["-u", "bob:hunter2", base + "/api/v1/labels"]).code == 200)
        let metrics = try await Self.curl([base + "/metrics"]).output
        #expect(metrics.contains("tally_web_config_last_reload_successful 0"), "\(metrics)")
        #expect(metrics.contains(#"tally_web_config_reloads_total{result="failure"} 1"#))

        // SIGHUP reads the files again at once (still broken: refused again, bob still in).
        kill(tally.pid, SIGHUP)
        try await Self.waitUntil { tally.log.contains("reason=SIGHUP") }
        #expect(tally.isRunning)
        #expect(try await Self.curl(["-u", "bob:hunter2", base + "/api/v1/labels"]).code == 200)
        #expect(await tally.stop() == 0)
    }

    @Test func tlsAndMutualTLSWithCertificatesMadeByOpenSSLAndACertificateRotatedInPlace() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-tls")
        defer { scratch.remove() }
        let directory = scratch.path
        let pki = try TestPKI(serverAndClientIn: directory)
        try pki.authority("rogue")
        try pki.certificate("rogue-client", signedBy: "rogue")
        try Self.write("""
            tls_server_config:
              cert_file: server.pem
              key_file: server.key
              client_ca_file: ca.pem
              min_version: TLS12
            """, to: directory + "/web.yml")
        let tally = try TallyProcess(extraArguments: ["--web-config", directory + "/web.yml"])
        defer { Task { _ = await tally.stop() } }
        let https = "https://127.0.0.1:\(tally.httpPort)"
        let trust = ["--cacert", directory + "/ca.pem"]
        let me = ["--cert", directory + "/client.pem", "--key", directory + "/client.key"]
        try await Self.waitUntil { try await Self.curl(trust + me + [https + "/readyz"]).code == 200 }

        // A client CA alone asks for a verified client certificate (as Prometheus).
        #expect(try await Self.curl(trust + me + [https + "/api/v1/labels"]).code == 200)
        #expect(try await Self.curl(trust + [https + "/api/v1/labels"]).code == 0, "no client certificate: no handshake")
        #expect(try await Self.curl(trust + ["--cert", directory + "/rogue-client.pem", "--key", directory + "/rogue-client.key",
                                       https + "/api/v1/labels"]).code == 0, "a certificate the client CA did not sign")
        #expect(try await Self.curl(["http://127.0.0.1:\(tally.httpPort)/healthz"]).code == 0, "plain HTTP on the TLS port")
        #expect(try await Self.curl(trust + me + ["--tls-max", "1.1", https + "/healthz"]).code == 0, "below min_version")
        #expect(try await Self.curl(trust + me + ["https://127.0.0.1:\(tally.otlpPort)/healthz"]).code == 200, "OTLP speaks TLS too")
        let viaCLI = try await runProcess(try TallyProcess.binaryPath(), [
            "query", "vector(7)", "--server", https, "--ca-file", directory + "/ca.pem",
            "--cert-file", directory + "/client.pem", "--key-file", directory + "/client.key",
        ])
        #expect(viaCLI.status == 0 && viaCLI.output.contains("7"), "tally query over mutual TLS: \(viaCLI.output)")
        #expect(!tally.log.contains("error"), "failed handshakes are not errors of tally's: \(tally.log)")

        // A connection opened now survives the rotation below.
        let go = directory + "/go"
        let client = try Self.startKeepAlive(["127.0.0.1", "\(tally.httpPort)", "/api/v1/labels", "-", go,
                                              directory + "/ca.pem", directory + "/client.pem", directory + "/client.key"])
        try await Self.waitForLine(client.output, count: 1)

        // The certificate is renewed in place by a new authority: new connections get it.
        try pki.authority("ca2")
        try pki.certificate("server2", signedBy: "ca2", subjectAltName: "DNS:localhost,IP:127.0.0.1")
        _ = rename(directory + "/server2.key", directory + "/server.key")
        _ = rename(directory + "/server2.pem", directory + "/server.pem")
        try await Self.waitUntil { try await Self.curl(["--cacert", directory + "/ca2.pem"] + me + [https + "/healthz"]).code == 200 }
        #expect(try await Self.curl(trust + me + [https + "/healthz"]).code == 0, "the old certificate is no longer served")
        try "-".write(toFile: go, atomically: true, encoding: .utf8)
        client.process.waitUntilExit()
        let lines = String(decoding: client.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines == ["200", "200 same-connection"], "\(lines)")

        // A key that does not match is refused; the renewed pair stays in force.
        try pki.authority("other")
        _ = rename(directory + "/other.key", directory + "/server.key")
        try await Self.waitUntil { tally.log.contains("web config not reloaded") }
        #expect(try await Self.curl(["--cacert", directory + "/ca2.pem"] + me + [https + "/healthz"]).code == 200)
        #expect(await tally.stop() == 0)
    }

    @Test func statsdAndSyslogOverTLSWithTheWebConfigsCertificate() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-tls")
        defer { scratch.remove() }
        let directory = scratch.path
        _ = try TestPKI(serverAndClientIn: directory)
        try Self.write("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: ca.pem\n", to: directory + "/web.yml")
        try Self.write("statsd:\n  tcp_tls: true\nlogs:\n  tcp_tls: true\n", to: directory + "/tally.yaml")
        let tally = try TallyProcess(extraArguments: ["--web-config", directory + "/web.yml", "--config", directory + "/tally.yaml"])
        defer { Task { _ = await tally.stop() } }
        let https = "https://127.0.0.1:\(tally.httpPort)"
        let client = ["--cacert", directory + "/ca.pem", "--cert", directory + "/client.pem", "--key", directory + "/client.key"]
        try await Self.waitUntil { try await Self.curl(client + [https + "/readyz"]).code == 200 }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Stubs/tls_send.py").path
        func send(_ port: Int, _ text: String) async throws -> String {
            try await runProcess("/usr/bin/env", ["python3", script, "127.0.0.1", "\(port)", directory + "/ca.pem",
                                            directory + "/client.pem", directory + "/client.key", text]).output
        }
        #expect(try await send(tally.statsdPort, "tls_counter:5|c\\ntls_counter:2|c\\n") == "sent\n")
        // RFC 5425: each message preceded by its length.
        let message = "<165>1 - host app 1 - - over tls"
        #expect(try await send(tally.syslogPort, "\(message.utf8.count) \(message)") == "sent\n")
        // Plain TCP to the TLS port stores nothing.
        try sendTCP(Array("tls_counter:100|c\n".utf8), port: tally.statsdPort)
        try await Self.waitUntil {
            try await Self.curl(client + [https + "/api/v1/query?query=tls_counter_total"]).output.contains(#""7""#)
        }
        try await Self.waitUntil {
            try await Self.curl(client + ["--get", "--data-urlencode", #"query={source="syslog"}"#, https + "/loki/api/v1/query_range"]).output
                .contains("over tls")
        }
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.curl(client + [https + "/api/v1/query?query=tls_counter_total"]).output.contains(#""7""#), "the plain line was not read")
        #expect(await tally.stop() == 0)

        // tcp_tls without a certificate in the web config stops tally at start.
        try Self.write("statsd:\n  tcp_tls: true\n", to: directory + "/plain.yaml")
        let refused = try TallyProcess(extraArguments: ["--config", directory + "/plain.yaml"])
        #expect(await refused.waitForExit(timeout: .seconds(20)) == 1)
        #expect(refused.log.contains("statsd.tcp_tls: TLS takes its certificate from the web config's tls_server_config"), "\(refused.log)")
    }

    @Test func withoutAWebConfigSIGHUPDoesNotStopTally() async throws {
        let tally = try TallyProcess()
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        kill(tally.pid, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(tally.isRunning)
        #expect(try await tally.get("/healthz").status == 200)
        #expect(await tally.stop() == 0)
    }

    @Test func aWebConfigThatDoesNotLoadStopsTallyWithOneLineBeforeAnyStoreOpens() async throws {
        let scratch = try TemporaryDirectory(prefix: "tally-web")
        defer { scratch.remove() }
        let directory = scratch.path
        try Self.write("basic_auth_users:\n  alice: $2y$10$short\n", to: directory + "/web.yml")
        let tally = try TallyProcess(extraArguments: ["--web-config", directory + "/web.yml"])
        #expect(await tally.waitForExit(timeout: .seconds(20)) == 1)
        #expect(tally.log == "tally: error: web config: \(directory)/web.yml:2: basic_auth_users.alice: expected a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters), as `tally hash-password` prints\n",
                "\(tally.log)")
        #expect(!FileManager.default.fileExists(atPath: tally.directory + "/data/wal"))
    }

    // MARK: helpers

    static func startKeepAlive(_ arguments: [String]) throws -> (process: Process, output: Pipe) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Stubs/keepalive_client.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, pipe)
    }

    /// Waits until the pipe's reader has at least `count` lines available, without consuming them.
    static func waitForLine(_ pipe: Pipe, count: Int) async throws {
        // The script prints its first status and then waits; give it time to connect.
        try await waitUntil { Self.bytesAvailable(pipe) > 0 }
    }

    static func bytesAvailable(_ pipe: Pipe) -> Int {
        var available: Int32 = 0
        _ = ioctl(pipe.fileHandleForReading.fileDescriptor, UInt(FIONREAD), &available)
        return Int(available)
    }

    static func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out")
    }
}

/// Certificates for one test, made by openssl: self-signed authorities and
/// the certificates they sign, as `NAME.pem` and `NAME.key` in `directory`.
struct TestPKI {
    let directory: String

    init(directory: String) {
        self.directory = directory
    }

    /// An authority `ca` and the `server` (for localhost and 127.0.0.1) and `client` certificates it signs.
    init(serverAndClientIn directory: String) throws {
        self.directory = directory
        try authority("ca")
        try certificate("server", signedBy: "ca", subjectAltName: "DNS:localhost,IP:127.0.0.1")
        try certificate("client", signedBy: "ca")
    }

    func authority(_ name: String) throws {
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                 "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).pem", "-subj", "/CN=\(name)"])
    }

    func certificate(_ name: String, signedBy issuer: String, subjectAltName: String? = nil) throws {
        try run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", "/CN=\(name)"])
        var sign = ["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/\(issuer).pem",
                    "-CAkey", "\(directory)/\(issuer).key", "-CAcreateserial", "-days", "2", "-out", "\(directory)/\(name).pem"]
        if let subjectAltName {
            try "subjectAltName=\(subjectAltName)\n".write(toFile: "\(directory)/\(name).ext", atomically: true, encoding: .utf8)
            sign += ["-extfile", "\(directory)/\(name).ext"]
        }
        try run(sign)
    }

    private func run(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw TestPKIError(description: "openssl \(arguments.joined(separator: " ")): \(result.output)") }
    }
}

struct TestPKIError: Error, CustomStringConvertible {
    var description: String
}
