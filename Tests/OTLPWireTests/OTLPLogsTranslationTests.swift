import OTLPWire
import Testing

/// Log records: line, label candidates, fields, ids and times.
struct OTLPLogsTranslationTests {
    static let body = #"""
    {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},{"key":"host.name","value":{"stringValue":"web-1"}},{"key":"deployment.environment.name","value":{"stringValue":"prod"}},{"key":"cloud.region","value":{"stringValue":"eu"}}]},
      "scopeLogs":[{"logRecords":[
        {"timeUnixNano":"1700000000000000001","severityNumber":17,"body":{"stringValue":"boom"},"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","attributes":[{"key":"http.route","value":{"stringValue":"/pay"}}]},
        {"observedTimeUnixNano":"1700000000000000002","severityText":"WARNING","body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}},"traceId":"zz"}
      ]}]}]}
    """#

    @Test func recordsKeepLineLabelsFieldsAndIds() throws {
        let entries = try OTLPLogsTranslation.translate(Array(Self.body.utf8), encoding: .json, nowNanos: 5).entries
        #expect(entries.count == 2)
        let first = entries[0]
        #expect(first.line == "boom" && first.timestampNanos == 1_700_000_000_000_000_001)
        #expect(first.candidates.map { "\($0.0)=\($0.1)" } == ["service=api", "level=error", "host=web-1", "env=prod"])
        let fields = Dictionary(first.fields.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["trace_id"] == "5b8efff798038103d269b633813fc60c" && fields["span_id"] == "eee19b7ec3c1b174")
        #expect(fields["http_route"] == "/pay" && fields["cloud_region"] == "eu")
        let second = entries[1]
        #expect(second.line == #"{"a":1}"# && second.timestampNanos == 1_700_000_000_000_000_002)
        #expect(second.candidates.contains { $0.0 == "level" && $0.1 == "warning" })
        #expect(!second.fields.contains { $0.0 == "trace_id" }, "an id that is not hex is left out")
    }
}
