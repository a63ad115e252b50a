/// A forwarder's problem with its settings (a TLS file that does not load, a
/// key without its certificate): one line for the operator.
public struct ForwardingError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
