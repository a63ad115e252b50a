/// Stored data a read needed is damaged or could not be read. Queries fail
/// with it, naming the file and byte offset, rather than answer without that
/// data and give wrong numbers.
public struct StoredDataError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and where, and what the operator can do.
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
