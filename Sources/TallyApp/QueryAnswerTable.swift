import Foundation

/// Renders a Prometheus API answer (the JSON of `/api/v1/query` or
/// `/api/v1/query_range`) as a table for a terminal: `tally query` prints it.
public enum QueryAnswerTable {
    /// The table, or the API's error as a line (`error` true).
    public static func render(_ json: Data) -> (text: String, error: Bool) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            return ("not a Prometheus API answer: \(String(decoding: json, as: UTF8.self).prefix(200))", true)
        }
        guard object["status"] as? String == "success", let data = object["data"] as? [String: Any] else {
            let type = object["errorType"] as? String ?? "error"
            return ("\(type): \(object["error"] as? String ?? "unknown error")", true)
        }
        let result = data["result"]
        switch data["resultType"] as? String {
        case "scalar", "string":
            let pair = result as? [Any] ?? []
            return (pair.count > 1 ? "\(pair[1])" : "", false)
        case "vector":
            let rows = (result as? [[String: Any]] ?? []).map { item -> [String] in
                let value = (item["value"] as? [Any]).flatMap { $0.count > 1 ? "\($0[1])" : nil } ?? ""
                return [seriesName(item["metric"]), value]
            }
            if rows.isEmpty { return ("(no series)", false) }
            return (table([["SERIES", "VALUE"]] + rows), false)
        case "matrix":
            let series = result as? [[String: Any]] ?? []
            if series.isEmpty { return ("(no series)", false) }
            var blocks: [String] = []
            for item in series {
                let points = (item["values"] as? [[Any]] ?? []).map { pair -> [String] in
                    [time(pair.first), pair.count > 1 ? "\(pair[1])" : ""]
                }
                blocks.append(seriesName(item["metric"]) + "\n" + table([["TIME", "VALUE"]] + points))
            }
            return (blocks.joined(separator: "\n\n"), false)
        default:
            return ("unknown result type", true)
        }
    }

    /// `name{label="value", …}`, labels sorted.
    static func seriesName(_ metric: Any?) -> String {
        let labels = metric as? [String: String] ?? [:]
        let name = labels["__name__"] ?? ""
        let rest = labels.filter { $0.key != "__name__" }.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
        if rest.isEmpty { return name.isEmpty ? "{}" : name }
        return name + "{" + rest.joined(separator: ", ") + "}"
    }

    /// Unix seconds as RFC 3339 in UTC.
    static func time(_ value: Any?) -> String {
        guard let seconds = (value as? NSNumber)?.doubleValue else { return "" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = seconds.rounded() == seconds ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// Columns padded to their widest cell; the last column is not padded.
    static func table(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns - 1 { widths[i] = max(widths[i], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i < columns - 1 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) : cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
