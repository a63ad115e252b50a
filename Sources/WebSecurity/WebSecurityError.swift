/// A web config or TLS file that cannot be used: which file, and why.
public struct WebSecurityError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
