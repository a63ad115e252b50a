import Testing
@testable import TelemetryModel

@Suite("Labels and naming")
struct LabelsTests {
    @Test func labelSetsAreSortedAndTheLaterDuplicateWins() {
        let labels = Labels([Label("b", "1"), Label("a", "2"), Label("b", "3"), Label("c", "")])
        #expect(labels.pairs == [Label("a", "2"), Label("b", "3")])
        #expect(labels == Labels([Label("b", "3"), Label("a", "2")]))
    }

    @Test func description() {
        #expect(Labels(name: "up", ["job": "a\"b"]).description == #"up{job="a\"b"}"#)
        #expect(Labels(name: "up").description == "up")
    }

    @Test(arguments: [
        ("api.req-count", "api_req_count"), ("a:b", "a:b"), ("9lives", "_9lives"), ("héllo", "h__llo"),
        ("ok_name", "ok_name"), ("a b", "a_b"),
    ])
    func metricNames(_ raw: String, _ expected: String) {
        #expect(MetricNaming.metricName(Array(raw.utf8)) == expected)
    }

    @Test func tagsBecomeLabels() {
        let labels = MetricNaming.labels(fromTags: Array("env:prod,production,host.name:a:b,,__name__:x,quantile:q,le:1,:novalue,empty:".utf8))
        #expect(labels == [
            Label("env", "prod"), Label("production", "true"), Label("host_name", "a:b"),
            Label("tag___name__", "x"), Label("tag_quantile", "q"), Label("tag_le", "1"),
        ])
    }
}

@Suite("Durations and timestamps")
struct TimeParsingTests {
    @Test(arguments: [("10s", Int64(10_000)), ("500ms", 500), ("1h30m", 5_400_000), ("5m", 300_000), ("1d", 86_400_000),
                      ("2w", 1_209_600_000), ("1y", 31_536_000_000), ("0", 0), ("1m30s500ms", 90_500)])
    func durations(_ text: String, _ millis: Int64) throws {
        #expect(try parseDuration(text) == millis)
    }

    @Test(arguments: ["", "10", "s", "1x", "30s1m", "10 s", "99999999999999999999s"])
    func badDurations(_ text: String) {
        #expect(throws: TimeParseError.self) { try parseDuration(text) }
    }

    @Test func durationsOrSeconds() throws {
        #expect(try parseDurationOrSeconds("15") == 15_000)
        #expect(try parseDurationOrSeconds("0.5") == 500)
        #expect(try parseDurationOrSeconds("1m") == 60_000)
    }

    @Test func timestamps() throws {
        #expect(try parseTimestamp("1700000000") == 1_700_000_000_000)
        #expect(try parseTimestamp("1700000000.123") == 1_700_000_000_123)
        #expect(try parseTimestamp("2023-11-14T22:13:20Z") == 1_700_000_000_000)
        #expect(try parseTimestamp("2023-11-14T22:13:20.5Z") == 1_700_000_000_500)
        #expect(try parseTimestamp("2023-11-15T00:13:20+02:00") == 1_700_000_000_000)
        #expect(try parseTimestamp("1970-01-01T00:00:00Z") == 0)
        #expect(try parseTimestamp("1969-12-31T23:59:59Z") == -1000)
    }

    @Test(arguments: ["", "yesterday", "2023-11-14", "2023-13-14T22:13:20Z", "2023-11-14T22:13:20", "NaN", "Inf"])
    func badTimestamps(_ text: String) {
        #expect(throws: TimeParseError.self) { try parseTimestamp(text) }
    }

    @Test func formatsRFC3339() {
        #expect(formatRFC3339(1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(formatRFC3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(formatDuration(5_400_000) == "1h30m")
    }
}

@Suite("Label matchers")
struct LabelMatcherTests {
    @Test func regexesAreAnchored() throws {
        let m = try LabelMatcher("job", .regexMatch, "api.*")
        #expect(m.matches("api-server"))
        #expect(!m.matches("my-api"))
        let n = try LabelMatcher("job", .regexNoMatch, "a|b")
        #expect(n.matches("ab"))
        #expect(!n.matches("a"))
    }

    @Test func absentLabelsMatchAsEmpty() throws {
        let m = try LabelMatcher("env", .equal, "")
        #expect(m.matches(Labels(name: "x")))
        #expect(m.matchesEmpty)
    }

    @Test func badRegexesAreErrors() {
        #expect(throws: InvalidRegexError.self) { try LabelMatcher("a", .regexMatch, "(") }
    }
}

@Suite("Labels.setting")
struct LabelsSettingTests {
    @Test func settingKeepsTheSetSortedAndEqualToBuildingItAfresh() {
        let base = Labels([Label("b", "2"), Label("d", "4"), Label(Labels.metricName, "x")])
        for (name, value) in [("a", "1"), ("c", "3"), ("e", "5"), ("b", "9"), ("b", ""), ("zz", ""), (Labels.metricName, "y")] {
            var expected = base.pairs.filter { $0.name != name }
            if !value.isEmpty { expected.append(Label(name, value)) }
            let set = base.setting(name, to: value)
            #expect(set == Labels(expected), "\(name)=\(value)")
            #expect(set.hashValue == Labels(expected).hashValue)
        }
    }
}
