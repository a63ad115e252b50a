import Crypto
import TelemetryModel

/// One `write_relabel_configs` entry, with Prometheus's semantics: the
/// values of `source_labels` joined by `separator` are matched against
/// `regex` (anchored at both ends); the action decides what follows.
public struct RelabelRule: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case replace, keep, drop, labeldrop, labelkeep, labelmap, hashmod, lowercase, uppercase
    }

    public var action: Action = .replace
    public var sourceLabels: [String] = []
    public var separator = ";"
    public var targetLabel = ""
    public var replacement = "$1"
    public var modulus: UInt64 = 0
    public let regexSource: String
    // `Regex<AnyRegexOutput>` is not Sendable; the compiled form is only read.
    nonisolated(unsafe) private let regex: Regex<AnyRegexOutput>

    /// Compiles `regex` (default `(.*)`), anchored as Prometheus anchors it.
    public init(regex: String = "(.*)") throws(InvalidRegexError) {
        regexSource = regex
        do {
            self.regex = try Regex("^(?:" + regex + ")$")
        } catch {
            throw InvalidRegexError(pattern: regex, reason: "\(error)")
        }
    }

    /// The labels after this rule, or nil when the series is dropped.
    public func apply(_ labels: Labels) -> Labels? {
        let value = sourceLabels.map { labels[$0] ?? "" }.joined(separator: separator)
        switch action {
        case .keep:
            return fullMatch(value) == nil ? nil : labels
        case .drop:
            return fullMatch(value) == nil ? labels : nil
        case .replace:
            guard let match = fullMatch(value) else { return labels }
            let target = expandRegexTemplate(targetLabel, with: match)
            guard Labels.isValidName(target) else { return labels }
            return labels.setting(target, to: expandRegexTemplate(replacement, with: match))
        case .labeldrop:
            return Labels(labels.filter { fullMatch($0.name) == nil })
        case .labelkeep:
            return Labels(labels.filter { fullMatch($0.name) != nil })
        case .labelmap:
            var pairs = Array(labels.pairs)
            for label in labels {
                guard let match = fullMatch(label.name) else { continue }
                pairs.append(Label(expandRegexTemplate(replacement, with: match), label.value))
            }
            return Labels(pairs)
        case .hashmod:
            guard modulus > 0, Labels.isValidName(targetLabel) else { return labels }
            return labels.setting(targetLabel, to: String(Self.md5Suffix(value) % modulus))
        case .lowercase:
            guard Labels.isValidName(targetLabel) else { return labels }
            return labels.setting(targetLabel, to: value.lowercased())
        case .uppercase:
            guard Labels.isValidName(targetLabel) else { return labels }
            return labels.setting(targetLabel, to: value.uppercased())
        }
    }

    private func fullMatch(_ text: String) -> Regex<AnyRegexOutput>.Match? {
        try? regex.wholeMatch(in: text)
    }

    /// Applies rules in order; nil once one drops the series.
    public static func apply(_ rules: [RelabelRule], to labels: Labels) -> Labels? {
        var current = labels
        for rule in rules {
            guard let next = rule.apply(current) else { return nil }
            current = next
        }
        return current
    }

    /// Prometheus's hashmod: the last 8 bytes of the MD5 of the value, big-endian.
    static func md5Suffix(_ text: String) -> UInt64 {
        let digest = Array(Insecure.MD5.hash(data: Array(text.utf8)))
        return digest[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
