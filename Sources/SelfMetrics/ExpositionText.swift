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
        func fail(_ offset: Int, _ reason: String) -> ParseError { ParseError(line: line, offset: offset, reason: reason) }
        var index = start
        while index < bytes.count, isNameByte(bytes[index], first: index == start) { index += 1 }
        guard index > start else { throw fail(index, "expected a metric name") }
        var pairs = [Label(Labels.metricName, String(decoding: bytes[start..<index], as: UTF8.self))]
        if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
            index += 1
            while true {
                while index < bytes.count, bytes[index] == .space || bytes[index] == UInt8(ascii: ",") { index += 1 }
                guard index < bytes.count else { throw fail(index, "unterminated label set") }
                if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                let nameStart = index
                while index < bytes.count, isNameByte(bytes[index], first: index == nameStart), bytes[index] != UInt8(ascii: ":") { index += 1 }
                guard index > nameStart else { throw fail(index, "expected a label name") }
                let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "\"") else {
                    throw fail(index, "expected =\" after label \(name)")
                }
                index += 2
                var value: [UInt8] = []
                while true {
                    guard index < bytes.count else { throw fail(index, "unterminated value of label \(name)") }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") { index += 1; break }
                    if byte == UInt8(ascii: "\\") {
                        guard index + 1 < bytes.count else { throw fail(index, "unterminated escape") }
                        switch bytes[index + 1] {
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(bytes[index + 1])
                        default: throw fail(index, "unknown escape \\\(Character(Unicode.Scalar(bytes[index + 1])))")
                        }
                        index += 2
                    } else {
                        value.append(byte)
                        index += 1
                    }
                }
                pairs.append(Label(name, String(decoding: value, as: UTF8.self)))
            }
        }
        guard index < bytes.count, bytes[index] == .space else { throw fail(index, "expected a space before the value") }
        while index < bytes.count, bytes[index] == .space { index += 1 }
        let valueStart = index
        while index < bytes.count, bytes[index] != .space { index += 1 }
        let text = String(decoding: bytes[valueStart..<index], as: UTF8.self)
        guard let value = Double(text) else { throw fail(valueStart, "not a number: \(text)") }
        return Sample(labels: Labels(pairs), value: value)
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: ":"): true
        case UInt8(ascii: "0")...UInt8(ascii: "9"): !first
        default: false
        }
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
}
