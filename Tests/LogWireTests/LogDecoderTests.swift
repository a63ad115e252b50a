import Testing
@testable import LogWire

/// Decodes one line from the logs port.
func decodeLine(_ text: String, config: LogLabelConfig = LogLabelConfig(), truncated: Int = 0) -> DecodedLog {
    decodeBytes(Array(text.utf8), config: config, truncated: truncated)
}

func decodeBytes(_ bytes: [UInt8], config: LogLabelConfig = LogLabelConfig(), truncated: Int = 0) -> DecodedLog {
    var log = DecodedLog()
    bytes.withUnsafeBytes { LogDecoder(config: config).decodeLine($0, truncatedBytes: truncated, into: &log) }
    return log
}

func labels(_ log: DecodedLog) -> [String: String] {
    Dictionary(uniqueKeysWithValues: log.labelPairs.map { ($0.name, $0.value) })
}

func fields(_ log: DecodedLog) -> [String] {
    log.fieldPairs.map { "\($0.name)=\($0.value)" }
}

@Suite("JSON lines")
struct JSONLineTests {
    @Test func generatorLineBecomesLabelsFieldsAndTime() {
        let line = #"{"ts":"2026-11-28T00:00:01.250Z","service":"api","host":"node-03","env":"prod","trace_id":"00ab","level":"info","msg":"request completed","method":"GET","route":"/v1/items","status":200,"duration_ms":21.5,"bytes":1200}"#
        let log = decodeLine(line)
        #expect(log.parseError == nil)
        #expect(log.lineText == line)
        #expect(labels(log) == ["service": "api", "host": "node-03", "env": "prod", "level": "info", "source": "json"])
        #expect(log.labelPairs.map(\.name) == ["env", "host", "level", "service", "source"])
        #expect(fields(log) == ["trace_id=00ab", "msg=request completed", "method=GET", "route=/v1/items", "status=200", "duration_ms=21.5", "bytes=1200"])
        #expect(log.timestamp == 1_795_824_001_250_000_000)
    }

    @Test func nestedObjectsFlattenAndArraysStayJSON() {
        let log = decodeLine(#"{"http":{"status":503,"req":{"path":"/a"}},"tags":["a", 1, {"b":null}],"ok":true,"none":null}"#)
        #expect(log.parseError == nil)
        #expect(fields(log) == ["http_status=503", "http_req_path=/a", #"tags=["a", 1, {"b":null}]"#, "ok=true"])
    }

    @Test func stringsAreUnescaped() {
        let log = decodeLine(#"{"msg":"a\"b\\c\/d\ne\u00e9\ud83d\ude00\ud800x"}"#)
        #expect(log.field("msg") == "a\"b\\c/d\neé😀\u{FFFD}x")
    }

    @Test func keysAreSanitisedAsLokiDoes() {
        let log = decodeLine(#"{"user.id":"7","1st":"x","héllo":"y","@timestamp":"nope"}"#)
        #expect(fields(log) == ["user_id=7", "_1st=x", "h_llo=y", "_timestamp=nope"])
        #expect(log.timestamp == nil)
    }

    @Test(arguments: [
        ("1764288000", Int64(1_764_288_000_000_000_000)),
        ("1764288000.5", 1_764_288_000_500_000_000),
        ("1764288000123", 1_764_288_000_123_000_000),
        ("1764288000123456", 1_764_288_000_123_456_000),
        ("1764288000123456789", 1_764_288_000_123_456_789),
        ("\"1764288000\"", 1_764_288_000_000_000_000),
        ("\"2025-11-28T00:00:00+01:00\"", 1_764_284_400_000_000_000),
        ("\"2025-11-28T00:00:00.123456789Z\"", 1_764_288_000_123_456_789),
    ])
    func timestampUnitIsDetected(_ value: String, _ nanos: Int64) {
        for key in ["ts", "time", "timestamp", "@timestamp"] {
            let log = decodeLine(#"{"\#(key)":\#(value),"msg":"x"}"#)
            #expect(log.timestamp == nanos, "\(key)=\(value)")
            #expect(fields(log) == ["msg=x"])
        }
    }

    /// Times past what Int64 nanoseconds hold are no times (the record takes its
    /// arrival time and keeps the field); `9999999999999999999` once trapped.
    @Test(arguments: [
        "9223372036854775808", "9999999999999999999", "99999999999999999999999", "9223372036854775807.5",
        "92233720368547758.08", "\"9999999999999999999\"",
    ])
    func timesPastInt64AreNoTimes(_ value: String) {
        let log = decodeLine(#"{"ts":\#(value),"msg":"x"}"#)
        #expect(log.timestamp == nil || log.timestamp == Int64.max, "\(value)")
        #expect(log.lineText.contains("msg"))
    }

    @Test func theLargestTimeIsRead() {
        #expect(decodeLine(#"{"ts":9223372036854775807,"msg":"x"}"#).timestamp == Int64.max)
    }

    @Test func unreadableTimeStaysAField() {
        let log = decodeLine(#"{"time":"yesterday","msg":"x"}"#)
        #expect(log.timestamp == nil)
        #expect(fields(log) == ["time=yesterday", "msg=x"])
    }

    @Test(arguments: [
        ("ERROR", "error"), ("err", "error"), ("E", "error"), ("Warning", "warn"), ("WARN", "warn"), ("notice", "info"),
        ("INFO", "info"), ("dbug", "debug"), ("trace", "trace"), ("FATAL", "critical"), ("crit", "critical"),
        ("3", "error"), ("50", "error"), ("30", "info"), ("60", "critical"), ("loud", "unknown"), ("", "unknown"),
    ])
    func levelIsNormalised(_ raw: String, _ level: String) {
        #expect(labels(decodeLine(#"{"level":"\#(raw)"}"#))["level"] == level)
        #expect(labels(decodeLine("lvl=\(raw.isEmpty ? "\"\"" : raw) x=1"))["level"] == level)
    }

    @Test func numericLevelAndSeverityKey() {
        #expect(labels(decodeLine(#"{"level":50}"#))["level"] == "error")
        #expect(labels(decodeLine(#"{"severity":"warning"}"#))["level"] == "warn")
    }

    @Test func recordWithoutLevelIsUnknown() {
        #expect(labels(decodeLine(#"{"msg":"x"}"#)) == ["level": "unknown", "source": "json"])
    }

    @Test func firstOccurrenceIsTheLabelLaterOnesAreFields() {
        let log = decodeLine(#"{"service":"a","service":"b","service":""}"#)
        #expect(labels(log)["service"] == "a")
        #expect(fields(log) == ["service=b", "service="])
    }

    @Test func labelValueOverTheLimitStaysAField() {
        let long = String(repeating: "s", count: 3000)
        let log = decodeLine(#"{"service":"\#(long)"}"#)
        #expect(labels(log)["service"] == nil)
        #expect(log.field("service") == long)
    }

    @Test func configuredLabelFields() {
        let config = LogLabelConfig(labelFields: ["app", "region"])
        let log = decodeLine(#"{"app":"shop","region":"eu","service":"api","level":"error"}"#, config: config)
        #expect(labels(log) == ["app": "shop", "region": "eu", "source": "json"])
        #expect(fields(log) == ["service=api", "level=error"])
    }

    @Test(arguments: [
        (#"{"a":1"#, "unterminated object"),
        (#"{"a":1,}"#, "expected a string key"),
        (#"{"a" 1}"#, "expected ':'"),
        (#"{"a":01}"#, "expected ',' or '}'"),
        (#"{"a":-}"#, "expected a digit"),
        (#"{"a":1.}"#, "expected a digit after '.'"),
        (#"{"a":tru}"#, "expected a value"),
        (#"{"a":"x\q"}"#, "invalid escape"),
        (#"{"a":"\u12"}"#, "expected a hex digit"),
        (#"{"a":"unterminated}"#, "unterminated string"),
        (#"{"a":1} trailing"#, "unexpected text after the object"),
        (#"{"a":[1,2}"#, "expected ',' or ']'"),
        ("{\"a\":\"tab\there\"}", "control character in a string"),
    ])
    func brokenJSONIsKeptRawWithItsError(_ line: String, _ reason: String) {
        let log = decodeLine(line)
        #expect(log.lineText == line)
        #expect(log.parseError?.format == .json)
        #expect(log.parseError?.reason == reason, "\(line)")
        #expect(labels(log) == ["parse_error": "json", "source": "json"])
        #expect(log.fields.isEmpty)
    }

    @Test func errorCarriesTheOffset() {
        let log = decodeLine(#"{"abc":1,"d" 2}"#)
        #expect(log.parseError == LogParseError(format: .json, offset: 13, reason: "expected ':'"))
        #expect(log.parseError?.description == "json: expected ':' at byte 13")
    }

    @Test func deepNestingIsRefusedNotRecursedForever() {
        let deep = String(repeating: #"{"a":"#, count: 100) + "1" + String(repeating: "}", count: 100)
        let log = decodeLine(deep)
        #expect(log.parseError?.reason == "nested deeper than 64")
        let array = #"{"a":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(decodeLine(array).parseError?.reason == "nested deeper than 64")
    }
}

@Suite("logfmt lines")
struct LogfmtLineTests {
    @Test func generatorLine() {
        let line = #"ts=2026-11-28T00:00:01.250Z service=checkout host=node-01 env=prod trace_id=ff level=error msg="upstream timeout after 1200ms calling redis""#
        let log = decodeLine(line)
        #expect(log.parseError == nil)
        #expect(log.lineText == line)
        #expect(labels(log) == ["service": "checkout", "host": "node-01", "env": "prod", "level": "error", "source": "logfmt"])
        #expect(fields(log) == ["trace_id=ff", "msg=upstream timeout after 1200ms calling redis"])
        #expect(log.timestamp == 1_795_824_001_250_000_000)
    }

    @Test func quotingBareKeysAndEquals() {
        let log = decodeLine(#"a="x \"y\" \\ z" flag url=/p?q=1 empty= b="""#)
        #expect(fields(log) == [#"a=x "y" \ z"#, "flag=", "url=/p?q=1", "empty=", "b="])
    }

    @Test(arguments: [
        ("just some words", "no key=value pair", 0),
        (#"a="open"#, "unterminated quoted value", 7),
        (#"a="x"b=1"#, "expected a space after a quoted value", 5),
        (#"k"ey=1"#, #"unexpected '"' in a key"#, 1),
        ("=1", "expected a key before '='", 0),
        (#"a=b"c"#, #"unexpected '"' in a value"#, 3),
    ])
    func notLogfmtIsKeptRaw(_ line: String, _ reason: String, _ offset: Int) {
        let log = decodeLine(line)
        #expect(log.lineText == line)
        #expect(log.parseError == LogParseError(format: .logfmt, offset: offset, reason: reason))
        #expect(labels(log) == ["parse_error": "logfmt", "source": "raw"])
    }
}

@Suite("Line hygiene")
struct LineHygieneTests {
    @Test func invalidUTF8IsReplaced() {
        let log = decodeBytes(Array(#"{"msg":"a"#.utf8) + [0xFF, 0xC3] + Array(#"b"}"#.utf8))
        #expect(log.repairedUTF8)
        #expect(log.parseError == nil)
        #expect(log.field("msg") == "a\u{FFFD}\u{FFFD}b")
        #expect(log.lineText == "{\"msg\":\"a\u{FFFD}\u{FFFD}b\"}")
    }

    @Test func truncatedLineGetsAMarker() {
        let log = decodeLine(#"{"msg":"abc"#, truncated: 4096)
        #expect(log.lineText == #"{"msg":"abc [truncated 4096 bytes]"#)
        #expect(labels(log)["parse_error"] == "json")
        #expect(log.truncatedBytes == 4096)
    }

    @Test func leadingSpaceStillMeansJSON() {
        #expect(labels(decodeLine(#"  {"a":1}"#))["source"] == "json")
    }

    @Test func decoderReusesItsRecord() {
        var log = DecodedLog()
        let decoder = LogDecoder()
        for line in [#"{"service":"a","x":"1"}"#, "service=b y=2", "plain"] {
            Array(line.utf8).withUnsafeBytes { decoder.decodeLine($0, into: &log) }
        }
        #expect(log.lineText == "plain")
        #expect(log.fields.isEmpty)
        #expect(labels(log) == ["parse_error": "logfmt", "source": "raw"])
    }

    @Test func levelSpellingsNeverShareAHash() {
        let hashes = LogLevel.spellings.map { $0.0.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } }
        #expect(Set(hashes).count == hashes.count)
        #expect(LogLevel.byName.count == LogLevel.spellings.count)
    }

    @Test func configProblems() {
        #expect(LogLabelConfig().problem == nil)
        #expect(LogLabelConfig(labelFields: ["bad-name"]).problem == #"log label field "bad-name" is not a valid label name"#)
        #expect(LogLabelConfig(labelFields: (0..<14).map { "l\($0)" }).problem?.hasPrefix("at most 13") == true)
    }
}
