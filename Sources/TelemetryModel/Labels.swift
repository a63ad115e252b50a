/// One label pair of a series, as in Prometheus.
public struct Label: Hashable, Sendable, Comparable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public static func < (lhs: Label, rhs: Label) -> Bool {
        lhs.name < rhs.name || (lhs.name == rhs.name && lhs.value < rhs.value)
    }
}

/// The identity of a series: its metric name (the `__name__` label) plus its
/// other labels, kept sorted by name with unique names, so that two label sets
/// that mean the same series compare and hash equal.
public struct Labels: Hashable, Sendable, RandomAccessCollection, CustomStringConvertible {
    /// The label that carries the metric name, as in Prometheus.
    public static let metricName = "__name__"

    public let pairs: [Label]
    /// The hash of `pairs`, computed once: label sets are built once per
    /// series but hashed at every flush and lookup.
    private let cachedHash: Int

    public static func == (lhs: Labels, rhs: Labels) -> Bool {
        lhs.cachedHash == rhs.cachedHash && lhs.pairs == rhs.pairs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(cachedHash)
    }

    /// Builds a label set; later duplicates of a name win, empty values are
    /// dropped (Prometheus treats an empty label as an absent one).
    public init(_ pairs: [Label]) {
        // Sort by name, then by position, so the later of two equal names wins.
        let sorted = pairs.enumerated()
            .filter { !$0.element.value.isEmpty }
            .sorted { ($0.element.name, $0.offset) < ($1.element.name, $1.offset) }
            .map(\.element)
        var unique: [Label] = []
        unique.reserveCapacity(sorted.count)
        for pair in sorted {
            if let last = unique.last, last.name == pair.name {
                unique[unique.count - 1] = pair
            } else {
                unique.append(pair)
            }
        }
        self.pairs = unique
        cachedHash = unique.hashValue
    }

    public init(name: String, _ labels: [String: String] = [:]) {
        self.init([Label(Labels.metricName, name)] + labels.map { Label($0.key, $0.value) })
    }


    public var startIndex: Int { pairs.startIndex }
    public var endIndex: Int { pairs.endIndex }
    public subscript(position: Int) -> Label { pairs[position] }

    /// The value of a label, or nil when the series does not carry it.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// The metric name (`__name__`), or the empty string.
    public var metricName: String { self[Labels.metricName] ?? "" }

    /// A copy with one label set (or removed, when `value` is empty).
    public func setting(_ name: String, to value: String) -> Labels {
        // `pairs` is sorted by name with unique names. The copy is built at its
        // exact size: stores keep label sets for as long as their series live,
        // and growing a copied array in place doubles its capacity.
        let i = pairs.firstIndex { $0.name >= name } ?? pairs.count
        let present = i < pairs.count && pairs[i].name == name
        var copy: [Label] = []
        copy.reserveCapacity(pairs.count + (present ? 0 : 1))
        copy.append(contentsOf: pairs[..<i])
        if !value.isEmpty { copy.append(Label(name, value)) }
        copy.append(contentsOf: pairs[(present ? i + 1 : i)...])
        return Labels(sortedUnique: copy)
    }

    /// A label set from pairs already sorted by name with unique names, as
    /// remote_write senders send them, without sorting again; nil when they
    /// are not in that order. Empty values are dropped.
    public init?(sorted pairs: [Label]) {
        var previous: String?
        for pair in pairs {
            if let previous, !(previous < pair.name) { return nil }
            previous = pair.name
        }
        self.init(sortedUnique: pairs.contains { $0.value.isEmpty } ? pairs.filter { !$0.value.isEmpty } : pairs)
    }

    /// Trusts `pairs` to be sorted by name, with unique names and no empty value.
    private init(sortedUnique pairs: [Label]) {
        self.pairs = pairs
        cachedHash = pairs.hashValue
    }


    /// Prometheus notation: `name{a="1", b="2"}`.
    public var description: String {
        let others = pairs.filter { $0.name != Labels.metricName }
            .map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }
        if others.isEmpty { return metricName.isEmpty ? "{}" : metricName }
        return "\(metricName){\(others.joined(separator: ", "))}"
    }
}

/// Escapes a label value for the Prometheus text notation.
public func escapeLabelValue(_ value: String) -> String {
    var out = ""
    out.reserveCapacity(value.utf8.count)
    for ch in value {
        switch ch {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        default: out.append(ch)
        }
    }
    return out
}

extension Labels {
    /// Whether `name` is a valid label name, `[a-zA-Z_][a-zA-Z0-9_]*`, as
    /// Prometheus requires of grouping labels, `label_replace` targets and
    /// the `/label/<name>/values` endpoint.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { c in
            (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") || c == UInt8(ascii: "_") || (c >= 0x30 && c <= 0x39)
        }
    }
}
