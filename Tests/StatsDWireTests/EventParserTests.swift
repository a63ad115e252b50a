import Testing
import TelemetryModel
@testable import StatsDWire

@Suite("DogStatsD events and service checks")
struct EventParserTests {
    @Test func eventWithEveryField() {
        let line = "_e{6,12}:Deploy|api v1.2\\nok|d:1700000000|h:web-1|k:deploy-42|p:low|s:jenkins|t:success|#service:api,env:prod"
        guard case .event(let event) = parse(line).0 else {
            Issue.record("expected an event")
            return
        }
        #expect(event.kind == .event)
        #expect(event.title == "Deploy")
        #expect(event.text == "api v1.2\nok")
        #expect(event.timestamp == 1_700_000_000_000)
        #expect(event.hostname == "web-1")
        #expect(event.aggregationKey == "deploy-42")
        #expect(event.priority == "low")
        #expect(event.sourceType == "jenkins")
        #expect(event.alertType == "success")
        #expect(event.tags == [Label("service", "api"), Label("env", "prod")])
    }

    @Test func eventWithoutTimestampGetsArrivalTime() {
        guard case .event(let event) = parse("_e{1,1}:a|b").0 else {
            Issue.record("expected an event")
            return
        }
        #expect(event.timestamp == 1_000)
    }

    @Test func eventLengthsCountUTF8Bytes() {
        guard case .event(let event) = parse("_e{6,2}:héllo|ok").0 else {
            Issue.record("expected an event")
            return
        }
        #expect(event.title == "héllo")
    }

    @Test func serviceCheck() {
        guard case .event(let check) = parse("_sc|db.up|2|d:1700000000|h:db-1|#env:prod|m:disk full | really").0 else {
            Issue.record("expected a service check")
            return
        }
        #expect(check.kind == .serviceCheck)
        #expect(check.title == "db.up")
        #expect(check.status == 2)
        #expect(check.hostname == "db-1")
        #expect(check.timestamp == 1_700_000_000_000)
        #expect(check.text == "disk full | really")
        #expect(check.tags == [Label("env", "prod")])
    }

    @Test func metricAndServiceCheckEncodersRoundTrip() {
        let line = StatsDEncoder.metric("api.hits", "3", .counter, sampleRate: 0.5, tags: ["env:prod"])
        #expect(line == "api.hits:3|c|@0.5|#env:prod")
        guard case .metric(let metric) = parse(line).0 else {
            Issue.record("expected a metric from \(line)")
            return
        }
        #expect(metric.sampleRate == 0.5 && metric.firstValue == 3)
        let check = StatsDEncoder.serviceCheck(name: "db", status: 1, timestamp: 7, tags: ["a:b"], message: "slow | very")
        guard case .event(let event) = parse(check).0 else {
            Issue.record("expected a service check from \(check)")
            return
        }
        #expect(event.status == 1 && event.timestamp == 7000 && event.text == "slow | very")
    }

    @Test func encoderRoundTrips() {
        let line = StatsDEncoder.event(title: "t", text: "two\nlines", timestamp: 5, alertType: "error", tags: ["a:b"])
        guard case .event(let event) = parse(line).0 else {
            Issue.record("expected an event from \(line)")
            return
        }
        #expect(event.text == "two\nlines")
        #expect(event.alertType == "error")
        #expect(event.timestamp == 5000)
    }
}

@Suite("Line splitting")
struct LineSplittingTests {
    @Test func splitsOnNewlinesAndKeepsTheLastUnterminatedLine() {
        let bytes = Array("a:1|c\nb:2|c\n\nc:3|c".utf8)
        var lines: [String] = []
        bytes.withUnsafeBytes { forEachLine(in: $0) { lines.append(String(decoding: $0, as: UTF8.self)) } }
        #expect(lines == ["a:1|c", "b:2|c", "", "c:3|c"])
    }
}
