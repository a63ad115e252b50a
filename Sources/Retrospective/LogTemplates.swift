/// A template of similar log lines, with how many there were and one of them.
public struct LogTemplate: Sendable, Codable, Equatable {
    public var template: String
    public var count: Int
    public var example: String
}

/// Clusters log messages into templates the way Drain does (He et al.,
/// ICWS 2017): variable parts are masked first (numbers, durations, hex,
/// ids, IP addresses, quoted values), then messages of the same length are
/// merged into a cluster when at least half their tokens match, the
/// differing positions becoming `<*>`.
public struct TemplateMiner: Sendable {
    private struct Cluster: Sendable {
        var tokens: [String]
        var count: Int
        var example: String
    }

    /// Clusters by token count (Drain's first level).
    private var clusters: [Int: [Cluster]] = [:]
    public let similarity: Double
    /// Clusters kept per token count, so that memory stays bounded on noisy input.
    public let maxClustersPerLength: Int

    public init(similarity: Double = 0.5, maxClustersPerLength: Int = 1_000) {
        self.similarity = similarity
        self.maxClustersPerLength = maxClustersPerLength
    }

    public mutating func add(_ message: String) {
        let tokens = Self.mask(message)
        guard !tokens.isEmpty else { return }
        var group = clusters[tokens.count] ?? []
        var best = -1
        var bestScore = -1.0
        for (i, cluster) in group.enumerated() {
            var same = 0
            for (a, b) in zip(cluster.tokens, tokens) where a == b && a != "<*>" { same += 1 }
            let score = Double(same) / Double(tokens.count)
            if score > bestScore {
                bestScore = score
                best = i
            }
        }
        if best >= 0, bestScore >= similarity {
            for k in 0..<tokens.count where group[best].tokens[k] != tokens[k] { group[best].tokens[k] = "<*>" }
            group[best].count += 1
        } else if group.count < maxClustersPerLength {
            group.append(Cluster(tokens: tokens, count: 1, example: message))
        }
        clusters[tokens.count] = group
    }

    /// The `limit` largest templates, largest first (ties by template text).
    public func top(_ limit: Int) -> [LogTemplate] {
        clusters.values.flatMap { $0 }
            .map { LogTemplate(template: $0.tokens.joined(separator: " "), count: $0.count, example: $0.example) }
            .sorted { ($0.count, $1.template) > ($1.count, $0.template) }
            .prefix(limit).map { $0 }
    }

    /// The message's tokens, variable ones masked.
    static func mask(_ message: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quote: Character?
        for c in message {
            if let q = quote {
                if c == q {
                    quote = nil
                    current += "<quoted>"
                }
                continue
            }
            if c == "\"" || c == "'" {
                quote = c
                continue
            }
            if c == " " || c == "\t" || c == "\n" {
                if !current.isEmpty { tokens.append(maskToken(current)) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if quote != nil { current += "<quoted>" }
        if !current.isEmpty { tokens.append(maskToken(current)) }
        return tokens
    }

    /// One token masked, its leading and trailing punctuation kept.
    static func maskToken(_ token: String) -> String {
        let punctuation: Set<Character> = [",", ";", ":", "(", ")", "[", "]", "{", "}", "="]
        let core = token.drop { punctuation.contains($0) }.reversed().drop { punctuation.contains($0) }.reversed()
        let body = String(core)
        guard !body.isEmpty, !body.contains("<quoted>") else { return token }
        let lead = token.prefix { punctuation.contains($0) }
        let tail = String(token.reversed().prefix { punctuation.contains($0) }.reversed())
        // key=value: mask the value only.
        if let equals = body.firstIndex(of: "="), equals != body.startIndex {
            let value = String(body[body.index(after: equals)...])
            return lead + body[...equals] + (value.isEmpty ? "" : maskToken(value)) + tail
        }
        if let kind = kind(of: body) { return lead + kind + tail }
        return token
    }

    private static func kind(of text: String) -> String? {
        let chars = Array(text.unicodeScalars)
        let digits = chars.filter { $0.properties.numericType != nil }.count
        guard digits > 0 else { return nil }
        if isNumber(text) { return "<num>" }
        if isDuration(text) { return "<duration>" }
        if isIPv4(text) { return "<ip>" }
        if text.hasPrefix("0x"), text.count > 2, text.dropFirst(2).allSatisfy(\.isHexDigit) { return "<hex>" }
        if text.count >= 8, text.allSatisfy(\.isHexDigit) { return "<hex>" }
        if text.count >= 6, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) { return "<id>" }
        return nil
    }

    private static func isNumber(_ text: String) -> Bool {
        var s = Substring(text)
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        if s.last == "%" { s = s.dropLast() }
        return !s.isEmpty && s.allSatisfy { $0.isNumber || $0 == "." } && s.contains { $0.isNumber }
    }

    private static func isDuration(_ text: String) -> Bool {
        let number = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(number.count)
        return !number.isEmpty && ["ns", "us", "µs", "ms", "s", "m", "h", "d"].contains(String(unit))
    }

    private static func isIPv4(_ text: String) -> Bool {
        let host = text.split(separator: ":").first.map(String.init) ?? text
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in Int(part).map { (0...255).contains($0) } ?? false }
    }
}
