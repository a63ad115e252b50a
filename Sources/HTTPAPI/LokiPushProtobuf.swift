import Foundation
import LogQL
import ProtobufWire
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

    typealias Failure = ProtobufError

    static func decode(_ bytes: [UInt8]) throws(Failure) -> [Stream] {
        var streams: [Stream] = []
        try bytes.withUnsafeBytes { raw in Result { () throws(Failure) in
            var reader = ProtobufReader(raw)
            while let (field, wire) = try reader.field() {
                if field == 1, wire == .lengthDelimited {
                    streams.append(try stream(try reader.message()))
                } else {
                    try reader.skip(wire)
                }
            }
        } }.get()
        return streams
    }

    private static func stream(_ message: ProtobufReader) throws(Failure) -> Stream {
        var reader = message
        var labelText = ""
        var labelOffset = reader.position
        var entries: [Entry] = []
        while let (field, wire) = try reader.field() {
            switch (field, wire) {
            case (1, .lengthDelimited):
                labelOffset = reader.position
                labelText = try reader.string()
            case (2, .lengthDelimited): entries.append(try entry(try reader.message()))
            default: try reader.skip(wire)
            }
        }
        return Stream(labels: try labels(labelText, at: labelOffset), entries: entries)
    }

    private static func entry(_ message: ProtobufReader) throws(Failure) -> Entry {
        var reader = message
        var out = Entry(nanos: 0, line: "", metadata: [])
        while let (field, wire) = try reader.field() {
            switch (field, wire) {
            case (1, .lengthDelimited):
                var timestamp = try reader.message()
                var seconds: Int64 = 0
                var nanos: Int64 = 0
                while let (f, w) = try timestamp.field() {
                    switch (f, w) {
                    case (1, .varint): seconds = Int64(bitPattern: try timestamp.varint())
                    case (2, .varint): nanos = Int64(Int32(truncatingIfNeeded: try timestamp.varint()))
                    default: try timestamp.skip(w)
                    }
                }
                let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                let (sum, sumOverflow) = scaled.addingReportingOverflow(nanos)
                guard !overflow, !sumOverflow else { throw Failure("entry timestamp out of range", at: reader.position) }
                out.nanos = sum
            case (2, .lengthDelimited):
                out.line = try reader.string()
            case (3, .lengthDelimited):
                var pair = try reader.message()
                var name = ""
                var value = ""
                while let (f, w) = try pair.field() {
                    switch (f, w) {
                    case (1, .lengthDelimited): name = try pair.string()
                    case (2, .lengthDelimited): value = try pair.string()
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
    private static func labels(_ text: String, at offset: Int) throws(Failure) -> [(String, String)] {
        guard text.trimmingCharacters(in: .whitespaces) != "{}" else { return [] }
        do {
            guard case .logs(let selector) = try LogQLParser.parse(text), selector.stages.isEmpty,
                selector.matchers.allSatisfy({ $0.op == .equal })
            else { throw Failure("stream labels \(text) are not a label set", at: offset) }
            return selector.matchers.map { ($0.name, $0.value) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("stream labels \(text): \(error)", at: offset)
        }
    }
}
