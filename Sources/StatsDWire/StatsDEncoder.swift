import TelemetryModel

/// Builds StatsD/DogStatsD lines, for tests, examples and load generators.
public enum StatsDEncoder {
    /// `name:value|type[|@rate][|#tags]`.
    public static func metric(
        _ name: String, _ value: String, _ kind: MetricKind, sampleRate: Double? = nil, tags: [String] = []
    ) -> String {
        var line = "\(name):\(value)|\(kind.wireType)"
        if let sampleRate { line += "|@\(sampleRate)" }
        if !tags.isEmpty { line += "|#" + tags.joined(separator: ",") }
        return line
    }

    /// `_e{title_len,text_len}:title|text[|d:…][|t:…][|#tags]`, lengths in UTF-8 bytes.
    public static func event(
        title: String, text: String, timestamp: Int64? = nil, alertType: String? = nil, tags: [String] = []
    ) -> String {
        let escaped = text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
        var line = "_e{\(title.utf8.count),\(escaped.utf8.count)}:\(title)|\(escaped)"
        if let timestamp { line += "|d:\(timestamp)" }
        if let alertType { line += "|t:\(alertType)" }
        if !tags.isEmpty { line += "|#" + tags.joined(separator: ",") }
        return line
    }

    /// `_sc|name|status[|d:…][|#tags][|m:message]`.
    public static func serviceCheck(
        name: String, status: Int, timestamp: Int64? = nil, tags: [String] = [], message: String? = nil
    ) -> String {
        var line = "_sc|\(name)|\(status)"
        if let timestamp { line += "|d:\(timestamp)" }
        if !tags.isEmpty { line += "|#" + tags.joined(separator: ",") }
        if let message { line += "|m:\(message)" }
        return line
    }
}
