import TelemetryModel

/// A label matcher resolved against the head's symbols for one query: the
/// label name and an `=`/`!=` value become ids, so most series are tested
/// without a string; other operators are decided once per value symbol.
struct HeadMatcher {
    private let matcher: LabelMatcher
    private let nameID: UInt32?
    /// The id of an `=`/`!=` matcher's value; nil when no series has that value.
    private let valueID: UInt32?
    private let matchesAbsent: Bool
    private var verdicts: [UInt32: Bool] = [:]

    init(_ matcher: LabelMatcher, symbols: SymbolTable) {
        self.matcher = matcher
        nameID = symbols.find(matcher.name)
        valueID = symbols.find(matcher.value)
        matchesAbsent = matcher.matchesEmpty
    }

    /// Whether the series whose pairs of (name id, value id) are `run` satisfies the matcher.
    mutating func admits(_ run: ArraySlice<UInt32>, symbols: SymbolTable) -> Bool {
        guard let nameID else { return matchesAbsent }
        var k = run.startIndex
        while k < run.endIndex && run[k] != nameID { k += 2 }
        // A label the series lacks matches as the empty string; a stored value is never empty.
        guard k < run.endIndex else { return matchesAbsent }
        let value = run[k + 1]
        switch matcher.op {
        case .equal: return value == valueID
        case .notEqual: return value != valueID
        case .regexMatch, .regexNoMatch:
            if let known = verdicts[value] { return known }
            let verdict = matcher.matches(symbols.string(value))
            verdicts[value] = verdict
            return verdict
        }
    }
}
