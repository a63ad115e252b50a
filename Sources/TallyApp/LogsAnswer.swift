import Foundation
import TelemetryModel

/// Reads a Loki API answer for `tally logs`.
public enum LogsAnswer {
    public struct Entry: Sendable {
        /// Nanoseconds since the epoch.
        public var time: Int64
        /// `TIME {labels} line`.
        public var text: String
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The lines of a streams answer, oldest first.
    public static func entries(_ json: Data) throws -> [Entry] {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
            let data = root["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw Unreadable(description: "not a Loki answer: \(String(decoding: json.prefix(200), as: UTF8.self))") }
        var out: [Entry] = []
        for stream in result {
            let labels = describe(stream["stream"] as? [String: String] ?? [:])
            for value in stream["values"] as? [[String]] ?? [] where value.count >= 2 {
                let time = Int64(value[0]) ?? 0
                out.append(Entry(time: time, text: "\(formatNanos(time)) \(labels) \(value[1])"))
            }
        }
        return out.sorted { $0.time < $1.time }
    }

    /// `{labels} value` per series of a vector (or scalar) answer.
    public static func metric(_ json: Data) throws -> [String] {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let data = root["data"] as? [String: Any] else {
            throw Unreadable(description: "not a Loki answer: \(String(decoding: json.prefix(200), as: UTF8.self))")
        }
        if let value = data["result"] as? [Any], data["resultType"] as? String == "scalar", value.count == 2 {
            return ["\(value[1])"]
        }
        return (data["result"] as? [[String: Any]] ?? []).map { series in
            let value = (series["value"] as? [Any])?.last.map { "\($0)" } ?? ""
            return "\(describe(series["metric"] as? [String: String] ?? [:])) \(value)"
        }
    }

    private static func describe(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    /// RFC 3339 with nanoseconds.
    static func formatNanos(_ nanos: Int64) -> String {
        let millis = floorDivide(nanos, 1_000_000)
        let text = formatRFC3339(millis)
        let extra = nanos - millis * 1_000_000
        guard extra != 0 else { return text }
        let digits = String(extra)
        return text.dropLast() + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }
}
