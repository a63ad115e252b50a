import SelfMetrics
import TelemetryModel
import Testing

@Suite("Prometheus text exposition, as tally's /metrics writes it")
struct ExpositionTextTests {
    @Test func samplesComeWithTheirLabelsAndValuesAndCommentsAreSkipped() throws {
        let text = """
        # HELP tally_statsd_received_lines_total Lines received.
        # TYPE tally_statsd_received_lines_total counter
        tally_statsd_received_lines_total{transport="udp"} 14
        tally_heap_in_use_bytes 1.5e+06
        tally_flush_duration_seconds_bucket{le="+Inf",shard="0"} 3

        tally_odd{path="a\\\\b",quote="say \\"hi\\"",line="x\\ny"} NaN 1700000000000
        """
        let samples = try ExpositionText.samples(text)
        #expect(samples.count == 4)
        #expect(samples[0] == .init(labels: Labels(name: "tally_statsd_received_lines_total", ["transport": "udp"]), value: 14))
        #expect(samples[1] == .init(labels: Labels(name: "tally_heap_in_use_bytes"), value: 1_500_000))
        #expect(samples[2].labels == Labels(name: "tally_flush_duration_seconds_bucket", ["le": "+Inf", "shard": "0"]))
        #expect(samples[3].labels == Labels(name: "tally_odd", ["path": #"a\b"#, "quote": #"say "hi""#, "line": "x\ny"]))
        #expect(samples[3].value.isNaN)
        #expect(try ExpositionText.samples("up +Inf")[0].value == .infinity)
    }

    @Test func aMalformedLineIsRefusedWithItsLineAndByte() {
        let cases: [(String, ExpositionText.ParseError)] = [
            ("ok 1\nbad{a=\"1\" 2", .init(line: 2, offset: 10, reason: "expected a label name")),
            ("bad{a=\"1\"", .init(line: 1, offset: 9, reason: "unterminated label set")),
            ("m{a=1} 2", .init(line: 1, offset: 3, reason: "expected =\" after label a")),
            ("m{a=\"x\\q\"} 2", .init(line: 1, offset: 6, reason: "unknown escape \\q")),
            ("m 12abc", .init(line: 1, offset: 2, reason: "not a number: 12abc")),
            ("m", .init(line: 1, offset: 1, reason: "expected a space before the value")),
            ("9m 1", .init(line: 1, offset: 0, reason: "expected a metric name")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected, "\(text)") { try ExpositionText.samples(text) }
        }
    }
}
