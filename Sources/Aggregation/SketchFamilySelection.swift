/// Which summary families' rollups a sketch sink keeps, as output-name
/// patterns in which `$service` stands for one or more characters (the
/// report's `latency_metric` form, `$service_latency_seconds`). Keeping
/// only the families something reads spares the memory and disk of every
/// other timer's hourly sketch.
public struct SketchFamilySelection: Sendable, Equatable {
    /// Each pattern's UTF-8 split at its `$service` placeholders; nil: every family.
    private let patterns: [[[UInt8]]]?

    /// Every family.
    public static let all = SketchFamilySelection(patterns: nil)

    /// The families whose output name matches one of `patterns`.
    public init(patterns: [String]) {
        self.init(patterns: patterns.map { $0.split(separator: Self.placeholder, omittingEmptySubsequences: false).map { Array($0.utf8) } })
    }

    private init(patterns: [[[UInt8]]]?) {
        self.patterns = patterns
    }

    static let placeholder = "$service"

    /// Whether the family with this output name is selected.
    public func contains(_ name: String) -> Bool {
        guard let patterns else { return true }
        let bytes = Array(name.utf8)
        return patterns.contains { Self.matches(bytes[...], pieces: $0[...]) }
    }

    /// Whether `name` is the first piece, then for each later piece one or
    /// more characters followed by that piece.
    private static func matches(_ name: ArraySlice<UInt8>, pieces: ArraySlice<[UInt8]>) -> Bool {
        guard let first = pieces.first, name.starts(with: first) else { return false }
        let rest = name.dropFirst(first.count)
        let later = pieces.dropFirst()
        guard let next = later.first else { return rest.isEmpty }
        // The placeholder takes at least one character; try every split after that.
        var start = rest.startIndex + 1
        while start <= rest.endIndex {
            if rest[start...].starts(with: next), matches(rest[start...], pieces: later) { return true }
            start += 1
        }
        return false
    }
}
