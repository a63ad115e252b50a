import Foundation
import TelemetryModel

/// The templates of `| line_format` and `| label_format`: Go's `{{ }}`
/// actions, with what Loki queries use: `.label`, `__line__`,
/// `__timestamp__`, string and number literals, pipelines (`{{ .a | ToUpper }}`)
/// and the functions ToUpper, ToLower, Title, Trim, TrimSpace, TrimPrefix,
/// TrimSuffix, Replace, replace, default, printf, len, and, or.
public struct LineTemplate: Sendable {
    enum Segment: Sendable {
        case text(String)
        case action([Command])
    }

    /// One command of a pipeline: a value, or a function and its arguments.
    enum Command: Sendable {
        case value(Argument)
        case call(String, [Argument])
    }

    enum Argument: Sendable {
        case label(String)
        case string(String)
        case number(String)
        case line
        case timestamp
    }

    let segments: [Segment]
    public let source: String

    static let functions: Set<String> = [
        "ToUpper", "ToLower", "Title", "Trim", "TrimSpace", "TrimPrefix", "TrimSuffix", "Replace", "replace", "default",
        "printf", "len", "upper", "lower", "trim", "trimPrefix", "trimSuffix",
    ]

    static func parse(_ text: String) -> Result<LineTemplate, LogQLError> {
        var segments: [Segment] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                return .failure(.invalid("invalid template \"\(text)\": unclosed action"))
            }
            var body = rest[open.upperBound..<close.lowerBound]
            // {{- and -}} trim spaces around the action.
            if body.hasPrefix("-") {
                body = body.dropFirst()
                if case .text(let previous) = segments.last {
                    segments[segments.count - 1] = .text(String(previous.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed()))
                }
            }
            var trimAfter = false
            if body.hasSuffix("-") {
                body = body.dropLast()
                trimAfter = true
            }
            switch parsePipeline(String(body)) {
            case .success(let commands): segments.append(.action(commands))
            case .failure(let reason): return .failure(.invalid("invalid template \"\(text)\": \(reason)"))
            }
            rest = rest[close.upperBound...]
            if trimAfter { rest = rest.drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return .success(LineTemplate(segments: segments, source: text))
    }

    private struct Reason: Error, CustomStringConvertible {
        let description: String
    }

    private static func parsePipeline(_ body: String) -> Result<[Command], Reason> {
        var commands: [Command] = []
        for part in splitOutsideQuotes(body, on: "|") {
            let words = splitOutsideQuotes(part, on: " ").filter { !$0.isEmpty }
            guard let first = words.first else { return .failure(Reason(description: "empty command")) }
            if functions.contains(first) || first == "__line__" || first == "__timestamp__" {
                if first == "__line__" || first == "__timestamp__" {
                    commands.append(.value(first == "__line__" ? .line : .timestamp))
                    continue
                }
                var arguments: [Argument] = []
                for word in words.dropFirst() {
                    guard let argument = argument(word) else { return .failure(Reason(description: "cannot read \"\(word)\"")) }
                    arguments.append(argument)
                }
                commands.append(.call(first, arguments))
            } else {
                guard words.count == 1, let argument = argument(first) else {
                    return .failure(Reason(description: "unsupported action \"\(body.trimmingCharacters(in: .whitespaces))\""))
                }
                commands.append(.value(argument))
            }
        }
        return .success(commands)
    }

    private static func argument(_ word: String) -> Argument? {
        if word.hasPrefix(".") { return .label(String(word.dropFirst())) }
        if word == "__line__" { return .line }
        if word == "__timestamp__" { return .timestamp }
        if word.count >= 2, (word.hasPrefix("\"") && word.hasSuffix("\"")) || (word.hasPrefix("`") && word.hasSuffix("`")) {
            return .string(String(word.dropFirst().dropLast())
                .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\n", with: "\n"))
        }
        if Double(word) != nil { return .number(word) }
        return nil
    }

    private static func splitOutsideQuotes(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        for c in text {
            if let q = quote {
                current.append(c)
                if escaped {
                    escaped = false
                } else if c == "\\" && q == "\"" {
                    escaped = true
                } else if c == q {
                    quote = nil
                }
            } else if c == "\"" || c == "`" {
                quote = c
                current.append(c)
            } else if c == separator {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }

    /// Renders the template for one entry.
    func render(line: String, timestamp: Int64, label: (String) -> String?) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let text): out += text
            case .action(let commands):
                var value: String?
                for command in commands {
                    switch command {
                    case .value(let argument):
                        value = resolve(argument, line: line, timestamp: timestamp, label: label)
                    case .call(let name, let arguments):
                        var values = arguments.map { resolve($0, line: line, timestamp: timestamp, label: label) }
                        if let value { values.append(value) }
                        value = LineTemplate.call(name, values)
                    }
                }
                out += value ?? ""
            }
        }
        return out
    }

    private func resolve(_ argument: Argument, line: String, timestamp: Int64, label: (String) -> String?) -> String {
        switch argument {
        case .label(let name): label(name) ?? ""
        case .string(let text): text
        case .number(let text): text
        case .line: line
        case .timestamp: formatRFC3339(floorDivide(timestamp, 1_000_000))
        }
    }

    private static func call(_ name: String, _ values: [String]) -> String {
        let last = values.last ?? ""
        switch name {
        case "ToUpper", "upper": return last.uppercased()
        case "ToLower", "lower": return last.lowercased()
        case "Title": return last.capitalized
        case "TrimSpace", "trim": return last.trimmingCharacters(in: .whitespacesAndNewlines)
        case "Trim": return values.count >= 2 ? values[1].trimmingCharacters(in: CharacterSet(charactersIn: values[0])) : last
        case "TrimPrefix", "trimPrefix":
            guard values.count >= 2 else { return last }
            return last.hasPrefix(values[0]) ? String(last.dropFirst(values[0].count)) : last
        case "TrimSuffix", "trimSuffix":
            guard values.count >= 2 else { return last }
            return last.hasSuffix(values[0]) ? String(last.dropLast(values[0].count)) : last
        case "Replace", "replace":
            // Replace "old" "new" s — as Loki's (strings.ReplaceAll).
            guard values.count >= 3 else { return last }
            return last.replacingOccurrences(of: values[0], with: values[1])
        case "default":
            guard values.count >= 2 else { return last }
            return last.isEmpty ? values[0] : last
        case "len": return String(last.count)
        case "printf":
            guard let format = values.first else { return "" }
            return printf(format, Array(values.dropFirst()))
        default: return last
        }
    }

    /// `printf` for %s, %d, %v, %q and %%.
    private static func printf(_ format: String, _ arguments: [String]) -> String {
        var out = ""
        var index = 0
        var iterator = format.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else {
                out.append(c)
                continue
            }
            guard let verb = iterator.next() else { break }
            if verb == "%" {
                out.append("%")
                continue
            }
            let argument = index < arguments.count ? arguments[index] : ""
            index += 1
            out += verb == "q" ? "\"" + argument + "\"" : argument
        }
        return out
    }
}
