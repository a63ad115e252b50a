#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LogStorage
import LogWire
import TelemetryModel

/// Runs a log pipeline over the entries of one stream: line filters,
/// parsers, label filters, formatting. One runner per stream and query; it
/// keeps its scratch between entries.
///
/// The labels an entry has in the pipeline are its stream's, then those the
/// parsers extracted (a name its stream already has gets `_extracted`), and,
/// looked up only when a stage asks for a name neither has, the record's
/// fields (structured metadata: stored beside the line, or for JSON and
/// logfmt records read from the line by the ingest decoder).
final class PipelineRunner {
    let stages: [PipelineStage]
    let streamLabels: Labels
    /// Whether any stage changes labels (else every entry keeps its stream's labels).
    let changesLabels: Bool
    /// Whether any stage needs the line as a String.
    private let fieldDecoder = LogDecoder(config: LogLabelConfig(labelFields: []))
    private var scratch = DecodedLog()
    private var recordFields = RecordFields()

    // Per entry.
    private(set) var extracted: [(String, String)] = []
    private var removed: Set<String> = []
    private var keepOnly: Set<String>?
    private(set) var error: String?
    private(set) var errorDetails: String?
    private var fields: [(String, String)]?
    private var currentLine: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    private var currentFields: EncodedFields?
    /// The line after `line_format`, when it changed.
    private(set) var rewrittenLine: String?

    init(stages: [PipelineStage], streamLabels: Labels) {
        self.stages = stages
        self.streamLabels = streamLabels
        changesLabels = stages.contains { stage in
            switch stage {
            case .lineFilter, .lineFormat, .decolorize: false
            default: true
            }
        }
    }

    /// Runs the pipeline over one entry; false when a stage drops it.
    func run(timestamp: Int64, line: UnsafeRawBufferPointer, fields: EncodedFields) -> Bool {
        extracted.removeAll(keepingCapacity: true)
        removed.removeAll(keepingCapacity: true)
        keepOnly = nil
        error = nil
        errorDetails = nil
        self.fields = nil
        rewrittenLine = nil
        currentLine = line
        currentFields = fields
        for stage in stages {
            switch stage {
            case .lineFilter(let filter):
                if !passes(filter) { return false }
            case .json(let params):
                if params.isEmpty { parseJSON() } else { parseJSON(params) }
            case .unpack:
                unpack()
            case .logfmt(let strict):
                parseLogfmt(strict: strict)
            case .pattern(let pattern):
                withLine { bytes in
                    if let captures = pattern.match(bytes) {
                        for (name, range) in captures {
                            addExtracted(name, String(decoding: bytes[range], as: UTF8.self))
                        }
                    }
                }
            case .regexp(let regex):
                if let captures = regex.match(lineString) {
                    for (name, value) in captures { addExtracted(name, value) }
                }
            case .labelFilter(let filter):
                if !evaluate(filter) { return false }
            case .lineFormat(let template):
                rewrittenLine = template.render(line: lineString, timestamp: timestamp) { self.value(of: $0) }
            case .labelFormat(let assignments):
                var updates: [(String, String?)] = []
                for (label, value) in assignments {
                    switch value {
                    case .rename(let source):
                        updates.append((label, self.value(of: source) ?? ""))
                        if source != label { updates.append((source, nil)) }
                    case .template(let template):
                        updates.append((label, template.render(line: lineString, timestamp: timestamp) { self.value(of: $0) }))
                    }
                }
                for (label, value) in updates {
                    if let value {
                        setLabel(label, value)
                    } else {
                        removed.insert(label)
                        extracted.removeAll { $0.0 == label }
                    }
                }
            case .drop(let names):
                for name in names {
                    if name == "__error__" {
                        error = nil
                        errorDetails = nil
                    }
                    removed.insert(name)
                    extracted.removeAll { $0.0 == name }
                }
            case .keep(let names):
                keepOnly = Set(names)
            case .decolorize:
                rewrittenLine = Self.decolorize(lineString)
            }
        }
        return true
    }

    // MARK: Lines

    var lineString: String {
        if let rewrittenLine { return rewrittenLine }
        return String(decoding: currentLine, as: UTF8.self)
    }

    private func withLine<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        if let rewrittenLine {
            var copy = rewrittenLine
            return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
        return body(currentLine)
    }

    private func passes(_ filter: LineFilter) -> Bool {
        switch filter.op {
        case .contains: return filter.needles.contains { needle in withLine { Self.contains($0, needle) } }
        case .notContains: return !filter.needles.contains { needle in withLine { Self.contains($0, needle) } }
        case .matches:
            let text = lineString
            return filter.regexes.contains { (try? $0.firstMatch(in: text)) != nil }
        case .notMatches:
            let text = lineString
            return !filter.regexes.contains { (try? $0.firstMatch(in: text)) != nil }
        }
    }

    /// Substring search.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        return needle.withUnsafeBytes { n in
            // memchr to each candidate first byte, memcmp for the rest.
            let last = haystack.count - n.count
            var i = 0
            while i <= last {
                guard let hit = memchr(base + i, Int32(n[0]), last - i + 1) else { return false }
                let at = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { return true }
                i = at + 1
            }
            return false
        }
    }

    private static func decolorize(_ text: String) -> String {
        var out = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let c = iterator.next() {
            if c == "\u{1B}" {
                // ESC [ … final byte in @–~
                if let next = iterator.next(), next == "[" {
                    while let d = iterator.next(), !(d.value >= 0x40 && d.value <= 0x7E) {}
                }
                continue
            }
            out.unicodeScalars.append(c)
        }
        return out
    }

    // MARK: Labels

    /// A label's value as the pipeline sees it now.
    func value(of name: String) -> String? {
        if name == "__error__" { return error }
        if name == "__error_details__" { return errorDetails }
        if removed.contains(name) { return nil }
        if let found = extracted.last(where: { $0.0 == name }) { return found.1 }
        if let found = streamLabels[name] { return found }
        return structuredFields().first { $0.0 == name }?.1
    }

    private func structuredFields() -> [(String, String)] {
        if let fields { return fields }
        let out: [(String, String)]
        if let currentFields {
            out = recordFields.fields(of: LogEntry(timestamp: 0, line: currentLine, fields: currentFields), streamLabels: streamLabels)
                .map { ($0.name, $0.value) }
        } else {
            out = []
        }
        fields = out
        return out
    }

    private func addExtracted(_ name: String, _ value: String) {
        let label = streamLabels[name] != nil ? name + "_extracted" : name
        extracted.append((label, value))
    }

    private func setLabel(_ name: String, _ value: String) {
        removed.remove(name)
        extracted.removeAll { $0.0 == name }
        extracted.append((name, value))
    }

    private func fail(_ error: String, _ details: String) {
        guard self.error == nil else { return }
        self.error = error
        errorDetails = details
    }

    private func parseJSON() {
        withLine { bytes in fieldDecoder.decodeJSONLine(bytes, into: &scratch) }
        if let problem = scratch.parseError {
            fail("JSONParserErr", problem.description)
            return
        }
        for (name, value) in scratch.fieldPairs { addExtracted(name, value) }
        // The decoder keeps the record's time apart; as a label it is still wanted.
        if let text = scratch.timestampText {
            withLine { bytes in
                let key = ["ts", "time", "timestamp", "@timestamp"].first { key in
                    Self.contains(bytes, Array("\"\(key)\"".utf8))
                } ?? "ts"
                addExtracted(key == "@timestamp" ? "_timestamp" : key, String(decoding: bytes[text], as: UTF8.self))
            }
        }
    }

    private func parseJSON(_ params: [(label: String, path: [String])]) {
        let object: Any?
        object = withLine { bytes in try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) }
        guard let object else {
            fail("JSONParserErr", "the line is not JSON")
            return
        }
        for (label, path) in params {
            var current: Any? = object
            for key in path {
                if let dictionary = current as? [String: Any] {
                    current = dictionary[key]
                } else if let array = current as? [Any], let index = Int(key), array.indices.contains(index) {
                    current = array[index]
                } else {
                    current = nil
                }
            }
            addExtracted(label, Self.text(of: current))
        }
    }

    /// Loki's `unpack`: string fields only (others are skipped), names made valid label names.
    private func unpack() {
        let object = withLine { bytes in try? JSONSerialization.jsonObject(with: Data(bytes)) }
        guard let fields = object as? [String: Any] else {
            fail("JSONParserErr", "the line is not a JSON object")
            return
        }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let text = value as? String else { continue }
            if key == "_entry" {
                rewrittenLine = text
            } else {
                addExtracted(Self.labelName(key), text)
            }
        }
    }

    /// A field name as a label name: every character outside `[a-zA-Z0-9_]` becomes `_`, and a leading digit is prefixed with `_`.
    private static func labelName(_ key: String) -> String {
        var name = String(key.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_") ? Character(scalar) : "_"
        })
        if let first = name.unicodeScalars.first, ("0"..."9").contains(first) { name = "_" + name }
        return name
    }

    private static func text(of value: Any?) -> String {
        switch value {
        case nil, is NSNull: return ""
        case let string as String: return string
        case let flag as Bool: return flag ? "true" : "false"
        case let number as NSNumber: return number.stringValue
        case let other?:
            guard JSONSerialization.isValidJSONObject(other), let data = try? JSONSerialization.data(withJSONObject: other) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    private func parseLogfmt(strict: Bool) {
        withLine { bytes in fieldDecoder.decodeLogfmtLine(bytes, into: &scratch) }
        if let problem = scratch.parseError {
            if strict { fail("LogfmtParserErr", problem.description) }
            return
        }
        for (name, value) in scratch.fieldPairs { addExtracted(name, value) }
        if let text = scratch.timestampText {
            withLine { bytes in
                let key = ["ts", "time", "timestamp", "@timestamp"].first { Self.contains(bytes, Array("\($0)=".utf8)) } ?? "ts"
                addExtracted(key, String(decoding: bytes[text], as: UTF8.self))
            }
        }
    }

    // MARK: Label filters

    /// Evaluates a label filter given after `| unwrap`.
    func passes(_ filter: LabelFilter) -> Bool {
        evaluate(filter)
    }

    /// Records that the unwrapped label was not a number.
    func markUnwrapFailure(_ label: String) {
        fail("SampleExtractionErr", "label \(label) cannot be unwrapped as a number")
    }

    private func evaluate(_ filter: LabelFilter) -> Bool {
        switch filter {
        case .and(let a, let b): return evaluate(a) && evaluate(b)
        case .or(let a, let b): return evaluate(a) || evaluate(b)
        case .matcher(let matcher): return matcher.matches(value(of: matcher.name) ?? "")
        case .number(let name, let op, let expected):
            // A missing label drops the line; one that is not a number keeps it, flagged.
            guard let text = value(of: name) else { return false }
            guard let actual = Double(text.trimmingCharacters(in: .whitespaces)) else {
                fail("LabelFilterErr", "label \(name) is not a number")
                return true
            }
            return op.holds(actual, expected)
        case .duration(let name, let op, let nanos):
            guard let text = value(of: name) else { return false }
            // In Double: a value such as "1e300" or "NaN" compares, it does not trap converting to Int64.
            guard let actual = LogQLLexer.duration(text).map(Double.init) ?? Double(text).flatMap({ $0.isNaN ? nil : $0 * 1e9 }) else {
                fail("LabelFilterErr", "label \(name) is not a duration")
                return true
            }
            return op.holds(actual, Double(nanos))
        case .bytes(let name, let op, let expected):
            guard let text = value(of: name) else { return false }
            guard let actual = LogQLLexer.byteSize(text.replacingOccurrences(of: " ", with: "")) ?? Double(text) else {
                fail("LabelFilterErr", "label \(name) is not a byte size")
                return true
            }
            return op.holds(actual, expected)
        }
    }

    // MARK: Output

    /// The entry's labels after the pipeline: its stream's (less dropped
    /// ones), those extracted, and `__error__` when a stage failed.
    func outputLabels() -> Labels {
        guard changesLabels || error != nil else { return streamLabels }
        var pairs: [Label] = streamLabels.filter { label in
            !removed.contains(label.name) && !extracted.contains { $0.0 == label.name }
        }
        pairs.append(contentsOf: extracted.map { Label($0.0, $0.1) })
        if let error {
            pairs.append(Label("__error__", error))
            if let errorDetails { pairs.append(Label("__error_details__", errorDetails)) }
        }
        if let keepOnly { pairs.removeAll { !keepOnly.contains($0.name) } }
        return Labels(pairs)
    }
}
