/// The series part of a Prometheus text exposition line, `name` or
/// `name{label="value",...}`, label values escaped with `\\`, `\"` and `\n`:
/// what tally's self-scrape reads from `/metrics` and `tally tsdb import`
/// reads from a `.prom` or OpenMetrics file.
public enum ExpositionSeries {
    /// Why the bytes are not a series, with the byte offset where it shows.
    public struct ParseError: Error, Equatable, Sendable {
        public var offset: Int
        public var reason: String

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    /// The series that starts at `start` in `bytes`, and the offset just past it.
    public static func parse<Bytes: RandomAccessCollection>(_ bytes: Bytes, from start: Int = 0) throws(ParseError) -> (labels: Labels, end: Int)
    where Bytes.Element == UInt8, Bytes.Index == Int {
        func fail(_ offset: Int, _ reason: String) -> ParseError { ParseError(offset: offset, reason: reason) }
        var index = start
        while index < bytes.endIndex, isNameByte(bytes[index], first: index == start) { index += 1 }
        guard index > start else { throw fail(index, "expected a metric name") }
        var pairs = [Label(Labels.metricName, String(decoding: bytes[start..<index], as: UTF8.self))]
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "{") else { return (Labels(pairs), index) }
        index += 1
        while true {
            while index < bytes.endIndex, bytes[index] == space || bytes[index] == UInt8(ascii: ",") { index += 1 }
            guard index < bytes.endIndex else { throw fail(index, "unterminated label set") }
            if bytes[index] == UInt8(ascii: "}") { return (Labels(pairs), index + 1) }
            let nameStart = index
            while index < bytes.endIndex, isNameByte(bytes[index], first: index == nameStart), bytes[index] != UInt8(ascii: ":") { index += 1 }
            guard index > nameStart else { throw fail(index, "expected a label name") }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
            guard index + 1 < bytes.endIndex, bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "\"") else {
                throw fail(index, "expected =\" after label \(name)")
            }
            index += 2
            var value: [UInt8] = []
            while true {
                guard index < bytes.endIndex else { throw fail(index, "unterminated value of label \(name)") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { index += 1; break }
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < bytes.endIndex else { throw fail(index, "unterminated escape") }
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

    private static let space = UInt8(ascii: " ")

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: ":"): true
        case UInt8(ascii: "0")...UInt8(ascii: "9"): !first
        default: false
        }
    }
}
