import Foundation
import TallyTestKit
import Testing

/// The shell examples of README.md and docs/, run as printed against a
/// running tally, so that a doc cannot go stale: every ```sh block that
/// talks to tally (curl, nc, logger, the tally CLI) is extracted, its
/// addresses pointed at the test's ports, and run with `set -eo pipefail`;
/// it must exit 0, and where the doc shows an answer, the answer must say
/// the same. Blocks that install, build or need another program (vmagent,
/// an OpenTelemetry exporter) are left to the tests of those paths.
@Suite("Commands in the docs", .serialized)
struct DocCommandsTests {
    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Every ```sh block of a Markdown file.
    static func shellBlocks(_ file: String) throws -> [String] {
        let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.hasPrefix("```sh") {
                current = []
            } else if current != nil, line.hasPrefix("```") {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    /// Whether a block talks to a running tally (and needs nothing else).
    static func talksToTally(_ block: String) -> Bool {
        let needsOther = ["swift build", ".ci/", "vmagent", "OTEL_", "export "].contains { block.contains($0) }
        let talks = ["curl ", "nc ", "logger ", "tally "].contains { block.contains($0) }
        return talks && !needsOther
    }

    /// Runs one block against `tally`, with its addresses and the CLI pointed there.
    static func run(_ block: String, against tally: TallyProcess) async throws -> (status: Int32, output: String) {
        var script = block
        for (from, to) in [
            ("127.0.0.1:9470", "127.0.0.1:\(tally.httpPort)"), ("tally:9470", "127.0.0.1:\(tally.httpPort)"),
            ("127.0.0.1 8125", "127.0.0.1 \(tally.statsdPort)"), ("127.0.0.1 5170", "127.0.0.1 \(tally.logsPort)"),
            ("--port 5514", "--port \(tally.syslogPort)"), (".build/release/tally", "tally"),
        ] {
            script = script.replacingOccurrences(of: from, with: to)
        }
        let prelude = """
            set -eo pipefail
            cd '\(root)'
            VERSION=v1.4
            tally() { '\(try TallyProcess.binaryPath())' "$@" --server http://127.0.0.1:\(tally.httpPort); }

            """
        return try await runProcess("/bin/bash", ["-c", prelude + script])
    }

    @Test func theReadmeExamplesRunAsPrinted() async throws {
        let tally = try TallyProcess()
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let blocks = try Self.shellBlocks("README.md").filter(Self.talksToTally)
        #expect(blocks.count >= 3, "the README's metric, log and event examples")
        var outputs: [String] = []
        for block in blocks {
            let (status, output) = try await Self.run(block, against: tally)
            #expect(status == 0, "exit \(status):\n\(block)\n---\n\(output)")
            #expect(!output.contains(#""status":"error""#), "\(block)\n---\n\(output)")
            outputs.append(output)
        }
        let all = outputs.joined(separator: "\n")
        // What the README says the answers are.
        #expect(all.contains(#""env":"prod","region":"eu"},"value":["#) && all.contains(#","6"]}]}}"#), "3 at @0.5 counts 6:\n\(all)")
        #expect(all.contains(#"{"metric":{"quantile":"0.99"},"value":["#), "the timer's quantiles:\n\(all)")
        #expect(all.contains(#""__name__":"queue_depth"},"values":[["#), "\(all)")
        #expect(all.contains("upstream timeout"), "the JSON log line is read back:\n\(all)")
        #expect(all.contains(#""accepted":1"#), "the deploy event is taken:\n\(all)")
        #expect(all.contains("Deployment frequency"), "the report prints:\n\(all)")
    }

    @Test func thePromQLDocExamplesRunAsPrinted() async throws {
        let tally = try TallyProcess()
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        try sendTCP(Array("doc.example:1|c\n".utf8), port: tally.statsdPort)
        _ = try await tally.waitFor("/api/v1/status/tsdb") { _, body in body.contains("doc_example_total") }
        let blocks = try Self.shellBlocks("docs/promql.md").filter(Self.talksToTally)
        #expect(blocks.count == 1)
        for block in blocks {
            let (status, output) = try await Self.run(block, against: tally)
            #expect(status == 0, "\(block)\n---\n\(output)")
            #expect(output.contains(#"{"status":"success","data":{"headStats":{"numSeries":1,"#), "\(output)")
            #expect(output.contains(#""seriesCountByMetricName":[{"name":"doc_example_total","value":1}]"#), "\(output)")
        }
    }

    @Test func theEventExamplesRunAsPrinted() async throws {
        let tally = try TallyProcess()
        defer { Task { _ = await tally.stop() } }
        _ = try await tally.waitFor("/readyz") { status, _ in status == 200 }
        let blocks = try Self.shellBlocks("docs/events.md").filter(Self.talksToTally)
        #expect(blocks.count == 1)
        for block in blocks {
            let (status, output) = try await Self.run(block, against: tally)
            #expect(status == 0, "\(block)\n---\n\(output)")
            // The doc shows one answer accepted and one refused, with these words.
            #expect(output.contains(#"{"status":"success","data":{"accepted":1}}"#), "\(output)")
            #expect(output.contains(#""error":"events[0].commit_time: missing""#), "\(output)")
        }
    }

    /// Every ```sh block of README.md and docs/ is either run by a test of this suite (it talks
    /// to tally and its file has a test above) or is listed here with what runs it instead, so
    /// a new example cannot stay unrun.
    @Test func everyShellBlockIsRunOrAccountedFor() throws {
        let runHere: Set<String> = ["README.md", "docs/events.md", "docs/promql.md"]
        // The first line of each block run elsewhere, and where.
        let runElsewhere = [
            "# 1. install what is missing, build in release mode, run the collector on the embedded defaults":
                "the install-and-test commands: `.ci/run` runs the second, CI runs it on a clean clone",
            "export OTEL_EXPORTER_OTLP_ENDPOINT=http://tally-host:4318": "an SDK's settings, not a command: OTLPReceiverTests sends what an SDK sends",
            "# vmagent": "another program's flags: RemoteWriteFromPrometheusTests takes remote_write from a real Prometheus, as from vmagent",
        ]
        let docs = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/docs").filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        var unaccounted: [String] = []
        for file in ["README.md"] + docs.sorted() {
            for block in try Self.shellBlocks(file) {
                let first = String(block.split(separator: "\n").first ?? "")
                if Self.talksToTally(block), runHere.contains(file) { continue }
                if runElsewhere[first] != nil { continue }
                unaccounted.append("\(file): \(first)")
            }
        }
        #expect(unaccounted.isEmpty, "shell examples no test runs: \(unaccounted)")
    }
}
