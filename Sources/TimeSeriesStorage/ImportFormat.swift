import Foundation
import TelemetryModel

/// The files `tally tsdb import` reads: what `../shared/datasets/gen-series.py`
/// writes, and Prometheus/OpenMetrics text with timestamps.
public enum ImportFormat: String, Sendable, CaseIterable {
    /// OpenMetrics text: `name{labels} value seconds`, `# TYPE` lines, `# EOF`.
    case openMetrics = "openmetrics"
    /// Prometheus text exposition with millisecond timestamps.
    case prometheus = "prom"
    /// `name,labels,ts_ms,value` with labels as `k=v;k=v`.
    case csv
    /// One JSON object per line: `{"name":…,"labels":{…},"ts_ms":…,"value":…}`.
    case jsonl

    /// The format a file's name suggests, if any.
    public static func guess(path: String) -> ImportFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        if lower.hasSuffix(".prom") { return .prometheus }
        if lower.hasSuffix(".om") || lower.hasSuffix(".openmetrics") || lower.hasSuffix(".txt") { return .openMetrics }
        return nil
    }

    /// The format the first line of a file suggests.
    static func sniff(_ firstLine: [UInt8]) -> ImportFormat {
        if firstLine.first == UInt8(ascii: "{") { return .jsonl }
        if firstLine.starts(with: Array("name,labels,".utf8)) { return .csv }
        return .openMetrics
    }
}

/// A line of an import file that cannot be read, with its line number.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Parses the series part of a line (everything before the value) into
/// labels; runs once per series, not per sample.
enum SeriesKeyParser {
    static func labels(_ key: [UInt8], format: ImportFormat) -> Labels? {
        switch format {
        case .openMetrics, .prometheus: return textLabels(key)
        case .csv: return csvLabels(key)
        case .jsonl: return jsonLabels(key)
        }
    }

    /// `name{a="1",b="2"}` or `name`, and nothing after it.
    static func textLabels(_ key: [UInt8]) -> Labels? {
        guard let series = try? ExpositionSeries.parse(key), series.end == key.count else { return nil }
        return series.labels
    }

    /// `name,k=v;k=v,` (the key keeps its trailing comma).
    static func csvLabels(_ key: [UInt8]) -> Labels? {
        let text = String(decoding: key, as: UTF8.self)
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 2, !fields[0].isEmpty else { return nil }
        var pairs = [Label(Labels.metricName, String(fields[0]))]
        for pair in fields[1].split(separator: ";") {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            pairs.append(Label(String(pair[..<equals]), String(pair[pair.index(after: equals)...])))
        }
        return Labels(pairs)
    }

    /// `{"name":"x","labels":{…}` (the key stops before `,"ts_ms"`).
    static func jsonLabels(_ key: [UInt8]) -> Labels? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(key + Array("}".utf8))) as? [String: Any],
              let name = object["name"] as? String else { return nil }
        var pairs = [Label(Labels.metricName, name)]
        for (k, v) in (object["labels"] as? [String: Any]) ?? [:] {
            pairs.append(Label(k, v as? String ?? "\(v)"))
        }
        return Labels(pairs)
    }
}
