import TelemetryModel

/// An instant vector selector: `name{label op "value", …}`; the name, when
/// given, is an `__name__="name"` matcher first in the list.
public struct VectorSelector: Sendable, CustomStringConvertible {
    public var matchers: [LabelMatcher]

    public init(matchers: [LabelMatcher]) {
        self.matchers = matchers
    }

    public var description: String {
        var name = ""
        var rest = matchers
        if let first = matchers.first, first.name == Labels.metricName, first.op == .equal {
            name = first.value
            rest.removeFirst()
        }
        if rest.isEmpty { return name.isEmpty ? "{}" : name }
        return name + "{" + rest.map(\.description).joined(separator: ", ") + "}"
    }
}
