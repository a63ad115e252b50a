import LogStorage
import LogWire
import TallyTestKit
import TelemetryModel

/// 2026-11-28T00:00:00Z in nanoseconds.
let day: Int64 = 1_795_824_000_000_000_000
let second: Int64 = 1_000_000_000

/// A batch of logs-port lines (JSON or logfmt), decoded as the ingest path does.
func batch(_ lines: [String], decoder: LogDecoder = LogDecoder()) -> LogBatch {
    var batch = LogBatch()
    var log = DecodedLog()
    for line in lines {
        Array(line.utf8).withUnsafeBytes { decoder.decodeLine($0, into: &log) }
        batch.append(log)
    }
    return batch
}

/// A batch of syslog messages.
func syslogBatch(_ lines: [String], now: Int64) -> LogBatch {
    var batch = LogBatch()
    var log = DecodedLog()
    for line in lines {
        Array(line.utf8).withUnsafeBytes { LogDecoder().decodeSyslog($0, now: now, into: &log) }
        batch.append(log)
    }
    return batch
}

/// A JSON line for service `service` at `day + seconds`.
func jsonLine(_ service: String, _ seconds: Int64, _ message: String, level: String = "info") -> String {
    let millis = (day + seconds * second) / 1_000_000
    return #"{"ts":\#(millis),"service":"\#(service)","level":"\#(level)","msg":"\#(message)"}"#
}

/// Every entry of the streams matching `matchers` as (labels, time, line), oldest first per stream.
func readAll(
    _ store: LogStore, _ matchers: [LabelMatcher] = [], start: Int64 = 0, end: Int64 = .max, backward: Bool = false
) throws -> [(labels: Labels, time: Int64, line: String)] {
    var out: [(labels: Labels, time: Int64, line: String)] = []
    for stream in try store.select(matchers, start: start, end: end) {
        try stream.forEachEntry(start: start, end: end, backward: backward) { entry in
            out.append((stream.labels, entry.timestamp, String(decoding: entry.line, as: UTF8.self)))
            return true
        }
    }
    return out
}

func matcher(_ name: String, _ value: String) throws -> LabelMatcher {
    try LabelMatcher(name, .equal, value)
}
