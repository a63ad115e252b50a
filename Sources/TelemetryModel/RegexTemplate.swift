/// Go's `Regexp.Expand`, as Prometheus's and Loki's `label_replace` use it:
/// `$1`, `${1}`, `$name`, `${name}` and `$$` in `template` become the match's
/// groups (empty when a group did not take part); a name is the longest run
/// of letters, digits and `_`, so `$1x` names the group "1x".
public func expandRegexTemplate(_ template: String, with match: Regex<AnyRegexOutput>.Match) -> String {
    var out = ""
    var rest = Substring(template)
    while let dollar = rest.firstIndex(of: "$") {
        out += rest[..<dollar]
        rest = rest[rest.index(after: dollar)...]
        if rest.first == "$" {
            out += "$"
            rest = rest.dropFirst()
            continue
        }
        var name: Substring
        if rest.first == "{" {
            guard let close = rest.firstIndex(of: "}") else {
                out += "$"
                continue
            }
            name = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else {
            let end = rest.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") || !$0.isASCII } ?? rest.endIndex
            name = rest[..<end]
            rest = rest[end...]
        }
        guard !name.isEmpty else {
            out += "$"
            continue
        }
        if let number = Int(name) {
            if number < match.output.count, let text = match.output[number].substring { out += text }
        } else if let group = match.output[String(name)], let text = group.substring {
            out += text
        }
    }
    return out + rest
}
