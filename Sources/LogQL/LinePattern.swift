/// `| pattern "<ip> - - [<_>] \"<method> <path> <_>\" <status>"`: literal text
/// and captures; each capture takes the text up to the next literal (the
/// last one, or one whose literal is missing, the rest of the line); `<_>`
/// captures nothing; a leading literal must start the line.
public struct LinePattern: Sendable {
    enum Part: Sendable {
        case literal([UInt8])
        case capture(String?)
    }

    let parts: [Part]
    public let names: [String]

    /// Parses a pattern; nil with the reason when it has no named capture or two captures touch.
    static func parse(_ text: String) -> Result<LinePattern, LogQLError> {
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "<"), let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) {
                let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                if name == "_" || (!name.isEmpty && name.utf8.allSatisfy { isNameByte($0) } && !(name.utf8.first! >= 48 && name.utf8.first! <= 57)) {
                    if !literal.isEmpty { parts.append(.literal(literal)) }
                    literal = []
                    if case .capture = parts.last {
                        return .failure(.invalid("invalid pattern \"\(text)\": two captures must be separated by literal text"))
                    }
                    parts.append(.capture(name == "_" ? nil : name))
                    i = close + 1
                    continue
                }
            }
            literal.append(bytes[i])
            i += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        let names = parts.compactMap { part -> String? in
            if case .capture(let name) = part { return name }
            return nil
        }
        guard !names.isEmpty else { return .failure(.invalid("invalid pattern \"\(text)\": at least one named capture is needed")) }
        guard Set(names).count == names.count else { return .failure(.invalid("invalid pattern \"\(text)\": a capture name is used twice")) }
        return .success(LinePattern(parts: parts, names: names))
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_") || (c >= 48 && c <= 57)
    }

    /// The captures of a line, or nil when it does not match.
    func match(_ line: UnsafeRawBufferPointer) -> [(String, Range<Int>)]? {
        var out: [(String, Range<Int>)] = []
        var position = 0
        var pendingCapture: (name: String?, start: Int)?
        for part in parts {
            switch part {
            case .capture(let name):
                pendingCapture = (name, position)
            case .literal(let text):
                if let capture = pendingCapture {
                    // A capture runs to the next literal; without it, to the end of the line, and matching stops.
                    guard let found = find(text, in: line, from: position) else {
                        if let name = capture.name { out.append((name, capture.start..<line.count)) }
                        return out
                    }
                    if let name = capture.name { out.append((name, capture.start..<found)) }
                    pendingCapture = nil
                    position = found + text.count
                } else {
                    // A leading literal anchors the pattern at the start of the line.
                    guard text.count <= line.count - position, text.indices.allSatisfy({ line[position + $0] == text[$0] }) else {
                        return out.isEmpty ? nil : out
                    }
                    position += text.count
                }
            }
        }
        if let capture = pendingCapture, let name = capture.name { out.append((name, capture.start..<line.count)) }
        return out
    }

    private func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard needle.count <= haystack.count - start else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] {
                var k = 1
                while k < needle.count, haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// `| regexp "(?P<method>\\w+) (?P<path>\\S+)"`: the named groups of the first match become labels.
public struct LineRegex: Sendable {
    // Only read after construction.
    nonisolated(unsafe) let regex: Regex<AnyRegexOutput>
    public let names: [String]

    static func parse(_ text: String) -> Result<LineRegex, LogQLError> {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(text)
        } catch {
            return .failure(.invalid("invalid regular expression \"\(text)\": \(error)"))
        }
        // The names of the groups, read off the pattern itself.
        var names: [String] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == UInt8(ascii: "("), bytes[i + 1] == UInt8(ascii: "?") {
                var j = i + 2
                if bytes[j] == UInt8(ascii: "P") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "<"), let close = bytes[(j + 1)...].firstIndex(of: UInt8(ascii: ">")) {
                    names.append(String(decoding: bytes[(j + 1)..<close], as: UTF8.self))
                }
            }
            i += 1
        }
        guard !names.isEmpty else { return .failure(.invalid("invalid regular expression \"\(text)\": at least one named group is needed")) }
        return .success(LineRegex(regex: regex, names: names))
    }

    /// The named groups of the first match, or nil when nothing matches.
    func match(_ line: String) -> [(String, String)]? {
        guard let match = try? regex.firstMatch(in: line) else { return nil }
        var out: [(String, String)] = []
        for name in names {
            if let element = match.output[name], let substring = element.substring {
                out.append((name, String(substring)))
            } else {
                out.append((name, ""))
            }
        }
        return out
    }
}
