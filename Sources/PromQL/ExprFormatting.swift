import TelemetryModel

/// The canonical one-line text of an expression, as Prometheus's `String()`
/// prints it (and `/api/v1/format_query` returns it for short queries):
/// normalised durations, sorted matchers, `by` before the arguments.
extension Expr: CustomStringConvertible {
    public var description: String {
        switch self {
        case .number(let value):
            return formatNumber(value)
        case .string(let text):
            return quote(text)
        case .selector(let s):
            return selectorText(s) + modifiersText(offset: s.offset, at: s.at)
        case .matrix(let s, let range):
            return selectorText(s) + "[" + formatDuration(range) + "]" + modifiersText(offset: s.offset, at: s.at)
        case .subquery(let s):
            return s.expr.description + "[" + formatDuration(s.range) + ":" + (s.step.map(formatDuration) ?? "") + "]"
                + modifiersText(offset: s.offset, at: s.at)
        case .call(let function, let arguments):
            return function.name + "(" + arguments.map(\.description).joined(separator: ", ") + ")"
        case .aggregate(let a):
            var text = a.op.rawValue
            if a.without {
                text += " without (" + a.grouping.joined(separator: ", ") + ") "
            } else if !a.grouping.isEmpty {
                text += " by (" + a.grouping.joined(separator: ", ") + ") "
            }
            text += "("
            if let parameter = a.parameter { text += parameter.description + ", " }
            return text + a.expr.description + ")"
        case .binary(let b):
            return b.lhs.description + " " + b.op.rawValue + (b.returnBool ? " bool" : "") + matchingText(b.matching)
                + " " + b.rhs.description
        case .negate(let e):
            return "-" + e.description
        case .paren(let e):
            return "(" + e.description + ")"
        }
    }
}

private func selectorText(_ s: Selector) -> String {
    let shown = s.matchers.filter { m in !(m.name == Labels.metricName && m.op == .equal && m.value == s.name) }
    let name = s.name ?? ""
    if shown.isEmpty { return name }
    return name + "{" + shown.map { $0.name + $0.op.rawValue + quote($0.value) }.sorted().joined(separator: ",") + "}"
}

private func modifiersText(offset: Int64, at: AtModifier?) -> String {
    var text = ""
    switch at {
    case .time(let millis)?: text += " @ " + formatMillisAsSeconds(millis)
    case .start?: text += " @ start()"
    case .end?: text += " @ end()"
    case nil: break
    }
    if offset > 0 { text += " offset " + formatDuration(offset) }
    if offset < 0 { text += " offset -" + formatDuration(-offset) }
    return text
}

private func matchingText(_ matching: VectorMatching?) -> String {
    guard let m = matching, !m.labels.isEmpty || m.on else { return "" }
    var text = " " + (m.on ? "on" : "ignoring") + " (" + m.labels.joined(separator: ", ") + ")"
    switch m.cardinality {
    case .manyToOne: text += " group_left (" + m.include.joined(separator: ", ") + ")"
    case .oneToMany: text += " group_right (" + m.include.joined(separator: ", ") + ")"
    default: break
    }
    return text
}

/// Milliseconds as seconds with three decimals (`1.500`).
func formatMillisAsSeconds(_ millis: Int64) -> String {
    let sign = millis < 0 ? "-" : ""
    let magnitude = millis.magnitude
    let fraction = String(magnitude % 1000)
    return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

/// A string in double quotes with Go's escapes, as Prometheus prints them.
func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{0B}": out += "\\v"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

extension Expr {
    /// The text `/api/v1/format_query` returns: `description` when it fits
    /// in 100 characters, otherwise split over indented lines the way
    /// Prometheus's pretty printer splits it (operands of a long binary
    /// operation on their own lines, long calls and aggregations with their
    /// arguments one per line).
    public var pretty: String { pretty(level: 0) }

    private static let lineLimit = 100

    private func indent(_ level: Int) -> String { String(repeating: "  ", count: level) }

    private var fitsOnALine: Bool { description.utf8.count <= Expr.lineLimit }

    func pretty(level: Int) -> String {
        switch self {
        case .number, .string, .selector, .matrix:
            return indent(level) + description
        case .aggregate(let a):
            guard !fitsOnALine else { return indent(level) + description }
            var text = indent(level) + a.op.rawValue
            if a.without {
                text += " without (" + a.grouping.joined(separator: ", ") + ") "
            } else if !a.grouping.isEmpty {
                text += " by (" + a.grouping.joined(separator: ", ") + ") "
            }
            text += "(\n"
            if let parameter = a.parameter { text += parameter.pretty(level: level + 1) + ",\n" }
            return text + a.expr.pretty(level: level + 1) + "\n" + indent(level) + ")"
        case .binary(let b):
            guard !fitsOnALine else { return indent(level) + description }
            return b.lhs.pretty(level: level + 1) + "\n" + indent(level) + b.op.rawValue + (b.returnBool ? " bool" : "")
                + matchingText(b.matching) + "\n" + b.rhs.pretty(level: level + 1)
        case .call(let function, let arguments):
            guard !fitsOnALine else { return indent(level) + description }
            return indent(level) + function.name + "(\n" + arguments.map { $0.pretty(level: level + 1) }.joined(separator: ",\n")
                + "\n" + indent(level) + ")"
        case .paren(let inner):
            guard !fitsOnALine else { return indent(level) + description }
            return indent(level) + "(\n" + inner.pretty(level: level + 1) + "\n" + indent(level) + ")"
        case .subquery(let s):
            // As Prometheus does, a subquery that fits is not indented.
            guard !fitsOnALine else { return description }
            return s.expr.pretty(level: level) + "[" + formatDuration(s.range) + ":" + (s.step.map(formatDuration) ?? "") + "]"
                + modifiersText(offset: s.offset, at: s.at)
        case .negate(let inner):
            let child = inner.pretty(level: level).drop { $0 == " " || $0 == "\n" }
            return indent(level) + "-" + child
        }
    }
}
