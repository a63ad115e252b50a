import BlockCodec
import Foundation
import TallyTestKit
import Testing

/// Logs into `tally serve` from real clients on loopback: util-linux's
/// `logger` (syslog over UDP and TCP), Python's standard `logging` writing
/// JSON lines over TCP, and the `python-logging-loki` package (PyPI) pushing
/// to the Loki API; read back through the Loki API.
@Suite("Logs from real clients, end to end", .serialized)
struct LogIngestEndToEndTests {
    private func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runProcess(executable, arguments)
    }

    private func lines(_ tally: TallyProcess, _ query: String) async throws -> String {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        return try await tally.get("/loki/api/v1/query_range?limit=1000&query=\(encoded)").body
    }

    @Test func loggerPythonLoggingAndALokiClientAreReadBack() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }

        // util-linux logger: RFC 5424 over UDP, over TCP (octet counting), RFC 3164 over UDP.
        let logger = "/usr/bin/logger"
        let port = "\(tally.syslogPort)"
        for arguments in [
            ["--udp", "-t", "payments", "-p", "local0.err", "card declined over udp"],
            ["--tcp", "--octet-count", "-t", "payments", "-p", "local0.warning", "slow provider over tcp"],
            ["--udp", "--rfc3164", "-t", "cron", "-p", "cron.info", "nightly job done"],
        ] {
            let result = try await run(logger, ["--server", "127.0.0.1", "--port", port] + arguments)
            #expect(result.status == 0, "\(result.output)")
        }

        // Python's logging, JSON lines over TCP.
        let python = """
            import json, logging, socket, sys
            class JSONLines(logging.Handler):
                def __init__(self, port):
                    super().__init__()
                    self.sock = socket.create_connection(("127.0.0.1", port))
                def emit(self, record):
                    line = {"ts": record.created, "level": record.levelname, "service": "checkout",
                            "logger": record.name, "msg": record.getMessage(), "status": getattr(record, "status", 0)}
                    self.sock.sendall((json.dumps(line) + "\\n").encode())
                def close(self):
                    self.sock.close()
                    super().close()
            log = logging.getLogger("checkout.api")
            log.setLevel(logging.DEBUG)
            log.addHandler(JSONLines(int(sys.argv[1])))
            log.info("order placed", extra={"status": 201})
            log.error("payment timeout", extra={"status": 504})
            log.warning("retrying payment", extra={"status": 503})
            logging.shutdown()
            """
        let pyLogging = try await run("/usr/bin/env", ["python3", "-c", python, "\(tally.logsPort)"])
        #expect(pyLogging.status == 0, "\(pyLogging.output)")

        // A Loki client from PyPI (installed by .ci/deps).
        let loki = """
            import logging, sys, logging_loki
            handler = logging_loki.LokiHandler(url=sys.argv[1], tags={"service": "inventory"}, version="1")
            log = logging.getLogger("inventory")
            log.addHandler(handler)
            log.error("stock below threshold", extra={"tags": {"env": "ci"}})
            """
        let pushed = try await run("/usr/bin/env", ["python3", "-c", loki, "http://127.0.0.1:\(tally.httpPort)/loki/api/v1/push"])
        #expect(pushed.status == 0, "python-logging-loki is installed by .ci/deps: \(pushed.output)")

        let all = try await tally.waitFor("/loki/api/v1/query_range?limit=1000&query=%7Bsource%3D~%22.%2B%22%7D") { _, body in
            body.contains("card declined") && body.contains("slow provider") && body.contains("nightly job")
                && body.contains("payment timeout") && body.contains("stock below threshold")
        }
        #expect(all.contains(#""service":"payments""#) && all.contains(#""source":"syslog""#))
        #expect(all.contains(#""service":"cron""#))

        let errors = try await lines(tally, #"{level="error"}"#)
        #expect(errors.contains("card declined over udp"), "\(errors)")
        #expect(errors.contains("payment timeout"), "\(errors)")
        #expect(errors.contains("stock below threshold"), "\(errors)")
        #expect(!errors.contains("order placed"), "\(errors)")

        let slow = try await lines(tally, #"{service="checkout"} | status >= 500 | line_format "{{.msg}}""#)
        #expect(slow.contains("payment timeout") && slow.contains("retrying payment") && !slow.contains("order placed"), "\(slow)")

        let loki2 = try await lines(tally, #"{service="inventory", source="loki"}"#)
        #expect(loki2.contains("stock below threshold"), "\(loki2)")

        let counted = try await tally.get("/loki/api/v1/query?query=" + (#"sum by (service) (count_over_time({source=~".+"}[10m]))"#
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")).body
        #expect(counted.contains(#"{"service":"checkout"},"value":["#) && counted.contains(#""3"]"#), "\(counted)")

        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains(#"tally_logs_received_lines_total{listener="syslog_tcp"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"tally_logs_received_lines_total{listener="logs_tcp"} 3"#))
        #expect(await tally.stop() == 0)
    }

    @Test func badLinesAreKeptAndCountedAndLogsSurviveARestart() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        var junk: [UInt8] = Array("{\"msg\": broken json\n".utf8) + Array("plain text, not logfmt\n".utf8)
        junk += Array("service=web msg=\"bad utf8 ".utf8) + [0xFF, 0xFE] + Array("\"\n".utf8)
        junk += Array("service=web msg=".utf8) + Array(repeating: UInt8(ascii: "x"), count: 300_000) + [0x0A]
        try sendTCP(junk, port: tally.logsPort)
        let body = try await tally.waitFor("/loki/api/v1/query_range?limit=100&query=%7Bsource%3D~%22.%2B%22%7D") { _, body in
            body.contains("broken json") && body.contains("plain text") && body.contains("bad utf8") && body.contains("[truncated ")
        }
        #expect(body.contains(#""parse_error":"json""#))
        #expect(body.contains(#""parse_error":"logfmt""#) && body.contains("plain text, not logfmt"))
        #expect(body.contains("bad utf8 \u{FFFD}\u{FFFD}"))
        #expect(body.contains("[truncated "))
        let metrics = try await tally.get("/metrics").body
        #expect(metrics.contains(#"tally_logs_parse_errors_total{format="json"} 1"#))
        #expect(metrics.contains("tally_logs_truncated_lines_total 1"))
        #expect(metrics.contains("tally_logs_invalid_utf8_lines_total 1"))

        // A bad push is refused with a reason.
        let refused = try await tally.post(
            "/loki/api/v1/push", body: Array(#"{"streams":[{"stream":{"bad-name":"x"},"values":[["1","y"]]}]}"#.utf8),
            headers: [("Content-Type", "application/json")])
        #expect(refused.status == 400)
        #expect(refused.body.contains(#"invalid label name "bad-name""#), "\(refused.body)")

        // A DogStatsD event is a log record of its own stream; one tagged as a deployment must carry
        // the deployment's fields, or it is refused and counted.
        let commitTime = Int(Date().timeIntervalSince1970) - 3_600
        try sendUDP(datagram([
            "_e{6,11}:Deploy|api v1.2 ok|t:success|#service:api,version:v1.2,event:deployment,commit_sha:abc123,commit_time:\(commitTime),status:success",
            "_e{6,6}:Deploy|broken|#service:api,event:deployment,version:v9",
        ]), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/events") { _, body in body.contains("Deploy") }
        _ = try await tally.waitFor("/metrics") { _, body in body.contains(#"tally_delivery_events_refused_total{reason="missing_field"} 1"#) }

        // Everything acknowledged is still there after a restart (WAL replay).
        #expect(await tally.stop() == 0)
        let again = try TallyProcess(reusing: tally)
        let after = try await again.waitFor("/loki/api/v1/query_range?limit=100&query=%7Bsource%3D~%22.%2B%22%7D") { _, body in
            body.contains("bad utf8")
        }
        #expect(after.contains("plain text, not logfmt"))
        let events = try await again.get("/api/v1/events").body
        #expect(events.contains(#""title":"Deploy""#) && events.contains(#""version":"v1.2""#), "\(events)")
        let deploys = try await lines(again, #"{source="statsd_event", service="api"} | event="deployment" | line_format "{{.title}} {{.version}}""#)
        #expect(deploys.contains("Deploy v1.2"), "\(deploys)")
        #expect(await again.stop() == 0)
    }

    /// `/loki/api/v1/tail` over a WebSocket, read by a minimal client (RFC 6455 handshake and frames).
    @Test func tailStreamsExistingThenNewLines() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        try sendTCP(Array(#"{"service":"tailme","msg":"before the tail"}\#n"#.utf8), port: tally.logsPort)
        _ = try await tally.waitFor("/loki/api/v1/query_range?query=%7Bservice%3D%22tailme%22%7D") { _, body in body.contains("before the tail") }
        let client = """
            import base64, os, socket, sys, time
            port, logs = int(sys.argv[1]), int(sys.argv[2])
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            key = base64.b64encode(os.urandom(16)).decode()
            path = "/loki/api/v1/tail?query=%7Bservice%3D%22tailme%22%7D&delay_for=0"
            s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: t\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: {key}\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n".encode())
            head = b""
            while b"\\r\\n\\r\\n" not in head:
                head += s.recv(1)
            print(head.split(b"\\r\\n")[0].decode(), flush=True)
            def exact(n):
                out = b""
                while len(out) < n:
                    out += s.recv(n - len(out))
                return out
            def frame():
                b1, b2 = exact(2)
                n = b2 & 0x7F
                if n == 126: n = int.from_bytes(exact(2), "big")
                elif n == 127: n = int.from_bytes(exact(8), "big")
                return exact(n).decode()
            print(frame(), flush=True)
            c = socket.create_connection(("127.0.0.1", logs))
            c.sendall(b'{"service":"tailme","msg":"after the tail"}\\n')
            c.close()
            print(frame(), flush=True)
            """
        let result = try await run("/usr/bin/env", ["python3", "-c", client, "\(tally.httpPort)", "\(tally.logsPort)"])
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.first?.contains(" 101 ") == true, "\(result.output)")
        #expect(lines.count >= 3 && lines[1].contains("before the tail") && lines[1].hasPrefix(#"{"streams":[{"stream":{"#), "\(result.output)")
        #expect(lines.count >= 3 && lines[2].contains("after the tail") && !lines[2].contains("before the tail"), "\(result.output)")
        let refused = try await tally.get("/loki/api/v1/tail?query=sum(rate(%7Ba%3D%22b%22%7D%5B1m%5D))")
        #expect(refused.status == 400 && refused.body.contains("tail needs a log query"), "\(refused.body)")
        #expect(await tally.stop() == 0)
    }

    /// Loki's protobuf push, snappy-compressed, as Promtail and Grafana Alloy send it.
    @Test func aProtobufPushAsPromtailSendsIt() async throws {
        let tally = try TallyProcess()
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let now = UInt64(Date().timeIntervalSince1970)
        let entry = ProtobufWriter.lokiEntry(seconds: now, nanos: 123_456_789, line: "proto line with \"quotes\"", metadata: [("trace_id", "abc123")])
        let stream = ProtobufWriter.lokiStream(#"{job="promtail", service="edge", level="WARN"}"#, [entry]) + ProtobufWriter.number(3, 42)
        let body = Snappy.compress(ProtobufWriter.bytes(1, stream))
        let pushed = try await tally.post("/loki/api/v1/push", body: body, headers: [("Content-Type", "application/x-protobuf")])
        #expect(pushed.status == 204, "\(pushed.body)")
        let got = try await tally.waitFor("/loki/api/v1/query_range?query=%7Bservice%3D%22edge%22%7D") { _, body in body.contains("proto line") }
        #expect(got.contains(#""job":"promtail""#) && got.contains(#""level":"warn""#) && got.contains(#""source":"loki""#), "\(got)")
        #expect(got.contains("\(now)123456789"), "\(got)")
        let traced = try await tally.get("/loki/api/v1/query_range?query=" + (#"{service="edge"} | trace_id="abc123""#
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        #expect(traced.body.contains("proto line"), "\(traced.body)")
        let garbage = try await tally.post("/loki/api/v1/push", body: [1, 2, 3, 4], headers: [("Content-Type", "application/x-protobuf")])
        #expect(garbage.status == 400, "\(garbage.body)")
        #expect(await tally.stop() == 0)
    }
}
