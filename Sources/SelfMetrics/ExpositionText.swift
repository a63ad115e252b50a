import TelemetryModel

/// The samples of a Prometheus text exposition (format 0.0.4), as tally's own
/// registry writes it for `/metrics`: what the self-scrape stores. Comment
/// and `# HELP`/`# TYPE` lines are skipped; a sample line is
/// `name{label="value",...} value [timestamp]`, label values escaped with
/// `\\`, `\"` and `\n`.
public enum ExpositionText {
    /// One sample line: its series and value (the timestamp, if any, is ignored).
    public struct Sample: Equatable, Sendable {
        public var labels: Labels
        public var value: Double

        public init(labels: Labels, value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    /// Why a line is not a sample, with the line's number (1-based) and the byte offset in it.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var offset: Int
        public var reason: String

        public init(line: Int, offset: Int, reason: String) {
            self.line = line
            self.offset = offset
            self.reason = reason
        }

        public var description: String { "line \(line), byte \(offset): \(reason)" }
    }

    /// Every sample of `text`, in order; the first malformed line throws.
    public static func samples(_ text: String) throws(ParseError) -> [Sample] {
        var samples: [Sample] = []
        var number = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let bytes = Array(line)
            guard let first = bytes.firstIndex(where: { $0 != .space }), bytes[first] != UInt8(ascii: "#") else { continue }
            samples.append(try sample(bytes, from: first, line: number))
        }
        return samples
    }

    private static func sample(_ bytes: [UInt8], from start: Int, line: Int) throws(ParseError) -> Sample {
        let series: (labels: Labels, end: Int)
        do {
            series = try ExpositionSeries.parse(bytes, from: start)
        } catch {
            throw ParseError(line: line, offset: error.offset, reason: error.reason)
        }
        var index = series.end
        guard index < bytes.count, bytes[index] == .space else {
            throw ParseError(line: line, offset: index, reason: "expected a space before the value")
        }
        while index < bytes.count, bytes[index] == .space { index += 1 }
        let valueStart = index
        while index < bytes.count, bytes[index] != .space { index += 1 }
        let text = String(decoding: bytes[valueStart..<index], as: UTF8.self)
        guard let value = Double(text) else { throw ParseError(line: line, offset: valueStart, reason: "not a number: \(text)") }
        return Sample(labels: series.labels, value: value)
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
}
