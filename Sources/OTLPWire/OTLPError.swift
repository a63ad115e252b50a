/// Why an OTLP request body cannot be read at all: answered 400 with this
/// message, and nothing of the request is stored.
public struct OTLPError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
