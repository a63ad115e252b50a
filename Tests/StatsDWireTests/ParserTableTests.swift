import Testing
import TelemetryModel
@testable import StatsDWire

/// Parses a literal wire line and returns the outcome with the line's bytes kept alive.
func parse(_ line: String, maxNameLength: Int = 1024) -> (StatsDLineOutcome, [UInt8]) {
    let bytes = Array(line.utf8)
    let outcome = bytes.withUnsafeBytes { StatsDParser(maxNameLength: maxNameLength).parse($0, now: 1_000) }
    return (outcome, bytes)
}

func parseBytes(_ bytes: [UInt8]) -> StatsDLineOutcome {
    bytes.withUnsafeBytes { StatsDParser().parse($0, now: 1_000) }
}

struct Expect: Sendable, CustomStringConvertible {
    var line: String
    var name: String
    var kind: MetricKind
    var values: [Double]
    var rate: Double = 1
    var tags: String = ""
    var delta: Bool = false
    var timestamp: Int64? = nil
    var description: String { line }
}

@Suite("StatsD parser: accepted lines")
struct AcceptedLineTests {
    static let table: [Expect] = [
        Expect(line: "a:1|c", name: "a", kind: .counter, values: [1]),
        Expect(line: "api.req-count:3|c", name: "api.req-count", kind: .counter, values: [3]),
        Expect(line: "x:-5|c", name: "x", kind: .counter, values: [-5]),
        Expect(line: "x:2.5|c|@0.1", name: "x", kind: .counter, values: [2.5], rate: 0.1),
        Expect(line: "x:1|c|@1", name: "x", kind: .counter, values: [1], rate: 1),
        Expect(line: "g:42|g", name: "g", kind: .gauge, values: [42]),
        Expect(line: "g:+5|g", name: "g", kind: .gauge, values: [5], delta: true),
        Expect(line: "g:-5|g", name: "g", kind: .gauge, values: [-5], delta: true),
        Expect(line: "t:12|ms", name: "t", kind: .timer, values: [12]),
        Expect(line: "t:1:2:3|ms", name: "t", kind: .timer, values: [1, 2, 3]),
        Expect(line: "h:0.25|h", name: "h", kind: .histogram, values: [0.25]),
        Expect(line: "d:1e3|d", name: "d", kind: .distribution, values: [1000]),
        Expect(line: "d:1.5E-3|d", name: "d", kind: .distribution, values: [0.0015]),
        Expect(line: "s:user1|s", name: "s", kind: .set, values: []),
        Expect(line: "s:[::1]:80|s", name: "s", kind: .set, values: []),
        Expect(line: "x:1|c|#env:prod,host:a", name: "x", kind: .counter, values: [1], tags: "env:prod,host:a"),
        Expect(line: "x:1|c|@0.5|#env:prod", name: "x", kind: .counter, values: [1], rate: 0.5, tags: "env:prod"),
        Expect(line: "x:1|c|#env:prod|@0.5", name: "x", kind: .counter, values: [1], rate: 0.5, tags: "env:prod"),
        Expect(line: "x:1|c|#", name: "x", kind: .counter, values: [1]),
        Expect(line: "x:1|c|c:abc123|T1700000000", name: "x", kind: .counter, values: [1], timestamp: 1_700_000_000),
        Expect(line: "x:1|c|e:it-false,cn-nginx", name: "x", kind: .counter, values: [1]),
        Expect(line: "x:1|c\r", name: "x", kind: .counter, values: [1]),
        Expect(line: "x:1|c|", name: "x", kind: .counter, values: [1]),
        Expect(line: "s:u1|s|@0.5", name: "s", kind: .set, values: [], rate: 0.5),
        Expect(line: "név:1|c", name: "név", kind: .counter, values: [1]),
        Expect(line: "x:12345678901234567890|c", name: "x", kind: .counter, values: [1.2345678901234567890e19]),
        Expect(line: "x:0.1|g", name: "x", kind: .gauge, values: [0.1]),
        Expect(line: "x:.5|g", name: "x", kind: .gauge, values: [0.5]),
        Expect(line: "x:1e308|g", name: "x", kind: .gauge, values: [1e308]),
    ]

    @Test("parses", arguments: table)
    func accepted(_ expect: Expect) throws {
        let (outcome, bytes) = parse(expect.line)
        guard case .metric(let metric) = outcome else {
            Issue.record("expected a metric, got \(outcome)")
            return
        }
        #expect(String(decoding: bytes[metric.name], as: UTF8.self) == expect.name)
        #expect(metric.kind == expect.kind)
        #expect(metric.sampleRate == expect.rate)
        #expect(String(decoding: bytes[metric.tags], as: UTF8.self) == expect.tags)
        #expect(metric.timestamp == expect.timestamp)
        if expect.kind != .set {
            #expect(metric.firstIsDelta == expect.delta)
            var values: [Double] = []
            bytes.withUnsafeBytes { StatsDParser.forEachValue($0, of: metric) { value, _ in values.append(value) } }
            #expect(values == expect.values)
            #expect(metric.valueCount == expect.values.count)
            #expect(metric.firstValue == expect.values[0])
        }
    }

    @Test func setMemberIsTheWholeValueField() {
        let (outcome, bytes) = parse("s:a:b|s")
        guard case .metric(let metric) = outcome else {
            Issue.record("expected a metric")
            return
        }
        #expect(String(decoding: bytes[metric.values], as: UTF8.self) == "a:b")
    }

    @Test func emptyLinesAreSkippedNotErrors() {
        for line in ["", "\r", "\r\r"] {
            guard case .empty = parse(line).0 else {
                Issue.record("\(line.debugDescription) should be empty")
                continue
            }
        }
    }
}

@Suite("StatsD parser: rejected lines")
struct RejectedLineTests {
    static let table: [(String, StatsDParseError.Reason)] = [
        ("foo:bar|c", .invalidValue),
        (":1|c", .emptyName),
        ("x:1|zz", .unknownType),
        ("x:1", .missingType),
        ("x|c", .missingColon),
        ("justtext", .missingColon),
        ("x:|g", .missingValue),
        ("x:|c", .missingValue),
        ("x:1|", .missingType),
        ("x::1|c", .missingValue),
        ("x:1:|ms", .missingValue),
        ("x:1|c|@2", .invalidSampleRate),
        ("x:1|c|@abc", .invalidSampleRate),
        ("x:1|c|@0", .invalidSampleRate),
        ("x:1|c|@-1", .invalidSampleRate),
        ("x:1|c|@", .invalidSampleRate),
        ("x:NaN|g", .invalidValue),
        ("x:nan|g", .invalidValue),
        ("x:Inf|g", .invalidValue),
        ("x:1e309|ms", .invalidValue),
        ("x:-1e309|ms", .invalidValue),
        ("x:0x10|c", .invalidValue),
        ("x:1.2.3|c", .invalidValue),
        ("x:1e|c", .invalidValue),
        ("x:--1|c", .invalidValue),
        ("x: 1|c", .invalidValue),
        ("x:1|c:2|c", .unknownType),
        ("x:1|C", .unknownType),
        ("x:1|msec", .unknownType),
        ("x:1|g|extra|fields|here", .invalidField),
        ("x:1|c|Tabc", .invalidTimestamp),
        ("x:1|c|T", .invalidTimestamp),
        ("x:1|c|T-5", .invalidTimestamp),
        ("a\tb:1|c", .invalidName),
        ("_e{5,4}:title|te", .invalidEvent),
        ("_e{x,4}:title|text", .invalidEvent),
        ("_e{0,4}:|text", .invalidEvent),
        ("_e{5,4}:title|text|p:urgent", .invalidEvent),
        ("_e{5,4}:title|text|t:fatal", .invalidEvent),
        ("_e{5,4}:title|text|zz", .invalidEvent),
        ("_sc|name|7", .invalidServiceCheck),
        ("_sc||0", .invalidServiceCheck),
        ("_sc|name", .invalidServiceCheck),
        ("_sc|name|0|q:x", .invalidServiceCheck),
        ("_e{1,1}:a|b|d:9999999999999999", .invalidEvent),
        ("_sc|x|0|d:9999999999999999", .invalidServiceCheck),
        ("x:1e300|c|@1e-10", .invalidValue),
        ("x:1e300|ms|@0.000000001", .invalidValue),
        ("x:1|c|c:ab\tc", .invalidField),
    ]

    @Test("rejects with the reason", arguments: table.map { Case(line: $0.0, reason: $0.1) })
    func rejected(_ test: Case) {
        guard case .failure(let error) = parse(test.line).0 else {
            Issue.record("\(test.line) should be rejected")
            return
        }
        #expect(error.reason == test.reason, "\(test.line): \(error)")
    }

    struct Case: Sendable, CustomStringConvertible {
        var line: String
        var reason: StatsDParseError.Reason
        var description: String { line }
    }

    @Test func invalidUTF8InNameIsRejected() {
        guard case .failure(let error) = parseBytes([0xFF, 0xFE, 0xFD] + Array(":1|c".utf8)) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.reason == .invalidName)
    }

    @Test func overlongUTF8AndSurrogatesAreRejected() {
        for bad in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] as [[UInt8]] {
            guard case .failure(let error) = parseBytes(Array("x".utf8) + bad + Array(":1|c".utf8)) else {
                Issue.record("expected a failure for \(bad)")
                continue
            }
            #expect(error.reason == .invalidName)
        }
    }

    @Test func invalidUTF8InTagsIsRejected() {
        guard case .failure(let error) = parseBytes(Array("x:1|c|#env:".utf8) + [0xC3, 0x28]) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.reason == .invalidTags)
    }

    @Test func nulBytesAreNamedAsSuch() {
        for bytes in [Array("m22:1|c".utf8) + [0] + Array("hidden:1|c".utf8),
                      Array("x:1|c|c:ab".utf8) + [0],
                      Array("x:1|c|e:ab".utf8) + [0],
                      Array("x".utf8) + [0] + Array("y:1|c".utf8),
                      Array("x:1".utf8) + [0] + Array("|c".utf8)] {
            guard case .failure(let error) = parseBytes(bytes) else {
                Issue.record("expected a failure")
                continue
            }
            #expect(error.reason == .nulByte)
        }
    }

    @Test func namesPastTheLimitAreRejected() {
        let (outcome, _) = parse(String(repeating: "a", count: 1025) + ":1|c")
        guard case .failure(let error) = outcome else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.reason == .nameTooLong)
        guard case .metric = parse(String(repeating: "a", count: 1024) + ":1|c").0 else {
            Issue.record("a name at the limit is fine")
            return
        }
    }

    @Test func errorsCarryTheByteOffset() {
        guard case .failure(let error) = parse("name:1|c|@abc").0 else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.offset == 9)
        #expect(error.description.contains("invalid_sample_rate at byte 9"))
    }

    @Test func randomBinaryNeverCrashes() {
        var state: UInt64 = 42
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 97) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Whatever the bytes, an accepted line has sane ranges inside the line.
            if case .metric(let metric) = parseBytes(bytes) {
                #expect(!metric.name.isEmpty && !metric.values.isEmpty)
                #expect(metric.tags.upperBound <= bytes.count && metric.values.upperBound <= bytes.count)
                #expect(metric.sampleRate > 0 && metric.sampleRate <= 1)
            }
        }
    }
}
