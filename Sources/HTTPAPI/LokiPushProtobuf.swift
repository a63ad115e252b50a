import Foundation
import LogQL
import TelemetryModel

/// Reads Loki's protobuf push (`logproto.PushRequest`, as Promtail and
/// Grafana Alloy send it, after snappy): streams of a label string
/// (`{app="x", env="y"}`) and entries of a timestamp, a line and structured
/// metadata. Only the fields Loki defines are read; others are skipped.
enum LokiPushProtobuf {
    struct Stream {
        var labels: [(String, String)]
        var entries: [Entry]
    }

    struct Entry {
        var nanos: Int64
        var line: String
        var metadata: [(String, String)]
    }

    struct Failure: Error {
        var message: String
    }

    static func decode(_ bytes: [UInt8]) throws(Failure) -> [Stream] {
        var streams: [Stream] = []
        try bytes.withUnsafeBytes { raw in Result { () throws(Failure) in
            var reader = Reader(raw: raw, start: 0, end: raw.count)
            while let (field, wire) = try reader.key() {
                if field == 1, wire == 2 {
                    streams.append(try stream(try reader.message()))
                } else {
                    try reader.skip(wire)
                }
            }
        } }.get()
        return streams
    }

    private static func stream(_ message: Reader) throws(Failure) -> Stream {
        var reader = message
        var labelText = ""
        var entries: [Entry] = []
        while let (field, wire) = try reader.key() {
            switch (field, wire) {
            case (1, 2): labelText = try reader.string()
            case (2, 2): entries.append(try entry(try reader.message()))
            default: try reader.skip(wire)
            }
        }
        return Stream(labels: try labels(labelText), entries: entries)
    }

    private static func entry(_ message: Reader) throws(Failure) -> Entry {
        var reader = message
        var out = Entry(nanos: 0, line: "", metadata: [])
        while let (field, wire) = try reader.key() {
            switch (field, wire) {
            case (1, 2):
                var timestamp = try reader.message()
                var seconds: Int64 = 0
                var nanos: Int64 = 0
                while let (f, w) = try timestamp.key() {
                    switch (f, w) {
                    case (1, 0): seconds = Int64(bitPattern: try timestamp.varint())
                    case (2, 0): nanos = Int64(Int32(truncatingIfNeeded: try timestamp.varint()))
                    default: try timestamp.skip(w)
                    }
                }
                let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                guard !overflow else { throw Failure(message: "entry timestamp out of range") }
                out.nanos = scaled + nanos
            case (2, 2):
                out.line = try reader.string()
            case (3, 2):
                var pair = try reader.message()
                var name = ""
                var value = ""
                while let (f, w) = try pair.key() {
                    switch (f, w) {
                    case (1, 2): name = try pair.string()
                    case (2, 2): value = try pair.string()
                    default: try pair.skip(w)
                    }
                }
                out.metadata.append((name, value))
            default:
                try reader.skip(wire)
            }
        }
        return out
    }

    /// `{a="b", c="d"}` → pairs, read with LogQL's lexer (Go string escapes).
    private static func labels(_ text: String) throws(Failure) -> [(String, String)] {
        guard text.trimmingCharacters(in: .whitespaces) != "{}" else { return [] }
        do {
            guard case .logs(let selector) = try LogQLParser.parse(text), selector.stages.isEmpty,
                selector.matchers.allSatisfy({ $0.op == .equal })
            else { throw Failure(message: "stream labels \(text) are not a label set") }
            return selector.matchers.map { ($0.name, $0.value) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(message: "stream labels \(text): \(error)")
        }
    }

    /// A window of the buffer and a position in it.
    struct Reader {
        let raw: UnsafeRawBufferPointer
        var start: Int
        let end: Int

        mutating func varint() throws(Failure) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard start < end else { throw Failure(message: "message cut short at byte \(start)") }
                let byte = raw[start]
                start += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
                guard shift < 64 else { throw Failure(message: "malformed varint at byte \(start)") }
            }
        }

        mutating func key() throws(Failure) -> (Int, Int)? {
            guard start < end else { return nil }
            let key = try varint()
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func message() throws(Failure) -> Reader {
            let length = try varint()
            guard length <= UInt64(end - start) else { throw Failure(message: "field longer than its message at byte \(start)") }
            let inner = Reader(raw: raw, start: start, end: start + Int(length))
            start += Int(length)
            return inner
        }

        mutating func string() throws(Failure) -> String {
            let inner = try message()
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[inner.start..<inner.end]), as: UTF8.self)
        }

        mutating func skip(_ wire: Int) throws(Failure) {
            switch wire {
            case 0: _ = try varint()
            case 1: try advance(8)
            case 2: _ = try message()
            case 5: try advance(4)
            default: throw Failure(message: "unsupported wire type \(wire) at byte \(start)")
            }
        }

        private mutating func advance(_ count: Int) throws(Failure) {
            guard end - start >= count else { throw Failure(message: "message cut short at byte \(start)") }
            start += count
        }
    }
}
