import TallyTestKit
import Testing
@testable import LogWire

/// Whatever arrives on a logs or syslog port is kept (as a record, or a raw line
/// with a parse-error label) or refused: the decoders never crash on it.
@Suite("Log decoders on damaged input")
struct DecoderGarbageTests {
    static let lines = [
        #"{"ts":"2026-11-28T08:12:03.101Z","service":"payments","level":"info","msg":"ok \"q\" \u00e9","n":[1,{"a":null}],"t":1.5e3}"#,
        #"ts=1764400000123 service=api level=ERR msg="upstream \"x\" timeout" took=2.5s empty= flag"#,
        "<131>1 2026-11-28T00:00:01.250Z node-03 payments 42 ID7 [meta trace_id=\"00ab\" x=\"a\\\"b\"][y@1 z=\"\"] \u{FEFF}payment declined",
        "<13>Nov 29 10:15:02 box alice[4242]: hello world",
    ]

    @Test(arguments: lines.indices)
    func damagedLinesDecodeOrCarryAParseError(_ index: Int) {
        var mutator = Mutator(seed: UInt64(index) + 7007)
        var log = DecodedLog()
        let decoder = LogDecoder()
        for round in 0..<10_000 {
            let bytes = round % 10 == 9 ? mutator.garbage(maxCount: 300) : mutator.mutate(Array(Self.lines[index].utf8))
            bytes.withUnsafeBytes { raw in
                decoder.decodeLine(raw, into: &log)
                // A record always keeps its line, repaired to valid UTF-8.
                #expect(log.lineText.utf8.count <= raw.count * 3 + 64)
                decoder.decodeSyslog(raw, now: syslogNow, into: &log)
                _ = RecordTimestamp.nanoseconds(raw)
                _ = LogLevel(text: raw)
            }
        }
    }
}
